//! `hctoken token`: one token on standard output, for shell scripts and batch jobs.

use std::fs::File;
use std::io::{Read, Write};
use std::mem::ManuallyDrop;
use std::os::fd::FromRawFd;

use zeroize::Zeroizing;

use super::args::Args;

const KNOWN: &[&str] = &["profile", "token-url", "environment", "domain", "client-id", "scope", "client-secret-env", "set"];

/// The longest secret `--client-secret-stdin` reads; the line is read into a buffer of this
/// size made once, so it never moves (a growing buffer would leave unwiped copies behind).
const MAX_SECRET: usize = 4096;

pub fn run(raw: &[String]) -> Result<(), String> {
    let args = Args::parse(raw, &["client-secret-stdin"], KNOWN)?;
    let mut config = hctoken::Config::new();
    let mut set = |key: &str, value: &str| config.set(key, value).map_err(|e| e.to_string());
    for (option, key) in [
        ("profile", "profile"),
        ("token-url", "token_url"),
        ("environment", "environment"),
        ("domain", "domain"),
        ("client-id", "client_id"),
        ("scope", "scope"),
    ] {
        if let Some(value) = args.value(option) {
            set(key, value)?;
        }
    }
    for (pair, position) in args.values("set") {
        let (key, value) = pair.split_once('=').ok_or_else(|| format!("--set takes key=value (argument #{position})"))?;
        if key == "client_secret" {
            return Err("pass the secret through the environment or stdin, not --set (it would show in `ps`)".into());
        }
        set(key, value)?;
    }
    if args.flag("client-secret-stdin") {
        let line = read_secret_line()?;
        let secret = std::str::from_utf8(&line).map_err(|_| "the secret on standard input is not UTF-8 text".to_owned())?;
        set("client_secret", secret)?;
    } else {
        let variable = args.value("client-secret-env").unwrap_or("HCTOKEN_CLIENT_SECRET");
        let secret = Zeroizing::new(
            std::env::var(variable).map_err(|_| format!("set the client secret in ${variable} (or use --client-secret-stdin)"))?,
        );
        set("client_secret", &secret)?;
    }
    let client = hctoken::Client::new(&config).map_err(|e| e.to_string())?;
    let token = client.token().map_err(|e| e.to_string())?;
    print_wiped(token.as_str())
}

/// The first line of standard input without its line ending, in memory that is wiped when
/// dropped. Read a byte at a time straight from file descriptor 0: std's buffered stdin would
/// keep a copy of the secret in its buffer for the life of the process.
fn read_secret_line() -> Result<Zeroizing<Vec<u8>>, String> {
    // SAFETY: fd 0 is open for the life of the process; ManuallyDrop keeps it open after us.
    let mut stdin = ManuallyDrop::new(unsafe { File::from_raw_fd(0) });
    let mut line = Zeroizing::new(Vec::with_capacity(MAX_SECRET));
    let mut byte = Zeroizing::new([0u8; 1]);
    loop {
        match stdin.read(&mut byte[..]) {
            Ok(0) => break,
            Ok(_) if byte[0] == b'\n' => break,
            Ok(_) if line.len() == MAX_SECRET => {
                return Err(format!("the secret on standard input is longer than {MAX_SECRET} bytes"));
            }
            Ok(_) => line.push(byte[0]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("reading the secret from standard input: {e}")),
        }
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(line)
}

/// Writes `token` and a newline straight to file descriptor 1, from a wiped buffer: std's
/// stdout buffer would keep the token after it was printed.
fn print_wiped(token: &str) -> Result<(), String> {
    let mut out = Zeroizing::new(Vec::with_capacity(token.len() + 1));
    out.extend_from_slice(token.as_bytes());
    out.push(b'\n');
    // SAFETY: fd 1 is open for the life of the process; ManuallyDrop keeps it open after us.
    let mut stdout = ManuallyDrop::new(unsafe { File::from_raw_fd(1) });
    stdout.write_all(&out).map_err(|e| format!("writing the token to standard output: {e}"))
}
