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
    let mut args = std::env::args().skip(1);
    let command = args.next();
    let rest: Vec<String> = args.collect();
    let result = match command.as_deref() {
        Some("token") => token::run(&rest),
        Some("serve") => serve::run(&rest),
        Some("version" | "--version" | "-V") => {
            println!("hctoken {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Some("help" | "--help" | "-h") => {
            print!("{USAGE}");
            Ok(())
        }
        _ => Err(format!("expected a command\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("hctoken: {message}");
            ExitCode::from(2)
        }
    }
}
