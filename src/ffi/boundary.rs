//! What every exported function does at the edge: check pointers and text, catch panics, turn
//! errors into a status code plus this thread's last error message.
//!
//! Nothing here may abort the host:
//! * The whole body of every export runs inside `catch_unwind`, recording the error included.
//! * The last error is kept per thread where it survives the thread's exit: a C host may call
//!   us from a pthread-key destructor, after Rust's thread-locals are gone (glibc runs them
//!   first). On Unix it lives in a pthread key of its own ([`slot`]), so messages work there
//!   too; where it cannot be stored, a failing call still returns its status and
//!   `hct_last_error_message()` returns [`NO_TEXT_DURING_THREAD_EXIT`]. (Rust thread-locals with
//!   a destructor cannot be used: one first touched during thread exit registers a destructor
//!   that never runs, a leak per thread.)
//! * A caught panic prints nothing: see [`quiet`] for the panic hook and what it covers.

use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::hct_status;
use crate::error::{Error, ErrorKind};

/// What `hct_last_error_message()` returns when this thread's last message could not be kept:
/// no pthread key or no memory for its slot (a thread deep in its exit, an exit handler after
/// the library's finalizer), or, without pthread keys, once Rust's thread-locals are gone.
pub const NO_TEXT_DURING_THREAD_EXIT: &CStr =
    match CStr::from_bytes_with_nul(b"hctoken: no error text is available while this thread exits\0") {
        Ok(text) => text,
        Err(_) => panic!("the text has one NUL, at its end"),
    };

const PANIC_MESSAGE: &str = "hctoken hit an internal error (a panic was caught); please report it";

pub fn status_of(kind: ErrorKind) -> hct_status {
    match kind {
        ErrorKind::InvalidArgument => hct_status::HCT_ERR_INVALID_ARGUMENT,
        ErrorKind::Config => hct_status::HCT_ERR_CONFIG,
        ErrorKind::Network => hct_status::HCT_ERR_NETWORK,
        ErrorKind::Timeout => hct_status::HCT_ERR_TIMEOUT,
        ErrorKind::Tls => hct_status::HCT_ERR_TLS,
        ErrorKind::Http => hct_status::HCT_ERR_HTTP,
        ErrorKind::OAuth => hct_status::HCT_ERR_OAUTH,
        ErrorKind::Response => hct_status::HCT_ERR_RESPONSE,
        ErrorKind::BufferTooSmall => hct_status::HCT_ERR_BUFFER_TOO_SMALL,
        ErrorKind::Internal => hct_status::HCT_ERR_INTERNAL,
        ErrorKind::NoToken => hct_status::HCT_ERR_NO_TOKEN,
    }
}

/// Records `error` as this thread's last error and returns its status. If the text cannot be
/// kept, the status is still returned (and the message reads NO_TEXT_DURING_THREAD_EXIT).
fn record(error: &Error) -> hct_status {
    // Messages never hold NULs, but a server's error_description could; drop them.
    let text: Vec<u8> = error.message().bytes().filter(|b| *b != 0).collect();
    let message = CString::new(text).unwrap_or_default();
    slot::store(message);
    status_of(error.kind())
}

/// This thread's last error message, valid until this thread's next call that fails; a static
/// text when it could not be kept.
pub fn last_error_ptr() -> *const c_char {
    slot::load()
}

/// This thread's last error message.
#[cfg(unix)]
mod slot {
    use std::cell::Cell;
    use std::ffi::{c_char, c_void, CString};
    use std::sync::OnceLock;

    use super::NO_TEXT_DURING_THREAD_EXIT;

    thread_local! {
        /// Set when the last message could not be stored, so a stale one is not shown. `const`
        /// and without a destructor: reachable for the thread's whole life, its exit included.
        static LOST: Cell<bool> = const { Cell::new(false) };
    }

    /// The key whose per-thread value is this thread's message (a `CString::into_raw`); its
    /// destructor frees the message when the thread exits. glibc runs key destructors again
    /// (up to PTHREAD_DESTRUCTOR_ITERATIONS rounds) while values are set, so a message stored
    /// by a host's destructor after ours ran is freed too.
    static KEY: OnceLock<Option<libc::pthread_key_t>> = OnceLock::new();

    fn key() -> Option<libc::pthread_key_t> {
        *KEY.get_or_init(|| {
            let mut key: libc::pthread_key_t = 0;
            // SAFETY: `key` is writable; free_message is a valid destructor for our values.
            (unsafe { libc::pthread_key_create(&mut key, Some(free_message)) } == 0).then_some(key)
        })
    }

    unsafe extern "C" fn free_message(message: *mut c_void) {
        if !message.is_null() {
            // SAFETY: every value stored under KEY came from CString::into_raw, and glibc hands
            // it to this destructor once (it clears the value first).
            let _ = std::panic::catch_unwind(|| drop(unsafe { CString::from_raw(message.cast::<c_char>()) }));
        }
    }

    /// When the library is unloaded (dlclose), no thread may later run a destructor that is no
    /// longer mapped: delete the key (live threads' messages are then leaked, once).
    /// (ELF targets; on macOS a dlclose'd library is not unmapped while it has keys in use.)
    #[cfg(not(target_vendor = "apple"))]
    #[used]
    #[link_section = ".fini_array"]
    static DELETE_KEY_AT_UNLOAD: extern "C" fn() = delete_key;

    #[cfg_attr(target_vendor = "apple", allow(dead_code))]
    extern "C" fn delete_key() {
        if let Some(Some(key)) = KEY.get() {
            // SAFETY: a key this module created; deleting it runs no destructor.
            unsafe { libc::pthread_key_delete(*key) };
        }
    }

    pub fn store(message: CString) {
        let stored = key().is_some_and(|key| {
            let new = message.into_raw();
            // SAFETY: our key; the old value, if any, is one of our CStrings.
            unsafe {
                let old = libc::pthread_getspecific(key).cast::<c_char>();
                if libc::pthread_setspecific(key, new.cast::<c_void>()) != 0 {
                    drop(CString::from_raw(new));
                    return false;
                }
                if !old.is_null() {
                    drop(CString::from_raw(old));
                }
            }
            true
        });
        let _ = LOST.try_with(|lost| lost.set(!stored));
    }

    pub fn load() -> *const c_char {
        if LOST.try_with(Cell::get).unwrap_or(true) {
            return NO_TEXT_DURING_THREAD_EXIT.as_ptr();
        }
        let Some(key) = key() else { return EMPTY.as_ptr() };
        // SAFETY: our key; a non-NULL value is a live CString of this thread.
        let message = unsafe { libc::pthread_getspecific(key) }.cast::<c_char>();
        if message.is_null() {
            EMPTY.as_ptr()
        } else {
            message
        }
    }

    const EMPTY: &std::ffi::CStr = match std::ffi::CStr::from_bytes_with_nul(b"\0") {
        Ok(text) => text,
        Err(_) => panic!("one NUL"),
    };
}

/// This thread's last error message, in a Rust thread-local where there are no pthread keys:
/// unreachable (and then [`NO_TEXT_DURING_THREAD_EXIT`]) once the thread's locals are gone.
#[cfg(not(unix))]
mod slot {
    use std::cell::RefCell;
    use std::ffi::{c_char, CString};

    use super::NO_TEXT_DURING_THREAD_EXIT;

    thread_local! {
        static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
    }

    pub fn store(message: CString) {
        let _ = LAST_ERROR.try_with(|slot| {
            if let Ok(mut slot) = slot.try_borrow_mut() {
                *slot = message;
            }
        });
    }

    pub fn load() -> *const c_char {
        LAST_ERROR
            .try_with(|slot| slot.try_borrow().map(|message| message.as_ptr()).ok())
            .ok()
            .flatten()
            .unwrap_or(NO_TEXT_DURING_THREAD_EXIT.as_ptr())
    }
}

/// Runs `body`, turning its error or panic into a status and this thread's last error.
#[inline]
pub fn guard(body: impl FnOnce() -> Result<(), Error>) -> hct_status {
    let mut mark = quiet::Mark::new();
    mark.set();
    // Recording the error is inside the same catch_unwind as the body.
    let status = match catch_unwind(AssertUnwindSafe(|| match body() {
        Ok(()) => hct_status::HCT_OK,
        Err(error) => record(&error),
    })) {
        Ok(status) => status,
        Err(payload) => after_panic(payload),
    };
    mark.clear();
    status
}

/// Runs `body` where there is no status to return (free functions): a panic is swallowed.
pub fn guard_void(body: impl FnOnce()) {
    let mut mark = quiet::Mark::new();
    mark.set();
    if let Err(payload) = catch_unwind(AssertUnwindSafe(body)) {
        dispose(payload);
    }
    mark.clear();
}

/// Runs `body`, which returns a value for C; `fallback` if it panics.
pub fn guard_value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    let mut mark = quiet::Mark::new();
    mark.set();
    let value = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(value) => value,
        Err(payload) => {
            dispose(payload);
            fallback
        }
    };
    mark.clear();
    value
}

#[cold]
#[inline(never)]
fn after_panic(payload: Box<dyn std::any::Any + Send>) -> hct_status {
    dispose(payload);
    let recorded = catch_unwind(|| record(&Error::internal(PANIC_MESSAGE)));
    if let Err(payload) = recorded {
        dispose(payload);
    }
    hct_status::HCT_ERR_INTERNAL
}

/// Drops a panic's payload; a payload whose own drop panics is leaked rather than unwound
/// out of the export.
#[cold]
fn dispose(payload: Box<dyn std::any::Any + Send>) {
    if let Err(again) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        std::mem::forget(again);
    }
}

/// A shared reference from a caller's pointer, or an error that names the argument.
///
/// # Safety
/// `ptr` must be NULL or point to a live `T`, as the header's contract says.
pub unsafe fn arg_ref<'a, T>(ptr: *const T, name: &str) -> Result<&'a T, Error> {
    // SAFETY: non-NULL pointers are valid by the caller's contract.
    unsafe { ptr.as_ref() }.ok_or_else(|| Error::invalid_argument(format!("{name} is NULL")))
}

/// A mutable reference from a caller's pointer, or an error that names the argument.
///
/// # Safety
/// `ptr` must be NULL or point to a live `T` that no other thread uses during the call.
pub unsafe fn arg_mut<'a, T>(ptr: *mut T, name: &str) -> Result<&'a mut T, Error> {
    // SAFETY: as above, plus exclusivity by contract.
    unsafe { ptr.as_mut() }.ok_or_else(|| Error::invalid_argument(format!("{name} is NULL")))
}

/// UTF-8 text from a caller's NUL-terminated string.
///
/// # Safety
/// `ptr` must be NULL or point to a NUL-terminated string that lives for the call.
pub unsafe fn arg_str<'a>(ptr: *const c_char, name: &str) -> Result<&'a str, Error> {
    if ptr.is_null() {
        return Err(Error::invalid_argument(format!("{name} is NULL")));
    }
    // SAFETY: non-NULL and NUL-terminated by the caller's contract.
    let bytes = unsafe { CStr::from_ptr(ptr) };
    bytes.to_str().map_err(|_| Error::invalid_argument(format!("{name} is not valid UTF-8 text")))
}

/// Checks an out-pointer before any work is done, so a NULL one costs nothing.
pub fn check_out<T>(ptr: *mut T, name: &str) -> Result<(), Error> {
    if ptr.is_null() {
        Err(Error::invalid_argument(format!("{name} is NULL")))
    } else {
        Ok(())
    }
}

/// Silence for panics caught at the edge.
///
/// Rust's default panic hook prints a caught panic to stderr before `catch_unwind` sees it. In
/// the shared and static library the Rust standard library is the library's own, so a hook
/// installed by [`install`] (once per process, from `hct_config_new` and `hct_client_new`,
/// before any export can reach library code that might panic) is invisible to C hosts. It
/// stays silent only while the panicking thread is inside an `hct_` export; anywhere else it
/// hands the panic to the hook it replaced, so a Rust program that links the rlib keeps its
/// own panic output unless the panic happens inside a call to the C ABI. A Rust host that
/// later replaces the hook itself gets its own hook's behaviour.
///
/// "Inside an export" is read from the thread's stack, not from a thread-local: every guard
/// writes a [`Mark`] into its own frame on entry (the word `MAGIC ^ its own address`) and
/// clears it on exit, two plain stores. A thread-local depth counter cost the cached path
/// about 1.2 ns of 20 in the shared library (a `__tls_get_addr` call per export); the mark
/// costs nothing measurable. Only a panic pays: the hook scans the live part of the thread's
/// stack, from its own frame to the stack's top (bounds from `pthread_getattr_np`), for a word
/// equal to `MAGIC ^ its address`. Every guard clears its mark before it returns (panics are
/// caught inside it), so no stale mark survives in dead stack, and a copy of a mark elsewhere
/// does not match its new address. When the stack's bounds cannot be read, or the thread runs
/// on another stack (a fiber), the panic is passed on (printed), never guessed about.
pub mod quiet {
    use std::sync::Once;

    /// A random constant, so that no ordinary word of a stack matches by chance.
    const MAGIC: usize = 0x6863_746f_6b65_6e21_u64 as usize ^ 0x9e37_79b9_7f4a_7c15_u64 as usize;

    static INSTALL: Once = Once::new();

    /// One word in a guard's frame that says "this thread is inside an export".
    pub struct Mark(usize);

    impl Mark {
        #[inline(always)]
        pub fn new() -> Mark {
            Mark(0)
        }

        #[inline(always)]
        pub fn set(&mut self) {
            let slot: *mut usize = &mut self.0;
            // SAFETY: a valid, aligned pointer to our own field. Volatile, so the store is
            // made, in memory; then an empty asm that may read memory through `slot` (and has
            // side effects, so the body's calls stay after it) orders it before the body.
            // (black_box instead costs a full memory clobber: 0.35 ns on the cached path.)
            unsafe {
                std::ptr::write_volatile(slot, MAGIC ^ slot as usize);
                std::arch::asm!("/* {0} */", in(reg) slot, options(readonly, nostack, preserves_flags));
            }
        }

        #[inline(always)]
        pub fn clear(&mut self) {
            let slot: *mut usize = &mut self.0;
            // SAFETY: as above; the asm keeps the store after the body's calls.
            unsafe {
                std::arch::asm!("/* {0} */", in(reg) slot, options(readonly, nostack, preserves_flags));
                std::ptr::write_volatile(slot, 0);
            }
        }
    }

    /// Whether this thread is inside an `hct_` export now (see the module's comment).
    #[inline(never)]
    pub fn inside_export() -> bool {
        let probe = 0usize;
        let here = std::hint::black_box(&probe as *const usize as usize);
        // A thread running on another stack than its own (a fiber, a coroutine, a signal
        // stack) is not scanned: the range up to its thread stack's top is not its frames.
        let Some((base, top)) = stack_bounds().filter(|(base, top)| (*base..*top).contains(&here)) else {
            return false;
        };
        debug_assert!(base <= here);
        let mut at = (here + std::mem::size_of::<usize>()) & !(std::mem::align_of::<usize>() - 1);
        while at + std::mem::size_of::<usize>() <= top {
            // SAFETY: [here, top) is the live part of this thread's stack: mapped and readable.
            let word = unsafe { std::ptr::read_volatile(at as *const usize) };
            if word == MAGIC ^ at {
                return true;
            }
            at += std::mem::size_of::<usize>();
        }
        false
    }

    /// The lowest and one past the highest address of this thread's stack (stacks grow down
    /// on every target we build).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn stack_bounds() -> Option<(usize, usize)> {
        // SAFETY: attr is initialised by pthread_getattr_np before it is read, and destroyed.
        unsafe {
            let mut attr: libc::pthread_attr_t = std::mem::zeroed();
            if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
                return None;
            }
            let mut base: *mut libc::c_void = std::ptr::null_mut();
            let mut size: libc::size_t = 0;
            let ok = libc::pthread_attr_getstack(&attr, &mut base, &mut size) == 0;
            libc::pthread_attr_destroy(&mut attr);
            (ok && !base.is_null()).then(|| (base as usize, base as usize + size))
        }
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    fn stack_bounds() -> Option<(usize, usize)> {
        None
    }

    /// Whether the panic hook should pass a panic on to the previous hook (which prints it).
    pub fn should_report() -> bool {
        !inside_export()
    }

    /// Installs the quiet hook in front of the current one, once per process.
    #[cold]
    pub fn install() {
        INSTALL.call_once(|| {
            // take_hook and set_hook panic on a panicking thread; never install from one (the
            // Once is then spent, and panics inside exports may print: documented). Nothing
            // here may unwind: a panicking Once would poison every later call.
            if std::thread::panicking() {
                return;
            }
            let _ = std::panic::catch_unwind(|| {
                let previous = std::panic::take_hook();
                std::panic::set_hook(Box::new(move |info| {
                    if should_report() {
                        previous(info);
                    }
                }));
            });
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn the_depth_counts_nested_exports_and_unwinds_with_a_panic() {
        assert!(!quiet::inside_export());
        let status = guard(|| {
            assert!(quiet::inside_export());
            let inner = guard(|| Ok(()));
            assert_eq!(inner, hct_status::HCT_OK);
            assert!(quiet::inside_export(), "the inner export ended the outer one's silence");
            Ok(())
        });
        assert_eq!(status, hct_status::HCT_OK);
        assert!(!quiet::inside_export());
        quiet::install();
        assert_eq!(guard(|| panic!("a test panic")), hct_status::HCT_ERR_INTERNAL);
        assert!(!quiet::inside_export(), "a caught panic left the thread marked as inside");
        assert!(quiet::should_report());
        let message = unsafe { CStr::from_ptr(last_error_ptr()) }.to_str().unwrap().to_owned();
        assert_eq!(message, PANIC_MESSAGE);
        assert_eq!(guard_value(7, || panic!("another")), 7);
        guard_void(|| panic!("and another"));
        assert!(!quiet::inside_export());
    }

    /// Marks are cleared on the way out, panics included: code that later runs deeper on the
    /// stack, where an export's frame used to be, is not taken for an export.
    #[test]
    fn no_mark_outlives_its_guard() {
        #[inline(never)]
        fn ok() {
            assert_eq!(guard(|| Ok(())), hct_status::HCT_OK);
        }
        #[inline(never)]
        fn panicked() {
            assert_eq!(guard(|| panic!("a test panic")), hct_status::HCT_ERR_INTERNAL);
        }
        #[inline(never)]
        fn value() {
            assert_eq!(guard_value(1, || 2), 2);
        }
        #[inline(never)]
        fn void() {
            guard_void(|| {});
        }
        /// A frame that spans, unwritten, the stack where the guards' frames were.
        #[inline(never)]
        fn probe_over_old_frames() -> bool {
            let area = std::mem::MaybeUninit::<[usize; 2048]>::uninit();
            std::hint::black_box(&area);
            quiet::inside_export()
        }
        quiet::install();
        for (name, run) in [("guard", ok as fn()), ("guard after a panic", panicked), ("guard_value", value), ("guard_void", void)] {
            run();
            assert!(!probe_over_old_frames(), "{name} left a stale mark");
        }
        // And on a small thread stack, as hosts give threads.
        let inside = std::thread::Builder::new()
            .stack_size(48 * 1024)
            .spawn(|| {
                let mut seen = false;
                assert_eq!(guard(|| { seen = quiet::inside_export(); Ok(()) }), hct_status::HCT_OK);
                (seen, quiet::inside_export())
            })
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(inside, (true, false));
    }

    #[test]
    fn an_error_is_recorded_and_returned() {
        let status = guard(|| Err(Error::config("bad\0key")));
        assert_eq!(status, hct_status::HCT_ERR_CONFIG);
        let message = unsafe { CStr::from_ptr(last_error_ptr()) }.to_str().unwrap().to_owned();
        assert_eq!(message, "badkey");
    }

    const CHILD: &str = "HCTOKEN_TEST_PANIC_CHILD";
    const INSIDE_MARKER: &str = "panic-marker-inside-an-export";
    const OUTSIDE_MARKER: &str = "panic-marker-outside-any-export";

    /// The child half of the next test: a panic caught inside an export, then one caught by
    /// plain Rust code outside any export.
    #[test]
    fn panic_child() {
        if std::env::var_os(CHILD).is_none() {
            return;
        }
        quiet::install();
        assert_eq!(guard(|| panic!("{INSIDE_MARKER}")), hct_status::HCT_ERR_INTERNAL);
        let outside = std::panic::catch_unwind(|| panic!("{OUTSIDE_MARKER}"));
        assert!(outside.is_err());
    }

    /// A panic caught at the edge prints nothing to stderr; one outside the C ABI still goes to
    /// the hook that was there before (here, the default one, which prints it).
    #[test]
    fn a_caught_panic_inside_an_export_prints_nothing() {
        let output = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "ffi::boundary::tests::panic_child", "--nocapture", "--test-threads=1"])
            .env(CHILD, "1")
            .env("RUST_BACKTRACE", "1")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "the child failed:\n{stdout}\n{stderr}");
        assert!(stdout.contains("1 passed"), "the child test did not run:\n{stdout}");
        assert!(!stderr.contains(INSIDE_MARKER) && !stdout.contains(INSIDE_MARKER), "a caught panic printed:\n{stderr}");
        assert!(stderr.contains(OUTSIDE_MARKER), "the previous hook was not chained:\n{stderr}");
    }
}
