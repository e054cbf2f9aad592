//! What a client has done, for `Client::stats` and hct_client_stats_json. Counted on slow paths
//! only (a fetch, an early refresh, a wait, a remembered refusal): the cached path counts
//! nothing, so it writes no shared memory. Relaxed atomics: each counter is exact, a snapshot of
//! several is not one instant.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use crate::error::ErrorKind;

/// Every error kind, in the order of their statuses (failures are counted per kind).
pub const KINDS: [ErrorKind; 11] = [
    ErrorKind::InvalidArgument,
    ErrorKind::Config,
    ErrorKind::Network,
    ErrorKind::Timeout,
    ErrorKind::Tls,
    ErrorKind::Http,
    ErrorKind::OAuth,
    ErrorKind::Response,
    ErrorKind::BufferTooSmall,
    ErrorKind::Internal,
    ErrorKind::NoToken,
];

fn index(kind: ErrorKind) -> usize {
    KINDS.iter().position(|&k| k == kind).unwrap_or(KINDS.len() - 1)
}

const NONE: u64 = u64::MAX;

/// The counters, shared by the threads of one client.
pub struct Counters {
    fetches: AtomicU64,
    failures: [AtomicU64; KINDS.len()],
    early_refreshes: AtomicU64,
    early_refresh_failures: AtomicU64,
    stampede_joins: AtomicU64,
    negative_answers: AtomicU64,
    last_fetch_latency_us: AtomicU64,
    /// `index(kind) + 1` of the last failed fetch; 0 for none.
    last_error: AtomicU64,
}

impl Default for Counters {
    fn default() -> Counters {
        Counters {
            fetches: AtomicU64::new(0),
            failures: Default::default(),
            early_refreshes: AtomicU64::new(0),
            early_refresh_failures: AtomicU64::new(0),
            stampede_joins: AtomicU64::new(0),
            negative_answers: AtomicU64::new(0),
            last_fetch_latency_us: AtomicU64::new(NONE),
            last_error: AtomicU64::new(0),
        }
    }
}

impl Counters {
    /// A fetch ended after `latency`, with `failure` if it failed.
    pub fn fetched(&self, latency: Duration, failure: Option<ErrorKind>) {
        self.fetches.fetch_add(1, Relaxed);
        self.last_fetch_latency_us.store(u64::try_from(latency.as_micros()).unwrap_or(NONE - 1), Relaxed);
        if let Some(kind) = failure {
            self.failures[index(kind)].fetch_add(1, Relaxed);
            self.last_error.store(index(kind) as u64 + 1, Relaxed);
        }
    }

    pub fn early_refresh(&self) {
        self.early_refreshes.fetch_add(1, Relaxed);
    }

    pub fn early_refresh_failed(&self) {
        self.early_refresh_failures.fetch_add(1, Relaxed);
    }

    pub fn stampede_join(&self) {
        self.stampede_joins.fetch_add(1, Relaxed);
    }

    pub fn negative_answer(&self) {
        self.negative_answers.fetch_add(1, Relaxed);
    }

    pub fn snapshot(&self, token_requests: u64, token_left: Option<Duration>) -> Stats {
        let latency = self.last_fetch_latency_us.load(Relaxed);
        let last_error = self.last_error.load(Relaxed) as usize;
        Stats {
            token_requests,
            fetches: self.fetches.load(Relaxed),
            failures: KINDS
                .iter()
                .zip(&self.failures)
                .map(|(&kind, count)| (kind, count.load(Relaxed)))
                .filter(|&(_, count)| count > 0)
                .collect(),
            early_refreshes: self.early_refreshes.load(Relaxed),
            early_refresh_failures: self.early_refresh_failures.load(Relaxed),
            stampede_joins: self.stampede_joins.load(Relaxed),
            negative_cache_answers: self.negative_answers.load(Relaxed),
            last_fetch_latency: (latency != NONE).then(|| Duration::from_micros(latency)),
            token_left,
            last_error: last_error.checked_sub(1).map(|i| KINDS[i]),
        }
    }
}

/// A snapshot of what a client has done since it was made.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// HTTP requests sent to the token endpoint (each attempt of a retried fetch counts).
    pub token_requests: u64,
    /// Fetches (each one or more requests), successful or not.
    pub fetches: u64,
    /// Failed fetches by the kind of their error; kinds with none are left out.
    pub failures: Vec<(ErrorKind, u64)>,
    /// Early refreshes started (in the refresh window, while the token was still valid).
    pub early_refreshes: u64,
    /// Early refreshes that failed while the valid token kept being served.
    pub early_refresh_failures: u64,
    /// Callers that waited for another caller's fetch instead of fetching.
    pub stampede_joins: u64,
    /// Calls answered at once with a remembered refusal (no request).
    pub negative_cache_answers: u64,
    /// How long the last fetch took; `None` before the first.
    pub last_fetch_latency: Option<Duration>,
    /// How long the cached token stays valid; `None` when none is cached.
    pub token_left: Option<Duration>,
    /// The error kind of the last failed fetch; `None` if none has failed.
    pub last_error: Option<ErrorKind>,
}
