//! What a failed attempt says, and whether it is worth another.
//!
//! Every message is built from fixed text, the URL and proxy host of the configuration, and
//! numbers (a status, a setting in ms): never from bytes the server sent. Of an I/O error only
//! its kind, or the operating system's own text for an OS error, is quoted.

use std::io;
use std::time::Duration;

use super::proxy::TunnelError;
use super::resolve;
use super::wire::WireError;
use crate::error::{Error, ErrorKind};
use crate::response::MAX_BODY_BYTES;

/// One attempt's failure before a usable answer was read, and whether to try again.
pub struct Failure {
    pub error: Error,
    pub retryable: bool,
}

impl Failure {
    fn fatal(kind: ErrorKind, message: String) -> Failure {
        Failure { error: Error::new(kind, message), retryable: false }
    }
}

/// Where in an attempt it went wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Connect,
    Tunnel,
    Handshake,
    Send,
    Answer,
}

/// What a message needs to say where things went wrong.
pub struct Context<'a> {
    pub url: &'a str,
    /// The proxy's `host:port`, when the request goes through one.
    pub proxy: Option<&'a str>,
    pub timeout: Duration,
    pub connect_timeout: Duration,
}

impl Context<'_> {
    fn doing(&self, phase: Phase) -> String {
        let url = self.url;
        match (phase, self.proxy) {
            (Phase::Connect, Some(proxy)) => format!("connecting to the proxy {proxy} for {url}"),
            (Phase::Connect, None) => format!("connecting to {url}"),
            (Phase::Tunnel, proxy) => format!("waiting for the proxy {} to open a tunnel to {url}", proxy.unwrap_or("?")),
            (Phase::Handshake, _) => format!("in the TLS handshake with {url}"),
            (Phase::Send, _) => format!("sending the request to {url}"),
            (Phase::Answer, _) => format!("waiting for the answer of {url}"),
        }
    }

    fn timed_out(&self, phase: Phase) -> Failure {
        let doing = self.doing(phase);
        let message = if phase == Phase::Connect {
            format!(
                "timed out {doing} (connect_timeout_ms {} ms, within timeout_ms {} ms for the whole fetch)",
                self.connect_timeout.as_millis(),
                self.timeout.as_millis()
            )
        } else {
            format!("timed out {doing}: timeout_ms ({} ms) bounds the whole fetch, retries included", self.timeout.as_millis())
        };
        Failure::fatal(ErrorKind::Timeout, message)
    }

    /// A failed read, write or connect.
    pub fn io(&self, phase: Phase, io: &io::Error) -> Failure {
        use io::ErrorKind as Io;
        if let Some(tls) = io.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
            return Failure { error: crate::tls::error(self.url, tls), retryable: false };
        }
        let url = self.url;
        match io.kind() {
            Io::TimedOut | Io::WouldBlock => self.timed_out(phase),
            Io::ConnectionRefused => match self.proxy {
                Some(proxy) => Failure::fatal(
                    ErrorKind::Network,
                    format!("the proxy {proxy} refused the connection (for {url}): check the proxy setting"),
                ),
                None => Failure::fatal(ErrorKind::Network, format!("connection refused by {url}: is the token endpoint up?")),
            },
            // The server or something on the way closed the connection: worth another try.
            Io::ConnectionReset | Io::ConnectionAborted | Io::UnexpectedEof | Io::BrokenPipe => Failure {
                error: Error::new(ErrorKind::Network, format!("the connection was closed while {}", self.doing(phase))),
                retryable: true,
            },
            kind => {
                // The OS's text ("Network is unreachable (os error 101)"); never an error's payload.
                let what = match io.raw_os_error() {
                    Some(_) => io.to_string(),
                    None => kind.to_string(),
                };
                Failure::fatal(ErrorKind::Network, format!("network error while {}: {what}", self.doing(phase)))
            }
        }
    }

    /// A failure reading the answer (or the proxy's answer to CONNECT).
    pub fn wire(&self, phase: Phase, error: &WireError) -> Failure {
        let url = self.url;
        match error {
            WireError::Io { error, .. } => self.io(phase, error),
            WireError::Malformed(what) if phase == Phase::Tunnel => Failure::fatal(
                ErrorKind::Network,
                format!("the proxy {} did not answer CONNECT with valid HTTP ({what}) for {url}", self.proxy.unwrap_or("?")),
            ),
            WireError::Malformed(what) => {
                Failure::fatal(ErrorKind::Network, format!("the server at {url} did not answer with valid HTTP ({what})"))
            }
            WireError::Switching => Failure::fatal(
                ErrorKind::Network,
                format!("the server at {url} answered 101 Switching Protocols to a token request"),
            ),
        }
    }

    pub fn tunnel(&self, error: &TunnelError) -> Failure {
        let (url, proxy) = (self.url, self.proxy.unwrap_or("?"));
        match error {
            TunnelError::Wire(wire) => self.wire(Phase::Tunnel, wire),
            TunnelError::Refused(407) => Failure::fatal(
                ErrorKind::Network,
                format!("the proxy {proxy} requires authentication (HTTP 407) for the tunnel to {url}: give user:password in the proxy URL"),
            ),
            TunnelError::Refused(status) => Failure::fatal(
                ErrorKind::Network,
                format!("the proxy {proxy} refused or failed the tunnel to {url}: HTTP {status}"),
            ),
        }
    }

    pub fn resolve(&self, failure: resolve::Failure) -> Failure {
        let url = self.url;
        let what = match self.proxy {
            Some(proxy) => format!("the proxy's host {proxy} (for {url})"),
            None => format!("the host of {url}"),
        };
        match failure {
            resolve::Failure::TimedOut => Failure::fatal(
                ErrorKind::Timeout,
                format!(
                    "timed out resolving {what}: the name server did not answer within timeout_ms ({} ms)",
                    self.timeout.as_millis()
                ),
            ),
            resolve::Failure::NotFound => Failure::fatal(
                ErrorKind::Network,
                format!("cannot resolve {what}: check token_url, proxy and this machine's DNS"),
            ),
        }
    }

    /// No attempt could start: the deadline was spent by earlier ones.
    pub fn no_time_left(&self, attempts: u32) -> Error {
        Error::new(
            ErrorKind::Timeout,
            format!(
                "no answer from {} within timeout_ms ({} ms) after {attempts} attempt{}",
                self.url,
                self.timeout.as_millis(),
                if attempts == 1 { "" } else { "s" }
            ),
        )
    }
}

pub fn too_large() -> Failure {
    Failure {
        error: Error::response(format!(
            "the token response is larger than {} KiB; a token response is a few KB, so this is not one",
            MAX_BODY_BYTES / 1024
        )),
        retryable: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cx(proxy: Option<&str>) -> Context<'_> {
        Context { url: "https://idp.example/t", proxy, timeout: Duration::from_secs(3), connect_timeout: Duration::from_secs(1) }
    }

    #[test]
    fn messages_carry_no_bytes_of_the_server() {
        // An I/O error whose payload is attacker text (as a library below us might make one).
        let io = io::Error::other("SECRET-FROM-SERVER");
        let failure = cx(None).io(Phase::Answer, &io);
        assert!(!failure.error.message().contains("SECRET"), "{}", failure.error.message());
        let failure = cx(None).wire(Phase::Answer, &WireError::Malformed("an answer that is not HTTP/1.x"));
        assert_eq!(failure.error.kind(), ErrorKind::Network);
    }

    #[test]
    fn timeouts_name_the_phase_and_the_setting() {
        let m = cx(None).io(Phase::Connect, &io::ErrorKind::TimedOut.into()).error;
        assert!(m.message().contains("timed out connecting to") && m.message().contains("connect_timeout_ms"), "{m}");
        let m = cx(None).io(Phase::Handshake, &io::ErrorKind::TimedOut.into()).error;
        assert_eq!(m.kind(), ErrorKind::Timeout);
        assert!(m.message().contains("TLS handshake") && m.message().contains("timeout_ms"), "{m}");
        let m = cx(None).resolve(resolve::Failure::TimedOut).error;
        assert_eq!(m.kind(), ErrorKind::Timeout);
        let m = cx(Some("proxy.local:3128")).resolve(resolve::Failure::NotFound).error;
        assert!(m.kind() == ErrorKind::Network && m.message().contains("cannot resolve the proxy's host"), "{m}");
    }
}
