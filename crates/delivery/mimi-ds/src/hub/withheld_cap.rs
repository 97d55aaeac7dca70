//! The cap on withheld devices (`mimi_federation_api::withheld::MAX_WITHHELD`): a provider
//! with more member devices to withhold application messages from than one notify may name
//! gets no application messages at all, while a provider at the cap gets them with every one
//! of its withheld devices named, and other providers are unaffected.

use mimi_federation_api::withheld::MAX_WITHHELD;
use mimi_room::components::{Component as _, ParticipantList, RoleIndex, UserRolePair};
use mimi_room::presets::Preset;
use mimi_room::{MemberChange, RoomState};
use mimi_types::codepoints::ComponentId;
use mimi_types::{ClientUri, Domain, UserUri};

use super::{Fanout, domains_of};

fn user(domain: &str, id: &str) -> UserUri {
    format!("mimi://{domain}/u/{id}").parse().unwrap()
}

fn device(domain: &str, user: &str, id: usize) -> ClientUri {
    format!("mimi://{domain}/d/{user}/{id}").parse().unwrap()
}

/// A room of Alice (on the hub's provider) and Bob (on b.example), both ordinary members who
/// receive, where Carol of b.example is no participant any more but keeps `kept` devices in
/// the group.
fn room_with_withheld(kept: usize) -> RoomState {
    let (alice, bob, carol) = (
        user("a.example", "alice"),
        user("b.example", "bob"),
        user("b.example", "carol"),
    );
    let participants = vec![
        UserRolePair::new(alice.clone(), RoleIndex(2)),
        UserRolePair::new(bob.clone(), RoleIndex(2)),
    ];
    let comps = [
        (
            ComponentId::PARTICIPANT_LIST,
            ParticipantList { participants }.encode(),
        ),
        (
            ComponentId::ROLES_LIST,
            Preset::Cooperative.roles().encode(),
        ),
    ];
    let mut members = vec![
        MemberChange::new(device("a.example", "alice", 1), alice),
        MemberChange::new(device("b.example", "bob", 1), bob),
    ];
    members.extend(
        (0..kept).map(|i| MemberChange::new(device("b.example", "carol", i), carol.clone())),
    );
    RoomState::from_components(comps)
        .unwrap()
        .with_members(members)
        .unwrap()
}

#[test]
fn a_provider_at_the_cap_reads_with_all_its_withheld_devices_named() {
    let Fanout {
        domains,
        readers,
        withheld,
    } = domains_of(&room_with_withheld(MAX_WITHHELD));
    let (a, b) = (
        Domain::parse("a.example").unwrap(),
        Domain::parse("b.example").unwrap(),
    );
    assert!(domains.contains(&a) && domains.contains(&b));
    assert!(readers.contains(&a) && readers.contains(&b));
    assert_eq!(withheld.get(&b).map(Vec::len), Some(MAX_WITHHELD));
    assert!(!withheld.contains_key(&a));
}

#[test]
fn a_provider_over_the_cap_gets_no_application_messages() {
    let Fanout {
        domains,
        readers,
        withheld,
    } = domains_of(&room_with_withheld(MAX_WITHHELD + 1));
    let (a, b) = (
        Domain::parse("a.example").unwrap(),
        Domain::parse("b.example").unwrap(),
    );
    // Still a destination (handshakes), but no reader, and no header to name its devices in.
    assert!(domains.contains(&b));
    assert!(!readers.contains(&b), "a provider over the cap reads");
    assert!(!withheld.contains_key(&b));
    // The other provider reads on as before.
    assert!(readers.contains(&a));
    assert!(withheld.is_empty());
}
