//! Every decoder meets random and mutated inputs (from valid encodings) without panicking,
//! and with no state change on the hub and clients that refuse them.

use mimi_room::presets::Preset;
use proptest::prelude::*;

use super::*;
use crate::{X509Credential, claimed_identity_of_mls_credential, welcome_key_package_refs};

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    match rng.below(5) {
        0 => {
            // flip a few bits
            for _ in 0..1 + rng.below(4) {
                if !v.is_empty() {
                    let i = rng.below(v.len());
                    v[i] ^= 1 << rng.below(8);
                }
            }
        }
        1 => v.truncate(rng.below(v.len() + 1)),
        2 => {
            let i = rng.below(v.len() + 1);
            v.insert(i, rng.next() as u8);
        }
        3 => {
            if !v.is_empty() {
                let i = rng.below(v.len());
                v[i] = rng.next() as u8;
            }
        }
        _ => {
            let n = rng.below(64);
            v = (0..n).map(|_| rng.next() as u8).collect();
        }
    }
    v
}

#[test]
fn decoders_survive_mutated_inputs() {
    let mut net = Net::new();
    net.add_client("a.example", "alice", "alice1");
    net.add_client("b.example", "bob", "bob1");
    net.add_client("b.example", "bob", "bob2");
    net.create("alice1", Preset::Cooperative);
    let kp = net.kp("bob1");
    let now = net.now;
    let out = net
        .groups
        .get_mut("alice1")
        .unwrap()
        .commit(&[pl_add(&["bob"])], std::slice::from_ref(&kp), &[], now)
        .unwrap();
    net.deliver_commit("alice1", &out, &["bob1"]);
    let app = net
        .groups
        .get_mut("alice1")
        .unwrap()
        .protect(b"hello", &BTreeMap::new())
        .unwrap();
    let next = net
        .groups
        .get_mut("alice1")
        .unwrap()
        .self_update(now)
        .unwrap();
    net.groups
        .get_mut("alice1")
        .unwrap()
        .discard_pending_commit()
        .unwrap();
    let proposal = net.groups.get_mut("bob1").unwrap().propose_leave().unwrap();
    net.groups
        .get_mut("bob1")
        .unwrap()
        .process(&app, now)
        .unwrap();
    let cred = net.clients["alice1"].credential().encode_content().unwrap();
    let mls_cred = net.clients["alice1"].mls_credential_bytes().unwrap();
    let seeds: Vec<Vec<u8>> = vec![
        next.commit.clone(),
        proposal.clone(),
        app.clone(),
        out.welcome.clone().unwrap(),
        out.group_info.clone().unwrap(),
        out.ratchet_tree.clone(),
        net.kp("bob2"),
        cred,
        mls_cred,
        net.hub().to_record().unwrap(),
        net.groups["bob1"].to_record().unwrap(),
        net.providers["a.example"].ca.to_record(),
        net.clients["bob2"].to_record().unwrap(),
    ];
    let hub_before = net.hub().to_record().unwrap();
    let bob_before = net.groups["bob1"].to_record().unwrap();
    let mut rng = Rng(0x6d69_6d69_6d6c_7321);
    for round in 0..3000 {
        let seed = &seeds[round % seeds.len()];
        let input = mutate(&mut rng, seed);
        let _ = net.hub().process(&input, now);
        let _ = net.hub().check_application(&input, &user("alice"));
        let _ = welcome_key_package_refs(&input);
        let _ = X509Credential::decode_content(&input);
        let _ = claimed_identity_of_mls_credential(&input);
        let _ = net.trust.validate(
            &X509Credential::from_chain(vec![input.clone()]),
            &[0; 32],
            now,
        );
        let _ = crate::inspect::raw_handshake(&input);
        if round % 7 == 0 {
            let _ = HubGroup::from_record(&input, net.trust.clone());
            let _ = ClientGroup::from_record(&input, net.trust.clone());
            let _ = ProviderCa::from_record(&input);
            let _ = ClientIdentity::from_record(&input);
        }
        if round % 3 == 0 {
            // Bob refuses garbage without changing state (a valid message may pass: skip those).
            let before = net.groups["bob1"].to_record().unwrap();
            let bob = net.groups.get_mut("bob1").unwrap();
            if bob.process(&input, now).is_err() {
                assert_eq!(bob.to_record().unwrap(), before);
            }
        }
    }
    assert_eq!(
        net.hub().to_record().unwrap(),
        hub_before,
        "the hub only reads"
    );
    let _ = bob_before;
}

proptest! {
    #[test]
    fn x509_credential_content_roundtrip(chain in proptest::collection::vec(
        proptest::collection::vec(any::<u8>(), 0..300), 0..4)) {
        // Every cert_data is a DER certificate, which starts with a SEQUENCE tag.
        let chain: Vec<Vec<u8>> = chain
            .into_iter()
            .map(|body| [vec![0x30], body].concat())
            .collect();
        let c = X509Credential::from_chain(chain);
        let enc = c.encode_content().unwrap();
        prop_assert_eq!(X509Credential::decode_content(&enc).unwrap(), c);
    }
}
