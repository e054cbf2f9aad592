//! Exit statuses: what went wrong, for a script to branch on (documented in `hctoken help` and
//! docs/cli.md).

use hctoken::ErrorKind;

/// A failure with its message (already free of secrets) and the exit status it gives.
pub enum Failure {
    /// 2: the command line is wrong (unknown option, missing value, a number out of range).
    Usage(String),
    /// 3: the configuration is wrong or incomplete (unknown profile or key, a malformed
    /// token URL, no client secret in the environment).
    Config(String),
    /// 4: the token endpoint could not be reached or answered too late: connection, DNS,
    /// time-out, TLS.
    Network(String),
    /// 5: the server refused: an OAuth error answer or another HTTP 4xx.
    Refused(String),
    /// 1: anything else (a 5xx, an answer that is not a token, the emulator cannot listen).
    Other(String),
}

impl Failure {
    pub fn code(&self) -> u8 {
        match self {
            Failure::Other(_) => 1,
            Failure::Usage(_) => 2,
            Failure::Config(_) => 3,
            Failure::Network(_) => 4,
            Failure::Refused(_) => 5,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            Failure::Usage(m) | Failure::Config(m) | Failure::Network(m) | Failure::Refused(m) | Failure::Other(m) => m,
        }
    }

    /// The class of a library error.
    pub fn from_library(error: &hctoken::Error) -> Failure {
        let message = error.to_string();
        match error.kind() {
            ErrorKind::InvalidArgument | ErrorKind::Config => Failure::Config(message),
            ErrorKind::Network | ErrorKind::Timeout | ErrorKind::Tls => Failure::Network(message),
            ErrorKind::OAuth if error.http_status().is_some_and(|s| s >= 500) => Failure::Other(message),
            ErrorKind::OAuth => Failure::Refused(message),
            ErrorKind::Http if error.http_status().is_some_and(|s| (400..500).contains(&s)) => Failure::Refused(message),
            _ => Failure::Other(message),
        }
    }
}

/// Argument errors from args.rs are usage errors.
impl From<String> for Failure {
    fn from(message: String) -> Failure {
        Failure::Usage(message)
    }
}
