//! TLS and proxies (issue 6), against a local HTTPS token server whose certificates come from a
//! test CA made here with rcgen:
//! * a certificate from an unknown issuer is refused by default (ErrorKind::Tls), and accepted
//!   with `ca_file`, or when the system trust store (here: SSL_CERT_FILE) holds the CA;
//! * a certificate for another host name is refused;
//! * a server that speaks only TLS 1.0 or 1.1 (`openssl s_server`) is refused;
//! * HTTPS goes through an HTTP CONNECT proxy with `proxy`, which sees only ciphertext.
//!
//! All servers listen on 127.0.0.1, port 0.

mod hostile;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use hctoken::{Client, ErrorKind};
use hostile::tls::{Pki, ScratchDir, TlsTokenServer};
use hostile::{config, read_request, HostileServer, Reply};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

const SECRET: &str = "tls-secret-Zk81";

fn token(url: &str, extra: &[(&str, &str)]) -> hctoken::Result<String> {
    let mut pairs = vec![("timeout_ms", "5000")];
    pairs.extend_from_slice(extra);
    let client = Client::new(&config(url, SECRET, &pairs))?;
    client.token().map(|t| t.as_str().to_owned())
}

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

// ---------------------------------------------------------------------------------------------
// Trust

#[test]
fn an_unknown_issuer_is_refused_by_default() {
    let pki = Pki::new(&["localhost", "127.0.0.1"]);
    let server = TlsTokenServer::start(&pki);
    let error = token(&server.url("127.0.0.1"), &[]).unwrap_err();
    println!("{error}");
    assert_eq!(error.kind(), ErrorKind::Tls, "{error:?}");
    assert!(error.message().contains("does not trust") && error.message().contains("ca_file"), "{error}");
    assert_eq!(server.served.load(Ordering::SeqCst), 0);
}

#[test]
fn the_test_ca_is_accepted_with_ca_file() {
    let pki = Pki::new(&["localhost", "127.0.0.1"]);
    let server = TlsTokenServer::start(&pki);
    let ca_file = path_str(&pki.ca_pem);
    assert_eq!(token(&server.url("127.0.0.1"), &[("ca_file", ca_file)]).unwrap(), "tls-token");
    assert_eq!(token(&server.url("localhost"), &[("ca_file", ca_file)]).unwrap(), "tls-token");
}

#[test]
fn a_certificate_for_another_host_name_is_refused() {
    let pki = Pki::new(&["token.other-host.test"]);
    let server = TlsTokenServer::start(&pki);
    for host in ["127.0.0.1", "localhost"] {
        let error = token(&server.url(host), &[("ca_file", path_str(&pki.ca_pem))]).unwrap_err();
        println!("{error}");
        assert_eq!(error.kind(), ErrorKind::Tls, "{error:?}");
        assert!(error.message().contains("token.other-host.test") && error.message().contains("token_url"), "{error}");
    }
    assert_eq!(server.served.load(Ordering::SeqCst), 0);
}

#[test]
fn a_ca_file_that_is_not_pem_is_a_config_error() {
    let dir = ScratchDir::new("bad-ca");
    let garbage = dir.write("garbage.pem", "this is not a certificate\n");
    let error = Client::new(&config("https://127.0.0.1:1/t", SECRET, &[("ca_file", path_str(&garbage))])).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Config, "{error:?}");
    let error = Client::new(&config("https://127.0.0.1:1/t", SECRET, &[("ca_file", "/nonexistent/ca.pem")])).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Config, "{error:?}");
    assert!(error.message().contains("/nonexistent/ca.pem"));
}

/// The system trust store is used by default (so hosts behind a TLS-inspecting corporate proxy
/// work once IT has installed its CA). SSL_CERT_FILE is how OpenSSL, and so the store loader,
/// is pointed at a bundle; the trust store is read once per process, so this runs the
/// `hctoken token` tool in a child process.
#[test]
fn the_system_trust_store_is_used_by_default() {
    let pki = Pki::new(&["localhost", "127.0.0.1"]);
    let server = TlsTokenServer::start(&pki);
    let run = |cert_file: Option<&Path>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_hctoken"));
        command
            .args(["token", "--profile", "generic", "--token-url", &server.url("127.0.0.1"), "--client-id", "tls-client"])
            .env("HCTOKEN_CLIENT_SECRET", SECRET)
            .env_remove("SSL_CERT_DIR")
            .stdin(Stdio::null());
        match cert_file {
            Some(path) => command.env("SSL_CERT_FILE", path),
            None => command.env_remove("SSL_CERT_FILE"),
        };
        command.output().expect("run hctoken token")
    };
    let trusted = run(Some(&pki.ca_pem));
    assert!(trusted.status.success(), "{}", String::from_utf8_lossy(&trusted.stderr));
    assert_eq!(String::from_utf8_lossy(&trusted.stdout).trim(), "tls-token");
    let untrusted = run(None);
    assert!(!untrusted.status.success());
    let stderr = String::from_utf8_lossy(&untrusted.stderr);
    assert!(stderr.contains("does not trust") && !stderr.contains(SECRET), "{stderr}");
}

#[test]
fn a_tls_server_that_never_answers_the_handshake_times_out() {
    let server = HostileServer::always(Reply::Silent);
    let url = format!("https://127.0.0.1:{}/oauth2/token", server.port());
    let client = Client::new(&config(&url, SECRET, &[("timeout_ms", "1000")])).unwrap();
    let start = Instant::now();
    let error = client.token().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Timeout, "{error:?}");
    assert_within_timeout(start.elapsed(), 1000);
}

/// The bound every call keeps: `timeout_ms` + 10 %.
fn assert_within_timeout(elapsed: Duration, timeout_ms: u64) {
    assert!(elapsed <= Duration::from_millis(timeout_ms + timeout_ms / 10), "took {elapsed:?} with timeout_ms {timeout_ms}");
}

/// Relays a connection to `upstream`, passing what the client sends at once and what the
/// server sends one byte every `every`: a server that trickles its TLS handshake.
struct TrickleRelay {
    port: u16,
    stop: Arc<AtomicBool>,
    acceptor: Option<thread::JoinHandle<()>>,
}

impl TrickleRelay {
    fn start(upstream: u16, every: Duration) -> TrickleRelay {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let acceptor = {
            let stop = stop.clone();
            thread::spawn(move || {
                for client in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(client) = client else { continue };
                    let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else { continue };
                    let (mut client_read, mut server_write) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                    thread::spawn(move || {
                        let _ = std::io::copy(&mut client_read, &mut server_write);
                    });
                    let stop = stop.clone();
                    thread::spawn(move || {
                        let (mut server, mut client) = (server, client);
                        let _ = server.set_read_timeout(Some(Duration::from_secs(20)));
                        let mut byte = [0u8; 1];
                        while !stop.load(Ordering::SeqCst) && matches!(server.read(&mut byte), Ok(1)) {
                            if client.write_all(&byte).is_err() {
                                break;
                            }
                            thread::sleep(every);
                        }
                    });
                }
            })
        };
        TrickleRelay { port, stop, acceptor: Some(acceptor) }
    }
}

impl Drop for TrickleRelay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

#[test]
fn a_tls_server_that_trickles_its_handshake_times_out_on_time() {
    // Each read is answered (a byte every 0.3 s), so only a deadline over the whole handshake
    // ends it: a timeout per read would wait for ever.
    let pki = Pki::new(&["localhost", "127.0.0.1"]);
    let server = TlsTokenServer::start(&pki);
    let relay = TrickleRelay::start(server.port, Duration::from_millis(300));
    let url = format!("https://127.0.0.1:{}/oauth2/token", relay.port);
    let client = Client::new(&config(&url, SECRET, &[("timeout_ms", "1500"), ("ca_file", path_str(&pki.ca_pem))])).unwrap();
    let start = Instant::now();
    let error = client.token().unwrap_err();
    let elapsed = start.elapsed();
    println!("trickled TLS handshake: timeout_ms 1500, failed after {} ms: {error}", elapsed.as_millis());
    assert_eq!(error.kind(), ErrorKind::Timeout, "{error:?}");
    assert!(error.message().contains("TLS handshake") && error.message().contains("timeout_ms"), "{error}");
    assert!(elapsed <= Duration::from_millis(1650), "{elapsed:?}");
    assert_eq!(server.served.load(Ordering::SeqCst), 0);
}

/// HTTPS in front of a `HostileServer`: decrypts a request, passes it on, and passes the
/// server's answer back as it comes (byte by byte when it trickles).
struct TlsFront {
    port: u16,
    stop: Arc<AtomicBool>,
    acceptor: Option<thread::JoinHandle<()>>,
}

impl TlsFront {
    fn start(pki: &Pki, upstream: u16) -> TlsFront {
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
        let acceptor = {
            let stop = stop.clone();
            thread::spawn(move || {
                for tcp in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(tcp) = tcp else { continue };
                    let (tls, stop) = (tls.clone(), stop.clone());
                    thread::spawn(move || {
                        let _ = tcp.set_read_timeout(Some(Duration::from_secs(5)));
                        let mut stream = rustls::StreamOwned::new(rustls::ServerConnection::new(tls).unwrap(), tcp);
                        let Some(request) = read_request(&mut stream) else { return };
                        let Ok(mut upstream) = TcpStream::connect(("127.0.0.1", upstream)) else { return };
                        let _ = upstream.set_read_timeout(Some(Duration::from_millis(100)));
                        if upstream.write_all(request.head.as_bytes()).and_then(|_| upstream.write_all(&request.body)).is_err() {
                            return;
                        }
                        let start = Instant::now();
                        let mut buf = [0u8; 4096];
                        while !stop.load(Ordering::SeqCst) && start.elapsed() < Duration::from_secs(20) {
                            match upstream.read(&mut buf) {
                                Ok(0) => break,
                                Ok(n) => {
                                    if stream.write_all(&buf[..n]).and_then(|_| stream.flush()).is_err() {
                                        break;
                                    }
                                }
                                Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
                                Err(_) => break,
                            }
                        }
                        stream.conn.send_close_notify();
                        let _ = stream.flush();
                    });
                }
            })
        };
        TlsFront { port, stop, acceptor: Some(acceptor) }
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

#[test]
fn slow_answers_over_https_time_out_on_time() {
    let pki = Pki::new(&["localhost", "127.0.0.1"]);
    let body = r#"{"access_token":"trickled","token_type":"Bearer","expires_in":3600}"#;
    let whole = format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len());
    let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n".to_owned();
    let cases = [
        ("silent server", Reply::Silent),
        ("trickled headers", Reply::Trickle { bytes: whole.into_bytes(), every: Duration::from_millis(50) }),
        ("trickled body", Reply::HeadThenTrickle { head: head.into_bytes(), body: vec![b' '; 4096], every: Duration::from_millis(5) }),
    ];
    for (name, reply) in cases {
        let hostile = HostileServer::always(reply);
        let front = TlsFront::start(&pki, hostile.port());
        let url = format!("https://127.0.0.1:{}/oauth2/token", front.port);
        let client = Client::new(&config(&url, SECRET, &[("timeout_ms", "1000"), ("ca_file", path_str(&pki.ca_pem))])).unwrap();
        let start = Instant::now();
        let error = client.token().unwrap_err();
        let elapsed = start.elapsed();
        println!("https {name}: timeout_ms 1000, failed after {} ms: {error}", elapsed.as_millis());
        assert_eq!(error.kind(), ErrorKind::Timeout, "{name}: {error:?}");
        assert!(error.message().contains("timed out waiting for the answer"), "{name}: {error}");
        assert_within_timeout(elapsed, 1000);
        assert_eq!(hostile.requests(), 1, "{name}: the request did not get through the TLS front");
    }
}

#[test]
fn close_together_fetches_over_https_reuse_one_connection() {
    let pki = Pki::new(&["localhost", "127.0.0.1"]);
    let server = TlsTokenServer::start_with(&pki, true);
    let client = Client::new(&config(&server.url("127.0.0.1"), SECRET, &[("timeout_ms", "5000"), ("ca_file", path_str(&pki.ca_pem))])).unwrap();
    for _ in 0..3 {
        assert_eq!(client.token().unwrap().as_str(), "tls-token");
        client.invalidate();
    }
    assert_eq!(server.served.load(Ordering::SeqCst), 3);
    assert_eq!(server.connections.load(Ordering::SeqCst), 1, "the kept-alive TLS connection was not reused");
}

/// Fork after a fetch over a kept-alive TLS connection: the child connects anew (sending no byte
/// on the parent's session, which would break its record sequence), and the parent's session
/// goes on working.
#[test]
fn a_forked_child_never_touches_the_parents_tls_session() {
    let pki = Pki::new(&["localhost", "127.0.0.1"]);
    let server = TlsTokenServer::start_with(&pki, true);
    let client = Client::new(&config(&server.url("127.0.0.1"), SECRET, &[("timeout_ms", "5000"), ("ca_file", path_str(&pki.ca_pem))])).unwrap();
    assert_eq!(client.token().unwrap().as_str(), "tls-token");
    // SAFETY: the child only fetches with `client` (used by this thread alone) and leaves with
    // _exit, running no destructors.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            client.invalidate();
            client.token().map(|t| t.as_str() == "tls-token").unwrap_or(false)
        }));
        unsafe { libc::_exit(if matches!(ok, Ok(true)) { 0 } else { 1 }) };
    }
    let mut status = 0;
    // SAFETY: waiting for the child we made.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "the child's fetch failed: status {status}");
    assert_eq!(server.connections.load(Ordering::SeqCst), 2, "the child did not connect anew");
    for _ in 0..3 {
        client.invalidate();
        assert_eq!(client.token().unwrap_or_else(|e| panic!("the parent's session broke: {e:?}")).as_str(), "tls-token");
    }
    assert_eq!(server.connections.load(Ordering::SeqCst), 2, "the parent lost its kept-alive session");
    assert_eq!(server.served.load(Ordering::SeqCst), 5);
}

// ---------------------------------------------------------------------------------------------
// Old protocol versions

/// `openssl s_server` limited to one old protocol version, or why it cannot run here.
struct OpenSslServer {
    child: Child,
    port: u16,
}

impl OpenSslServer {
    fn start(pki: &Pki, version_flag: &str) -> Result<OpenSslServer, String> {
        let mut child = Command::new("openssl")
            .args(["s_server", "-accept", "127.0.0.1:0", version_flag, "-cipher", "DEFAULT@SECLEVEL=0", "-www", "-cert"])
            .arg(&pki.cert_pem)
            .arg("-key")
            .arg(&pki.key_pem)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("openssl is not installed ({e})"))?;
        // It prints "ACCEPT 127.0.0.1:<port>" once listening.
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let port = lines
            .by_ref()
            .take(10)
            .map_while(Result::ok)
            .find_map(|line| line.strip_prefix("ACCEPT 127.0.0.1:").and_then(|p| p.trim().parse::<u16>().ok()));
        // Keep draining stdout so the server never blocks on a full pipe.
        thread::spawn(move || lines.for_each(drop));
        match port {
            Some(port) => Ok(OpenSslServer { child, port }),
            None => {
                let _ = child.kill();
                let mut stderr = String::new();
                let _ = child.stderr.take().unwrap().read_to_string(&mut stderr);
                let _ = child.wait();
                Err(format!("openssl s_server {version_flag} did not start: {}", stderr.trim()))
            }
        }
    }

    /// Whether the server really speaks the old version (an OpenSSL built without it may
    /// start but refuse every handshake).
    fn speaks(&self, version_flag: &str) -> Result<(), String> {
        let output = Command::new("openssl")
            .args(["s_client", "-connect", &format!("127.0.0.1:{}", self.port), version_flag, "-cipher", "DEFAULT@SECLEVEL=0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&output.stdout);
        if text.contains("Cipher is") && !text.contains("Cipher is (NONE)") {
            Ok(())
        } else {
            Err(format!("this OpenSSL cannot negotiate {version_flag} even at SECLEVEL=0"))
        }
    }
}

impl Drop for OpenSslServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn servers_that_offer_only_tls_1_0_or_1_1_are_refused() {
    let pki = Pki::new(&["localhost", "127.0.0.1"]);
    for (flag, name) in [("-tls1", "TLS 1.0"), ("-tls1_1", "TLS 1.1")] {
        let server = match OpenSslServer::start(&pki, flag).and_then(|s| s.speaks(flag).map(|_| s)) {
            Ok(server) => server,
            Err(why) => {
                // Reported, not hidden: the test prints why the case did not run.
                println!("SKIPPED {name} case: {why}");
                eprintln!("SKIPPED {name} case: {why}");
                continue;
            }
        };
        let url = format!("https://127.0.0.1:{}/oauth2/token", server.port);
        let error = token(&url, &[("ca_file", path_str(&pki.ca_pem))]).unwrap_err();
        println!("{name}: {error}");
        assert_eq!(error.kind(), ErrorKind::Tls, "{name}: {error:?}");
        assert!(error.message().contains("TLS 1.2 or later"), "{name}: {error}");
    }
}

// ---------------------------------------------------------------------------------------------
// An HTTP CONNECT proxy

/// A minimal HTTP CONNECT proxy (RFC 9110 section 9.3.6) that tunnels to loopback only, and
/// records the CONNECT lines and every byte the client sent through the tunnel.
struct ConnectProxy {
    port: u16,
    /// Connections accepted, whatever they carried.
    accepted: Arc<AtomicUsize>,
    connects: Arc<Mutex<Vec<String>>>,
    tunnelled: Arc<Mutex<Vec<u8>>>,
    stop: Arc<AtomicBool>,
    acceptor: Option<thread::JoinHandle<()>>,
}

impl ConnectProxy {
    /// `refuse`: answer 403 to every CONNECT instead of tunnelling.
    fn start(refuse: bool) -> ConnectProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let connects: Arc<Mutex<Vec<String>>> = Arc::default();
        let tunnelled: Arc<Mutex<Vec<u8>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let accepted = Arc::new(AtomicUsize::new(0));
        let acceptor = {
            let (connects, tunnelled, stop, accepted) = (connects.clone(), tunnelled.clone(), stop.clone(), accepted.clone());
            thread::spawn(move || {
                for client in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(client) = client else { continue };
                    accepted.fetch_add(1, Ordering::SeqCst);
                    let (connects, tunnelled) = (connects.clone(), tunnelled.clone());
                    thread::spawn(move || tunnel(client, refuse, &connects, &tunnelled));
                }
            })
        };
        ConnectProxy { port, accepted, connects, tunnelled, stop, acceptor: Some(acceptor) }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for ConnectProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

fn tunnel(mut client: TcpStream, refuse: bool, connects: &Mutex<Vec<String>>, tunnelled: &Arc<Mutex<Vec<u8>>>) {
    let _ = client.set_read_timeout(Some(Duration::from_secs(10)));
    let Some(request) = read_request(&mut client) else { return };
    let request_line = request.head.lines().next().unwrap_or_default().to_owned();
    connects.lock().unwrap().push(request_line.clone());
    let target = match request_line.split_whitespace().collect::<Vec<_>>()[..] {
        ["CONNECT", target, _version] => target.to_owned(),
        _ => {
            let _ = client.write_all(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n");
            return;
        }
    };
    // Loopback only: this proxy must never reach beyond the machine.
    let loopback = target.starts_with("127.0.0.1:") || target.starts_with("localhost:");
    if refuse || !loopback {
        let _ = client.write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
        return;
    }
    let Ok(upstream) = TcpStream::connect(target.replacen("localhost:", "127.0.0.1:", 1)) else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
        return;
    };
    let _ = upstream.set_read_timeout(Some(Duration::from_secs(10)));
    if client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").is_err() {
        return;
    }
    let (mut client_read, mut upstream_write) = (client.try_clone().unwrap(), upstream.try_clone().unwrap());
    let recorded = tunnelled.clone();
    let upward = thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = client_read.read(&mut buf) {
            if n == 0 || upstream_write.write_all(&buf[..n]).is_err() {
                break;
            }
            recorded.lock().unwrap().extend_from_slice(&buf[..n]);
        }
        let _ = upstream_write.shutdown(Shutdown::Write);
    });
    let (mut upstream_read, mut client_write) = (upstream, client);
    let _ = std::io::copy(&mut upstream_read, &mut client_write);
    let _ = client_write.shutdown(Shutdown::Write);
    let _ = upward.join();
}

#[test]
fn https_goes_through_a_connect_proxy() {
    let pki = Pki::new(&["localhost", "127.0.0.1"]);
    let server = TlsTokenServer::start(&pki);
    let proxy = ConnectProxy::start(false);
    let url = server.url("127.0.0.1");
    let got = token(&url, &[("ca_file", path_str(&pki.ca_pem)), ("proxy", &proxy.url())]).unwrap();
    assert_eq!(got, "tls-token");
    let connects = proxy.connects.lock().unwrap().clone();
    assert_eq!(connects, vec![format!("CONNECT 127.0.0.1:{} HTTP/1.1", server.port)]);
    // The proxy saw a TLS session, never the secret or the request in clear.
    let tunnelled = proxy.tunnelled.lock().unwrap().clone();
    assert!(!tunnelled.is_empty());
    assert!(!tunnelled.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()));
    assert!(!tunnelled.windows(11).any(|w| w == b"grant_type="));
}

#[test]
fn a_proxy_that_refuses_the_tunnel_is_a_network_error() {
    let pki = Pki::new(&["localhost", "127.0.0.1"]);
    let server = TlsTokenServer::start(&pki);
    let proxy = ConnectProxy::start(true);
    let error = token(&server.url("127.0.0.1"), &[("ca_file", path_str(&pki.ca_pem)), ("proxy", &proxy.url())]).unwrap_err();
    println!("{error}");
    assert_eq!(error.kind(), ErrorKind::Network, "{error:?}");
    assert!(error.message().contains("proxy"), "{error}");
    assert_eq!(server.served.load(Ordering::SeqCst), 0);
}

/// `proxy` is for https: a plain-http token URL (loopback only) never goes through it, which
/// would hand the proxy the whole request, secret included, in clear text.
#[test]
fn plain_http_to_loopback_bypasses_the_proxy() {
    let server = HostileServer::always(Reply::token("direct", 3600));
    let proxy = ConnectProxy::start(false);
    let got = token(&server.url(), &[("proxy", &proxy.url())]).unwrap();
    assert_eq!(got, "direct");
    assert_eq!(server.requests(), 1);
    assert!(proxy.connects.lock().unwrap().is_empty(), "the proxy was asked: {:?}", proxy.connects.lock().unwrap());
    assert!(proxy.tunnelled.lock().unwrap().is_empty());
    assert_eq!(proxy.accepted.load(Ordering::SeqCst), 0, "a connection reached the proxy");
    // And https through the same proxy still takes the tunnel (the CONNECT is counted).
    let pki = Pki::new(&["localhost", "127.0.0.1"]);
    let tls_server = TlsTokenServer::start(&pki);
    assert_eq!(token(&tls_server.url("127.0.0.1"), &[("ca_file", path_str(&pki.ca_pem)), ("proxy", &proxy.url())]).unwrap(), "tls-token");
    assert_eq!(proxy.accepted.load(Ordering::SeqCst), 1);
}

#[test]
fn an_unreachable_proxy_is_a_network_error() {
    let pki = Pki::new(&["localhost", "127.0.0.1"]);
    let server = TlsTokenServer::start(&pki);
    let proxy = format!("http://127.0.0.1:{}", hostile::closed_port());
    let error = token(&server.url("127.0.0.1"), &[("ca_file", path_str(&pki.ca_pem)), ("proxy", &proxy)]).unwrap_err();
    println!("{error}");
    assert_eq!(error.kind(), ErrorKind::Network, "{error:?}");
    let _ = &pki.dir;
}
