//! The thread that owns the device: it keeps it in sync with its provider (over the provider's
//! WebSocket feed, as `mimi listen` does), runs the page's requests one at a time between two
//! syncs, and publishes what changed to the pages' live connections.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use mimi_content::MessageId;
use mimi_sdk::{ClientEvent, Device};
use mimi_types::{RoomUri, UserUri};
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc, oneshot};

use super::api::AppError;

/// How long one sync waits for the feed before the queued requests run (the most a request
/// waits for its turn).
const SYNC_WAIT_MS: u64 = 200;
/// How long a typing indicator shows without being renewed.
const TYPING_SHOWN: Duration = Duration::from_secs(8);

/// A boxed future that runs on the worker's thread (it need not be `Send`).
pub(crate) type LocalFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// What a request answers.
#[derive(Debug)]
pub(crate) enum Reply {
    /// A JSON body.
    Json(Value),
    /// A decrypted attachment (always sent as `application/octet-stream`).
    File { bytes: Vec<u8>, filename: String },
}

/// A request's answer.
pub(crate) type Answer = Result<Reply, AppError>;

type Job = Box<dyn for<'a> FnOnce(&'a mut Worker) -> LocalFuture<'a, Answer> + Send>;

/// The device and what the page shows besides its views (who is typing).
pub(crate) struct Worker {
    pub(crate) device: Device,
    typing: BTreeMap<RoomUri, BTreeMap<UserUri, Instant>>,
    /// Messages of others the page showed and marked read, per room: not unread any more,
    /// even before this device's read receipt comes back from the hub or when read receipts
    /// are off (kept while the app runs).
    pub(crate) seen: BTreeMap<RoomUri, BTreeSet<MessageId>>,
    live: broadcast::Sender<String>,
}

/// The way to the worker, shared by the web handlers.
#[derive(Clone)]
pub(crate) struct Handle {
    jobs: mpsc::UnboundedSender<(Job, oneshot::Sender<Answer>)>,
    live: broadcast::Sender<String>,
}

/// Who the app runs as.
pub(crate) struct Who {
    pub(crate) user: String,
    pub(crate) device: String,
}

impl Handle {
    /// Runs `job` on the device (after the sync in progress) and returns its answer.
    pub(crate) async fn run<F>(&self, job: F) -> Answer
    where
        F: for<'a> FnOnce(&'a mut Worker) -> LocalFuture<'a, Answer> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        if self.jobs.send((Box::new(job), reply)).is_err() {
            return Err(AppError::stopped());
        }
        answer.await.unwrap_or_else(|_| Err(AppError::stopped()))
    }

    /// A receiver of the live updates (JSON texts).
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<String> {
        self.live.subscribe()
    }
}

/// Opens the device in `file` on a thread of its own and starts syncing it.
pub(crate) async fn start(file: PathBuf) -> anyhow::Result<(Handle, Who)> {
    let (jobs, queue) = mpsc::unbounded_channel();
    let (live, _) = broadcast::channel(256);
    let (opened, is_open) = oneshot::channel();
    let publish = live.clone();
    std::thread::Builder::new()
        .name("mimi-app-device".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    let _ = opened.send(Err(anyhow::anyhow!(
                        "cannot start the device's runtime: {e}"
                    )));
                    return;
                }
            };
            runtime.block_on(async move {
                let device = match Device::open(&file).await {
                    Ok(d) => d,
                    Err(e) => {
                        let _ = opened.send(Err(anyhow::Error::new(e)
                            .context(format!("cannot open the device {}", file.display()))));
                        return;
                    }
                };
                let who = Who {
                    user: device.user().to_string(),
                    device: device.client_uri().to_string(),
                };
                let _ = opened.send(Ok(who));
                let mut worker = Worker {
                    device,
                    typing: BTreeMap::new(),
                    seen: BTreeMap::new(),
                    live: publish,
                };
                worker.run(queue).await;
                worker.device.close().await;
            });
        })
        .context("cannot start the device's thread")?;
    let who = is_open
        .await
        .context("the device's thread stopped before it opened the device")??;
    Ok((Handle { jobs, live }, who))
}

impl Worker {
    async fn run(&mut self, mut queue: mpsc::UnboundedReceiver<(Job, oneshot::Sender<Answer>)>) {
        if let Err(e) = self.device.resume().await {
            self.send(json!({"type": "offline", "error": e.to_string()}));
        }
        let mut failures: u32 = 0;
        loop {
            loop {
                match queue.try_recv() {
                    Ok((job, reply)) => {
                        let answer = job(self).await;
                        let _ = reply.send(answer);
                        self.publish();
                    }
                    Err(mpsc::error::TryRecvError::Empty) => break,
                    Err(mpsc::error::TryRecvError::Disconnected) => return,
                }
            }
            match self.device.sync(SYNC_WAIT_MS).await {
                Ok(_) => {
                    if failures > 0 {
                        self.send(json!({"type": "online"}));
                    }
                    failures = 0;
                }
                Err(e) => {
                    failures = failures.saturating_add(1);
                    if failures == 1 {
                        self.send(json!({"type": "offline", "error": e.to_string()}));
                    }
                    // Back off, but run the page's requests meanwhile.
                    let pause = Duration::from_millis(250 * u64::from(failures.min(20)));
                    if let Ok(Some((job, reply))) = tokio::time::timeout(pause, queue.recv()).await
                    {
                        let answer = job(self).await;
                        let _ = reply.send(answer);
                    }
                }
            }
            self.publish();
            self.expire_typing();
        }
    }

    fn send(&self, value: Value) {
        // No page listening is not an error.
        let _ = self.live.send(value.to_string());
    }

    /// Who types in `room` now.
    pub(crate) fn typing_in(&self, room: &RoomUri) -> Vec<String> {
        let now = Instant::now();
        self.typing
            .get(room)
            .map(|users| {
                users
                    .iter()
                    .filter(|(_, until)| **until > now)
                    .map(|(u, _)| u.to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn expire_typing(&mut self) {
        let now = Instant::now();
        let mut changed = Vec::new();
        for (room, users) in &mut self.typing {
            let before = users.len();
            users.retain(|_, until| *until > now);
            if users.len() != before {
                changed.push(room.clone());
            }
        }
        for room in changed {
            self.send(
                json!({"type": "typing", "room": room.to_string(), "users": self.typing_in(&room)}),
            );
        }
    }

    /// Sends the device's new events and notices to the pages.
    fn publish(&mut self) {
        for notice in self.device.take_notices() {
            self.send(json!({"type": "notice", "text": notice}));
        }
        for event in self.device.take_events() {
            let value = match event {
                ClientEvent::Joined { room } | ClientEvent::Removed { room } => {
                    json!({"type": "rooms", "room": room.to_string()})
                }
                ClientEvent::RoomChanged { room, .. } => {
                    json!({"type": "room", "room": room.to_string()})
                }
                ClientEvent::Timeline { room, message } => {
                    json!({"type": "timeline", "room": room.to_string(), "message": message.to_string()})
                }
                ClientEvent::StatusChanged { room, message } => {
                    json!({"type": "receipts", "room": room.to_string(), "message": message.to_string()})
                }
                ClientEvent::Typing(signal) => {
                    let users = self.typing.entry(signal.room.clone()).or_default();
                    if signal.active {
                        users.insert(signal.user.clone(), Instant::now() + TYPING_SHOWN);
                    } else {
                        users.remove(&signal.user);
                    }
                    json!({"type": "typing", "room": signal.room.to_string(), "users": self.typing_in(&signal.room)})
                }
                ClientEvent::Rejected { room, rejection } => {
                    json!({"type": "notice", "room": room.to_string(), "text": format!("not shown: {rejection}")})
                }
                ClientEvent::Refused { room, refusal, .. } => {
                    json!({"type": "notice", "room": room.to_string(), "text": format!("the hub refused a change of yours: {refusal}")})
                }
                ClientEvent::Queued { room, refusal, .. } => {
                    json!({"type": "notice", "room": room.to_string(), "text": format!("a message is queued and not sent yet ({refusal}); it is sent again once this device has caught up")})
                }
                ClientEvent::CommitFailed { room, error, .. } => {
                    json!({"type": "notice", "room": room.to_string(), "text": format!("this device fell behind in the room ({error}); it rejoins on its own")})
                }
                ClientEvent::Rejoined { room, .. } => {
                    json!({"type": "room", "room": room.to_string()})
                }
                ClientEvent::ProposalsPending { room } | ClientEvent::Resent { room, .. } => {
                    json!({"type": "room", "room": room.to_string()})
                }
                _ => json!({"type": "rooms"}),
            };
            self.send(value);
        }
    }
}
