//! How many identifier queries each requester may make: per peer provider (at the target) and
//! per local user (at the user's own provider, before anything is relayed).

use std::collections::BTreeMap;

use mimi_types::{Domain, UserUri};

/// Who asks.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Requester {
    /// A peer provider (authenticated by mutual TLS).
    Peer(Domain),
    /// One of our own users (authenticated by its device's token).
    User(UserUri),
}

/// Fixed windows: at most `per_peer` queries per peer and `per_user` per user in each window.
#[derive(Debug, Clone)]
pub struct QueryLimiter {
    window_ms: u64,
    per_peer: u32,
    per_user: u32,
    counts: BTreeMap<Requester, (u64, u32)>,
}

impl QueryLimiter {
    /// Requesters remembered before those of past windows are pruned.
    const PRUNE_AT: usize = 100_000;

    /// `per_peer` and `per_user` queries per `window_ms` (0: none at all).
    pub fn new(per_peer: u32, per_user: u32, window_ms: u64) -> Self {
        Self {
            window_ms: window_ms.max(1),
            per_peer,
            per_user,
            counts: BTreeMap::new(),
        }
    }

    /// Counts one query by `requester` at `now_ms`, or says in how many ms its window reopens
    /// (nothing is counted then).
    pub fn take(&mut self, requester: &Requester, now_ms: u64) -> Result<(), u64> {
        let window = now_ms / self.window_ms;
        let max = match requester {
            Requester::Peer(_) => self.per_peer,
            Requester::User(_) => self.per_user,
        };
        if self.counts.len() >= Self::PRUNE_AT {
            self.counts.retain(|_, (w, _)| *w == window);
        }
        let entry = self.counts.entry(requester.clone()).or_insert((window, 0));
        if entry.0 != window {
            *entry = (window, 0);
        }
        if entry.1 >= max {
            return Err(((window + 1) * self.window_ms)
                .saturating_sub(now_ms)
                .max(1));
        }
        entry.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_requester_has_its_own_window() {
        let peer = Requester::Peer(Domain::parse("y.example").unwrap());
        let user = Requester::User(UserUri::parse("mimi://x.example/u/alice").unwrap());
        let other = Requester::User(UserUri::parse("mimi://x.example/u/bob").unwrap());
        let mut limiter = QueryLimiter::new(3, 2, 60_000);
        for _ in 0..3 {
            limiter.take(&peer, 1_000).unwrap();
        }
        assert_eq!(limiter.take(&peer, 1_000), Err(59_000));
        limiter.take(&user, 1_000).unwrap();
        limiter.take(&user, 1_000).unwrap();
        assert!(limiter.take(&user, 2_000).is_err());
        limiter.take(&other, 2_000).unwrap();
        limiter.take(&user, 60_000).unwrap();
    }
}
