//! Sending the token request: HTTPS with verified certificates (TLS 1.2 or later), plain HTTP
//! only to loopback, no redirects, a capped response size, and retries of transient failures
//! (retry.rs) inside one overall deadline of `timeout_ms`.
//!
//! A connection is kept alive between fetches that come close together, but one that has been
//! idle for `POOL_IDLE_LIMIT` is not reused: firewalls and load balancers drop idle connections
//! without telling either end, and a request sent into such a connection would hang until the
//! timeout.

use std::io::Read;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use once_cell::sync::Lazy;
use parking_lot::Mutex;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use url::{Host, Url};
use zeroize::Zeroizing;

use crate::config::Settings;
use crate::error::{Error, ErrorKind, Result};
use crate::request::TokenRequest;
use crate::response::MAX_BODY_BYTES;
use crate::deadline::Deadline;
use crate::retry::{self, Next, StopReason};
use crate::secret::SecretBytes;

/// Connections idle for longer are closed rather than reused (see the module comment). Below
/// the common idle timeouts of servers and middleboxes (60 s and up), above the gap between
/// fetches that come in a burst.
const POOL_IDLE_LIMIT: Duration = Duration::from_secs(30);
/// A client secret shorter than this is not scrubbed from error bodies: it would match
/// ordinary text. (Such a secret is weak anyway.)
const MIN_SCRUBBED_SECRET_LEN: usize = 6;

/// A response as read off the wire, body capped at `MAX_BODY_BYTES`.
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
    proxy: Option<ureq::Proxy>,
    /// For messages: the proxy's host:port.
    proxy_url: Option<String>,
    user_agent: String,
    timeout: Duration,
    /// `connect_timeout_ms`, never more than `timeout_ms`.
    connect_timeout: Duration,
    /// The client secret in the forms a server may echo it in, scrubbed from error bodies.
    secret_echoes: Vec<SecretBytes>,
    pool: Mutex<Pool>,
    /// A server's `Retry-After` that outlasted a fetch: no request before then.
    hold: Mutex<Option<Hold>>,
}

struct Pool {
    agent: ureq::Agent,
    last_used: Instant,
}

#[derive(Clone, Copy)]
struct Hold {
    until: Instant,
    status: u16,
}

/// One attempt's failure before a usable answer was read, and whether to try again.
struct Failure {
    error: Error,
    retryable: bool,
}

impl Transport {
    pub fn new(settings: &Settings) -> Result<Transport> {
        check_scheme(&settings.token_url)?;
        let proxy = match &settings.proxy {
            Some(proxy) => Some(ureq::Proxy::new(proxy.url().as_str()).map_err(|_| {
                Error::config("invalid value for proxy: expected an http://host:port URL of an HTTP CONNECT proxy")
            })?),
            None => None,
        };
        let mut transport = Transport {
            // One TLS configuration (and so one parsed copy of the system's trust store, ~90 KB)
            // for every client without a ca_file, instead of one per client.
            tls: match settings.ca_file {
                None => Arc::clone(DEFAULT_TLS.as_ref().map_err(Clone::clone)?),
                Some(_) => Arc::new(tls_config(settings)?),
            },
            proxy,
            proxy_url: settings.proxy.as_ref().map(|proxy| proxy.host_and_port()),
            user_agent: settings.user_agent.clone(),
            timeout: settings.timeout,
            connect_timeout: settings.connect_timeout.min(settings.timeout),
            secret_echoes: secret_echoes(settings.client_secret.expose()),
            pool: Mutex::new(Pool { agent: ureq::Agent::new(), last_used: Instant::now() }),
            hold: Mutex::new(None),
        };
        transport.pool.get_mut().agent = transport.agent(transport.connect_timeout);
        Ok(transport)
    }

    /// Sends the request, retrying transient failures, all before `deadline`.
    pub fn send(&self, request: &TokenRequest, deadline: Deadline) -> Result<RawResponse> {
        self.check_hold(&request.url)?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let remaining = deadline.remaining();
            if remaining.is_zero() {
                return Err(Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "no answer from {} within timeout_ms ({} ms) after {} attempts",
                        request.url,
                        self.timeout.as_millis(),
                        attempt - 1
                    ),
                ));
            }
            // The HTTP client has `expect`s on rare I/O paths; a panic there must not unwind
            // into a host program that called through the Rust API.
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.attempt(request, attempt, remaining)))
                .unwrap_or_else(|_| {
                    Err(Failure {
                        error: Error::internal(format!("the HTTP client failed unexpectedly while requesting {}", request.url)),
                        retryable: false,
                    })
                });
            let (retryable, retry_after) = match &outcome {
                Ok(answer) => (retry::is_retryable_status(answer.response.status), answer.retry_after),
                Err(failure) => (failure.retryable, None),
            };
            let next = retry::next(attempt, retryable, retry_after, deadline.remaining());
            let reason = match next {
                Next::RetryAfter(wait) => {
                    std::thread::sleep(wait);
                    continue;
                }
                Next::Stop(reason) => reason,
            };
            return match outcome {
                Ok(answer) => {
                    if let (Some(wait), true) = (answer.retry_after, retryable) {
                        self.hold_for(wait, answer.response.status);
                    }
                    let mut response = answer.response;
                    response.retry_note = retry_note(reason, attempt, answer.retry_after, retryable);
                    Ok(response)
                }
                Err(failure) if attempt > 1 => Err(Error::new(
                    failure.error.kind(),
                    format!("{} (after {attempt} attempts)", failure.error.message()),
                )),
                Err(failure) => Err(failure.error),
            };
        }
    }

    /// One request, and its answer read in full.
    fn attempt(&self, request: &TokenRequest, attempt: u32, remaining: Duration) -> std::result::Result<Answer, Failure> {
        let agent = if attempt == 1 || remaining >= self.connect_timeout {
            self.pooled_agent()
        } else {
            // Late in the deadline: a new connection may take only the time that is left.
            self.agent(remaining)
        };
        let mut call = agent
            .post(&request.url)
            .timeout(remaining)
            .set("Content-Type", request.content_type)
            .set("Accept", "application/json");
        if let Some(authorization) = &request.authorization {
            call = call.set("Authorization", authorization.expose());
        }
        let response = match call.send_bytes(request.body.expose()) {
            Ok(response) => response,
            Err(ureq::Error::Status(_, response)) => response,
            Err(ureq::Error::Transport(transport)) => return Err(transport_failure(&self.context(&request.url), &transport)),
        };
        let status = response.status();
        let content_type = response.header("Content-Type").map(str::to_owned);
        let location = response.header("Location").map(str::to_owned);
        let retry_after = response
            .header("Retry-After")
            .and_then(|value| retry::parse_retry_after(value, SystemTime::now()));
        let success = (200..300).contains(&status);
        let declared_len = response.header("Content-Length").and_then(|len| len.trim().parse::<u64>().ok());
        let body = if declared_len.is_some_and(|len| len > MAX_BODY_BYTES as u64) {
            // Not read at all.
            None
        } else {
            read_capped(response.into_reader(), MAX_BODY_BYTES)
                .map_err(|e| io_failure(&self.context(&request.url), &e, "reading the answer of"))?
        };
        let body = match body {
            Some(body) => body,
            // A token response is never that large.
            None if success => return Err(Failure { error: too_large(), retryable: false }),
            // An error page may be; its status is what matters (and decides on a retry).
            None => SecretBytes::default(),
        };
        let (body, content_type, location) = if success {
            (body, content_type, location)
        } else {
            // Error answers are what get quoted in messages.
            (self.scrub_secret(body), content_type.map(|t| self.scrub_text(t)), location.map(|l| self.scrub_text(l)))
        };
        Ok(Answer {
            response: RawResponse { status, content_type, location, body, retry_note: None },
            retry_after,
        })
    }

    fn context<'a>(&'a self, url: &'a str) -> Context<'a> {
        Context {
            url,
            proxy: self.proxy.as_ref(),
            proxy_url: self.proxy_url.as_deref(),
            timeout: self.timeout,
            connect_timeout: self.connect_timeout,
        }
    }

    /// The agent whose kept-alive connection is reused, unless it sat idle too long.
    fn pooled_agent(&self) -> ureq::Agent {
        let mut pool = self.pool.lock();
        let now = Instant::now();
        if now.duration_since(pool.last_used) > POOL_IDLE_LIMIT {
            pool.agent = self.agent(self.connect_timeout);
        }
        pool.last_used = now;
        pool.agent.clone()
    }

    fn agent(&self, connect_timeout: Duration) -> ureq::Agent {
        let mut builder = ureq::AgentBuilder::new()
            .timeout_connect(connect_timeout)
            .timeout(self.timeout)
            .redirects(0)
            .user_agent(&self.user_agent)
            .tls_config(Arc::clone(&self.tls));
        if let Some(proxy) = &self.proxy {
            builder = builder.proxy(proxy.clone());
        }
        builder.build()
    }

    /// Refuses to send while a server's `Retry-After` from an earlier fetch is in force.
    fn check_hold(&self, url: &str) -> Result<()> {
        let mut hold = self.hold.lock();
        let Some(active) = *hold else { return Ok(()) };
        let left = active.until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            *hold = None;
            return Ok(());
        }
        Err(Error::new(
            ErrorKind::Http,
            format!(
                "token endpoint {url} answered HTTP {} and asked (Retry-After) not to be asked again for {} s more; hctoken waits until then",
                active.status,
                left.as_secs_f64().ceil() as u64
            ),
        ))
    }

    fn hold_for(&self, wait: Duration, status: u16) {
        if wait.is_zero() {
            return;
        }
        let until = Instant::now() + wait.min(retry::MAX_HOLD);
        *self.hold.lock() = Some(Hold { until, status });
    }

    /// Some servers repeat the request's parameters in their error text; never let the client
    /// secret travel on into a message.
    fn scrub_secret(&self, body: SecretBytes) -> SecretBytes {
        let mut body = body;
        for echo in &self.secret_echoes {
            body = replace_all(body, echo.expose(), b"<redacted>");
        }
        body
    }

    /// `scrub_secret` for a header value.
    fn scrub_text(&self, text: String) -> String {
        let scrubbed = self.scrub_secret(SecretBytes::new(text.into_bytes()));
        String::from_utf8_lossy(scrubbed.expose()).into_owned()
    }
}

/// An answer, before the retry policy has looked at it.
struct Answer {
    response: RawResponse,
    retry_after: Option<Duration>,
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

/// The secret as it may come back: verbatim, JSON-escaped, form-encoded.
fn secret_echoes(secret: &str) -> Vec<SecretBytes> {
    if secret.len() < MIN_SCRUBBED_SECRET_LEN {
        return Vec::new();
    }
    let json = Zeroizing::new(serde_json::to_string(secret).unwrap_or_default());
    let json = json.get(1..json.len().saturating_sub(1)).unwrap_or_default();
    let form = Zeroizing::new(form_urlencoded::byte_serialize(secret.as_bytes()).collect::<String>());
    let mut echoes: Vec<SecretBytes> = Vec::new();
    for form in [secret, json, form.as_str()] {
        if !echoes.iter().any(|e| e.expose() == form.as_bytes()) {
            echoes.push(SecretBytes::new(form.as_bytes().to_vec()));
        }
    }
    echoes
}

fn replace_all(body: SecretBytes, needle: &[u8], with: &[u8]) -> SecretBytes {
    let haystack = body.expose();
    if needle.is_empty() || !haystack.windows(needle.len()).any(|w| w == needle) {
        return body;
    }
    let mut out = Vec::with_capacity(haystack.len());
    let mut rest = haystack;
    while !rest.is_empty() {
        if rest.starts_with(needle) {
            out.extend_from_slice(with);
            rest = &rest[needle.len()..];
        } else {
            out.push(rest[0]);
            rest = &rest[1..];
        }
    }
    SecretBytes::new(out)
}

/// Reads at most `cap` bytes; `None` when there are more. The buffer never reallocates with
/// its contents left behind: growing copies into a new buffer and wipes the old one, since the
/// body holds the token.
fn read_capped(mut reader: impl Read, cap: usize) -> std::io::Result<Option<SecretBytes>> {
    // A token response is 1-2 KB; every byte of capacity is wiped on drop.
    const INITIAL: usize = 4 * 1024;
    let mut body = Zeroizing::new(Vec::with_capacity(INITIAL));
    // Zeroizing<[u8; N]> wipes an array byte by byte (8 KB: ~2 us per fetch); wipe it as a slice.
    struct Chunk([u8; 8 * 1024]);
    impl Drop for Chunk {
        fn drop(&mut self) {
            zeroize::Zeroize::zeroize(&mut self.0[..]);
        }
    }
    let mut chunk = Chunk([0u8; 8 * 1024]);
    loop {
        let n = match reader.read(&mut chunk.0[..]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if body.len() + n > cap {
            return Ok(None);
        }
        if body.len() + n > body.capacity() {
            let mut bigger = Zeroizing::new(Vec::with_capacity((body.capacity() * 2).max(body.len() + n)));
            bigger.extend_from_slice(&body);
            body = bigger;
        }
        body.extend_from_slice(&chunk.0[..n]);
    }
    Ok(Some(SecretBytes::new(std::mem::take(&mut *body))))
}

fn too_large() -> Error {
    Error::response(format!(
        "the token response is larger than {} KiB; a token response is a few KB, so this is not one",
        MAX_BODY_BYTES / 1024
    ))
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

/// The system's trust store (so hosts behind a corporate TLS-inspecting proxy work), read once
/// per process; Mozilla's roots where the system has none.
static SYSTEM_ROOTS: Lazy<Vec<CertificateDer<'static>>> = Lazy::new(|| {
    let loaded = rustls_native_certs::load_native_certs();
    loaded.certs
});

/// The TLS configuration of every client without a ca_file: built once per process.
static DEFAULT_TLS: Lazy<Result<Arc<rustls::ClientConfig>>> = Lazy::new(|| tls_config_roots(None).map(Arc::new));

fn tls_config(settings: &Settings) -> Result<rustls::ClientConfig> {
    tls_config_roots(settings.ca_file.as_deref())
}

fn tls_config_roots(ca_file: Option<&std::path::Path>) -> Result<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    let (_added, _ignored) = roots.add_parsable_certificates(SYSTEM_ROOTS.iter().cloned());
    if roots.is_empty() {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    if let Some(path) = ca_file {
        let shown = path.display();
        let certs = CertificateDer::pem_file_iter(path)
            .map_err(|e| Error::config(format!("ca_file {shown} cannot be read: {e}")))?
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::config(format!("ca_file {shown} is not a PEM certificate bundle: {e}")))?;
        if certs.is_empty() {
            return Err(Error::config(format!("ca_file {shown} holds no PEM certificates")));
        }
        for cert in certs {
            roots
                .add(cert)
                .map_err(|e| Error::config(format!("ca_file {shown} has a certificate that cannot be used: {e}")))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| Error::internal(format!("TLS setup failed: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}

/// What an error message needs to say where things went wrong.
struct Context<'a> {
    url: &'a str,
    proxy: Option<&'a ureq::Proxy>,
    proxy_url: Option<&'a str>,
    timeout: Duration,
    connect_timeout: Duration,
}

fn transport_failure(cx: &Context<'_>, transport: &ureq::Transport) -> Failure {
    use std::error::Error as _;
    let url = cx.url;
    let not_retryable = |error| Failure { error, retryable: false };
    match transport.kind() {
        // DNS first: its source is an I/O error too, but "cannot resolve" is the useful part.
        ureq::ErrorKind::Dns => {
            let what = if cx.proxy.is_some() { "the proxy's host" } else { "the host of" };
            return not_retryable(Error::new(
                ErrorKind::Network,
                format!("cannot resolve {what} {url}: check token_url, proxy and this machine's DNS"),
            ));
        }
        ureq::ErrorKind::ProxyConnect | ureq::ErrorKind::ProxyUnauthorized | ureq::ErrorKind::InvalidProxyUrl => {
            return not_retryable(Error::new(
                ErrorKind::Network,
                format!("the proxy refused or failed the tunnel to {url}: {}", transport.kind()),
            ))
        }
        _ => {}
    }
    let doing = match (transport.kind(), cx.proxy) {
        (ureq::ErrorKind::ConnectionFailed, Some(_)) => "connecting to the proxy for",
        (ureq::ErrorKind::ConnectionFailed, None) => "connecting to",
        _ => "waiting for the answer of",
    };
    // Walk the source chain for the I/O or TLS error underneath.
    let mut source = transport.source();
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return io_failure(cx, io, doing);
        }
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return not_retryable(tls_error(url, tls));
        }
        source = err.source();
    }
    not_retryable(Error::new(ErrorKind::Network, format!("request to {url} failed: {}", transport.kind())))
}

/// `doing` completes "timed out ... {url}": "connecting to", "reading the answer of"...
fn io_failure(cx: &Context<'_>, io: &std::io::Error, doing: &str) -> Failure {
    use std::io::ErrorKind as Io;
    let url = cx.url;
    if let Some(tls) = io.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
        return Failure { error: tls_error(url, tls), retryable: false };
    }
    let (kind, retryable, message) = match io.kind() {
        Io::TimedOut | Io::WouldBlock => (ErrorKind::Timeout, false, timeout_message(cx, doing)),
        Io::ConnectionRefused if cx.proxy.is_some() => (
            ErrorKind::Network,
            false,
            format!("the proxy {} refused the connection (for {url}): check the proxy setting", cx.proxy_url.unwrap_or("?")),
        ),
        Io::ConnectionRefused => {
            (ErrorKind::Network, false, format!("connection refused by {url}: is the token endpoint up?"))
        }
        // The server or something on the way closed the connection: worth another try.
        Io::ConnectionReset | Io::ConnectionAborted | Io::UnexpectedEof | Io::BrokenPipe => (
            ErrorKind::Network,
            true,
            format!("the connection was closed while {doing} {url}"),
        ),
        _ => (ErrorKind::Network, false, format!("network error while {doing} {url}: {io}")),
    };
    Failure { error: Error::new(kind, message), retryable }
}

fn timeout_message(cx: &Context<'_>, doing: &str) -> String {
    let url = cx.url;
    if doing.starts_with("connecting") {
        format!(
            "timed out {doing} {url} (connect_timeout_ms {} ms, within timeout_ms {} ms for the whole fetch)",
            cx.connect_timeout.as_millis(),
            cx.timeout.as_millis()
        )
    } else {
        format!(
            "timed out {doing} {url}: timeout_ms ({} ms) bounds the whole fetch, retries included",
            cx.timeout.as_millis()
        )
    }
}

/// rustls shows presented names as `DnsName("host")`; a person wants `host`.
fn plain_name(presented: &str) -> &str {
    presented
        .strip_prefix("DnsName(\"")
        .and_then(|rest| rest.strip_suffix("\")"))
        .unwrap_or(presented)
}

fn tls_error(url: &str, tls: &rustls::Error) -> Error {
    use rustls::CertificateError as Cert;
    let why = match tls {
        rustls::Error::InvalidCertificate(Cert::UnknownIssuer) => {
            "the server's certificate was issued by a CA this machine does not trust; for a private CA set ca_file to its PEM bundle".to_owned()
        }
        rustls::Error::InvalidCertificate(Cert::NotValidForNameContext { presented, .. }) => format!(
            "the server's certificate is for {}, not for the host in token_url",
            presented.iter().take(5).map(|name| plain_name(name)).collect::<Vec<_>>().join(", ")
        ),
        rustls::Error::InvalidCertificate(Cert::NotValidForName) => {
            "the server's certificate is not valid for the host in token_url".to_owned()
        }
        rustls::Error::InvalidCertificate(Cert::Expired | Cert::ExpiredContext { .. }) => {
            "the server's certificate has expired (or this machine's clock is wrong)".to_owned()
        }
        rustls::Error::InvalidCertificate(Cert::NotValidYet | Cert::NotValidYetContext { .. }) => {
            "the server's certificate is not valid yet (or this machine's clock is wrong)".to_owned()
        }
        rustls::Error::InvalidCertificate(other) => format!("the server's certificate is not trusted ({other:?})"),
        rustls::Error::PeerIncompatible(_) | rustls::Error::AlertReceived(_) => {
            format!("the server and hctoken share no TLS version or cipher suite (hctoken requires TLS 1.2 or later): {tls}")
        }
        other => other.to_string(),
    };
    Error::new(ErrorKind::Tls, format!("TLS handshake with {url} failed: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn read_capped_stops_at_the_cap() {
        let small = read_capped(&b"hello"[..], 10).unwrap().unwrap();
        assert_eq!(small.expose(), b"hello");
        let exact = vec![7u8; 40_000];
        assert_eq!(read_capped(&exact[..], 40_000).unwrap().unwrap().expose(), &exact[..]);
        assert!(read_capped(&exact[..], 39_999).unwrap().is_none());
    }

    #[test]
    fn echoed_secrets_are_scrubbed_in_every_form() {
        let echoes = secret_echoes("p\"ss w/rd");
        let body = br#"{"error":"invalid_client","error_description":"bad secret p\"ss w/rd or p%22ss+w%2Frd or p"ss w/rd"}"#;
        let mut scrubbed = SecretBytes::new(body.to_vec());
        for echo in &echoes {
            scrubbed = replace_all(scrubbed, echo.expose(), b"<redacted>");
        }
        let text = String::from_utf8(scrubbed.expose().to_vec()).unwrap();
        assert!(!text.contains("ss w") && !text.contains("ss+w"), "{text}");
        assert_eq!(text.matches("<redacted>").count(), 3, "{text}");
        assert!(secret_echoes("short").is_empty());
    }
}
