//! The events a client sends to its logger (log.rs), from Rust: an early refresh that fails
//! while the valid token keeps being served is a warning; fetches start and end.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hctoken::{Client, GetOptions, LogLevel, Logger, ManualClock};
use support::{config, Emulator};

#[test]
fn a_failed_early_refresh_is_a_warning_and_the_valid_token_is_served() {
    let emulator = Emulator::start();
    let events: Arc<Mutex<Vec<(LogLevel, String)>>> = Arc::default();
    let mut settings = config(&emulator, "generic", "/oauth2/token", &[("refresh_skew_secs", "600"), ("timeout_ms", "2000")]);
    let sink = Arc::clone(&events);
    settings.set_logger(Some(Logger::new(move |level, message| sink.lock().unwrap().push((level, message.to_owned())))));
    let clock = ManualClock::new();
    let client = Client::with_manual_clock(&settings, clock.clone()).unwrap();
    let first = client.get(GetOptions::default()).unwrap();
    {
        let events = events.lock().unwrap();
        let levels: Vec<LogLevel> = events.iter().map(|(level, _)| *level).collect();
        assert_eq!(levels, [LogLevel::Debug, LogLevel::Info], "{events:?}");
        assert!(events[1].1.starts_with("fetch ended: HCT_OK in "), "{events:?}");
        assert!(events[1].1.contains("after 1 attempt;"), "{events:?}");
    }
    // The endpoint goes away; in the refresh window the refresh fails and the token is served.
    drop(emulator);
    clock.advance(Duration::from_secs(3100));
    let served = client.get(GetOptions::default()).unwrap();
    assert_eq!(served.as_str(), first.as_str());
    let events = events.lock().unwrap();
    let warning = events.iter().find(|(level, message)| *level == LogLevel::Warn && message.starts_with("early refresh failed"));
    assert!(warning.is_some(), "{events:?}");
    assert!(warning.unwrap().1.contains("still served"), "{events:?}");
    assert!(events.iter().any(|(level, message)| *level == LogLevel::Error && message.starts_with("fetch ended: HCT_ERR_")), "{events:?}");
    for (_, message) in events.iter() {
        assert!(!message.contains(support::CLIENT_SECRET) && !message.contains(first.as_str()), "{message}");
    }
    assert_eq!(client.stats().early_refresh_failures, 1);
}
