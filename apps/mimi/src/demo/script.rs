//! The story: six SDK devices on three providers share one room hosted by y.example; every
//! step is narrated (one line, which provider did what) and the expected view of every device
//! is updated in the [`Model`]; after each step the devices read their feeds until each shows
//! exactly what the model says (or the step fails).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use mimi_content::MessageId;
use mimi_sdk::{Credentials, Device, FileInfo, Preset};
use mimi_types::{RoomUri, UserUri};

use super::federation::{DOMAINS, Federation};
use super::model::{DeviceView, Model, actual};

/// How long one step may take to reach every device before the demo gives up on it.
const SETTLE_LIMIT: Duration = Duration::from_secs(30);

/// The devices of the figure: (user, device id, provider index in [`DOMAINS`]).
pub(crate) const CAST: [(&str, &str, usize); 6] = [
    ("alice", "phone", 0),
    ("bob", "laptop", 0),
    ("charlie", "phone", 1),
    ("charlie", "laptop", 1),
    ("diana", "phone", 2),
    ("evelyn", "tablet", 2),
];
pub(crate) const ALICE: usize = 0;
pub(crate) const BOB: usize = 1;
pub(crate) const CHARLIE: usize = 2;
pub(crate) const CHARLIE_LAPTOP: usize = 3;
pub(crate) const DIANA: usize = 4;
pub(crate) const EVELYN: usize = 5;

/// The room's name at its hub.
pub(crate) const ROOM: &str = "mimi://y.example/r/clubhouse";

/// The file Charlie shares as an encrypted attachment.
const MENU: &[u8] = b"Soup of the day: pumpkin. Main: risotto. Dessert: apple crumble.\n";

/// The text Charlie writes after removing Bob: every remaining device reads it, Bob's cannot.
pub(crate) const AFTER_BOB: &str = "Bob has left the building";

/// The password of a demo user (printed by `--keep-running` to log the CLI in).
pub(crate) fn password(user: &str) -> String {
    format!("{user}-demo-password")
}

/// `alice/phone@x.example`.
pub(crate) fn device_name(device: usize) -> String {
    CAST.get(device).map_or_else(
        || format!("device {device}"),
        |(user, id, p)| format!("{user}/{id}@{}", DOMAINS.get(*p).unwrap_or(&"?")),
    )
}

/// The demo in progress.
pub(crate) struct Demo {
    /// The devices, in [`CAST`] order.
    pub(crate) devices: Vec<Device>,
    /// The room.
    pub(crate) room: RoomUri,
    /// What each device should show.
    pub(crate) model: Model,
    /// The script's label of each message it sent.
    pub(crate) labels: BTreeMap<MessageId, String>,
    /// The labels in the order sent.
    pub(crate) order: Vec<String>,
    /// Attachments each device downloaded and opened: (device, label) → what it shows.
    pub(crate) opened: BTreeMap<(usize, String), String>,
    pub(super) step: usize,
}

impl Demo {
    /// Registers the five accounts and six devices on their providers.
    pub(crate) async fn register(federation: &Federation, profiles: &Path) -> anyhow::Result<Self> {
        let mut devices = Vec::new();
        let mut accounts = Vec::new();
        for (user, device_id, p) in CAST {
            let provider = federation
                .providers()
                .get(p)
                .context("a provider of the cast did not start")?;
            let server = provider.base_url();
            if !accounts.contains(&user) {
                Device::register_account(&server, user, &password(user))
                    .await
                    .with_context(|| format!("registering {user} at {}", provider.domain))?;
                accounts.push(user);
            }
            let device = Device::register_device(
                profiles,
                &Credentials {
                    server,
                    user_id: user.to_owned(),
                    password: password(user),
                    device_id: device_id.to_owned(),
                    server_cert: None,
                },
            )
            .await
            .with_context(|| format!("registering the device {user}/{device_id}"))?;
            devices.push(device);
        }
        Ok(Self {
            devices,
            room: RoomUri::parse(ROOM)?,
            model: Model::new(&CAST.map(|(user, _, _)| user)),
            labels: BTreeMap::new(),
            order: Vec::new(),
            opened: BTreeMap::new(),
            step: 0,
        })
    }

    /// The device `index`.
    pub(crate) fn device(&mut self, index: usize) -> anyhow::Result<&mut Device> {
        self.devices
            .get_mut(index)
            .with_context(|| format!("no device {index}"))
    }

    pub(super) fn user(&self, index: usize) -> anyhow::Result<UserUri> {
        Ok(self
            .devices
            .get(index)
            .with_context(|| format!("no device {index}"))?
            .user()
            .clone())
    }

    /// One line of the narrated log: which provider did what.
    pub(super) fn narrate(&mut self, provider: &str, actor: usize, what: &str) {
        self.step += 1;
        let actor = CAST
            .get(actor)
            .map_or_else(String::new, |(u, d, _)| format!("{u}/{d}"));
        println!("  {:>2}. [{provider}] {actor:<15} {what}", self.step);
    }

    /// A message's way: `→ hub y → x, y, z` (the providers of the members now).
    pub(super) fn route(&self) -> String {
        let mut to: Vec<&str> = self
            .model
            .members()
            .filter_map(|d| CAST.get(d))
            .filter_map(|(_, _, p)| DOMAINS.get(*p))
            .map(|d| d.split('.').next().unwrap_or(d))
            .collect();
        to.dedup();
        format!("→ hub y → {}", to.join(", "))
    }

    pub(super) fn provider_of(actor: usize) -> &'static str {
        CAST.get(actor)
            .and_then(|(_, _, p)| DOMAINS.get(*p))
            .copied()
            .unwrap_or("?")
    }

    /// What every device shows now.
    pub(crate) fn views(&self) -> Vec<DeviceView> {
        self.devices
            .iter()
            .enumerate()
            .map(|(i, d)| {
                actual(d, &self.room, &self.labels, &|label: &str| {
                    self.opened.get(&(i, label.to_owned())).cloned()
                })
            })
            .collect()
    }

    /// Devices whose view differs from the model, with the first difference.
    pub(crate) fn differences(&self) -> Vec<(usize, String)> {
        self.views()
            .iter()
            .zip(&self.model.views)
            .enumerate()
            .filter_map(|(i, (shown, expected))| shown.difference(expected).map(|d| (i, d)))
            .collect()
    }

    /// Reads every device's feed until `done` holds; fails after [`SETTLE_LIMIT`].
    pub(crate) async fn settle_until(
        &mut self,
        what: &str,
        done: impl Fn(&Self) -> bool,
    ) -> anyhow::Result<()> {
        let deadline = Instant::now() + SETTLE_LIMIT;
        let mut wait = 0;
        loop {
            for (i, device) in self.devices.iter_mut().enumerate() {
                device
                    .sync(wait)
                    .await
                    .with_context(|| format!("{} reading its feed", device_name(i)))?;
            }
            if done(self) {
                return Ok(());
            }
            if Instant::now() > deadline {
                let differences: Vec<String> = self
                    .differences()
                    .into_iter()
                    .map(|(i, d)| format!("{}: {d}", device_name(i)))
                    .collect();
                bail!(
                    "{what} did not reach every device within {} s:\n  {}",
                    SETTLE_LIMIT.as_secs(),
                    differences.join("\n  ")
                );
            }
            wait = 25;
        }
    }

    /// Whether every member device is at the same MLS epoch (no commit still travelling).
    fn one_epoch(&self) -> bool {
        let mut epochs = self
            .devices
            .iter()
            .filter_map(|d| d.engine().room(&self.room))
            .filter(|v| v.is_active())
            .map(|v| v.epoch());
        let first = epochs.next();
        epochs.all(|e| Some(e) == first)
    }

    /// Reads every device's feed until each shows what the model says, at one epoch.
    pub(crate) async fn settle(&mut self) -> anyhow::Result<()> {
        let what = format!("step {}", self.step);
        self.settle_until(&what, |demo| {
            demo.one_epoch() && demo.differences().is_empty()
        })
        .await
    }

    /// The whole story up to the final checks.
    pub(crate) async fn play(&mut self) -> anyhow::Result<()> {
        let room = self.room.clone();
        let creator = self.device(CHARLIE)?;
        creator
            .create_room(&room, Preset::Cooperative)
            .await
            .context("Charlie creating the room")?;
        self.model.join(&[CHARLIE]);
        self.narrate(
            "y.example",
            CHARLIE,
            &format!("creates {ROOM} (cooperative policy): y.example is its hub"),
        );
        self.settle().await?;

        self.device(CHARLIE_LAPTOP)?
            .join_external(&room)
            .await
            .context("Charlie's laptop joining by external commit")?;
        self.model.join(&[CHARLIE_LAPTOP]);
        self.narrate(
            "y.example",
            CHARLIE_LAPTOP,
            "(Charlie's second device) joins by external commit with the hub's GroupInfo",
        );
        self.settle().await?;

        let invitees = [ALICE, BOB, DIANA, EVELYN]
            .iter()
            .map(|d| self.user(*d))
            .collect::<anyhow::Result<Vec<_>>>()?;
        self.device(CHARLIE)?
            .invite(&room, &invitees)
            .await
            .context("Charlie adding Alice, Bob, Diana and Evelyn")?;
        self.model.join(&[ALICE, BOB, DIANA, EVELYN]);
        self.narrate(
            "y.example",
            CHARLIE,
            "adds alice@x, bob@x, diana@z, evelyn@z: KeyPackages claimed at x, z; one \
             commit; Welcomes to x, z",
        );
        self.settle().await?;

        self.say(ALICE, "hello", "Hi *everyone*!", true).await?;
        self.reply(
            DIANA,
            "reply",
            "hello",
            "Hi Alice, welcome to the clubhouse",
        )
        .await?;
        self.react(CHARLIE_LAPTOP, "reaction", "hello", "❤").await?;
        self.say(BOB, "lunch", "Lunch at noon?", false).await?;
        self.edit(BOB, "edit", "lunch", "Lunch at 12:30?").await?;
        self.say(EVELYN, "oops", "wrong room, sorry", false).await?;
        self.delete(EVELYN, "delete", "oops").await?;
        self.say_expiring(DIANA, "door code", "Door code is 4711", 3600)
            .await?;
        self.attach(
            CHARLIE,
            "menu",
            MENU,
            &FileInfo {
                filename: "menu.txt".into(),
                content_type: "text/plain".into(),
                description: "today's lunch menu".into(),
            },
        )
        .await?;

        self.device(EVELYN)?
            .leave(&room)
            .await
            .context("Evelyn leaving")?;
        self.model.leave(&[EVELYN]);
        self.narrate(
            "z.example",
            EVELYN,
            "leaves: a SelfRemove proposal → hub y → x, y, z; a member's device commits it",
        );
        self.settle().await?;

        self.say(
            ALICE,
            "bye-evelyn",
            "Evelyn left; Bob, are you still here?",
            false,
        )
        .await?;

        let bob = self.user(BOB)?;
        self.device(CHARLIE)?
            .remove(&room, &[bob])
            .await
            .context("Charlie removing Bob")?;
        self.model.leave(&[BOB]);
        self.narrate(
            "y.example",
            CHARLIE,
            "removes bob@x: a commit to a new epoch whose secrets Bob's device never gets",
        );
        self.settle().await?;

        self.say(CHARLIE, "after-bob", AFTER_BOB, false).await?;
        Ok(())
    }
}
