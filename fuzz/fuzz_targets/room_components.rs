//! Every mimi-room component decoder (the first byte picks one): never panics; accepted input
//! re-encodes to exactly itself (the encodings are canonical).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mimi_room::components::*;

fn check<T: Component>(data: &[u8]) {
    if let Ok(value) = T::decode(data) {
        assert_eq!(value.encode(), data);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    match which % 21 {
        0 => check::<ParticipantList>(rest),
        1 => check::<ParticipantListUpdate>(rest),
        2 => check::<RoomMetadata>(rest),
        3 => check::<RoleData>(rest),
        4 => check::<PreAuthData>(rest),
        5 => check::<BaseRoomPolicy>(rest),
        6 => check::<StatusNotificationPolicy>(rest),
        7 => check::<JoinLinkPolicy>(rest),
        8 => check::<JoinLinks>(rest),
        9 => check::<JoinLinksUpdate>(rest),
        10 => check::<LinkPreviewPolicy>(rest),
        11 => check::<AssetPolicy>(rest),
        12 => check::<LoggingPolicy>(rest),
        13 => check::<HistoryPolicy>(rest),
        14 => check::<BotPolicy>(rest),
        15 => check::<MessageExpiration>(rest),
        16 => check::<OperationalParameters>(rest),
        17 => check::<HubRetractedMessages>(rest),
        18 => check::<HubRetractedRange>(rest),
        19 => check::<ServerPolicy>(rest),
        _ => {
            // A whole dictionary: (u16 id, u8 len, data) records.
            let mut comps = Vec::new();
            let mut rest = rest;
            while rest.len() >= 3 {
                let id = u16::from_be_bytes([rest[0], rest[1]]);
                let len = usize::from(rest[2]).min(rest.len() - 3);
                comps.push((
                    mimi_types::codepoints::ComponentId::new(id),
                    rest[3..3 + len].to_vec(),
                ));
                rest = &rest[3 + len..];
            }
            let _ = mimi_room::RoomState::from_components(comps);
        }
    }
});
