//! A client: one parameter set (profile, endpoint, credentials, scope...), one cached token,
//! shared by every thread of the program.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::cache::{CachedToken, GetMode, TokenCache};
use crate::clock::{Clock, ManualClock, Now};
use crate::config::{Config, Settings};
use crate::deadline::Deadline;
use crate::profile::AuthMethod;
use crate::error::{Error, ErrorKind, Result};
use crate::redact::Redactor;
use crate::request::{self, TokenRequest};
use crate::response::{self, Expectations, HttpAnswer};
use crate::log::{Events, LogLevel};
use crate::secret::Secret;
use crate::stats::Stats;
use crate::http::Transport;

/// An access token handed to the caller: zeroed when dropped, redacted in `Debug`.
#[derive(Clone)]
pub struct AccessToken {
    value: Secret,
    expires_in: Duration,
    scope: Box<str>,
    token_type: Box<str>,
}

impl AccessToken {
    /// The bare token, for `Authorization: Bearer <token>`.
    pub fn as_str(&self) -> &str {
        self.value.expose()
    }

    /// How long the token stays valid, from when it was handed out.
    pub fn expires_in(&self) -> Duration {
        self.expires_in
    }

    /// The granted scope as the token endpoint sent it; "" if it sent none.
    pub fn scope(&self) -> &str {
        &self.scope
    }

    /// The token type as the token endpoint sent it (some spelling of "bearer"); "" if it sent
    /// none.
    pub fn token_type(&self) -> &str {
        &self.token_type
    }
}

/// How one `Client::get` call may get its token. `GetOptions::default()` is what `token()` does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GetOptions {
    /// Never fetch: a valid cached token, or `ErrorKind::NoToken` when none is cached.
    pub cached_only: bool,
    /// In the refresh window, serve the still-valid token and leave the refresh to another
    /// caller (one that gets without this option).
    pub no_early_refresh: bool,
    /// Bounds this call, waiting for another thread's fetch included; `None` is the client's
    /// `timeout_ms`.
    pub timeout: Option<Duration>,
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("value", &self.value)
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .field("token_type", &self.token_type)
            .finish()
    }
}

/// Gets and caches tokens for one configuration. `Send + Sync`: share it between threads.
pub struct Client {
    settings: Settings,
    request: TokenRequest,
    transport: Transport,
    cache: TokenCache,
    clock: Clock,
    /// The secret's spellings, redacted from every message about a fetch (and every event).
    redactor: Arc<Redactor>,
    /// The fork generation this client's last fetch ran in, to report a fork once.
    fetched_in_generation: AtomicU64,
    /// HTTP Basic with a client id or secret that form-encoding changes: a refusal gets a hint.
    basic_encoding_changes_credentials: bool,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("profile", &self.settings.profile.name())
            .field("token_url", &self.settings.token_url.as_str())
            .field("client_id", &self.settings.client_id)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Checks the configuration and prepares the client. Makes no network request: the first
    /// token is fetched by the first call that needs one.
    pub fn new(config: &Config) -> Result<Client> {
        Self::with_clock(config, Clock::System)
    }

    /// A client on a manual clock, for tests that walk through a token's lifetime.
    #[doc(hidden)]
    pub fn with_manual_clock(config: &Config, clock: ManualClock) -> Result<Client> {
        Self::with_clock(config, Clock::Manual(clock))
    }

    fn with_clock(config: &Config, clock: Clock) -> Result<Client> {
        crate::fork::install();
        let settings = config.resolve()?;
        let transport = Transport::new(&settings)?;
        // The request never changes for a client, so build it once.
        let request = request::build(&settings);
        let redactor = Arc::new(Redactor::new(&settings.client_id, settings.client_secret.expose()));
        let cache = TokenCache::with_events(Events::new(config.logger().cloned(), Arc::clone(&redactor)));
        let fetched_in_generation = AtomicU64::new(crate::fork::generation());
        let basic_encoding_changes_credentials = settings.auth_method == AuthMethod::Basic
            && [settings.client_id.as_str(), settings.client_secret.expose()]
                .iter()
                .any(|text| text.bytes().any(|b| !(b.is_ascii_alphanumeric() || b"*-._".contains(&b))));
        Ok(Client {
            settings,
            request,
            transport,
            cache,
            clock,
            redactor,
            fetched_in_generation,
            basic_encoding_changes_credentials,
        })
    }

    /// A valid token: from memory while fresh, otherwise fetched (by one thread at a time).
    ///
    /// * Fresh: from memory, no lock, no fetch.
    /// * In the refresh window (the last `refresh_skew` of the token's life): the one caller that
    ///   refreshes pays for the fetch, bounded by its timeout and by half of the token's
    ///   remaining validity; if it fails or gives up, that caller too gets the still-valid token,
    ///   and the next refresh is tried no sooner than 5 s later. Everyone else meanwhile gets the
    ///   cached token at once.
    /// * Expired (on the monotonic or the wall clock) or none: one caller fetches; the others
    ///   wait for it, each at most its own timeout (then `ErrorKind::Timeout`).
    /// * A definite refusal (an OAuth error, a 4xx other than 408 and 429, a TLS failure) is
    ///   remembered for 1 s, 2 s, 4 s ... up to 60 s (less up to a fifth, at random) and answered
    ///   at once with the same error and a last line `cached: next attempt in N s`, until a fetch
    ///   succeeds or the token is invalidated. A valid cached token is still served meanwhile.
    pub fn token(&self) -> Result<AccessToken> {
        self.get(GetOptions::default())
    }

    /// A valid token as `token()` gets it, with the choices of `options`: cached only, no early
    /// refresh, a timeout for this call. `expires_in` is counted from when it was handed out.
    pub fn get(&self, options: GetOptions) -> Result<AccessToken> {
        self.with_cached_token(options, |cached, remaining| AccessToken {
            value: cached.token.clone(),
            expires_in: remaining,
            scope: cached.scope.clone(),
            token_type: cached.token_type.clone(),
        })
    }

    /// `get` without the copy: `use_token` sees the cached token and how long it has left.
    pub(crate) fn with_cached_token<R>(
        &self,
        options: GetOptions,
        use_token: impl FnOnce(&CachedToken, Duration) -> R,
    ) -> Result<R> {
        let timeout = options.timeout.unwrap_or(self.settings.timeout);
        let mode = GetMode { cached_only: options.cached_only, early_refresh: !options.no_early_refresh };
        self.cache.with_cached(
            || self.clock.now(),
            timeout,
            mode,
            |deadline| self.fetch(deadline),
            |cached, at| use_token(cached, cached.remaining(at)),
        )
    }

    /// Calls `use_token` with a valid token without copying it; the fastest way in.
    #[inline]
    pub fn with_token<R>(&self, use_token: impl FnOnce(&str) -> R) -> Result<R> {
        self.cache.with_token(|| self.clock.now(), self.settings.timeout, |deadline| self.fetch(deadline), use_token)
    }

    /// Drops the cached token and forgets a remembered refusal; the next call fetches anew.
    /// In a 401 handler use `invalidate_if`: with many threads, `invalidate` costs one fetch
    /// per thread that saw the 401.
    pub fn invalidate(&self) {
        self.cache.invalidate();
    }

    /// Drops the cached token only if it is still `refused_token` (the token an API answered
    /// 401 to); returns whether it did. Of many threads that saw a 401 for the same token,
    /// exactly one causes a new fetch. Prefer this to `invalidate` in 401 handlers. Compared in
    /// constant time. When it drops the token it also forgets a remembered refusal.
    pub fn invalidate_if(&self, refused_token: &str) -> bool {
        self.cache.invalidate_if(refused_token)
    }

    /// The profile name, token URL and client id, for diagnostics (never the secret).
    pub fn describe(&self) -> String {
        format!(
            "profile {} at {} as client {}",
            self.settings.profile.name(),
            self.settings.token_url,
            self.settings.client_id
        )
    }

    /// What this client has done since it was made (counted on slow paths only).
    pub fn stats(&self) -> Stats {
        self.cache.stats().snapshot(self.transport.requests_sent(), self.cache.token_left(self.clock.now()))
    }

    fn fetch(&self, deadline: Deadline) -> Result<CachedToken> {
        let events = self.cache.events();
        let generation = crate::fork::generation();
        if self.fetched_in_generation.swap(generation, Ordering::Relaxed) != generation {
            events.emit(LogLevel::Info, || {
                "this process was forked since the client's last fetch: the child drops the parent's kept-alive \
                 connection and in-flight fetch, keeps a still-valid token and fetches on its own"
                    .to_owned()
            });
        }
        events.emit(LogLevel::Debug, || {
            format!("fetch started: {} (within {} ms)", self.settings.token_url, deadline.remaining().as_millis())
        });
        let started = std::time::Instant::now();
        let mut attempts = 1u32;
        // Defence in depth: whatever a message quotes, no spelling of the secret leaves.
        let fetched = self.fetch_unredacted(deadline, &mut attempts).map_err(|error| {
            let clean = self.redactor.message(error.message(), MAX_MESSAGE_BYTES);
            if clean == error.message() { error } else { error.with_message(clean) }
        });
        let took = started.elapsed();
        self.cache.stats().fetched(took, fetched.as_ref().err().map(Error::kind));
        if events.on() {
            let ms = took.as_secs_f64() * 1e3;
            match &fetched {
                Ok(token) => events.emit(LogLevel::Info, || {
                    format!(
                        "fetch ended: HCT_OK in {ms:.1} ms after {attempts} attempt{}; the token is valid for {} s",
                        plural(attempts),
                        token.remaining(self.clock.now()).as_secs()
                    )
                }),
                Err(error) => events.emit(LogLevel::Error, || {
                    format!(
                        "fetch ended: {} in {ms:.1} ms after {attempts} attempt{}: {}",
                        status_name(error.kind()),
                        plural(attempts),
                        error.message()
                    )
                }),
            }
        }
        fetched
    }

    fn fetch_unredacted(&self, deadline: Deadline, attempts: &mut u32) -> Result<CachedToken> {
        // Count the lifetime from before the request went out: the server's clock started then.
        let sent_at: Now = self.clock.now();
        let events = self.cache.events();
        let raw = self.transport.send_observed(&self.request, deadline, &mut |attempt, wait, why| {
            *attempts = attempt + 1;
            events.emit(LogLevel::Warn, || {
                format!("attempt {attempt} failed ({why}); retrying in {} ms", wait.as_millis())
            });
        })?;
        let issued = response::parse(
            &HttpAnswer {
                status: raw.status,
                content_type: raw.content_type.as_deref(),
                location: raw.location.as_deref(),
                body: raw.body.expose(),
            },
            Expectations {
                profile: self.settings.profile,
                auth_method: self.settings.auth_method,
                default_lifetime: self.settings.default_lifetime,
                basic_encoding_changes_credentials: self.basic_encoding_changes_credentials,
            },
            &self.redactor,
        )
        .map_err(|error| with_retry_note(error, raw.retry_note.as_deref()))?;
        Ok(CachedToken::new(issued.access_token, sent_at, issued.lifetime, self.settings.refresh_skew)
            .with_details(&issued.scope, &issued.token_type))
    }
}

fn plural(n: u32) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The C status name of an error kind, for events (the same names as hct_status_name).
fn status_name(kind: ErrorKind) -> &'static str {
    crate::ffi::status_name_of(kind)
}

/// A message about a fetch is cut to this (bytes) in the last redaction pass.
pub(crate) const MAX_MESSAGE_BYTES: usize = 2048;

/// An HTTP error status that was retried says so (the transport knows how the retries went).
fn with_retry_note(error: Error, note: Option<&str>) -> Error {
    match note {
        Some(note) if error.kind() == ErrorKind::Http => {
            let message = format!("{}; {note}", error.message());
            error.with_message(message)
        }
        _ => error,
    }
}
