//! "A message after that is not readable by Bob", shown on the real bytes: the ciphertext of
//! the last message as x.example stored it for Alice's device, whether x.example stored it
//! for Bob's device too, and Bob's own MLS state refusing to decrypt it.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};
use mimi_ds::DsStore as _;
use mimi_federation_api::decode_exact;
use mimi_federation_api::mls::ContentType;
use mimi_federation_api::notify::{FanoutContent, FanoutMessage};
use mimi_mls::ClientGroup;
use mimi_server::config::DatabaseTarget;
use mimi_store::SqliteStore;

use super::federation::Federation;
use super::script::{ALICE, BOB, Demo};

/// What the check found.
#[derive(Debug)]
pub(crate) struct BobProof {
    /// Bob's MLS epoch (his group is inactive from it on).
    pub(crate) bob_epoch: u64,
    /// The epoch of the message.
    pub(crate) message_epoch: u64,
    /// Its size in bytes (MLS PrivateMessage).
    pub(crate) ciphertext_bytes: usize,
    /// Whether x.example put it into Bob's device feed as well.
    pub(crate) in_bobs_feed: bool,
    /// Why Bob's MLS state refused it.
    pub(crate) refusal: String,
}

/// Application messages of the room in a device's stored feed at `x`, oldest first.
async fn stored_messages(
    store: &SqliteStore,
    demo: &Demo,
    device: usize,
) -> anyhow::Result<Vec<Vec<u8>>> {
    let client = demo
        .devices
        .get(device)
        .context("no such device")?
        .client_uri()
        .clone();
    let events = store
        .device_events(&client, 0, 100_000)
        .await
        .with_context(|| format!("reading the stored feed of {client}"))?;
    let mut out = Vec::new();
    for event in events.iter().filter(|e| e.room == demo.room) {
        let fanout: FanoutMessage = decode_exact(&event.payload)
            .with_context(|| format!("event {} of {client} does not decode", event.seq))?;
        if let FanoutContent::Application { message, .. } = &fanout.content {
            out.push(message.as_bytes().to_vec());
        }
    }
    Ok(out)
}

/// Takes the last message of the room from x.example's store (Alice's feed), and has a copy
/// of Bob's MLS group try to decrypt it. Fails unless Bob's state refuses it.
pub(crate) async fn bob_cannot_read(
    demo: &Demo,
    federation: &Federation,
) -> anyhow::Result<BobProof> {
    let bob = demo.devices.get(BOB).context("no Bob")?;
    let x = federation.provider(bob.domain())?;
    let DatabaseTarget::Sqlite(dir) = x.config.database_target()? else {
        bail!(
            "the demo reads {}'s SQLite store, and it has none",
            x.domain
        );
    };
    let store = SqliteStore::open_in(dir)
        .await
        .with_context(|| format!("opening the store of {}", x.domain))?;
    let alices = stored_messages(&store, demo, ALICE).await?;
    let bobs = stored_messages(&store, demo, BOB).await?;
    store.close().await;

    let last = alices
        .last()
        .context("x.example stored no message of the room for Alice")?;
    let message = mimi_federation_api::mls::MlsMessage::from_bytes(last.clone())
        .context("the stored message is not an MLS message")?;
    if message.content_type() != Some(ContentType::Application) {
        bail!("the last stored message is not an application message");
    }
    let message_epoch = message.epoch().context("the message has no epoch")?;
    let group = bob
        .engine()
        .group(&demo.room)
        .context("Bob's device has no MLS state for the room")?;
    let bob_epoch = group.epoch();
    if group.is_active() {
        bail!("Bob's MLS group is still active after his removal");
    }
    let record = group.to_record().context("copying Bob's MLS state")?;
    let mut copy = ClientGroup::from_record(&record, federation.mls_trust()?)
        .context("restoring the copy of Bob's MLS state")?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let refusal = match copy.process(last, now) {
        Ok(_) => bail!(
            "Bob's MLS state decrypted the message sent after his removal (epoch {message_epoch})"
        ),
        Err(e) => e.to_string(),
    };
    Ok(BobProof {
        bob_epoch,
        message_epoch,
        ciphertext_bytes: last.len(),
        in_bobs_feed: bobs.contains(last),
        refusal,
    })
}
