//! Fuzzes the `SubmitMessageResponse` decoder: no input may panic, and whatever decodes must re-encode to
//! exactly the input (strict decoding means one encoding per value).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mimi_federation_api::submit_message::SubmitMessageResponse;
use mimi_federation_api::{Encode, decode_exact};

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = decode_exact::<SubmitMessageResponse>(data) {
        assert_eq!(value.encode().ok().as_deref(), Some(data));
    }
});
