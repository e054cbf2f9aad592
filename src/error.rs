//! One error type for the whole library: a kind (which becomes the C status code) and a message a
//! person can act on. Messages are built from fixed text, configuration keys, URLs and server
//! text; secrets and tokens are never formatted into them, and server text (which may echo
//! them) is quoted only through the client's redactor (redact.rs), which also makes a last pass
//! over every message about a fetch.

use std::fmt;

/// What went wrong, coarse enough to act on in code. Each kind maps to one `hct_status`.
/// New kinds may be added in a minor version (as statuses are appended in C).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A NULL pointer, text that is not UTF-8, or a value of the wrong shape from the caller.
    InvalidArgument,
    /// The configuration is incomplete, inconsistent, or names an unknown key or value.
    Config,
    /// The token endpoint could not be reached (DNS, connection refused or reset).
    Network,
    /// Connecting or the whole request took longer than the configured timeout.
    Timeout,
    /// The TLS handshake failed (untrusted certificate, wrong host name, old protocol).
    Tls,
    /// The endpoint answered with an HTTP error status and no OAuth error body.
    Http,
    /// The endpoint refused the request with an OAuth error (RFC 6749 section 5.2).
    OAuth,
    /// A success status whose body is not a usable token response.
    Response,
    /// The caller's buffer cannot hold the token and its NUL.
    BufferTooSmall,
    /// A bug in hctoken (a caught panic, a broken invariant).
    Internal,
    /// A cached-only get found no valid token in the cache (nothing was fetched).
    NoToken,
}

impl ErrorKind {
    /// A short lower-case name, for messages and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidArgument => "invalid argument",
            ErrorKind::Config => "configuration error",
            ErrorKind::Network => "network error",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Tls => "TLS error",
            ErrorKind::Http => "HTTP error",
            ErrorKind::OAuth => "OAuth error",
            ErrorKind::Response => "bad token response",
            ErrorKind::BufferTooSmall => "buffer too small",
            ErrorKind::Internal => "internal error",
            ErrorKind::NoToken => "no cached token",
        }
    }
}

/// An error with its kind and a human-readable message.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    oauth: Option<OAuthDetails>,
    /// The token endpoint's HTTP status, when the error is about an answer it gave.
    http_status: Option<u16>,
}

/// The `error` and `error_description` fields of an OAuth error body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthDetails {
    pub error: String,
    pub description: Option<String>,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error { kind, message: message.into(), oauth: None, http_status: None }
    }

    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArgument, message)
    }

    pub fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config, message)
    }

    pub fn response(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Response, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    /// An OAuth error body. The first line of the message has the fixed form
    /// `token endpoint refused the request: <error>[: <description>]`, which bindings parse; a
    /// hint of ours, when there is one, goes on a second line starting `hint: `.
    pub fn oauth(details: OAuthDetails, hint: Option<&str>) -> Self {
        let mut message = format!("token endpoint refused the request: {}", details.error);
        if let Some(description) = &details.description {
            message.push_str(": ");
            message.push_str(description);
        }
        if let Some(hint) = hint {
            message.push_str("\nhint: ");
            message.push_str(hint);
        }
        Error { kind: ErrorKind::OAuth, message, oauth: Some(details), http_status: None }
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// Records the HTTP status of the answer this error is about.
    pub fn with_http_status(mut self, status: u16) -> Self {
        self.http_status = Some(status);
        self
    }

    /// The HTTP status of the answer this error is about, if it is about one.
    pub fn http_status(&self) -> Option<u16> {
        self.http_status
    }

    /// The same error with another message (the kind, OAuth fields and status are kept).
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }

    /// Whether asking again soon would get the same answer: the server refused this client
    /// (an OAuth error, or a 4xx other than 408 Request Timeout and 429 Too Many Requests), or
    /// its certificate or TLS setup does not pass. Such failures are remembered for a while
    /// (negative caching) instead of being re-sent on every call.
    pub fn is_definite_refusal(&self) -> bool {
        match self.kind {
            ErrorKind::OAuth | ErrorKind::Tls => true,
            ErrorKind::Http => self.http_status.is_some_and(|s| (400..500).contains(&s) && s != 408 && s != 429),
            _ => false,
        }
    }

    /// The server's OAuth error fields, for `ErrorKind::OAuth`.
    pub fn oauth_details(&self) -> Option<&OAuthDetails> {
        self.oauth.as_ref()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error").field("kind", &self.kind).field("message", &self.message).finish()
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;
