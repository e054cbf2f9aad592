//! The emulator's own HTTP/1.1 server: `std::net`, one thread per connection, keep-alive.
//!
//! It replaced tiny_http 0.12, which could leave a new connection unanswered when several
//! arrived at once, allocated whatever Content-Length a client announced (99,999,999,999 killed
//! the process), and closed connections after `Connection: close` without saying so. Here:
//! - every accepted connection gets its own thread at once, so no connection waits for another;
//! - a body over [`MAX_BODY`] is refused with 413 before a byte of it is read, and the
//!   connection is closed; a head over [`MAX_HEAD`] gets 431;
//! - bytes that cannot start an HTTP request (a TLS ClientHello sent to this plain-http port)
//!   get 400 at once, so a client that speaks TLS here fails fast instead of waiting;
//! - an answer that closes the connection says `Connection: close`.
//!
//! It is a test fixture for loopback, not a web server: no pipelining guarantees beyond
//! answering requests in order, no TLS.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The largest request body read; a larger one is refused with 413 unread.
pub const MAX_BODY: u64 = 64 * 1024;
/// The largest request head (request line and headers).
pub const MAX_HEAD: usize = 16 * 1024;
const MAX_HEADERS: usize = 64;
/// Connections open at once; more are answered 503 and closed.
const MAX_CONNECTIONS: usize = 512;
/// How long a connection may sit silent (between requests or within one) before it is closed.
const IDLE: Duration = Duration::from_secs(60);

pub struct Request {
    pub method: String,
    /// The request target as sent, query included.
    pub target: String,
    headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// The target without its query (a query may hold anything; it is never logged).
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    /// The first header of that name (names compare case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
    pub headers: Vec<(&'static str, String)>,
}

impl Response {
    pub fn text(status: u16, body: impl Into<String>) -> Response {
        Response { status, content_type: "text/plain", body: body.into(), headers: Vec::new() }
    }
}

pub type Handler = dyn Fn(&Request) -> Response + Send + Sync;

/// Accepts connections until the process ends. `verbose` logs one line per request to stderr:
/// method, path (no query), status and duration; never a header or a body.
pub fn serve(listener: TcpListener, handler: Arc<Handler>, verbose: bool) {
    let open = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming() {
        let Ok(stream) = stream else {
            // EMFILE and the like: back off briefly rather than spin.
            std::thread::sleep(Duration::from_millis(10));
            continue;
        };
        let handler = Arc::clone(&handler);
        let open = Arc::clone(&open);
        if open.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            open.fetch_sub(1, Ordering::SeqCst);
            let mut stream = stream;
            let _ = write_response(&mut stream, &Response::text(503, "too many connections"), false);
            close(stream);
            continue;
        }
        let spawned = std::thread::Builder::new().name("hctoken-conn".into()).spawn({
            let open = Arc::clone(&open);
            move || {
                connection(stream, &*handler, verbose);
                open.fetch_sub(1, Ordering::SeqCst);
            }
        });
        if spawned.is_err() {
            open.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

enum Refusal {
    /// The connection ended (or timed out) before a whole request arrived: nothing to answer.
    Gone,
    /// Answer this status with this text, then close; the method and path when known (log).
    Answer(u16, &'static str, Option<(String, String)>),
}

fn connection(stream: TcpStream, handler: &Handler, verbose: bool) {
    let _ = stream.set_read_timeout(Some(IDLE));
    let _ = stream.set_write_timeout(Some(IDLE));
    let _ = stream.set_nodelay(true);
    let Ok(read_half) = stream.try_clone() else { return };
    let mut reader = BufReader::with_capacity(8 * 1024, read_half);
    let mut writer = stream;
    loop {
        // The duration logged runs from the request's first byte, not from the end of the
        // previous request on a kept-alive connection.
        match reader.fill_buf() {
            Ok([]) | Err(_) => return,
            Ok(_) => {}
        }
        let started = Instant::now();
        match read_request(&mut reader, &mut writer) {
            Ok(None) => return,
            Ok(Some((request, keep_alive))) => {
                let response = handler(&request);
                if verbose {
                    log(&request.method, request.path(), response.status, started);
                }
                if write_response(&mut writer, &response, keep_alive).is_err() || !keep_alive {
                    close(writer);
                    return;
                }
            }
            Err(Refusal::Gone) => return,
            Err(Refusal::Answer(status, text, line)) => {
                if verbose {
                    let (method, path) = line.unwrap_or_else(|| ("-".into(), "-".into()));
                    log(&method, &path, status, started);
                }
                let _ = write_response(&mut writer, &Response::text(status, text), false);
                close(writer);
                return;
            }
        }
    }
}

fn log(method: &str, path: &str, status: u16, started: Instant) {
    // Method and path passed httparse's token and URI character checks, so they hold no
    // control characters; the query is left out (a client may put anything in it).
    eprintln!("hctoken serve: {method} {path} -> {status} ({:.1} ms)", started.elapsed().as_secs_f64() * 1000.0);
}

/// Half-closes, then drains what the client still sends for a moment, so that closing with
/// unread bytes does not turn into a reset that destroys the answer before the client reads it.
fn close(stream: TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let _ = std::io::copy(&mut (&stream).take(MAX_BODY), &mut std::io::sink());
}

/// One request and whether the connection stays open after it; `Ok(None)` when the client
/// closed the connection cleanly between requests.
fn read_request(reader: &mut BufReader<TcpStream>, writer: &mut TcpStream) -> Result<Option<(Request, bool)>, Refusal> {
    let Some(head) = read_head(reader)? else { return Ok(None) };
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut headers);
    match parsed.parse(&head) {
        Ok(httparse::Status::Complete(_)) => {}
        Err(httparse::Error::TooManyHeaders) => return Err(Refusal::Answer(431, "too many header fields", None)),
        _ => return Err(Refusal::Answer(400, "not an HTTP/1.x request", None)),
    }
    let method = parsed.method.unwrap_or_default().to_owned();
    let target = parsed.path.unwrap_or_default().to_owned();
    let version = parsed.version.unwrap_or(1);
    let headers: Vec<(String, String)> = parsed
        .headers
        .iter()
        .map(|h| (h.name.to_owned(), String::from_utf8_lossy(h.value).trim().to_owned()))
        .collect();
    let request = Request { method, target, headers, body: Vec::new() };
    let line = || (request.method.clone(), request.path().to_owned());

    let tokens = |name: &str| -> Vec<String> {
        request
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .flat_map(|(_, v)| v.split(',').map(|t| t.trim().to_ascii_lowercase()).collect::<Vec<_>>())
            .collect()
    };
    let connection = tokens("Connection");
    let keep_alive = if version == 0 {
        connection.iter().any(|t| t == "keep-alive")
    } else {
        !connection.iter().any(|t| t == "close")
    };
    let lengths: Vec<&str> =
        request.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("Content-Length")).map(|(_, v)| v.as_str()).collect();
    let codings = tokens("Transfer-Encoding");
    let expect_continue = tokens("Expect").iter().any(|t| t == "100-continue");

    let body = if !codings.is_empty() {
        // Both framings at once is how requests are smuggled (RFC 9112 section 6.3): refuse.
        if !lengths.is_empty() {
            return Err(Refusal::Answer(400, "Content-Length and Transfer-Encoding together", Some(line())));
        }
        if codings != ["chunked"] {
            return Err(Refusal::Answer(501, "only the chunked transfer coding is understood", Some(line())));
        }
        if expect_continue {
            continue_(writer)?;
        }
        read_chunked(reader)?
    } else if let Some(first) = lengths.first() {
        if lengths.iter().any(|l| l != first) || first.is_empty() || !first.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Refusal::Answer(400, "a malformed Content-Length", Some(line())));
        }
        // A number too long for u64 is certainly over the cap.
        let length = first.parse::<u64>().unwrap_or(u64::MAX);
        if length > MAX_BODY {
            return Err(Refusal::Answer(413, "the request body is larger than this server accepts (64 KiB)", Some(line())));
        }
        if expect_continue && length > 0 {
            continue_(writer)?;
        }
        let mut body = vec![0; length as usize];
        reader.read_exact(&mut body).map_err(|_| Refusal::Gone)?;
        body
    } else {
        Vec::new()
    };
    Ok(Some((Request { body, ..request }, keep_alive)))
}

fn continue_(writer: &mut TcpStream) -> Result<(), Refusal> {
    writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").map_err(|_| Refusal::Gone)
}

/// The request line and headers up to and including the empty line. Empty lines before the
/// request line are skipped (RFC 9112 section 2.2).
fn read_head(reader: &mut BufReader<TcpStream>) -> Result<Option<Vec<u8>>, Refusal> {
    let mut head = Vec::with_capacity(1024);
    loop {
        // A request starts with a method, a token of visible characters. Anything else (a TLS
        // record starts with byte 0x16) is refused now rather than after a line end that may
        // never come.
        let first = match reader.fill_buf() {
            Ok([]) if head.is_empty() => return Ok(None),
            Ok([]) => return Err(Refusal::Gone),
            Ok(bytes) => bytes[0],
            Err(_) => return Err(Refusal::Gone),
        };
        if head.is_empty() && !(first.is_ascii_graphic() || first == b'\r' || first == b'\n') {
            return Err(Refusal::Answer(400, "not an HTTP request (TLS sent to a plain-http port?)", None));
        }
        let limit = (MAX_HEAD - head.len()) as u64;
        let before = head.len();
        let read = reader.by_ref().take(limit).read_until(b'\n', &mut head).map_err(|_| Refusal::Gone)?;
        if !head.ends_with(b"\n") {
            if read == 0 || head.len() < MAX_HEAD {
                return Err(Refusal::Gone);
            }
            return Err(Refusal::Answer(431, "the request head is too large", None));
        }
        let line = &head[before..];
        if line == b"\r\n" || line == b"\n" {
            if before == 0 {
                head.clear(); // an empty line before the request line
                continue;
            }
            return Ok(Some(head));
        }
    }
}

/// A chunked body, refused with 413 as soon as its announced size passes [`MAX_BODY`].
fn read_chunked(reader: &mut BufReader<TcpStream>) -> Result<Vec<u8>, Refusal> {
    let mut body = Vec::new();
    let mut line = Vec::new();
    let bad = || Refusal::Answer(400, "a malformed chunked body", None);
    loop {
        line.clear();
        reader.by_ref().take(1024).read_until(b'\n', &mut line).map_err(|_| Refusal::Gone)?;
        if !line.ends_with(b"\n") {
            return Err(if line.len() >= 1024 { bad() } else { Refusal::Gone });
        }
        let text = std::str::from_utf8(&line).map_err(|_| bad())?;
        let size = text.split(';').next().unwrap_or("").trim();
        let size = u64::from_str_radix(size, 16).map_err(|_| bad())?;
        if size == 0 {
            break;
        }
        if body.len() as u64 + size > MAX_BODY {
            return Err(Refusal::Answer(413, "the request body is larger than this server accepts (64 KiB)", None));
        }
        let start = body.len();
        body.resize(start + size as usize, 0);
        reader.read_exact(&mut body[start..]).map_err(|_| Refusal::Gone)?;
        let mut end = [0u8; 2];
        reader.read_exact(&mut end).map_err(|_| Refusal::Gone)?;
        if &end != b"\r\n" {
            return Err(bad());
        }
    }
    // Trailer fields, ignored, up to the empty line.
    let mut trailers = 0usize;
    loop {
        line.clear();
        reader.by_ref().take(1024).read_until(b'\n', &mut line).map_err(|_| Refusal::Gone)?;
        if !line.ends_with(b"\n") {
            return Err(Refusal::Gone);
        }
        if line == b"\r\n" || line == b"\n" {
            return Ok(body);
        }
        trailers += line.len();
        if trailers > MAX_HEAD {
            return Err(Refusal::Answer(431, "the trailer fields are too large", None));
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        431 => "Request Header Fields Too Large",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "",
    }
}

fn write_response(stream: &mut TcpStream, response: &Response, keep_alive: bool) -> std::io::Result<()> {
    let mut out = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nCache-Control: no-store\r\nContent-Length: {}\r\n",
        response.status,
        reason(response.status),
        response.content_type,
        response.body.len()
    );
    for (name, value) in &response.headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    if !keep_alive {
        out.push_str("Connection: close\r\n");
    }
    out.push_str("\r\n");
    out.push_str(&response.body);
    stream.write_all(out.as_bytes())?;
    stream.flush()
}
