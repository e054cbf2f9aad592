//! Test servers that misbehave on command (issue 6): a scripted HTTP server on 127.0.0.1 that
//! can answer anything, answer nothing, trickle, or hang up. Used by faults.rs, secrets.rs,
//! tls.rs and ffi_misuse.rs (which take the well-behaved `hctoken serve` from support/).
#![allow(dead_code)]

pub mod tls;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

pub const CLIENT_ID: &str = "hostile-client";
/// How long a silent or trickling handler keeps a connection at most: well past every timeout
/// the tests set, and bounded so no thread outlives the test by much.
const HOLD_LIMIT: Duration = Duration::from_secs(20);

/// One request as the server read it.
#[derive(Clone, Debug)]
pub struct Seen {
    /// The request line and headers, as sent.
    pub head: String,
    pub body: Vec<u8>,
}

/// What the server does with a request.
#[derive(Clone, Debug)]
pub enum Reply {
    /// An HTTP/1.1 response with Content-Length and `Connection: close`.
    Http { status: u16, headers: Vec<(String, String)>, body: Vec<u8> },
    /// These bytes exactly, then close.
    Raw(Vec<u8>),
    /// Reads the request and never answers (until the server stops or HOLD_LIMIT passes).
    Silent,
    /// These bytes one at a time, `every` apart.
    Trickle { bytes: Vec<u8>, every: Duration },
    /// `head` at once, then `body` one byte at a time, `every` apart.
    HeadThenTrickle { head: Vec<u8>, body: Vec<u8>, every: Duration },
    /// Hangs up as soon as the request is read.
    HangUp,
    /// Waits, then replies.
    Delayed(Duration, Box<Reply>),
    /// A JSON answer with Content-Length that keeps the connection open for the next request
    /// (keep-alive), or closes it right after the answer when `then_close`.
    KeepAlive { status: u16, body: Vec<u8>, then_close: bool },
    /// These raw bytes first (1xx interim answers, say), then the reply.
    Prefixed(Vec<u8>, Box<Reply>),
}

impl Reply {
    pub fn json(status: u16, body: &str) -> Reply {
        Reply::Http { status, headers: vec![("Content-Type".into(), "application/json".into())], body: body.as_bytes().to_vec() }
    }

    pub fn with_header(self, name: &str, value: &str) -> Reply {
        match self {
            Reply::Http { status, mut headers, body } => {
                headers.push((name.into(), value.into()));
                Reply::Http { status, headers, body }
            }
            other => other,
        }
    }

    /// A good bearer token response on a connection kept open for the next request.
    pub fn token_kept_alive(token: &str, expires_in: u64) -> Reply {
        let body = format!(r#"{{"access_token":"{token}","token_type":"Bearer","expires_in":{expires_in}}}"#);
        Reply::KeepAlive { status: 200, body: body.into_bytes(), then_close: false }
    }

    /// A good bearer token response.
    pub fn token(token: &str, expires_in: u64) -> Reply {
        Reply::json(200, &format!(r#"{{"access_token":"{token}","token_type":"Bearer","expires_in":{expires_in}}}"#))
    }
}

type Script = dyn Fn(usize) -> Reply + Send + Sync;

/// A scripted HTTP server: request number n (from 0) gets `script(n)`.
pub struct HostileServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<Seen>>>,
    script: Arc<Mutex<Arc<Script>>>,
    connections: Arc<AtomicUsize>,
    acceptor: Option<thread::JoinHandle<()>>,
}

impl HostileServer {
    pub fn start(script: impl Fn(usize) -> Reply + Send + Sync + 'static) -> HostileServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let script: Arc<Mutex<Arc<Script>>> = Arc::new(Mutex::new(Arc::new(script)));
        let counter = Arc::new(AtomicUsize::new(0));
        let connections = Arc::new(AtomicUsize::new(0));
        let acceptor = {
            let (stop, seen, script, connections) = (stop.clone(), seen.clone(), script.clone(), connections.clone());
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    connections.fetch_add(1, Ordering::SeqCst);
                    let (stop, seen, script, counter) = (stop.clone(), seen.clone(), script.clone(), counter.clone());
                    thread::spawn(move || serve_connection(stream, &stop, &seen, &script, &counter));
                }
            })
        };
        HostileServer { addr, stop, seen, script, connections, acceptor: Some(acceptor) }
    }

    /// Every request gets the same reply.
    pub fn always(reply: Reply) -> HostileServer {
        HostileServer::start(move |_| reply.clone())
    }

    /// The first request gets a good token, every later one `fault`.
    pub fn good_then(fault: Reply) -> HostileServer {
        HostileServer::start(move |n| if n == 0 { Reply::token("good-token", 3600) } else { fault.clone() })
    }

    pub fn replace_script(&self, script: impl Fn(usize) -> Reply + Send + Sync + 'static) {
        *self.script.lock().unwrap() = Arc::new(script);
    }

    pub fn url(&self) -> String {
        format!("http://{}/oauth2/token", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Connections accepted so far (the one `Drop` makes to wake the acceptor aside).
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    pub fn requests(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Waits (bounded) until the server has read `n` requests.
    pub fn wait_for_requests(&self, n: usize, limit: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < limit {
            if self.requests() >= n {
                return true;
            }
            thread::sleep(Duration::from_millis(5));
        }
        false
    }
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the acceptor so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

fn serve_connection(mut stream: TcpStream, stop: &AtomicBool, seen: &Mutex<Vec<Seen>>, script: &Mutex<Arc<Script>>, counter: &AtomicUsize) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    // Keep-alive: serve requests on this connection until it closes or a reply closes it.
    loop {
        let Some(request) = read_request(&mut stream) else { return };
        let n = counter.fetch_add(1, Ordering::SeqCst);
        seen.lock().unwrap().push(request);
        let reply = (script.lock().unwrap().clone())(n);
        if !send_reply(&mut stream, &reply, stop) {
            return;
        }
    }
}

/// Sends a reply; true when the connection stays open for another request.
fn send_reply(stream: &mut TcpStream, reply: &Reply, stop: &AtomicBool) -> bool {
    match reply {
        Reply::Http { status, headers, body } => {
            let mut head = format!("HTTP/1.1 {status} Whatever\r\n");
            let mut has_length = false;
            for (name, value) in headers {
                has_length |= name.eq_ignore_ascii_case("content-length");
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            if !has_length {
                head.push_str(&format!("Content-Length: {}\r\n", body.len()));
            }
            head.push_str("Connection: close\r\n\r\n");
            let _ = stream.write_all(head.as_bytes()).and_then(|_| stream.write_all(body));
            let _ = stream.flush();
            linger_close(stream);
            false
        }
        Reply::Raw(bytes) => {
            let _ = stream.write_all(bytes);
            linger_close(stream);
            false
        }
        Reply::Silent => {
            let start = Instant::now();
            while !stop.load(Ordering::SeqCst) && start.elapsed() < HOLD_LIMIT {
                thread::sleep(Duration::from_millis(10));
            }
            false
        }
        Reply::Trickle { bytes, every } => {
            let start = Instant::now();
            for byte in bytes {
                if stop.load(Ordering::SeqCst) || start.elapsed() > HOLD_LIMIT || stream.write_all(&[*byte]).is_err() {
                    break;
                }
                thread::sleep(*every);
            }
            false
        }
        Reply::HeadThenTrickle { head, body, every } => {
            if stream.write_all(head).is_err() {
                return false;
            }
            send_reply(stream, &Reply::Trickle { bytes: body.clone(), every: *every }, stop)
        }
        Reply::HangUp => {
            let _ = stream.shutdown(Shutdown::Both);
            false
        }
        Reply::Delayed(wait, reply) => {
            thread::sleep(*wait);
            send_reply(stream, reply, stop)
        }
        Reply::KeepAlive { status, body, then_close } => {
            let head = format!("HTTP/1.1 {status} Whatever\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n", body.len());
            let sent = stream.write_all(head.as_bytes()).and_then(|_| stream.write_all(body)).and_then(|_| stream.flush());
            if *then_close {
                let _ = stream.shutdown(Shutdown::Both);
                return false;
            }
            sent.is_ok()
        }
        Reply::Prefixed(prefix, reply) => {
            if stream.write_all(prefix).is_err() {
                return false;
            }
            send_reply(stream, reply, stop)
        }
    }
}

/// Half-closes and drains, so the client reads the whole reply rather than a reset.
fn linger_close(stream: &mut TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let mut sink = [0u8; 1024];
    while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
}

/// Reads one request: head up to the blank line, then Content-Length bytes of body.
pub fn read_request(stream: &mut impl Read) -> Option<Seen> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
        if head.len() > 64 * 1024 {
            return None;
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let length = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length").then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0u8; length.min(1 << 20)];
    stream.read_exact(&mut body).ok()?;
    Some(Seen { head, body })
}

/// A loopback port with nothing listening on it.
pub fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A generic-profile configuration for `url`, credentials in the form body.
pub fn config(url: &str, secret: &str, extra: &[(&str, &str)]) -> hctoken::Config {
    let mut config = hctoken::Config::new();
    for (key, value) in [("profile", "generic"), ("token_url", url), ("client_id", CLIENT_ID), ("client_secret", secret), ("auth_method", "post")] {
        config.set(key, value).unwrap();
    }
    for (key, value) in extra {
        config.set(key, value).unwrap_or_else(|e| panic!("{key}: {e}"));
    }
    config
}
