#![no_main]
//! mimi-mls: state records and KeyPackageRefs of Welcomes.

use libfuzzer_sys::fuzz_target;
use mimi_mls::{ClientGroup, ClientIdentity, HubGroup, ProviderCa, ServerIdentity, TrustStore};

fuzz_target!(|data: &[u8]| {
    let _ = mimi_mls::welcome_key_package_refs(data);
    let _ = ClientGroup::from_record(data, TrustStore::new());
    let _ = HubGroup::from_record(data, TrustStore::new());
    let _ = ClientIdentity::from_record(data);
    let _ = ServerIdentity::from_record(data);
    let _ = ProviderCa::from_record(data);
});
