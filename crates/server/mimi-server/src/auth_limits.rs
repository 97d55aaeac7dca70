//! Rate limits on registration and login (device registration), the two unauthenticated
//! requests that cost a password hash: per account (the user id named) and per source address,
//! each a token bucket of `n` requests refilled evenly over a minute
//! (`limits.auth_attempts_per_account`, `limits.auth_attempts_per_source`; 0: no limit). A
//! request over either limit is refused with 429 and `Retry-After` before any hash runs, so a
//! burst of wrong passwords for one account, or of registrations from one address, costs
//! nothing but the refusal. Every attempt counts, successful or not.
//!
//! Pure: the caller passes `now`.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// The minute a bucket refills over.
const REFILL: Duration = Duration::from_secs(60);

/// Buckets kept before full ones are pruned.
const PRUNE_AT: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// One token bucket per key.
#[derive(Debug)]
struct Buckets<K> {
    per_minute: u32,
    buckets: BTreeMap<K, Bucket>,
}

impl<K: Ord + Clone> Buckets<K> {
    fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            buckets: BTreeMap::new(),
        }
    }

    fn capacity(&self) -> f64 {
        f64::from(self.per_minute)
    }

    /// The tokens `key` has at `now`.
    fn level(&self, key: &K, now: Instant) -> f64 {
        let capacity = self.capacity();
        self.buckets.get(key).map_or(capacity, |b| {
            let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
            (b.tokens + elapsed * capacity / REFILL.as_secs_f64()).min(capacity)
        })
    }

    /// `Ok` if `key` may make a request at `now`, else how long until it may.
    fn check(&self, key: &K, now: Instant) -> Result<(), Duration> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let level = self.level(key, now);
        if level >= 1.0 {
            return Ok(());
        }
        let per_second = self.capacity() / REFILL.as_secs_f64();
        Err(Duration::from_secs_f64((1.0 - level) / per_second))
    }

    /// Spends one token of `key` (after a successful [`Buckets::check`]).
    fn take(&mut self, key: &K, now: Instant) {
        if self.per_minute == 0 {
            return;
        }
        if self.buckets.len() >= PRUNE_AT {
            let capacity = self.capacity();
            let levels: Vec<(K, f64)> = self
                .buckets
                .keys()
                .map(|k| (k.clone(), self.level(k, now)))
                .collect();
            for (k, level) in levels {
                if level >= capacity {
                    self.buckets.remove(&k);
                }
            }
        }
        let tokens = self.level(key, now) - 1.0;
        self.buckets.insert(key.clone(), Bucket { tokens, at: now });
    }
}

/// Which limit refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Limited {
    /// Too many attempts for the account.
    Account(Duration),
    /// Too many attempts from the source address.
    Source(Duration),
}

impl Limited {
    /// The metric label.
    pub(crate) fn kind(self) -> &'static str {
        match self {
            Self::Account(_) => "account",
            Self::Source(_) => "source",
        }
    }

    /// When to retry.
    pub(crate) fn retry_after(self) -> Duration {
        match self {
            Self::Account(d) | Self::Source(d) => d,
        }
    }
}

/// The limits of one provider process.
#[derive(Debug)]
pub(crate) struct AuthLimits {
    accounts: Buckets<String>,
    sources: Buckets<IpAddr>,
}

impl AuthLimits {
    /// `per_account` and `per_source` attempts per minute (0: no limit).
    pub(crate) fn new(per_account: u32, per_source: u32) -> Self {
        Self {
            accounts: Buckets::new(per_account),
            sources: Buckets::new(per_source),
        }
    }

    /// Counts an attempt for `account` from `source` at `now`, or says which limit refuses it
    /// (nothing is counted then).
    pub(crate) fn attempt(
        &mut self,
        account: &str,
        source: IpAddr,
        now: Instant,
    ) -> Result<(), Limited> {
        self.sources.check(&source, now).map_err(Limited::Source)?;
        let account = account.to_owned();
        self.accounts
            .check(&account, now)
            .map_err(Limited::Account)?;
        self.sources.take(&source, now);
        self.accounts.take(&account, now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, last])
    }

    #[test]
    fn an_account_gets_its_burst_then_waits_for_the_refill() {
        let mut limits = AuthLimits::new(3, 0);
        let t = Instant::now();
        for _ in 0..3 {
            assert_eq!(limits.attempt("mimi://x/u/alice", ip(1), t), Ok(()));
        }
        let refused = limits.attempt("mimi://x/u/alice", ip(2), t).unwrap_err();
        assert_eq!(refused.kind(), "account", "another address does not help");
        let wait = refused.retry_after().as_secs_f64();
        assert!((19.9..=20.1).contains(&wait), "one token per 20 s: {wait}");
        assert_eq!(
            limits.attempt("mimi://x/u/bob", ip(1), t),
            Ok(()),
            "others are not limited"
        );
        assert!(
            limits
                .attempt("mimi://x/u/alice", ip(1), t + Duration::from_secs(19))
                .is_err()
        );
        assert_eq!(
            limits.attempt("mimi://x/u/alice", ip(1), t + Duration::from_secs(21)),
            Ok(())
        );
    }

    #[test]
    fn a_source_is_limited_across_accounts_and_refusals_count_nothing() {
        let mut limits = AuthLimits::new(2, 3);
        let t = Instant::now();
        for n in 0..3 {
            assert_eq!(limits.attempt(&format!("user{n}"), ip(1), t), Ok(()));
        }
        let refused = limits.attempt("user9", ip(1), t).unwrap_err();
        assert_eq!(refused.kind(), "source");
        assert_eq!(limits.attempt("user9", ip(2), t), Ok(()), "another address");
        assert_eq!(
            limits.attempt("user9", ip(3), t),
            Ok(()),
            "user9's refusal was not counted"
        );
        assert_eq!(
            limits.attempt("user9", ip(4), t).unwrap_err().kind(),
            "account"
        );
        assert_eq!(
            limits.attempt("user8", ip(4), t),
            Ok(()),
            "the account refusal did not spend ip(4)'s token"
        );
    }

    #[test]
    fn zero_means_no_limit() {
        let mut limits = AuthLimits::new(0, 0);
        let t = Instant::now();
        for _ in 0..1000 {
            assert_eq!(limits.attempt("a", ip(1), t), Ok(()));
        }
    }
}
