//! The command-line tool never panics on its arguments and never repeats one it did not expect
//! (issue 11 item 7): a non-UTF-8 argument, a stray positional argument, an unknown option or
//! a malformed value gives exit status 2 and a message that names the argument's position,
//! not its text. And `--client-secret-stdin` works end to end.

mod support;

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::ffi::OsStringExt;
use std::process::{Command, Output, Stdio};

use support::Emulator;

const SECRETISH: &str = "MY-SUPER-SECRET-123";

fn hctoken(args: &[OsString]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hctoken"))
        .args(args)
        .env_remove("HCTOKEN_CLIENT_SECRET")
        .stdin(Stdio::null())
        .output()
        .expect("run hctoken")
}

fn os(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

/// Exit status 2, the position named, and neither the value nor any part of it on stderr or
/// stdout.
fn assert_refused(args: Vec<OsString>, position: &str) {
    let output = hctoken(&args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(2), "{args:?}: exit status {:?}, stderr:\n{stderr}", output.status);
    assert!(stderr.contains(&format!("argument #{position}")), "{args:?}: the position is not named:\n{stderr}");
    for part in [SECRETISH, "SUPER-SECRET", "SECRET-123"] {
        assert!(!stderr.contains(part) && !stdout.contains(part), "{args:?}: the value is repeated:\n{stderr}");
    }
    assert!(!stderr.contains("panicked"), "{args:?}: a panic:\n{stderr}");
}

fn not_utf8() -> OsString {
    OsString::from_vec([SECRETISH.as_bytes(), b"\xff\xfe"].concat())
}

#[test]
fn a_non_utf8_argument_gives_exit_2_and_its_position_only() {
    assert_refused(vec![not_utf8()], "1");
    assert_refused(vec!["token".into(), "--client-id".into(), not_utf8()], "3");
    assert_refused(vec!["token".into(), "--profile".into(), "generic".into(), not_utf8()], "4");
    assert_refused(vec!["serve".into(), not_utf8()], "2");
    assert_refused(vec!["token".into(), OsString::from_vec(b"--client-id=\xffMY-SUPER-SECRET-123".to_vec())], "2");
}

#[test]
fn a_stray_argument_gives_exit_2_and_its_position_only() {
    assert_refused(os(&["token", "--profile", "generic", SECRETISH]), "4");
    assert_refused(os(&["token", SECRETISH]), "2");
    assert_refused(os(&["serve", "--port", "0", SECRETISH]), "4");
}

#[test]
fn an_unknown_option_gives_exit_2_and_its_position_only() {
    assert_refused(os(&["token", "--profile", "generic", &format!("--{SECRETISH}")]), "4");
    assert_refused(os(&["token", &format!("--client-secret={SECRETISH}")]), "2");
    assert_refused(os(&["serve", &format!("--{SECRETISH}=1")]), "2");
    // A flag given a value.
    assert_refused(os(&["token", &format!("--client-secret-stdin={SECRETISH}")]), "2");
}

#[test]
fn a_malformed_value_gives_exit_2_and_its_position_only() {
    assert_refused(os(&["token", "--profile", "generic", "--set", SECRETISH]), "5");
    assert_refused(os(&["serve", "--port", SECRETISH]), "3");
    assert_refused(os(&["serve", "--lifetime", "10", &format!("--latency-ms={SECRETISH}")]), "4");
}

#[test]
fn the_secret_on_stdin_gets_a_token() {
    let emulator = Emulator::start();
    let url = emulator.token_url("/oauth2/token");
    for line_end in ["\n", "\r\n", ""] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hctoken"))
            .args(["token", "--profile", "generic", "--token-url", &url, "--client-id", support::CLIENT_ID, "--client-secret-stdin"])
            .env_remove("HCTOKEN_CLIENT_SECRET")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(format!("{}{line_end}", support::CLIENT_SECRET).as_bytes()).unwrap();
        drop(stdin);
        let output = child.wait_with_output().unwrap();
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert!(output.status.success(), "{line_end:?}: {}", String::from_utf8_lossy(&output.stderr));
        assert_eq!(stdout.lines().count(), 1, "{stdout}");
        assert_eq!(stdout.trim_end().split('.').count(), 3, "not a JWT: {stdout}");
    }
}

#[test]
fn a_wrong_secret_on_stdin_is_not_repeated() {
    let emulator = Emulator::start();
    let url = emulator.token_url("/oauth2/token");
    let mut child = Command::new(env!("CARGO_BIN_EXE_hctoken"))
        .args(["token", "--profile", "generic", "--token-url", &url, "--client-id", support::CLIENT_ID, "--client-secret-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(format!("{SECRETISH}\n").as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("invalid_client"), "{stderr}");
    assert!(!stderr.contains(SECRETISH), "{stderr}");
    // A secret that is not UTF-8 is refused without being repeated.
    let mut child = Command::new(env!("CARGO_BIN_EXE_hctoken"))
        .args(["token", "--profile", "generic", "--token-url", &url, "--client-id", support::CLIENT_ID, "--client-secret-stdin"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&[SECRETISH.as_bytes(), b"\xff\n"].concat()).unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("not UTF-8") && !stderr.contains("SUPER-SECRET"), "{stderr}");
}
