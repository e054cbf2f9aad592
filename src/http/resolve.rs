//! Host names to addresses, within the call's deadline.
//!
//! A literal IP address is used as it is. A name is looked up with the system resolver
//! (`getaddrinfo` through `std::net::ToSocketAddrs`, so /etc/hosts, nsswitch and resolv.conf
//! apply) on a short-lived thread, and the caller waits for it at most until the deadline. The
//! resolver cannot be cancelled: a lookup that outlasts the deadline is abandoned, and its
//! thread ends when the resolver gives up (as libcurl's threaded resolver does). One lookup per
//! client runs at a time: a fetch that finds one under way waits for it rather than starting
//! another, so a name server that never answers costs one thread per client, not one per fetch.
//!
//! Its locks are held for moments only, and taken with the call's deadline: one inherited locked
//! across fork ends the lookup as timed out instead of hanging the child.
//!
//! The addresses of the last lookup that succeeded are kept per client and used when a lookup
//! times out or fails (a name server that is down for a moment should not stop a client that
//! knew where its endpoint was); TLS still checks the certificate against the name.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;

use parking_lot::{Condvar, Mutex};

use crate::deadline::Deadline;

/// Why no address came back.
#[derive(Debug, PartialEq, Eq)]
pub enum Failure {
    /// The resolver did not answer before the deadline.
    TimedOut,
    /// The resolver answered that the name has no address, or could not be asked.
    NotFound,
}

/// A lookup on its thread: `None` until it answers.
type Pending = Arc<(Mutex<Option<Option<Vec<SocketAddr>>>>, Condvar)>;

#[derive(Default)]
pub struct Resolver {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// host, port and the addresses last found for them.
    last_good: Option<(String, u16, Vec<SocketAddr>)>,
    /// The lookup under way, with the fork generation it was started in (its thread does not
    /// exist in a forked child).
    pending: Option<(String, u16, u64, Pending)>,
}

impl Resolver {
    pub fn resolve(&self, host: &str, port: u16, deadline: Deadline) -> Result<Vec<SocketAddr>, Failure> {
        if let Ok(ip) = host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        let pending = self.pending_lookup(host, port, deadline).ok_or(Failure::TimedOut)?;
        let answer = {
            let (slot, ready) = &*pending;
            let mut answer = slot.try_lock_until(deadline.instant()).ok_or(Failure::TimedOut)?;
            while answer.is_none() {
                if ready.wait_until(&mut answer, deadline.instant()).timed_out() {
                    break;
                }
            }
            answer.clone()
        };
        let mut state = self.state.try_lock_until(deadline.instant()).ok_or(Failure::TimedOut)?;
        if answer.is_some() {
            // Done: the next fetch starts a new lookup.
            if state.pending.as_ref().is_some_and(|(.., p)| Arc::ptr_eq(p, &pending)) {
                state.pending = None;
            }
        }
        match answer {
            Some(Some(addrs)) if !addrs.is_empty() => {
                state.last_good = Some((host.to_owned(), port, addrs.clone()));
                Ok(addrs)
            }
            other => {
                let failure = if other.is_none() { Failure::TimedOut } else { Failure::NotFound };
                match &state.last_good {
                    Some((h, p, addrs)) if h == host && *p == port => Ok(addrs.clone()),
                    _ => Err(failure),
                }
            }
        }
    }

    /// The lookup for `host:port` under way, or a new one.
    fn pending_lookup(&self, host: &str, port: u16, deadline: Deadline) -> Option<Pending> {
        let generation = crate::fork::generation();
        let mut state = self.state.try_lock_until(deadline.instant())?;
        if let Some((h, p, g, pending)) = &state.pending {
            if h == host && *p == port && *g == generation {
                return Some(Arc::clone(pending));
            }
        }
        let pending: Pending = Arc::default();
        let for_thread = Arc::clone(&pending);
        let name = (host.to_owned(), port);
        let started = std::thread::Builder::new()
            .name("hctoken-dns".into())
            // getaddrinfo and its NSS modules need some stack, not the default 2 MiB.
            .stack_size(256 * 1024)
            .spawn(move || {
                let found = name.to_socket_addrs().ok().map(Iterator::collect::<Vec<_>>);
                let (slot, ready) = &*for_thread;
                *slot.lock() = Some(found);
                ready.notify_all();
            });
        if started.is_err() {
            // No thread to be had: an answer of "could not ask".
            *pending.0.lock() = Some(None);
        } else {
            state.pending = Some((host.to_owned(), port, generation, Arc::clone(&pending)));
        }
        Some(pending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn literal_addresses_need_no_lookup() {
        let resolver = Resolver::default();
        let deadline = Deadline::after(Duration::from_secs(1));
        assert_eq!(resolver.resolve("127.0.0.1", 80, deadline).unwrap(), vec!["127.0.0.1:80".parse().unwrap()]);
        assert_eq!(resolver.resolve("[::1]", 443, deadline).unwrap(), vec!["[::1]:443".parse().unwrap()]);
        assert!(resolver.state.lock().pending.is_none());
    }

    #[test]
    fn a_lock_left_locked_by_a_fork_times_the_lookup_out() {
        let resolver = Resolver::default();
        let held = resolver.state.lock();
        let started = std::time::Instant::now();
        // 1 s, so that the 10 % margin (100 ms) covers a late wake-up on a loaded machine.
        let answer = resolver.resolve("localhost", 80, Deadline::after(Duration::from_millis(1000)));
        assert_eq!(answer, Err(Failure::TimedOut));
        assert!(started.elapsed() <= Duration::from_millis(1100), "{:?}", started.elapsed());
        drop(held);
    }

    #[test]
    fn localhost_resolves_and_is_remembered() {
        let resolver = Resolver::default();
        let addrs = resolver.resolve("localhost", 8080, Deadline::after(Duration::from_secs(5))).unwrap();
        assert!(addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 8080), "{addrs:?}");
        assert!(resolver.state.lock().last_good.is_some());
        // With no time left, the remembered addresses answer.
        let again = resolver.resolve("localhost", 8080, Deadline::after(Duration::ZERO)).unwrap();
        assert_eq!(again, addrs);
    }
}
