//! The one deadline of a call: every step of it (waiting for another thread's fetch, DNS,
//! connecting, the TLS handshake, each read and write, every retry and every wait between them)
//! takes its time from here, so no call outlasts its `timeout_ms`.
#![allow(dead_code)] // Parts are used only by some layers yet.

use std::time::{Duration, Instant};

/// The instant a whole call must be over by, and the budget it was made from (for messages).
#[derive(Clone, Copy, Debug)]
pub struct Deadline {
    at: Instant,
    budget: Duration,
}

impl Deadline {
    /// `budget` from now. An absurd budget cannot overflow (the config caps it anyway).
    pub fn after(budget: Duration) -> Deadline {
        let now = Instant::now();
        Deadline { at: now.checked_add(budget).unwrap_or(now + Duration::from_secs(86_400)), budget }
    }

    /// Time left; zero once the deadline has passed.
    pub fn remaining(&self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }

    /// Whether the deadline has passed.
    pub fn is_past(&self) -> bool {
        Instant::now() >= self.at
    }

    /// The instant itself.
    pub fn instant(&self) -> Instant {
        self.at
    }

    /// The budget this deadline was made from (`timeout_ms`), for messages.
    pub fn budget(&self) -> Duration {
        self.budget
    }

    /// The earlier of the two, keeping this one's budget for messages.
    pub fn min(self, other: Deadline) -> Deadline {
        Deadline { at: self.at.min(other.at), budget: self.budget }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deadline_counts_down_to_zero() {
        let deadline = Deadline::after(Duration::from_millis(20));
        assert!(deadline.remaining() <= Duration::from_millis(20));
        assert_eq!(deadline.budget(), Duration::from_millis(20));
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(deadline.remaining(), Duration::ZERO);
        assert!(deadline.is_past());
    }
}
