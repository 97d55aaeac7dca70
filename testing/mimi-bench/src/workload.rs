//! The run: setup, the senders (closed or open loop), the counting receivers, the report.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};
use mimi_sdk::Device;
use mimi_types::RoomUri;

use crate::count::{RawFeed, Tally, Timeline, message_text, recount};
use crate::report::quantile_ms;
use crate::{BenchConfig, Report, pin, proc_stats, setup};

/// Receivers keep reading this long after the sending phase ended.
const DRAIN_GRACE: Duration = Duration::from_secs(10);

/// How long the room may take to form (every device joined from its Welcome).
const JOIN_LIMIT: Duration = Duration::from_secs(600);

/// Failed syncs in a row after which a joining device gives up (a client would retry a
/// failed sync; a device that keeps failing is reported rather than waited for).
const JOIN_SYNC_ATTEMPTS: u32 = 5;

/// State shared by the device tasks.
pub(crate) struct Shared {
    base: Instant,
    pub(crate) messages: usize,
    senders: usize,
    users: usize,
    skip_decryption: bool,
    /// The senders run on a runtime of their own (`BenchConfig::sender_runtime`).
    sender_runtime: bool,
    /// Open loop: nanoseconds between two sends of one sender.
    interval_ns: Option<u64>,
    /// Send start (scheduled start in open loop) of message `s * messages + i`, ns after
    /// `base` (+1, so 0 = not sent).
    pub(crate) send_ns: Vec<AtomicU64>,
    /// Acknowledged messages per sender.
    sent_by: Vec<AtomicU64>,
    senders_done: AtomicUsize,
    joined: AtomicUsize,
    /// Per device while the room forms: whether it joined, its cursor and whether its feed
    /// streams, or why it gave up; read when the room does not form in time.
    join_state: std::sync::Mutex<Vec<String>>,
    /// Devices that gave up joining.
    join_failed: AtomicUsize,
    /// Failed syncs retried while joining.
    join_sync_retries: AtomicU64,
    pub(crate) delivered: AtomicU64,
    /// Last delivery, ns after `base`.
    pub(crate) last_delivery_ns: AtomicU64,
    last_ack_ns: AtomicU64,
    first_send_ns: AtomicU64,
    /// Open loop: the most a send started after its scheduled time, and at the last send.
    max_behind_ns: AtomicU64,
    end_behind_ns: AtomicU64,
    stop_sending: AtomicBool,
    stop_all: AtomicBool,
}

impl Shared {
    pub(crate) fn now_ns(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn sent_total(&self) -> u64 {
        self.sent_by.iter().map(|a| a.load(Ordering::SeqCst)).sum()
    }

    /// Deliveries expected so far: to every other member, or (raw feeds) to every member.
    fn expected_total(&self) -> u64 {
        let receivers = if self.skip_decryption {
            self.users
        } else {
            self.users - 1
        };
        self.sent_total() * receivers as u64
    }
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
    if let Some(rate) = config.rate
        && !(rate.is_finite() && rate > 0.0)
    {
        bail!("--rate must be a positive number of messages per second per sender (got {rate})");
    }
    let _restore = if config.pin_cpus {
        Some(pin::check()?)
    } else {
        None
    };
    let setup_start = Instant::now();
    let dir = tempfile::tempdir().context("creating a temporary directory")?;
    let nodes = match &config.servers {
        Some(_) => Vec::new(),
        None => setup::start_federation(
            &dir.path().join("servers"),
            config.server_threads,
            config.pin_cpus,
            config.hub_database_url.as_deref(),
            config.production_password_hashing,
        )?,
    };
    let urls: Vec<String> = match &config.servers {
        Some(urls) if urls.len() == 3 => urls.clone(),
        Some(urls) => bail!(
            "--servers needs three base URLs, hub first (got {})",
            urls.len()
        ),
        None => nodes.iter().map(|n| n.base_url()).collect(),
    };
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder
        .worker_threads(config.client_threads.max(1))
        .thread_name("bench-clients")
        .enable_all();
    if config.pin_cpus {
        builder.on_thread_start(|| {
            if let Err(e) = pin::pin_current_thread(pin::CLIENT_CPU) {
                eprintln!("{e}");
            }
        });
    }
    let clients = builder.build()?;
    let senders = if config.sender_runtime {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder
            .worker_threads(1)
            .thread_name("bench-senders")
            .enable_all();
        if config.pin_cpus {
            builder.on_thread_start(|| {
                if let Err(e) = pin::pin_current_thread(pin::CLIENT_CPU) {
                    eprintln!("{e}");
                }
            });
        }
        Some(builder.build()?)
    } else {
        None
    };
    let sender_handle = senders.as_ref().map(|r| r.handle().clone());
    // Before any device: what follows is the devices' (and what serving them adds).
    let rss_start_kib = proc_stats::rss_kib().unwrap_or(0);
    let report = clients
        .block_on(drive(config, &urls, dir.path(), setup_start, sender_handle))
        .map(|mut report| {
            report.rss_start_kib = rss_start_kib;
            report.malloc_mmap_threshold = std::env::var("MALLOC_MMAP_THRESHOLD_").ok();
            report.password_hash = match (&config.servers, config.production_password_hashing) {
                (Some(_), _) => "the running providers' own".to_owned(),
                (None, true) => {
                    let limits = mimi_server::config::Limits::default();
                    format!(
                        "production ({} KiB, {} passes)",
                        limits.password_hash_memory_kib, limits.password_hash_iterations
                    )
                }
                (None, false) => format!(
                    "bench ({} KiB, {} pass)",
                    crate::BENCH_PASSWORD_HASH.0,
                    crate::BENCH_PASSWORD_HASH.1
                ),
            };
            report
        });
    clients.shutdown_timeout(Duration::from_secs(5));
    if let Some(senders) = senders {
        senders.shutdown_timeout(Duration::from_secs(5));
    }
    drop(nodes);
    report
}

async fn drive(
    config: &BenchConfig,
    urls: &[String],
    dir: &Path,
    setup_start: Instant,
    sender_runtime: Option<tokio::runtime::Handle>,
) -> anyhow::Result<Report> {
    let run_id = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() % 1_000_000_000)
        .unwrap_or(0);
    let providers_started = setup_start.elapsed().as_secs_f64();
    let mut devices = setup::register(config.users, urls, dir, run_id, config.progress).await?;
    let registered = setup_start.elapsed().as_secs_f64();
    let room = setup::build_room(&mut devices, run_id).await?;
    let invited = setup_start.elapsed().as_secs_f64();

    let base = Instant::now();
    let shared = Arc::new(Shared {
        base,
        messages: config.messages,
        senders: config.senders,
        users: config.users,
        skip_decryption: config.skip_decryption,
        sender_runtime: sender_runtime.is_some(),
        interval_ns: config.rate.map(|r| (1e9 / r) as u64),
        send_ns: (0..config.senders * config.messages)
            .map(|_| AtomicU64::new(0))
            .collect(),
        sent_by: (0..config.senders).map(|_| AtomicU64::new(0)).collect(),
        senders_done: AtomicUsize::new(0),
        joined: AtomicUsize::new(0),
        join_state: std::sync::Mutex::new(vec!["not started".to_owned(); config.users]),
        join_failed: AtomicUsize::new(0),
        join_sync_retries: AtomicU64::new(0),
        delivered: AtomicU64::new(0),
        last_delivery_ns: AtomicU64::new(0),
        last_ack_ns: AtomicU64::new(0),
        first_send_ns: AtomicU64::new(u64::MAX),
        max_behind_ns: AtomicU64::new(0),
        end_behind_ns: AtomicU64::new(0),
        stop_sending: AtomicBool::new(false),
        stop_all: AtomicBool::new(false),
    });
    let users = config.users;
    let mut tasks = Vec::new();
    for (i, device) in devices.into_iter().enumerate() {
        let shared = shared.clone();
        let room = room.clone();
        let bytes = config.message_bytes;
        let task = async move {
            let mut tally = Tally::default();
            if let Err(e) = device_task(device, i, bytes, &room, &shared, &mut tally).await {
                tally.error = Some(format!("device {i}: {e:#}"));
            }
            tally
        };
        tasks.push(match &sender_runtime {
            Some(handle) if i < config.senders => handle.spawn(task),
            _ => tokio::spawn(task),
        });
    }

    // Setup ends when every device joined.
    let joined = setup::wait_for_joins(
        users,
        || shared.joined.load(Ordering::SeqCst),
        || shared.join_failed.load(Ordering::SeqCst),
        JOIN_LIMIT,
        config.progress,
    )
    .await;
    if let Err(e) = joined {
        shared.stop_all.store(true, Ordering::SeqCst);
        let state = shared
            .join_state
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default();
        return Err(e.context(setup::not_joined(&state)));
    }
    let setup_seconds = setup_start.elapsed().as_secs_f64();
    let hub_url = urls.first().context("no hub")?;
    let notify_before = notify_counters(hub_url).await;
    let cpu_before = proc_stats::cpu_by_group();
    let cpu_total_before = proc_stats::cpu_total().unwrap_or(0.0);
    let start = Instant::now();
    let send_deadline = start + Duration::from_secs(config.max_seconds);
    let hard_deadline = send_deadline + DRAIN_GRACE;
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
            eprintln!(
                "[{:>5.1} s] sent {}/{}  delivered {}/{}{}",
                start.elapsed().as_secs_f64(),
                shared.sent_total(),
                config.senders * config.messages,
                shared.delivered.load(Ordering::SeqCst),
                shared.expected_total(),
                match shared.interval_ns {
                    Some(_) => format!(
                        "  behind schedule {:.0} ms",
                        shared.end_behind_ns.load(Ordering::SeqCst) as f64 / 1e6
                    ),
                    None => String::new(),
                }
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
        setup_phases: [
            providers_started,
            registered - providers_started,
            invited - registered,
            setup_seconds - invited,
        ],
        cut_short: shared.stop_sending.load(Ordering::SeqCst),
        skip_decryption: config.skip_decryption,
        rate: config.rate,
        pinned: config.pin_cpus,
        sender_runtime: config.sender_runtime,
        join_sync_retries: shared.join_sync_retries.load(Ordering::SeqCst),
        ..Report::default()
    };
    let mut deliveries = Vec::new();
    let mut acks = Vec::new();
    for task in tasks {
        let tally = task.await.context("a device task panicked")?;
        report.deliveries += tally.distinct;
        report.duplicates += tally.duplicates;
        report.missing += tally.expected.saturating_sub(tally.distinct);
        deliveries.extend(tally.delivery_ns);
        acks.extend(tally.ack_ns);
        if let Some(e) = tally.error
            && report.errors.len() < 5
        {
            report.errors.push(e);
        }
    }
    report.sent = shared.sent_total();
    report.expected_deliveries = shared.expected_total();
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
    report.behind_ms = [
        shared.max_behind_ns.load(Ordering::SeqCst) as f64 / 1e6,
        shared.end_behind_ns.load(Ordering::SeqCst) as f64 / 1e6,
    ];
    let notify_after = notify_counters(hub_url).await;
    if report.sent > 0 {
        let per_message = |name: &str| -> BTreeMap<String, f64> {
            let before = notify_before.get(name);
            notify_after
                .get(name)
                .into_iter()
                .flatten()
                .map(|(peer, after)| {
                    let b = before.and_then(|m| m.get(peer)).copied().unwrap_or(0);
                    (
                        peer.clone(),
                        after.saturating_sub(b) as f64 / report.sent as f64,
                    )
                })
                .collect()
        };
        report.notify_per_message = per_message("mimi_notify_sends_total");
        report.notify_bytes_per_message = per_message("mimi_notify_bytes_total");
    }
    report.rss_kib = proc_stats::rss_kib().unwrap_or(0);
    report.cpu_seconds = cpu_total_after - cpu_total_before;
    report.cpu_by_group = proc_stats::delta(&cpu_before, &cpu_after);
    Ok(report)
}

/// The hub's per-peer notify counters from its `GET /metrics` (empty if unavailable):
/// metric name → peer → value.
async fn notify_counters(hub_url: &str) -> BTreeMap<String, BTreeMap<String, u64>> {
    let url = format!("{}/metrics", hub_url.trim_end_matches('/'));
    let text = match reqwest::get(&url).await {
        Ok(response) if response.status().is_success() => response.text().await.unwrap_or_default(),
        _ => String::new(),
    };
    parse_peer_counters(&text)
}

/// `mimi_notify_sends_total{peer="x"} 12` lines → `{mimi_notify_sends_total: {x: 12}}`.
fn parse_peer_counters(text: &str) -> BTreeMap<String, BTreeMap<String, u64>> {
    let mut out: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for line in text.lines() {
        let Some((name, rest)) = line.split_once("{peer=\"") else {
            continue;
        };
        let Some((peer, value)) = rest.split_once("\"} ") else {
            continue;
        };
        if let Ok(value) = value.trim().parse() {
            out.entry(name.to_owned())
                .or_default()
                .insert(peer.to_owned(), value);
        }
    }
    out
}

/// One member: join, then (if a sender) send, and count what arrives.
async fn device_task(
    mut device: Device,
    index: usize,
    bytes: usize,
    room: &RoomUri,
    shared: &Shared,
    tally: &mut Tally,
) -> anyhow::Result<()> {
    match join(&mut device, index, room, shared).await {
        Ok(true) => {}
        // Stopped before the room was active: not joined, nothing to count.
        Ok(false) => return Ok(()),
        Err(e) => {
            shared.join_failed.fetch_add(1, Ordering::SeqCst);
            set_join_state(shared, index, format!("gave up: {e:#}"));
            return Err(e);
        }
    }
    device.take_events();
    if index < shared.senders && shared.sender_runtime {
        // On a runtime of its own, the sender is opened again from its file there, as its
        // own process would: its HTTP connections and feed are then driven by that runtime,
        // not by the receivers' (reqwest drives a connection where it was made).
        let path = device.path().to_owned();
        device.close().await;
        device = Device::open(&path)
            .await
            .context("opening the sender again on its own runtime")?;
    }
    set_join_state(shared, index, "joined".to_owned());
    shared.joined.fetch_add(1, Ordering::SeqCst);
    while shared.joined.load(Ordering::SeqCst) < shared.users {
        if shared.stop_all.load(Ordering::SeqCst) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut feed = Feed {
        timeline: Timeline::default(),
        raw: shared.skip_decryption.then(|| RawFeed::new(&device)),
    };
    if index < shared.senders {
        let result = send_all(&mut device, index, bytes, room, shared, tally, &mut feed).await;
        shared.senders_done.fetch_add(1, Ordering::SeqCst);
        result?;
    }
    loop {
        if shared.senders_done.load(Ordering::SeqCst) == shared.senders {
            tally.expected = shared
                .sent_by
                .iter()
                .enumerate()
                .filter(|(s, _)| shared.skip_decryption || *s != index)
                .map(|(_, a)| a.load(Ordering::SeqCst))
                .sum();
            if tally.distinct >= tally.expected {
                break;
            }
        }
        if shared.stop_all.load(Ordering::SeqCst) {
            break;
        }
        feed.read(&mut device, index, 200, room, shared, tally)
            .await?;
    }
    if feed.raw.is_none() {
        // The authoritative count: every message in the timeline, once.
        recount(&device, index, room, tally);
    }
    Ok(())
}

/// Syncs until `room` is active on `device` (true) or the run stops (false), retrying a failed
/// sync a few times (as a client would), keeping its state in `shared.join_state`.
async fn join(
    device: &mut Device,
    index: usize,
    room: &RoomUri,
    shared: &Shared,
) -> anyhow::Result<bool> {
    let mut failures = 0;
    while !device.engine().room(room).is_some_and(|v| v.is_active()) {
        if shared.stop_all.load(Ordering::SeqCst) {
            return Ok(false);
        }
        let state = match device.sync(100).await {
            Ok(n) => {
                failures = 0;
                format!("{n} events at the last sync")
            }
            Err(e) => {
                failures += 1;
                if failures >= JOIN_SYNC_ATTEMPTS {
                    return Err(anyhow::Error::new(e)
                        .context(format!("joining: {failures} failed syncs in a row")));
                }
                shared.join_sync_retries.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(200)).await;
                format!("sync failed ({failures} in a row): {e}")
            }
        };
        let rooms = device.engine().rooms().count();
        set_join_state(
            shared,
            index,
            format!(
                "waiting: cursor {}, {} room(s) known, feed {}, {state}",
                device.cursor(),
                rooms,
                if device.is_streaming() {
                    "streaming"
                } else {
                    "long-polled"
                }
            ),
        );
    }
    Ok(true)
}

fn set_join_state(shared: &Shared, index: usize, state: String) {
    if let Ok(mut states) = shared.join_state.lock()
        && let Some(slot) = states.get_mut(index)
    {
        *slot = state;
    }
}

/// Where a device counts deliveries.
struct Feed {
    timeline: Timeline,
    /// `Some` with `--skip-decryption`.
    raw: Option<RawFeed>,
}

impl Feed {
    async fn read(
        &mut self,
        device: &mut Device,
        index: usize,
        wait_ms: u64,
        room: &RoomUri,
        shared: &Shared,
        tally: &mut Tally,
    ) -> anyhow::Result<()> {
        match &mut self.raw {
            Some(raw) => {
                raw.read(device, wait_ms, shared, tally).await?;
            }
            None => {
                device.listen(wait_ms).await.context("reading the feed")?;
                self.timeline.count_new(device, index, room, shared, tally);
            }
        }
        Ok(())
    }
}

async fn send_all(
    device: &mut Device,
    index: usize,
    bytes: usize,
    room: &RoomUri,
    shared: &Shared,
    tally: &mut Tally,
    feed: &mut Feed,
) -> anyhow::Result<()> {
    let begin = shared.now_ns();
    for i in 0..shared.messages {
        if shared.stop_sending.load(Ordering::SeqCst) {
            break;
        }
        let text = message_text(index, i, bytes);
        let mut t0 = shared.now_ns();
        if let Some(interval) = shared.interval_ns {
            let scheduled = begin.saturating_add(interval.saturating_mul(i as u64));
            if scheduled > t0 {
                tokio::time::sleep(Duration::from_nanos(scheduled - t0)).await;
            } else {
                let behind = t0 - scheduled;
                shared.max_behind_ns.fetch_max(behind, Ordering::SeqCst);
            }
            shared
                .end_behind_ns
                .store(shared.now_ns().saturating_sub(scheduled), Ordering::SeqCst);
            // Latencies count from the scheduled start (no coordinated omission).
            t0 = scheduled;
        }
        shared.first_send_ns.fetch_min(t0, Ordering::SeqCst);
        if let Some(slot) = shared.send_ns.get(index * shared.messages + i) {
            slot.store(t0 + 1, Ordering::SeqCst);
        }
        device.send_text(room, &text).await.context("sending")?;
        let t1 = shared.now_ns();
        tally.ack_ns.push(t1.saturating_sub(t0));
        shared
            .sent_by
            .get(index)
            .map(|a| a.fetch_add(1, Ordering::SeqCst));
        shared.last_ack_ns.fetch_max(t1, Ordering::SeqCst);
        if shared.senders > 1 || feed.raw.is_some() {
            // Read what arrived meanwhile (a short wait on the feed).
            let wait = if feed.raw.is_some() { 0 } else { 1 };
            feed.read(device, index, wait, room, shared, tally).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notify_counters_are_read_per_metric_and_peer() {
        let text = "# TYPE mimi_notify_sends_total counter\n\
                    mimi_notify_sends_total{peer=\"f1.example\"} 12\n\
                    mimi_notify_bytes_total{peer=\"f1.example\"} 4096\n\
                    mimi_notify_acks_total{peer=\"f1.example\"} 11\n\
                    mimi_http_requests_total{route=\"/x\",status=\"200\"} 3\n";
        let parsed = parse_peer_counters(text);
        assert_eq!(parsed["mimi_notify_sends_total"]["f1.example"], 12);
        assert_eq!(parsed["mimi_notify_bytes_total"]["f1.example"], 4096);
        assert_eq!(parsed.len(), 3);
    }
}
