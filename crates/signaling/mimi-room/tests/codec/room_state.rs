//! The room state as a dictionary of components: round trips and refusals.

use crate::common::*;
use mimi_room::components::*;
use mimi_room::{DecodeError, RoomState, presets};
use mimi_types::codepoints::ComponentId;

#[test]
fn room_state_round_trips_through_the_dictionary() {
    let mut components = vec![
        (ComponentId::PARTICIPANT_LIST, participant_list().encode()),
        (ComponentId::ROLES_LIST, presets::cooperative().encode()),
        (ComponentId::ROOM_METADATA, room_metadata().encode()),
        (ComponentId::PREAUTH_LIST, preauth().encode()),
        (
            ComponentId::BASE_ROOM_POLICY,
            BaseRoomPolicy {
                // Sub-rooms are refused (see the next test).
                parent_dependant: false,
                parent_room: Vec::new(),
                ..base_policy()
            }
            .encode(),
        ),
        (
            ComponentId::STATUS_NOTIFICATION_POLICY,
            status_policy().encode(),
        ),
        (ComponentId::JOIN_LINK_POLICY, join_link_policy().encode()),
        (
            ComponentId::LINK_PREVIEW_POLICY,
            link_preview_policy().encode(),
        ),
        (ComponentId::ASSET_POLICY, asset_policy().encode()),
        (ComponentId::LOGGING_POLICY, logging_policy().encode()),
        (ComponentId::CHAT_HISTORY_POLICY, history_policy().encode()),
        (ComponentId::BOT_POLICY, bot_policy().encode()),
        (
            ComponentId::MESSAGE_EXPIRATION_POLICY,
            message_expiration().encode(),
        ),
        (
            ComponentId::MLS_OPERATIONAL_POLICY,
            operational_policy().encode(),
        ),
        (ComponentId::APP_COMPONENTS, vec![0x02, 0x00, 0x22]),
    ];
    let mut links = join_links();
    links.links.truncate(1); // join links on request: at most one
    components.push((ComponentId::JOIN_LINKS, links.encode()));
    let state = RoomState::from_components(components.clone()).unwrap();
    let out = state.components();
    assert_eq!(out.len(), components.len());
    for (id, bytes) in components {
        assert_eq!(out.get(&id), Some(&bytes), "{id}");
    }
    assert_eq!(RoomState::from_components(out).unwrap(), state);
}

#[test]
fn room_state_refuses_unknown_missing_and_inconsistent_components() {
    let base = || {
        vec![
            (ComponentId::PARTICIPANT_LIST, participant_list().encode()),
            (ComponentId::ROLES_LIST, presets::cooperative().encode()),
        ]
    };
    // GREASE entries are ignored but kept, so the dictionary round-trips.
    let mut c = base();
    c.push((ComponentId::new(0x3a3a), vec![1, 2, 3]));
    let greased = RoomState::from_components(c).unwrap();
    assert_eq!(
        greased.components().get(&ComponentId::new(0x3a3a)),
        Some(&vec![1, 2, 3])
    );
    let mut c = base();
    c.push((ComponentId::new(0x7000), vec![]));
    assert_eq!(
        RoomState::from_components(c).unwrap_err(),
        DecodeError::UnknownComponent(ComponentId::new(0x7000))
    );
    assert_eq!(
        RoomState::from_components(base().into_iter().skip(1)).unwrap_err(),
        DecodeError::MissingComponent(ComponentId::PARTICIPANT_LIST)
    );
    assert_eq!(
        RoomState::from_components(base().into_iter().take(1)).unwrap_err(),
        DecodeError::MissingComponent(ComponentId::ROLES_LIST)
    );
    // A participant in role 9, which the cooperative preset does not define.
    let mut list = participant_list();
    list.participants[0].role_index = RoleIndex(9);
    let c = vec![
        (ComponentId::PARTICIPANT_LIST, list.encode()),
        (ComponentId::ROLES_LIST, presets::cooperative().encode()),
    ];
    assert!(matches!(
        RoomState::from_components(c),
        Err(DecodeError::Invalid { .. })
    ));
    // Fixed membership with a role that may add participants.
    let mut c = base();
    let fixed = BaseRoomPolicy {
        fixed_membership: true,
        ..BaseRoomPolicy::default()
    };
    c.push((ComponentId::BASE_ROOM_POLICY, fixed.encode()));
    assert!(matches!(
        RoomState::from_components(c),
        Err(DecodeError::Invalid { .. })
    ));
    // A sub-room (parent_dependant): mimi-rs has none and refuses the state.
    let mut c = base();
    c.push((ComponentId::BASE_ROOM_POLICY, base_policy().encode()));
    assert!(base_policy().parent_dependant);
    match RoomState::from_components(c) {
        Err(DecodeError::Invalid { reason, .. }) => {
            assert!(reason.contains("sub-rooms) are not supported"), "{reason}");
        }
        other => panic!("a parent_dependant room state was not refused: {other:?}"),
    }
    // Join links on request with two persisted links.
    let mut c = base();
    c.push((ComponentId::JOIN_LINK_POLICY, join_link_policy().encode()));
    c.push((ComponentId::JOIN_LINKS, join_links().encode()));
    assert!(matches!(
        RoomState::from_components(c),
        Err(DecodeError::Invalid { .. })
    ));
    // History sharing by the clientless policy enforcer (role 5), or by an undefined role.
    for role in [5, 42] {
        let mut c = base();
        let hist = HistoryPolicy::Optional(HistorySharing {
            roles_that_can_share: vec![RoleIndex(role)],
            automatically_share: false,
            max_time_period: 1,
        });
        c.push((ComponentId::CHAT_HISTORY_POLICY, hist.encode()));
        assert!(matches!(
            RoomState::from_components(c),
            Err(DecodeError::Invalid { .. })
        ));
    }
    // A bot with an undefined role.
    let mut c = base();
    let mut bots = bot_policy();
    bots.allowed_bots[0].bot_role_index = RoleIndex(42);
    c.push((ComponentId::BOT_POLICY, bots.encode()));
    assert!(matches!(
        RoomState::from_components(c),
        Err(DecodeError::Invalid { .. })
    ));
    // Preauth naming an undefined role.
    let mut c = base();
    let mut pre = preauth();
    pre.preauthorized_entries[0].target_role.role_index = RoleIndex(42);
    c.push((ComponentId::PREAUTH_LIST, pre.encode()));
    assert!(matches!(
        RoomState::from_components(c),
        Err(DecodeError::Invalid { .. })
    ));
}
