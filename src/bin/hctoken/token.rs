//! `hctoken token`: one token on standard output, for shell scripts and batch jobs.

use std::fs::File;
use std::io::{Read, Write};
use std::mem::ManuallyDrop;
use std::net::{TcpStream, ToSocketAddrs};
use std::os::fd::FromRawFd;
use std::time::Duration;

use zeroize::Zeroizing;

use super::args::Args;
use super::exit::Failure;

pub const USAGE: &str = "\
usage: hctoken token --profile P [--token-url URL] [--environment E] [--domain D]
                     --client-id ID [--scope S] [--set key=value]...
                     [--client-secret-env NAME | --client-secret-stdin]

Prints one access token on standard output. The client secret is read from
$HCTOKEN_CLIENT_SECRET, from the variable --client-secret-env NAME names, or from the
first line of standard input with --client-secret-stdin; never from the command line,
where `ps` and shell history would show it (--client-secret is refused).

  --profile P       change-healthcare-v2, change-healthcare-v1, optum-v3, nikohealth, generic
  --token-url URL   the token endpoint (generic profile; overrides a profile's own)
  --environment E   a profile's environment (e.g. sandbox, production)
  --domain D        a profile's tenant domain, where it has one
  --client-id ID    the client id
  --scope S         the scope to ask for
  --set key=value   any other configuration key (see the README's list)

";

const KNOWN: &[&str] = &["profile", "token-url", "environment", "domain", "client-id", "scope", "client-secret-env", "set"];

/// The longest secret `--client-secret-stdin` reads; the line is read into a buffer of this
/// size made once, so it never moves (a growing buffer would leave unwiped copies behind).
const MAX_SECRET: usize = 4096;

pub fn run(raw: &[String]) -> Result<(), Failure> {
    refuse_secret_on_command_line(raw)?;
    let args = Args::parse(raw, &["client-secret-stdin"], KNOWN)?;
    let mut config = hctoken::Config::new();
    let mut set = |key: &str, value: &str| config.set(key, value).map_err(|e| Failure::from_library(&e));
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
            return Err(Failure::Usage(format!(
                "--set client_secret (argument #{position}) is refused: a secret on the command line shows in `ps` and \
                 shell history; set $HCTOKEN_CLIENT_SECRET or use --client-secret-stdin"
            )));
        }
        set(key, value)?;
    }
    if args.flag("client-secret-stdin") {
        let line = read_secret_line().map_err(Failure::Config)?;
        let secret = std::str::from_utf8(&line)
            .map_err(|_| Failure::Config("the secret on standard input is not UTF-8 text".to_owned()))?;
        set("client_secret", secret)?;
    } else {
        let variable = args.value("client-secret-env").unwrap_or("HCTOKEN_CLIENT_SECRET");
        let secret = Zeroizing::new(
            std::env::var(variable)
                .map_err(|_| Failure::Config(format!("set the client secret in ${variable} (or use --client-secret-stdin)")))?,
        );
        set("client_secret", &secret)?;
    }
    let client = hctoken::Client::new(&config).map_err(|e| Failure::from_library(&e))?;
    let token = match client.token() {
        Ok(token) => token,
        Err(error) => {
            let mut failure = Failure::from_library(&error);
            let proxied = args.values("set").any(|(pair, _)| pair.starts_with("proxy="));
            if let (Failure::Network(message), Some(url), false) = (&mut failure, args.value("token-url"), proxied) {
                if handshake_met_no_tls(&error) && speaks_plain_http(url) {
                    message.push_str(
                        "\nhint: this port answers plain HTTP, not TLS: the server does not speak TLS there. \
                         Use an http:// URL for it (loopback only), or the server's TLS port.",
                    );
                }
            }
            return Err(failure);
        }
    };
    print_wiped(token.as_str()).map_err(Failure::Other)
}

/// `--client-secret X` and `--client-secret=X` are refused before anything else is parsed,
/// with a message that names the position only.
fn refuse_secret_on_command_line(raw: &[String]) -> Result<(), Failure> {
    for (index, arg) in raw.iter().enumerate() {
        if arg == "--client-secret" || arg.starts_with("--client-secret=") {
            return Err(Failure::Usage(format!(
                "--client-secret (argument #{}) is refused: a secret on the command line shows in `ps` and shell \
                 history; set $HCTOKEN_CLIENT_SECRET (or name another variable with --client-secret-env NAME), \
                 or use --client-secret-stdin",
                index + 2
            )));
        }
    }
    Ok(())
}

/// Whether the TLS handshake failed the way it fails against a port that does not speak TLS:
/// the answer to the hello was not a TLS record (rustls: "received corrupt message of type
/// InvalidContentType"), or no answer came before the time-out. A certificate or version
/// failure is not that: a TLS server such as nginx answers a plain request on its TLS port with
/// an HTTP 400 too, so probing after those would give a false hint. The library's words are
/// all the CLI has (the library exposes no finer kind); a library-side fix would name this
/// case itself (see the report of issue 12's CLI work).
fn handshake_met_no_tls(error: &hctoken::Error) -> bool {
    let message = error.message();
    match error.kind() {
        hctoken::ErrorKind::Tls => message.contains("InvalidContentType") || message.contains("corrupt message"),
        hctoken::ErrorKind::Timeout => message.contains("TLS handshake"),
        _ => false,
    }
}

/// After a TLS handshake that met no TLS (above) against an https URL: does that
/// host and port answer a plain HTTP request? One short connection, a `HEAD /` with no
/// credentials, bounded by 2 s in all; the answer only decides whether to add a hint.
fn speaks_plain_http(token_url: &str) -> bool {
    let Ok(url) = url::Url::parse(token_url) else { return false };
    if url.scheme() != "https" {
        return false;
    }
    let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else { return false };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let Some(address) = (host, port).to_socket_addrs().ok().and_then(|mut addresses| addresses.next()) else {
        return false;
    };
    let bound = Duration::from_secs(1);
    let Ok(mut stream) = TcpStream::connect_timeout(&address, bound) else { return false };
    let _ = stream.set_read_timeout(Some(bound));
    let _ = stream.set_write_timeout(Some(bound));
    let request = format!("HEAD / HTTP/1.0\r\nHost: {}\r\n\r\n", url.authority());
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut answer = [0u8; 5];
    stream.read_exact(&mut answer).is_ok() && &answer == b"HTTP/"
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
