#![no_main]
//! mimi-mls: the hub view processing arbitrary handshakes and application messages.

use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

use libfuzzer_sys::fuzz_target;
use mimi_mls::{
    ClientGroup, ClientIdentity, HubGroup, ProviderCa, ServerIdentity, TrustStore, Validity,
};
use mimi_room::presets::{Preset, RoomCreation};

/// The real clock: openmls checks KeyPackage lifetimes against it, so a fixed time in the
/// future made the room's creation fail and the target test nothing.
fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn hub() -> Option<HubGroup> {
    let now = now();
    let v = Validity::starting(now - 3600, 365 * 24 * 3600);
    let ca = ProviderCa::generate("a.example".parse().ok()?, v).ok()?;
    let mut trust = TrustStore::new();
    trust
        .pin("a.example".parse().ok()?, ca.certificate_der())
        .ok()?;
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
        now,
    )
    .ok()?;
    HubGroup::new(&created.group_info, &created.ratchet_tree, trust, now).ok()
}

thread_local! {
    static HUB: RefCell<Option<HubGroup>> = RefCell::new(hub());
    static NOW: u64 = now();
}

fuzz_target!(|data: &[u8]| {
    HUB.with(|h| {
        let hub = h.borrow();
        let hub = hub
            .as_ref()
            .expect("the target's room could not be created: it would test nothing");
        let _ = hub.process(data, NOW.with(|n| *n));
        if let Ok(user) = "mimi://a.example/u/alice".parse() {
            let _ = hub.check_application(data, &user);
        }
    });
});
