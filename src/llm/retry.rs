//! When to try a request again, and how long to wait first: exponential backoff with jitter,
//! bounded by a number of retries and a total deadline; the server's own `retry-after-ms` or
//! `Retry-After` (seconds) wins over the backoff.

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// The statuses worth another try: rate limited, server faults, overloaded (Anthropic's 529).
pub const TRANSIENT_STATUSES: &[u16] = &[408, 429, 500, 502, 503, 504, 529];

/// How hard to try.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Tries after the first.
    pub max_retries: u32,
    /// No retry starts after this much time since the first try began.
    pub deadline: Duration,
    /// The first backoff; each retry doubles it, up to `max_delay`.
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 4,
            deadline: Duration::from_secs(300),
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The backoff before retry number `retry` (1-based): `base * 2^(retry-1)`, capped, then
    /// scaled by a random factor in [0.5, 1) so that many clients do not retry in step.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exponent = retry.saturating_sub(1).min(20);
        let full = self
            .base_delay
            .saturating_mul(1 << exponent)
            .min(self.max_delay);
        full.mul_f64(0.5 + jitter() / 2.0)
    }
}

/// A number in [0, 1) from the standard library's per-process random hasher keys.
fn jitter() -> f64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(0x6e6f7661);
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// The wait a response asks for: `retry-after-ms` (milliseconds, OpenAI's), else `retry-after` in
/// seconds. An HTTP date in `retry-after` is not understood and falls back to the backoff.
pub fn server_delay(retry_after_ms: Option<&str>, retry_after: Option<&str>) -> Option<Duration> {
    let parse = |text: &str, scale: f64| {
        let value: f64 = text.trim().parse().ok()?;
        (value.is_finite() && value >= 0.0).then(|| Duration::from_secs_f64(value * scale))
    };
    retry_after_ms
        .and_then(|ms| parse(ms, 0.001))
        .or_else(|| retry_after.and_then(|s| parse(s, 1.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_jitter_and_caps() {
        let policy = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
            ..RetryPolicy::default()
        };
        for (retry, full) in [
            (1, 100),
            (2, 200),
            (3, 400),
            (4, 800),
            (5, 1000),
            (40, 1000),
        ] {
            let delay = policy.backoff(retry).as_millis();
            assert!(
                delay >= full / 2 && delay <= full,
                "retry {retry}: {delay} ms"
            );
        }
    }

    #[test]
    fn server_delays() {
        assert_eq!(
            server_delay(Some("250"), Some("3")),
            Some(Duration::from_millis(250))
        );
        assert_eq!(server_delay(None, Some("2")), Some(Duration::from_secs(2)));
        assert_eq!(
            server_delay(None, Some("Wed, 21 Oct 2015 07:28:00 GMT")),
            None
        );
        assert_eq!(server_delay(Some("-1"), None), None);
    }
}
