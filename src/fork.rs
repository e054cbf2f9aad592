//! Noticing that the process forked, at the cost of one relaxed atomic load.
//!
//! A forked child inherits the parent's memory: its kept-alive connections (whose sockets the
//! parent still uses), a fetch "in flight" whose thread does not exist in the child, the retry
//! jitter's random state. The child handler registered with `pthread_atfork` only bumps a
//! generation counter (async-signal-safe: no lock, no allocation); everything else compares the
//! generation it recorded with `generation()` on its slow path and starts afresh when they
//! differ. The cached path never reads it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;

static GENERATION: AtomicU64 = AtomicU64::new(0);
static INSTALL: Once = Once::new();

/// How many times this process's ancestors and itself have forked since the library was first
/// used (0 in the original process). Only equality matters.
#[inline]
pub fn generation() -> u64 {
    GENERATION.load(Ordering::Acquire)
}

/// The counter `generation()` reads, for caches that take it as a parameter (tests give them a
/// private one, so a simulated fork in one test does not reach another's cache).
pub fn counter() -> &'static AtomicU64 {
    &GENERATION
}

/// Registers the fork handler, once per process; called when a client is created.
pub fn install() {
    INSTALL.call_once(|| {
        #[cfg(unix)]
        // SAFETY: `after_fork_in_child` is an `extern "C" fn()` that only touches a static.
        unsafe {
            libc::pthread_atfork(None, None, Some(after_fork_in_child));
        }
    });
}

#[cfg(unix)]
extern "C" fn after_fork_in_child() {
    GENERATION.fetch_add(1, Ordering::AcqRel);
}

thread_local! {
    /// The generation this thread's jitter was last seeded in.
    static JITTER_GENERATION: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Reseeds this thread's jitter (`fastrand`) if the process forked since it was last seeded
/// here. The forking thread's random state was copied from the parent: without this, parent
/// and child would back off by the same random amounts and retry in lockstep. Mixing in the pid
/// keeps siblings apart too. Called on the retry path, never on the cached path.
pub fn reseed_jitter_after_fork() {
    let now = generation();
    let stale = JITTER_GENERATION.try_with(|seen| seen.replace(now) != now).unwrap_or(false);
    if stale {
        // SAFETY: getpid cannot fail.
        let pid = unsafe { libc::getpid() } as u64;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        fastrand::seed(pid.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ nanos ^ fastrand::u64(..));
    }
}

/// For tests: what the child handler does, without forking.
#[cfg(test)]
pub fn simulate_fork() {
    #[cfg(unix)]
    after_fork_in_child();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fork_bumps_the_generation() {
        install();
        let before = generation();
        simulate_fork();
        assert_ne!(generation(), before);
    }
}
