//! Per-peer request rate limits: one token bucket per peer domain.
//!
//! Pure: the caller passes `now`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use mimi_types::Domain;

/// The rate a peer may sustain and the burst it may send at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Requests per second, sustained.
    pub per_second: f64,
    /// Requests that may arrive at once after a quiet period.
    pub burst: f64,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            per_second: 2_000.0,
            burst: 4_000.0,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets for every peer seen.
#[derive(Debug)]
pub struct RateLimiter {
    limit: RateLimit,
    buckets: BTreeMap<Domain, Bucket>,
}

impl RateLimiter {
    /// A limiter applying `limit` to each peer separately.
    pub fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            buckets: BTreeMap::new(),
        }
    }

    /// Takes one token for `peer`, or says how long until one is available.
    pub fn check(&mut self, peer: &Domain, now: Instant) -> Result<(), Duration> {
        let limit = self.limit;
        let bucket = self.buckets.entry(peer.clone()).or_insert(Bucket {
            tokens: limit.burst,
            at: now,
        });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * limit.per_second).min(limit.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else if limit.per_second > 0.0 {
            Err(Duration::from_secs_f64(
                (1.0 - bucket.tokens) / limit.per_second,
            ))
        } else {
            Err(Duration::from_secs(60))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domain(s: &str) -> Domain {
        Domain::parse(s).unwrap()
    }

    #[test]
    fn allows_the_burst_then_refuses_with_a_wait() {
        let mut limiter = RateLimiter::new(RateLimit {
            per_second: 10.0,
            burst: 3.0,
        });
        let now = Instant::now();
        let x = domain("x.example");
        for _ in 0..3 {
            assert_eq!(limiter.check(&x, now), Ok(()));
        }
        let wait = limiter.check(&x, now).unwrap_err();
        assert_eq!(wait, Duration::from_millis(100));
        assert_eq!(limiter.check(&x, now + Duration::from_millis(100)), Ok(()));
    }

    #[test]
    fn peers_have_separate_buckets() {
        let mut limiter = RateLimiter::new(RateLimit {
            per_second: 1.0,
            burst: 1.0,
        });
        let now = Instant::now();
        assert!(limiter.check(&domain("x.example"), now).is_ok());
        assert!(limiter.check(&domain("x.example"), now).is_err());
        assert!(limiter.check(&domain("z.example"), now).is_ok());
    }
}
