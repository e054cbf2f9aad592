//! The token cache: one token per client, read without locks, fetched by one caller at a time.
//!
//! Reads load an atomically swapped pointer (`ArcSwapOption`) and compare two pairs of integers,
//! so any number of threads read at once without touching a shared lock word. Everything else,
//! the rare fetch, goes through the flight slot (`flight.rs`):
//!
//! * fresh (before `refresh_at` on both clocks): return the cached token.
//! * refresh window (refreshing, but not expired on either clock): one caller refreshes early
//!   (`refresh_early`) and pays for that fetch, bounded by a part of the token's remaining
//!   validity; everyone else keeps getting the still-valid token without waiting, and without
//!   writing to any shared memory. A failed refresh is retried no sooner than
//!   `REFRESH_RETRY_INTERVAL` after the failure (or sooner near expiry).
//! * expired or empty: the first caller fetches; the others wait for that one flight and share
//!   its result, success or error (single flight), each at most until its own deadline.
//!
//! Never an expired token: after any fetch the clock is read again before a token is served,
//! and a token that expired on the way (its lifetime shorter than the fetch took) is not cached.
//! A definite refusal is remembered for a growing interval (`negative.rs`). After a fork the
//! child never waits on a flight of the parent (`flight.rs`), keeps a valid token, and moves its
//! refresh instant (`siblings.rs`).

mod flight;
#[cfg(all(test, loom))]
mod loom_tests;
mod negative;
mod siblings;
mod sync;
#[cfg(all(test, not(loom)))]
mod tests;

use std::sync::atomic::Ordering;
use std::time::Duration;

use sync::{Arc, ArcSwapOption, AtomicU64};

use crate::clock::{duration_to_nanos, Nanos, Now};
use crate::deadline::Deadline;
use crate::error::{Error, Result};
use crate::secret::Secret;

use flight::{Joined, Outcome, Slots, Takeoff};
use negative::NegativeCache;

/// How long after a failed early refresh the next one may start.
pub const REFRESH_RETRY_INTERVAL: Duration = Duration::from_secs(5);

/// The early refresh may take at most this part of the token's remaining validity (and at most
/// the caller's timeout), so a refresh that cannot succeed gives up while the token still has
/// time left for a later caller to try.
pub const REFRESH_SHARE_OF_REMAINING: u32 = 2;

/// A token in the cache, with its deadlines on the cache's two clocks.
pub struct CachedToken {
    pub token: Secret,
    /// From here on (monotonic), one caller refreshes while the others keep using this token.
    pub refresh_at: Nanos,
    /// From here on (monotonic), the token is not handed out.
    pub expires_at: Nanos,
    /// `refresh_at` on the wall clock.
    pub wall_refresh_at: Nanos,
    /// `expires_at` on the wall clock: a VM paused or restored from a snapshot moves only this.
    pub wall_expires_at: Nanos,
    /// The granted scope as the server sent it ("" if none).
    pub scope: Box<str>,
    /// The token type as the server sent it ("" if none).
    pub token_type: Box<str>,
    /// The process generation (`crate::fork::generation()`) the token was cached in.
    generation: u64,
}

impl CachedToken {
    /// Places a token fetched at `fetched_at` with `lifetime` on the clocks. The refresh starts
    /// `skew` before expiry, but never earlier than half-way through the lifetime, so short-lived
    /// tokens are not refreshed on every call.
    pub fn new(token: Secret, fetched_at: Now, lifetime: Duration, skew: Duration) -> CachedToken {
        Self::new_in(token, fetched_at, lifetime, skew, crate::fork::generation())
    }

    fn new_in(token: Secret, fetched_at: Now, lifetime: Duration, skew: Duration, generation: u64) -> CachedToken {
        let lifetime = duration_to_nanos(lifetime);
        let skew = duration_to_nanos(skew).min(lifetime / 2);
        let expires_at = fetched_at.mono.saturating_add(lifetime);
        let wall_expires_at = fetched_at.wall.saturating_add(lifetime);
        CachedToken {
            token,
            refresh_at: expires_at - skew,
            expires_at,
            wall_refresh_at: wall_expires_at - skew,
            wall_expires_at,
            scope: Box::default(),
            token_type: Box::default(),
            generation,
        }
    }

    /// The same token with what the server said about it.
    pub fn with_details(mut self, scope: &str, token_type: &str) -> CachedToken {
        self.scope = scope.into();
        self.token_type = token_type.into();
        self
    }

    /// Before the refresh window on both clocks.
    #[inline]
    fn is_fresh(&self, now: Now) -> bool {
        now.mono < self.refresh_at && now.wall < self.wall_refresh_at
    }

    /// Not expired on either clock.
    #[inline]
    fn is_valid(&self, now: Now) -> bool {
        now.mono < self.expires_at && now.wall < self.wall_expires_at
    }

    /// How long the token stays valid after `now`, by the clock that says less.
    pub fn remaining(&self, now: Now) -> Duration {
        let mono = self.expires_at.saturating_sub(now.mono);
        let wall = self.wall_expires_at.saturating_sub(now.wall);
        Duration::from_nanos(mono.min(wall))
    }
}

/// What `with_cached` may do besides serving a fresh token.
#[derive(Clone, Copy, Debug)]
pub struct GetMode {
    /// Never fetch: a valid cached token or `ErrorKind::NoToken`.
    pub cached_only: bool,
    /// In the refresh window, this caller may refresh (otherwise it serves the valid token).
    pub early_refresh: bool,
}

pub struct TokenCache {
    current: ArcSwapOption<CachedToken>,
    flights: Slots,
    /// No early refresh starts before this instant (monotonic; after a failed one).
    refresh_not_before: AtomicU64,
    negative: NegativeCache,
    /// Slow-path counters (`crate::stats`); the cached path never touches them.
    stats: crate::stats::Counters,
    /// Where events go (log.rs); emitted with no lock held.
    events: crate::log::Events,
    /// The process generation counter (`crate::fork`); a private one in tests, which must not
    /// see each other's simulated forks.
    generation: &'static std::sync::atomic::AtomicU64,
}

impl Default for TokenCache {
    fn default() -> TokenCache {
        TokenCache::with_generation(crate::fork::counter())
    }
}

impl TokenCache {
    #[allow(dead_code)] // clients use with_events
    pub fn new() -> TokenCache {
        TokenCache::default()
    }

    /// A cache that sends its events (and its client's) to `events`.
    pub fn with_events(events: crate::log::Events) -> TokenCache {
        TokenCache { events, ..TokenCache::default() }
    }

    /// Where this cache's client sends events.
    pub fn events(&self) -> &crate::log::Events {
        &self.events
    }

    fn with_generation(generation: &'static std::sync::atomic::AtomicU64) -> TokenCache {
        TokenCache {
            current: ArcSwapOption::empty(),
            flights: Slots::new(generation),
            refresh_not_before: AtomicU64::new(0),
            negative: NegativeCache::default(),
            stats: crate::stats::Counters::default(),
            events: crate::log::Events::new(None, std::sync::Arc::new(crate::redact::Redactor::empty())),
            generation,
        }
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Calls `use_token` with a valid token: the cached one, or one that `fetch` gets.
    /// `now` reads the cache's clocks; `fetch` gets a new token before the deadline it is given,
    /// and is called by at most one thread at a time. `timeout` bounds the whole call, waiting
    /// for another thread's fetch included.
    #[inline]
    pub fn with_token<R>(
        &self,
        now: impl Fn() -> Now,
        timeout: Duration,
        fetch: impl FnOnce(Deadline) -> Result<CachedToken>,
        use_token: impl FnOnce(&str) -> R,
    ) -> Result<R> {
        let current = self.current.load();
        if let Some(cached) = current.as_ref() {
            let at = now();
            if cached.is_fresh(at) {
                return Ok(use_token(cached.token.expose()));
            }
            if cached.is_valid(at) {
                return match self.refresh_early(cached, at, &now, timeout, fetch)? {
                    Some(newer) => Ok(use_token(newer.token.expose())),
                    None => Ok(use_token(cached.token.expose())),
                };
            }
        }
        drop(current);
        let token = self.fetch_or_wait(&now, timeout, fetch)?;
        Ok(use_token(token.token.expose()))
    }

    /// `with_token` with a choice (`GetMode`), and `use_token` sees the whole cached token and
    /// the instant it was handed out. Not the cached path of `with_token`: that one stays as it is.
    pub fn with_cached<R>(
        &self,
        now: impl Fn() -> Now,
        timeout: Duration,
        mode: GetMode,
        fetch: impl FnOnce(Deadline) -> Result<CachedToken>,
        use_token: impl FnOnce(&CachedToken, Now) -> R,
    ) -> Result<R> {
        let current = self.current.load();
        if let Some(cached) = current.as_ref() {
            let at = now();
            if cached.is_fresh(at) {
                return Ok(use_token(cached, at));
            }
            if cached.is_valid(at) {
                if mode.cached_only || !mode.early_refresh {
                    return Ok(use_token(cached, at));
                }
                return match self.refresh_early(cached, at, &now, timeout, fetch)? {
                    Some(newer) => Ok(use_token(&newer, now())),
                    None => Ok(use_token(cached, now())),
                };
            }
        }
        drop(current);
        if mode.cached_only {
            return Err(Error::new(
                crate::error::ErrorKind::NoToken,
                "no valid token is cached (a cached-only get never fetches one)",
            ));
        }
        let token = self.fetch_or_wait(&now, timeout, fetch)?;
        Ok(use_token(&token, now()))
    }

    /// Drops the cached token and forgets a remembered refusal, so the next call fetches anew.
    pub fn invalidate(&self) {
        self.current.store(None);
        self.forget_failures();
    }

    /// Drops the cached token only if it is still `refused` (an API answered 401 to it), so of
    /// many threads that saw the same 401 only the first causes a new fetch. Compared in
    /// constant time; swapped atomically. Returns whether this call dropped it (and then also
    /// forgets a remembered refusal, as `invalidate` does).
    pub fn invalidate_if(&self, refused: &str) -> bool {
        let Some(mut cached) = self.current.load_full() else { return false };
        loop {
            if !crate::secret::constant_time_eq(cached.token.expose().as_bytes(), refused.as_bytes()) {
                return false;
            }
            match self.current.compare_and_swap(&cached, None).as_ref() {
                Some(previous) if Arc::ptr_eq(previous, &cached) => break,
                // The same token may have been re-cached meanwhile (a forked child moving its
                // refresh instant): compare again with what is there now.
                Some(previous) => cached = Arc::clone(previous),
                None => return false,
            }
        }
        self.forget_failures();
        true
    }

    fn forget_failures(&self) {
        self.refresh_not_before.store(0, Ordering::Relaxed);
        self.negative.reset();
    }

    /// How long the cached token stays valid after `now` (zero when there is none).
    #[cfg(test)]
    pub fn remaining(&self, now: Now) -> Duration {
        self.current.load().as_deref().map_or(Duration::ZERO, |t| t.remaining(now))
    }

    /// How long the cached token stays valid after `now`; `None` when none is cached or it
    /// has expired.
    pub fn token_left(&self, now: Now) -> Option<Duration> {
        self.current.load().as_deref().filter(|t| t.is_valid(now)).map(|t| t.remaining(now))
    }

    /// The slow-path counters.
    pub fn stats(&self) -> &crate::stats::Counters {
        &self.stats
    }

    /// In the refresh window (`cached` still valid at `at`): refresh unless someone else is, the
    /// last failure is recent or a refusal is remembered. The caller who refreshes pays for the
    /// fetch, bounded by a part of the remaining validity. Returns the token to serve instead of
    /// `cached`, if any; an error only if `cached` expired while this caller was refreshing.
    #[cold]
    #[inline(never)]
    fn refresh_early(
        &self,
        cached: &Arc<CachedToken>,
        at: Now,
        now: &impl Fn() -> Now,
        timeout: Duration,
        fetch: impl FnOnce(Deadline) -> Result<CachedToken>,
    ) -> Result<Option<Arc<CachedToken>>> {
        let generation = self.generation();
        let spread;
        let cached = if cached.generation == generation {
            cached
        } else {
            // A forked process's first look at a token cached before the fork: move this
            // process's refresh instant (the same token, re-cached for this generation).
            spread = Arc::new(siblings::spread(cached, generation));
            let previous = self.current.compare_and_swap(cached, Some(Arc::clone(&spread)));
            let swapped = previous.as_ref().is_some_and(|previous| Arc::ptr_eq(previous, cached));
            if !swapped || spread.is_fresh(at) {
                return Ok(None);
            }
            &spread
        };
        if self.flights.flying(generation)
            || at.mono < self.refresh_not_before.load(Ordering::Relaxed)
            || self.negative.active(at.mono)
        {
            return Ok(None);
        }
        let still_cached = || self.current.load().as_ref().is_some_and(|current| Arc::ptr_eq(current, cached));
        let Some(takeoff) = self.flights.try_start(generation, still_cached) else { return Ok(None) };
        let budget = timeout.min(cached.remaining(at) / REFRESH_SHARE_OF_REMAINING);
        self.stats.early_refresh();
        match self.fly(takeoff, now, || fetch(Deadline::after(budget))) {
            Ok(token) => Ok(Some(token)),
            Err(error) => {
                self.stats.early_refresh_failed();
                // The fetch took time: serve the cached token only if it is still valid now (and
                // still cached: an invalidate meanwhile means it was refused).
                let after = now();
                match self.current.load_full() {
                    Some(token) if token.is_valid(after) => {
                        self.events.emit(crate::log::LogLevel::Warn, || {
                            format!(
                                "early refresh failed ({}); the cached token, valid for {} s more, is still served: {}",
                                error.kind().as_str(),
                                token.remaining(after).as_secs(),
                                error.message()
                            )
                        });
                        Ok(Some(token))
                    }
                    _ => Err(error),
                }
            }
        }
    }

    /// No valid token: fetch one, or wait (until this caller's own deadline) for the fetch
    /// already under way and share its result. A remembered refusal is answered at once.
    #[cold]
    #[inline(never)]
    fn fetch_or_wait(
        &self,
        now: &impl Fn() -> Now,
        timeout: Duration,
        fetch: impl FnOnce(Deadline) -> Result<CachedToken>,
    ) -> Outcome {
        let deadline = Deadline::after(timeout);
        loop {
            let mut remembered = false;
            let joined = self.flights.join(self.generation(), || {
                // A flight may have landed between our read and taking the lock.
                let at = now();
                if let Some(token) = self.current.load_full().filter(|t| t.is_valid(at)) {
                    return Some(Ok(token));
                }
                self.negative.check(at.mono).map(|refusal| {
                    self.stats.negative_answer();
                    remembered = true;
                    Err(refusal)
                })
            });
            let flight = match joined {
                Err(answer) => {
                    // Out of the slot's lock now.
                    if remembered {
                        if let Err(error) = &answer {
                            self.events.emit(crate::log::LogLevel::Debug, || {
                                format!("answered with a remembered refusal, no request sent: {}", error.message())
                            });
                        }
                    }
                    return answer;
                }
                Ok(Joined::Started(takeoff)) => return self.fly(takeoff, now, || fetch(deadline)),
                Ok(Joined::Waiting(flight)) => {
                    self.stats.stampede_join();
                    flight
                }
            };
            match flight.wait(deadline) {
                // The token was valid when it landed; this caller may have joined the flight
                // just after that (before the slot was cleared), when it may have expired.
                Ok(token) if !token.is_valid(now()) => {
                    if deadline.is_past() {
                        return Err(Error::new(
                            crate::error::ErrorKind::Timeout,
                            "timed out: every token fetched while this call waited had already expired",
                        ));
                    }
                    // Look again: start a new flight, or join the next one.
                    std::hint::spin_loop();
                }
                outcome => return outcome,
            }
        }
    }

    /// Runs the fetch of the flight this thread started, caches the token if it is still valid
    /// when it lands, remembers a failure, and hands the outcome to the waiters (even if `fetch`
    /// panics: `Takeoff`'s drop).
    fn fly(&self, takeoff: Takeoff<'_>, now: &impl Fn() -> Now, fetch: impl FnOnce() -> Result<CachedToken>) -> Outcome {
        let fetched = fetch();
        let landed = now();
        let outcome = match fetched {
            Ok(token) if token.is_valid(landed) => {
                let token = Arc::new(token);
                self.current.store(Some(Arc::clone(&token)));
                self.forget_failures();
                Ok(token)
            }
            Ok(_) => Err(Error::response(
                "the token endpoint issued a token that had expired by the time it arrived \
                 (its lifetime is shorter than the request took)",
            )),
            Err(error) => Err(error),
        };
        if let Err(error) = &outcome {
            self.negative.record(error, landed.mono);
            // The next early refresh waits from the failure, not from when the caller came in.
            if let Some(cached) = self.current.load().as_deref() {
                let retry_in =
                    duration_to_nanos(REFRESH_RETRY_INTERVAL).min(cached.expires_at.saturating_sub(landed.mono) / 2);
                self.refresh_not_before.store(landed.mono.saturating_add(retry_in), Ordering::Relaxed);
            }
        }
        takeoff.land(outcome)
    }
}
