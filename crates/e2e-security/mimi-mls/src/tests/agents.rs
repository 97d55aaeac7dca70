//! Bots and logging clients on real openmls: the marker in the credential reaches the
//! authorizer of the sender, the hub and every receiver, which refuse what the room's
//! `logging_policy` or `bot_policy` does not allow; the room goes on (sentinel messages).

use mimi_room::components::{Bot, BotPolicy, LoggingPolicy, StateComponent, Uri};
use mimi_room::{ClientKind, Denied};

use super::*;
use crate::MlsError;

const HOMEPAGE: &str = "https://bots.example/standup";

fn standup(role: u32) -> Bot {
    Bot {
        name: "Standup".into(),
        description: "asks for everyone's day".into(),
        homepage: Uri::new(HOMEPAGE).unwrap(),
        local_client_bot: false,
        bot_role_index: RoleIndex(role),
        can_target_message_in_group: false,
        per_user_content: false,
    }
}

fn bot_kind(name: &str) -> ClientKind {
    ClientKind::Bot {
        name: name.into(),
        homepage: HOMEPAGE.into(),
    }
}

impl Net {
    /// A client certified as `kind`.
    fn add_agent(&mut self, d: &str, user: &str, device: &str, kind: &ClientKind) {
        let user_uri: UserUri = format!("mimi://{d}/u/{user}").parse().unwrap();
        let client: ClientUri = format!("mimi://{d}/d/{user}/{device}").parse().unwrap();
        let validity = Validity::starting(self.now - 3600, YEAR);
        let id = ClientIdentity::new_as(&self.providers[d].ca, client, user_uri, kind, validity)
            .unwrap();
        assert_eq!(&id.kind(), kind);
        self.clients.insert(device.to_string(), id);
    }
}

/// A strictly administered room of Alice (super_admin) and Bob with `component` set, and
/// `lou1` (c.example) certified as `kind`, outside.
fn room_with_agent<T: StateComponent>(component: &T, kind: &ClientKind) -> Net {
    let mut net = Net::new();
    net.add_client("a.example", "alice", "alice1");
    net.add_client("b.example", "bob", "bob1");
    net.add_agent("c.example", "lou", "lou1", kind);
    let mut components =
        initial_room(Preset::StrictlyAdministered, &net.room, "alice").components();
    components.insert(T::ID, component.encode());
    net.create_with("alice1", RoomState::from_components(components).unwrap());
    let kp = net.kp("bob1");
    let now = net.now;
    let out = net
        .groups
        .get_mut("alice1")
        .unwrap()
        .commit(&[pl_add(&["bob"])], &[kp], &[], now)
        .unwrap();
    net.deliver_commit("alice1", &out, &["bob1"]);
    net
}

/// A participant-list update adding `name` as `role`.
fn add_as(name: &str, role: u32) -> ComponentChange {
    let update = ParticipantListUpdate {
        added_participants: vec![UserRolePair::new(user(name), RoleIndex(role))],
        ..Default::default()
    };
    ComponentChange::update(PL, update.encode())
}

/// Alice's client refuses to add Lou as `role` with `expected`; a rogue build of the same
/// commit is refused by the hub and by Bob's client, neither changing its state; then the
/// room goes on.
fn refused_everywhere(mut net: Net, role: u32, expected: &Denied) {
    let kp = net.kp("lou1");
    let now = net.now;
    let change = add_as("lou", role);
    let err = net
        .groups
        .get_mut("alice1")
        .unwrap()
        .commit(
            std::slice::from_ref(&change),
            std::slice::from_ref(&kp),
            &[],
            now,
        )
        .unwrap_err();
    assert!(
        matches!(&err, MlsError::Denied(d) if d == expected),
        "{err:?}"
    );
    let out = net
        .groups
        .get_mut("alice1")
        .unwrap()
        .commit_unchecked(&[change], &[kp], true, now)
        .unwrap();
    let hub_before = net.hub().to_record().unwrap();
    let err = net.hub().process(&out.commit, now).unwrap_err();
    assert!(
        matches!(&err, MlsError::Denied(d) if d == expected),
        "hub: {err:?}"
    );
    assert_eq!(net.hub().to_record().unwrap(), hub_before, "no hub change");
    let bob = net.groups.get_mut("bob1").unwrap();
    let before = bob.to_record().unwrap();
    let err = bob.process(&out.commit, now).unwrap_err();
    assert!(
        matches!(&err, MlsError::Denied(d) if d == expected),
        "bob: {err:?}"
    );
    assert_eq!(bob.to_record().unwrap(), before, "no change at bob");
    net.groups
        .get_mut("alice1")
        .unwrap()
        .discard_pending_commit()
        .unwrap();
    net.message("alice1", "sentinel");
    net.message("bob1", "still here");
    net.assert_consistent();
    assert!(net.hub().room().agents().is_empty());
}

#[test]
fn a_room_forbidding_logging_refuses_a_logger_at_the_sender_the_hub_and_every_member() {
    let net = room_with_agent(&LoggingPolicy::Forbidden, &ClientKind::Logger);
    let expected = Denied::LoggingForbidden {
        client: net.clients["lou1"].client().clone(),
    };
    refused_everywhere(net, 2, &expected);
}

#[test]
fn an_unlisted_bot_is_refused_everywhere_and_an_allowed_one_joins_with_its_role() {
    let policy = BotPolicy {
        allowed_bots: vec![standup(3)],
    };
    let net = room_with_agent(&policy, &bot_kind("Poller"));
    let expected = Denied::BotNotAllowed {
        client: net.clients["lou1"].client().clone(),
        bot: format!("\"Poller\" <{HOMEPAGE}>"),
    };
    refused_everywhere(net, 2, &expected);

    // The allowed bot as the wrong role: refused the same way.
    let net = room_with_agent(&policy, &bot_kind("Standup"));
    let expected = Denied::BotRole {
        user: user("lou"),
        required: RoleIndex(3),
        held: RoleIndex(2),
    };
    refused_everywhere(net, 2, &expected);

    // As its role it gets in; every member sees what it is.
    let mut net = room_with_agent(&policy, &bot_kind("Standup"));
    let kp = net.kp("lou1");
    let now = net.now;
    let out = net
        .groups
        .get_mut("alice1")
        .unwrap()
        .commit(&[add_as("lou", 3)], &[kp], &[], now)
        .unwrap();
    net.deliver_commit("alice1", &out, &["lou1"]);
    net.assert_consistent();
    let lou = net.clients["lou1"].client().clone();
    assert_eq!(net.hub().room().role_of(&user("lou")), RoleIndex(3));
    for name in ["alice1", "bob1", "lou1"] {
        assert_eq!(
            net.groups[name].room().kind_of(&lou),
            &bot_kind("Standup"),
            "{name}"
        );
    }
    net.message("lou1", "good morning");
}

#[test]
fn the_marker_is_read_from_the_credential_and_a_bad_one_is_refused() {
    let net = Net::new();
    let ca = &net.providers["c.example"].ca;
    let k = crate::SigningKey::generate().unwrap();
    let client: ClientUri = "mimi://c.example/d/lou/1".parse().unwrap();
    let lou = user("lou");
    let validity = Validity::starting(net.now - 60, YEAR);
    let cred = ca
        .issue_client_as(&client, &lou, &ClientKind::Logger, k.public(), validity)
        .unwrap();
    let id = net.trust.validate(&cred, k.public(), net.now).unwrap();
    assert_eq!(
        id,
        crate::VerifiedIdentity::Client {
            client: client.clone(),
            user: lou.clone(),
            kind: ClientKind::Logger
        }
    );
    // A marker that does not decode makes the credential invalid, not a person's.
    let bad = ca
        .issue_with_raw_marker(
            &[client.to_string(), lou.to_string()],
            vec![0x30, 0x03, 0x0a, 0x01, 0x09],
            k.public(),
            validity,
        )
        .unwrap();
    assert!(net.trust.validate(&bad, k.public(), net.now).is_err());
    // A server credential carries none.
    let server = ca
        .issue_with_raw_marker(
            &["mimi://c.example".to_string()],
            crate::client_kind::encode(&ClientKind::Logger)
                .unwrap()
                .unwrap(),
            k.public(),
            validity,
        )
        .unwrap();
    assert!(net.trust.validate(&server, k.public(), net.now).is_err());
    // A bot needs a name to be issued.
    let nameless = ClientKind::Bot {
        name: String::new(),
        homepage: HOMEPAGE.into(),
    };
    assert!(
        ca.issue_client_as(&client, &lou, &nameless, k.public(), validity)
            .is_err()
    );
}

/// RFC 5280 §4.2: a certificate includes at most one instance of an extension. Two client
/// kind markers (even equal ones) make the credential invalid, not read as either.
#[test]
fn a_certificate_with_the_marker_twice_is_refused() {
    let net = Net::new();
    let ca = &net.providers["c.example"].ca;
    let k = crate::SigningKey::generate().unwrap();
    let client: ClientUri = "mimi://c.example/d/lou/1".parse().unwrap();
    let lou = user("lou");
    let validity = Validity::starting(net.now - 60, YEAR);
    let uris = [client.to_string(), lou.to_string()];
    let logger = crate::client_kind::encode(&ClientKind::Logger)
        .unwrap()
        .unwrap();
    // The control: the same certificate with one marker is a logging client's.
    let once = ca
        .issue_with_raw_markers(&uris, vec![logger.clone()], k.public(), validity)
        .unwrap();
    assert!(matches!(
        net.trust.validate(&once, k.public(), net.now),
        Ok(crate::VerifiedIdentity::Client {
            kind: ClientKind::Logger,
            ..
        })
    ));
    let twice = ca
        .issue_with_raw_markers(&uris, vec![logger.clone(), logger], k.public(), validity)
        .unwrap();
    match net.trust.validate(&twice, k.public(), net.now) {
        Err(crate::CredentialError::Malformed(why)) => {
            assert!(why.contains("client kind extension"), "{why}")
        }
        other => panic!("a certificate with two client kind markers: {other:?}"),
    }
    assert!(crate::credential::claimed_identity(&twice).is_err());
}
