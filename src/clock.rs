//! The clocks token lifetimes are measured on.
//!
//! Expiry must not move back when someone sets the wall clock back, and must keep counting while
//! a machine sleeps (a token does not pause on the server). On Linux that is CLOCK_BOOTTIME, read
//! the cheap way (see `boottime`); elsewhere `Instant` (monotonic). But a virtual machine that
//! is paused, or restored from a snapshot, advances neither MONOTONIC nor BOOTTIME, while the
//! server's clock moved on: so every reading also carries the wall clock (CLOCK_REALTIME, which
//! `boottime` reads anyway), and the cache treats a token as expired when either clock says so.
//! Tests swap in a manual clock to walk through a token's life without waiting.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Nanoseconds on a clock that only moves forward. Only differences are meaningful.
pub type Nanos = u64;

/// One reading of both clocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Now {
    /// BOOTTIME (or monotonic): never jumps, counts suspend.
    pub mono: Nanos,
    /// REALTIME (nanoseconds since the Unix epoch, coarse): moves when a paused or restored VM
    /// catches up, and when someone sets the clock.
    pub wall: Nanos,
}

#[derive(Clone, Debug, Default)]
pub enum Clock {
    #[default]
    System,
    Manual(ManualClock),
}

impl Clock {
    #[inline]
    pub fn now(&self) -> Now {
        match self {
            Clock::System => system_now(),
            Clock::Manual(manual) => manual.now(),
        }
    }
}

/// A clock that moves only when told to; shared by clones. `advance` moves both of its clocks
/// (time passing), `advance_wall` the wall clock alone (a VM resumed from a pause or a snapshot).
#[derive(Clone, Debug, Default)]
pub struct ManualClock(Arc<[AtomicU64; 2]>);

impl ManualClock {
    pub fn new() -> Self {
        // Start well away from zero so subtracting margins never underflows; the wall clock at
        // some day in 2025.
        ManualClock(Arc::new([AtomicU64::new(1_000_000 * 1_000_000_000), AtomicU64::new(1_750_000_000 * 1_000_000_000)]))
    }

    pub fn now(&self) -> Now {
        Now { mono: self.0[0].load(Ordering::SeqCst), wall: self.0[1].load(Ordering::SeqCst) }
    }

    pub fn advance(&self, by: Duration) {
        self.0[0].fetch_add(duration_to_nanos(by), Ordering::SeqCst);
        self.0[1].fetch_add(duration_to_nanos(by), Ordering::SeqCst);
    }

    /// Moves the wall clock only, as a VM restored from a snapshot sees it.
    pub fn advance_wall(&self, by: Duration) {
        self.0[1].fetch_add(duration_to_nanos(by), Ordering::SeqCst);
    }
}

pub fn duration_to_nanos(duration: Duration) -> Nanos {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(any(target_os = "linux", target_os = "android"))]
#[inline]
fn system_now() -> Now {
    boottime::now()
}

/// CLOCK_BOOTTIME at the price of the coarse clocks.
///
/// Every cached get reads the clock, and a precise CLOCK_BOOTTIME read costs a full vDSO clock
/// read (about 25 ns on the benchmark machine, as much as the rest of the cached path), while
/// the coarse clocks cost about 5 ns. There is no coarse BOOTTIME, so it is assembled:
///
///   BOOTTIME = MONOTONIC + time spent suspended
///
/// The suspended time changes only at a resume, and then the kernel moves REALTIME forward by
/// the same amount (MONOTONIC does not move). So each read also takes REALTIME_COARSE, and when
/// REALTIME - MONOTONIC is no longer what it was when the suspended time was last measured (a
/// resume, or someone setting the wall clock), it measures again with precise reads. Between
/// those, NTP slews REALTIME and MONOTONIC alike, so their difference holds still.
///
/// Resolution is the kernel tick (1-10 ms): ample for token lifetimes of minutes. A suspend
/// shorter than `TOLERANCE` may go unnoticed, which only shifts expiry by less than that.
#[cfg(any(target_os = "linux", target_os = "android"))]
mod boottime {
    use super::{fallback_now, Nanos, Now};
    use std::sync::atomic::{AtomicU64, Ordering};

    /// How far REALTIME - MONOTONIC may drift before it counts as a jump. Two coarse reads may
    /// straddle a tick, so this must exceed one tick.
    const TOLERANCE: u64 = 50_000_000;

    /// BOOTTIME - MONOTONIC: the time spent suspended since boot. Only grows.
    static SUSPENDED: AtomicU64 = AtomicU64::new(0);
    /// REALTIME - MONOTONIC (wrapping) when `SUSPENDED` was last measured; 0 before the first
    /// measurement, which no real clock is near.
    static WALL_OFFSET: AtomicU64 = AtomicU64::new(0);

    /// BOOTTIME, and the REALTIME_COARSE read it is assembled from (which costs nothing more).
    #[inline]
    pub fn now() -> Now {
        let (Some(monotonic), Some(realtime)) =
            (read(libc::CLOCK_MONOTONIC_COARSE), read(libc::CLOCK_REALTIME_COARSE))
        else {
            return fallback_now();
        };
        let wall_offset = realtime.wrapping_sub(monotonic);
        // Acquire: pairs with the Release in `measure`, so `SUSPENDED` below is at least as new.
        let seen = WALL_OFFSET.load(Ordering::Acquire);
        if (wall_offset.wrapping_sub(seen) as i64).unsigned_abs() > TOLERANCE {
            measure();
        }
        Now { mono: monotonic.saturating_add(SUSPENDED.load(Ordering::Relaxed)), wall: realtime }
    }

    /// Measures the suspended time, and the wall offset it goes with, with precise reads.
    #[cold]
    fn measure() -> Option<()> {
        // The reads are bracketed by two MONOTONIC reads; a thread preempted in between would
        // overstate the suspended time (for good, since it only grows), so keep the tightest of
        // a few tries.
        let mut best: Option<(Nanos, Nanos, Nanos, Nanos)> = None;
        for _ in 0..4 {
            let before = read(libc::CLOCK_MONOTONIC)?;
            let boottime = read(libc::CLOCK_BOOTTIME)?;
            let realtime = read(libc::CLOCK_REALTIME)?;
            let after = read(libc::CLOCK_MONOTONIC)?;
            let bracket = after.saturating_sub(before);
            if best.map_or(true, |(b, ..)| bracket < b) {
                best = Some((bracket, after, boottime, realtime));
            }
            if bracket < 10_000 {
                break;
            }
        }
        let (_, monotonic, boottime, realtime) = best?;
        // max: the suspended time only grows; a slightly smaller reading must not move the
        // clock backwards.
        SUSPENDED.fetch_max(boottime.saturating_sub(monotonic), Ordering::Relaxed);
        WALL_OFFSET.store(realtime.wrapping_sub(monotonic), Ordering::Release);
        Some(())
    }

    #[inline]
    fn read(clock: libc::clockid_t) -> Option<Nanos> {
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: `ts` is a valid, writable timespec; these clocks exist on every supported kernel.
        if unsafe { libc::clock_gettime(clock, &mut ts) } != 0 {
            return None;
        }
        Some((ts.tv_sec as u64).saturating_mul(1_000_000_000).saturating_add(ts.tv_nsec as u64))
    }

    #[cfg(test)]
    pub fn precise_boottime() -> Nanos {
        read(libc::CLOCK_BOOTTIME).unwrap()
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
#[inline]
fn system_now() -> Now {
    fallback_now()
}

fn fallback_now() -> Now {
    use once_cell::sync::Lazy;
    use std::time::{Instant, SystemTime, UNIX_EPOCH};
    static START: Lazy<Instant> = Lazy::new(Instant::now);
    // Offset so that the first reading is not zero.
    let mono = duration_to_nanos(START.elapsed()) + 1_000_000_000;
    let wall = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, duration_to_nanos);
    Now { mono, wall }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_clock_moves_forward() {
        let a = Clock::System.now();
        let b = Clock::System.now();
        assert!(b.mono >= a.mono);
        assert!(a.mono > 0);
    }

    #[test]
    fn system_wall_clock_is_realtime_to_a_few_ticks() {
        use std::time::{SystemTime, UNIX_EPOCH};
        for _ in 0..1000 {
            let before = duration_to_nanos(SystemTime::now().duration_since(UNIX_EPOCH).unwrap());
            let now = Clock::System.now().wall;
            let after = duration_to_nanos(SystemTime::now().duration_since(UNIX_EPOCH).unwrap());
            // Coarse: up to a tick behind, never ahead (unless the clock was set in between).
            assert!(now <= after, "{now} > {after}");
            assert!(before.saturating_sub(now) < 20_000_000, "{} ns behind", before - now);
        }
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn system_clock_is_boottime_to_a_few_ticks() {
        for _ in 0..1000 {
            let before = boottime::precise_boottime();
            let now = Clock::System.now().mono;
            let after = boottime::precise_boottime();
            // Coarse: up to a tick (at most 10 ms) behind, never ahead.
            assert!(now <= after, "{now} > {after}");
            assert!(before.saturating_sub(now) < 20_000_000, "{} ns behind", before - now);
        }
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let manual = ManualClock::new();
        let clock = Clock::Manual(manual.clone());
        let start = clock.now();
        assert_eq!(clock.now(), start);
        manual.advance(Duration::from_secs(5));
        assert_eq!(clock.now(), Now { mono: start.mono + 5_000_000_000, wall: start.wall + 5_000_000_000 });
        manual.advance_wall(Duration::from_secs(7));
        assert_eq!(clock.now(), Now { mono: start.mono + 5_000_000_000, wall: start.wall + 12_000_000_000 });
    }
}
