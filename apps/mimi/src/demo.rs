//! `mimi demo`: the MIMI architecture figure, end to end, in one process.
//!
//! Three providers run the real delivery-service engines (`mimi-ds`) inside the testkit's
//! simulated federation; six devices are real MLS clients; every message is MIMI content
//! (deterministic CBOR) encrypted with MLS. The fan-out crosses a simulated network (optionally
//! lossy). This file is presentation: it narrates, then checks each device's view against
//! what that device should have seen and fails if anything differs.

use std::collections::BTreeMap;

use anyhow::{Context as _, bail};
use clap::Args;
use mimi_content::{
    ContentBuilder, MessageId, MessageKind, MimiContent, NestedPart, PartBody, open_attachment,
    seal_attachment,
};
use mimi_federation_api::submit_message::SubmitOutcome;
use mimi_federation_api::update::UpdateOutcome;
use mimi_room::presets::Preset;
use mimi_testkit::{Faults, Network};
use mimi_types::{ClientUri, RoomUri, UserUri};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// Options of `mimi demo`.
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Probability (0 to 1) of each network fault on the hub's fan-out: loss, lost
    /// acknowledgement, duplication, late replay. The result must be the same.
    #[arg(long, default_value_t = 0.0)]
    faults: f64,
    /// Seed of the simulated network's faults.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// A message as the demo script sent it: label, sender, content, ID.
struct Sent {
    label: &'static str,
    id: MessageId,
}

struct Demo {
    net: Network,
    room: RoomUri,
    rng: StdRng,
    sent: Vec<Sent>,
    blobs: BTreeMap<String, Vec<u8>>,
}

fn user(uri: &str) -> anyhow::Result<UserUri> {
    UserUri::parse(uri).with_context(|| format!("user URI {uri}"))
}

impl Demo {
    fn settle(&mut self) -> anyhow::Result<()> {
        self.net
            .settle(10_000)
            .context("the federation did not settle")?;
        Ok(())
    }

    /// Sends `content` from `device` as the message labelled `label`.
    fn send(
        &mut self,
        device: &ClientUri,
        label: &'static str,
        content: ContentBuilder,
    ) -> anyhow::Result<MessageId> {
        let sender = device.user_hint().context("demo devices name their user")?;
        let content = content
            .uris(&sender, &self.room)
            .build(&mut self.rng)
            .context("building MIMI content")?;
        let (bytes, id) = content
            .encode_with_id(
                sender.to_string().as_bytes(),
                self.room.to_string().as_bytes(),
            )
            .context("encoding MIMI content")?;
        match self.net.send(device, &self.room, &bytes)? {
            SubmitOutcome::Accepted { .. } => {}
            other => bail!("the hub refused {label}: {other:?}"),
        }
        println!("  {:<24} {label}", short(device));
        self.sent.push(Sent { label, id });
        Ok(id)
    }

    fn label_of(&self, id: &MessageId) -> &'static str {
        self.sent
            .iter()
            .find(|s| &s.id == id)
            .map_or("?", |s| s.label)
    }

    /// One line per message this device decrypted, decoded from MIMI content.
    fn transcript(&self, device: &ClientUri) -> anyhow::Result<Vec<String>> {
        let state = self.net.device(device).context("device")?;
        let mut lines = Vec::new();
        for (sender, bytes) in state.messages(&self.room) {
            let content = MimiContent::decode(&bytes).context("decoding received content")?;
            let id = mimi_content::message_id(
                sender
                    .user_hint()
                    .map(|u| u.to_string())
                    .unwrap_or_default()
                    .as_bytes(),
                self.room.to_string().as_bytes(),
                &bytes,
            )?;
            lines.push(format!(
                "{}: {}",
                short(&sender),
                self.render(&content, &id)?
            ));
        }
        Ok(lines)
    }

    fn render(&self, content: &MimiContent, id: &MessageId) -> anyhow::Result<String> {
        let text = body_text(&content.nested_part, &self.blobs)?;
        let expiry = content
            .expires
            .map(|e| {
                format!(
                    " (expires {})",
                    if e.relative {
                        "after reading"
                    } else {
                        "at a set time"
                    }
                )
            })
            .unwrap_or_default();
        Ok(match content.kind() {
            MessageKind::Message => format!("[{}] {text}{expiry}", self.label_of(id)),
            MessageKind::Reply => format!(
                "[{}] ↪ {}: {text}",
                self.label_of(id),
                content
                    .in_reply_to
                    .as_ref()
                    .map_or("?", |r| self.label_of(r))
            ),
            MessageKind::Reaction => format!(
                "[{}] reacts {text} to {}",
                self.label_of(id),
                content
                    .in_reply_to
                    .as_ref()
                    .map_or("?", |r| self.label_of(r))
            ),
            MessageKind::Edit => format!(
                "[{}] edits {}: {text}",
                self.label_of(id),
                content.replaces.as_ref().map_or("?", |r| self.label_of(r))
            ),
            MessageKind::Delete => format!(
                "[{}] deletes {}",
                self.label_of(id),
                content.replaces.as_ref().map_or("?", |r| self.label_of(r))
            ),
            MessageKind::Unlike => format!("[{}] unlikes", self.label_of(id)),
        })
    }
}

/// The text of a part: inline text, or an attachment fetched, verified and decrypted.
fn body_text(part: &NestedPart, blobs: &BTreeMap<String, Vec<u8>>) -> anyhow::Result<String> {
    Ok(match &part.body {
        PartBody::Null => String::new(),
        PartBody::Single(single) => String::from_utf8_lossy(&single.content).into_owned(),
        PartBody::External(external) => {
            let blob = blobs
                .get(&external.url)
                .with_context(|| format!("no blob at {}", external.url))?;
            let plain = open_attachment(external, blob).context("opening the attachment")?;
            format!(
                "📎 {} ({} bytes, decrypted and hash-checked: {:?})",
                external.filename,
                plain.len(),
                String::from_utf8_lossy(&plain)
            )
        }
        PartBody::Multi(multi) => multi
            .parts
            .iter()
            .map(|p| body_text(p, blobs))
            .collect::<anyhow::Result<Vec<_>>>()?
            .join(" | "),
    })
}

/// `mimi://x.example/d/alice/phone` → `alice/phone@x`.
fn short(device: &ClientUri) -> String {
    let domain = device.domain().as_str();
    let provider = domain.split('.').next().unwrap_or(domain);
    match device.user_segment() {
        Some(user) => format!("{user}/{}@{provider}", device.device_id()),
        None => format!("{}@{provider}", device.device_id()),
    }
}

fn check(outcome: UpdateOutcome, what: &str) -> anyhow::Result<()> {
    match outcome {
        UpdateOutcome::Success { .. } => Ok(()),
        other => bail!("the hub refused {what}: {other:?}"),
    }
}

pub(crate) fn run(args: &DemoArgs) -> anyhow::Result<()> {
    if !(0.0..=0.5).contains(&args.faults) {
        bail!("--faults must be between 0 and 0.5 (got {})", args.faults);
    }
    println!(
        "MIMI architecture demo: three providers, one hub, six devices, end-to-end encrypted."
    );
    println!(
        "Providers x.example and z.example are followers; y.example hosts the room (the hub)."
    );
    if args.faults > 0.0 {
        println!(
            "The hub's fan-out crosses a faulty network (p = {}, seed {}).",
            args.faults, args.seed
        );
    }
    let mut net = Network::new(args.seed, &["x.example", "y.example", "z.example"])?;
    net.set_faults(Faults::all(args.faults));
    let alice = net.add_device(&user("mimi://x.example/u/alice")?, "phone")?;
    let bob = net.add_device(&user("mimi://x.example/u/bob")?, "laptop")?;
    let charlie = net.add_device(&user("mimi://y.example/u/charlie")?, "phone")?;
    let charlie2 = net.add_device(&user("mimi://y.example/u/charlie")?, "laptop")?;
    let diana = net.add_device(&user("mimi://z.example/u/diana")?, "phone")?;
    let evelyn = net.add_device(&user("mimi://z.example/u/evelyn")?, "tablet")?;
    let everyone = [&alice, &bob, &charlie, &charlie2, &diana, &evelyn];

    println!(
        "\n1. Charlie creates mimi://y.example/r/clubhouse (cooperative policy) and adds everyone"
    );
    let room = net.create_room(
        &charlie,
        "mimi://y.example/r/clubhouse",
        Preset::Cooperative,
    )?;
    let mut demo = Demo {
        net,
        room: room.clone(),
        rng: StdRng::from_entropy(),
        sent: Vec::new(),
        blobs: BTreeMap::new(),
    };
    check(
        demo.net
            .add_devices(&charlie, &room, &user("mimi://y.example/u/charlie")?)?,
        "Charlie's laptop",
    )?;
    let others = [
        user("mimi://x.example/u/alice")?,
        user("mimi://x.example/u/bob")?,
        user("mimi://z.example/u/diana")?,
        user("mimi://z.example/u/evelyn")?,
    ];
    check(
        demo.net.add_users(&charlie, &room, &others)?,
        "adding users",
    )?;
    demo.settle()?;
    for device in everyone {
        let joined = demo.net.device(device).is_some_and(|d| d.is_member(&room));
        println!(
            "  {:<24} {}",
            short(device),
            if joined { "joined" } else { "NOT joined" }
        );
    }

    println!("\n2. A conversation (MIMI content in MLS PrivateMessages, ordered by the hub)");
    let hello = demo.send(
        &alice,
        "hello",
        ContentBuilder::new(NestedPart::markdown("Hi *everyone*!")),
    )?;
    demo.send(
        &diana,
        "reply",
        ContentBuilder::reply(hello, NestedPart::text("Hi Alice 👋")),
    )?;
    demo.send(&charlie2, "reaction", ContentBuilder::reaction(hello, "❤"))?;
    let typo = demo.send(
        &bob,
        "typo",
        ContentBuilder::new(NestedPart::text("Lunch at noon?")),
    )?;
    demo.send(
        &bob,
        "edit",
        ContentBuilder::edit(typo, NestedPart::text("Lunch at 12:30?")),
    )?;
    let oops = demo.send(
        &evelyn,
        "oops",
        ContentBuilder::new(NestedPart::text("wrong room, sorry")),
    )?;
    demo.send(&evelyn, "delete", ContentBuilder::delete(oops))?;
    demo.send(
        &charlie,
        "expiring",
        ContentBuilder::new(NestedPart::text("the door code is 4711")).expires_after_read(60),
    )?;
    let menu = b"Soup of the day: pumpkin";
    let sealed = seal_attachment(&mut demo.rng, menu, b"")?;
    let url = "https://y.example/blobs/menu-1".to_owned();
    demo.blobs.insert(url.clone(), sealed.ciphertext.clone());
    let part = sealed.external_part(url, "text/plain", "menu.txt", "today's menu");
    demo.send(
        &charlie,
        "attachment",
        ContentBuilder::new(NestedPart::attachment(part)),
    )?;
    demo.settle()?;

    println!("\n3. Evelyn leaves (SelfRemove proposals); Diana's next commit carries them out");
    check(demo.net.leave(&evelyn, &room)?, "Evelyn's leave")?;
    demo.settle()?;
    check(demo.net.self_update(&diana, &room)?, "Diana's commit")?;
    demo.settle()?;

    println!("\n4. Charlie removes Bob, then writes a message Bob must not read");
    check(
        demo.net
            .remove_users(&charlie, &room, &[user("mimi://x.example/u/bob")?])?,
        "removing Bob",
    )?;
    demo.settle()?;
    demo.send(
        &charlie,
        "after-bob",
        ContentBuilder::new(NestedPart::text("Bob has left the building")),
    )?;
    demo.settle()?;

    println!("\n5. Each device's decrypted view");
    let all: Vec<&str> = demo.sent.iter().map(|s| s.label).collect();
    let until = |last: &str| -> Vec<&str> {
        let end = all
            .iter()
            .position(|l| *l == last)
            .map_or(all.len(), |i| i + 1);
        all[..end].to_vec()
    };
    let mut expected: BTreeMap<&ClientUri, Vec<&str>> = BTreeMap::new();
    for device in [&alice, &charlie, &charlie2, &diana] {
        expected.insert(device, all.clone());
    }
    expected.insert(&bob, until("attachment"));
    expected.insert(&evelyn, until("attachment"));
    let mut failures = Vec::new();
    for device in everyone {
        let lines = demo.transcript(device)?;
        println!("  ── {} ({} messages)", short(device), lines.len());
        for line in &lines {
            println!("     {line}");
        }
        let seen: Vec<&str> = demo
            .net
            .device(device)
            .context("device")?
            .messages(&room)
            .iter()
            .map(|(sender, bytes)| {
                let id = mimi_content::message_id(
                    sender
                        .user_hint()
                        .map(|u| u.to_string())
                        .unwrap_or_default()
                        .as_bytes(),
                    room.to_string().as_bytes(),
                    bytes,
                );
                id.map_or("?", |id| demo.label_of(&id))
            })
            .collect();
        let want = expected.get(device).cloned().unwrap_or_default();
        if seen != want {
            failures.push(format!(
                "{}: saw {seen:?}, expected {want:?}",
                short(device)
            ));
        }
        let errors = demo
            .net
            .device(device)
            .map(|d| d.failures().len())
            .unwrap_or(0);
        if errors > 0 {
            failures.push(format!("{}: {errors} processing failures", short(device)));
        }
    }

    println!("\n6. What crossed the network (notify requests from the hub y.example)");
    let stats = demo.net.stats().clone();
    for (domain, requests) in &stats.notify_requests {
        let bytes = stats.notify_bytes.get(domain).copied().unwrap_or(0);
        let role = if domain == room.hub_domain() {
            "hub's own devices"
        } else {
            "follower"
        };
        println!("  to {domain:<10} {requests:>4} requests, {bytes:>7} bytes ({role})");
    }
    if stats.lost + stats.duplicates_ignored > 0 {
        println!(
            "  faults: {} transmissions lost and retried, {} repeats acknowledged and ignored",
            stats.lost, stats.duplicates_ignored
        );
    }

    if failures.is_empty() {
        println!("\nEvery device saw exactly what it should. ✔");
        Ok(())
    } else {
        for failure in &failures {
            eprintln!("MISMATCH {failure}");
        }
        bail!(
            "{} devices saw something else than they should",
            failures.len()
        )
    }
}
