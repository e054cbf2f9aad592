//! The clock token lifetimes are measured on.
//!
//! Expiry must not move when someone changes the wall clock, and must keep counting while a
//! machine sleeps (a token does not pause on the server). On Linux that is CLOCK_BOOTTIME;
//! elsewhere `Instant` (monotonic). Tests swap in a manual clock to walk through a token's life
//! without waiting.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Nanoseconds on a clock that only moves forward. Only differences are meaningful.
pub type Nanos = u64;

#[derive(Clone, Debug, Default)]
pub enum Clock {
    #[default]
    System,
    Manual(ManualClock),
}

impl Clock {
    #[inline]
    pub fn now(&self) -> Nanos {
        match self {
            Clock::System => system_now(),
            Clock::Manual(manual) => manual.now(),
        }
    }
}

/// A clock that moves only when told to; shared by clones.
#[derive(Clone, Debug, Default)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    pub fn new() -> Self {
        // Start well away from zero so subtracting margins never underflows.
        ManualClock(Arc::new(AtomicU64::new(1_000_000 * 1_000_000_000)))
    }

    pub fn now(&self) -> Nanos {
        self.0.load(Ordering::SeqCst)
    }

    pub fn advance(&self, by: Duration) {
        self.0.fetch_add(duration_to_nanos(by), Ordering::SeqCst);
    }
}

pub fn duration_to_nanos(duration: Duration) -> Nanos {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(any(target_os = "linux", target_os = "android"))]
#[inline]
fn system_now() -> Nanos {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_BOOTTIME exists on every supported kernel.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut ts) };
    if rc != 0 {
        return fallback_now();
    }
    (ts.tv_sec as u64).saturating_mul(1_000_000_000).saturating_add(ts.tv_nsec as u64)
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
#[inline]
fn system_now() -> Nanos {
    fallback_now()
}

fn fallback_now() -> Nanos {
    use once_cell::sync::Lazy;
    use std::time::Instant;
    static START: Lazy<Instant> = Lazy::new(Instant::now);
    // Offset so that the first reading is not zero.
    duration_to_nanos(START.elapsed()) + 1_000_000_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_clock_moves_forward() {
        let a = Clock::System.now();
        let b = Clock::System.now();
        assert!(b >= a);
        assert!(a > 0);
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let manual = ManualClock::new();
        let clock = Clock::Manual(manual.clone());
        let start = clock.now();
        assert_eq!(clock.now(), start);
        manual.advance(Duration::from_secs(5));
        assert_eq!(clock.now(), start + 5_000_000_000);
    }
}
