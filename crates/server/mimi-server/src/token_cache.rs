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

/// How long a token found valid is believed without asking the database again.
pub(crate) const TTL: Duration = Duration::from_secs(30);

/// The most tokens kept; past it, expired entries go, then all of them.
pub(crate) const MAX_ENTRIES: usize = 65_536;

/// A token's hash (the accounts database's key).
pub(crate) type TokenHash = [u8; 32];

#[derive(Debug, Default)]
struct Entries {
    by_hash: HashMap<TokenHash, (ClientUri, Instant)>,
    /// Devices forgotten so far: a lookup that read the database before a removal must not
    /// keep what it read.
    removals: u64,
}

/// The cache (see the module documentation).
#[derive(Debug, Default)]
pub(crate) struct TokenCache {
    entries: Mutex<Entries>,
}

impl TokenCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
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
        if entries.by_hash.len() >= MAX_ENTRIES {
            entries
                .by_hash
                .retain(|_, (_, at)| now.saturating_duration_since(*at) < TTL);
            if entries.by_hash.len() >= MAX_ENTRIES {
                entries.by_hash.clear();
            }
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

    #[test]
    fn the_cache_stays_bounded() {
        let cache = TokenCache::default();
        let now = Instant::now();
        for i in 0..=MAX_ENTRIES {
            let mut hash = [0u8; 32];
            hash[..8].copy_from_slice(&(i as u64).to_be_bytes());
            cache.insert(hash, client("a"), cache.removals(), now);
        }
        assert!(cache.lock().by_hash.len() <= MAX_ENTRIES);
    }
}
