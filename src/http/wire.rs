//! Reading an HTTP/1.1 answer off a connection: the head (parsed by `httparse`), skipping 1xx
//! interim answers (RFC 9110 section 15.2), then a body framed by Content-Length, chunked
//! transfer coding, or the end of the connection, capped at `MAX_BODY_BYTES`.
//!
//! Every buffer that holds answer bytes (the read buffer, the body) is wiped when dropped: the
//! body holds the token. Nothing read here is ever formatted into a message: errors are fixed
//! text and numbers.

use std::io::{self, Read};

use crate::response::MAX_BODY_BYTES;
use crate::secret::{wipe, SecretBytes};

/// The most head bytes (status lines and header fields, interim answers included) read for one
/// answer; a token endpoint's heads are well under 2 KiB.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;
/// The most 1xx interim answers skipped before the final one.
pub const MAX_INTERIM: usize = 8;
/// The most header fields in one head.
const MAX_HEADERS: usize = 64;
/// The longest chunk-size or trailer line.
const MAX_LINE: usize = 1024;

/// What can go wrong reading an answer.
#[derive(Debug)]
pub enum WireError {
    /// The connection failed (timed out, closed, reset...). `answered`: whether any byte of an
    /// answer had arrived.
    Io { error: io::Error, answered: bool },
    /// Bytes that are not an HTTP/1.x answer, or a head too large; the words say which.
    Malformed(&'static str),
    /// `101 Switching Protocols`: never asked for.
    Switching,
}

/// The final answer's status line and the fields the client needs. Header values are handed up
/// as the server sent them (lossily made UTF-8); the response parser redacts what it quotes.
#[derive(Debug)]
pub struct Head {
    pub status: u16,
    pub content_type: Option<String>,
    pub location: Option<String>,
    pub retry_after: Option<String>,
    pub framing: Framing,
    /// HTTP/1.1 without `Connection: close` (or 1.0 with `keep-alive`), and a body framed by
    /// length or chunks.
    pub keep_alive: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// No body (204, 304).
    Empty,
    Length(u64),
    Chunked,
    /// Until the server closes the connection.
    Close,
}

/// A byte buffer wiped, spare capacity included, when dropped.
#[derive(Default)]
pub struct Wiped(pub Vec<u8>);

impl Drop for Wiped {
    fn drop(&mut self) {
        let capacity = self.0.capacity();
        self.0.resize(capacity, 0);
        wipe(&mut self.0);
    }
}

impl Wiped {
    /// Appends without ever leaving an unwiped copy behind: growing copies into a new buffer
    /// and wipes the old one.
    fn extend(&mut self, bytes: &[u8]) {
        if self.0.len() + bytes.len() > self.0.capacity() {
            let mut bigger = Vec::with_capacity((self.0.capacity() * 2).max(self.0.len() + bytes.len()).max(1024));
            bigger.extend_from_slice(&self.0);
            let old = std::mem::replace(&mut self.0, bigger);
            drop(Wiped(old));
        }
        self.0.extend_from_slice(bytes);
    }

    pub fn into_secret(mut self) -> SecretBytes {
        SecretBytes::new(std::mem::take(&mut self.0))
    }
}

/// A connection with a read buffer in front of it.
pub struct Reader<'a, R: Read> {
    inner: &'a mut R,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    /// The most of `buf` ever filled: what needs wiping.
    dirty: usize,
    /// Whether any byte arrived.
    pub answered: bool,
}

impl<R: Read> Drop for Reader<'_, R> {
    fn drop(&mut self) {
        wipe(&mut self.buf[..self.dirty]);
    }
}

impl<'a, R: Read> Reader<'a, R> {
    pub fn new(inner: &'a mut R) -> Self {
        Reader { inner, buf: vec![0u8; MAX_HEAD_BYTES].into_boxed_slice(), start: 0, end: 0, dirty: 0, answered: false }
    }

    /// Reads more into the buffer (moving what is left to its front first); 0 at the end of
    /// the connection.
    fn fill(&mut self) -> Result<usize, WireError> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            return Err(WireError::Malformed("a header section larger than 16 KiB"));
        }
        loop {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(n) => {
                    self.end += n;
                    self.dirty = self.dirty.max(self.end);
                    self.answered |= n > 0;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(WireError::Io { error, answered: self.answered }),
            }
        }
    }

    fn eof(&self) -> WireError {
        WireError::Io { error: io::ErrorKind::UnexpectedEof.into(), answered: self.answered }
    }

    /// Whether bytes beyond the answer were received (then the connection is not reused).
    pub fn has_leftover(&self) -> bool {
        self.start != self.end
    }

    /// The final answer's head, after skipping interim (1xx) answers.
    pub fn read_head(&mut self) -> Result<Head, WireError> {
        let mut head_bytes = 0usize;
        let mut interim = 0usize;
        loop {
            let parsed = {
                let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
                let mut response = httparse::Response::new(&mut headers);
                match response.parse(&self.buf[self.start..self.end]) {
                    Ok(httparse::Status::Complete(len)) => Some((len, head_of(&response)?)),
                    Ok(httparse::Status::Partial) => None,
                    Err(httparse::Error::TooManyHeaders) => return Err(WireError::Malformed("more than 64 header fields")),
                    Err(_) => return Err(WireError::Malformed("an answer that is not HTTP/1.x")),
                }
            };
            match parsed {
                None => {
                    if head_bytes + (self.end - self.start) >= MAX_HEAD_BYTES {
                        return Err(WireError::Malformed("a header section larger than 16 KiB"));
                    }
                    if self.fill()? == 0 {
                        return Err(self.eof());
                    }
                }
                Some((len, head)) => {
                    self.start += len;
                    head_bytes += len;
                    match head.status {
                        101 => return Err(WireError::Switching),
                        100..=199 => {
                            interim += 1;
                            if interim > MAX_INTERIM {
                                return Err(WireError::Malformed("more than 8 interim (1xx) answers"));
                            }
                        }
                        _ => return Ok(head),
                    }
                }
            }
        }
    }

    /// The body as `framing` delimits it; `None` when it is larger than `MAX_BODY_BYTES` (then
    /// it is not read to its end, and the connection must not be reused).
    pub fn read_body(&mut self, framing: Framing) -> Result<Option<SecretBytes>, WireError> {
        match framing {
            Framing::Empty => Ok(Some(SecretBytes::default())),
            Framing::Length(len) if len > MAX_BODY_BYTES as u64 => Ok(None),
            Framing::Length(len) => {
                let len = len as usize;
                // Exactly as large as it needs to be: it never grows.
                let mut body = Wiped(Vec::with_capacity(len));
                while body.0.len() < len {
                    if self.start == self.end && self.fill()? == 0 {
                        return Err(self.eof());
                    }
                    let take = (len - body.0.len()).min(self.end - self.start);
                    body.extend(&self.buf[self.start..self.start + take]);
                    self.start += take;
                }
                Ok(Some(body.into_secret()))
            }
            Framing::Close => {
                let mut body = Wiped(Vec::with_capacity(4096));
                loop {
                    if self.start == self.end {
                        match self.fill() {
                            Ok(0) => break,
                            Ok(_) => {}
                            // TLS without close_notify: the end of a close-delimited body all the
                            // same (a cut-off token response fails to parse).
                            Err(WireError::Io { error, .. }) if error.kind() == io::ErrorKind::UnexpectedEof => break,
                            Err(e) => return Err(e),
                        }
                    }
                    let available = self.end - self.start;
                    if body.0.len() + available > MAX_BODY_BYTES {
                        return Ok(None);
                    }
                    body.extend(&self.buf[self.start..self.end]);
                    self.start = self.end;
                }
                Ok(Some(body.into_secret()))
            }
            Framing::Chunked => self.read_chunked(),
        }
    }

    fn read_chunked(&mut self) -> Result<Option<SecretBytes>, WireError> {
        let mut body = Wiped(Vec::with_capacity(4096));
        loop {
            let size = {
                let line = self.read_line()?;
                let digits = line.split(|b| *b == b';').next().unwrap_or_default();
                let digits = std::str::from_utf8(digits).map_err(|_| WireError::Malformed("a bad chunk size"))?.trim();
                if digits.is_empty() || digits.len() > 16 {
                    return Err(WireError::Malformed("a bad chunk size"));
                }
                u64::from_str_radix(digits, 16).map_err(|_| WireError::Malformed("a bad chunk size"))?
            };
            if size == 0 {
                // Trailer fields, ignored, up to the empty line.
                while !self.read_line()?.is_empty() {}
                return Ok(Some(body.into_secret()));
            }
            if body.0.len() as u64 + size > MAX_BODY_BYTES as u64 {
                return Ok(None);
            }
            let mut left = size as usize;
            while left > 0 {
                if self.start == self.end && self.fill()? == 0 {
                    return Err(self.eof());
                }
                let take = left.min(self.end - self.start);
                body.extend(&self.buf[self.start..self.start + take]);
                self.start += take;
                left -= take;
            }
            if !self.read_line()?.is_empty() {
                return Err(WireError::Malformed("a chunk longer than its size"));
            }
        }
    }

    /// One line without its CRLF (a bare LF is accepted), at most `MAX_LINE` bytes.
    fn read_line(&mut self) -> Result<Vec<u8>, WireError> {
        loop {
            if let Some(at) = self.buf[self.start..self.end].iter().position(|b| *b == b'\n') {
                let mut line = self.buf[self.start..self.start + at].to_vec();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                self.start += at + 1;
                return Ok(line);
            }
            if self.end - self.start > MAX_LINE {
                return Err(WireError::Malformed("a chunk-size line longer than 1 KiB"));
            }
            if self.fill()? == 0 {
                return Err(self.eof());
            }
        }
    }
}

/// `[u8]::trim_ascii` is newer than this crate's minimum Rust.
fn trim(mut bytes: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = bytes {
        if !first.is_ascii_whitespace() {
            break;
        }
        bytes = rest;
    }
    while let [rest @ .., last] = bytes {
        if !last.is_ascii_whitespace() {
            break;
        }
        bytes = rest;
    }
    bytes
}

fn head_of(response: &httparse::Response<'_, '_>) -> Result<Head, WireError> {
    let status = response.code.ok_or(WireError::Malformed("an answer without a status"))?;
    let http11 = response.version == Some(1);
    let mut head = Head { status, content_type: None, location: None, retry_after: None, framing: Framing::Close, keep_alive: false };
    let mut length: Option<u64> = None;
    let mut chunked = false;
    let mut transfer_coded = false;
    let (mut close, mut keep_alive) = (false, false);
    let text = |value: &[u8]| String::from_utf8_lossy(value).into_owned();
    for header in response.headers.iter() {
        let name = header.name;
        let value = header.value;
        if name.eq_ignore_ascii_case("content-length") {
            let parsed = std::str::from_utf8(value)
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .ok_or(WireError::Malformed("a bad Content-Length"))?;
            if length.is_some_and(|l| l != parsed) {
                return Err(WireError::Malformed("two different Content-Length fields"));
            }
            length = Some(parsed);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            transfer_coded = true;
            // Chunked must be the last coding; anything else is read to the end of the connection.
            chunked = value.rsplit(|b| *b == b',').next().is_some_and(|last| trim(last).eq_ignore_ascii_case(b"chunked"));
        } else if name.eq_ignore_ascii_case("connection") {
            for token in value.split(|b| *b == b',') {
                close |= trim(token).eq_ignore_ascii_case(b"close");
                keep_alive |= trim(token).eq_ignore_ascii_case(b"keep-alive");
            }
        } else if name.eq_ignore_ascii_case("content-type") {
            head.content_type = Some(text(value));
        } else if name.eq_ignore_ascii_case("location") {
            head.location = Some(text(value));
        } else if name.eq_ignore_ascii_case("retry-after") {
            head.retry_after = Some(text(value));
        }
    }
    head.framing = if status == 204 || status == 304 || (100..200).contains(&status) {
        Framing::Empty
    } else if chunked {
        Framing::Chunked
    } else if transfer_coded {
        Framing::Close
    } else if let Some(length) = length {
        Framing::Length(length)
    } else {
        Framing::Close
    };
    // Both Transfer-Encoding and Content-Length: chunked wins (RFC 9112 section 6.3), but such
    // an answer may be a smuggling attempt, so its connection is not reused.
    let ambiguous = transfer_coded && length.is_some();
    head.keep_alive = (if http11 { !close } else { keep_alive && !close }) && head.framing != Framing::Close && !ambiguous;
    Ok(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(bytes: &[u8]) -> Result<(Head, Option<SecretBytes>, bool), WireError> {
        let mut input: &[u8] = bytes;
        let mut reader = Reader::new(&mut input);
        let head = reader.read_head()?;
        let body = reader.read_body(head.framing)?;
        let leftover = reader.has_leftover();
        Ok((head, body, leftover))
    }

    #[test]
    fn content_length_chunked_and_close_delimited_bodies() {
        let (head, body, leftover) = answer(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: application/json\r\n\r\nhello").unwrap();
        assert_eq!((head.status, head.framing, head.keep_alive, leftover), (200, Framing::Length(5), true, false));
        assert_eq!(body.unwrap().expose(), b"hello");
        assert_eq!(head.content_type.as_deref(), Some("application/json"));

        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nhell\r\n1\r\no\r\n0\r\nX-Trailer: y\r\n\r\n";
        let (head, body, leftover) = answer(chunked).unwrap();
        assert_eq!((head.framing, head.keep_alive, leftover), (Framing::Chunked, true, false));
        assert_eq!(body.unwrap().expose(), b"hello");

        let (head, body, _) = answer(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end").unwrap();
        assert_eq!((head.framing, head.keep_alive), (Framing::Close, false));
        assert_eq!(body.unwrap().expose(), b"until the end");

        let both = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n";
        let (head, body, _) = answer(both).unwrap();
        assert_eq!((head.framing, head.keep_alive), (Framing::Chunked, false));
        assert_eq!(body.unwrap().expose(), b"ok");

        let (head, _, _) = answer(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").unwrap();
        assert!(!head.keep_alive);
        let (head, _, _) = answer(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").unwrap();
        assert!(!head.keep_alive);
    }

    #[test]
    fn interim_answers_are_skipped_and_101_refused() {
        let bytes = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>; rel=preload\r\n\r\nHTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        let (head, body, _) = answer(bytes).unwrap();
        assert_eq!(head.status, 200);
        assert_eq!(body.unwrap().expose(), b"ok");
        assert!(matches!(answer(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n"), Err(WireError::Switching)));
        let many = b"HTTP/1.1 100 Continue\r\n\r\n".repeat(MAX_INTERIM + 1);
        assert!(matches!(answer(&many), Err(WireError::Malformed(_))));
    }

    #[test]
    fn heads_and_bodies_are_capped() {
        let mut huge = b"HTTP/1.1 200 OK\r\n".to_vec();
        while huge.len() <= MAX_HEAD_BYTES {
            huge.extend_from_slice(b"X-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
        }
        assert!(matches!(answer(&huge), Err(WireError::Malformed(_))));
        // 16 KiB of heads spread over interim answers counts as one.
        let mut interim = Vec::new();
        for _ in 0..MAX_INTERIM {
            interim.extend_from_slice(b"HTTP/1.1 103 Early Hints\r\n");
            interim.extend_from_slice(&b"Link: </aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa>\r\n".repeat(40));
            interim.extend_from_slice(b"\r\n");
        }
        interim.extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        assert!(interim.len() > MAX_HEAD_BYTES);
        assert!(matches!(answer(&interim), Err(WireError::Malformed(_))));

        let big = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", MAX_BODY_BYTES + 1);
        assert!(answer(big.as_bytes()).unwrap().1.is_none());
        let chunk = format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n", MAX_BODY_BYTES + 1);
        assert!(answer(chunk.as_bytes()).unwrap().1.is_none());
        let mut streamed = b"HTTP/1.1 200 OK\r\n\r\n".to_vec();
        streamed.resize(streamed.len() + MAX_BODY_BYTES + 1, b'x');
        assert!(answer(&streamed).unwrap().1.is_none());
    }

    #[test]
    fn broken_answers_are_errors_not_panics() {
        for bad in [
            &b"\x16\x03\x01\x02\x00"[..],
            b"SSH-2.0-OpenSSH_9.2\r\n",
            b"HTTP/1.1 999999999999 Bad\r\n\r\n",
            b"\0\0\0\0",
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
            b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
        ] {
            assert!(answer(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        // Cut short of its length: the connection closed mid-answer.
        match answer(b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nabc") {
            Err(WireError::Io { error, answered }) => assert!(error.kind() == io::ErrorKind::UnexpectedEof && answered),
            other => panic!("{other:?}"),
        }
        match answer(b"") {
            Err(WireError::Io { answered, .. }) => assert!(!answered),
            other => panic!("{other:?}"),
        }
    }
}
