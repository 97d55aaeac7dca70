//! Fuzzes the `KeyMaterialRequest` decoder: no input may panic, and whatever decodes must re-encode to
//! exactly the input (strict decoding means one encoding per value).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mimi_federation_api::key_material::KeyMaterialRequest;
use mimi_federation_api::{Encode, decode_exact};

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = decode_exact::<KeyMaterialRequest>(data) {
        assert_eq!(value.encode().ok().as_deref(), Some(data));
    }
});
