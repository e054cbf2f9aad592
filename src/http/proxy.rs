//! An HTTP CONNECT proxy (RFC 9110 section 9.3.6) for https token URLs.
//!
//! The `proxy` setting applies to https only: through the tunnel the proxy sees ciphertext.
//! A plain-http token URL (loopback only, see `check_scheme`) never goes through it, as if
//! loopback were in NO_PROXY: the request would reach the proxy in clear text, secret included.
//! A `user:password@` in the proxy URL is sent as `Proxy-Authorization: Basic`, from a buffer
//! wiped after use.

use std::io::Write;

use base64::Engine as _;
use url::Url;

use super::connect::Timed;
use super::wire::{Reader, WireError, Wiped};
use crate::config::ProxyUrl;

/// Where a proxy is, and its credentials if it has any.
pub struct Proxy {
    pub host: String,
    pub port: u16,
    /// `host:port`, for messages.
    pub shown: String,
    /// `Basic <base64(user:password)>`, in a wiped buffer.
    authorization: Option<Wiped>,
}

/// Why the tunnel was not made.
pub enum TunnelError {
    /// Writing the CONNECT or reading the answer failed.
    Wire(WireError),
    /// The proxy answered with this status instead of 2xx.
    Refused(u16),
}

impl Proxy {
    pub fn new(proxy: &ProxyUrl) -> Proxy {
        let url = proxy.url();
        let authorization = (!url.username().is_empty()).then(|| basic(url));
        Proxy {
            host: url.host_str().unwrap_or_default().to_owned(),
            port: url.port_or_known_default().unwrap_or(80),
            shown: proxy.host_and_port(),
            authorization,
        }
    }

    /// Asks the proxy for a tunnel to `authority` (`host:port`) over `tcp`.
    pub fn tunnel(&self, tcp: &mut Timed, authority: &str) -> Result<(), TunnelError> {
        let auth_len = self.authorization.as_ref().map_or(0, |a| a.0.len() + 32);
        let mut request = Wiped(Vec::with_capacity(64 + 2 * authority.len() + auth_len));
        request.0.extend_from_slice(b"CONNECT ");
        request.0.extend_from_slice(authority.as_bytes());
        request.0.extend_from_slice(b" HTTP/1.1\r\nHost: ");
        request.0.extend_from_slice(authority.as_bytes());
        request.0.extend_from_slice(b"\r\n");
        if let Some(authorization) = &self.authorization {
            request.0.extend_from_slice(b"Proxy-Authorization: ");
            request.0.extend_from_slice(&authorization.0);
            request.0.extend_from_slice(b"\r\n");
        }
        request.0.extend_from_slice(b"\r\n");
        tcp.write_all(&request.0).map_err(|error| TunnelError::Wire(WireError::Io { error, answered: false }))?;
        // The proxy's answer is a head only; read it byte-exact so no tunnelled byte is taken.
        let mut reader = Reader::new(tcp);
        let head = reader.read_head().map_err(TunnelError::Wire)?;
        if !(200..300).contains(&head.status) {
            return Err(TunnelError::Refused(head.status));
        }
        if reader.has_leftover() {
            // The server cannot speak before the client's TLS hello: a proxy that sends more
            // after its 200 is broken.
            return Err(TunnelError::Wire(WireError::Malformed("bytes after the proxy's answer to CONNECT")));
        }
        Ok(())
    }
}

/// `Basic base64(user:password)`, the two percent-decoded as the URL carries them encoded.
fn basic(url: &Url) -> Wiped {
    let user = Wiped(percent_decode(url.username()));
    let password = Wiped(percent_decode(url.password().unwrap_or_default()));
    let mut joined = Wiped(Vec::with_capacity(user.0.len() + password.0.len() + 1));
    joined.0.extend_from_slice(&user.0);
    joined.0.push(b':');
    joined.0.extend_from_slice(&password.0);
    let engine = &base64::engine::general_purpose::STANDARD;
    let mut header = Wiped(vec![0u8; 6 + base64::encoded_len(joined.0.len(), true).unwrap_or(0)]);
    header.0[..6].copy_from_slice(b"Basic ");
    let written = engine.encode_slice(&joined.0, &mut header.0[6..]).unwrap_or(0);
    header.0.truncate(6 + written);
    header
}

/// `%XX` escapes decoded; anything else kept as it is. Into one presized buffer.
fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(high), Some(low)) => {
                out.push(high << 4 | low);
                i += 3;
            }
            (byte, ..) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_credentials_are_decoded_then_base64_encoded() {
        let url = Url::parse("http://us%40r:p%3Ass@proxy.local:3128").unwrap();
        let header = basic(&url);
        let expected = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("us@r:p:ss"));
        assert_eq!(header.0, expected.as_bytes());
    }
}
