//! `hctoken token`: one token on standard output, for shell scripts and batch jobs.

use std::io::BufRead;

use super::args::Args;

const KNOWN: &[&str] = &["profile", "token-url", "environment", "domain", "client-id", "scope", "client-secret-env", "set"];

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
    for pair in args.values("set") {
        let (key, value) = pair.split_once('=').ok_or_else(|| format!("--set takes key=value, not '{pair}'"))?;
        if key == "client_secret" {
            return Err("pass the secret through the environment or stdin, not --set (it would show in `ps`)".into());
        }
        set(key, value)?;
    }
    let secret = if args.flag("client-secret-stdin") {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map_err(|e| format!("reading the secret from stdin: {e}"))?;
        zeroize::Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_owned())
    } else {
        let variable = args.value("client-secret-env").unwrap_or("HCTOKEN_CLIENT_SECRET");
        zeroize::Zeroizing::new(
            std::env::var(variable).map_err(|_| format!("set the client secret in ${variable} (or use --client-secret-stdin)"))?,
        )
    };
    set("client_secret", &secret)?;
    let client = hctoken::Client::new(&config).map_err(|e| e.to_string())?;
    let token = client.token().map_err(|e| e.to_string())?;
    println!("{}", token.as_str());
    Ok(())
}
