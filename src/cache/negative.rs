//! Negative caching: a definite refusal (`Error::is_definite_refusal`: a rejected secret, a 4xx,
//! a certificate that does not verify) is remembered for a while and answered at once, instead
//! of sending the same doomed request on every call. An identity provider throttles, and may
//! lock out, a client that keeps asking with a wrong secret: one configuration mistake would
//! become an outage for every instance sharing the credential.
//!
//! The interval grows with each refusal in a row: 1 s, 2 s, 4 s ... capped at 60 s, each less a
//! random fifth (so the instances sharing a credential drift apart). It applies only when a
//! fetch is needed: a valid cached token is still served. It resets on a success and on an
//! invalidate.
//!
//! Lock-free (one atomically swapped pointer, written only by the thread that lands a flight),
//! so a fork while another thread held it leaves nothing locked in the child.

use std::time::Duration;

use super::sync::{Arc, ArcSwapOption};

use crate::clock::{duration_to_nanos, Nanos};
use crate::error::Error;

/// The first interval, doubled after each refusal in a row.
pub const FIRST_INTERVAL: Duration = Duration::from_secs(1);
/// The longest interval.
pub const MAX_INTERVAL: Duration = Duration::from_secs(60);

struct Refusal {
    error: Error,
    /// No fetch before this instant (monotonic).
    until: Nanos,
    /// Refusals in a row, this one included.
    in_a_row: u32,
}

#[derive(Default)]
pub struct NegativeCache {
    last: ArcSwapOption<Refusal>,
}

impl NegativeCache {
    /// The remembered refusal, if a fetch must not be sent yet at `now`: the same kind, status
    /// and OAuth fields, and the same message with a line `cached: next attempt in N s` added
    /// (the first line, which bindings parse, is unchanged).
    pub fn check(&self, now: Nanos) -> Option<Error> {
        let last = self.last.load();
        let refusal = last.as_deref().filter(|r| now < r.until)?;
        let wait_secs = (refusal.until - now).div_ceil(1_000_000_000).max(1);
        let message = format!("{}\ncached: next attempt in {wait_secs} s", refusal.error.message());
        Some(refusal.error.clone().with_message(message))
    }

    /// Whether a refusal is remembered at `now`.
    pub fn active(&self, now: Nanos) -> bool {
        self.last.load().as_deref().is_some_and(|r| now < r.until)
    }

    /// Remembers the outcome of a fetch that failed at `now` with `error`; forgets earlier
    /// refusals if this failure is not a definite one (a timeout says nothing about the secret).
    pub fn record(&self, error: &Error, now: Nanos) {
        if !error.is_definite_refusal() {
            return;
        }
        let in_a_row = self.last.load().as_deref().map_or(0, |r| r.in_a_row).saturating_add(1);
        let interval = interval(in_a_row, jitter());
        self.last.store(Some(Arc::new(Refusal {
            error: error.clone(),
            until: now.saturating_add(duration_to_nanos(interval)),
            in_a_row,
        })));
    }

    /// Forgets the refusal (a fetch succeeded, or the caller invalidated).
    pub fn reset(&self) {
        if self.last.load().is_some() {
            self.last.store(None);
        }
    }
}

/// A random fraction in [0, 1), from a generator reseeded after a fork so parent and children
/// do not draw the same numbers.
fn jitter() -> f64 {
    crate::fork::reseed_jitter_after_fork();
    fastrand::f64()
}

/// The interval after `in_a_row` refusals, `jitter` in [0, 1) taking off up to a fifth.
fn interval(in_a_row: u32, jitter: f64) -> Duration {
    let doublings = in_a_row.saturating_sub(1).min(16);
    let base = FIRST_INTERVAL.saturating_mul(1 << doublings).min(MAX_INTERVAL);
    base.mul_f64(1.0 - jitter.clamp(0.0, 1.0) / 5.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    const SECOND: Nanos = 1_000_000_000;

    #[test]
    fn the_interval_doubles_up_to_a_minute_less_up_to_a_fifth() {
        let secs = |n, j| interval(n, j).as_secs_f64();
        assert_eq!([secs(1, 0.0), secs(2, 0.0), secs(3, 0.0), secs(4, 0.0)], [1.0, 2.0, 4.0, 8.0]);
        assert_eq!(secs(7, 0.0), 60.0);
        assert_eq!(secs(1000, 0.0), 60.0);
        assert!((secs(1, 0.999_999) - 0.8).abs() < 1e-3);
        assert!((secs(1000, 0.5) - 54.0).abs() < 1e-9);
    }

    #[test]
    fn a_definite_refusal_is_answered_from_memory_until_the_interval_ends() {
        let negative = NegativeCache::default();
        let refused = Error::new(ErrorKind::Http, "HTTP 403 Forbidden").with_http_status(403);
        negative.record(&refused, 10 * SECOND);
        let cached = negative.check(10 * SECOND).expect("remembered");
        assert_eq!(cached.kind(), ErrorKind::Http);
        assert_eq!(cached.http_status(), Some(403));
        assert_eq!(cached.message(), "HTTP 403 Forbidden\ncached: next attempt in 1 s");
        // Jitter takes off at most a fifth.
        assert!(negative.check(10 * SECOND + 8 * SECOND / 10 - 1).is_some());
        assert!(negative.check(11 * SECOND).is_none());
        // A second refusal in a row: about 2 s.
        negative.record(&refused, 11 * SECOND);
        assert!(negative.check(11 * SECOND + 16 * SECOND / 10 - 1).is_some());
        assert!(negative.check(13 * SECOND).is_none());
        negative.reset();
        assert!(negative.check(11 * SECOND).is_none());
    }

    #[test]
    fn transient_failures_are_not_remembered() {
        let negative = NegativeCache::default();
        for error in [
            Error::new(ErrorKind::Timeout, "timed out"),
            Error::new(ErrorKind::Network, "refused"),
            Error::new(ErrorKind::Http, "HTTP 429").with_http_status(429),
            Error::new(ErrorKind::Http, "HTTP 503").with_http_status(503),
        ] {
            negative.record(&error, SECOND);
            assert!(negative.check(SECOND).is_none(), "{error:?}");
        }
    }
}
