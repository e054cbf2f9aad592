//! Single flight: one token fetch under way, the slot that holds it, and the callers who wait
//! for it, each until its own deadline.
//!
//! A flight belongs to the process generation it was started in (`crate::fork::generation()`).
//! After a fork the child has the parent's memory but not its threads: a flight that was under
//! way there never lands in the child, and the slot's mutex may have been held by a thread that
//! does not exist in the child. So the slot itself is replaced, not locked, when its generation
//! is not the current one (`Slots::current`): the child starts flights of its own and never
//! waits on the parent's. The generation is passed in by the cache, read on these slow paths
//! only.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::sync::{current_thread, park_timeout, Arc, ArcSwap, AtomicU64, Mutex, Once, Thread};

use crate::deadline::Deadline;
use crate::error::{Error, ErrorKind, Result};

use super::CachedToken;

/// What a flight ends with: the new token or the error, for the fetching caller and every
/// caller that waited on it. Handed over directly, not re-read from the cache, because an
/// invalidate may empty the cache before they wake.
pub type Outcome = Result<Arc<CachedToken>>;

/// One token fetch under way.
///
/// Waiters read the outcome from a set-once cell, without a lock, and sleep by parking their
/// own thread, so when the flight lands the fetching thread sets the cell and unparks each
/// waiter, and they all return at once. (A condvar would make each woken waiter re-take the one
/// mutex in turn: with a thousand waiters the last returned tens of milliseconds late.)
pub struct Flight {
    outcome: Once<Outcome>,
    /// The threads waiting for the outcome, to unpark when it is set.
    waiters: Mutex<Vec<Thread>>,
}

impl Flight {
    fn new() -> Flight {
        Flight { outcome: Once::new(), waiters: Mutex::new(Vec::new()) }
    }

    /// Waits for the flight's outcome until `deadline`, then gives up with a timeout: a flight
    /// that is stuck (or whose thread is gone) costs each waiter its own timeout, never more.
    pub fn wait(&self, deadline: Deadline) -> Outcome {
        if let Some(outcome) = self.outcome.get_cloned() {
            return outcome;
        }
        {
            let mut waiters = self.waiters.lock();
            // Set before `land` takes the list: then it is visible here, under the same lock.
            if let Some(outcome) = self.outcome.get_cloned() {
                return outcome;
            }
            waiters.push(current_thread());
        }
        loop {
            if let Some(outcome) = self.outcome.get_cloned() {
                return outcome;
            }
            let left = deadline.remaining();
            if left.is_zero() {
                return Err(waited_too_long(deadline.budget()));
            }
            // May return early (an unpark meant for an earlier wait of this thread): loop.
            park_timeout(left);
        }
    }

    /// Hands the outcome to every waiter and wakes them.
    fn land(&self, outcome: Outcome) {
        self.outcome.set(outcome);
        let waiters = std::mem::take(&mut *self.waiters.lock());
        for waiter in waiters {
            waiter.unpark();
        }
    }
}

fn waited_too_long(budget: Duration) -> Error {
    Error::new(
        ErrorKind::Timeout,
        format!(
            "timed out after {} ms (timeout_ms) waiting for another thread's fetch of a token, \
             which had not finished",
            budget.as_millis()
        ),
    )
}

/// The flight slot of one process generation.
pub struct Slot {
    generation: u64,
    /// The fetch under way, if any. Locked only to start or join a flight, never to read.
    flight: Mutex<Option<Arc<Flight>>>,
}

/// A flight this thread started: it must `land`, even if the fetch panics (see `Takeoff`).
pub struct Takeoff<'a> {
    slots: &'a Slots,
    slot: Arc<Slot>,
    flight: Arc<Flight>,
    outcome: Option<Outcome>,
}

impl Takeoff<'_> {
    /// Lands the flight with `outcome`: clears the slot (so a newcomer finds the new token, or
    /// after a failure starts a flight of its own rather than joining this finished one), then
    /// wakes every waiter with it.
    pub fn land(mut self, outcome: Outcome) -> Outcome {
        self.outcome = Some(outcome.clone());
        outcome
    }
}

impl Drop for Takeoff<'_> {
    fn drop(&mut self) {
        {
            let mut flight = self.slot.flight.lock();
            if flight.as_ref().is_some_and(|f| Arc::ptr_eq(f, &self.flight)) {
                *flight = None;
            }
        }
        let tag = flying_tag(self.slot.generation);
        let _ = self.slots.flying.compare_exchange(tag, 0, Ordering::Relaxed, Ordering::Relaxed);
        let outcome = self.outcome.take().unwrap_or_else(|| Err(Error::internal("the token fetch panicked")));
        self.flight.land(outcome);
    }
}

/// What a caller that needs a fetch finds in the slot.
pub enum Joined<'a> {
    /// Nobody is fetching: this caller fetches, and lands the flight when done.
    Started(Takeoff<'a>),
    /// Another thread is fetching: wait for it (`Flight::wait`).
    Waiting(Arc<Flight>),
}

/// The flight slot, replaced after a fork.
pub struct Slots {
    slot: ArcSwap<Slot>,
    /// `generation + 1` of the flight under way, 0 when none: callers in the refresh window skip
    /// the refresh with a load instead of a lock attempt that writes to a shared line. A tag of
    /// another generation means a flight of the parent process, which never lands here.
    flying: AtomicU64,
}


fn flying_tag(generation: u64) -> u64 {
    generation.wrapping_add(1).max(1)
}

impl Slot {
    fn new(generation: u64) -> Slot {
        Slot { generation, flight: Mutex::new(None) }
    }
}

impl Slots {
    /// Slots whose first slot belongs to the generation `generation` holds now.
    pub fn new(generation: &std::sync::atomic::AtomicU64) -> Slots {
        Slots { slot: ArcSwap::from_pointee(Slot::new(generation.load(Ordering::Acquire))), flying: AtomicU64::new(0) }
    }

    /// Whether a flight of this process generation is under way (a hint: it may land at once).
    pub fn flying(&self, generation: u64) -> bool {
        self.flying.load(Ordering::Relaxed) == flying_tag(generation)
    }

    /// The slot of the current process generation, swapping in a fresh one (never locking the
    /// old one) if the process forked since the slot was made.
    fn current(&self, generation: u64) -> Arc<Slot> {
        loop {
            let slot = self.slot.load_full();
            if slot.generation == generation {
                return slot;
            }
            let fresh = Arc::new(Slot::new(generation));
            let previous = self.slot.compare_and_swap(&slot, Arc::clone(&fresh));
            if Arc::ptr_eq(&previous, &slot) {
                return fresh;
            }
            // Another thread of this process swapped first: take its slot (loop re-checks).
        }
    }

    /// Starts a flight, or joins the one under way. `ready` runs under the slot's lock first:
    /// if it returns an outcome (a token landed meanwhile, a cached refusal), that is the answer
    /// and no flight is started or joined.
    pub fn join(
        &self,
        generation: u64,
        ready: impl FnOnce() -> Option<Outcome>,
    ) -> std::result::Result<Joined<'_>, Outcome> {
        let slot = self.current(generation);
        let mut flight = slot.flight.lock();
        if let Some(outcome) = ready() {
            return Err(outcome);
        }
        if let Some(flight) = flight.as_ref() {
            return Ok(Joined::Waiting(Arc::clone(flight)));
        }
        Ok(Joined::Started(self.take_off(&slot, &mut flight)))
    }

    /// Starts a flight if nobody is fetching, the slot is free at once (never blocks) and
    /// `still_needed` says so under the slot's lock (the token this caller saw may have been
    /// refreshed by a flight that landed since).
    pub fn try_start(&self, generation: u64, still_needed: impl FnOnce() -> bool) -> Option<Takeoff<'_>> {
        let slot = self.current(generation);
        let mut flight = slot.flight.try_lock()?;
        if flight.is_some() || !still_needed() {
            return None;
        }
        let takeoff = self.take_off(&slot, &mut flight);
        Some(takeoff)
    }

    fn take_off(&self, slot: &Arc<Slot>, in_slot: &mut Option<Arc<Flight>>) -> Takeoff<'_> {
        let flight = Arc::new(Flight::new());
        *in_slot = Some(Arc::clone(&flight));
        self.flying.store(flying_tag(slot.generation), Ordering::Relaxed);
        Takeoff { slots: self, slot: Arc::clone(slot), flight, outcome: None }
    }
}
