//! The strict deterministic-CBOR reader: never panics; accepted input is canonical.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mimi_content::cbor;

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = cbor::decode(data) {
        assert_eq!(cbor::encode(&value), data);
    }
});
