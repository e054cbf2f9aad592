//! Drives the C test programs in tests/c/: compiles them against include/hctoken.h and the
//! built libhctoken.so, and runs them against `hctoken serve` plainly, under valgrind (no
//! leaks, no invalid access) and with AddressSanitizer; and the fork programs against the
//! emulator, an HTTPS token server made here (rustls, a test CA from rcgen, keep-alive) and
//! servers that always answer 503.
//!
//! Every compilation writes its own executable (tests run in parallel: one shared path made a
//! test run a program another test was still writing, "Text file busy").

mod hostile;
mod support;

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use hostile::read_request;
use support::Emulator;

/// target/debug (or target/release), where cargo put libhctoken.so next to this test's deps/.
/// `cargo test` does not rebuild the shared library: one older than the sources would test old
/// code, so that fails too.
fn library_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
    let library = dir.join("libhctoken.so");
    let built = std::fs::metadata(&library).and_then(|m| m.modified()).unwrap_or_else(|_| {
        panic!("{} has no libhctoken.so: run `cargo build` first", dir.display())
    });
    let newest_source = newest_file(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(
        built >= newest_source,
        "{} is older than the sources: run `cargo build` first",
        library.display()
    );
    dir
}

fn newest_file(dir: &Path) -> std::time::SystemTime {
    let mut newest = std::time::SystemTime::UNIX_EPOCH;
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        let modified = if path.is_dir() {
            newest_file(&path)
        } else {
            entry.metadata().and_then(|m| m.modified()).unwrap_or(newest)
        };
        newest = newest.max(modified);
    }
    newest
}

/// Compiles tests/c/`source` into an executable of its own: the process id and a counter make
/// the path unique to this compilation.
fn compile(source: &str, sanitize: bool) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lib = library_dir();
    let name = format!(
        "{}{}-{}-{}",
        source.trim_end_matches(".c"),
        if sanitize { "-asan" } else { "" },
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    );
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let mut cc = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()));
    cc.args([
        "-std=c11", "-Wall", "-Wextra", "-Werror", "-g", "-O1", "-pthread",
    ])
    .arg("-I")
    .arg(root.join("include"))
    .arg(root.join("tests/c").join(source))
    .arg("-o")
    .arg(&out)
    .arg(format!("-L{}", lib.display()))
    .arg(format!("-Wl,-rpath,{}", lib.display()))
    .arg("-lhctoken");
    if sanitize {
        cc.args(["-fsanitize=address", "-fno-omit-frame-pointer"]);
    }
    let status = cc.status().expect("run the C compiler (cc)");
    assert!(status.success(), "compiling tests/c/{source} failed");
    out
}

/// Runs `program` (under `wrapper`, e.g. valgrind, when given) with `args`; fails the test with
/// everything it printed unless it exits 0.
fn run(program: &Path, wrapper: &[&str], args: &[&str]) -> String {
    let mut command = match wrapper.split_first() {
        Some((tool, tool_args)) => {
            let mut command = Command::new(tool);
            command.args(tool_args).arg(program);
            command
        }
        None => Command::new(program),
    };
    let output = command.args(args).output().expect("run the C program");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    println!("{text}");
    assert!(
        output.status.success(),
        "{} failed:\n{text}",
        program.display()
    );
    text
}

fn run_api_test(program: &Path, wrapper: &[&str]) {
    let emulator = Emulator::start();
    let text = run(program, wrapper, &[&emulator.url]);
    let expected: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("expected_token_requests="))
        .and_then(|n| n.trim().parse().ok())
        .expect("the C test reports its expected request count");
    assert_eq!(
        emulator.token_requests(),
        expected,
        "token requests seen by the server"
    );
}

fn run_stress(program: &Path, wrapper: &[&str], seconds: &str) {
    let emulator = Emulator::start();
    run(program, wrapper, &[&emulator.url, seconds]);
}

const VALGRIND: &[&str] = &[
    "valgrind",
    "--quiet",
    "--error-exitcode=99",
    "--leak-check=full",
    "--errors-for-leak-kinds=definite,indirect",
    "--show-leak-kinds=definite,indirect",
];

fn require_valgrind() {
    let found = Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "valgrind is not installed: `apt-get install valgrind` (.ci/run installs it)"
    );
}

/// tests/c/get.c against three servers: usual lifetimes, 6 s tokens, and one that answers
/// after 5 s. The request counts the program expects are compared with the servers'.
fn run_get_test(program: &Path, wrapper: &[&str]) {
    let emulator = Emulator::start();
    let short_lived = Emulator::start_with(&["--lifetime", "6"]);
    let slow = Emulator::start_with(&["--latency-ms", "5000"]);
    // Under valgrind the times are valgrind's (it translates each code path on first use and
    // runs one thread at a time): statuses only there; plain and ASan runs check the bounds.
    let mut args = vec![emulator.url.as_str(), short_lived.url.as_str(), slow.url.as_str()];
    if wrapper.first() == Some(&"valgrind") {
        args.push("untimed");
    }
    let text = run(program, wrapper, &args);
    let count = |name: &str| -> u64 {
        text.split_whitespace()
            .find_map(|word| word.strip_prefix(name)?.strip_prefix('='))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("the C test reports {name}"))
    };
    assert_eq!(emulator.token_requests(), count("expected_token_requests"), "token requests");
    assert_eq!(short_lived.token_requests(), count("short_lived_requests"), "short-lived token requests");
    assert_eq!(slow.token_requests(), 2, "the slow server saw the bounded fetch and the waited-on one");
}

#[test]
fn c_get_and_tokens() {
    run_get_test(&compile("get.c", false), &[]);
}

#[test]
fn c_get_and_tokens_under_valgrind() {
    require_valgrind();
    run_get_test(&compile("get.c", false), VALGRIND);
}

#[test]
fn c_get_and_tokens_with_address_sanitizer() {
    run_get_test(&compile("get.c", true), &[]);
}

/// tests/c/log.c: the log callback under 8 threads, calling back into the same client.
fn run_log_test(program: &Path, wrapper: &[&str]) {
    let emulator = Emulator::start();
    let unavailable = UnavailableServer::start();
    run(program, wrapper, &[&emulator.url, &unavailable.url()]);
}

#[test]
fn c_log_callback() {
    run_log_test(&compile("log.c", false), &[]);
}

#[test]
fn c_log_callback_under_valgrind() {
    require_valgrind();
    run_log_test(&compile("log.c", false), VALGRIND);
}

#[test]
fn c_log_callback_with_address_sanitizer() {
    run_log_test(&compile("log.c", true), &[]);
}

#[test]
fn c_api() {
    run_api_test(&compile("test_api.c", false), &[]);
}

#[test]
fn c_api_under_valgrind() {
    require_valgrind();
    run_api_test(&compile("test_api.c", false), VALGRIND);
}

#[test]
fn c_api_with_address_sanitizer() {
    run_api_test(&compile("test_api.c", true), &[]);
}

#[test]
fn stress_with_address_sanitizer() {
    run_stress(&compile("stress.c", true), &[], "3");
}

#[test]
fn stress_under_valgrind() {
    require_valgrind();
    run_stress(&compile("stress.c", false), VALGRIND, "3");
}

#[test]
fn a_pthread_key_destructor_can_call_hctoken() {
    let url = format!("http://127.0.0.1:{}/oauth2/token", hostile::closed_port());
    run(&compile("thread_exit.c", false), &[], &[&url]);
}

/// Under valgrind, with one suppression: tests/c/thread_exit.supp says which leak and why.
#[test]
fn a_pthread_key_destructor_can_call_hctoken_under_valgrind() {
    require_valgrind();
    let url = format!("http://127.0.0.1:{}/oauth2/token", hostile::closed_port());
    let suppressions = format!(
        "--suppressions={}/tests/c/thread_exit.supp",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut valgrind = VALGRIND.to_vec();
    valgrind.push(&suppressions);
    run(&compile("thread_exit.c", false), &valgrind, &[&url]);
}

// ---------------------------------------------------------------------------------------------
// fork (issue 10)

/// A fork while another thread waits for a slow token endpoint: the child's get returns within
/// its own timeout (the C program holds it to timeout_ms + 10 % and kills a hung child).
#[test]
fn fork_while_another_thread_is_mid_fetch() {
    let emulator = Emulator::start_with(&["--latency-ms", "1000"]);
    let text = run(
        &compile("fork.c", false),
        &[],
        &["midfetch", &emulator.token_url("/oauth2/token"), "2000"],
    );
    assert!(text.contains("child: get after a fork mid-fetch"), "{text}");
}

fn fork_rounds(url: &str, ca_file: Option<&str>) -> String {
    const ROUNDS: &str = "50";
    let mut args = vec!["rounds", url, ROUNDS];
    args.extend(ca_file);
    let text = run(&compile("fork.c", false), &[], &args);
    assert!(
        text.contains("rounds=50 parent_failures=0 child_failures=0"),
        "{text}"
    );
    text
}

/// Fork after a fetch (a kept-alive connection), then parent and child invalidate and get at
/// once, 50 times, over plain http: no get fails.
#[test]
fn fork_then_simultaneous_fetches_over_http() {
    let server = KeepAliveTokenServer::start(None);
    fork_rounds(&server.url(), None);
    server.check_counts();
}

/// The same over https.
#[test]
fn fork_then_simultaneous_fetches_over_https() {
    let pki = Pki::new();
    let server = KeepAliveTokenServer::start(Some(&pki));
    fork_rounds(&server.url(), Some(pki.ca_pem.to_str().unwrap()));
    server.check_counts();
}

/// Parent and child retry with different random backoff: each server (503, no Retry-After)
/// records when attempts arrive; the gaps within each fetch (the jitter) differ between the
/// parent's server and the child's. With the random state the child inherited, they would be
/// the same to within scheduling noise.
#[test]
fn forked_children_draw_their_own_retry_jitter() {
    let a = UnavailableServer::start();
    let b = UnavailableServer::start();
    run(
        &compile("fork.c", false),
        &[],
        &["jitter", &a.url(), &b.url()],
    );
    let a_seen = a.arrivals();
    let b_seen = b.arrivals();
    // Three attempts per fetch (retry.rs, MAX_ATTEMPTS): one fetch before the fork and three
    // after through A, three through B.
    assert_eq!(a_seen.len(), 12, "attempts seen by the parent's server");
    assert_eq!(b_seen.len(), 9, "attempts seen by the child's server");
    let gaps = |arrivals: &[Instant]| -> Vec<f64> {
        arrivals
            .chunks(3)
            .flat_map(|fetch| {
                fetch
                    .windows(2)
                    .map(|w| (w[1] - w[0]).as_secs_f64() * 1000.0)
            })
            .collect()
    };
    let parent = gaps(&a_seen[3..]);
    let child = gaps(&b_seen);
    println!("retry gaps (ms): parent {parent:.0?}, child {child:.0?}");
    // Independent draws from [0, 250] and [0, 500] ms all land within 30 ms of each other
    // with a probability of about (0.24 * 0.12)^3 < 1e-4; identical draws always do.
    let most = parent
        .iter()
        .zip(&child)
        .map(|(p, c)| (p - c).abs())
        .fold(0.0, f64::max);
    assert!(
        most > 30.0,
        "parent and child retried in lockstep: {parent:.0?} vs {child:.0?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Servers for the fork tests

/// A CA and a certificate it signed for 127.0.0.1, the CA written to a file for `ca_file`.
struct Pki {
    ca_pem: PathBuf,
    cert_der: rustls::pki_types::CertificateDer<'static>,
    key_der: Vec<u8>,
}

impl Pki {
    fn new() -> Pki {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "hctoken fork test CA");
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "127.0.0.1");
        let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let ca_pem = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "fork-ca-{}-{}.pem",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::write(&ca_pem, ca.pem()).unwrap();
        Pki {
            ca_pem,
            cert_der: cert.der().clone(),
            key_der: key.serialize_der(),
        }
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.ca_pem);
    }
}

/// A token server that keeps connections alive (as real endpoints do), over http or https:
/// each connection gets a thread that answers request after request with a new token.
struct KeepAliveTokenServer {
    tls: bool,
    port: u16,
    stop: Arc<AtomicBool>,
    served: Arc<AtomicUsize>,
    connections: Arc<AtomicUsize>,
    acceptor: Option<thread::JoinHandle<()>>,
}

impl KeepAliveTokenServer {
    fn start(pki: Option<&Pki>) -> KeepAliveTokenServer {
        use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
        let tls = pki.map(|pki| {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(
                    vec![pki.cert_der.clone()],
                    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.key_der.clone())),
                )
                .unwrap();
            Arc::new(config)
        });
        let with_tls = tls.is_some();
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
                    let id = connections.fetch_add(1, Ordering::SeqCst) + 1;
                    let (tls, served, stop) = (tls.clone(), served.clone(), stop.clone());
                    thread::spawn(move || {
                        let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
                        match tls {
                            Some(tls) => {
                                let tls = rustls::ServerConnection::new(tls).unwrap();
                                let stream = rustls::StreamOwned::new(tls, tcp);
                                serve_tokens(stream, id, &served, &stop);
                            }
                            None => serve_tokens(tcp, id, &served, &stop),
                        }
                    });
                }
            })
        };
        KeepAliveTokenServer {
            tls: with_tls,
            port,
            stop,
            served,
            connections,
            acceptor: Some(acceptor),
        }
    }

    fn url(&self) -> String {
        format!(
            "{}://127.0.0.1:{}/oauth2/token",
            if self.tls { "https" } else { "http" },
            self.port
        )
    }

    /// One fetch before the fork, then one per process and round (a request retried on a
    /// stale connection may add one now and then; the child's first get comes from its cache);
    /// and the fetches came over more than one connection (parent and child need their own).
    fn check_counts(&self) {
        let served = self.served.load(Ordering::SeqCst);
        assert!((101..=105).contains(&served), "token requests the server answered: {served}, expected 101");
        assert!(self.connections.load(Ordering::SeqCst) >= 2, "parent and child shared one connection");
    }
}

/// Answers token requests on one connection until it closes or a request is not one.
/// Each token names its connection ("fork-c<connection>-n<request>"), so the C program can tell
/// whether the child used the connection the parent opened before the fork.
fn serve_tokens(
    mut stream: impl std::io::Read + Write,
    connection: usize,
    served: &AtomicUsize,
    stop: &AtomicBool,
) {
    while !stop.load(Ordering::SeqCst) {
        // A closed connection, a broken request or a failed handshake ends it.
        let Some(request) = read_request(&mut stream) else {
            return;
        };
        if !request.head.starts_with("POST ")
            || !String::from_utf8_lossy(&request.body).contains("grant_type=client_credentials")
        {
            let _ = stream.write_all(
                b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
            return;
        }
        let n = served.fetch_add(1, Ordering::SeqCst) + 1;
        let body = format!(
            r#"{{"access_token":"fork-c{connection}-n{n}","token_type":"Bearer","expires_in":3600}}"#
        );
        let reply = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        if stream
            .write_all(reply.as_bytes())
            .and_then(|_| stream.flush())
            .is_err()
        {
            return;
        }
    }
}

impl Drop for KeepAliveTokenServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

/// Answers every request with 503 and no Retry-After, and records when each arrived.
struct UnavailableServer {
    port: u16,
    stop: Arc<AtomicBool>,
    arrivals: Arc<Mutex<Vec<Instant>>>,
    acceptor: Option<thread::JoinHandle<()>>,
}

impl UnavailableServer {
    fn start() -> UnavailableServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let arrivals: Arc<Mutex<Vec<Instant>>> = Arc::default();
        let acceptor = {
            let (stop, arrivals) = (stop.clone(), arrivals.clone());
            thread::spawn(move || {
                for tcp in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(mut tcp) = tcp else { continue };
                    let arrivals = arrivals.clone();
                    thread::spawn(move || {
                        let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
                        while read_request(&mut tcp).is_some() {
                            arrivals.lock().unwrap().push(Instant::now());
                            let reply = b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\nbusy";
                            if tcp.write_all(reply).is_err() {
                                return;
                            }
                        }
                    });
                }
            })
        };
        UnavailableServer {
            port,
            stop,
            arrivals,
            acceptor: Some(acceptor),
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/oauth2/token", self.port)
    }

    fn arrivals(&self) -> Vec<Instant> {
        self.arrivals.lock().unwrap().clone()
    }
}

impl Drop for UnavailableServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}
