//! An HTTPS token server on 127.0.0.1 (rustls) and the test PKI behind it (a CA and a server
//! certificate made with rcgen, written to a scratch directory for `ca_file`), shared by the
//! tests that need TLS: tls.rs, secrets.rs.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use super::read_request;

pub struct ScratchDir(pub PathBuf);

impl ScratchDir {
    pub fn new(name: &str) -> ScratchDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!("hctoken-tls-{}-{name}-{n}", std::process::id()));
        std::fs::create_dir_all(&path).unwrap();
        ScratchDir(path)
    }

    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A CA and one server certificate it signed, for `names` (DNS names or IP addresses).
pub struct Pki {
    pub dir: ScratchDir,
    pub ca_pem: PathBuf,
    pub cert_pem: PathBuf,
    pub key_pem: PathBuf,
    pub cert_der: CertificateDer<'static>,
    pub key_der: Vec<u8>,
}

impl Pki {
    pub fn new(names: &[&str]) -> Pki {
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(DnType::CommonName, "hctoken test CA");
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
        params.distinguished_name.push(DnType::CommonName, names[0]);
        let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
        let dir = ScratchDir::new(names[0]);
        Pki {
            ca_pem: dir.write("ca.pem", &ca.pem()),
            cert_pem: dir.write("cert.pem", &cert.pem()),
            key_pem: dir.write("key.pem", &key.serialize_pem()),
            cert_der: cert.der().clone(),
            key_der: key.serialize_der(),
            dir,
        }
    }
}

pub struct TlsTokenServer {
    pub port: u16,
    stop: Arc<AtomicBool>,
    /// Answers sent (counted before each goes out).
    pub served: Arc<AtomicUsize>,
    /// Connections accepted.
    pub connections: Arc<AtomicUsize>,
    acceptor: Option<thread::JoinHandle<()>>,
}

impl TlsTokenServer {
    /// Answers `tls-token` and closes the connection after each answer.
    pub fn start(pki: &Pki) -> TlsTokenServer {
        Self::start_with(pki, false)
    }

    /// `keep_alive`: answer every request on a connection, without `Connection: close`.
    pub fn start_with(pki: &Pki, keep_alive: bool) -> TlsTokenServer {
        Self::serving(pki, "tls-token", keep_alive)
    }

    /// Answers every request with `token` (lifetime 3600 s).
    pub fn serving(pki: &Pki, token: &str, keep_alive: bool) -> TlsTokenServer {
        let body = format!(r#"{{"access_token":"{token}","token_type":"Bearer","expires_in":3600}}"#);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![pki.cert_der.clone()], PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.key_der.clone())))
            .unwrap();
        let tls = Arc::new(tls);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let served = Arc::new(AtomicUsize::new(0));
        let connections = Arc::new(AtomicUsize::new(0));
        let acceptor = {
            let (stop, served, connections) = (stop.clone(), served.clone(), connections.clone());
            thread::spawn(move || {
                for tcp in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(tcp) = tcp else { continue };
                    connections.fetch_add(1, Ordering::SeqCst);
                    let (tls, served, body) = (tls.clone(), served.clone(), body.clone());
                    thread::spawn(move || {
                        let _ = tcp.set_read_timeout(Some(Duration::from_secs(5)));
                        let connection = rustls::ServerConnection::new(tls).unwrap();
                        let mut stream = rustls::StreamOwned::new(connection, tcp);
                        // A failed handshake ends here: read_request sees the error.
                        while let Some(_request) = read_request(&mut stream) {
                            let close = if keep_alive { "" } else { "Connection: close\r\n" };
                            let reply = format!(
                                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{close}\r\n{body}",
                                body.len()
                            );
                            // Counted before the answer goes out, so a client that has it sees the count.
                            served.fetch_add(1, Ordering::SeqCst);
                            if stream.write_all(reply.as_bytes()).and_then(|_| stream.flush()).is_err() {
                                break;
                            }
                            if !keep_alive {
                                break;
                            }
                        }
                        stream.conn.send_close_notify();
                        let _ = stream.flush();
                    });
                }
            })
        };
        TlsTokenServer { port, stop, served, connections, acceptor: Some(acceptor) }
    }

    pub fn url(&self, host: &str) -> String {
        format!("https://{host}:{}/oauth2/token", self.port)
    }
}

impl Drop for TlsTokenServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}
