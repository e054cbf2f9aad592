//! TLS for the token request: the trust roots (the system's store, Mozilla's as a fallback, plus
//! `ca_file`), the client configuration (TLS 1.2 or later, ring), and the text of TLS errors.
//! Every message is built from fixed text and the URL of the configuration; of the server's
//! certificate it names only the host names it is for, which identify the server, not a secret.

use std::sync::Arc;

use once_cell::sync::Lazy;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

use crate::config::Settings;
use crate::error::{Error, ErrorKind, Result};

/// The system's trust store (so hosts behind a corporate TLS-inspecting proxy work), read once
/// per process; Mozilla's roots where the system has none.
static SYSTEM_ROOTS: Lazy<Vec<CertificateDer<'static>>> = Lazy::new(|| rustls_native_certs::load_native_certs().certs);

/// The TLS configuration of every client without a ca_file: built once per process (one parsed
/// copy of the system's trust store, ~90 KB, instead of one per client).
static DEFAULT_TLS: Lazy<Result<Arc<rustls::ClientConfig>>> = Lazy::new(|| config_with_roots(None).map(Arc::new));

/// The client configuration for `settings`: shared when there is no `ca_file`.
pub fn client_config(settings: &Settings) -> Result<Arc<rustls::ClientConfig>> {
    match settings.ca_file.as_deref() {
        None => DEFAULT_TLS.as_ref().map(Arc::clone).map_err(Clone::clone),
        Some(path) => config_with_roots(Some(path)).map(Arc::new),
    }
}

fn config_with_roots(ca_file: Option<&std::path::Path>) -> Result<rustls::ClientConfig> {
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

/// rustls shows presented names as `DnsName("host")`; a person wants `host`.
fn plain_name(presented: &str) -> &str {
    presented
        .strip_prefix("DnsName(\"")
        .and_then(|rest| rest.strip_suffix("\")"))
        .unwrap_or(presented)
}

/// A failed handshake, as a person can act on it.
pub fn error(url: &str, tls: &rustls::Error) -> Error {
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
        // rustls' own text: fixed words and enum names, never bytes of the peer's.
        other => other.to_string(),
    };
    Error::new(ErrorKind::Tls, format!("TLS handshake with {url} failed: {why}"))
}
