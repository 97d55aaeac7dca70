//! The conformance suite every [`DsStore`] backend runs.
//!
//! Each check is an `async fn` over a fresh, empty store; [`run_all`] runs them in turn with a
//! store from the backend's factory. A backend's test drives it with its own runtime:
//!
//! ```ignore
//! #[tokio::test]
//! async fn sqlite_conforms() {
//!     mimi_ds::conformance::run_all(|| async { SqliteStore::open_temp().await.unwrap() }).await;
//! }
//! ```
//!
//! The checks panic with a message naming the broken property: they are test code.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use mimi_types::{ClientUri, Domain, RoomUri, UserUri};

use super::{
    ConsentWrite, DsStore, FeedItem, LogEntry, NewDeviceEvent, NewOutbound, NewPeerRequest,
    PeerRequestKind, ProfileSaved, RoomHead, StoreError,
};
use crate::discovery::{Handle, Profile, ProfileSearch, Searchable, SearchableField};
use crate::follower::{Claim, KeyPackageEntry};

mod consent;
mod feed;
mod key_packages;
mod profiles;
mod rooms;

pub use consent::*;
pub use feed::*;
pub use key_packages::*;
pub use profiles::*;
pub use rooms::*;

fn room(name: &str) -> RoomUri {
    RoomUri::parse(&format!("mimi://hub.example/r/{name}")).unwrap()
}

fn domain(name: &str) -> Domain {
    Domain::parse(name).unwrap()
}

fn device(name: &str) -> ClientUri {
    ClientUri::parse(&format!("mimi://z.example/d/diana/{name}")).unwrap()
}

/// Runs every check, each on a new store from `make`.
pub async fn run_all<S, F, Fut>(make: F)
where
    S: DsStore,
    F: Fn() -> Fut,
    Fut: Future<Output = S>,
{
    room_versions_guard_concurrent_writers(&make().await).await;
    room_save_and_fanout_are_one_transaction(&make().await).await;
    room_log_appends_leave_the_state_alone(&make().await).await;
    refused_room_writes_change_nothing(&make().await).await;
    outbound_is_ordered_per_destination(&make().await).await;
    refused_outbound_is_set_aside_not_dropped(&make().await).await;
    inbox_events_get_per_device_cursors(&make().await).await;
    feed_follows_membership_intervals(&make().await).await;
    feed_leave_then_rejoin_skips_the_gap(&make().await).await;
    feed_device_items_reach_only_their_device(&make().await).await;
    feed_orders_rooms_by_acceptance_and_refused_writes_change_nothing(&make().await).await;
    key_packages_are_claimed_once_under_concurrency(&make().await).await;
    last_resort_key_package_is_kept(&make().await).await;
    profiles_keep_handles_unique(&make().await).await;
    profile_search_follows_its_definition(&make().await).await;
    consent_books_and_their_requests_are_one_transaction(&make().await).await;
    peer_requests_are_ordered_per_destination(&make().await).await;
    removed_key_packages_are_gone(&make().await).await;
}

/// Polls every future until all are done (concurrently at their await points).
async fn join_all<F: Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    struct JoinAll<F: Future> {
        futures: Vec<Pin<Box<F>>>,
        outputs: Vec<Option<F::Output>>,
    }
    impl<F: Future> Unpin for JoinAll<F> {}
    impl<F: Future> Future for JoinAll<F> {
        type Output = Vec<F::Output>;
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            // JoinAll is Unpin: the futures are boxed and outputs are never pinned.
            let this = self.get_mut();
            for (future, output) in this.futures.iter_mut().zip(this.outputs.iter_mut()) {
                if output.is_none()
                    && let Poll::Ready(value) = future.as_mut().poll(cx)
                {
                    *output = Some(value);
                }
            }
            if this.outputs.iter().all(Option::is_some) {
                Poll::Ready(this.outputs.iter_mut().filter_map(Option::take).collect())
            } else {
                Poll::Pending
            }
        }
    }
    let futures: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let outputs = futures.iter().map(|_| None).collect();
    JoinAll { futures, outputs }.await
}
