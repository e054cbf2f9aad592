//! Library events for the program's log: a callback set on the configuration
//! (`Config::set_logger`, hct_config_set_log_callback), called on the thread whose call caused
//! the event, never while the library holds a lock, with text that has passed the client's
//! redactor (no secret, no token). A panicking callback is caught and the event dropped.

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use crate::redact::Redactor;

/// How much an event matters. The numbers are the C header's HCT_LOG_ values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// A fetch failed.
    Error = 1,
    /// A retry, or an early refresh that failed while the valid token kept being served.
    Warn = 2,
    /// A fetch ended with a token; a fork was noticed.
    Info = 3,
    /// A fetch started; a call answered with a remembered refusal.
    Debug = 4,
}

/// What receives an event: its level and its (redacted) text.
type Receive = dyn Fn(LogLevel, &str) + Send + Sync;

/// A receiver of events. Cheap to clone (shared).
#[derive(Clone)]
pub struct Logger(Arc<Receive>);

impl Logger {
    pub fn new(receive: impl Fn(LogLevel, &str) + Send + Sync + 'static) -> Logger {
        Logger(Arc::new(receive))
    }
}

impl fmt::Debug for Logger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Logger")
    }
}

/// A client's way to its logger: every message passes the redactor first.
pub struct Events {
    logger: Option<Logger>,
    redactor: Arc<Redactor>,
}

/// An event's text is cut to this (bytes) by the redactor.
const MAX_EVENT_BYTES: usize = 2048;

impl Events {
    pub fn new(logger: Option<Logger>, redactor: Arc<Redactor>) -> Events {
        Events { logger, redactor }
    }

    /// Whether anyone listens (so that no message is formatted for nobody).
    #[inline]
    pub fn on(&self) -> bool {
        self.logger.is_some()
    }

    /// Sends one event. Call it with no lock held.
    #[cold]
    pub fn emit(&self, level: LogLevel, message: impl FnOnce() -> String) {
        let Some(logger) = &self.logger else { return };
        let text = self.redactor.message(&message(), MAX_EVENT_BYTES);
        // A callback that panics loses its event, never the caller's call.
        let _ = catch_unwind(AssertUnwindSafe(|| (logger.0)(level, &text)));
    }
}
