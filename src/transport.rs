//! Sending the token request: HTTPS with verified certificates (TLS 1.2 or later), plain HTTP
//! only to loopback, no redirects, connect and overall timeouts, a capped response size, and a
//! kept-alive connection reused between fetches.

use std::io::Read;
use std::net::IpAddr;
use std::sync::Arc;

use once_cell::sync::Lazy;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use url::{Host, Url};

use crate::config::Settings;
use crate::error::{Error, ErrorKind, Result};
use crate::request::TokenRequest;
use crate::response::MAX_BODY_BYTES;
use crate::secret::SecretBytes;

/// A response as read off the wire, body capped at `MAX_BODY_BYTES`.
pub struct RawResponse {
    pub status: u16,
    pub content_type: Option<String>,
    pub location: Option<String>,
    pub body: SecretBytes,
}

pub struct Transport {
    agent: ureq::Agent,
}

impl Transport {
    pub fn new(settings: &Settings) -> Result<Transport> {
        check_scheme(&settings.token_url)?;
        let mut builder = ureq::AgentBuilder::new()
            .timeout_connect(settings.connect_timeout)
            .timeout(settings.timeout)
            .redirects(0)
            .user_agent(&settings.user_agent)
            .tls_config(Arc::new(tls_config(settings)?));
        if let Some(proxy) = &settings.proxy {
            let proxy = ureq::Proxy::new(proxy.as_str())
                .map_err(|_| Error::config("invalid value for proxy: expected an http://host:port URL of an HTTP CONNECT proxy"))?;
            builder = builder.proxy(proxy);
        }
        Ok(Transport { agent: builder.build() })
    }

    pub fn send(&self, request: &TokenRequest) -> Result<RawResponse> {
        let mut call = self
            .agent
            .post(&request.url)
            .set("Content-Type", request.content_type)
            .set("Accept", "application/json");
        if let Some(authorization) = &request.authorization {
            call = call.set("Authorization", authorization.expose());
        }
        let response = match call.send_bytes(request.body.expose()) {
            Ok(response) => response,
            Err(ureq::Error::Status(_, response)) => response,
            Err(ureq::Error::Transport(transport)) => return Err(transport_error(&request.url, &transport)),
        };
        let status = response.status();
        let content_type = response.header("Content-Type").map(str::to_owned);
        let location = response.header("Location").map(str::to_owned);
        let mut body = Vec::new();
        response
            .into_reader()
            .take(MAX_BODY_BYTES as u64 + 1)
            .read_to_end(&mut body)
            .map_err(|e| io_error(&request.url, &e, "reading the token response"))?;
        let body = SecretBytes::new(body);
        if body.expose().len() > MAX_BODY_BYTES {
            return Err(Error::response(format!(
                "the token response is larger than {} KiB; a token response is a few KB, so this is not one",
                MAX_BODY_BYTES / 1024
            )));
        }
        Ok(RawResponse { status, content_type, location, body })
    }
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

fn tls_config(settings: &Settings) -> Result<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    let (_added, _ignored) = roots.add_parsable_certificates(SYSTEM_ROOTS.iter().cloned());
    if roots.is_empty() {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    if let Some(path) = &settings.ca_file {
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

fn transport_error(url: &str, transport: &ureq::Transport) -> Error {
    use std::error::Error as _;
    // Walk the source chain for the I/O or TLS error underneath.
    let mut source = transport.source();
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return io_error(url, io, "connecting to the token endpoint");
        }
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return tls_error(url, tls);
        }
        source = err.source();
    }
    let kind = match transport.kind() {
        ureq::ErrorKind::Dns => {
            return Error::new(ErrorKind::Network, format!("cannot resolve the host of {url}: check token_url and DNS"))
        }
        ureq::ErrorKind::ProxyConnect | ureq::ErrorKind::ProxyUnauthorized | ureq::ErrorKind::InvalidProxyUrl => {
            return Error::new(ErrorKind::Network, format!("the proxy refused or failed the connection to {url}: {}", transport.kind()))
        }
        _ => ErrorKind::Network,
    };
    Error::new(kind, format!("request to {url} failed: {}", transport.kind()))
}

fn io_error(url: &str, io: &std::io::Error, doing: &str) -> Error {
    use std::io::ErrorKind as Io;
    if let Some(tls) = io.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
        return tls_error(url, tls);
    }
    match io.kind() {
        Io::TimedOut | Io::WouldBlock => Error::new(
            ErrorKind::Timeout,
            format!("timed out {doing} at {url} (see timeout_ms and connect_timeout_ms)"),
        ),
        Io::ConnectionRefused => Error::new(ErrorKind::Network, format!("connection refused by {url}: is the token endpoint up?")),
        Io::ConnectionReset | Io::ConnectionAborted | Io::UnexpectedEof | Io::BrokenPipe => Error::new(
            ErrorKind::Network,
            format!("the connection to {url} was closed while {doing}"),
        ),
        _ => Error::new(ErrorKind::Network, format!("network error while {doing} at {url}: {io}")),
    }
}

fn tls_error(url: &str, tls: &rustls::Error) -> Error {
    let why = match tls {
        rustls::Error::InvalidCertificate(cert) => format!("the server's certificate is not trusted ({cert:?}); for a private CA set ca_file"),
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
}
