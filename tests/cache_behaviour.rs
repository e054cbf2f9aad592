//! The token cache against `hctoken serve`, counted at the server: a rejected secret is not
//! re-sent on every call (negative caching), a 401 for one revoked token costs one fetch however
//! many threads saw it, and a forked child neither waits on a fetch of its parent nor fetches a
//! token it already has.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use hctoken::{Client, ErrorKind};
use support::{config, Emulator};

const PATH: &str = "/oauth2/token";

fn client(emulator: &Emulator, extra: &[(&str, &str)]) -> Client {
    Client::new(&config(emulator, "generic", PATH, extra)).unwrap()
}

/// Calls the emulator's protected resource with `token`; returns the HTTP status.
fn call_api(emulator: &Emulator, token: &str) -> u16 {
    match ureq::get(&format!("{}/api/resource", emulator.url)).set("Authorization", &format!("Bearer {token}")).call() {
        Ok(response) => response.status(),
        Err(ureq::Error::Status(status, _)) => status,
        Err(other) => panic!("the API call failed: {other}"),
    }
}

#[test]
fn a_rejected_secret_is_not_resent_on_every_call() {
    let emulator = Emulator::start();
    let client = client(&emulator, &[("client_secret", "wrong-secret")]);
    let (calls, cached_answers) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let first_lines = Mutex::new(std::collections::BTreeSet::new());
    let started = Instant::now();
    thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                while started.elapsed() < Duration::from_secs(2) {
                    let error = client.token().expect_err("the secret is wrong");
                    assert_eq!(error.kind(), ErrorKind::OAuth, "{error}");
                    assert!(!error.message().contains("wrong-secret"));
                    let mut lines = error.message().lines();
                    first_lines.lock().unwrap().insert(lines.next().unwrap().to_owned());
                    if lines.any(|line| line.starts_with("cached: next attempt in ") && line.ends_with(" s")) {
                        cached_answers.fetch_add(1, Ordering::Relaxed);
                    }
                    calls.fetch_add(1, Ordering::Relaxed);
                    thread::sleep(Duration::from_millis(1));
                }
            });
        }
    });
    let requests = emulator.token_requests();
    let (calls, cached_answers) = (calls.into_inner(), cached_answers.into_inner());
    println!("8 threads for 2 s with a wrong secret: {calls} calls, {cached_answers} answered from the negative cache, {requests} token requests");
    assert!((1..=3).contains(&requests), "{requests} token requests");
    assert!(cached_answers > 0 && cached_answers < calls);
    // Every answer, cached or not, has the same first line, which bindings parse.
    let first_lines = first_lines.into_inner().unwrap();
    assert_eq!(first_lines.len(), 1, "{first_lines:?}");
    assert!(first_lines.iter().next().unwrap().starts_with("token endpoint refused the request: invalid_client"), "{first_lines:?}");
}

#[test]
fn a_rejected_secret_is_tried_again_after_invalidate() {
    let emulator = Emulator::start();
    let client = client(&emulator, &[("client_secret", "wrong-secret")]);
    client.token().unwrap_err();
    client.token().unwrap_err();
    assert_eq!(emulator.token_requests(), 1);
    client.invalidate();
    client.token().unwrap_err();
    assert_eq!(emulator.token_requests(), 2);
}

#[test]
fn sixteen_threads_that_saw_a_401_for_one_revoked_token_cause_one_token_request() {
    for round in 0..3 {
        let emulator = Emulator::start();
        let client = client(&emulator, &[]);
        let revoked = client.token().unwrap().as_str().to_owned();
        assert_eq!(call_api(&emulator, &revoked), 200);
        ureq::post(&format!("{}/_hctoken/revoke", emulator.url)).call().expect("revoke");
        emulator.reset();
        let barrier = Barrier::new(16);
        let new_tokens = Mutex::new(std::collections::BTreeSet::new());
        thread::scope(|scope| {
            for _ in 0..16 {
                scope.spawn(|| {
                    let token = client.token().unwrap();
                    assert_eq!(token.as_str(), revoked);
                    assert_eq!(call_api(&emulator, token.as_str()), 401);
                    barrier.wait();
                    client.invalidate_if(token.as_str());
                    let fresh = client.token().unwrap();
                    assert_eq!(call_api(&emulator, fresh.as_str()), 200);
                    new_tokens.lock().unwrap().insert(fresh.as_str().to_owned());
                });
            }
        });
        let requests = emulator.token_requests();
        println!("round {round}: 16 threads saw a 401, {requests} token request(s) followed");
        assert_eq!(requests, 1);
        assert_eq!(new_tokens.into_inner().unwrap().len(), 1);
    }
}

/// Waits for a forked child to exit, killing it after `limit`; its exit code, or None if it hung.
fn wait_for_child(pid: libc::pid_t, limit: Duration) -> Option<i32> {
    let started = Instant::now();
    loop {
        let mut status = 0;
        // SAFETY: waiting for our own child, with a valid status pointer.
        let waited = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        assert!(waited >= 0, "waitpid failed");
        if waited == pid {
            return libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
        }
        if started.elapsed() > limit {
            // SAFETY: our own child.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, &mut status, 0);
            }
            return None;
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// Forks; the child runs `child` (async: no printing, no unwinding out of it) and exits with its
/// code. Returns the child's pid in the parent.
fn fork_child(child: impl FnOnce() -> i32) -> libc::pid_t {
    // SAFETY: the child only calls into hctoken and then _exit; it never returns into the test
    // harness. glibc's fork keeps malloc usable in the child.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(child)).unwrap_or(101);
        // SAFETY: ends the child at once, without running the parent's exit handlers.
        unsafe { libc::_exit(code) };
    }
    pid
}

#[test]
fn a_child_forked_while_another_thread_fetches_gets_its_own_token_within_its_timeout() {
    let emulator = Emulator::start_with(&["--latency-ms", "1000"]);
    let timeout = Duration::from_millis(4000);
    let client = client(&emulator, &[("timeout_ms", "4000")]);
    thread::scope(|scope| {
        let fetcher = scope.spawn(|| client.token().map(|t| t.as_str().to_owned()));
        let waiting = Instant::now();
        while emulator.token_requests() == 0 {
            assert!(waiting.elapsed() < Duration::from_secs(10), "the parent's fetch never reached the server");
            thread::sleep(Duration::from_millis(5));
        }
        let pid = fork_child(|| {
            let started = Instant::now();
            match client.token() {
                Ok(_) if started.elapsed() <= timeout + timeout / 10 => 0,
                Ok(_) => 3,
                Err(error) if error.kind() == ErrorKind::Timeout => 4,
                Err(_) => 5,
            }
        });
        let code = wait_for_child(pid, timeout * 3);
        assert_eq!(code, Some(0), "the child hung (None), was late (3) or failed (4: timeout, 5: other)");
        fetcher.join().unwrap().expect("the parent's fetch is unaffected");
    });
    // The parent's fetch and the child's own.
    assert_eq!(emulator.token_requests(), 2);
}

#[test]
fn a_forked_child_keeps_the_cached_token() {
    let emulator = Emulator::start();
    let client = client(&emulator, &[]);
    let token = client.token().unwrap().as_str().to_owned();
    emulator.reset();
    let pids: Vec<_> = (0..3)
        .map(|_| fork_child(|| if client.token().is_ok_and(|t| t.as_str() == token) { 0 } else { 1 }))
        .collect();
    for pid in pids {
        assert_eq!(wait_for_child(pid, Duration::from_secs(20)), Some(0));
    }
    assert_eq!(emulator.token_requests(), 0, "the children fetched a token they had");
    assert_eq!(client.token().unwrap().as_str(), token);
}

#[test]
fn forked_siblings_move_their_refresh_later_and_still_refresh_in_time() {
    let emulator = Emulator::start();
    let clock = hctoken::ManualClock::new();
    let client = Client::with_manual_clock(&config(&emulator, "generic", PATH, &[]), clock.clone()).unwrap();
    let token = client.token().unwrap().as_str().to_owned();
    emulator.reset();
    // Exit codes: 0 = at the parent's refresh instant the child kept the token, and half-way
    // through the window it had refreshed; 1 = it refreshed at once; 2 = it never refreshed.
    // One child at a time: they share the parent's kept-alive connection, and until the
    // transport leaves it to the parent after a fork (issue 10, item 3) simultaneous children
    // would interleave their requests on it.
    let codes: Vec<_> = (0..8)
        .map(|_| {
            let pid = fork_child(|| {
                // The emulator's tokens live 3600 s; refresh_skew is 60 s: the window is 3540..3600.
                clock.advance(Duration::from_secs(3540));
                let at_refresh_instant = client.token().map(|t| t.as_str() == token);
                clock.advance(Duration::from_secs(30));
                let half_way = client.token().map(|t| t.as_str() == token);
                match (at_refresh_instant, half_way) {
                    (Ok(true), Ok(false)) => 0,
                    (Ok(false), _) => 1,
                    _ => 2,
                }
            });
            wait_for_child(pid, Duration::from_secs(20))
        })
        .collect();
    println!("forked siblings at the parent's refresh instant: {codes:?} (0 = moved later)");
    assert!(codes.iter().all(|c| matches!(c, Some(0) | Some(1))), "{codes:?}");
    assert!(codes.iter().filter(|c| **c == Some(0)).count() >= 7, "{codes:?}");
    // Each child refreshed once, by itself.
    assert_eq!(emulator.token_requests(), 8);
    // The parent, which cached the token, keeps its own refresh instant.
    clock.advance(Duration::from_secs(3540));
    assert_ne!(client.token().unwrap().as_str(), token);
}
