//! Building the token request (RFC 6749 section 4.4.2) the way each endpoint expects it.
//! Pure: no I/O, so every profile's exact request is tested here.

use base64::Engine as _;

use zeroize::Zeroizing;

use crate::config::Settings;
use crate::profile::AuthMethod;
use crate::secret::{Secret, SecretBytes};

pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";
pub const JSON_CONTENT_TYPE: &str = "application/json";

/// One POST to the token endpoint. The secret travels in `authorization` or `body`, never in
/// the URL.
#[derive(Debug)]
pub struct TokenRequest {
    pub url: String,
    pub content_type: &'static str,
    /// The value of the Authorization header, for HTTP Basic client authentication.
    pub authorization: Option<Secret>,
    pub body: SecretBytes,
}

pub fn build(settings: &Settings) -> TokenRequest {
    let secret = settings.client_secret.expose();
    let optional = [
        ("scope", settings.scope.as_deref()),
        ("audience", settings.audience.as_deref()),
        ("resource", settings.resource.as_deref()),
    ];
    let (content_type, authorization, body) = match settings.auth_method {
        AuthMethod::Basic => {
            let pairs = [("grant_type", Some("client_credentials"))].into_iter().chain(optional);
            (FORM_CONTENT_TYPE, Some(basic_authorization(&settings.client_id, secret)), form_body(pairs))
        }
        AuthMethod::Post => {
            let pairs = [
                ("grant_type", Some("client_credentials")),
                ("client_id", Some(settings.client_id.as_str())),
                ("client_secret", Some(secret)),
            ]
            .into_iter()
            .chain(optional);
            (FORM_CONTENT_TYPE, None, form_body(pairs))
        }
        AuthMethod::Json => {
            let body = JsonBody {
                client_id: &settings.client_id,
                client_secret: secret,
                grant_type: "client_credentials",
                scope: settings.scope.as_deref(),
                audience: settings.audience.as_deref(),
                resource: settings.resource.as_deref(),
            };
            (JSON_CONTENT_TYPE, None, body.to_bytes())
        }
    };
    TokenRequest {
        url: settings.token_url.to_string(),
        content_type,
        authorization,
        body: SecretBytes::new(body),
    }
}

/// The JSON body, field order as the vendor pages show it. Borrowed, and written straight into
/// a buffer large enough not to reallocate, so no unwiped copy of the secret is left behind.
#[derive(serde::Serialize)]
struct JsonBody<'a> {
    client_id: &'a str,
    client_secret: &'a str,
    grant_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    audience: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource: Option<&'a str>,
}

impl JsonBody<'_> {
    fn to_bytes(&self) -> Vec<u8> {
        // Worst case JSON escaping is 6 bytes per input byte (\uXXXX).
        let fields = [self.client_id, self.client_secret, self.grant_type]
            .into_iter()
            .chain(self.scope)
            .chain(self.audience)
            .chain(self.resource);
        let capacity = 128 + fields.map(|f| f.len() * 6).sum::<usize>();
        let mut bytes = Vec::with_capacity(capacity);
        // Writing plain strings into a Vec cannot fail.
        serde_json::to_writer(&mut bytes, self).unwrap_or_default();
        bytes
    }
}

/// A form-urlencoded body of the present pairs, written into a buffer of exactly its final
/// size (the encoded length is computed first), so building it never reallocates with the
/// secret inside and leaves no unwiped copy behind.
fn form_body<'a>(pairs: impl Iterator<Item = (&'a str, Option<&'a str>)> + Clone) -> Vec<u8> {
    let encoded_len = |text: &str| form_urlencoded::byte_serialize(text.as_bytes()).map(str::len).sum::<usize>();
    let present = || pairs.clone().filter_map(|(name, value)| Some((name, value?)));
    let len: usize = present().map(|(name, value)| encoded_len(name) + 1 + encoded_len(value)).sum::<usize>()
        + present().count().saturating_sub(1);
    let mut body = Vec::with_capacity(len);
    for (i, (name, value)) in present().enumerate() {
        if i > 0 {
            body.push(b'&');
        }
        form_urlencoded::byte_serialize(name.as_bytes()).for_each(|s| body.extend_from_slice(s.as_bytes()));
        body.push(b'=');
        form_urlencoded::byte_serialize(value.as_bytes()).for_each(|s| body.extend_from_slice(s.as_bytes()));
    }
    debug_assert_eq!(body.len(), body.capacity(), "the form body is sized exactly");
    body
}

/// RFC 6749 section 2.3.1: the id and secret are form-urlencoded before they are joined and
/// base64-encoded.
fn basic_authorization(client_id: &str, client_secret: &str) -> Secret {
    // Every intermediate buffer is sized up front (no reallocation leaves a copy behind) and
    // wiped when dropped.
    let mut joined = Zeroizing::new(String::with_capacity(3 * (client_id.len() + client_secret.len()) + 1));
    joined.extend(form_urlencoded::byte_serialize(client_id.as_bytes()));
    joined.push(':');
    joined.extend(form_urlencoded::byte_serialize(client_secret.as_bytes()));
    let engine = &base64::engine::general_purpose::STANDARD;
    let mut header = String::with_capacity(6 + base64::encoded_len(joined.len(), true).unwrap_or(0));
    header.push_str("Basic ");
    engine.encode_string(joined.as_bytes(), &mut header);
    Secret::new(header)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn settings(pairs: &[(&str, &str)]) -> Settings {
        let mut config = Config::new();
        config.set("client_id", "my id").unwrap();
        config.set("client_secret", "p&ss:wörd").unwrap();
        for (key, value) in pairs {
            config.set(key, value).unwrap();
        }
        config.resolve().unwrap()
    }

    fn body(request: &TokenRequest) -> &str {
        std::str::from_utf8(request.body.expose()).unwrap()
    }

    #[test]
    fn change_healthcare_v2_posts_the_documented_json_body() {
        let request = build(&settings(&[("profile", "change-healthcare-v2"), ("environment", "sandbox")]));
        assert_eq!(request.url, "https://sandbox.apigw.changehealthcare.com/apip/auth/v2/token");
        assert_eq!(request.content_type, "application/json");
        assert!(request.authorization.is_none());
        assert_eq!(body(&request), r#"{"client_id":"my id","client_secret":"p&ss:wörd","grant_type":"client_credentials"}"#);
    }

    #[test]
    fn change_healthcare_v1_uses_the_v1_path() {
        let request = build(&settings(&[("profile", "change-healthcare-v1"), ("environment", "production")]));
        assert_eq!(request.url, "https://apigw.changehealthcare.com/apip/auth/v1/token");
        assert_eq!(request.content_type, "application/json");
    }

    #[test]
    fn optum_v3_posts_a_form_with_credentials_in_the_body() {
        let request = build(&settings(&[("profile", "optum-v3"), ("token_url", "https://api.example/auth/sntl/v1/token")]));
        assert_eq!(request.content_type, FORM_CONTENT_TYPE);
        assert!(request.authorization.is_none());
        assert_eq!(body(&request), "grant_type=client_credentials&client_id=my+id&client_secret=p%26ss%3Aw%C3%B6rd");
    }

    #[test]
    fn nikohealth_uses_basic_auth_and_the_external_scope() {
        let request = build(&settings(&[("profile", "nikohealth"), ("domain", "acme")]));
        assert_eq!(request.url, "https://acme.nikohealth.com/api/identity/connect/token");
        assert_eq!(request.content_type, FORM_CONTENT_TYPE);
        assert_eq!(body(&request), "grant_type=client_credentials&scope=external");
        let header = request.authorization.as_ref().unwrap().expose();
        let decoded = base64::engine::general_purpose::STANDARD.decode(header.strip_prefix("Basic ").unwrap()).unwrap();
        assert_eq!(std::str::from_utf8(&decoded).unwrap(), "my+id:p%26ss%3Aw%C3%B6rd");
    }

    #[test]
    fn generic_passes_scope_audience_and_resource() {
        let request = build(&settings(&[
            ("token_url", "https://idp.example/oauth2/token"),
            ("auth_method", "post"),
            ("scope", "read write"),
            ("audience", "https://api.example"),
            ("resource", "https://api.example/fhir"),
        ]));
        assert_eq!(
            body(&request),
            "grant_type=client_credentials&client_id=my+id&client_secret=p%26ss%3Aw%C3%B6rd&scope=read+write&audience=https%3A%2F%2Fapi.example&resource=https%3A%2F%2Fapi.example%2Ffhir"
        );
        let json = build(&settings(&[("token_url", "https://idp.example/t"), ("auth_method", "json"), ("scope", "a")]));
        assert!(body(&json).ends_with(r#""grant_type":"client_credentials","scope":"a"}"#));
    }

    #[test]
    fn form_bodies_are_sized_exactly() {
        for method in ["basic", "post"] {
            let request = build(&settings(&[("token_url", "https://idp.example/t"), ("auth_method", method), ("scope", "a b~c")]));
            let body = request.body.expose();
            let expected: String = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(std::str::from_utf8(body).unwrap().split('&').map(|p| {
                    let (k, v) = p.split_once('=').unwrap();
                    let decode = |t: &str| form_urlencoded::parse(format!("x={t}").as_bytes()).next().unwrap().1.into_owned();
                    (decode(k), decode(v))
                }))
                .finish();
            assert_eq!(std::str::from_utf8(body).unwrap(), expected, "{method}");
        }
    }

    #[test]
    fn the_secret_never_goes_into_the_url_or_debug_output() {
        for method in ["basic", "post", "json"] {
            let request = build(&settings(&[("token_url", "https://idp.example/t"), ("auth_method", method)]));
            assert!(!request.url.contains("ss"));
            let debug = format!("{request:?}");
            assert!(!debug.contains("p&ss") && !debug.contains("p%26ss") && !debug.contains("Basic "), "{debug}");
        }
    }
}
