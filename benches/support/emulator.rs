//! `hctoken serve` (docs/emulator.md) as a child process, for the benchmarks that want the
//! project's own emulator or a server outside the measured process.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};

pub struct Emulator {
    pub base_url: String,
    child: Child,
    // Held open: the server exits when its stdin closes (--watch-stdin), even if we crash.
    _stdin: ChildStdin,
}

impl Emulator {
    pub fn start(extra_args: &[&str]) -> Emulator {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hctoken"))
            .arg("serve")
            .arg("--watch-stdin")
            .args(extra_args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start hctoken serve");
        let stdin = child.stdin.take().unwrap();
        let mut first_line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut first_line).expect("read the base URL");
        let base_url = first_line.trim().to_owned();
        assert!(base_url.starts_with("http://127.0.0.1:"), "unexpected first line {base_url:?}");
        Emulator { base_url, child, _stdin: stdin }
    }

    /// The generic profile's token endpoint.
    pub fn token_url(&self) -> String {
        format!("{}/oauth2/token", self.base_url)
    }

    /// Token requests the emulator has received since the last reset.
    pub fn token_requests(&self) -> u64 {
        let stats: serde_json::Value = serde_json::from_str(
            &ureq::get(&format!("{}/_hctoken/stats", self.base_url)).call().unwrap().into_string().unwrap(),
        )
        .unwrap();
        stats["token_requests"].as_u64().unwrap()
    }

    pub fn reset(&self) {
        ureq::post(&format!("{}/_hctoken/reset", self.base_url)).call().unwrap();
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
