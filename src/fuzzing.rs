//! Entry points for the fuzz targets in fuzz/ (not part of the supported API: hidden from the
//! documentation, and may change at any time).

use std::time::Duration;

use crate::error::Result;
use crate::profile::{AuthMethod, Profile};
use crate::redact::Redactor;
use crate::response::{self, Expectations, HttpAnswer};

pub use crate::redact::{MARK, MIN_SECRET_LEN};
pub use crate::response::JwtTimes;

/// The profiles, for a target to pick one from a byte.
pub const PROFILES: [Profile; 5] =
    [Profile::Generic, Profile::ChangeHealthcareV1, Profile::ChangeHealthcareV2, Profile::OptumV3, Profile::NikoHealth];

/// Parses an answer as a client with `client_id` and `client_secret` would, message redaction
/// included (the parser's own and the client's last pass over the message). Returns the token
/// and its lifetime.
pub fn parse_answer(
    status: u16,
    content_type: Option<&str>,
    location: Option<&str>,
    body: &[u8],
    profile: Profile,
    client_id: &str,
    client_secret: &str,
) -> Result<(String, Duration)> {
    let redactor = Redactor::new(client_id, client_secret);
    let expect = Expectations {
        profile,
        auth_method: AuthMethod::Post,
        default_lifetime: Duration::from_secs(300),
        basic_encoding_changes_credentials: false,
    };
    response::parse(&HttpAnswer { status, content_type, location, body }, expect, &redactor)
        .map(|issued| (issued.access_token.expose().to_owned(), issued.lifetime))
        .map_err(|error| {
            let clean = redactor.message(error.message(), crate::client::MAX_MESSAGE_BYTES);
            error.with_message(clean)
        })
}

/// The JWT reader.
pub fn jwt_times(token: &str) -> Option<JwtTimes> {
    response::jwt_times(token)
}

/// The JWT reader's `exp` only.
pub fn jwt_expiry(token: &str) -> Option<u64> {
    response::jwt_expiry(token)
}

/// The bracket-depth scan run before JSON parsing.
pub fn json_too_deep(bytes: &[u8], max: usize) -> bool {
    response::json_too_deep(bytes, max)
}

/// The redactor's quoting of server text.
pub fn quote(client_id: &str, client_secret: &str, text: &str, max_bytes: usize) -> String {
    Redactor::new(client_id, client_secret).quote(text, max_bytes, None)
}
