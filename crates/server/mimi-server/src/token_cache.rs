//! Bearer tokens recently found valid, so that a device's requests (a long poll per page of
//! events) do not each read the accounts database.
//!
//! Only where one process owns the accounts (SQLite): there every device removal goes through
//! [`TokenCache::forget`], so a removed device's token stops working at once. An entry also
//! lives at most [`TTL`], unknown tokens are never kept (guessing fills nothing), and the cache
//! holds at most [`MAX_ENTRIES`] tokens.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use mimi_types::ClientUri;

use crate::hub_cache::locked;

/// How long a token found valid is believed without asking the database again.
pub(crate) const TTL: Duration = Duration::from_secs(30);

/// The most tokens kept; at it, expired entries go, then others until [`KEPT_AT_EVICTION`].
pub(crate) const MAX_ENTRIES: usize = 65_536;

/// What an eviction leaves at most: a quarter of the cache is freed at once, so the sweep over
/// all entries runs at most once per `MAX_ENTRIES / 4` insertions (O(1) per insertion,
/// amortised, however many sign-ins arrive).
const KEPT_AT_EVICTION: usize = MAX_ENTRIES / 4 * 3;

/// A token's hash (the accounts database's key).
pub(crate) type TokenHash = [u8; 32];

#[derive(Debug, Default)]
struct Entries {
    by_hash: HashMap<TokenHash, (ClientUri, Instant)>,
    /// Devices forgotten so far: a lookup that read the database before a removal must not
    /// keep what it read.
    removals: u64,
    /// Evictions so far (each a sweep over every entry).
    evictions: u64,
}

/// The cache (see the module documentation).
#[derive(Debug, Default)]
pub(crate) struct TokenCache {
    entries: Mutex<Entries>,
}

impl Entries {
    /// Drops the expired entries, then others (in the map's order, which is as good as any:
    /// a dropped token costs one read of the database) until at most [`KEPT_AT_EVICTION`]
    /// are left.
    fn evict(&mut self, now: Instant) {
        self.evictions += 1;
        self.by_hash
            .retain(|_, (_, at)| now.saturating_duration_since(*at) < TTL);
        let mut excess = self.by_hash.len().saturating_sub(KEPT_AT_EVICTION);
        if excess > 0 {
            self.by_hash.retain(|_, _| {
                let keep = excess == 0;
                excess = excess.saturating_sub(1);
                keep
            });
        }
    }
}

impl TokenCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        locked(&self.entries)
    }

    /// The device of a token found valid less than [`TTL`] before `now`.
    pub(crate) fn get(&self, hash: &TokenHash, now: Instant) -> Option<ClientUri> {
        let mut entries = self.lock();
        match entries.by_hash.get(hash) {
            Some((client, at)) if now.saturating_duration_since(*at) < TTL => Some(client.clone()),
            Some(_) => {
                entries.by_hash.remove(hash);
                None
            }
            None => None,
        }
    }

    /// The removal count: take it before reading the database, hand it to
    /// [`TokenCache::insert`].
    pub(crate) fn removals(&self) -> u64 {
        self.lock().removals
    }

    /// Keeps what the database said of a token, unless a device was removed since `removals`
    /// was taken (the read may predate the removal).
    pub(crate) fn insert(&self, hash: TokenHash, client: ClientUri, removals: u64, now: Instant) {
        let mut entries = self.lock();
        if entries.removals != removals {
            return;
        }
        if entries.by_hash.len() >= MAX_ENTRIES && !entries.by_hash.contains_key(&hash) {
            entries.evict(now);
        }
        entries.by_hash.insert(hash, (client, now));
    }

    /// Forgets every token of `client` (call once the device's row is deleted).
    pub(crate) fn forget(&self, client: &ClientUri) {
        let mut entries = self.lock();
        entries.removals += 1;
        entries.by_hash.retain(|_, (c, _)| c != client);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(name: &str) -> ClientUri {
        format!("mimi://x.example/d/alice/{name}")
            .parse()
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_kept_token_is_believed_until_it_expires() {
        let cache = TokenCache::default();
        let t0 = Instant::now();
        cache.insert([1; 32], client("a"), cache.removals(), t0);
        assert_eq!(cache.get(&[1; 32], t0 + TTL / 2), Some(client("a")));
        assert_eq!(cache.get(&[2; 32], t0), None, "another token");
        assert_eq!(cache.get(&[1; 32], t0 + TTL), None, "expired");
        assert_eq!(cache.get(&[1; 32], t0), None, "an expired entry is dropped");
    }

    #[test]
    fn forgetting_a_device_drops_its_token_at_once() {
        let cache = TokenCache::default();
        let now = Instant::now();
        cache.insert([1; 32], client("a"), cache.removals(), now);
        cache.insert([2; 32], client("b"), cache.removals(), now);
        cache.forget(&client("a"));
        assert_eq!(cache.get(&[1; 32], now), None);
        assert_eq!(cache.get(&[2; 32], now), Some(client("b")));
    }

    #[test]
    fn a_read_from_before_a_removal_is_not_kept() {
        let cache = TokenCache::default();
        let now = Instant::now();
        let removals = cache.removals();
        // The database said "a" while "a" was being removed.
        cache.forget(&client("a"));
        cache.insert([1; 32], client("a"), removals, now);
        assert_eq!(cache.get(&[1; 32], now), None);
    }

    fn hash(i: usize) -> TokenHash {
        let mut hash = [0u8; 32];
        hash[..8].copy_from_slice(&(i as u64).to_be_bytes());
        hash
    }

    #[test]
    fn the_cache_stays_bounded_and_sweeps_rarely() {
        let cache = TokenCache::default();
        let now = Instant::now();
        // A flood of sign-ins, all fresh: three caches' worth.
        for i in 0..3 * MAX_ENTRIES {
            cache.insert(hash(i), client("a"), cache.removals(), now);
            assert!(cache.lock().by_hash.len() <= MAX_ENTRIES);
        }
        let evictions = cache.lock().evictions;
        // Each eviction frees a quarter: 1 to fill up, then one per quarter inserted.
        assert!(
            evictions <= (2 * MAX_ENTRIES / (MAX_ENTRIES - KEPT_AT_EVICTION)) as u64 + 1,
            "{evictions} sweeps"
        );
        assert!(evictions >= 1);
        // The latest token is kept, and found; a removed device's token is gone at once.
        let last = hash(3 * MAX_ENTRIES - 1);
        assert_eq!(cache.get(&last, now), Some(client("a")));
        cache.insert(hash(usize::MAX), client("b"), cache.removals(), now);
        assert_eq!(cache.get(&hash(usize::MAX), now), Some(client("b")));
        cache.forget(&client("b"));
        assert_eq!(cache.get(&hash(usize::MAX), now), None);
    }

    #[test]
    fn expired_entries_go_first_at_the_cap() {
        let cache = TokenCache::default();
        let t0 = Instant::now();
        for i in 0..MAX_ENTRIES - 1 {
            cache.insert(hash(i), client("a"), cache.removals(), t0);
        }
        let fresh = t0 + TTL / 2;
        cache.insert(hash(MAX_ENTRIES), client("b"), cache.removals(), fresh);
        let later = t0 + TTL;
        cache.insert(hash(MAX_ENTRIES + 1), client("c"), cache.removals(), later);
        let entries = cache.lock();
        assert_eq!(entries.evictions, 1);
        assert_eq!(
            entries.by_hash.len(),
            2,
            "the expired ones went, the fresh stayed"
        );
        drop(entries);
        assert_eq!(cache.get(&hash(MAX_ENTRIES), later), Some(client("b")));
    }
}
