//! Password hashing (Argon2id, by default 19 MiB, two passes and tens of milliseconds each; the
//! operator sets the cost with `limits.password_hash_memory_kib` and
//! `limits.password_hash_iterations`) off the async workers and bounded: every hash and
//! verification runs on a blocking thread ([`tokio::task::spawn_blocking`]) after taking one
//! of `limits.password_hash_concurrency` permits, so a burst of registrations or logins waits
//! for its turn instead of taking the server's memory and workers (`/health` stays fast). A login for an unknown user verifies the password against a dummy hash made at
//! start with the same parameters, so it costs what a login for an existing user costs and its
//! timing does not tell the two apart. A stored hash is verified with the cost written in it,
//! so changing the cost takes effect for new hashes and every stored one still verifies; a
//! login that verifies a hash of another cost stores a new one at the current cost, so the
//! stored hashes come to cost what the dummy costs. A cost below OWASP's least is logged as a
//! warning at start.
//!
//! Every run is counted (`mimi_password_hashes_total`) and the most runs at once are kept
//! (`mimi_password_hash_peak_concurrency`), see [`HashStats`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore as _;
use tokio::sync::Semaphore;

use crate::error::ServerError;

/// What the hashing did, for `/metrics` and tests.
#[derive(Debug, Default)]
pub(crate) struct HashStats {
    /// Argon2id runs so far.
    pub(crate) runs: AtomicU64,
    /// Runs now.
    pub(crate) in_flight: AtomicU64,
    /// The most runs at once so far.
    pub(crate) peak: AtomicU64,
}

/// The cost of one new hash (Argon2id, one lane).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HashCost {
    /// Memory, in KiB (at least 8).
    pub(crate) memory_kib: u32,
    /// Passes over the memory (at least 1).
    pub(crate) iterations: u32,
}

impl HashCost {
    /// The cost `limits` set for new hashes.
    pub(crate) fn of(limits: &crate::config::Limits) -> Self {
        Self {
            memory_kib: limits.password_hash_memory_kib,
            iterations: limits.password_hash_iterations,
        }
    }

    /// The Argon2id parameters, or why there are none.
    pub(crate) fn params(self) -> Result<Params, argon2::Error> {
        crate::config::argon2_params(self.memory_kib, self.iterations)
    }

    /// Whether this is below the least OWASP recommends for Argon2id (19 MiB and 2 passes, or
    /// more memory for fewer passes: memory times passes at least 19,456 KiB × 2, 7 MiB at least).
    pub(crate) fn is_weak(self) -> bool {
        u64::from(self.memory_kib) * u64::from(self.iterations) < 19_456 * 2
            || self.memory_kib < 7 * 1024
    }
}

/// The bounded hasher.
#[derive(Debug)]
pub(crate) struct Passwords {
    permits: Arc<Semaphore>,
    /// New hashes' parameters.
    params: Params,
    /// The PHC string an unknown user's login is verified against.
    dummy: Arc<str>,
    stats: Arc<HashStats>,
}

fn failed(what: &str, e: impl std::fmt::Display) -> ServerError {
    ServerError::Accounts(format!("{what}: {e}"))
}

/// The Argon2id PHC string of `password` with a fresh random salt (on the calling thread).
fn hash_now(params: Params, password: &[u8]) -> Result<String, ServerError> {
    let mut salt = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| failed("salt", e))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(password, &salt)
        .map_err(|e| failed("password hash", e))?
        .to_string())
}

impl Passwords {
    /// A hasher making new hashes at `cost`, running at most `concurrency` (at least 1) hashes
    /// at once, counting in `stats`. Makes the dummy hash now (one Argon2id run at `cost`, not
    /// counted).
    pub(crate) fn new(
        cost: HashCost,
        concurrency: u32,
        stats: Arc<HashStats>,
    ) -> Result<Self, ServerError> {
        let params = cost.params().map_err(|e| failed("password hash cost", e))?;
        if cost.is_weak() {
            tracing::warn!(
                memory_kib = cost.memory_kib,
                iterations = cost.iterations,
                "new password hashes cost less than OWASP's least for Argon2id (19 MiB, 2 passes): \
                 fine for tests and benchmarks, not for accounts people use"
            );
        }
        let mut secret = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut secret);
        let dummy = hash_now(params.clone(), &secret)?;
        let permits = usize::try_from(concurrency.max(1)).unwrap_or(1);
        Ok(Self {
            permits: Arc::new(Semaphore::new(permits)),
            params,
            dummy: dummy.into(),
            stats,
        })
    }

    /// Runs `work` on a blocking thread once a permit is free. The permit goes with the work,
    /// so a client that gives up does not free it before the hash is done.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ServerError> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| failed("password hash permits", e))?;
        let stats = self.stats.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let now = stats.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            stats.peak.fetch_max(now, Ordering::SeqCst);
            stats.runs.fetch_add(1, Ordering::SeqCst);
            let out = work();
            stats.in_flight.fetch_sub(1, Ordering::SeqCst);
            out
        })
        .await
        .map_err(|e| failed("password hash task", e))
    }

    /// The PHC string to store for `password`.
    pub(crate) async fn hash(&self, password: &str) -> Result<String, ServerError> {
        let password = password.as_bytes().to_vec();
        let params = self.params.clone();
        self.run(move || hash_now(params, &password)).await?
    }

    /// Whether `stored` (a PHC string) was made at another cost than new hashes are, or is not
    /// one we can read: a login that verified it should store a new hash.
    pub(crate) fn is_stale(&self, stored: &str) -> bool {
        match PasswordHash::new(stored).and_then(|parsed| Params::try_from(&parsed)) {
            Ok(params) => {
                params.m_cost() != self.params.m_cost()
                    || params.t_cost() != self.params.t_cost()
                    || params.p_cost() != self.params.p_cost()
            }
            Err(_) => true,
        }
    }

    /// Whether `password` matches `stored` (the user's PHC string, `None` for an unknown user:
    /// then the dummy hash is verified, and the answer is false).
    pub(crate) async fn verify(
        &self,
        password: &str,
        stored: Option<String>,
    ) -> Result<bool, ServerError> {
        let known = stored.is_some();
        let phc = stored.unwrap_or_else(|| self.dummy.to_string());
        let password = password.as_bytes().to_vec();
        let matches = self
            .run(move || {
                let parsed = PasswordHash::new(&phc).map_err(|e| failed("stored hash", e))?;
                // The stored string's own parameters are used (`Argon2`'s verifier takes them
                // from `parsed`), whatever the cost of new hashes is now.
                Ok::<_, ServerError>(
                    Argon2::default()
                        .verify_password(&password, &parsed)
                        .is_ok(),
                )
            })
            .await??;
        Ok(known && matches)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULT: HashCost = HashCost {
        memory_kib: Params::DEFAULT_M_COST,
        iterations: Params::DEFAULT_T_COST,
    };
    const CHEAP: HashCost = HashCost {
        memory_kib: 64,
        iterations: 1,
    };

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn new_hashes_carry_the_configured_cost_and_old_ones_still_verify() {
        let stats = Arc::new(HashStats::default());
        let cheap = Passwords::new(CHEAP, 1, stats.clone()).unwrap();
        let costly = Passwords::new(DEFAULT, 1, stats).unwrap();
        let cheap_hash = cheap.hash("pw").await.unwrap();
        let costly_hash = costly.hash("pw").await.unwrap();
        assert!(cheap_hash.contains("m=64,t=1,p=1"), "{cheap_hash}");
        assert!(costly_hash.contains("m=19456,t=2,p=1"), "{costly_hash}");
        assert!(
            cheap.dummy.contains("m=64,t=1,p=1"),
            "the dummy costs what a hash costs"
        );
        // Either hasher verifies either string: the cost is read from the stored string.
        for passwords in [&cheap, &costly] {
            for stored in [&cheap_hash, &costly_hash] {
                assert!(passwords.verify("pw", Some(stored.clone())).await.unwrap());
                assert!(!passwords.verify("px", Some(stored.clone())).await.unwrap());
            }
        }
    }

    #[test]
    fn a_cost_argon2_refuses_is_refused() {
        let stats = Arc::new(HashStats::default());
        for cost in [
            HashCost {
                memory_kib: 7,
                iterations: 1,
            },
            HashCost {
                memory_kib: 64,
                iterations: 0,
            },
        ] {
            assert!(cost.params().is_err(), "{cost:?}");
            assert!(Passwords::new(cost, 1, stats.clone()).is_err(), "{cost:?}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_hash_of_another_cost_is_stale_and_the_least_owasp_cost_is_not_weak() {
        let stats = Arc::new(HashStats::default());
        let cheap = Passwords::new(CHEAP, 1, stats.clone()).unwrap();
        let costly = Passwords::new(DEFAULT, 1, stats).unwrap();
        let cheap_hash = cheap.hash("pw").await.unwrap();
        let costly_hash = costly.hash("pw").await.unwrap();
        assert!(!cheap.is_stale(&cheap_hash));
        assert!(cheap.is_stale(&costly_hash));
        assert!(costly.is_stale(&cheap_hash));
        assert!(!costly.is_stale(&costly_hash));
        assert!(costly.is_stale("not a PHC string"), "unreadable: re-hash");
        assert!(CHEAP.is_weak());
        assert!(!DEFAULT.is_weak());
        let more_memory_one_pass = HashCost {
            memory_kib: 47_104,
            iterations: 1,
        };
        assert!(!more_memory_one_pass.is_weak());
        let many_passes_little_memory = HashCost {
            memory_kib: 1024,
            iterations: 64,
        };
        assert!(many_passes_little_memory.is_weak());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn hashes_verify_and_unknown_users_cost_one_run() {
        let stats = Arc::new(HashStats::default());
        let passwords = Passwords::new(DEFAULT, 2, stats.clone()).unwrap();
        assert_eq!(
            stats.runs.load(Ordering::SeqCst),
            0,
            "the dummy is not counted"
        );
        let stored = passwords.hash("correct horse").await.unwrap();
        assert!(
            passwords
                .verify("correct horse", Some(stored.clone()))
                .await
                .unwrap()
        );
        assert!(!passwords.verify("wrong", Some(stored)).await.unwrap());
        assert_eq!(stats.runs.load(Ordering::SeqCst), 3);
        assert!(!passwords.verify("anything", None).await.unwrap());
        assert_eq!(
            stats.runs.load(Ordering::SeqCst),
            4,
            "an unknown user's login runs the hash too"
        );
        // Even the dummy's own password (which nobody knows) would not log an unknown user in.
        assert!(!passwords.verify("", None).await.unwrap());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_semaphore_bounds_how_many_hashes_run_at_once() {
        let stats = Arc::new(HashStats::default());
        let passwords = Arc::new(Passwords::new(DEFAULT, 2, stats.clone()).unwrap());
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let passwords = passwords.clone();
                tokio::spawn(async move { passwords.hash(&format!("password {i}")).await })
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        assert_eq!(stats.runs.load(Ordering::SeqCst), 8);
        let peak = stats.peak.load(Ordering::SeqCst);
        assert!((1..=2).contains(&peak), "peak {peak} with 2 permits");
        assert_eq!(stats.in_flight.load(Ordering::SeqCst), 0);
    }
}
