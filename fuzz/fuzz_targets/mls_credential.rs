#![no_main]
//! mimi-mls: X.509 MLS credential content, MLS Credential and certificate validation.

use libfuzzer_sys::fuzz_target;
use mimi_mls::{TrustStore, X509Credential, claimed_identity_of_mls_credential};

fuzz_target!(|data: &[u8]| {
    let _ = X509Credential::decode_content(data);
    let _ = claimed_identity_of_mls_credential(data);
    let _ = TrustStore::new().validate(&X509Credential::from_chain(vec![data.to_vec()]), &[0; 32], 0);
});
