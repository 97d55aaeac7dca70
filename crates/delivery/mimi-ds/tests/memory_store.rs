//! The in-memory store passes the DsStore conformance suite.

#![allow(clippy::panic)]

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use mimi_ds::{MemoryStore, conformance};

/// Runs a future whose every await completes at once (the memory store never waits).
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..1_000_000 {
        if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return value;
        }
    }
    panic!("the memory store's futures never finished");
}

#[test]
fn memory_store_conforms() {
    block_on(conformance::run_all(|| async { MemoryStore::new() }));
}
