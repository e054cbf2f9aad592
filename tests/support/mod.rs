//! Test support shared by the integration tests: the local token server, started on a free
//! loopback port and stopped when dropped.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};

pub const CLIENT_ID: &str = "test-client";
pub const CLIENT_SECRET: &str = "test-secret";

/// `hctoken serve` as a child process. It exits when dropped (killed, and its stdin closes).
pub struct Emulator {
    child: Child,
    _lifeline: ChildStdin,
    pub url: String,
}

impl Emulator {
    pub fn start() -> Emulator {
        Emulator::start_with(&[])
    }

    pub fn start_with(extra: &[&str]) -> Emulator {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hctoken"))
            .args(["serve", "--port", "0", "--watch-stdin"])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start hctoken serve");
        let lifeline = child.stdin.take().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect("read the server's address");
        assert!(line.starts_with("http://127.0.0.1:"), "unexpected first line {line:?}");
        Emulator { child, _lifeline: lifeline, url: line.trim().to_owned() }
    }

    pub fn token_url(&self, path: &str) -> String {
        format!("{}{}", self.url, path)
    }

    /// Token requests the server has seen, on every token path.
    pub fn token_requests(&self) -> u64 {
        let body = ureq::get(&format!("{}/_hctoken/stats", self.url)).call().expect("stats").into_string().unwrap();
        let stats: serde_json::Value = serde_json::from_str(&body).expect("stats JSON");
        stats["token_requests"].as_u64().unwrap()
    }

    pub fn reset(&self) {
        ureq::post(&format!("{}/_hctoken/reset", self.url)).call().expect("reset");
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The token path and config pairs for each profile against the emulator.
pub fn profile_paths() -> [(&'static str, &'static str); 5] {
    [
        ("change-healthcare-v2", "/apip/auth/v2/token"),
        ("change-healthcare-v1", "/apip/auth/v1/token"),
        ("optum-v3", "/auth/sntl/v1/token"),
        ("nikohealth", "/api/identity/connect/token"),
        ("generic", "/oauth2/token"),
    ]
}

pub fn config(emulator: &Emulator, profile: &str, path: &str, extra: &[(&str, &str)]) -> hctoken::Config {
    let mut config = hctoken::Config::new();
    config.set("profile", profile).unwrap();
    config.set("token_url", &emulator.token_url(path)).unwrap();
    config.set("client_id", CLIENT_ID).unwrap();
    config.set("client_secret", CLIENT_SECRET).unwrap();
    for (key, value) in extra {
        config.set(key, value).unwrap();
    }
    config
}
