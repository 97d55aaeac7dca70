//! The runner: the real room state and commit built from the same case, judged by the
//! authorizer.

use crate::common::*;
use crate::oracle::*;
use crate::scenarios::*;

// ---- building the real state and commit from the same case ----------------------------------

pub(crate) fn state_for(c: &Case, model: &Model) -> RoomState {
    let mut roles = c.preset.roles();
    for role in &mut roles.roles {
        let row = &model.table[&role.role_index.0];
        role.minimum_participants_constraint = row.min;
        role.maximum_participants_constraint = row.max;
        role.minimum_active_participants_constraint = row.amin;
        role.maximum_active_participants_constraint = row.amax;
    }
    let list = ParticipantList {
        participants: model
            .members
            .iter()
            .filter(|m| m.role != 0)
            .map(|m| UserRolePair::new(m.user.clone(), RoleIndex(m.role)))
            .collect(),
    };
    let mut comps = BTreeMap::new();
    comps.insert(ComponentId::PARTICIPANT_LIST, list.encode());
    comps.insert(ComponentId::ROLES_LIST, roles.encode());
    let meta = RoomMetadata {
        room_uri: Uri::new("mimi://hub.example/r/matrix").unwrap(),
        room_name: "Matrix".to_owned(),
        ..RoomMetadata::default()
    };
    comps.insert(ComponentId::ROOM_METADATA, meta.encode());
    let policy = BaseRoomPolicy {
        max_users: model.max_users,
        max_clients: model.max_clients,
        ..BaseRoomPolicy::default()
    };
    comps.insert(ComponentId::BASE_ROOM_POLICY, policy.encode());
    let granted = match c.scenario {
        S::JoinIfPreauthorized => Some(c.role),
        S::ChangeOwnRole => Some(own_role_target(c.role)),
        _ => None,
    };
    if let Some(g) = granted {
        let pre = PreAuthData {
            preauthorized_entries: vec![PreAuthRoleEntry {
                claimset: vec![claim()],
                target_role: Role::new(g, "", ""),
            }],
        };
        comps.insert(ComponentId::PREAUTH_LIST, pre.encode());
    }
    if c.scenario == S::UseJoinCode {
        // An opaque link first, then the code: with our terms (the requested role, two uses
        // left) where a role may be granted, else an opaque link equal to the code's digest.
        let mut links = vec![JoinLink {
            join_link: b"another code".to_vec(),
        }];
        links.push(match code_terms(c.role) {
            Some(t) => t.to_link(),
            None => JoinLink {
                join_link: CODE_DIGEST.to_vec(),
            },
        });
        comps.insert(ComponentId::JOIN_LINKS, JoinLinks { links }.encode());
    }
    let mut members = Vec::new();
    for m in &model.members {
        let (d, id) = (m.user.domain().as_str().to_owned(), m.user.id().to_string());
        for n in 1..=m.clients {
            members.push(MemberChange::new(
                client(&d, &id, &n.to_string()),
                m.user.clone(),
            ));
        }
    }
    RoomState::from_components(comps)
        .unwrap()
        .with_members(members)
        .unwrap()
}

pub(crate) fn list_update(
    changes: &[(u32, u32)],
    removes: &[u32],
    adds: &[(UserUri, u32)],
) -> ComponentChange {
    let update = ParticipantListUpdate {
        changed_role_participants: changes
            .iter()
            .map(|(i, r)| UserIndexRolePair {
                user_index: *i,
                role_index: RoleIndex(*r),
            })
            .collect(),
        removed_indices: removes.to_vec(),
        added_participants: adds
            .iter()
            .map(|(u, r)| UserRolePair::new(u.clone(), RoleIndex(*r)))
            .collect(),
    };
    ComponentChange::update(ComponentId::PARTICIPANT_LIST, update.encode())
}

pub(crate) fn run(c: &Case, state: &RoomState) -> Result<(), Denied> {
    let a = actor_user(c.origin);
    let actor = match c.origin.server() {
        Some(d) => Actor::Server(dom(d)),
        None => Actor::Client {
            client: presented_client(c.origin),
            user: a.clone(),
        },
    };
    match c.scenario {
        S::SendMessage => return state.authorize_message(&actor),
        S::ReceiveMessage => return state.may_receive(&a),
        S::StartTopic => return state.may_topic(&a, TopicAct::Start),
        S::ReplyInTopic => return state.may_topic(&a, TopicAct::Reply),
        S::SendLink => return state.may_send_link(&a),
        S::SendLinkPreview => return state.may_send_link_preview(&a),
        S::DownloadImage => return state.may_download(&a, "image/png"),
        S::DownloadAudio => return state.may_download(&a, "audio/ogg"),
        S::DownloadVideo => return state.may_download(&a, "video/mp4"),
        S::DownloadAttachment => return state.may_download(&a, "application/pdf"),
        _ => {}
    }
    let idx = |u: &UserUri| state.participants().index_of(u).unwrap() as u32;
    let mut commit = CommitSummary::new(actor);
    let t = target();
    let m = |client: ClientUri, user: &UserUri| MemberChange::new(client, user.clone());
    let t1 = client(FOLLOWER, "t", "1");
    let meta = |f: &dyn Fn(&mut RoomMetadata)| {
        let mut meta = state.metadata().unwrap().clone();
        f(&mut meta);
        ComponentChange::update(ComponentId::ROOM_METADATA, meta.encode())
    };
    match c.scenario {
        S::AddParticipant => {
            commit
                .component_changes
                .push(list_update(&[], &[], &[(newcomer(), 2)]));
            commit
                .added
                .push(m(client(FOLLOWER, "n", "1"), &newcomer()));
        }
        S::RemoveParticipant => {
            commit
                .component_changes
                .push(list_update(&[], &[idx(&t)], &[]));
            commit.removed.push(m(t1, &t));
        }
        S::AddOwnClient => commit.added.push(m(actor_client(c.origin, "2"), &a)),
        S::RemoveOwnClient => commit.removed.push(m(actor_client(c.origin, "2"), &a)),
        S::OpenJoin | S::JoinIfPreauthorized | S::UseJoinCode => {
            commit.external_join = true;
            commit
                .component_changes
                .push(list_update(&[], &[], &[(a.clone(), c.role)]));
            commit.added.push(m(presented_client(c.origin), &a));
            if c.scenario == S::JoinIfPreauthorized {
                commit.actor_claims.push(claim());
            }
            if c.scenario == S::UseJoinCode {
                commit.join_code = Some(CODE_DIGEST.to_vec());
                if let Some(t) = code_terms(c.role) {
                    // The joining commit consumes one of the link's uses.
                    let consume = JoinLinksUpdate {
                        removed_indices: vec![1],
                        added_links: vec![JoinCodeTerms { uses_left: 1, ..t }.to_link()],
                    };
                    commit.component_changes.push(ComponentChange::update(
                        ComponentId::JOIN_LINKS,
                        consume.encode(),
                    ));
                }
            }
        }
        S::RemoveSelf => {
            commit
                .component_changes
                .push(list_update(&[], &[idx(&a)], &[]));
            commit.self_removed.push(m(actor_client(c.origin, "1"), &a));
        }
        S::Ban => {
            commit
                .component_changes
                .push(list_update(&[(idx(&t), 1)], &[], &[]));
            commit.removed.push(m(t1, &t));
        }
        S::UnBan => {
            let b = banned_user();
            commit
                .component_changes
                .push(list_update(&[(idx(&b), 2)], &[], &[]));
        }
        S::Kick => commit.removed.push(m(t1, &t)),
        S::ChangeUserRole => {
            commit
                .component_changes
                .push(list_update(&[(idx(&t), 3)], &[], &[]));
        }
        S::ChangeOwnRole => {
            let p = own_role_target(c.role);
            commit
                .component_changes
                .push(list_update(&[(idx(&a), p)], &[], &[]));
            commit.actor_claims.push(claim());
        }
        S::ChangeRoomName => commit
            .component_changes
            .push(meta(&|m| m.room_name = "Renamed".to_owned())),
        S::ChangeRoomDescription => commit.component_changes.push(meta(&|m| {
            m.room_descriptions.push(RichDescription {
                media_type: String::new(),
                language_tag: "en".to_owned(),
                description_content: b"about".to_vec(),
            })
        })),
        S::ChangeRoomAvatar => commit.component_changes.push(meta(&|m| {
            m.room_avatar = Uri::new("https://hub.example/a.png").unwrap()
        })),
        S::ChangeRoomSubject => commit
            .component_changes
            .push(meta(&|m| m.room_subject = "Topic".to_owned())),
        S::ChangeRoomMood => commit
            .component_changes
            .push(meta(&|m| m.room_mood = "calm".to_owned())),
        S::ChangeRoleDefinitions => {
            let mut roles = state.roles().clone();
            roles.roles[2].role_description = "changed".to_owned();
            commit.component_changes.push(ComponentChange::update(
                ComponentId::ROLES_LIST,
                roles.encode(),
            ));
        }
        S::ChangePreauthorizedUserList => {
            let pre = PreAuthData {
                preauthorized_entries: vec![PreAuthRoleEntry {
                    claimset: vec![Claim::new(CredentialType::BASIC, b"org", b"other")],
                    target_role: Role::new(2, "", ""),
                }],
            };
            commit.component_changes.push(ComponentChange::update(
                ComponentId::PREAUTH_LIST,
                pre.encode(),
            ));
        }
        S::ChangeRoomMembershipStyle => {
            let mut policy = state.base_policy();
            policy.discoverable = !policy.discoverable;
            commit.component_changes.push(ComponentChange::update(
                ComponentId::BASE_ROOM_POLICY,
                policy.encode(),
            ));
        }
        S::ChangeServerPolicy => {
            // Deny a provider nobody in the room is of.
            let policy = ServerPolicy {
                mode: ServerPolicyMode::DenyListed,
                entries: Vec::new(),
            }
            .with_entry(&dom("z.example"), ServerCapabilities::NONE);
            commit.component_changes.push(ComponentChange::update(
                ComponentId::SERVER_POLICY,
                policy.encode(),
            ));
        }
        S::ChangeOtherPolicyAttribute => {
            let status = StatusNotificationPolicy {
                delivery_notifications: Optionality::Optional,
                read_receipts: Optionality::Forbidden,
            };
            commit.component_changes.push(ComponentChange::update(
                ComponentId::STATUS_NOTIFICATION_POLICY,
                status.encode(),
            ));
        }
        S::ChangeMlsOperationalPolicies => {
            // app_components: the list of components in use.
            commit.component_changes.push(ComponentChange::update(
                ComponentId::APP_COMPONENTS,
                vec![0x04, 0x00, 0x22, 0x00, 0x23],
            ));
        }
        S::DestroyRoom => {
            // In the acting user's own name: a server's is its clientless service user.
            let ended_by = match c.origin.server() {
                Some(d) => state
                    .participants()
                    .participants
                    .iter()
                    .find(|p| {
                        p.user.domain().as_str() == d
                            && p.role_index.0 > 1
                            && state
                                .roles()
                                .role(p.role_index)
                                .is_some_and(Role::is_clientless)
                    })
                    .map_or_else(|| a.clone(), |p| p.user.clone()),
                None => a.clone(),
            };
            commit.component_changes.push(ComponentChange::update(
                ComponentId::ROOM_ENDED,
                RoomEnded { ended_by }.encode(),
            ));
        }
        S::SendMessage => unreachable!(),
        s => unreachable!("{s:?} is judged without a commit"),
    }
    authorize_commit(state, &commit).map(drop)
}
