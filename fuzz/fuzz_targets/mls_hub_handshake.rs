#![no_main]
//! mimi-mls: the hub view processing arbitrary handshakes and application messages.

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use mimi_mls::{ClientGroup, ClientIdentity, HubGroup, ProviderCa, ServerIdentity, TrustStore, Validity};
use mimi_room::presets::{Preset, RoomCreation};

const NOW: u64 = 1_800_000_000;

fn hub() -> Option<HubGroup> {
    let v = Validity::starting(NOW - 3600, 365 * 24 * 3600);
    let ca = ProviderCa::generate("a.example".parse().ok()?, v).ok()?;
    let mut trust = TrustStore::new();
    trust.pin("a.example".parse().ok()?, ca.certificate_der()).ok()?;
    let server = ServerIdentity::new(&ca, v).ok()?;
    let alice = ClientIdentity::new(
        &ca,
        "mimi://a.example/d/alice/1".parse().ok()?,
        "mimi://a.example/u/alice".parse().ok()?,
        v,
    )
    .ok()?;
    let room: mimi_types::RoomUri = "mimi://a.example/r/fuzz".parse().ok()?;
    let state = RoomCreation::new(Preset::Cooperative, room.clone(), alice.user().clone())
        .initial_state()
        .ok()?;
    let (_, created) = ClientGroup::create(
        &alice,
        &room.group_uri(),
        &server.external_sender(),
        &state,
        trust.clone(),
        NOW,
    )
    .ok()?;
    HubGroup::new(&created.group_info, &created.ratchet_tree, trust, NOW).ok()
}

thread_local! {
    static HUB: RefCell<Option<HubGroup>> = RefCell::new(hub());
}

fuzz_target!(|data: &[u8]| {
    HUB.with(|h| {
        if let Some(hub) = h.borrow().as_ref() {
            let _ = hub.process(data, NOW);
            if let Ok(user) = "mimi://a.example/u/alice".parse() {
                let _ = hub.check_application(data, &user);
            }
        }
    });
});
