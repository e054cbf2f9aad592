//! `hctoken`: get a token from a shell script, or run the local token server.

mod args;
mod serve;
mod token;

use std::process::ExitCode;

const USAGE: &str = "\
hctoken: OAuth 2.0 client-credentials tokens for healthcare APIs

usage:
  hctoken token --profile P [--token-url URL] [--environment E] [--domain D]
                --client-id ID [--set key=value]...
      Prints an access token. The secret is read from $HCTOKEN_CLIENT_SECRET
      (or --client-secret-env NAME names another variable, or --client-secret-stdin
      reads the first line of standard input), so it never shows in `ps`.
  hctoken serve [--port N] [--client-id ID] [--client-secret S] [--lifetime SECS]
                [--latency-ms MS] [--watch-stdin]
      Runs a local emulator of every profile's token endpoint on 127.0.0.1 and
      prints its base URL on the first line of standard output. See docs/emulator.md.
  hctoken version
";

fn main() -> ExitCode {
    // args_os: std::env::args panics on an argument that is not UTF-8, and the panic message
    // would repeat it.
    let args = match args::from_os(std::env::args_os().skip(1)) {
        Ok(args) => args,
        Err(message) => return fail(&message),
    };
    let (command, rest) = match args.split_first() {
        Some((command, rest)) => (Some(command.as_str()), rest),
        None => (None, &[][..]),
    };
    let result = match command {
        Some("token") => token::run(rest),
        Some("serve") => serve::run(rest),
        Some("version" | "--version" | "-V") => {
            println!("hctoken {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Some("help" | "--help" | "-h") => {
            print!("{USAGE}");
            Ok(())
        }
        _ => Err(format!("expected a command (argument #1)\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(&message),
    }
}

/// Exit status 2, with a message that never holds an argument's text (args.rs).
fn fail(message: &str) -> ExitCode {
    eprintln!("hctoken: {message}");
    ExitCode::from(2)
}
