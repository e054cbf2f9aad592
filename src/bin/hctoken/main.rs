//! `hctoken`: get a token from a shell script, or run the local token server.

mod args;
mod exit;
mod http;
mod serve;
mod token;

use std::process::ExitCode;

use exit::Failure;

pub const EXIT_STATUSES: &str = "\
exit status:
  0  success
  1  other failure (a server error 5xx, an answer that is not a token, cannot listen)
  2  usage: the command line is wrong (unknown option, missing value, bad number)
  3  configuration: unknown profile or key, malformed URL, no client secret given
  4  network: cannot connect, DNS, time-out, TLS (also: https to a plain-http port)
  5  refused by the server: an OAuth error (e.g. invalid_client) or another HTTP 4xx
";

const USAGE: &str = "\
hctoken: OAuth 2.0 client-credentials tokens for healthcare APIs

usage:
  hctoken token --profile P [--token-url URL] [--environment E] [--domain D]
                --client-id ID [--scope S] [--set key=value]...
      Prints an access token. The secret is read from $HCTOKEN_CLIENT_SECRET
      (or --client-secret-env NAME names another variable, or --client-secret-stdin
      reads the first line of standard input), so it never shows in `ps`.
  hctoken serve [--port N] [--client-id ID] [--client-secret S] [--lifetime SECS]
                [--latency-ms MS] [--watch-stdin] [--verbose]
      Runs a local emulator of every profile's token endpoint on 127.0.0.1 and
      prints its base URL on the first line of standard output. See docs/emulator.md.
  hctoken version
  hctoken help | hctoken COMMAND --help

";

fn main() -> ExitCode {
    // args_os: std::env::args panics on an argument that is not UTF-8, and the panic message
    // would repeat it.
    let args = match args::from_os(std::env::args_os().skip(1)) {
        Ok(args) => args,
        Err(message) => return fail(&Failure::Usage(message)),
    };
    let (command, rest) = match args.split_first() {
        Some((command, rest)) => (Some(command.as_str()), rest),
        None => (None, &[][..]),
    };
    let result = match command {
        Some("token") if args::wants_help(rest) => help(token::USAGE),
        Some("serve") if args::wants_help(rest) => help(serve::USAGE),
        Some("token") => token::run(rest),
        Some("serve") => serve::run(rest),
        Some("version" | "--version" | "-V") => {
            println!("hctoken {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Some("help" | "--help" | "-h") => help(USAGE),
        _ => Err(Failure::Usage(format!("expected a command (argument #1)\n\n{USAGE}{EXIT_STATUSES}"))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => fail(&failure),
    }
}

fn help(usage: &str) -> Result<(), Failure> {
    print!("{usage}{EXIT_STATUSES}");
    Ok(())
}

/// The failure's exit status, with its message on stderr. Messages never hold an argument's
/// text (args.rs) nor a secret.
fn fail(failure: &Failure) -> ExitCode {
    eprintln!("hctoken: {}", failure.message());
    ExitCode::from(failure.code())
}
