//! The cache on a manual clock: a token's life walked through without waiting, and the races
//! of its slow paths. Each cache has a private fork generation (`cache()`), so a simulated fork
//! in one test never reaches another test's cache.

use super::*;
use crate::clock::ManualClock;
use crate::error::ErrorKind;
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::mpsc;
use std::sync::Barrier;
use std::time::Instant;

const SECOND: Nanos = 1_000_000_000;

/// A cache with its own fork generation counter, and a way to simulate a fork for it.
fn cache() -> (TokenCache, &'static AtomicU64) {
    let generation: &'static AtomicU64 = Box::leak(Box::new(AtomicU64::new(0)));
    (TokenCache::with_generation(generation), generation)
}

fn fork(generation: &AtomicU64) {
    generation.fetch_add(1, Ordering::AcqRel);
}

fn token_in(value: &str, clock: &ManualClock, lifetime_secs: u64, cache: &TokenCache) -> CachedToken {
    let (lifetime, skew) = (Duration::from_secs(lifetime_secs), Duration::from_secs(60));
    CachedToken::new_in(Secret::new(value), clock.now(), lifetime, skew, cache.generation())
}

fn get_with(
    cache: &TokenCache,
    clock: &ManualClock,
    timeout: Duration,
    fetch: impl FnOnce() -> Result<CachedToken>,
) -> Result<String> {
    cache.with_token(|| clock.now(), timeout, |_deadline| fetch(), str::to_owned)
}

fn get(cache: &TokenCache, clock: &ManualClock, fetch: impl FnOnce() -> Result<CachedToken>) -> Result<String> {
    get_with(cache, clock, Duration::from_secs(30), fetch)
}

fn down() -> Result<CachedToken> {
    Err(Error::new(ErrorKind::Network, "down"))
}

fn refused() -> Error {
    Error::new(ErrorKind::OAuth, "token endpoint refused the request: invalid_client: bad secret").with_http_status(401)
}

#[test]
fn skew_is_at_most_half_the_lifetime() {
    let at = Now { mono: 0, wall: 1_000 * SECOND };
    let t = CachedToken::new_in(Secret::new("t"), at, Duration::from_secs(3600), Duration::from_secs(60), 0);
    assert_eq!((t.refresh_at, t.expires_at), (3540 * SECOND, 3600 * SECOND));
    assert_eq!((t.wall_refresh_at, t.wall_expires_at), (4540 * SECOND, 4600 * SECOND));
    let short = CachedToken::new_in(Secret::new("t"), at, Duration::from_secs(30), Duration::from_secs(60), 0);
    assert_eq!(short.refresh_at, 15 * SECOND);
}

#[test]
fn a_fresh_token_is_served_from_memory() {
    let clock = ManualClock::new();
    let (cache, _) = cache();
    assert_eq!(get(&cache, &clock, || Ok(token_in("a", &clock, 3600, &cache))).unwrap(), "a");
    clock.advance(Duration::from_secs(3539));
    assert_eq!(get(&cache, &clock, || panic!("must not fetch")).unwrap(), "a");
}

#[test]
fn in_the_refresh_window_one_caller_refreshes() {
    let clock = ManualClock::new();
    let (cache, _) = cache();
    get(&cache, &clock, || Ok(token_in("old", &clock, 3600, &cache))).unwrap();
    clock.advance(Duration::from_secs(3550));
    assert_eq!(get(&cache, &clock, || Ok(token_in("new", &clock, 3600, &cache))).unwrap(), "new");
    assert_eq!(get(&cache, &clock, || panic!("must not fetch")).unwrap(), "new");
}

#[test]
fn a_failed_refresh_keeps_serving_the_valid_token_and_retries_later() {
    let clock = ManualClock::new();
    let (cache, _) = cache();
    get(&cache, &clock, || Ok(token_in("old", &clock, 3600, &cache))).unwrap();
    clock.advance(Duration::from_secs(3550));
    assert_eq!(get(&cache, &clock, down).unwrap(), "old");
    // Within the retry interval nobody tries again.
    assert_eq!(get(&cache, &clock, || panic!("must not fetch yet")).unwrap(), "old");
    clock.advance(REFRESH_RETRY_INTERVAL);
    assert_eq!(get(&cache, &clock, || Ok(token_in("new", &clock, 3600, &cache))).unwrap(), "new");
}

#[test]
fn an_expired_token_is_never_served() {
    let clock = ManualClock::new();
    let (cache, _) = cache();
    get(&cache, &clock, || Ok(token_in("old", &clock, 3600, &cache))).unwrap();
    clock.advance(Duration::from_secs(3600));
    let err = get(&cache, &clock, down).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network);
    assert_eq!(cache.remaining(clock.now()), Duration::ZERO);
}

#[test]
fn a_refresh_that_outlasts_the_token_and_fails_serves_no_expired_token() {
    let clock = ManualClock::new();
    let (cache, _) = cache();
    get(&cache, &clock, || Ok(token_in("old", &clock, 3600, &cache))).unwrap();
    clock.advance(Duration::from_secs(3550));
    let err = get(&cache, &clock, || {
        // The refresh takes longer than the 50 s the token had left, then fails.
        clock.advance(Duration::from_secs(51));
        down()
    })
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network);
    // And the next caller fetches (no back-off from the expired token).
    assert_eq!(get(&cache, &clock, || Ok(token_in("new", &clock, 3600, &cache))).unwrap(), "new");
}

#[test]
fn slow_failing_refreshes_do_not_run_back_to_back() {
    let clock = ManualClock::new();
    let (cache, _) = cache();
    let fetches = AtomicUsize::new(0);
    get(&cache, &clock, || Ok(token_in("old", &clock, 3600, &cache))).unwrap();
    clock.advance(Duration::from_secs(3545));
    let slow_failure = || {
        fetches.fetch_add(1, Ordering::SeqCst);
        // Longer than the retry interval: the back-off must count from the failure.
        clock.advance(REFRESH_RETRY_INTERVAL + Duration::from_secs(1));
        down()
    };
    assert_eq!(get(&cache, &clock, slow_failure).unwrap(), "old");
    assert_eq!(get(&cache, &clock, slow_failure).unwrap(), "old");
    assert_eq!(fetches.load(Ordering::SeqCst), 1, "the second refresh started at once after the first failed");
    clock.advance(REFRESH_RETRY_INTERVAL);
    assert_eq!(get(&cache, &clock, slow_failure).unwrap(), "old");
    assert_eq!(fetches.load(Ordering::SeqCst), 2);
}

#[test]
fn a_token_that_died_in_flight_does_not_replace_a_valid_one() {
    let clock = ManualClock::new();
    let (cache, _) = cache();
    get(&cache, &clock, || Ok(token_in("old", &clock, 3600, &cache))).unwrap();
    clock.advance(Duration::from_secs(3550));
    let died = || {
        let token = token_in("dead", &clock, 10, &cache);
        clock.advance(Duration::from_secs(11));
        Ok(token)
    };
    assert_eq!(get(&cache, &clock, died).unwrap(), "old");
    assert_eq!(get(&cache, &clock, || panic!("backs off like any failed refresh")).unwrap(), "old");
}

#[test]
fn a_token_that_died_in_flight_is_not_served_from_an_empty_cache() {
    let clock = ManualClock::new();
    let (cache, _) = cache();
    let err = get(&cache, &clock, || {
        let token = token_in("dead", &clock, 10, &cache);
        clock.advance(Duration::from_secs(10));
        Ok(token)
    })
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Response);
    assert!(err.message().contains("expired by the time it arrived"), "{}", err.message());
    assert_eq!(cache.remaining(clock.now()), Duration::ZERO);
}

#[test]
fn a_wall_clock_jump_past_expiry_expires_the_token() {
    let clock = ManualClock::new();
    let (cache, _) = cache();
    get(&cache, &clock, || Ok(token_in("old", &clock, 3600, &cache))).unwrap();
    // A VM restored from a snapshot an hour old: MONOTONIC and BOOTTIME did not move.
    clock.advance_wall(Duration::from_secs(3600));
    assert_eq!(cache.remaining(clock.now()), Duration::ZERO);
    assert_eq!(get(&cache, &clock, down).unwrap_err().kind(), ErrorKind::Network);
    assert_eq!(get(&cache, &clock, || Ok(token_in("new", &clock, 3600, &cache))).unwrap(), "new");
    assert_eq!(get(&cache, &clock, || panic!("must not fetch")).unwrap(), "new");
}

#[test]
fn a_wall_clock_jump_into_the_refresh_window_refreshes() {
    let clock = ManualClock::new();
    let (cache, _) = cache();
    get(&cache, &clock, || Ok(token_in("old", &clock, 3600, &cache))).unwrap();
    clock.advance_wall(Duration::from_secs(3550));
    assert_eq!(get(&cache, &clock, || Ok(token_in("new", &clock, 3600, &cache))).unwrap(), "new");
}

#[test]
fn the_early_refresh_is_bounded_by_the_callers_timeout() {
    let clock = ManualClock::new();
    let (cache, _) = cache();
    // Far from expiry (50 s left): the caller's 2 s timeout is the tighter bound.
    get(&cache, &clock, || Ok(token_in("old", &clock, 3600, &cache))).unwrap();
    clock.advance(Duration::from_secs(3550));
    let mut seen = Duration::ZERO;
    let token = cache
        .with_token(
            || clock.now(),
            Duration::from_secs(2),
            |deadline| {
                seen = deadline.remaining();
                Err(Error::new(ErrorKind::Timeout, "t"))
            },
            str::to_owned,
        )
        .unwrap();
    assert_eq!(token, "old", "the valid token is served after the bounded refresh gives up");
    assert!(seen <= Duration::from_secs(2) && seen > Duration::from_millis(1500), "{seen:?}");
}

#[test]
fn the_early_refresh_deadline_is_half_the_remaining_validity() {
    let clock = ManualClock::new();
    let (cache, _) = cache();
    get(&cache, &clock, || Ok(token_in("old", &clock, 3600, &cache))).unwrap();
    clock.advance(Duration::from_secs(3598)); // 2 s left
    let mut seen = Duration::MAX;
    let token = cache
        .with_token(
            || clock.now(),
            Duration::from_secs(30),
            |deadline| {
                seen = deadline.remaining();
                Err(Error::new(ErrorKind::Timeout, "t"))
            },
            str::to_owned,
        )
        .unwrap();
    assert_eq!(token, "old");
    assert!(seen <= Duration::from_secs(1) && seen > Duration::from_millis(500), "{seen:?}");
}

#[test]
fn invalidate_drops_the_token() {
    let clock = ManualClock::new();
    let (cache, _) = cache();
    get(&cache, &clock, || Ok(token_in("a", &clock, 3600, &cache))).unwrap();
    cache.invalidate();
    assert_eq!(get(&cache, &clock, || Ok(token_in("b", &clock, 3600, &cache))).unwrap(), "b");
}

#[test]
fn invalidate_if_drops_only_the_refused_token() {
    let clock = ManualClock::new();
    let (cache, _) = cache();
    get(&cache, &clock, || Ok(token_in("a", &clock, 3600, &cache))).unwrap();
    assert!(!cache.invalidate_if("b"));
    assert!(!cache.invalidate_if("aa"));
    assert_eq!(get(&cache, &clock, || panic!("still cached")).unwrap(), "a");
    assert!(cache.invalidate_if("a"));
    assert!(!cache.invalidate_if("a"));
    assert_eq!(get(&cache, &clock, || Ok(token_in("b", &clock, 3600, &cache))).unwrap(), "b");
}

#[test]
fn of_many_threads_invalidating_one_token_exactly_one_drops_it_and_one_fetch_follows() {
    for _ in 0..20 {
        let clock = ManualClock::new();
        let (cache, _) = cache();
        get(&cache, &clock, || Ok(token_in("refused", &clock, 3600, &cache))).unwrap();
        let (dropped, fetches) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let barrier = Barrier::new(16);
        std::thread::scope(|scope| {
            for _ in 0..16 {
                scope.spawn(|| {
                    barrier.wait();
                    if cache.invalidate_if("refused") {
                        dropped.fetch_add(1, Ordering::SeqCst);
                    }
                    let token = get(&cache, &clock, || {
                        fetches.fetch_add(1, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(20));
                        Ok(token_in("new", &clock, 3600, &cache))
                    });
                    assert_eq!(token.unwrap(), "new");
                });
            }
        });
        assert_eq!(dropped.into_inner(), 1);
        assert_eq!(fetches.into_inner(), 1);
    }
}

fn stampede(threads: usize, outcome: fn(&ManualClock, &TokenCache) -> Result<CachedToken>) -> (usize, Vec<Result<String>>) {
    let clock = ManualClock::new();
    let (cache, _) = cache();
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
                        outcome(&clock, &cache)
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
    let (fetches, results) = stampede(32, |clock, cache| Ok(token_in("shared", clock, 3600, cache)));
    assert_eq!(fetches, 1);
    assert!(results.iter().all(|r| r.as_deref() == Ok("shared")));
}

#[test]
fn waiters_share_the_flights_error() {
    let (fetches, results) = stampede(16, |_, _| Err(refused()));
    assert_eq!(fetches, 1);
    // The waiters got the flight's own error (no cached note: it was not cached when they came).
    assert!(results.iter().all(|r| r.as_ref().unwrap_err().message() == refused().message()));
}

#[test]
fn during_a_refresh_the_others_get_the_old_token_without_waiting() {
    let clock = ManualClock::new();
    let (cache, _) = cache();
    get(&cache, &clock, || Ok(token_in("old", &clock, 3600, &cache))).unwrap();
    clock.advance(Duration::from_secs(3550));
    let (started_tx, started_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    std::thread::scope(|scope| {
        let (cache, clock) = (&cache, &clock);
        let refresher = scope.spawn(move || {
            get(cache, clock, || {
                started_tx.send(()).unwrap();
                release_rx.recv_timeout(Duration::from_secs(10)).unwrap();
                Ok(token_in("new", clock, 3600, cache))
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

/// Starts a fetch on another thread that holds its flight until released; returns once the
/// fetch is under way.
fn hold_a_flight<'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    cache: &'scope TokenCache,
    clock: &'scope ManualClock,
) -> (mpsc::Sender<()>, std::thread::ScopedJoinHandle<'scope, Result<String>>) {
    let (started_tx, started_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let holder = scope.spawn(move || {
        get(cache, clock, || {
            started_tx.send(()).unwrap();
            let _ = release_rx.recv_timeout(Duration::from_secs(30));
            Ok(token_in("held", clock, 3600, cache))
        })
    });
    started_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    (release_tx, holder)
}

#[test]
fn a_waiter_gives_up_at_its_own_deadline() {
    let clock = ManualClock::new();
    let (cache, _) = cache();
    std::thread::scope(|scope| {
        let (release, holder) = hold_a_flight(scope, &cache, &clock);
        // 1 s, so that the 10 % margin (100 ms) covers a late wake-up on a loaded machine.
        let timeout = Duration::from_millis(1000);
        let started = Instant::now();
        let err = get_with(&cache, &clock, timeout, || panic!("a waiter does not fetch")).unwrap_err();
        let elapsed = started.elapsed();
        println!("waiter with timeout {timeout:?} gave up after {elapsed:?}");
        assert_eq!(err.kind(), ErrorKind::Timeout);
        assert!(err.message().contains("another thread's fetch"), "{}", err.message());
        assert!(err.message().contains("1000 ms"), "{}", err.message());
        assert!(elapsed >= timeout, "{elapsed:?}");
        assert!(elapsed <= timeout + timeout / 10, "{elapsed:?}");
        release.send(()).unwrap();
        assert_eq!(holder.join().unwrap().unwrap(), "held");
    });
    assert_eq!(get(&cache, &clock, || panic!("the held flight landed")).unwrap(), "held");
}

#[test]
fn after_a_fork_a_flight_of_the_parent_is_not_waited_on() {
    let clock = ManualClock::new();
    let (cache, generation) = cache();
    std::thread::scope(|scope| {
        let (release, holder) = hold_a_flight(scope, &cache, &clock);
        // The "child": the holder's thread is of the parent; this one starts its own flight.
        fork(generation);
        let started = Instant::now();
        let child = get_with(&cache, &clock, Duration::from_secs(20), || Ok(token_in("child", &clock, 3600, &cache)));
        assert_eq!(child.unwrap(), "child");
        assert!(started.elapsed() < Duration::from_secs(10), "the child waited on the parent's flight");
        release.send(()).unwrap();
        let _ = holder.join().unwrap();
    });
}

#[test]
fn after_a_fork_the_child_keeps_a_valid_token() {
    let clock = ManualClock::new();
    let (cache, generation) = cache();
    get(&cache, &clock, || Ok(token_in("parent", &clock, 3600, &cache))).unwrap();
    fork(generation);
    clock.advance(Duration::from_secs(3000));
    assert_eq!(get(&cache, &clock, || panic!("the child must not fetch")).unwrap(), "parent");
}

#[test]
fn after_a_fork_the_child_refreshes_later_but_within_the_first_half_of_the_window() {
    let mut delayed = 0;
    for _ in 0..50 {
        let clock = ManualClock::new();
        let (cache, generation) = cache();
        get(&cache, &clock, || Ok(token_in("parent", &clock, 3600, &cache))).unwrap();
        fork(generation);
        clock.advance(Duration::from_secs(3540)); // the parent's refresh instant
        let fetched = AtomicUsize::new(0);
        let fetch = || {
            fetched.fetch_add(1, Ordering::SeqCst);
            Ok(token_in("child", &clock, 3600, &cache))
        };
        get(&cache, &clock, fetch).unwrap();
        if fetched.load(Ordering::SeqCst) == 0 {
            delayed += 1;
            // Half-way through the 60 s window the child refreshes, whatever it drew.
            clock.advance(Duration::from_secs(30));
            assert_eq!(get(&cache, &clock, fetch).unwrap(), "child");
        }
    }
    assert!(delayed >= 40, "only {delayed} of 50 children moved their refresh");
}

#[test]
fn the_original_process_refreshes_on_time() {
    let clock = ManualClock::new();
    let (cache, _) = cache();
    get(&cache, &clock, || Ok(token_in("old", &clock, 3600, &cache))).unwrap();
    clock.advance(Duration::from_secs(3540));
    assert_eq!(get(&cache, &clock, || Ok(token_in("new", &clock, 3600, &cache))).unwrap(), "new");
}

#[test]
fn a_refusal_is_answered_from_memory_with_a_note_and_retried_after_the_interval() {
    let clock = ManualClock::new();
    let (cache, _) = cache();
    let first = get(&cache, &clock, || Err(refused())).unwrap_err();
    assert_eq!(first.message(), refused().message());
    let cached = get(&cache, &clock, || panic!("the refusal is cached")).unwrap_err();
    assert_eq!(cached.kind(), ErrorKind::OAuth);
    assert_eq!(cached.http_status(), Some(401));
    let mut lines = cached.message().lines();
    assert_eq!(lines.next(), Some(refused().message()), "the first line is the server's answer, unchanged");
    assert_eq!(lines.next(), Some("cached: next attempt in 1 s"));
    clock.advance(Duration::from_secs(1));
    // The second refusal in a row is remembered for about 2 s.
    assert_eq!(get(&cache, &clock, || Err(refused())).unwrap_err().message(), refused().message());
    clock.advance(Duration::from_millis(1500));
    assert!(get(&cache, &clock, || panic!("still cached")).unwrap_err().message().ends_with("next attempt in 1 s"));
    clock.advance(Duration::from_millis(500));
    assert_eq!(get(&cache, &clock, || Ok(token_in("ok", &clock, 3600, &cache))).unwrap(), "ok");
    // A success forgets the refusals.
    cache.invalidate();
    get(&cache, &clock, || Err(refused())).unwrap_err();
    clock.advance(Duration::from_secs(1));
    assert_eq!(get(&cache, &clock, || Ok(token_in("ok", &clock, 3600, &cache))).unwrap(), "ok");
}

#[test]
fn invalidate_forgets_a_refusal() {
    let clock = ManualClock::new();
    let (cache, _) = cache();
    get(&cache, &clock, || Err(refused())).unwrap_err();
    cache.invalidate();
    assert_eq!(get(&cache, &clock, || Ok(token_in("ok", &clock, 3600, &cache))).unwrap(), "ok");
}

#[test]
fn a_valid_token_is_served_while_a_refusal_is_remembered() {
    let clock = ManualClock::new();
    let (cache, _) = cache();
    get(&cache, &clock, || Ok(token_in("old", &clock, 3600, &cache))).unwrap();
    clock.advance(Duration::from_secs(3550));
    assert_eq!(get(&cache, &clock, || Err(refused())).unwrap(), "old");
    assert_eq!(get(&cache, &clock, || panic!("no refresh during the back-off")).unwrap(), "old");
    clock.advance(Duration::from_secs(50));
    assert!(get(&cache, &clock, || Err(refused())).is_err());
}

#[test]
fn transient_failures_are_not_cached() {
    let clock = ManualClock::new();
    let (cache, _) = cache();
    get(&cache, &clock, down).unwrap_err();
    assert_eq!(get(&cache, &clock, || Ok(token_in("ok", &clock, 3600, &cache))).unwrap(), "ok");
}

#[test]
fn waiters_of_a_panicking_fetch_get_an_internal_error() {
    let clock = ManualClock::new();
    let (cache, _) = cache();
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
    assert_eq!(get(&cache, &clock, || Ok(token_in("after", &clock, 3600, &cache))).unwrap(), "after");
}

#[test]
fn a_panicking_fetch_releases_the_waiters() {
    let clock = ManualClock::new();
    let (cache, _) = cache();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = get(&cache, &clock, || panic!("boom"));
    }));
    assert!(caught.is_err());
    // The flight was released: the next caller fetches instead of waiting forever.
    assert_eq!(get(&cache, &clock, || Ok(token_in("after", &clock, 3600, &cache))).unwrap(), "after");
}

#[test]
fn invalidate_if_drops_a_token_a_forked_child_re_cached() {
    let clock = ManualClock::new();
    let (cache, generation) = cache();
    get(&cache, &clock, || Ok(token_in("parent", &clock, 3600, &cache))).unwrap();
    fork(generation);
    clock.advance(Duration::from_secs(3540));
    // Either refreshes at once or re-caches the same token with a later refresh instant.
    let token = get(&cache, &clock, || Ok(token_in("child", &clock, 3600, &cache))).unwrap();
    assert!(cache.invalidate_if(&token));
    assert_eq!(cache.remaining(clock.now()), Duration::ZERO);
}

/// Random gets, invalidations, clock jumps and failing or slow fetches from several threads:
/// never two fetches at once, never a token that had expired when the call began, never a hang.
#[test]
fn randomized_stress_keeps_the_promises() {
    let clock = ManualClock::new();
    let (cache, _) = cache();
    let in_flight = AtomicUsize::new(0);
    let (served, fetched) = (AtomicUsize::new(0), AtomicUsize::new(0));
    std::thread::scope(|scope| {
        for seed in 0..4u64 {
            let (cache, clock, in_flight, served, fetched) = (&cache, &clock, &in_flight, &served, &fetched);
            scope.spawn(move || {
                let mut rng = fastrand::Rng::with_seed(seed);
                let mut last_seen = String::new();
                for _ in 0..3000 {
                    match rng.u32(0..100) {
                        0..=69 => {
                            let start = clock.now();
                            let mut fetch_rng = rng.fork();
                            let result = get_with(cache, clock, Duration::from_secs(5), || {
                                assert_eq!(in_flight.fetch_add(1, Ordering::SeqCst), 0, "two fetches at once");
                                fetched.fetch_add(1, Ordering::SeqCst);
                                if fetch_rng.bool() {
                                    std::thread::sleep(Duration::from_micros(fetch_rng.u64(0..300)));
                                }
                                let outcome = match fetch_rng.u32(0..10) {
                                    0 => down(),
                                    1 => Err(refused()),
                                    _ => {
                                        let lifetime = fetch_rng.u64(1..3600);
                                        let t = token_in("", clock, lifetime, cache);
                                        let value = format!("{}", t.expires_at);
                                        Ok(CachedToken { token: Secret::new(value), ..t })
                                    }
                                };
                                in_flight.fetch_sub(1, Ordering::SeqCst);
                                outcome
                            });
                            if let Ok(token) = result {
                                let expires_at: Nanos = token.parse().unwrap();
                                assert!(expires_at > start.mono, "served a token that expired before the call");
                                served.fetch_add(1, Ordering::Relaxed);
                                last_seen = token;
                            }
                        }
                        70..=79 => {
                            cache.invalidate_if(&last_seen);
                        }
                        80..=82 => cache.invalidate(),
                        _ => clock.advance(Duration::from_millis(rng.u64(0..30_000))),
                    }
                }
            });
        }
    });
    println!("stress: {} tokens served, {} fetches", served.into_inner(), fetched.into_inner());
}
