//! The synchronisation types of the cache, swapped for loom's under `cfg(loom)` so the model
//! checker sees every atomic access, lock and wake-up (`loom_tests.rs`).
//!
//! arc_swap and parking_lot are not loom-aware, so under loom `ArcSwap`/`ArcSwapOption` become
//! a loom mutex around the pointer (the same linearizable load / store / compare-and-swap, not
//! the same speed), the set-once cell a loom mutex around an option, and the mutex keeps
//! parking_lot's shape over loom's. Loom does not model time: a timed park there waits for an
//! unpark. The fork generation stays a plain
//! std atomic (loom does not model fork either; tests bump it by hand).

#[cfg(not(loom))]
pub use arc_swap::{ArcSwap, ArcSwapOption};
#[cfg(not(loom))]
pub use parking_lot::Mutex;
#[cfg(not(loom))]
pub use std::sync::atomic::AtomicU64;
#[cfg(not(loom))]
pub use std::sync::Arc;
#[cfg(not(loom))]
pub use std::thread::{current as current_thread, park_timeout, Thread};

/// A value set once and then read without a lock.
#[cfg(not(loom))]
pub struct Once<T>(once_cell::sync::OnceCell<T>);

#[cfg(not(loom))]
impl<T: Clone> Once<T> {
    pub fn new() -> Self {
        Once(once_cell::sync::OnceCell::new())
    }

    pub fn get_cloned(&self) -> Option<T> {
        self.0.get().cloned()
    }

    /// Sets the value; a second set is ignored.
    pub fn set(&self, value: T) {
        let _ = self.0.set(value);
    }
}

#[cfg(loom)]
pub use self::model::{park_timeout, ArcSwap, ArcSwapOption, Mutex, Once};
#[cfg(loom)]
pub use loom::sync::atomic::AtomicU64;
#[cfg(loom)]
pub use loom::sync::Arc;
#[cfg(loom)]
pub use loom::thread::{current as current_thread, Thread};

#[cfg(loom)]
mod model {
    use super::Arc;
    use std::ops::{Deref, DerefMut};

    /// parking_lot's `Mutex` shape over loom's.
    #[derive(Debug)]
    pub struct Mutex<T>(loom::sync::Mutex<T>);

    pub struct MutexGuard<'a, T>(Option<loom::sync::MutexGuard<'a, T>>);

    impl<T> Mutex<T> {
        pub fn new(value: T) -> Self {
            Mutex(loom::sync::Mutex::new(value))
        }

        pub fn lock(&self) -> MutexGuard<'_, T> {
            MutexGuard(Some(self.0.lock().unwrap()))
        }

        pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
            self.0.try_lock().ok().map(|guard| MutexGuard(Some(guard)))
        }
    }

    impl<T> Deref for MutexGuard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            self.0.as_ref().unwrap()
        }
    }

    impl<T> DerefMut for MutexGuard<'_, T> {
        fn deref_mut(&mut self) -> &mut T {
            self.0.as_mut().unwrap()
        }
    }

    /// Loom does not model time: a timed park waits for an unpark.
    pub fn park_timeout(_timeout: std::time::Duration) {
        loom::thread::park();
    }

    /// The set-once cell, as a loom mutex around an option.
    pub struct Once<T>(loom::sync::Mutex<Option<T>>);

    impl<T: Clone> Once<T> {
        pub fn new() -> Self {
            Once(loom::sync::Mutex::new(None))
        }

        pub fn get_cloned(&self) -> Option<T> {
            self.0.lock().unwrap().clone()
        }

        pub fn set(&self, value: T) {
            let mut slot = self.0.lock().unwrap();
            if slot.is_none() {
                *slot = Some(value);
            }
        }
    }

    /// `ArcSwapOption`'s operations as the cache uses them, behind a loom mutex.
    pub struct ArcSwapOption<T>(loom::sync::Mutex<Option<Arc<T>>>);

    impl<T> ArcSwapOption<T> {
        pub fn empty() -> Self {
            ArcSwapOption(loom::sync::Mutex::new(None))
        }

        pub fn load(&self) -> Option<Arc<T>> {
            self.0.lock().unwrap().clone()
        }

        pub fn load_full(&self) -> Option<Arc<T>> {
            self.load()
        }

        pub fn store(&self, value: Option<Arc<T>>) {
            *self.0.lock().unwrap() = value;
        }

        /// Swaps in `new` if the pointer is still `current`; returns what it was.
        pub fn compare_and_swap(&self, current: &Arc<T>, new: Option<Arc<T>>) -> Option<Arc<T>> {
            let mut slot = self.0.lock().unwrap();
            let previous = slot.clone();
            if previous.as_ref().is_some_and(|p| Arc::ptr_eq(p, current)) {
                *slot = new;
            }
            previous
        }
    }

    impl<T> Default for ArcSwapOption<T> {
        fn default() -> Self {
            Self::empty()
        }
    }

    /// `ArcSwap`'s operations as the cache uses them, behind a loom mutex.
    pub struct ArcSwap<T>(loom::sync::Mutex<Arc<T>>);

    impl<T> ArcSwap<T> {
        pub fn from_pointee(value: T) -> Self {
            ArcSwap(loom::sync::Mutex::new(Arc::new(value)))
        }

        pub fn load_full(&self) -> Arc<T> {
            self.0.lock().unwrap().clone()
        }

        pub fn compare_and_swap(&self, current: &Arc<T>, new: Arc<T>) -> Arc<T> {
            let mut slot = self.0.lock().unwrap();
            let previous = slot.clone();
            if Arc::ptr_eq(&previous, current) {
                *slot = new;
            }
            previous
        }
    }
}
