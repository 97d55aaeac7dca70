//! The client record decoder: never panics; what it accepts encodes again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mimi_client_core::Client;
use mimi_mls::TrustStore;

fuzz_target!(|data: &[u8]| {
    if let Ok(client) = Client::from_record(data, TrustStore::new()) {
        let _ = client.to_record();
    }
});
