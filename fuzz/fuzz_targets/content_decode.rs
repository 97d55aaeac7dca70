//! MIMI content decoder: never panics; whatever it accepts re-encodes to exactly the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mimi_content::{MimiContent, message_id};

fuzz_target!(|data: &[u8]| {
    if let Ok(content) = MimiContent::decode(data) {
        assert_eq!(content.encode().ok().as_deref(), Some(data));
        let _ = content.check_expiry(1_700_000_000);
    }
    let _ = message_id(b"mimi://a.example/u/a", b"mimi://a.example/r/r", data);
});
