//! Retry timing: capped exponential backoff with jitter, and `Retry-After`.
//!
//! Pure: the caller supplies the attempt number, a jitter sample and the current time.

use std::time::{Duration, SystemTime};

/// How long to wait before retrying a failed request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The wait after the first failure (before jitter).
    pub initial: Duration,
    /// The longest wait, whatever the attempt number or `Retry-After`.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(60),
        }
    }
}

impl Backoff {
    /// The wait before retry number `attempt` (0 for the first retry). `jitter` in `[0, 1]`
    /// spreads the wait over `[d/2, d]` ("equal jitter") so that many senders retrying the same
    /// peer do not stay in step. A peer's `Retry-After` raises the wait, never above `max`.
    pub fn delay(&self, attempt: u32, jitter: f64, retry_after: Option<Duration>) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
        let exp = self.initial.saturating_mul(factor).min(self.max);
        let jitter = jitter.clamp(0.0, 1.0);
        let jittered = exp.mul_f64(0.5 + 0.5 * jitter);
        jittered.max(retry_after.unwrap_or_default()).min(self.max)
    }
}

/// Parses a `Retry-After` value: delay-seconds or an HTTP-date (RFC 9110 §10.2.3). A date in
/// the past means "now".
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_exponentially_and_caps() {
        let b = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(5),
        };
        assert_eq!(b.delay(0, 1.0, None), Duration::from_millis(100));
        assert_eq!(b.delay(1, 1.0, None), Duration::from_millis(200));
        assert_eq!(b.delay(3, 1.0, None), Duration::from_millis(800));
        assert_eq!(b.delay(10, 1.0, None), Duration::from_secs(5));
        assert_eq!(b.delay(u32::MAX, 1.0, None), Duration::from_secs(5));
    }

    #[test]
    fn jitter_spreads_over_the_upper_half() {
        let b = Backoff::default();
        assert_eq!(b.delay(2, 0.0, None), Duration::from_millis(200));
        assert_eq!(b.delay(2, 0.5, None), Duration::from_millis(300));
        assert_eq!(b.delay(2, 7.0, None), Duration::from_millis(400));
    }

    #[test]
    fn retry_after_raises_the_wait_but_not_past_the_cap() {
        let b = Backoff::default();
        assert_eq!(
            b.delay(0, 1.0, Some(Duration::from_secs(3))),
            Duration::from_secs(3)
        );
        assert_eq!(
            b.delay(0, 1.0, Some(Duration::from_secs(3600))),
            Duration::from_secs(60)
        );
    }

    #[test]
    fn parses_both_retry_after_forms() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:50:37 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }
}
