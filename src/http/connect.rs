//! Connections whose every read and write is bounded by the call's deadline.
//!
//! `Timed` wraps the TCP socket: before each read it sets SO_RCVTIMEO, before each write
//! SO_SNDTIMEO, to the time left, and fails with `TimedOut` once none is left. rustls' stream
//! sits on top of it, so the TLS handshake, which reads many times, is bounded as a whole, not
//! per read. Connecting takes at most `connect_timeout_ms`, and never more than is left.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;

use crate::deadline::Deadline;

/// A TCP stream bounded by a deadline that the owner moves forward for each call.
pub struct Timed {
    pub tcp: TcpStream,
    pub deadline: Instant,
}

impl Timed {
    fn left(&self) -> io::Result<Duration> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "deadline"));
        }
        Ok(left)
    }
}

/// A timeout surfaces as EAGAIN (WouldBlock) from a socket with SO_RCVTIMEO: one kind for both.
fn timed_out(e: io::Error) -> io::Error {
    if e.kind() == io::ErrorKind::WouldBlock {
        io::Error::new(io::ErrorKind::TimedOut, "deadline")
    } else {
        e
    }
}

impl Read for Timed {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.left()?;
        self.tcp.set_read_timeout(Some(left))?;
        self.tcp.read(buf).map_err(timed_out)
    }
}

impl Write for Timed {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let left = self.left()?;
        self.tcp.set_write_timeout(Some(left))?;
        self.tcp.write(buf).map_err(timed_out)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// One connection to the token endpoint: plain (loopback only) or TLS.
pub enum Conn {
    Plain(Timed),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, Timed>>),
}

impl Conn {
    pub fn set_deadline(&mut self, deadline: Deadline) {
        self.timed().deadline = deadline.instant();
    }

    fn timed(&mut self) -> &mut Timed {
        match self {
            Conn::Plain(timed) => timed,
            Conn::Tls(stream) => &mut stream.sock,
        }
    }

    pub fn tcp(&self) -> &TcpStream {
        match self {
            Conn::Plain(timed) => &timed.tcp,
            Conn::Tls(stream) => &stream.sock.tcp,
        }
    }

    /// Whether a kept-alive connection still looks usable: nothing to read yet, not closed.
    /// A one-off non-blocking peek with MSG_DONTWAIT, which leaves the socket's own flags
    /// (shared by every descriptor of it) alone.
    pub fn looks_alive(&self) -> bool {
        #[cfg(unix)]
        {
            use std::os::fd::AsRawFd;
            let mut byte = 0u8;
            // SAFETY: a one-byte buffer we own; the fd is open for as long as `self` is.
            let n = unsafe {
                libc::recv(self.tcp().as_raw_fd(), (&mut byte as *mut u8).cast(), 1, libc::MSG_PEEK | libc::MSG_DONTWAIT)
            };
            if n < 0 {
                let err = io::Error::last_os_error();
                return err.kind() == io::ErrorKind::WouldBlock;
            }
            // 0: the server closed it; > 0: bytes nobody asked for (a stray or late answer).
            false
        }
        #[cfg(not(unix))]
        true
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(timed) => timed.read(buf),
            Conn::Tls(stream) => stream.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(timed) => timed.write(buf),
            Conn::Tls(stream) => stream.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Plain(timed) => timed.flush(),
            Conn::Tls(stream) => stream.flush(),
        }
    }
}

/// Connects to the first of `addrs` that answers, each try bounded by what is left of the
/// connect budget (`connect_timeout`, never past the deadline).
pub fn tcp(addrs: &[SocketAddr], connect_timeout: Duration, deadline: Deadline) -> io::Result<TcpStream> {
    let connect_by = Deadline::after(connect_timeout).min(deadline);
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
    for addr in addrs {
        let left = connect_by.remaining();
        if left.is_zero() {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "deadline"));
        }
        match TcpStream::connect_timeout(addr, left) {
            Ok(tcp) => {
                // A token request is one small write: send it at once.
                let _ = tcp.set_nodelay(true);
                return Ok(tcp);
            }
            Err(e) => last = timed_out(e),
        }
    }
    Err(last)
}

/// Runs the TLS handshake on `tcp` (a direct connection or a proxy tunnel), bounded by the
/// deadline like every other read and write.
pub fn tls(
    tcp: TcpStream,
    config: &Arc<rustls::ClientConfig>,
    name: ServerName<'static>,
    deadline: Deadline,
) -> io::Result<Conn> {
    let connection = rustls::ClientConnection::new(Arc::clone(config), name)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    let mut stream = rustls::StreamOwned::new(connection, Timed { tcp, deadline: deadline.instant() });
    while stream.conn.is_handshaking() {
        if stream.conn.complete_io(&mut stream.sock)? == (0, 0) {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "closed in the handshake"));
        }
    }
    Ok(Conn::Tls(Box::new(stream)))
}

pub fn plain(tcp: TcpStream, deadline: Deadline) -> Conn {
    Conn::Plain(Timed { tcp, deadline: deadline.instant() })
}
