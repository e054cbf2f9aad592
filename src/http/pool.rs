//! The kept-alive connection of a client.
//!
//! A connection is reused for fetches that come close together, but not after it sat idle for
//! `POOL_IDLE_LIMIT`: firewalls and load balancers drop idle connections without telling either
//! end, and a request sent into such a connection would hang until the timeout. One the server
//! closed is noticed before reuse (a non-blocking peek), and a request that still meets a closed
//! kept-alive connection is sent again on a new one (exchange.rs).
//!
//! Fork: the pool records the fork generation (fork.rs) its connection was made in. A child
//! that inherited it drops it without writing a byte (no TLS close_notify, no shutdown: the
//! descriptor is closed, and the socket stays open for the parent, which owns it) and connects
//! anew. The slot's lock is only ever held for a moment, but a fork at that moment leaves it
//! locked for good in the child: so it is taken with a time limit, and a child that finds it
//! stuck simply does without the pool (a new connection per fetch) instead of hanging.

use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::connect::Conn;

/// Connections idle for longer are closed rather than reused (see the module comment). Below
/// the common idle timeouts of servers and middleboxes (60 s and up), above the gap between
/// fetches that come in a burst.
pub const POOL_IDLE_LIMIT: Duration = Duration::from_secs(30);

/// The longest the pool's lock is waited for: it is held for nanoseconds, so only a lock
/// inherited locked across fork takes this long.
const LOCK_LIMIT: Duration = Duration::from_millis(50);

pub struct Pool {
    idle_limit: Duration,
    slot: Mutex<Option<Idle>>,
}

struct Idle {
    conn: Conn,
    since: Instant,
    generation: u64,
}

impl Pool {
    pub fn new(idle_limit: Duration) -> Pool {
        Pool { idle_limit, slot: Mutex::new(None) }
    }

    /// The kept-alive connection, if it is fresh enough, of this process, and still open.
    pub fn take(&self) -> Option<Conn> {
        let idle = self.slot.try_lock_for(LOCK_LIMIT)?.take()?;
        if idle.generation != crate::fork::generation() {
            // Inherited across fork: the parent's. Close our descriptor only.
            drop(idle);
            return None;
        }
        if idle.since.elapsed() > self.idle_limit || !idle.conn.looks_alive() {
            return None;
        }
        Some(idle.conn)
    }

    /// Keeps `conn` for the next fetch.
    pub fn put(&self, conn: Conn) {
        let idle = Idle { conn, since: Instant::now(), generation: crate::fork::generation() };
        // A connection it replaces (two fetches at once, which single flight makes rare) closes.
        if let Some(mut slot) = self.slot.try_lock_for(LOCK_LIMIT) {
            drop(slot.replace(idle));
        }
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.slot.lock().is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deadline::Deadline;
    use std::net::{TcpListener, TcpStream};

    fn pair() -> (Conn, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        (super::super::connect::plain(client, Deadline::after(Duration::from_secs(5))), server)
    }

    #[test]
    fn a_connection_is_reused_within_the_idle_limit() {
        let pool = Pool::new(Duration::from_secs(30));
        let (conn, _server) = pair();
        pool.put(conn);
        assert!(pool.take().is_some());
        assert!(pool.is_empty());
    }

    #[test]
    fn a_connection_idle_past_the_limit_is_not_reused() {
        let pool = Pool::new(Duration::from_millis(20));
        let (conn, _server) = pair();
        pool.put(conn);
        std::thread::sleep(Duration::from_millis(40));
        assert!(pool.take().is_none());
    }

    #[test]
    fn a_connection_the_server_closed_is_not_reused() {
        let pool = Pool::new(Duration::from_secs(30));
        let (conn, server) = pair();
        pool.put(conn);
        drop(server);
        // The FIN arrives at once over loopback; allow it a moment on a loaded machine.
        let start = Instant::now();
        loop {
            if !pool.slot.lock().as_ref().unwrap().conn.looks_alive() {
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(5), "the close was never seen");
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(pool.take().is_none());
    }

    #[test]
    fn a_lock_left_locked_by_a_fork_costs_the_pool_not_a_hang() {
        let pool = Pool::new(Duration::from_secs(30));
        let (conn, _server) = pair();
        let held = pool.slot.lock();
        // As in a child forked while another thread held the lock: nobody will release it.
        pool.put(conn);
        assert!(pool.take().is_none());
        drop(held);
        assert!(pool.is_empty());
    }

    #[test]
    fn a_connection_from_before_a_fork_is_dropped() {
        crate::fork::install();
        let pool = Pool::new(Duration::from_secs(30));
        let (conn, mut server) = pair();
        pool.put(conn);
        crate::fork::simulate_fork();
        assert!(pool.take().is_none());
        // Dropped without a byte written: the server reads the end of the stream, nothing else.
        let _ = server.set_read_timeout(Some(Duration::from_secs(5)));
        let mut buf = [0u8; 16];
        assert_eq!(std::io::Read::read(&mut server, &mut buf).unwrap(), 0);
    }
}
