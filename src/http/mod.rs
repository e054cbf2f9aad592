//! Sending the token request: HTTPS with verified certificates (TLS 1.2 or later, src/tls.rs),
//! plain HTTP only to loopback, no redirects, a capped answer, and retries of transient failures
//! (src/retry.rs), all inside the one deadline of the call.
//!
//! An HTTP/1.1 client of our own, for exactly what a token request needs: one POST with a
//! Content-Length; answers framed by Content-Length, chunked, or the end of the connection;
//! 1xx interim answers skipped; keep-alive. Built on std::net, rustls and httparse rather than
//! a general HTTP client for three reasons:
//! * every deadline is ours: DNS (resolve.rs), connect, the TLS handshake, each read and write
//!   (connect.rs) and every back-off sleep take their time from the call's `Deadline`;
//! * every buffer that holds the secret or the token is ours, sized up front and wiped
//!   (exchange.rs, wire.rs), except rustls' own plaintext buffers (see SECURITY.md);
//! * every byte that can reach a message is ours: errors are fixed text, the configured URL and
//!   numbers (errors.rs); of the server's bytes only the status code, and the raw Content-Type
//!   and Location handed up to the response parser, which redacts what it quotes.
//!
//! Layout: mod.rs (this: the transport and its retry loop), exchange.rs (one attempt),
//! wire.rs (reading an answer), connect.rs (deadline-bound sockets, TLS), resolve.rs (DNS with
//! a deadline), pool.rs (keep-alive, idle limit, fork), proxy.rs (CONNECT tunnel), hold.rs
//! (Retry-After hold), errors.rs (classification and messages).

mod connect;
mod errors;
mod exchange;
mod hold;
mod pool;
mod proxy;
mod resolve;
mod wire;

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use url::{Host, Url};

use crate::config::Settings;
use crate::deadline::Deadline;
use crate::error::{Error, Result};
use crate::request::TokenRequest;
use crate::retry::{self, Next, StopReason};
use crate::secret::SecretBytes;

pub use pool::POOL_IDLE_LIMIT;

/// An answer as read off the wire, body capped at `MAX_BODY_BYTES`. `content_type` and
/// `location` are the server's own text: whoever quotes them redacts them first.
pub struct RawResponse {
    pub status: u16,
    pub content_type: Option<String>,
    pub location: Option<String>,
    pub body: SecretBytes,
    /// How the retries ended when this answer is a failure status that was retried or that
    /// asked for a retry; for the error message.
    pub retry_note: Option<String>,
}

pub struct Transport {
    tls: Arc<rustls::ClientConfig>,
    /// Used for https token URLs only (proxy.rs).
    proxy: Option<proxy::Proxy>,
    user_agent: String,
    /// `connect_timeout_ms`, never more than `timeout_ms`.
    connect_timeout: Duration,
    /// Requests sent (attempts), for `Client::stats`.
    sent: std::sync::atomic::AtomicU64,
    /// The configured token URL, taken apart once.
    target: Target,
    resolver: resolve::Resolver,
    proxy_resolver: resolve::Resolver,
    pool: pool::Pool,
    hold: hold::Hold,
}

/// A token URL taken apart for the request.
#[derive(Clone)]
pub(crate) struct Target {
    url: String,
    https: bool,
    /// Without brackets for IPv6, as the resolver takes it.
    host: String,
    port: u16,
    /// `host:port` for CONNECT (IPv6 in brackets).
    authority: String,
    /// The Host header: the port only when it is not the scheme's default.
    host_header: String,
    /// Path and query.
    path: String,
    server_name: ServerName<'static>,
}

impl Target {
    fn new(url: &Url) -> Result<Target> {
        let bad = || Error::config(format!("token_url {url} has no usable host"));
        let host = match url.host().ok_or_else(bad)? {
            Host::Domain(domain) => domain.to_owned(),
            Host::Ipv4(ip) => ip.to_string(),
            Host::Ipv6(ip) => ip.to_string(),
        };
        let port = url.port_or_known_default().ok_or_else(bad)?;
        let shown = url.host_str().ok_or_else(bad)?;
        let mut path = url.path().to_owned();
        if let Some(query) = url.query() {
            path.push('?');
            path.push_str(query);
        }
        Ok(Target {
            url: url.to_string(),
            https: url.scheme() == "https",
            server_name: ServerName::try_from(host.clone()).map_err(|_| bad())?,
            authority: format!("{shown}:{port}"),
            host_header: match url.port() {
                Some(port) => format!("{shown}:{port}"),
                None => shown.to_owned(),
            },
            host,
            port,
            path,
        })
    }
}

impl Transport {
    pub fn new(settings: &Settings) -> Result<Transport> {
        Self::with_idle_limit(settings, POOL_IDLE_LIMIT)
    }

    /// With another keep-alive idle limit (tests).
    pub fn with_idle_limit(settings: &Settings, idle_limit: Duration) -> Result<Transport> {
        check_scheme(&settings.token_url)?;
        Ok(Transport {
            tls: crate::tls::client_config(settings)?,
            proxy: settings.proxy.as_ref().map(proxy::Proxy::new),
            user_agent: settings.user_agent.clone(),
            connect_timeout: settings.connect_timeout.min(settings.timeout),
            target: Target::new(&settings.token_url)?,
            resolver: resolve::Resolver::default(),
            proxy_resolver: resolve::Resolver::default(),
            pool: pool::Pool::new(idle_limit),
            hold: hold::Hold::default(),
            sent: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// Attempts made so far: requests sent, or tried (one that could not connect counts too).
    pub fn requests_sent(&self) -> u64 {
        self.sent.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Sends the request, retrying transient failures, all before `deadline`.
    #[allow(dead_code)] // the interface of the time-bounds issue; the client uses send_observed
    pub fn send(&self, request: &TokenRequest, deadline: Deadline) -> Result<RawResponse> {
        self.send_observed(request, deadline, &mut |_, _, _| {})
    }

    /// `send`, telling `on_retry` before each retry: the attempt that failed, the wait before
    /// the next one, and why (a status or an error message, not yet redacted).
    pub fn send_observed(
        &self,
        request: &TokenRequest,
        deadline: Deadline,
        on_retry: &mut dyn FnMut(u32, Duration, &str),
    ) -> Result<RawResponse> {
        let target: Cow<'_, Target> = if request.url == self.target.url {
            Cow::Borrowed(&self.target)
        } else {
            let url = Url::parse(&request.url).map_err(|_| Error::config("the token request's URL does not parse"))?;
            check_scheme(&url)?;
            Cow::Owned(Target::new(&url)?)
        };
        let target = &*target;
        self.hold.check(&target.url)?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            if deadline.is_past() {
                return Err(self.context(target, deadline).no_time_left(attempt - 1));
            }
            self.sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let outcome = self.attempt(target, request, deadline);
            let (retryable, retry_after) = match &outcome {
                Ok(answer) => (retry::is_retryable_status(answer.response.status), answer.retry_after),
                Err(failure) => (failure.retryable, None),
            };
            let reason = match retry::next(attempt, retryable, retry_after, deadline.remaining()) {
                Next::RetryAfter(wait) => {
                    let why = match &outcome {
                        Ok(answer) => format!("HTTP {}", answer.response.status),
                        Err(failure) => failure.error.message().to_owned(),
                    };
                    on_retry(attempt, wait, &why);
                    // `next` never returns a wait that reaches past the deadline.
                    std::thread::sleep(wait.min(deadline.remaining()));
                    continue;
                }
                Next::Stop(reason) => reason,
            };
            return match outcome {
                Ok(answer) => {
                    if let (Some(wait), true) = (answer.retry_after, retryable) {
                        self.hold.hold_for(wait, answer.response.status);
                    }
                    let mut response = answer.response;
                    response.retry_note = retry_note(reason, attempt, answer.retry_after, retryable);
                    Ok(response)
                }
                Err(failure) if attempt > 1 => {
                    let message = format!("{} (after {attempt} attempts)", failure.error.message());
                    Err(failure.error.with_message(message))
                }
                Err(failure) => Err(failure.error),
            };
        }
    }
}

fn retry_note(reason: StopReason, attempts: u32, retry_after: Option<Duration>, retryable: bool) -> Option<String> {
    if !retryable {
        return None;
    }
    Some(match (reason, retry_after) {
        (StopReason::NoTimeLeft, Some(wait)) => format!(
            "the server asked to retry after {} s (Retry-After), which is past timeout_ms; gave up after {attempts} attempt{}",
            wait.as_secs_f64().ceil() as u64,
            if attempts == 1 { "" } else { "s" }
        ),
        (StopReason::NoTimeLeft, None) => {
            format!("gave up after {attempts} attempt{}: no time left in timeout_ms for another", if attempts == 1 { "" } else { "s" })
        }
        _ => format!("gave up after {attempts} attempts"),
    })
}

/// Plain HTTP would send the client secret in clear text; allow it only where it never leaves
/// the machine.
pub fn check_scheme(url: &Url) -> Result<()> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        "http" => Err(Error::config(format!(
            "token_url {} uses plain http to a host that is not loopback; the client secret would cross the network unencrypted, so use https (http is allowed only for 127.0.0.0/8, ::1 and localhost)",
            url
        ))),
        other => Err(Error::config(format!("token_url scheme {other} is not supported: use https"))),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn plain_http_only_to_loopback() {
        for ok in ["https://example.com/t", "http://127.0.0.1:8080/t", "http://127.9.9.9/t", "http://localhost/t", "http://[::1]:80/t"] {
            assert!(check_scheme(&url(ok)).is_ok(), "{ok}");
        }
        for bad in ["http://example.com/t", "http://10.0.0.1/t", "http://localhost.evil.com/t", "http://[::2]/t"] {
            let err = check_scheme(&url(bad)).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Config);
            assert!(err.message().contains("loopback"), "{}", err.message());
        }
    }

    #[test]
    fn a_target_is_taken_apart_once() {
        let t = Target::new(&url("https://idp.example:8443/oauth2/token?tenant=a")).unwrap();
        assert_eq!((t.host.as_str(), t.port, t.https), ("idp.example", 8443, true));
        assert_eq!((t.authority.as_str(), t.host_header.as_str(), t.path.as_str()), ("idp.example:8443", "idp.example:8443", "/oauth2/token?tenant=a"));
        let t = Target::new(&url("http://[::1]/t")).unwrap();
        assert_eq!((t.host.as_str(), t.port, t.authority.as_str(), t.host_header.as_str()), ("::1", 80, "[::1]:80", "[::1]"));
    }
}
