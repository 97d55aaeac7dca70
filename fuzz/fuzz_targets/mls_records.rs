#![no_main]
//! mimi-mls: state records (whole, and a group's head record with its entries) and
//! KeyPackageRefs of Welcomes.

use libfuzzer_sys::fuzz_target;
use mimi_mls::{ClientGroup, ClientIdentity, HubGroup, ProviderCa, ServerIdentity, TrustStore};

fuzz_target!(|data: &[u8]| {
    let _ = mimi_mls::welcome_key_package_refs(data);
    let _ = ClientGroup::from_record(data, TrustStore::new());
    // A group's head record with no entries, then with the input again as its one entry: the
    // root digest check must refuse both without openmls reading anything.
    let _ = ClientGroup::from_entries(data, Vec::new(), TrustStore::new());
    let _ = ClientGroup::from_entries(data, vec![(data.to_vec(), data.to_vec())], TrustStore::new());
    let _ = HubGroup::from_record(data, TrustStore::new());
    let _ = ClientIdentity::from_record(data);
    let _ = ServerIdentity::from_record(data);
    let _ = ProviderCa::from_record(data);
});
