//! Setup: the three in-process providers, the K registered devices and the room of all of
//! them (one create, one invite of the K − 1 others, each device joining from its Welcome).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use mimi_sdk::{Credentials, Device, Preset};
use mimi_server::local::{LocalFederation, LocalOptions, LocalProvider};
use mimi_types::{Domain, RoomUri};

use crate::{BENCH_PASSWORD_HASH, pin};

/// Registrations in flight at once (each costs the provider a password hash).
const REGISTER_CONCURRENCY: usize = 8;

/// How many times a federation is started on newly chosen ports when one of the chosen ports
/// was taken before its server bound it.
const START_ATTEMPTS: u32 = 3;

/// Starts a hub and two followers, each on its own runtime of `threads` workers named
/// `srv<i>-<role>`; with `pin`, their threads (and the SQLite threads they start) run on
/// [`pin::SERVER_CPU`]. The hub uses `hub_database_url` if given (the followers always SQLite
/// files). Unless `production_hashing`, passwords are hashed at [`BENCH_PASSWORD_HASH`].
pub(crate) fn start_federation(
    dir: &Path,
    threads: usize,
    pin: bool,
    hub_database_url: Option<&str>,
    production_hashing: bool,
) -> anyhow::Result<Vec<LocalProvider>> {
    let domains = ["hub.example", "f1.example", "f2.example"]
        .into_iter()
        .map(Domain::parse)
        .collect::<Result<Vec<_>, _>>()?;
    let mut options = LocalOptions::new(domains)
        .start_attempts(START_ATTEMPTS)
        .workers(threads)
        .thread_name(|i, _| {
            let role = if i == 0 { "hub" } else { "follower" };
            format!("srv{i}-{role}")
        })
        // Every benchmark user registers from this one address, many per minute.
        .limits(move |limits| {
            limits.auth_attempts_per_source = 0;
            if !production_hashing {
                (
                    limits.password_hash_memory_kib,
                    limits.password_hash_iterations,
                ) = BENCH_PASSWORD_HASH;
            }
        })
        .progress(|event| {
            if let mimi_server::LocalEvent::Retrying { error } = event {
                eprintln!("{error}; starting again on other ports");
            }
        });
    if let Some(url) = hub_database_url {
        options = options.database_url(0, url);
    }
    if pin {
        options = options.on_thread_start(|| {
            if let Err(e) = pin::pin_current_thread(pin::SERVER_CPU) {
                eprintln!("{e}");
            }
        });
        // Pools opened while starting are opened on this thread: their threads inherit this.
        pin::pin_current_thread(pin::SERVER_CPU)?;
    }
    let started = LocalFederation::start(dir, &options).context("starting the providers");
    if pin {
        pin::pin_current_thread(pin::CLIENT_CPU)?;
    }
    Ok(started?.into_providers())
}

/// Prints `what i/n` on stderr about every 10 % (and at the end) when `progress` is on.
pub(crate) struct Progress {
    what: &'static str,
    total: usize,
    shown: usize,
    on: bool,
    start: Instant,
}

impl Progress {
    pub(crate) fn new(what: &'static str, total: usize, on: bool) -> Self {
        Self {
            what,
            total,
            shown: 0,
            on,
            start: Instant::now(),
        }
    }

    pub(crate) fn update(&mut self, done: usize) {
        let step = (self.total / 10).max(1);
        if self.on && (done >= self.shown + step || (done == self.total && done > self.shown)) {
            self.shown = done;
            eprintln!(
                "[setup {:>5.1} s] {} {done}/{}",
                self.start.elapsed().as_secs_f64(),
                self.what,
                self.total
            );
        }
    }
}

async fn register_one(dir: &Path, server: &str, user_id: &str) -> anyhow::Result<Device> {
    let password = format!("{user_id}-password");
    Device::register_account(server, user_id, &password)
        .await
        .with_context(|| format!("registering account {user_id}"))?;
    let mut device = Device::register_device(
        &dir.join("profiles").join(user_id),
        &Credentials {
            server: server.to_owned(),
            user_id: user_id.to_owned(),
            password,
            device_id: "d".into(),
            server_cert: None,
        },
    )
    .await
    .with_context(|| format!("registering a device of {user_id}"))?;
    // The load is the workload's messages: automatic delivery reports (one message per room
    // per synced page per device) would add fan-out of their own and be counted as deliveries
    // on the raw feeds, so the generated devices do not send them.
    device
        .set_delivery_reports(false)
        .await
        .with_context(|| format!("turning off delivery reports of {user_id}"))?;
    Ok(device)
}

/// Registers `users` accounts with one device each, round-robin over `urls`, a few at a time.
pub(crate) async fn register(
    users: usize,
    urls: &[String],
    dir: &Path,
    run_id: u128,
    progress: bool,
) -> anyhow::Result<Vec<Device>> {
    let mut bar = Progress::new("registered", users, progress);
    let mut devices = Vec::with_capacity(users);
    let mut next = 0;
    while next < users {
        let mut batch = Vec::new();
        for i in next..(next + REGISTER_CONCURRENCY).min(users) {
            let server = urls.get(i % urls.len()).context("no server")?.clone();
            let dir = dir.to_owned();
            let user_id = format!("b{run_id}u{i}");
            batch.push(tokio::spawn(async move {
                register_one(&dir, &server, &user_id).await
            }));
        }
        next += batch.len();
        for task in batch {
            devices.push(task.await.context("a registration task panicked")??);
        }
        bar.update(devices.len());
    }
    Ok(devices)
}

/// Creates the room on the hub (user 0) and invites everyone else in one commit.
pub(crate) async fn build_room(devices: &mut [Device], run_id: u128) -> anyhow::Result<RoomUri> {
    let invitees: Vec<_> = devices.iter().skip(1).map(|d| d.user().clone()).collect();
    let creator = devices.first_mut().context("no devices")?;
    let room = creator.room_uri(&format!("bench{run_id}"))?;
    creator
        .create_room(&room, Preset::Cooperative)
        .await
        .context("creating the room")?;
    creator
        .invite(&room, &invitees)
        .await
        .context("inviting the members")?;
    Ok(room)
}

/// Fails unless `joined()` reaches `users` within `limit`, printing progress; fails at once
/// when a device gave up (`failed()` above 0): the room cannot form then.
pub(crate) async fn wait_for_joins(
    users: usize,
    joined: impl Fn() -> usize,
    failed: impl Fn() -> usize,
    limit: Duration,
    progress: bool,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + limit;
    let mut bar = Progress::new("joined the room", users, progress);
    loop {
        let n = joined();
        bar.update(n);
        if n >= users {
            return Ok(());
        }
        let gave_up = failed();
        if gave_up > 0 {
            bail!("{gave_up} device(s) gave up joining the room ({n} of {users} joined)");
        }
        if Instant::now() > deadline {
            bail!(
                "only {n} of {users} devices joined the room within {} s",
                limit.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The devices that did not join and what each was doing (the first 20), for the error of a
/// room that did not form.
pub(crate) fn not_joined(states: &[String]) -> String {
    let waiting: Vec<String> = states
        .iter()
        .enumerate()
        .filter(|(_, s)| s.as_str() != "joined")
        .map(|(i, s)| format!("device {i} (provider {}): {s}", i % 3))
        .collect();
    let mut text = format!("{} device(s) not joined", waiting.len());
    for line in waiting.iter().take(20) {
        text.push_str("\n  ");
        text.push_str(line);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_device_that_gave_up_fails_the_wait_at_once() {
        let start = Instant::now();
        let err = wait_for_joins(3, || 1, || 1, Duration::from_secs(60), false)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("1 device(s) gave up"), "{err}");
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "it did not wait for the limit"
        );
        let err = wait_for_joins(3, || 2, || 0, Duration::from_millis(50), false)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("only 2 of 3"), "{err}");
        wait_for_joins(3, || 3, || 0, Duration::from_millis(50), false)
            .await
            .unwrap();
    }

    #[test]
    fn the_devices_not_joined_are_listed_with_their_state() {
        let states = vec![
            "joined".to_owned(),
            "waiting: cursor 4".to_owned(),
            "joined".to_owned(),
            "gave up: x".to_owned(),
        ];
        let text = not_joined(&states);
        assert!(text.starts_with("2 device(s) not joined"), "{text}");
        assert!(
            text.contains("device 1 (provider 1): waiting: cursor 4"),
            "{text}"
        );
        assert!(text.contains("device 3 (provider 0): gave up: x"), "{text}");
        assert!(!text.contains("device 0"), "{text}");
    }
}
