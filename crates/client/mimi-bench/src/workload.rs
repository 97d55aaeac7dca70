//! The run: providers, devices, the room, the closed-loop senders and the counting receivers.

use std::collections::{BTreeMap, HashSet};
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};
use mimi_sdk::{Credentials, Device, Preset};
use mimi_server::{RunningServer, Server, init_dev_federation_at};
use mimi_types::{Domain, RoomUri};
use tokio::runtime::Runtime;

use crate::report::quantile_ms;
use crate::{BenchConfig, Report, proc_stats};

/// Receivers keep reading this long after the sending phase ended.
const DRAIN_GRACE: Duration = Duration::from_secs(10);

/// One in-process provider on its own runtime.
struct Node {
    base_url: String,
    runtime: Option<Runtime>,
    running: Option<RunningServer>,
}

impl Drop for Node {
    fn drop(&mut self) {
        if let (Some(runtime), Some(running)) = (self.runtime.take(), self.running.take()) {
            runtime.block_on(running.shutdown());
            runtime.shutdown_background();
        }
    }
}

fn free_addr() -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").context("binding a free port on 127.0.0.1")?;
    Ok(listener.local_addr()?)
}

fn start_federation(
    dir: &Path,
    threads: usize,
    hub_database_url: Option<&str>,
) -> anyhow::Result<Vec<Node>> {
    let domains = ["hub.example", "f1.example", "f2.example"];
    let mut placed = Vec::new();
    for d in domains {
        placed.push((Domain::parse(d)?, free_addr()?, free_addr()?));
    }
    let providers = init_dev_federation_at(dir, &placed).context("writing the dev federation")?;
    let mut nodes = Vec::new();
    for (i, mut provider) in providers.into_iter().enumerate() {
        let role = if i == 0 { "hub" } else { "follower" };
        if i == 0 {
            provider.config.database.url = hub_database_url.map(str::to_owned);
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads.max(1))
            .thread_name(format!("srv{i}-{role}"))
            .enable_all()
            .build()?;
        let running = runtime
            .block_on(Server::start(provider.config))
            .with_context(|| format!("starting provider {i}"))?;
        nodes.push(Node {
            base_url: format!("http://{}", running.client_addr()),
            runtime: Some(runtime),
            running: Some(running),
        });
    }
    Ok(nodes)
}

/// State shared by the device tasks.
struct Shared {
    base: Instant,
    messages: usize,
    senders: usize,
    /// Send start of message `s * messages + i`, ns after `base` (+1, so 0 = not sent).
    send_ns: Vec<AtomicU64>,
    /// Acknowledged messages per sender.
    sent_by: Vec<AtomicU64>,
    senders_done: AtomicUsize,
    joined: AtomicUsize,
    delivered: AtomicU64,
    /// Last delivery, ns after `base`.
    last_delivery_ns: AtomicU64,
    last_ack_ns: AtomicU64,
    first_send_ns: AtomicU64,
    stop_sending: AtomicBool,
    stop_all: AtomicBool,
}

impl Shared {
    fn now_ns(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

/// What one device saw.
#[derive(Default)]
struct Outcome {
    distinct: u64,
    duplicates: u64,
    expected: u64,
    delivery_ns: Vec<u64>,
    ack_ns: Vec<u64>,
    error: Option<String>,
}

/// `bench s<sender> m<index> ` then padding to `bytes`.
fn message_text(sender: usize, index: usize, bytes: usize) -> String {
    let mut text = format!("bench s{sender} m{index} ");
    while text.len() < bytes {
        text.push('x');
    }
    text
}

fn parse_tag(text: &str) -> Option<(usize, usize)> {
    let mut words = text.strip_prefix("bench s")?.splitn(2, " m");
    let sender = words.next()?.parse().ok()?;
    let index = words.next()?.split(' ').next()?.parse().ok()?;
    Some((sender, index))
}

/// Runs the load described by `config` and reports what happened.
pub fn run(config: &BenchConfig) -> anyhow::Result<Report> {
    if config.users < 2 || config.senders == 0 || config.senders > config.users {
        bail!(
            "need at least 2 users and 1 to {} senders (got {} users, {} senders)",
            config.users,
            config.users,
            config.senders
        );
    }
    let setup_start = Instant::now();
    let dir = tempfile::tempdir().context("creating a temporary directory")?;
    let nodes = match &config.servers {
        Some(_) => Vec::new(),
        None => start_federation(
            &dir.path().join("servers"),
            config.server_threads,
            config.hub_database_url.as_deref(),
        )?,
    };
    let urls: Vec<String> = match &config.servers {
        Some(urls) if urls.len() == 3 => urls.clone(),
        Some(urls) => bail!(
            "--servers needs three base URLs, hub first (got {})",
            urls.len()
        ),
        None => nodes.iter().map(|n| n.base_url.clone()).collect(),
    };
    let clients = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.client_threads.max(1))
        .thread_name("bench-clients")
        .enable_all()
        .build()?;
    let report = clients.block_on(drive(config, &urls, dir.path(), setup_start));
    clients.shutdown_timeout(Duration::from_secs(5));
    drop(nodes);
    report
}

async fn drive(
    config: &BenchConfig,
    urls: &[String],
    dir: &Path,
    setup_start: Instant,
) -> anyhow::Result<Report> {
    let run_id = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() % 1_000_000_000)
        .unwrap_or(0);
    let mut devices = Vec::new();
    for i in 0..config.users {
        let server = urls.get(i % urls.len()).context("no server")?;
        let user_id = format!("b{run_id}u{i}");
        let password = format!("{user_id}-password");
        Device::register_account(server, &user_id, &password)
            .await
            .with_context(|| format!("registering account {user_id}"))?;
        let device = Device::register_device(
            &dir.join("profiles").join(&user_id),
            &Credentials {
                server: server.clone(),
                user_id: user_id.clone(),
                password,
                device_id: "d".into(),
            },
        )
        .await
        .with_context(|| format!("registering a device of {user_id}"))?;
        devices.push(device);
    }
    let creator = devices.first_mut().context("no devices")?;
    let room = creator.room_uri(&format!("bench{run_id}"))?;
    creator
        .create_room(&room, Preset::Cooperative)
        .await
        .context("creating the room")?;
    let invitees: Vec<_> = devices.iter().skip(1).map(|d| d.user().clone()).collect();
    let creator = devices.first_mut().context("no devices")?;
    creator
        .invite(&room, &invitees)
        .await
        .context("inviting the members")?;

    let base = Instant::now();
    let shared = Arc::new(Shared {
        base,
        messages: config.messages,
        senders: config.senders,
        send_ns: (0..config.senders * config.messages)
            .map(|_| AtomicU64::new(0))
            .collect(),
        sent_by: (0..config.senders).map(|_| AtomicU64::new(0)).collect(),
        senders_done: AtomicUsize::new(0),
        joined: AtomicUsize::new(0),
        delivered: AtomicU64::new(0),
        last_delivery_ns: AtomicU64::new(0),
        last_ack_ns: AtomicU64::new(0),
        first_send_ns: AtomicU64::new(u64::MAX),
        stop_sending: AtomicBool::new(false),
        stop_all: AtomicBool::new(false),
    });
    let users = config.users;
    let mut tasks = Vec::new();
    for (i, device) in devices.into_iter().enumerate() {
        let shared = shared.clone();
        let room = room.clone();
        let bytes = config.message_bytes;
        tasks.push(tokio::spawn(async move {
            let mut outcome = Outcome::default();
            if let Err(e) = device_task(device, i, users, bytes, &room, &shared, &mut outcome).await
            {
                outcome.error = Some(format!("device {i}: {e:#}"));
            }
            outcome
        }));
    }

    // Setup ends when every device joined; a room that does not form in 120 s fails.
    let join_deadline = Instant::now() + Duration::from_secs(120);
    while shared.joined.load(Ordering::SeqCst) < users {
        if Instant::now() > join_deadline {
            shared.stop_all.store(true, Ordering::SeqCst);
            bail!(
                "only {} of {users} devices joined the room within 120 s",
                shared.joined.load(Ordering::SeqCst)
            );
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let setup_seconds = setup_start.elapsed().as_secs_f64();
    let hub_url = urls.first().context("no hub")?;
    let notify_before = notify_sends(hub_url).await;
    let cpu_before = proc_stats::cpu_by_group();
    let cpu_total_before = proc_stats::cpu_total().unwrap_or(0.0);
    let start = Instant::now();
    let send_deadline = start + Duration::from_secs(config.max_seconds);
    let hard_deadline = send_deadline + DRAIN_GRACE;
    let expected_total = |s: &Shared| -> u64 {
        s.sent_by
            .iter()
            .map(|a| a.load(Ordering::SeqCst))
            .sum::<u64>()
            * (users as u64 - 1)
    };
    let mut last_progress = Instant::now();
    while !tasks.iter().all(|t| t.is_finished()) {
        let now = Instant::now();
        if now > send_deadline {
            shared.stop_sending.store(true, Ordering::SeqCst);
        }
        if now > hard_deadline {
            shared.stop_all.store(true, Ordering::SeqCst);
        }
        if config.progress && now.duration_since(last_progress) >= Duration::from_secs(1) {
            last_progress = now;
            let sent: u64 = shared
                .sent_by
                .iter()
                .map(|a| a.load(Ordering::SeqCst))
                .sum();
            eprintln!(
                "[{:>5.1} s] sent {sent}/{}  delivered {}/{}",
                start.elapsed().as_secs_f64(),
                config.senders * config.messages,
                shared.delivered.load(Ordering::SeqCst),
                expected_total(&shared),
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let cpu_after = proc_stats::cpu_by_group();
    let cpu_total_after = proc_stats::cpu_total().unwrap_or(0.0);

    let mut report = Report {
        users,
        senders: config.senders,
        messages_per_sender: config.messages,
        setup_seconds,
        cut_short: shared.stop_sending.load(Ordering::SeqCst),
        ..Report::default()
    };
    let mut deliveries = Vec::new();
    let mut acks = Vec::new();
    for task in tasks {
        let outcome = task.await.context("a device task panicked")?;
        report.deliveries += outcome.distinct;
        report.duplicates += outcome.duplicates;
        report.missing += outcome.expected.saturating_sub(outcome.distinct);
        deliveries.extend(outcome.delivery_ns);
        acks.extend(outcome.ack_ns);
        if let Some(e) = outcome.error
            && report.errors.len() < 5
        {
            report.errors.push(e);
        }
    }
    report.sent = shared
        .sent_by
        .iter()
        .map(|a| a.load(Ordering::SeqCst))
        .sum();
    report.expected_deliveries = expected_total(&shared);
    let first = shared.first_send_ns.load(Ordering::SeqCst);
    let secs = |end: u64| end.saturating_sub(first) as f64 / 1e9;
    report.send_seconds = secs(shared.last_ack_ns.load(Ordering::SeqCst));
    report.delivery_seconds = secs(shared.last_delivery_ns.load(Ordering::SeqCst));
    deliveries.sort_unstable();
    acks.sort_unstable();
    report.ack_ms = [quantile_ms(&acks, 0.5), quantile_ms(&acks, 0.99)];
    report.delivery_ms = [
        quantile_ms(&deliveries, 0.5),
        quantile_ms(&deliveries, 0.95),
        quantile_ms(&deliveries, 0.99),
    ];
    let notify_after = notify_sends(hub_url).await;
    if report.sent > 0 {
        for (peer, after) in &notify_after {
            let before = notify_before.get(peer).copied().unwrap_or(0);
            report.notify_per_message.insert(
                peer.clone(),
                after.saturating_sub(before) as f64 / report.sent as f64,
            );
        }
    }
    report.rss_kib = proc_stats::rss_kib().unwrap_or(0);
    report.cpu_seconds = cpu_total_after - cpu_total_before;
    report.cpu_by_group = proc_stats::delta(&cpu_before, &cpu_after);
    Ok(report)
}

/// `mimi_notify_sends_total` per peer from the hub's `GET /metrics` (empty if unavailable).
async fn notify_sends(hub_url: &str) -> BTreeMap<String, u64> {
    let url = format!("{}/metrics", hub_url.trim_end_matches('/'));
    let text = match reqwest::get(&url).await {
        Ok(response) if response.status().is_success() => response.text().await.unwrap_or_default(),
        _ => String::new(),
    };
    parse_notify_sends(&text)
}

/// `mimi_notify_sends_total{peer="x"} 12` lines → `{x: 12}`.
fn parse_notify_sends(text: &str) -> BTreeMap<String, u64> {
    text.lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("mimi_notify_sends_total{peer=\"")?;
            let (peer, value) = rest.split_once("\"} ")?;
            Some((peer.to_owned(), value.trim().parse().ok()?))
        })
        .collect()
}

/// One member: join, then (if a sender) send closed loop, and count what others sent.
async fn device_task(
    mut device: Device,
    index: usize,
    users: usize,
    bytes: usize,
    room: &RoomUri,
    shared: &Shared,
    outcome: &mut Outcome,
) -> anyhow::Result<()> {
    while !device.engine().room(room).is_some_and(|v| v.is_active()) {
        if shared.stop_all.load(Ordering::SeqCst) {
            return Ok(());
        }
        device.sync(100).await.context("joining")?;
    }
    device.take_events();
    shared.joined.fetch_add(1, Ordering::SeqCst);
    while shared.joined.load(Ordering::SeqCst) < users {
        if shared.stop_all.load(Ordering::SeqCst) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut seen = HashSet::new();
    let mut scanned = 0usize;
    let is_sender = index < shared.senders;
    if is_sender {
        let result = send_all(
            &mut device,
            index,
            bytes,
            room,
            shared,
            outcome,
            &mut seen,
            &mut scanned,
        )
        .await;
        shared.senders_done.fetch_add(1, Ordering::SeqCst);
        result?;
    }
    loop {
        let done = shared.senders_done.load(Ordering::SeqCst) == shared.senders;
        if done {
            outcome.expected = shared
                .sent_by
                .iter()
                .enumerate()
                .filter(|(s, _)| *s != index)
                .map(|(_, a)| a.load(Ordering::SeqCst))
                .sum();
            if outcome.distinct >= outcome.expected {
                break;
            }
        }
        if shared.stop_all.load(Ordering::SeqCst) {
            break;
        }
        device.listen(200).await.context("reading the feed")?;
        count_new(
            &device,
            index,
            room,
            shared,
            outcome,
            &mut seen,
            &mut scanned,
        );
    }
    // The authoritative count: every message in the timeline, once.
    recount(&device, index, room, outcome);
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn send_all(
    device: &mut Device,
    index: usize,
    bytes: usize,
    room: &RoomUri,
    shared: &Shared,
    outcome: &mut Outcome,
    seen: &mut HashSet<(usize, usize)>,
    scanned: &mut usize,
) -> anyhow::Result<()> {
    for i in 0..shared.messages {
        if shared.stop_sending.load(Ordering::SeqCst) {
            break;
        }
        let text = message_text(index, i, bytes);
        let t0 = shared.now_ns();
        shared.first_send_ns.fetch_min(t0, Ordering::SeqCst);
        if let Some(slot) = shared.send_ns.get(index * shared.messages + i) {
            slot.store(t0 + 1, Ordering::SeqCst);
        }
        device.send_text(room, &text).await.context("sending")?;
        let t1 = shared.now_ns();
        outcome.ack_ns.push(t1.saturating_sub(t0));
        shared
            .sent_by
            .get(index)
            .map(|a| a.fetch_add(1, Ordering::SeqCst));
        shared.last_ack_ns.fetch_max(t1, Ordering::SeqCst);
        if shared.senders > 1 {
            // Read what the other senders sent meanwhile (a short wait on the feed).
            device.listen(1).await.context("reading the feed")?;
            count_new(device, index, room, shared, outcome, seen, scanned);
        }
    }
    Ok(())
}

/// Counts the messages of other senders that appeared in the timeline since the last scan
/// and records their delivery latency.
fn count_new(
    device: &Device,
    index: usize,
    room: &RoomUri,
    shared: &Shared,
    outcome: &mut Outcome,
    seen: &mut HashSet<(usize, usize)>,
    scanned: &mut usize,
) {
    let Some(view) = device.engine().room(room) else {
        return;
    };
    let messages = view.messages();
    let now = shared.now_ns();
    for message in messages.iter().skip(*scanned) {
        let Some((s, i)) = parse_tag(&message.body.text) else {
            continue;
        };
        if s == index || !seen.insert((s, i)) {
            continue;
        }
        outcome.distinct += 1;
        shared.delivered.fetch_add(1, Ordering::SeqCst);
        shared.last_delivery_ns.fetch_max(now, Ordering::SeqCst);
        let sent = shared
            .send_ns
            .get(s * shared.messages + i)
            .map_or(0, |a| a.load(Ordering::SeqCst));
        if sent > 0 {
            outcome.delivery_ns.push(now.saturating_sub(sent - 1));
        }
    }
    *scanned = messages.len();
}

/// Counts distinct and repeated messages of other senders in the final timeline.
fn recount(device: &Device, index: usize, room: &RoomUri, outcome: &mut Outcome) {
    let Some(view) = device.engine().room(room) else {
        return;
    };
    let mut seen = HashSet::new();
    let mut duplicates = 0;
    for message in view.messages() {
        if let Some((s, i)) = parse_tag(&message.body.text)
            && s != index
            && !seen.insert((s, i))
        {
            duplicates += 1;
        }
    }
    outcome.distinct = seen.len() as u64;
    outcome.duplicates = duplicates;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_tags_round_trip_and_pad_to_size() {
        let text = message_text(3, 41, 1024);
        assert_eq!(text.len(), 1024);
        assert_eq!(parse_tag(&text), Some((3, 41)));
        assert_eq!(parse_tag("hello"), None);
    }

    #[test]
    fn notify_counters_are_read_per_peer() {
        let text = "# TYPE mimi_notify_sends_total counter\n\
                    mimi_notify_sends_total{peer=\"f1.example\"} 12\n\
                    mimi_notify_acks_total{peer=\"f1.example\"} 11\n";
        let parsed = parse_notify_sends(text);
        assert_eq!(parsed.get("f1.example"), Some(&12));
        assert_eq!(parsed.len(), 1);
    }
}
