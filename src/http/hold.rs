//! A server's `Retry-After` that outlasted a fetch: no request to it before then (at most
//! `retry::MAX_HOLD` ahead), so later fetches of the same client do not knock early. Its lock is
//! taken with a time limit, so that one inherited locked across fork is skipped, not waited for.

use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::error::{Error, ErrorKind, Result};
use crate::retry;

/// See the module comment: only a lock inherited locked across fork takes this long.
const LOCK_LIMIT: Duration = Duration::from_millis(50);

#[derive(Default)]
pub struct Hold(Mutex<Option<Until>>);

#[derive(Clone, Copy)]
struct Until {
    at: Instant,
    status: u16,
}

impl Hold {
    /// Refuses while a hold is in force.
    pub fn check(&self, url: &str) -> Result<()> {
        let Some(mut hold) = self.0.try_lock_for(LOCK_LIMIT) else { return Ok(()) };
        let Some(active) = *hold else { return Ok(()) };
        let left = active.at.saturating_duration_since(Instant::now());
        if left.is_zero() {
            *hold = None;
            return Ok(());
        }
        Err(Error::new(
            ErrorKind::Http,
            format!(
                "token endpoint {url} answered HTTP {} and asked (Retry-After) not to be asked again for {} s more; hctoken waits until then",
                active.status,
                left.as_secs_f64().ceil() as u64
            ),
        )
        .with_http_status(active.status))
    }

    /// Holds off requests for `wait` (capped at `retry::MAX_HOLD`).
    pub fn hold_for(&self, wait: Duration, status: u16) {
        if wait.is_zero() {
            return;
        }
        let at = Instant::now() + wait.min(retry::MAX_HOLD);
        if let Some(mut hold) = self.0.try_lock_for(LOCK_LIMIT) {
            *hold = Some(Until { at, status });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hold_refuses_until_it_ends() {
        let hold = Hold::default();
        assert!(hold.check("u").is_ok());
        hold.hold_for(Duration::from_secs(30), 429);
        let error = hold.check("u").unwrap_err();
        assert_eq!(error.http_status(), Some(429));
        assert!(error.message().contains("Retry-After"), "{error}");
        hold.hold_for(Duration::from_millis(1), 503);
        std::thread::sleep(Duration::from_millis(5));
        assert!(hold.check("u").is_ok());
    }
}
