//! One device's KeyPackages and how they are claimed (digest §3.2).
//!
//! A KeyPackage returned once is never returned again, and an expired one never at all. Reading
//! of the drafts' conflict on last-resort KeyPackages (mls-extensions component 0x0004 vs MIMI's
//! no-reuse MUST): a last-resort KeyPackage is handed out only when no fresh one is left, and it
//! stays in the pool, because its whole purpose is to keep a device reachable when its fresh
//! ones run out. Each claim says which kind it was, so a provider that reads the MUST strictly
//! can refuse last-resort claims.

use std::collections::BTreeMap;

use mimi_types::Domain;

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
#[non_exhaustive]
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
/// cannot drain a user's devices.
#[derive(Debug, Clone)]
pub struct RequesterLimiter {
    window_ms: u64,
    max_claims: u32,
    counts: BTreeMap<Domain, (u64, u32)>,
}

impl RequesterLimiter {
    /// At most `max_claims` claims per `window_ms` per requesting domain.
    pub fn new(max_claims: u32, window_ms: u64) -> Self {
        Self {
            window_ms: window_ms.max(1),
            max_claims,
            counts: BTreeMap::new(),
        }
    }

    /// Counts `claims` for `requester`, or says when its window reopens (ms) if that would
    /// exceed the limit (nothing is counted then).
    pub fn take(&mut self, requester: &Domain, claims: u32, now_ms: u64) -> Result<(), u64> {
        let window = now_ms / self.window_ms;
        let entry = self.counts.entry(requester.clone()).or_insert((window, 0));
        if entry.0 != window {
            *entry = (window, 0);
        }
        if entry.1.saturating_add(claims) > self.max_claims {
            return Err((window + 1) * self.window_ms - now_ms);
        }
        entry.1 += claims;
        Ok(())
    }
}

impl Default for RequesterLimiter {
    /// 600 claims per minute per requesting provider.
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
}
