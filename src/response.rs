//! Reading the token endpoint's answer: a token and its lifetime (RFC 6749 section 5.1, with
//! the vendors' variations), or an error (section 5.2). Pure: tested without a network.
//!
//! Every piece of server text quoted in a message (error, error_description, token_type,
//! Content-Type, Location) goes through the client's [`Redactor`], extended with the access
//! token of the answer when it carries one, whatever the HTTP status.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::error::{Error, ErrorKind, OAuthDetails, Result};
use crate::profile::{AuthMethod, Profile};
use crate::redact::Redactor;
use crate::secret::Secret;

/// The largest response body read; a token response is a few KB even with a large JWT.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Longer lifetimes are cut to this, so a bogus `expires_in` cannot pin a token for years.
pub const MAX_LIFETIME: Duration = Duration::from_secs(86_400);
/// JSON nested deeper than this is refused before it is parsed: a token response is a flat
/// object, and every level costs the parser stack (a host thread may have little).
pub const MAX_JSON_DEPTH: usize = 16;

/// Quoted server text, at most (bytes; together at most `redact::MAX_QUOTED_TOTAL` per message).
const QUOTE_ERROR: usize = 100;
const QUOTE_DESCRIPTION: usize = 300;
const QUOTE_CONTENT_TYPE: usize = 100;
const QUOTE_LOCATION: usize = 200;
const QUOTE_TOKEN_TYPE: usize = 40;
const _: () = assert!(QUOTE_ERROR + QUOTE_DESCRIPTION <= crate::redact::MAX_QUOTED_TOTAL);

/// An HTTP answer from the token endpoint, as the transport read it.
pub struct HttpAnswer<'a> {
    pub status: u16,
    pub content_type: Option<&'a str>,
    pub location: Option<&'a str>,
    pub body: &'a [u8],
}

/// Where the lifetime came from, for tests and diagnostics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LifetimeSource {
    /// `expires_in` (shorter than the JWT's own lifetime, when the token is a JWT).
    ExpiresIn,
    /// The JWT's `exp - iat`: the issuer's own clock on both sides, no host clock involved.
    JwtIssuedAt,
    /// The JWT's `exp` minus this host's wall clock (no `iat`, no `expires_in`).
    JwtExp,
    /// No lifetime given: `default_lifetime_ms`.
    Default,
    /// The JWT's `exp` (without `iat` or `expires_in`) is already past by this host's clock,
    /// which is more likely ahead than the fresh token dead: `default_lifetime_ms`.
    DefaultHostClockAhead,
}

/// A token as issued, before it is placed in the cache.
#[derive(Debug)]
pub struct IssuedToken {
    pub access_token: Secret,
    pub lifetime: Duration,
    #[cfg_attr(not(test), allow(dead_code))]
    pub lifetime_source: LifetimeSource,
    /// The granted `scope` as the server sent it ("" when it sent none, or not a string).
    pub scope: String,
    /// `token_type` as the server sent it, e.g. "bearer" ("" when it sent none); always some
    /// spelling of bearer (other types are refused).
    pub token_type: String,
}

/// What the parser needs to know about the request it answers.
#[derive(Clone, Copy, Debug)]
pub struct Expectations {
    pub profile: Profile,
    pub auth_method: AuthMethod,
    pub default_lifetime: Duration,
    /// HTTP Basic with a client id or secret that form-encoding changes (RFC 6749 2.3.1 says to
    /// encode them; servers disagree on decoding them), for the hint on a refusal.
    pub basic_encoding_changes_credentials: bool,
}

/// Reads an answer. `redactor` holds the client's secrets: every server text quoted in an error
/// goes through it.
pub fn parse(answer: &HttpAnswer<'_>, expect: Expectations, redactor: &Redactor) -> Result<IssuedToken> {
    let success = (200..300).contains(&answer.status);
    if (300..400).contains(&answer.status) {
        let target = answer
            .location
            .map(|l| format!(" to {}", redactor.quote(l, QUOTE_LOCATION, None)))
            .unwrap_or_default();
        return Err(Error::new(
            ErrorKind::Http,
            format!(
                "token endpoint answered HTTP {} (a redirect{target}); token requests do not follow redirects, so set token_url to the final address",
                answer.status
            ),
        )
        .with_http_status(answer.status));
    }
    let too_deep = json_too_deep(answer.body, MAX_JSON_DEPTH);
    if too_deep && success {
        return Err(Error::response(format!(
            "token endpoint answered HTTP {} with JSON nested deeper than {MAX_JSON_DEPTH} levels; a token response is a flat object",
            answer.status
        )));
    }
    // A deep error body is not parsed either: the status says enough.
    let json = WipedJson(if too_deep { None } else { serde_json::from_slice::<Value>(answer.body).ok() });
    let json = &json.0;
    let object = json.as_ref().and_then(Value::as_object);
    // Whatever the answer says about itself, it may quote its own token: redact that too (built
    // only when a message is, not on the success path).
    let token_redactor = once_cell::unsync::OnceCell::new();
    let also = || token_redactor.get_or_init(|| object.and_then(|o| answer_token(o, expect.profile)).map(Redactor::for_token)).as_ref();

    if let Some(details) = object.and_then(|o| oauth_error(o, redactor, also)) {
        let hint = refusal_hint(expect, answer.status, Some(&details));
        return Err(Error::oauth(details, hint).with_http_status(answer.status));
    }
    if !success {
        let mut message = format!(
            "token endpoint answered HTTP {} {}",
            answer.status,
            reason_phrase(answer.status)
        );
        if let Some(content_type) = answer.content_type {
            message.push_str(&format!(" with a body of type {}", redactor.quote(content_type, QUOTE_CONTENT_TYPE, also())));
        }
        if let Some(hint) = refusal_hint(expect, answer.status, None) {
            message.push_str(&format!(" ({hint})"));
        }
        return Err(Error::new(ErrorKind::Http, message).with_http_status(answer.status));
    }
    let object = object.ok_or_else(|| {
        let what = if answer.body.is_empty() {
            "an empty body".to_owned()
        } else if json.is_some() {
            "JSON that is not an object".to_owned()
        } else {
            format!(
                "a body that is not JSON{}",
                answer
                    .content_type
                    .map(|c| format!(" ({})", redactor.quote(c, QUOTE_CONTENT_TYPE, also())))
                    .unwrap_or_default()
            )
        };
        Error::response(format!("token endpoint answered HTTP {} with {what}; expected a JSON token response", answer.status))
    })?;

    let access_token = token_field(object, expect.profile)?;
    check_token_type(object, redactor, also)?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let (lifetime, lifetime_source) = lifetime(object, access_token.expose(), expect.default_lifetime, now)?;
    Ok(IssuedToken {
        access_token,
        lifetime,
        lifetime_source,
        scope: text_field(object, "scope"),
        token_type: text_field(object, "token_type"),
    })
}

/// Whether JSON text nests arrays and objects deeper than `max`: a byte scan that skips
/// strings, run before the (recursive) parser.
pub fn json_too_deep(bytes: &[u8], max: usize) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// The parsed body holds the token: wipe every string in it when it is dropped.
struct WipedJson(Option<Value>);

impl Drop for WipedJson {
    fn drop(&mut self) {
        fn wipe(value: &mut Value) {
            match value {
                Value::String(text) => zeroize::Zeroize::zeroize(text),
                Value::Array(items) => items.iter_mut().for_each(wipe),
                Value::Object(map) => map.values_mut().for_each(wipe),
                _ => {}
            }
        }
        if let Some(value) = &mut self.0 {
            wipe(value);
        }
    }
}

/// The access token an answer carries, if any (to redact it from the messages about it).
fn answer_token(object: &Map<String, Value>, profile: Profile) -> Option<&str> {
    profile.token_fields().iter().find_map(|field| object.get(*field)?.as_str())
}

fn oauth_error<'r>(object: &Map<String, Value>, redactor: &Redactor, also: impl FnOnce() -> Option<&'r Redactor>) -> Option<OAuthDetails> {
    let error = object.get("error")?.as_str().filter(|e| !e.trim().is_empty())?;
    let description = object.get("error_description").and_then(Value::as_str);
    let also = also();
    Some(OAuthDetails {
        error: redactor.quote(error, QUOTE_ERROR, also),
        description: description.map(|d| redactor.quote(d, QUOTE_DESCRIPTION, also)),
    })
}

/// Advice for the two misconfigurations a refusal most often comes from, given only where the
/// answer points to them: a JSON body sent to a server that takes forms, and a Basic credential
/// whose form-encoding the server decodes differently.
fn refusal_hint(expect: Expectations, status: u16, oauth: Option<&OAuthDetails>) -> Option<&'static str> {
    if expect.auth_method == AuthMethod::Json && answer_points_to_the_body_format(status, oauth) {
        return Some(
            "the request was sent as a JSON body; if this server takes form-urlencoded bodies, use profile generic with auth_method basic or post, or the vendor's own profile",
        );
    }
    let refused_credentials = match oauth {
        Some(details) => details.error == "invalid_client",
        None => status == 401,
    };
    if expect.auth_method == AuthMethod::Basic && expect.basic_encoding_changes_credentials && refused_credentials {
        return Some(
            "the client id or secret has characters that HTTP Basic form-encodes first (RFC 6749 section 2.3.1) and servers disagree on decoding them; if the credentials are right, try auth_method post",
        );
    }
    None
}

/// Whether a refusal is about how the body was written (not about who sent it): 415, a bare
/// 400, or an OAuth `invalid_request` / `unsupported_grant_type`, or a description that talks
/// about the content type, the form or the grant_type it could not find.
fn answer_points_to_the_body_format(status: u16, oauth: Option<&OAuthDetails>) -> bool {
    let Some(details) = oauth else { return matches!(status, 400 | 415) };
    if status == 415 || matches!(details.error.as_str(), "invalid_request" | "unsupported_grant_type") {
        return true;
    }
    let description = details.description.as_deref().unwrap_or("").to_ascii_lowercase();
    ["content-type", "content type", "urlencoded", "grant_type", "json", "form"].iter().any(|w| description.contains(w))
}

fn token_field(object: &Map<String, Value>, profile: Profile) -> Result<Secret> {
    for field in profile.token_fields() {
        match object.get(*field) {
            None | Some(Value::Null) => continue,
            Some(Value::String(token)) => {
                // RFC 6750 b64token characters are visible ASCII; anything else would corrupt
                // the Authorization header.
                if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
                    return Err(Error::response(format!(
                        "the token endpoint's {field} is empty or has characters that cannot go into an Authorization header"
                    )));
                }
                return Ok(Secret::new(token.as_str()));
            }
            Some(_) => return Err(Error::response(format!("the token endpoint's {field} is not a string"))),
        }
    }
    Err(Error::response(format!(
        "the token response has no {} field (profile {}: pick the profile that matches this endpoint)",
        profile.token_fields().join(" or "),
        profile.name()
    )))
}

/// A string member as text a C caller can hold (NUL characters dropped); "" when absent or not
/// a string.
fn text_field(object: &Map<String, Value>, name: &str) -> String {
    match object.get(name) {
        Some(Value::String(text)) => text.chars().filter(|&c| c != '\0').collect(),
        _ => String::new(),
    }
}

fn check_token_type<'r>(object: &Map<String, Value>, redactor: &Redactor, also: impl FnOnce() -> Option<&'r Redactor>) -> Result<()> {
    match object.get("token_type") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(kind)) if kind.eq_ignore_ascii_case("bearer") => Ok(()),
        Some(Value::String(kind)) => Err(Error::response(format!(
            "token_type is '{}'; hctoken hands out bearer tokens only",
            redactor.quote(kind, QUOTE_TOKEN_TYPE, also())
        ))),
        Some(_) => Err(Error::response("token_type is not a string")),
    }
}

/// The token's lifetime, counted from when the request was sent:
/// * `expires_in` and a JWT lifetime: the smaller;
/// * a JWT with `iat` and `exp`: `exp - iat` (the issuer's clock on both sides, so skew-free);
/// * a JWT with `exp` only: `exp - now` by this host's wall clock, but a host clock ahead of the
///   issuer never refuses a fresh token: with `exp` already past, `default` is used;
/// * neither: `default`.
///
/// `expires_in` of 0 or less, or a JWT whose `exp` is not after its `iat`, is refused: the
/// server says the token is dead on arrival.
fn lifetime(object: &Map<String, Value>, token: &str, default: Duration, now_unix: u64) -> Result<(Duration, LifetimeSource)> {
    let expires_in = match object.get("expires_in").filter(|v| !v.is_null()) {
        None => None,
        Some(value) => {
            let seconds = match value {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s.trim().parse::<f64>().ok(),
                _ => None,
            };
            let seconds = seconds
                .filter(|s| s.is_finite())
                .ok_or_else(|| Error::response("expires_in is not a number of seconds".to_owned()))?;
            if seconds < 1.0 {
                return Err(Error::response(format!(
                    "expires_in is {seconds}: the token endpoint issued a token that is already expired"
                )));
            }
            Some(cap(Duration::from_secs_f64(seconds.min(MAX_LIFETIME.as_secs_f64()))))
        }
    };
    let jwt = match jwt_times(token) {
        None => None,
        Some(JwtTimes { exp, iat: Some(iat) }) => {
            if exp <= iat {
                return Err(Error::response(
                    "the token's JWT exp is not after its iat: the token endpoint issued a token that is already expired",
                ));
            }
            Some((cap(Duration::from_secs(exp - iat)), LifetimeSource::JwtIssuedAt))
        }
        Some(JwtTimes { exp, iat: None }) if exp > now_unix => Some((cap(Duration::from_secs(exp - now_unix)), LifetimeSource::JwtExp)),
        // Past by this host's clock: the clock is suspect, not the fresh token.
        Some(JwtTimes { iat: None, .. }) => Some((default, LifetimeSource::DefaultHostClockAhead)),
    };
    Ok(match (expires_in, jwt) {
        (Some(expires_in), Some((_, LifetimeSource::DefaultHostClockAhead))) => (expires_in, LifetimeSource::ExpiresIn),
        (Some(expires_in), Some((jwt, source))) if jwt < expires_in => (jwt, source),
        (Some(expires_in), _) => (expires_in, LifetimeSource::ExpiresIn),
        (None, Some(jwt)) => jwt,
        (None, None) => (default, LifetimeSource::Default),
    })
}

fn cap(lifetime: Duration) -> Duration {
    lifetime.min(MAX_LIFETIME)
}

/// The time claims of a JWT access token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JwtTimes {
    pub exp: u64,
    pub iat: Option<u64>,
}

/// The `exp` claim of a JWT access token, without verifying it: the token is the server's to
/// check; we only want to know when to stop using it.
pub fn jwt_expiry(token: &str) -> Option<u64> {
    jwt_times(token).map(|t| t.exp)
}

/// The `exp` and `iat` claims of a JWT access token (unverified, as `jwt_expiry`).
pub fn jwt_times(token: &str) -> Option<JwtTimes> {
    let mut parts = token.split('.');
    let (_header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || payload.len() > 16 * 1024 {
        return None;
    }
    let bytes = zeroize::Zeroizing::new(
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .ok()?,
    );
    if json_too_deep(&bytes, MAX_JSON_DEPTH) {
        return None;
    }
    let claims = WipedJson(serde_json::from_slice(&bytes).ok());
    let claims = claims.0.as_ref()?;
    let seconds = |name: &str| match claims.get(name)? {
        Value::Number(n) => n.as_u64().or_else(|| n.as_f64().filter(|f| *f >= 0.0 && f.is_finite()).map(|f| f as u64)),
        _ => None,
    };
    Some(JwtTimes { exp: seconds("exp")?, iat: seconds("iat") })
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found (check token_url)",
        405 => "Method Not Allowed",
        415 => "Unsupported Media Type",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GENERIC: Expectations = Expectations {
        profile: Profile::Generic,
        auth_method: AuthMethod::Basic,
        default_lifetime: Duration::from_secs(300),
        basic_encoding_changes_credentials: false,
    };

    fn ok(body: &str) -> Result<IssuedToken> {
        parse_with(200, body, GENERIC)
    }

    fn parse_with(status: u16, body: &str, expect: Expectations) -> Result<IssuedToken> {
        parse(&HttpAnswer { status, content_type: Some("application/json"), location: None, body: body.as_bytes() }, expect, &Redactor::empty())
    }

    fn jwt(claims: &str) -> String {
        let e = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!("{}.{}.sig", e(r#"{"alg":"none"}"#), e(claims))
    }

    fn now() -> u64 {
        SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
    }

    #[test]
    fn vendor_responses_as_documented() {
        let v2 = ok(r#"{"access_token":"eyJ.a.b","token_type":"bearer","expires_in":3600}"#).unwrap();
        assert_eq!(v2.access_token.expose(), "eyJ.a.b");
        assert_eq!(v2.lifetime, Duration::from_secs(3600));
        let optum = ok(r#"{"access_token":"xxxx","expires_in":7200,"refresh_expires_in":0,"token_type":"Bearer","not-before-policy":0,"scope":"broker-read-token idp openid email profile"}"#).unwrap();
        assert_eq!(optum.lifetime, Duration::from_secs(7200));
        let niko = ok(r#"{"access_token":"BE55CF","expires_in":1200,"token_type":"Bearer","scope":"external"}"#).unwrap();
        assert_eq!(niko.lifetime, Duration::from_secs(1200));
        let v1 = Expectations { profile: Profile::ChangeHealthcareV1, ..GENERIC };
        let legacy = parse_with(200, r#"{"accessToken":"legacy","token_type":"bearer","expires_in":3600}"#, v1).unwrap();
        assert_eq!(legacy.access_token.expose(), "legacy");
    }

    #[test]
    fn expires_in_may_be_a_numeric_string_or_a_float() {
        assert_eq!(ok(r#"{"access_token":"t","expires_in":"1200"}"#).unwrap().lifetime, Duration::from_secs(1200));
        assert_eq!(ok(r#"{"access_token":"t","expires_in":59.5}"#).unwrap().lifetime, Duration::from_secs_f64(59.5));
    }

    #[test]
    fn bad_expires_in_is_refused_and_huge_is_capped() {
        for bad in [r#""soon""#, "0", "-5", "true", r#""""#] {
            let err = ok(&format!(r#"{{"access_token":"t","expires_in":{bad}}}"#)).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Response, "{bad}");
        }
        let huge = ok(r#"{"access_token":"t","expires_in":1e300}"#).unwrap();
        assert_eq!(huge.lifetime, MAX_LIFETIME);
    }

    #[test]
    fn missing_expires_in_uses_the_jwt_exp_then_the_default() {
        let token = jwt(&format!(r#"{{"exp":{}}}"#, now() + 600));
        let issued = ok(&format!(r#"{{"access_token":"{token}"}}"#)).unwrap();
        assert_eq!(issued.lifetime_source, LifetimeSource::JwtExp);
        assert!(issued.lifetime <= Duration::from_secs(600) && issued.lifetime >= Duration::from_secs(590));
        let opaque = ok(r#"{"access_token":"opaque"}"#).unwrap();
        assert_eq!((opaque.lifetime, opaque.lifetime_source), (Duration::from_secs(300), LifetimeSource::Default));
    }

    fn lifetime_of(body: &str, now_unix: u64) -> Result<(Duration, LifetimeSource)> {
        let value: Value = serde_json::from_str(body).unwrap();
        let object = value.as_object().unwrap();
        let token = object.get("access_token").and_then(Value::as_str).unwrap_or("");
        lifetime(object, token, Duration::from_secs(300), now_unix)
    }

    const T0: u64 = 1_800_000_000;

    #[test]
    fn a_jwt_with_iat_and_exp_lives_exp_minus_iat_whatever_the_host_clock() {
        let token = jwt(&format!(r#"{{"iat":{T0},"exp":{}}}"#, T0 + 900));
        let body = format!(r#"{{"access_token":"{token}"}}"#);
        for host in [T0 - 86_400, T0, T0 + 300, T0 + 5_000, T0 + 86_400 * 30] {
            assert_eq!(lifetime_of(&body, host).unwrap(), (Duration::from_secs(900), LifetimeSource::JwtIssuedAt), "host {host}");
        }
        let dead = jwt(&format!(r#"{{"iat":{T0},"exp":{T0}}}"#));
        assert_eq!(lifetime_of(&format!(r#"{{"access_token":"{dead}"}}"#), T0).unwrap_err().kind(), ErrorKind::Response);
    }

    #[test]
    fn a_jwt_with_exp_only_counts_from_the_host_clock_but_a_clock_ahead_never_refuses() {
        let token = jwt(&format!(r#"{{"exp":{}}}"#, T0 + 600));
        let body = format!(r#"{{"access_token":"{token}"}}"#);
        assert_eq!(lifetime_of(&body, T0).unwrap(), (Duration::from_secs(600), LifetimeSource::JwtExp));
        // A host clock 10 minutes ahead (or more): the fresh token is taken, for the default.
        for host in [T0 + 600, T0 + 601, T0 + 86_400] {
            assert_eq!(lifetime_of(&body, host).unwrap(), (Duration::from_secs(300), LifetimeSource::DefaultHostClockAhead));
        }
        // With expires_in, the clock-ahead case uses it.
        let both = format!(r#"{{"access_token":"{token}","expires_in":120}}"#);
        assert_eq!(lifetime_of(&both, T0 + 700).unwrap(), (Duration::from_secs(120), LifetimeSource::ExpiresIn));
        // Through parse, an exp in the past by the real clock gives a token too.
        let expired = jwt(&format!(r#"{{"exp":{}}}"#, now() - 10));
        assert_eq!(ok(&format!(r#"{{"access_token":"{expired}"}}"#)).unwrap().lifetime_source, LifetimeSource::DefaultHostClockAhead);
    }

    #[test]
    fn with_expires_in_and_a_jwt_lifetime_the_smaller_wins() {
        // The Optum v3 page: the token says one hour, expires_in 7200.
        let hour = jwt(&format!(r#"{{"iat":{T0},"exp":{}}}"#, T0 + 3600));
        let body = format!(r#"{{"access_token":"{hour}","expires_in":7200}}"#);
        assert_eq!(lifetime_of(&body, T0).unwrap(), (Duration::from_secs(3600), LifetimeSource::JwtIssuedAt));
        let body = format!(r#"{{"access_token":"{hour}","expires_in":600}}"#);
        assert_eq!(lifetime_of(&body, T0).unwrap(), (Duration::from_secs(600), LifetimeSource::ExpiresIn));
        let exp_only = jwt(&format!(r#"{{"exp":{}}}"#, T0 + 100));
        let body = format!(r#"{{"access_token":"{exp_only}","expires_in":7200}}"#);
        assert_eq!(lifetime_of(&body, T0).unwrap(), (Duration::from_secs(100), LifetimeSource::JwtExp));
        // expires_in 0 or negative stays a refusal, whatever the JWT says.
        for bad in ["0", "-1", "0.5"] {
            let body = format!(r#"{{"access_token":"{hour}","expires_in":{bad}}}"#);
            assert_eq!(lifetime_of(&body, T0).unwrap_err().kind(), ErrorKind::Response, "{bad}");
        }
    }

    #[test]
    fn jwt_times_reads_iat_and_refuses_deep_claims() {
        assert_eq!(jwt_times(&jwt(r#"{"exp":10,"iat":4}"#)), Some(JwtTimes { exp: 10, iat: Some(4) }));
        assert_eq!(jwt_times(&jwt(r#"{"exp":10,"iat":"x"}"#)), Some(JwtTimes { exp: 10, iat: None }));
        let deep = format!(r#"{{"exp":10,"x":{}{}}}"#, "[".repeat(100), "]".repeat(100));
        assert_eq!(jwt_times(&jwt(&deep)), None);
    }

    #[test]
    fn deep_json_is_refused_before_parsing() {
        assert!(!json_too_deep(br#"{"a":[[1]],"b":"[[[[[[[[[[[[[[[[[[[[[[[["}"#, 3));
        assert!(json_too_deep(br#"{"a":[[[1]]]}"#, 3));
        assert!(!json_too_deep(br#"{"a":"\"[[[[[["}"#, 1));
        let deep = format!(r#"{{"access_token":"t","x":{}1{}}}"#, "[".repeat(127), "]".repeat(127));
        let err = ok(&deep).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Response);
        assert!(err.message().contains("nested deeper"), "{}", err.message());
        let flat = format!(r#"{{"access_token":"t","x":{}1{}}}"#, "[".repeat(15), "]".repeat(15));
        assert!(ok(&flat).is_ok());
        // An error status with a deep body is still named by its status.
        assert_eq!(parse_with(503, &deep, GENERIC).unwrap_err().kind(), ErrorKind::Http);
    }

    #[test]
    fn every_quoted_server_text_is_redacted_whatever_the_status() {
        const SECRET: &str = "p/ss~w&rd<é>+1 2";
        let redactor = Redactor::new("id", SECRET);
        let escaped = r#"p\/ss~w\u0026rd\u003c\u00e9\u003e+1 2"#;
        let answer = |status, content_type, location, body: &'static str| {
            let body = body.replace("ECHO", escaped);
            let content_type: Option<String> = content_type;
            let location: Option<String> = location;
            let result = parse(
                &HttpAnswer { status, content_type: content_type.as_deref(), location: location.as_deref(), body: body.as_bytes() },
                GENERIC,
                &redactor,
            );
            result.unwrap_err()
        };
        let errors = [
            answer(200, None, None, r#"{"error":"invalid_client ECHO","error_description":"bad ECHO"}"#),
            answer(401, None, None, r#"{"error":"invalid_client","error_description":"bad ECHO"}"#),
            answer(200, None, None, r#"{"access_token":"tok-123456789","token_type":"ECHO tok-123456789"}"#),
            answer(503, Some(format!("text/html; x={SECRET}")), None, "x"),
            answer(200, Some(format!("text/html; x={SECRET}")), None, "x"),
            answer(302, None, Some(format!("https://x.test/?s={}", escaped)), ""),
        ];
        for error in errors {
            let text = format!("{error} {error:?} {:?}", error.oauth_details());
            assert!(text.contains("<redacted>"), "{text}");
            assert!(!text.contains("ss~w") && !text.contains("w\\u0026") && !text.contains("u00e9") && !text.contains("tok-123456789"), "{text}");
        }
    }

    #[test]
    fn jwt_expiry_ignores_malformed_tokens() {
        assert_eq!(jwt_expiry("a.b"), None);
        assert_eq!(jwt_expiry("a.!!!.c"), None);
        assert_eq!(jwt_expiry(&jwt(r#"{"exp":"tomorrow"}"#)), None);
        assert_eq!(jwt_expiry(&jwt(r#"{"exp":1700000000}"#)), Some(1_700_000_000));
        assert_eq!(jwt_expiry("a.b.c.d"), None);
    }

    #[test]
    fn oauth_errors_carry_the_servers_code_and_description() {
        let err = parse_with(401, r#"{"error":"invalid_client","error_description":"bad secret"}"#, GENERIC).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::OAuth);
        assert_eq!(err.message(), "token endpoint refused the request: invalid_client: bad secret");
        assert_eq!(err.oauth_details().unwrap().error, "invalid_client");
        let bare = parse_with(400, r#"{"error":"invalid_scope"}"#, GENERIC).unwrap_err();
        assert_eq!(bare.message(), "token endpoint refused the request: invalid_scope");
    }

    #[test]
    fn the_json_body_hint_comes_only_when_the_answer_points_to_the_body() {
        let json = Expectations { profile: Profile::ChangeHealthcareV2, auth_method: AuthMethod::Json, ..GENERIC };
        for (status, body) in [(401, r#"{"error":"invalid_client"}"#), (401, ""), (400, r#"{"error":"invalid_scope"}"#)] {
            let err = parse_with(status, body, json).unwrap_err();
            assert!(!err.message().contains("JSON body"), "{status} {body}: {}", err.message());
        }
        let err = parse_with(400, r#"{"error":"invalid_client","error_description":"unsupported content-type"}"#, json).unwrap_err();
        assert!(err.message().contains("JSON body"), "{}", err.message());
    }

    #[test]
    fn a_basic_credential_that_form_encoding_changes_gets_the_post_hint_on_a_refusal() {
        let changed = Expectations { basic_encoding_changes_credentials: true, ..GENERIC };
        for (status, body) in [(401, r#"{"error":"invalid_client"}"#), (401, "")] {
            let err = parse_with(status, body, changed).unwrap_err();
            assert!(err.message().contains("try auth_method post"), "{status} {body}: {}", err.message());
        }
        // Not for other refusals, and not when encoding changes nothing.
        let err = parse_with(400, r#"{"error":"invalid_scope"}"#, changed).unwrap_err();
        assert!(!err.message().contains("auth_method post"), "{}", err.message());
        let err = parse_with(401, r#"{"error":"invalid_client"}"#, GENERIC).unwrap_err();
        assert!(!err.message().contains("auth_method post"), "{}", err.message());
    }

    #[test]
    fn a_json_body_refused_by_the_server_says_which_profile_to_pick() {
        let json = Expectations { profile: Profile::ChangeHealthcareV2, auth_method: AuthMethod::Json, ..GENERIC };
        let err = parse_with(400, r#"{"error":"invalid_request","error_description":"no grant_type"}"#, json).unwrap_err();
        assert!(err.message().starts_with("token endpoint refused the request: invalid_request: no grant_type\nhint: "));
        assert!(err.message().contains("auth_method"));
        let err = parse_with(415, "", json).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Http);
        assert!(err.message().contains("form-urlencoded"));
    }

    #[test]
    fn success_without_a_token_is_a_response_error() {
        for body in ["", "<html>oops</html>", "[]", r#"{"token_type":"bearer"}"#, r#"{"access_token":""}"#, r#"{"access_token":5}"#, r#"{"access_token":"a b"}"#, r#"{"access_token":"t","expires_in":3"#] {
            assert_eq!(ok(body).unwrap_err().kind(), ErrorKind::Response, "{body}");
        }
    }

    #[test]
    fn only_bearer_tokens_are_accepted() {
        assert!(ok(r#"{"access_token":"t","token_type":"BEARER"}"#).is_ok());
        let err = ok(r#"{"access_token":"t","token_type":"mac"}"#).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Response);
        assert!(err.message().contains("mac"));
    }

    #[test]
    fn http_errors_and_redirects_are_named() {
        let err = parse(&HttpAnswer { status: 503, content_type: Some("text/html"), location: None, body: b"<html>down</html>" }, GENERIC, &Redactor::empty()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Http);
        assert!(err.message().contains("503") && err.message().contains("text/html"));
        let err = parse(&HttpAnswer { status: 302, content_type: None, location: Some("https://elsewhere/"), body: b"" }, GENERIC, &Redactor::empty()).unwrap_err();
        assert!(err.message().contains("redirect") && err.message().contains("https://elsewhere/"));
    }

    #[test]
    fn messages_never_contain_the_token() {
        let err = ok(r#"{"access_token":"SECRET-TOKEN","token_type":"mac"}"#).unwrap_err();
        assert!(!err.message().contains("SECRET-TOKEN"));
        let issued = ok(r#"{"access_token":"SECRET-TOKEN"}"#).unwrap();
        assert!(!format!("{issued:?}").contains("SECRET-TOKEN"));
    }

    // -----------------------------------------------------------------------------------------
    // Property tests (issue 6): the parser and the JWT reader take whatever a server sends, so
    // they must never panic, and what they accept must be usable. proptest stands in for a
    // coverage-guided fuzzer, which needs a nightly toolchain; the case counts keep it to a few
    // seconds. A failure is saved under proptest-regressions/ and replayed first from then on.

    use proptest::prelude::*;

    const ANY_KIND: [ErrorKind; 3] = [ErrorKind::Http, ErrorKind::OAuth, ErrorKind::Response];

    fn any_expectations() -> impl Strategy<Value = Expectations> {
        (
            prop_oneof![
                Just(Profile::Generic),
                Just(Profile::ChangeHealthcareV1),
                Just(Profile::ChangeHealthcareV2),
                Just(Profile::OptumV3),
                Just(Profile::NikoHealth)
            ],
            prop_oneof![Just(AuthMethod::Basic), Just(AuthMethod::Post), Just(AuthMethod::Json)],
            1u64..100_000,
        )
            .prop_map(|(profile, auth_method, secs)| Expectations {
                profile,
                auth_method,
                default_lifetime: Duration::from_secs(secs),
                basic_encoding_changes_credentials: false,
            })
    }

    /// JSON values of every type, as a server might put in any field.
    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
            "\\PC{0,40}".prop_map(Value::String),
            "-?[0-9]{1,25}(\\.[0-9]{0,5})?(e[+-]?[0-9]{1,3})?".prop_map(Value::String),
        ];
        leaf.prop_recursive(2, 16, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-z_]{1,12}", inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// Token responses built from the fields a parser looks at, each of any JSON type.
    fn any_token_response() -> impl Strategy<Value = String> {
        let field = |name: &'static str, value: BoxedStrategy<Value>| {
            prop::option::weighted(0.8, value).prop_map(move |v| v.map(|v| (name, v)))
        };
        let token = prop_oneof![
            "[A-Za-z0-9._~+/=-]{1,64}".prop_map(Value::String),
            any_json(),
        ]
        .boxed();
        let kind = prop_oneof!["(?i)bearer".prop_map(Value::String), any_json()].boxed();
        let expires = prop_oneof![(1u64..200_000).prop_map(Value::from), any_json()].boxed();
        (
            field("access_token", token.clone()),
            field("accessToken", token),
            field("token_type", kind),
            field("expires_in", expires),
            field("error", any_json().boxed()),
            field("error_description", any_json().boxed()),
        )
            .prop_map(|fields| {
                let (a, b, c, d, e, f) = fields;
                let object: Map<String, Value> =
                    [a, b, c, d, e, f].into_iter().flatten().map(|(k, v)| (k.to_owned(), v)).collect();
                Value::Object(object).to_string()
            })
    }

    fn check_outcome(status: u16, result: Result<IssuedToken>) -> std::result::Result<(), TestCaseError> {
        match result {
            Ok(issued) => {
                prop_assert!((200..300).contains(&status), "a token from HTTP {}", status);
                let token = issued.access_token.expose();
                prop_assert!(!token.is_empty() && token.bytes().all(|b| b.is_ascii_graphic()));
                prop_assert!(issued.lifetime > Duration::ZERO && issued.lifetime <= MAX_LIFETIME.max(Duration::from_secs(100_000)));
            }
            Err(error) => {
                prop_assert!(ANY_KIND.contains(&error.kind()), "{:?}", error);
                prop_assert!(error.message().len() < 1000, "a {}-byte message", error.message().len());
                // One line, or two when a "hint: " line follows the server's words.
                let message = error.message();
                prop_assert!(!message.chars().any(|c| c.is_control() && c != '\n'), "{:?}", message);
                prop_assert!(message.lines().skip(1).all(|l| l.starts_with("hint: ")) && message.lines().count() <= 2, "{:?}", message);
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

        #[test]
        fn parse_survives_any_bytes(
            status in 100u16..600,
            content_type in proptest::option::of("\\PC{0,80}"),
            location in proptest::option::of("\\PC{0,300}"),
            body in prop::collection::vec(any::<u8>(), 0..600),
            expect in any_expectations(),
        ) {
            let answer = HttpAnswer { status, content_type: content_type.as_deref(), location: location.as_deref(), body: &body };
            check_outcome(status, parse(&answer, expect, &Redactor::empty()))?;
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

        #[test]
        fn parse_survives_any_token_response(
            status in prop_oneof![Just(200u16), Just(201), Just(400), Just(401), Just(429), Just(503), 100u16..600],
            body in any_token_response(),
            expect in any_expectations(),
        ) {
            let answer = HttpAnswer { status, content_type: Some("application/json"), location: None, body: body.as_bytes() };
            check_outcome(status, parse(&answer, expect, &Redactor::empty()))?;
        }

        /// A good response is read as the server meant it, and its token never shows in an
        /// error about another field.
        #[test]
        fn a_good_response_is_read_exactly(
            token in "[A-Za-z0-9._~+/-]{16,64}",
            kind in "(?i)bearer",
            expires_in in 1u64..1_000_000,
            as_string in any::<bool>(),
            bad_type in "[a-z]{1,10}",
        ) {
            let expires = if as_string { format!("\"{expires_in}\"") } else { expires_in.to_string() };
            let body = format!(r#"{{"access_token":"{token}","token_type":"{kind}","expires_in":{expires}}}"#);
            let issued = ok(&body).unwrap();
            prop_assert_eq!(issued.access_token.expose(), token.as_str());
            prop_assert_eq!(issued.lifetime, Duration::from_secs(expires_in).min(MAX_LIFETIME));
            prop_assume!(!bad_type.eq_ignore_ascii_case("bearer"));
            let body = format!(r#"{{"access_token":"{token}","token_type":"{bad_type}","expires_in":{expires}}}"#);
            let error = ok(&body).unwrap_err();
            prop_assert!(!error.message().contains(&token));
        }

        #[test]
        fn jwt_expiry_survives_any_text(text in "\\PC{0,200}", dots in "[A-Za-z0-9_=-]{0,40}\\.[A-Za-z0-9_=-]{0,80}\\.[A-Za-z0-9_=-]{0,10}") {
            let _ = jwt_expiry(&text);
            let _ = jwt_expiry(&dots);
        }

        #[test]
        fn jwt_expiry_reads_any_exp_claim(exp in 0u64..(1 << 53), extra in "[a-z]{0,8}", pad in any::<bool>()) {
            let mut token = jwt(&format!(r#"{{"sub":"{extra}","exp":{exp}}}"#));
            if pad {
                // Some issuers pad the base64url parts; the reader tolerates it.
                let parts: Vec<&str> = token.split('.').collect();
                let payload = format!("{}{}", parts[1], "=".repeat((4 - parts[1].len() % 4) % 4));
                token = format!("{}.{payload}.{}", parts[0], parts[2]);
            }
            prop_assert_eq!(jwt_expiry(&token), Some(exp));
        }

        #[test]
        fn jwt_expiry_never_reads_a_bad_exp(exp in any_json()) {
            let claims = serde_json::json!({ "exp": exp }).to_string();
            let read = jwt_expiry(&jwt(&claims));
            match exp.as_f64() {
                Some(f) if f >= 0.0 && f.is_finite() => prop_assert!(read.is_some()),
                _ => prop_assert_eq!(read, None),
            }
        }
    }
}
