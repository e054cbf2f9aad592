//! One attempt: a connection (kept alive, or new: resolve, connect, tunnel, handshake), the
//! request written from one wiped buffer, the answer read in full.

use std::io::Write;
use std::time::Duration;

use super::connect::{self, Conn, Timed};
use super::errors::{self, Context, Failure, Phase};
use super::wire::{Reader, WireError, Wiped};
use super::{RawResponse, Target, Transport};
use crate::deadline::Deadline;
use crate::request::TokenRequest;
use crate::retry;
use crate::secret::SecretBytes;

/// An answer, before the retry policy has looked at it.
pub struct Answer {
    pub response: RawResponse,
    pub retry_after: Option<Duration>,
}

impl Transport {
    /// What messages about this fetch say; the timeout they name is this fetch's budget (the
    /// client's timeout_ms, or a per-call one).
    pub(super) fn context<'a>(&'a self, target: &'a Target, deadline: Deadline) -> Context<'a> {
        Context {
            url: &target.url,
            proxy: self.proxy.as_ref().filter(|_| target.https).map(|p| p.shown.as_str()),
            timeout: deadline.budget(),
            connect_timeout: self.connect_timeout,
        }
    }

    /// One request and its answer, all before `deadline`.
    pub(super) fn attempt(&self, target: &Target, request: &TokenRequest, deadline: Deadline) -> Result<Answer, Failure> {
        let cx = self.context(target, deadline);
        let bytes = request_bytes(target, request, &self.user_agent);
        if let Some(mut conn) = self.pool.take() {
            conn.set_deadline(deadline);
            match self.round_trip(&cx, &mut conn, &bytes.0) {
                Ok((answer, reusable)) => {
                    self.keep(conn, reusable);
                    return Ok(answer);
                }
                // The server closed the kept-alive connection before our request reached it (or
                // before it answered): not a failed attempt; once more on a new connection.
                Err(Trip::Stale) => drop(conn),
                Err(Trip::Failed(failure)) => return Err(failure),
            }
        }
        let mut conn = self.connect(target, &cx, deadline)?;
        match self.round_trip(&cx, &mut conn, &bytes.0) {
            Ok((answer, reusable)) => {
                self.keep(conn, reusable);
                Ok(answer)
            }
            Err(Trip::Stale) => Err(cx.io(Phase::Answer, &std::io::ErrorKind::UnexpectedEof.into())),
            Err(Trip::Failed(failure)) => Err(failure),
        }
    }

    fn keep(&self, conn: Conn, reusable: bool) {
        if reusable {
            self.pool.put(conn);
        }
    }

    /// A new connection to the token endpoint (through the proxy's tunnel for https).
    fn connect(&self, target: &Target, cx: &Context<'_>, deadline: Deadline) -> Result<Conn, Failure> {
        let proxy = self.proxy.as_ref().filter(|_| target.https);
        let addrs = match proxy {
            Some(proxy) => self.proxy_resolver.resolve(&proxy.host, proxy.port, deadline),
            None => self.resolver.resolve(&target.host, target.port, deadline),
        }
        .map_err(|failure| cx.resolve(failure))?;
        let tcp = connect::tcp(&addrs, self.connect_timeout, deadline).map_err(|e| cx.io(Phase::Connect, &e))?;
        if !target.https {
            return Ok(connect::plain(tcp, deadline));
        }
        let tcp = match proxy {
            Some(proxy) => {
                let mut timed = Timed { tcp, deadline: deadline.instant() };
                proxy.tunnel(&mut timed, &target.authority).map_err(|e| cx.tunnel(&e))?;
                timed.tcp
            }
            None => tcp,
        };
        connect::tls(tcp, &self.tls, target.server_name.clone(), deadline).map_err(|e| cx.io(Phase::Handshake, &e))
    }

    /// Writes the request and reads the answer; whether the connection may be kept.
    fn round_trip(&self, cx: &Context<'_>, conn: &mut Conn, bytes: &[u8]) -> Result<(Answer, bool), Trip> {
        if let Err(e) = conn.write_all(bytes).and_then(|()| conn.flush()) {
            return Err(if is_stale(&e) { Trip::Stale } else { Trip::Failed(cx.io(Phase::Send, &e)) });
        }
        let mut reader = Reader::new(conn);
        let head = match reader.read_head() {
            Ok(head) => head,
            Err(WireError::Io { error, answered: false }) if is_stale(&error) => return Err(Trip::Stale),
            Err(e) => return Err(Trip::Failed(cx.wire(Phase::Answer, &e))),
        };
        let success = (200..300).contains(&head.status);
        let body = reader.read_body(head.framing).map_err(|e| Trip::Failed(cx.wire(Phase::Answer, &e)))?;
        let reusable = head.keep_alive && body.is_some() && !reader.has_leftover();
        let body = match body {
            Some(body) => body,
            // A token response is never that large.
            None if success => return Err(Trip::Failed(errors::too_large())),
            // An error page may be; its status is what matters (and decides on a retry).
            None => SecretBytes::default(),
        };
        let retry_after = head.retry_after.as_deref().and_then(|v| retry::parse_retry_after(v, std::time::SystemTime::now()));
        let response = RawResponse {
            status: head.status,
            content_type: head.content_type,
            location: head.location,
            body,
            retry_note: None,
        };
        Ok((Answer { response, retry_after }, reusable))
    }
}

enum Trip {
    /// The connection was closed before any byte of an answer: a kept-alive one went stale.
    Stale,
    Failed(Failure),
}

fn is_stale(e: &std::io::Error) -> bool {
    use std::io::ErrorKind as Io;
    matches!(e.kind(), Io::UnexpectedEof | Io::ConnectionReset | Io::ConnectionAborted | Io::BrokenPipe)
}

/// The request line, headers and body in one buffer, sized exactly up front so it never
/// reallocates (which would leave a copy of the secret behind), wiped when dropped.
fn request_bytes(target: &Target, request: &TokenRequest, user_agent: &str) -> Wiped {
    let body = request.body.expose();
    let length = itoa_buf(body.len());
    let length = length.as_str();
    let parts: [&[u8]; 14] = [
        b"POST ",
        target.path.as_bytes(),
        b" HTTP/1.1\r\nHost: ",
        target.host_header.as_bytes(),
        b"\r\nUser-Agent: ",
        user_agent.as_bytes(),
        b"\r\nAccept: application/json\r\nContent-Type: ",
        request.content_type.as_bytes(),
        b"\r\nContent-Length: ",
        length.as_bytes(),
        if request.authorization.is_some() { b"\r\nAuthorization: " } else { b"" },
        request.authorization.as_ref().map_or(&b""[..], |a| a.expose().as_bytes()),
        b"\r\n\r\n",
        body,
    ];
    let mut bytes = Wiped(Vec::with_capacity(parts.iter().map(|p| p.len()).sum()));
    for part in parts {
        bytes.0.extend_from_slice(part);
    }
    debug_assert_eq!(bytes.0.len(), bytes.0.capacity());
    bytes
}

/// Decimal digits of `n` without an allocation.
struct Digits {
    buf: [u8; 20],
    start: usize,
}

impl Digits {
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[self.start..]).unwrap_or("0")
    }
}

fn itoa_buf(mut n: usize) -> Digits {
    let mut digits = Digits { buf: [0; 20], start: 20 };
    loop {
        digits.start -= 1;
        digits.buf[digits.start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return digits;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits() {
        for n in [0usize, 7, 10, 1234, usize::MAX] {
            assert_eq!(itoa_buf(n).as_str(), n.to_string());
        }
    }
}
