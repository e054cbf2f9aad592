//! The token cache: one token per client, read without locks, fetched by one caller at a time.
//!
//! Reads load an atomically swapped pointer (`ArcSwapOption`) and compare two integers, so any
//! number of threads read at once without touching a shared lock word. Everything else, the
//! rare fetch, goes through a small mutex-protected "flight" slot:
//!
//! * fresh (now < refresh_at): return the cached token.
//! * refresh window (refresh_at <= now < expires_at): one caller takes the flight and fetches;
//!   everyone else keeps getting the still-valid token without waiting, and without writing to
//!   any shared memory (they see the flight under way through a plain atomic load). A failed
//!   refresh is retried no sooner than `REFRESH_RETRY_INTERVAL` later (or sooner near expiry).
//! * expired or empty: the first caller fetches; the others wait for that one flight and share
//!   its result, success or error (single flight). They wait on the flight's own completion
//!   cell, not on the mutex, so when it lands they all wake at once and return without queueing
//!   for a lock one after another (which, with a thousand waiters, took tens of milliseconds).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwapOption;
use once_cell::sync::OnceCell;
use parking_lot::Mutex;

use crate::clock::{duration_to_nanos, Nanos};
use crate::deadline::Deadline;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// How long after a failed background refresh the next one may start.
pub const REFRESH_RETRY_INTERVAL: Duration = Duration::from_secs(5);

/// A token in the cache, with its deadlines on the cache's clock.
pub struct CachedToken {
    pub token: Secret,
    /// From here on, one caller refreshes while the others keep using this token.
    pub refresh_at: Nanos,
    /// From here on, the token is not handed out.
    pub expires_at: Nanos,
}

impl CachedToken {
    /// Places a token fetched at `fetched_at` with `lifetime` on the clock. The refresh starts
    /// `skew` before expiry, but never earlier than half-way through the lifetime, so short-lived
    /// tokens are not refreshed on every call.
    pub fn new(token: Secret, fetched_at: Nanos, lifetime: Duration, skew: Duration) -> CachedToken {
        let lifetime = duration_to_nanos(lifetime);
        let skew = duration_to_nanos(skew).min(lifetime / 2);
        let expires_at = fetched_at.saturating_add(lifetime);
        CachedToken { token, refresh_at: expires_at - skew, expires_at }
    }
}

/// What a flight ends with: the new token or the error, for the fetching caller and every
/// caller that waited on it. Handed over directly, not re-read from the cache, because an
/// invalidate may empty the cache before they wake.
type Outcome = Result<Arc<CachedToken>>;

/// One token fetch under way.
#[derive(Default)]
struct Flight {
    outcome: OnceCell<Outcome>,
}

#[derive(Default)]
pub struct TokenCache {
    current: ArcSwapOption<CachedToken>,
    /// The fetch under way, if any. Locked only to start or join a flight, never to read.
    flight: Mutex<Option<Arc<Flight>>>,
    /// Whether a flight is under way (mirrors `flight`), so callers in the refresh window can
    /// skip the refresh with a load instead of a lock attempt that writes to a shared line.
    flying: AtomicBool,
    /// No background refresh starts before this instant (after a failed one).
    refresh_not_before: AtomicU64,
}

impl TokenCache {
    pub fn new() -> TokenCache {
        TokenCache::default()
    }

    /// Calls `use_token` with a valid token: the cached one, or one that `fetch` gets.
    /// `now` reads the cache's clock; `fetch` gets a new token before the deadline it is given,
    /// and is called by at most one thread at a time. `timeout` bounds the whole call, waiting
    /// for another thread's fetch included.
    #[inline]
    pub fn with_token<R>(
        &self,
        now: impl Fn() -> Nanos,
        timeout: Duration,
        fetch: impl FnOnce(Deadline) -> Result<CachedToken>,
        use_token: impl FnOnce(&str) -> R,
    ) -> Result<R> {
        let current = self.current.load();
        if let Some(cached) = current.as_deref() {
            let now = now();
            if now < cached.refresh_at {
                return Ok(use_token(cached.token.expose()));
            }
            if now < cached.expires_at {
                if self.refresh_in_background_of_readers(now, || fetch(Deadline::after(timeout))) {
                    // This caller refreshed: serve the new token, or the old one if the refresh
                    // failed.
                    let newest = self.current.load();
                    let token = newest.as_deref().filter(|t| now < t.expires_at).unwrap_or(cached);
                    return Ok(use_token(token.token.expose()));
                }
                return Ok(use_token(cached.token.expose()));
            }
        }
        drop(current);
        let token = self.fetch_or_wait(&now, || fetch(Deadline::after(timeout)))?;
        Ok(use_token(token.token.expose()))
    }

    /// Drops the cached token, so the next call fetches a new one.
    pub fn invalidate(&self) {
        self.current.store(None);
        self.refresh_not_before.store(0, Ordering::Relaxed);
    }

    /// Drops the cached token only if it is still `refused` (an API answered 401 to it), so of
    /// many threads that saw the same 401 only the first causes a new fetch. Compared in
    /// constant time; swapped atomically. Returns whether this call dropped it.
    pub fn invalidate_if(&self, refused: &str) -> bool {
        let current = self.current.load();
        let Some(cached) = current.as_ref() else { return false };
        if !crate::secret::constant_time_eq(cached.token.expose().as_bytes(), refused.as_bytes()) {
            return false;
        }
        let previous = self.current.compare_and_swap(&*current, None);
        let dropped = match (previous.as_ref(), current.as_ref()) {
            (Some(previous), Some(current)) => Arc::ptr_eq(previous, current),
            _ => false,
        };
        if dropped {
            self.refresh_not_before.store(0, Ordering::Relaxed);
        }
        dropped
    }

    /// Whether a token is cached and not expired at `now`.
    #[cfg(test)]
    pub fn has_valid_token(&self, now: Nanos) -> bool {
        self.current.load().as_deref().is_some_and(|t| now < t.expires_at)
    }

    /// How long the cached token stays valid after `now` (zero when there is none).
    pub fn remaining(&self, now: Nanos) -> Duration {
        let expires_at = self.current.load().as_deref().map_or(now, |t| t.expires_at);
        Duration::from_nanos(expires_at.saturating_sub(now))
    }

    /// In the refresh window: refresh if nobody else is and the last failure is far enough back,
    /// and say whether this caller did; otherwise return at once.
    #[cold]
    fn refresh_in_background_of_readers(&self, now: Nanos, fetch: impl FnOnce() -> Result<CachedToken>) -> bool {
        if self.flying.load(Ordering::Relaxed) || now < self.refresh_not_before.load(Ordering::Relaxed) {
            return false;
        }
        let Some(mut slot) = self.flight.try_lock() else { return false };
        if slot.is_some() {
            return false;
        }
        let flight = self.take_off(&mut slot);
        drop(slot);
        let _ = self.fly(&flight, || {
            let fetched = fetch();
            if fetched.is_err() {
                // Set before the flight lands, so no caller slips in a retry at once.
                let expires_at = self.current.load().as_deref().map_or(now, |t| t.expires_at);
                let retry_in = duration_to_nanos(REFRESH_RETRY_INTERVAL).min(expires_at.saturating_sub(now) / 2);
                self.refresh_not_before.store(now.saturating_add(retry_in), Ordering::Relaxed);
            }
            fetched
        });
        true
    }

    /// No valid token: fetch one, or wait for the fetch already under way and share its result.
    #[cold]
    fn fetch_or_wait(&self, now: &impl Fn() -> Nanos, fetch: impl FnOnce() -> Result<CachedToken>) -> Outcome {
        let mut slot = self.flight.lock();
        // A flight may have landed between our read and taking the lock.
        if let Some(token) = self.valid_token(now()) {
            return Ok(token);
        }
        if let Some(flight) = slot.as_ref() {
            let flight = Arc::clone(flight);
            drop(slot);
            // The flight's own timeouts bound this wait; a panicking fetch still lands (`fly`).
            return flight.outcome.wait().clone();
        }
        let flight = self.take_off(&mut slot);
        drop(slot);
        self.fly(&flight, fetch)
    }

    fn valid_token(&self, now: Nanos) -> Option<Arc<CachedToken>> {
        self.current.load_full().filter(|t| now < t.expires_at)
    }

    /// Starts a flight in the (empty) slot.
    fn take_off(&self, slot: &mut Option<Arc<Flight>>) -> Arc<Flight> {
        let flight = Arc::new(Flight::default());
        *slot = Some(Arc::clone(&flight));
        self.flying.store(true, Ordering::Relaxed);
        flight
    }

    /// Runs the fetch of the flight this thread started, publishes the token, clears the slot
    /// and hands the outcome to the waiters, even if `fetch` panics.
    fn fly(&self, flight: &Flight, fetch: impl FnOnce() -> Result<CachedToken>) -> Outcome {
        struct Landing<'a> {
            cache: &'a TokenCache,
            flight: &'a Flight,
            outcome: Option<Outcome>,
        }
        impl Drop for Landing<'_> {
            fn drop(&mut self) {
                // Clear the slot first: from here on a newcomer finds the new token, or (after a
                // failure) starts a flight of its own rather than joining this finished one.
                *self.cache.flight.lock() = None;
                self.cache.flying.store(false, Ordering::Relaxed);
                let outcome = self
                    .outcome
                    .take()
                    .unwrap_or_else(|| Err(Error::internal("the token fetch panicked")));
                // Wakes every waiter at once.
                let _ = self.flight.outcome.set(outcome);
            }
        }
        let mut landing = Landing { cache: self, flight, outcome: None };
        let outcome = fetch().map(Arc::new);
        if let Ok(token) = &outcome {
            self.current.store(Some(Arc::clone(token)));
            self.refresh_not_before.store(0, Ordering::Relaxed);
        }
        landing.outcome = Some(outcome.clone());
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::error::ErrorKind;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Barrier;

    const SECOND: Nanos = 1_000_000_000;

    fn token(value: &str, clock: &ManualClock, lifetime_secs: u64) -> CachedToken {
        CachedToken::new(Secret::new(value), clock.now(), Duration::from_secs(lifetime_secs), Duration::from_secs(60))
    }

    fn get(cache: &TokenCache, clock: &ManualClock, fetch: impl FnOnce() -> Result<CachedToken>) -> Result<String> {
        cache.with_token(|| clock.now(), Duration::from_secs(30), |_deadline| fetch(), str::to_owned)
    }

    #[test]
    fn skew_is_at_most_half_the_lifetime() {
        let t = CachedToken::new(Secret::new("t"), 0, Duration::from_secs(3600), Duration::from_secs(60));
        assert_eq!((t.refresh_at, t.expires_at), (3540 * SECOND, 3600 * SECOND));
        let short = CachedToken::new(Secret::new("t"), 0, Duration::from_secs(30), Duration::from_secs(60));
        assert_eq!(short.refresh_at, 15 * SECOND);
    }

    #[test]
    fn a_fresh_token_is_served_from_memory() {
        let clock = ManualClock::new();
        let cache = TokenCache::new();
        assert_eq!(get(&cache, &clock, || Ok(token("a", &clock, 3600))).unwrap(), "a");
        clock.advance(Duration::from_secs(3539));
        assert_eq!(get(&cache, &clock, || panic!("must not fetch")).unwrap(), "a");
    }

    #[test]
    fn in_the_refresh_window_one_caller_refreshes() {
        let clock = ManualClock::new();
        let cache = TokenCache::new();
        get(&cache, &clock, || Ok(token("old", &clock, 3600))).unwrap();
        clock.advance(Duration::from_secs(3550));
        assert_eq!(get(&cache, &clock, || Ok(token("new", &clock, 3600))).unwrap(), "new");
        assert_eq!(get(&cache, &clock, || panic!("must not fetch")).unwrap(), "new");
    }

    #[test]
    fn a_failed_refresh_keeps_serving_the_valid_token_and_retries_later() {
        let clock = ManualClock::new();
        let cache = TokenCache::new();
        get(&cache, &clock, || Ok(token("old", &clock, 3600))).unwrap();
        clock.advance(Duration::from_secs(3550));
        let fail = || Err(Error::new(ErrorKind::Network, "down"));
        assert_eq!(get(&cache, &clock, fail).unwrap(), "old");
        // Within the retry interval nobody tries again.
        assert_eq!(get(&cache, &clock, || panic!("must not fetch yet")).unwrap(), "old");
        clock.advance(REFRESH_RETRY_INTERVAL);
        assert_eq!(get(&cache, &clock, || Ok(token("new", &clock, 3600))).unwrap(), "new");
    }

    #[test]
    fn an_expired_token_is_never_served() {
        let clock = ManualClock::new();
        let cache = TokenCache::new();
        get(&cache, &clock, || Ok(token("old", &clock, 3600))).unwrap();
        clock.advance(Duration::from_secs(3600));
        let err = get(&cache, &clock, || Err(Error::new(ErrorKind::Network, "down"))).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Network);
        assert!(!cache.has_valid_token(clock.now()));
    }

    #[test]
    fn invalidate_drops_the_token() {
        let clock = ManualClock::new();
        let cache = TokenCache::new();
        get(&cache, &clock, || Ok(token("a", &clock, 3600))).unwrap();
        cache.invalidate();
        assert_eq!(get(&cache, &clock, || Ok(token("b", &clock, 3600))).unwrap(), "b");
    }

    fn stampede(threads: usize, outcome: fn(&ManualClock) -> Result<CachedToken>) -> (usize, Vec<Result<String>>) {
        let clock = ManualClock::new();
        let cache = TokenCache::new();
        let fetches = AtomicUsize::new(0);
        let barrier = Barrier::new(threads);
        let results = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    scope.spawn(|| {
                        barrier.wait();
                        get(&cache, &clock, || {
                            fetches.fetch_add(1, Ordering::SeqCst);
                            // Hold the flight long enough for every thread to arrive.
                            std::thread::sleep(Duration::from_millis(100));
                            outcome(&clock)
                        })
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect::<Vec<_>>()
        });
        (fetches.into_inner(), results)
    }

    #[test]
    fn many_callers_on_an_empty_cache_make_one_fetch() {
        let (fetches, results) = stampede(32, |clock| Ok(token("shared", clock, 3600)));
        assert_eq!(fetches, 1);
        assert!(results.iter().all(|r| r.as_deref() == Ok("shared")));
    }

    #[test]
    fn waiters_share_the_flights_error() {
        let (fetches, results) = stampede(16, |_| Err(Error::new(ErrorKind::OAuth, "invalid_client")));
        assert_eq!(fetches, 1);
        assert!(results.iter().all(|r| r.as_ref().unwrap_err().kind() == ErrorKind::OAuth));
    }

    #[test]
    fn during_a_refresh_the_others_get_the_old_token_without_waiting() {
        let clock = ManualClock::new();
        let cache = TokenCache::new();
        get(&cache, &clock, || Ok(token("old", &clock, 3600))).unwrap();
        clock.advance(Duration::from_secs(3550));
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        std::thread::scope(|scope| {
            let (cache, clock) = (&cache, &clock);
            let refresher = scope.spawn(move || {
                get(cache, clock, || {
                    started_tx.send(()).unwrap();
                    release_rx.recv_timeout(Duration::from_secs(10)).unwrap();
                    Ok(token("new", clock, 3600))
                })
            });
            started_rx.recv_timeout(Duration::from_secs(10)).unwrap();
            for _ in 0..100 {
                assert_eq!(get(cache, clock, || panic!("only the refresher fetches")).unwrap(), "old");
            }
            release_tx.send(()).unwrap();
            assert_eq!(refresher.join().unwrap().unwrap(), "new");
        });
        assert_eq!(get(&cache, &clock, || panic!("must not fetch")).unwrap(), "new");
    }

    #[test]
    fn waiters_of_a_panicking_fetch_get_an_internal_error() {
        let clock = ManualClock::new();
        let cache = TokenCache::new();
        let barrier = Barrier::new(8);
        let results: Vec<_> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    scope.spawn(|| {
                        barrier.wait();
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            get(&cache, &clock, || {
                                std::thread::sleep(Duration::from_millis(100));
                                panic!("boom")
                            })
                        }))
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(results.iter().filter(|r| r.is_err()).count(), 1, "only the fetching caller panics");
        for waited in results.iter().filter_map(|r| r.as_ref().ok()) {
            assert_eq!(waited.as_ref().unwrap_err().kind(), ErrorKind::Internal);
        }
        // And the next caller fetches anew.
        assert_eq!(get(&cache, &clock, || Ok(token("after", &clock, 3600))).unwrap(), "after");
    }

    #[test]
    fn a_panicking_fetch_releases_the_waiters() {
        let clock = ManualClock::new();
        let cache = TokenCache::new();
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = get(&cache, &clock, || panic!("boom"));
        }));
        assert!(caught.is_err());
        // The flight was released: the next caller fetches instead of waiting forever.
        assert_eq!(get(&cache, &clock, || Ok(token("after", &clock, 3600))).unwrap(), "after");
    }
}
