//! One device's KeyPackages and how they are claimed (digest §3.2).
//!
//! A KeyPackage returned once is never returned again, and an expired one never at all. Reading
//! of the drafts' conflict on last-resort KeyPackages (mls-extensions component 0x0004 vs MIMI's
//! no-reuse MUST): a last-resort KeyPackage is handed out only when no fresh one is left, and it
//! stays in the pool, because its whole purpose is to keep a device reachable when its fresh
//! ones run out. Each claim says which kind it was, so a provider that reads the MUST strictly
//! can refuse last-resort claims.

use std::collections::BTreeMap;

use mimi_types::{Domain, UserUri};

/// A KeyPackage as the pool keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPackageEntry {
    /// The bare `KeyPackage` encoding (RFC 9420 §10), as `keyMaterial` returns it.
    pub key_package: Vec<u8>,
    /// Its KeyPackageRef, which a later Welcome names.
    pub reference: Vec<u8>,
    /// Whether it is a last-resort KeyPackage.
    pub last_resort: bool,
    /// The leaf's `lifetime.not_after`, seconds since the UNIX epoch.
    pub not_after: u64,
}

impl KeyPackageEntry {
    fn expired(&self, now_ms: u64) -> bool {
        self.not_after.saturating_mul(1000) <= now_ms
    }
}

/// The outcome of a claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// A fresh KeyPackage, now removed from the pool.
    Fresh(KeyPackageEntry),
    /// The last-resort KeyPackage, which stays in the pool.
    LastResort(KeyPackageEntry),
    /// Nothing usable is left.
    Exhausted,
}

/// One device's KeyPackages, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyPackagePool {
    entries: Vec<KeyPackageEntry>,
}

impl KeyPackagePool {
    /// An empty pool.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an uploaded KeyPackage; one already present (same reference) is ignored. Returns
    /// whether it was added.
    pub fn add(&mut self, entry: KeyPackageEntry) -> bool {
        if self.entries.iter().any(|e| e.reference == entry.reference) {
            return false;
        }
        self.entries.push(entry);
        true
    }

    /// Claims a KeyPackage at `now_ms`: the oldest unexpired fresh one (removed), else an
    /// unexpired last-resort one (kept). Expired entries are dropped on the way.
    pub fn claim(&mut self, now_ms: u64) -> Claim {
        self.entries.retain(|e| !e.expired(now_ms));
        if let Some(at) = self.entries.iter().position(|e| !e.last_resort) {
            return Claim::Fresh(self.entries.remove(at));
        }
        match self.entries.iter().rev().find(|e| e.last_resort) {
            Some(entry) => Claim::LastResort(entry.clone()),
            None => Claim::Exhausted,
        }
    }

    /// Unexpired fresh KeyPackages left: a client tops up below a threshold.
    pub fn fresh_count(&self, now_ms: u64) -> usize {
        self.entries
            .iter()
            .filter(|e| !e.last_resort && !e.expired(now_ms))
            .count()
    }

    /// Whether an unexpired last-resort KeyPackage is present.
    pub fn has_last_resort(&self, now_ms: u64) -> bool {
        self.entries
            .iter()
            .any(|e| e.last_resort && !e.expired(now_ms))
    }

    /// Every entry, oldest first (for persistence).
    pub fn entries(&self) -> &[KeyPackageEntry] {
        &self.entries
    }
}

/// Limits how many KeyPackages each requesting provider may claim per window, so one peer
/// cannot drain a user's devices, and (with [`RequesterLimiter::with_pair_limit`]) how many
/// claims one requesting user may make for one target user, so one account cannot drain
/// another's KeyPackages (RELIABILITY T13) nor shut the whole requesting provider out by
/// exhausting its provider-wide budget.
#[derive(Debug, Clone)]
pub struct RequesterLimiter {
    window_ms: u64,
    max_claims: u32,
    counts: BTreeMap<Domain, (u64, u32)>,
    /// (claims per pair, window) when the pair limit is on.
    pair_limit: Option<(u32, u64)>,
    /// (requester, target) → (start of its window, claims in it).
    pairs: BTreeMap<(UserUri, UserUri), (u64, u32)>,
}

impl RequesterLimiter {
    /// Pairs remembered before expired ones are pruned.
    const PAIRS_PRUNE_AT: usize = 100_000;

    /// At most `max_claims` claims per `window_ms` per requesting domain.
    pub fn new(max_claims: u32, window_ms: u64) -> Self {
        Self {
            window_ms: window_ms.max(1),
            max_claims,
            counts: BTreeMap::new(),
            pair_limit: None,
            pairs: BTreeMap::new(),
        }
    }

    /// Also at most `max_claims` claims by one requesting user for one target user within
    /// `window_ms` of the first of them (0 claims: no pair limit).
    #[must_use]
    pub fn with_pair_limit(mut self, max_claims: u32, window_ms: u64) -> Self {
        self.pair_limit = (max_claims > 0).then_some((max_claims, window_ms.max(1)));
        self
    }

    /// Counts `claims` for `requester`, or says when its window reopens (ms) if that would
    /// exceed the limit (nothing is counted then).
    pub fn take(&mut self, requester: &Domain, claims: u32, now_ms: u64) -> Result<(), u64> {
        self.check_domain(requester, claims, now_ms)?;
        self.count_domain(requester, claims, now_ms);
        Ok(())
    }

    /// Counts one request for `target`'s key material by `requester` (user), arriving from
    /// `peer` and claiming `claims` KeyPackages, against both limits; or says when to retry
    /// (ms) if either would be exceeded (nothing is counted then).
    pub fn take_claim(
        &mut self,
        peer: &Domain,
        requester: &UserUri,
        target: &UserUri,
        claims: u32,
        now_ms: u64,
    ) -> Result<(), u64> {
        self.check_domain(peer, claims, now_ms)?;
        if let Some((max, window)) = self.pair_limit {
            let key = (requester.clone(), target.clone());
            if let Some(&(start, n)) = self.pairs.get(&key)
                && now_ms.saturating_sub(start) < window
                && n >= max
            {
                return Err((start.saturating_add(window)).saturating_sub(now_ms).max(1));
            }
            if self.pairs.len() >= Self::PAIRS_PRUNE_AT {
                self.pairs
                    .retain(|_, (start, _)| now_ms.saturating_sub(*start) < window);
            }
            let entry = self.pairs.entry(key).or_insert((now_ms, 0));
            if now_ms.saturating_sub(entry.0) >= window {
                *entry = (now_ms, 0);
            }
            entry.1 = entry.1.saturating_add(1);
        }
        self.count_domain(peer, claims, now_ms);
        Ok(())
    }

    fn check_domain(&self, requester: &Domain, claims: u32, now_ms: u64) -> Result<(), u64> {
        let window = now_ms / self.window_ms;
        let used = match self.counts.get(requester) {
            Some(&(w, n)) if w == window => n,
            _ => 0,
        };
        if used.saturating_add(claims) > self.max_claims {
            return Err((window + 1) * self.window_ms - now_ms);
        }
        Ok(())
    }

    fn count_domain(&mut self, requester: &Domain, claims: u32, now_ms: u64) {
        let window = now_ms / self.window_ms;
        let entry = self.counts.entry(requester.clone()).or_insert((window, 0));
        if entry.0 != window {
            *entry = (window, 0);
        }
        entry.1 = entry.1.saturating_add(claims);
    }
}

impl Default for RequesterLimiter {
    /// 600 claims per minute per requesting provider, no pair limit.
    fn default() -> Self {
        Self::new(600, 60_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kp(n: u8, last_resort: bool, not_after: u64) -> KeyPackageEntry {
        KeyPackageEntry {
            key_package: vec![n; 4],
            reference: vec![n],
            last_resort,
            not_after,
        }
    }

    #[test]
    fn fresh_key_packages_are_handed_out_once_oldest_first() {
        let mut pool = KeyPackagePool::new();
        assert!(pool.add(kp(1, false, 100)));
        assert!(pool.add(kp(2, false, 100)));
        assert!(!pool.add(kp(1, false, 100)), "same reference twice");
        assert_eq!(pool.claim(0), Claim::Fresh(kp(1, false, 100)));
        assert_eq!(pool.claim(0), Claim::Fresh(kp(2, false, 100)));
        assert_eq!(pool.claim(0), Claim::Exhausted);
    }

    #[test]
    fn expired_key_packages_are_never_returned() {
        let mut pool = KeyPackagePool::new();
        pool.add(kp(1, false, 10));
        pool.add(kp(2, true, 10));
        assert_eq!(pool.fresh_count(9_999), 1);
        assert_eq!(pool.claim(10_000), Claim::Exhausted);
        assert!(pool.entries().is_empty(), "expired entries are dropped");
    }

    #[test]
    fn last_resort_is_used_only_when_fresh_ones_run_out_and_stays() {
        let mut pool = KeyPackagePool::new();
        pool.add(kp(9, true, 100));
        pool.add(kp(1, false, 100));
        assert_eq!(pool.claim(0), Claim::Fresh(kp(1, false, 100)));
        assert_eq!(pool.claim(0), Claim::LastResort(kp(9, true, 100)));
        assert_eq!(pool.claim(0), Claim::LastResort(kp(9, true, 100)));
        assert!(pool.has_last_resort(0));
        assert_eq!(pool.fresh_count(0), 0);
    }

    #[test]
    fn requesters_are_limited_per_window_each_on_its_own() {
        let x = Domain::parse("x.example").unwrap();
        let z = Domain::parse("z.example").unwrap();
        let mut limiter = RequesterLimiter::new(3, 1_000);
        assert_eq!(limiter.take(&x, 2, 0), Ok(()));
        assert_eq!(limiter.take(&x, 2, 100), Err(900));
        assert_eq!(limiter.take(&x, 1, 100), Ok(()));
        assert_eq!(limiter.take(&z, 3, 100), Ok(()));
        assert_eq!(limiter.take(&x, 3, 1_000), Ok(()), "a new window");
    }

    fn user(s: &str) -> UserUri {
        UserUri::parse(s).unwrap()
    }

    #[test]
    fn one_requester_is_limited_per_target_and_others_are_not() {
        let y = Domain::parse("y.example").unwrap();
        let (mallory, innocent) = (
            user("mimi://y.example/u/mallory"),
            user("mimi://y.example/u/ivy"),
        );
        let (bob, carol) = (
            user("mimi://x.example/u/bob"),
            user("mimi://x.example/u/carol"),
        );
        let mut limiter = RequesterLimiter::default().with_pair_limit(6, 600_000);
        for n in 0..6 {
            assert_eq!(
                limiter.take_claim(&y, &mallory, &bob, 1, n),
                Ok(()),
                "claim {n}"
            );
        }
        assert_eq!(
            limiter.take_claim(&y, &mallory, &bob, 1, 1_000),
            Err(599_000),
            "the 7th claim within 10 minutes of the first"
        );
        // The refusal counted nothing, and the limit is per pair: the same provider's other
        // user, and the same requester for another target, still get theirs.
        assert_eq!(limiter.take_claim(&y, &innocent, &bob, 1, 1_000), Ok(()));
        assert_eq!(limiter.take_claim(&y, &mallory, &carol, 1, 1_000), Ok(()));
        assert_eq!(
            limiter.take_claim(&y, &mallory, &bob, 1, 600_000),
            Ok(()),
            "a new window"
        );
    }

    #[test]
    fn a_pair_refusal_does_not_spend_the_providers_budget_and_vice_versa() {
        let y = Domain::parse("y.example").unwrap();
        let (a, b) = (user("mimi://y.example/u/a"), user("mimi://x.example/u/b"));
        let mut limiter = RequesterLimiter::new(3, 60_000).with_pair_limit(1, 60_000);
        assert_eq!(limiter.take_claim(&y, &a, &b, 1, 0), Ok(()));
        for _ in 0..10 {
            assert!(limiter.take_claim(&y, &a, &b, 1, 1).is_err());
        }
        let c = user("mimi://y.example/u/c");
        assert_eq!(limiter.take_claim(&y, &c, &b, 2, 2), Ok(()), "2 of 3 left");
        let d = user("mimi://y.example/u/d");
        assert!(
            limiter.take_claim(&y, &d, &b, 1, 3).is_err(),
            "the provider's 3 are spent"
        );
        assert_eq!(
            limiter.take_claim(&y, &d, &b, 1, 60_000),
            Ok(()),
            "and the pair was not counted"
        );
        let off = RequesterLimiter::default().with_pair_limit(0, 1);
        assert!(off.pair_limit.is_none(), "0 turns the pair limit off");
    }
}
