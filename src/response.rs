//! Reading the token endpoint's answer: a token and its lifetime (RFC 6749 section 5.1, with
//! the vendors' variations), or an error (section 5.2). Pure: tested without a network.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::error::{Error, ErrorKind, OAuthDetails, Result};
use crate::profile::{AuthMethod, Profile};
use crate::secret::Secret;

/// The largest response body read; a token response is a few KB even with a large JWT.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Longer lifetimes are cut to this, so a bogus `expires_in` cannot pin a token for years.
pub const MAX_LIFETIME: Duration = Duration::from_secs(86_400);

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
    ExpiresIn,
    JwtExp,
    Default,
}

/// A token as issued, before it is placed in the cache.
#[derive(Debug)]
pub struct IssuedToken {
    pub access_token: Secret,
    pub lifetime: Duration,
    #[cfg_attr(not(test), allow(dead_code))]
    pub lifetime_source: LifetimeSource,
}

/// What the parser needs to know about the request it answers.
#[derive(Clone, Copy, Debug)]
pub struct Expectations {
    pub profile: Profile,
    pub auth_method: AuthMethod,
    pub default_lifetime: Duration,
}

pub fn parse(answer: &HttpAnswer<'_>, expect: Expectations) -> Result<IssuedToken> {
    if (300..400).contains(&answer.status) {
        let target = answer.location.map(|l| format!(" to {}", truncate(l, 200))).unwrap_or_default();
        return Err(Error::new(
            ErrorKind::Http,
            format!(
                "token endpoint answered HTTP {} (a redirect{target}); token requests do not follow redirects, so set token_url to the final address",
                answer.status
            ),
        ));
    }
    let json = WipedJson(serde_json::from_slice::<Value>(answer.body).ok());
    let json = &json.0;
    let object = json.as_ref().and_then(Value::as_object);

    if let Some(details) = object.and_then(oauth_error) {
        return Err(Error::oauth(details, json_body_hint(expect, answer.status)).with_http_status(answer.status));
    }
    if !(200..300).contains(&answer.status) {
        let mut message = format!(
            "token endpoint answered HTTP {} {}",
            answer.status,
            reason_phrase(answer.status)
        );
        if let Some(content_type) = answer.content_type {
            message.push_str(&format!(" with a body of type {}", truncate(content_type, 60)));
        }
        if let Some(hint) = json_body_hint(expect, answer.status) {
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
                answer.content_type.map(|c| format!(" ({})", truncate(c, 60))).unwrap_or_default()
            )
        };
        Error::response(format!("token endpoint answered HTTP {} with {what}; expected a JSON token response", answer.status))
    })?;

    let access_token = token_field(object, expect.profile)?;
    check_token_type(object)?;
    let (lifetime, lifetime_source) = lifetime(object, access_token.expose(), expect.default_lifetime)?;
    Ok(IssuedToken { access_token, lifetime, lifetime_source })
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

fn oauth_error(object: &Map<String, Value>) -> Option<OAuthDetails> {
    let error = object.get("error")?.as_str().filter(|e| !e.trim().is_empty())?;
    let description = object.get("error_description").and_then(Value::as_str);
    Some(OAuthDetails {
        error: truncate(error, 100),
        description: description.map(|d| truncate(d, 300)),
    })
}

/// A JSON body refused by a server that wants a form is the most common misconfiguration;
/// say so where it is likely.
fn json_body_hint(expect: Expectations, status: u16) -> Option<&'static str> {
    let likely = matches!(status, 400 | 401 | 415);
    (expect.auth_method == AuthMethod::Json && likely).then_some(
        "the request was sent as a JSON body; if this server takes form-urlencoded bodies, use profile generic with auth_method basic or post, or the vendor's own profile",
    )
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

fn check_token_type(object: &Map<String, Value>) -> Result<()> {
    match object.get("token_type") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(kind)) if kind.eq_ignore_ascii_case("bearer") => Ok(()),
        Some(Value::String(kind)) => Err(Error::response(format!(
            "token_type is '{}'; hctoken hands out bearer tokens only",
            truncate(kind, 40)
        ))),
        Some(_) => Err(Error::response("token_type is not a string")),
    }
}

fn lifetime(object: &Map<String, Value>, token: &str, default: Duration) -> Result<(Duration, LifetimeSource)> {
    if let Some(value) = object.get("expires_in").filter(|v| !v.is_null()) {
        let seconds = match value {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        };
        let seconds = seconds.filter(|s| s.is_finite()).ok_or_else(|| {
            Error::response("expires_in is not a number of seconds".to_owned())
        })?;
        if seconds < 1.0 {
            return Err(Error::response(format!(
                "expires_in is {seconds}: the token endpoint issued a token that is already expired"
            )));
        }
        return Ok((cap(Duration::from_secs_f64(seconds.min(MAX_LIFETIME.as_secs_f64()))), LifetimeSource::ExpiresIn));
    }
    if let Some(exp) = jwt_expiry(token) {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        if exp <= now {
            return Err(Error::response(
                "the token response has no expires_in and the token's JWT exp is already past (check this machine's clock)",
            ));
        }
        return Ok((cap(Duration::from_secs(exp - now)), LifetimeSource::JwtExp));
    }
    Ok((default, LifetimeSource::Default))
}

fn cap(lifetime: Duration) -> Duration {
    lifetime.min(MAX_LIFETIME)
}

/// The `exp` claim of a JWT access token, without verifying it: the token is the server's to
/// check; we only want to know when to stop using it.
pub fn jwt_expiry(token: &str) -> Option<u64> {
    let mut parts = token.split('.');
    let (_header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || payload.len() > 16 * 1024 {
        return None;
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    match claims.get("exp")? {
        Value::Number(n) => n.as_u64().or_else(|| n.as_f64().filter(|f| *f >= 0.0 && f.is_finite()).map(|f| f as u64)),
        _ => None,
    }
}

fn truncate(text: &str, max_chars: usize) -> String {
    let clean: String = text.chars().filter(|c| !c.is_control()).take(max_chars).collect();
    if text.chars().count() > max_chars {
        format!("{clean}...")
    } else {
        clean
    }
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
    };

    fn ok(body: &str) -> Result<IssuedToken> {
        parse_with(200, body, GENERIC)
    }

    fn parse_with(status: u16, body: &str, expect: Expectations) -> Result<IssuedToken> {
        parse(&HttpAnswer { status, content_type: Some("application/json"), location: None, body: body.as_bytes() }, expect)
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
        let expired = jwt(&format!(r#"{{"exp":{}}}"#, now() - 10));
        assert_eq!(ok(&format!(r#"{{"access_token":"{expired}"}}"#)).unwrap_err().kind(), ErrorKind::Response);
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
        let err = parse(&HttpAnswer { status: 503, content_type: Some("text/html"), location: None, body: b"<html>down</html>" }, GENERIC).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Http);
        assert!(err.message().contains("503") && err.message().contains("text/html"));
        let err = parse(&HttpAnswer { status: 302, content_type: None, location: Some("https://elsewhere/"), body: b"" }, GENERIC).unwrap_err();
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
            check_outcome(status, parse(&answer, expect))?;
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
            check_outcome(status, parse(&answer, expect))?;
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
