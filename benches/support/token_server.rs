//! A minimal local token endpoint on std::net: HTTP/1.1 with keep-alive, a thread per
//! connection, a 1.2 KB JWT per request, a request counter and an adjustable latency. It is
//! deliberately cheap, so fetch benchmarks measure the client, not the server.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use super::jwt;

/// The token lifetime the server issues: long, so only invalidation or the test clock expires it.
pub const LIFETIME_SECS: u64 = 3600;

#[derive(Default)]
struct Shared {
    stopping: AtomicBool,
    connections: AtomicU64,
    requests: AtomicU64,
    latency_us: AtomicU64,
}

/// A running server; stops when dropped.
pub struct TokenServer {
    /// The base URL, e.g. `http://127.0.0.1:40123`.
    pub base_url: String,
    shared: Arc<Shared>,
    accept: Option<thread::JoinHandle<()>>,
}

impl TokenServer {
    pub fn start() -> TokenServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(Shared::default());
        let accept = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if shared.stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    shared.connections.fetch_add(1, Ordering::SeqCst);
                    let shared = Arc::clone(&shared);
                    thread::spawn(move || serve_connection(stream, &shared));
                }
            })
        };
        TokenServer { base_url, shared, accept: Some(accept) }
    }

    /// The token endpoint (any path answers; this one reads like the generic profile's).
    pub fn token_url(&self) -> String {
        format!("{}/oauth2/token", self.base_url)
    }

    /// Token requests answered (or being answered) so far.
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// Connections accepted so far: with keep-alive, far fewer than requests.
    pub fn connections(&self) -> u64 {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Delay before each answer from now on.
    pub fn set_latency(&self, latency: Duration) {
        self.shared.latency_us.store(latency.as_micros() as u64, Ordering::SeqCst);
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.base_url.trim_start_matches("http://"));
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

fn serve_connection(stream: TcpStream, shared: &Shared) {
    let _ = stream.set_nodelay(true);
    // Idle keep-alive connections check now and then whether the server is stopping.
    let _ = stream.set_read_timeout(Some(Duration::from_millis(250)));
    let mut writer = stream.try_clone().expect("clone a TCP stream");
    let mut reader = BufReader::new(stream);
    while let Ok(Some(body)) = read_request(&mut reader, shared) {
        let serial = shared.requests.fetch_add(1, Ordering::SeqCst);
        let latency = shared.latency_us.load(Ordering::SeqCst);
        if latency > 0 {
            thread::sleep(Duration::from_micros(latency));
        }
        let (status, payload) = if body.windows(18).any(|w| w == b"client_credentials") {
            ("200 OK", jwt::token_response(serial, LIFETIME_SECS))
        } else {
            ("400 Bad Request", r#"{"error":"unsupported_grant_type"}"#.to_owned())
        };
        let head = format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nCache-Control: no-store\r\nContent-Length: {}\r\n\r\n",
            payload.len()
        );
        let mut response = head.into_bytes();
        response.extend_from_slice(payload.as_bytes());
        if writer.write_all(&response).is_err() {
            break;
        }
    }
    let _ = writer.shutdown(Shutdown::Both);
}

/// Reads one request and returns its body; `None` when the peer closed the connection or the
/// server is stopping.
fn read_request(reader: &mut BufReader<TcpStream>, shared: &Shared) -> std::io::Result<Option<Vec<u8>>> {
    let mut content_length = 0usize;
    let mut line = String::new();
    let mut first = true;
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) => return Ok(None),
            Ok(_) => {}
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                if shared.stopping.load(Ordering::SeqCst) {
                    return Ok(None);
                }
                if first && line.is_empty() {
                    continue;
                }
                return Err(e);
            }
            Err(e) => return Err(e),
        }
        first = false;
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        if let Some((name, value)) = trimmed.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                content_length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; content_length.min(64 * 1024)];
    reader.read_exact(&mut body)?;
    Ok(Some(body))
}
