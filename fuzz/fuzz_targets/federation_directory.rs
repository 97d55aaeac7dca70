//! Fuzzes the directory document parser (JSON with the draft's typos repaired) and the
//! path-parameter parsers: no input may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mimi_federation_api::directory::Directory;
use mimi_federation_api::path;

fuzz_target!(|data: &[u8]| {
    if let Ok(directory) = Directory::from_json(data) {
        let _ = Directory::from_json(directory.to_json().as_bytes());
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = path::room_from_path(text);
        let _ = path::user_from_path(text);
        let _ = path::domain_from_path(text);
        let _ = path::consent_peer_from_path(text);
        let _ = path::download_url_from_path(text);
    }
});
