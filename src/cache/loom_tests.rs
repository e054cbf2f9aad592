//! Model checking of the cache's races with loom: every interleaving of two threads (every
//! order of their atomic accesses, locks and wake-ups) is run, and each must keep the cache's
//! promises. Run with
//!
//!   RUSTFLAGS="--cfg loom" cargo test --lib cache::loom_tests --release
//!
//! (`sync.rs` swaps the cache's synchronisation for loom's under that flag.)

use super::*;
use crate::clock::ManualClock;
use crate::error::ErrorKind;
use loom::sync::atomic::AtomicUsize;
use loom::thread;

const TIMEOUT: Duration = Duration::from_secs(30);

struct World {
    cache: TokenCache,
    clock: ManualClock,
    fetches: AtomicUsize,
}

impl World {
    /// A cache holding "old", `age_secs` into its 3600 s life (the refresh window starts at
    /// 3540 s); or an empty cache if `age_secs` is None.
    fn new(age_secs: Option<u64>) -> Arc<World> {
        let generation: &'static std::sync::atomic::AtomicU64 = Box::leak(Box::new(std::sync::atomic::AtomicU64::new(0)));
        let world = Arc::new(World { cache: TokenCache::with_generation(generation), clock: ManualClock::new(), fetches: AtomicUsize::new(0) });
        if let Some(age) = age_secs {
            let old = world.get_or(|| Ok(world.token("old")));
            assert_eq!(old.unwrap(), "old");
            world.clock.advance(Duration::from_secs(age));
            world.fetches.store(0, Ordering::SeqCst);
        }
        world
    }

    fn token(&self, value: &str) -> CachedToken {
        CachedToken::new_in(Secret::new(value), self.clock.now(), Duration::from_secs(3600), Duration::from_secs(60), 0)
    }

    fn get_or(&self, fetch: impl FnOnce() -> Result<CachedToken>) -> Result<String> {
        self.cache.with_token(
            || self.clock.now(),
            TIMEOUT,
            |_deadline| {
                self.fetches.fetch_add(1, Ordering::SeqCst);
                fetch()
            },
            str::to_owned,
        )
    }

    /// A get whose fetch, if it happens, returns "new".
    fn get(&self) -> Result<String> {
        self.get_or(|| Ok(self.token("new")))
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

#[test]
fn a_fresh_token_is_read_by_all_without_a_fetch() {
    loom::model(|| {
        let world = World::new(Some(10));
        let other = Arc::clone(&world);
        let reader = thread::spawn(move || other.get().unwrap());
        assert_eq!(world.get().unwrap(), "old");
        assert_eq!(reader.join().unwrap(), "old");
        assert_eq!(world.fetches(), 0);
    });
}

#[test]
fn on_an_empty_cache_one_fetch_serves_both_callers() {
    loom::model(|| {
        let world = World::new(None);
        let other = Arc::clone(&world);
        let caller = thread::spawn(move || other.get().unwrap());
        assert_eq!(world.get().unwrap(), "new");
        assert_eq!(caller.join().unwrap(), "new");
        assert_eq!(world.fetches(), 1);
    });
}

#[test]
fn waiters_share_a_failed_flight_or_fetch_again_after_it() {
    loom::model(|| {
        let world = World::new(None);
        let other = Arc::clone(&world);
        let fail = || Err(Error::new(ErrorKind::Network, "down"));
        let caller = thread::spawn(move || other.get_or(fail).unwrap_err().kind());
        assert_eq!(world.get_or(fail).unwrap_err().kind(), ErrorKind::Network);
        assert_eq!(caller.join().unwrap(), ErrorKind::Network);
        // One flight shared, or a second one started after the first had landed: never a hang.
        assert!((1..=2).contains(&world.fetches()));
    });
}

#[test]
fn in_the_refresh_window_exactly_one_caller_refreshes() {
    loom::model(|| {
        let world = World::new(Some(3550));
        let other = Arc::clone(&world);
        let caller = thread::spawn(move || other.get().unwrap());
        let mine = world.get().unwrap();
        let theirs = caller.join().unwrap();
        assert_eq!(world.fetches(), 1);
        // The refresher gets the new token, the other the old one or the new one.
        assert!(mine == "new" || theirs == "new", "{mine} {theirs}");
        assert!([mine, theirs].iter().all(|t| t == "old" || t == "new"));
        assert_eq!(world.get_or(|| panic!("the new token is cached")).unwrap(), "new");
    });
}

#[test]
fn invalidate_racing_a_refresh_costs_one_fetch_and_never_serves_the_dropped_token_after() {
    loom::model(|| {
        let world = World::new(Some(3550));
        let other = Arc::clone(&world);
        let refresher = thread::spawn(move || other.get().unwrap());
        let dropped = world.cache.invalidate_if("old");
        let after = world.get().unwrap();
        if dropped {
            assert_eq!(after, "new", "the token this thread dropped was served to it again");
        }
        let refreshed = refresher.join().unwrap();
        assert!(refreshed == "old" || refreshed == "new");
        assert_eq!(world.fetches(), 1);
        assert_eq!(world.get_or(|| panic!("the new token is cached")).unwrap(), "new");
    });
}

#[test]
fn invalidate_racing_a_fetch_on_an_empty_cache_leaves_a_usable_cache() {
    loom::model(|| {
        let world = World::new(None);
        let other = Arc::clone(&world);
        let fetcher = thread::spawn(move || other.get().unwrap());
        world.cache.invalidate();
        assert_eq!(fetcher.join().unwrap(), "new");
        // Whether the invalidate came before or after the landing, the next get works, with at
        // most one more fetch.
        assert_eq!(world.get().unwrap(), "new");
        assert!((1..=2).contains(&world.fetches()));
    });
}
