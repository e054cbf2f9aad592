//! The configuration builder: text keys and values, checked as they are set, then resolved
//! against the profile into the `Settings` a client runs on.

use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use crate::error::{Error, Result};
use crate::profile::{AuthMethod, Environment, Profile, UrlSource};
use crate::secret::Secret;

/// Every key `Config::set` accepts, in the order the documentation lists them.
pub const KEYS: &[&str] = &[
    "profile",
    "token_url",
    "environment",
    "domain",
    "client_id",
    "client_secret",
    "scope",
    "audience",
    "resource",
    "auth_method",
    "refresh_skew_secs",
    "default_lifetime_secs",
    "timeout_ms",
    "connect_timeout_ms",
    "ca_file",
    "proxy",
    "user_agent",
];

pub const DEFAULT_REFRESH_SKEW: Duration = Duration::from_secs(60);
/// Used when a response gives neither `expires_in` nor a JWT `exp`: short, so an unknown
/// lifetime costs an extra fetch rather than a 401.
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(300);
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_SECONDS: u64 = 86_400;
const MAX_MILLIS: u64 = 600_000;

/// A configuration being built. Not shared between threads while it is being set.
#[derive(Clone, Debug, Default)]
pub struct Config {
    profile: Option<Profile>,
    token_url: Option<Url>,
    environment: Option<Environment>,
    domain: Option<String>,
    client_id: Option<String>,
    client_secret: Option<Secret>,
    scope: Option<String>,
    audience: Option<String>,
    resource: Option<String>,
    auth_method: Option<AuthMethod>,
    refresh_skew: Option<Duration>,
    default_lifetime: Option<Duration>,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    ca_file: Option<PathBuf>,
    proxy: Option<ProxyUrl>,
    user_agent: Option<String>,
    /// Where the client sends its events (log.rs); not a key: set with `set_logger`.
    logger: Option<crate::log::Logger>,
}

/// A complete, consistent configuration, resolved against its profile.
#[derive(Clone, Debug)]
pub struct Settings {
    pub profile: Profile,
    pub token_url: Url,
    pub client_id: String,
    pub client_secret: Secret,
    pub scope: Option<String>,
    pub audience: Option<String>,
    pub resource: Option<String>,
    pub auth_method: AuthMethod,
    pub refresh_skew: Duration,
    pub default_lifetime: Duration,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub ca_file: Option<PathBuf>,
    pub proxy: Option<ProxyUrl>,
    pub user_agent: String,
}

impl Config {
    pub fn new() -> Self {
        Config::default()
    }

    /// Where clients made from this configuration send their events (`None`: nowhere, the
    /// default). See `LogLevel` for what is sent.
    pub fn set_logger(&mut self, logger: Option<crate::log::Logger>) {
        self.logger = logger;
    }

    /// The logger `set_logger` set.
    pub fn logger(&self) -> Option<&crate::log::Logger> {
        self.logger.as_ref()
    }

    /// Sets one key. An empty value clears the key back to its default. Unknown keys and bad
    /// values are refused with a message that names the key and what it accepts.
    pub fn set(&mut self, key: &str, value: &str) -> Result<()> {
        let value = value.trim();
        if value.is_empty() {
            return self.clear(key);
        }
        match key {
            "profile" => {
                self.profile = Some(Profile::parse(value).ok_or_else(|| {
                    bad_value(key, &format!("one of {}", Profile::ACCEPTED), Some(value))
                })?)
            }
            "token_url" => self.token_url = Some(parse_token_url(value)?),
            "environment" => {
                self.environment = Some(Environment::parse(value).ok_or_else(|| {
                    bad_value(key, &format!("one of {}", Environment::ACCEPTED), Some(value))
                })?)
            }
            "domain" => {
                let valid = value.len() <= 63
                    && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                    && !value.starts_with('-')
                    && !value.ends_with('-');
                if !valid {
                    return Err(bad_value(
                        key,
                        "your tenant's sub-domain: letters, digits and inner hyphens, as in {domain}.nikohealth.com",
                        Some(value),
                    ));
                }
                self.domain = Some(value.to_ascii_lowercase());
            }
            "client_id" => self.client_id = Some(printable(key, value)?.to_owned()),
            "client_secret" => {
                if value.chars().any(char::is_control) {
                    // The value itself is never echoed: it is a secret.
                    return Err(bad_value(key, "text without control characters", None));
                }
                self.client_secret = Some(Secret::new(value));
            }
            "scope" => self.scope = Some(printable(key, value)?.to_owned()),
            "audience" => self.audience = Some(printable(key, value)?.to_owned()),
            "resource" => {
                // RFC 8707: an absolute URI without a fragment.
                match Url::parse(value) {
                    Ok(url) if url.fragment().is_none() => self.resource = Some(value.to_owned()),
                    _ => {
                        return Err(bad_value(key, "an absolute URI without a fragment (RFC 8707)", Some(value)))
                    }
                }
            }
            "auth_method" => {
                self.auth_method = Some(AuthMethod::parse(value).ok_or_else(|| {
                    bad_value(key, &format!("one of {}", AuthMethod::ACCEPTED), Some(value))
                })?)
            }
            "refresh_skew_secs" => self.refresh_skew = Some(seconds(key, value, 0)?),
            "default_lifetime_secs" => self.default_lifetime = Some(seconds(key, value, 1)?),
            "timeout_ms" => self.timeout = Some(millis(key, value)?),
            "connect_timeout_ms" => self.connect_timeout = Some(millis(key, value)?),
            "ca_file" => self.ca_file = Some(PathBuf::from(value)),
            "proxy" => self.proxy = Some(parse_proxy(value)?),
            "user_agent" => self.user_agent = Some(printable(key, value)?.to_owned()),
            _ => return Err(unknown_key(key)),
        }
        Ok(())
    }

    fn clear(&mut self, key: &str) -> Result<()> {
        match key {
            "profile" => self.profile = None,
            "token_url" => self.token_url = None,
            "environment" => self.environment = None,
            "domain" => self.domain = None,
            "client_id" => self.client_id = None,
            "client_secret" => self.client_secret = None,
            "scope" => self.scope = None,
            "audience" => self.audience = None,
            "resource" => self.resource = None,
            "auth_method" => self.auth_method = None,
            "refresh_skew_secs" => self.refresh_skew = None,
            "default_lifetime_secs" => self.default_lifetime = None,
            "timeout_ms" => self.timeout = None,
            "connect_timeout_ms" => self.connect_timeout = None,
            "ca_file" => self.ca_file = None,
            "proxy" => self.proxy = None,
            "user_agent" => self.user_agent = None,
            _ => return Err(unknown_key(key)),
        }
        Ok(())
    }

    /// Checks that the configuration is complete and consistent, and fills in the profile's
    /// defaults.
    pub fn resolve(&self) -> Result<Settings> {
        let profile = self.profile.unwrap_or(Profile::Generic);
        let name = profile.name();
        let client_id = self
            .client_id
            .clone()
            .ok_or_else(|| Error::config("client_id is not set: every profile needs the client id your vendor issued"))?;
        let client_secret = self.client_secret.clone().ok_or_else(|| {
            Error::config("client_secret is not set: every profile needs the client secret your vendor issued")
        })?;

        let token_url = self.resolve_token_url(profile)?;

        let auth_method = self.auth_method.unwrap_or_else(|| profile.default_auth_method());
        if !profile.allows_auth_method(auth_method) {
            return Err(Error::config(format!(
                "auth_method {} does not fit profile {name}: its token endpoint takes form-urlencoded bodies only (use basic or post)",
                auth_method.as_str()
            )));
        }

        let user_agent = self
            .user_agent
            .clone()
            .unwrap_or_else(|| format!("hctoken/{}", env!("CARGO_PKG_VERSION")));

        Ok(Settings {
            profile,
            token_url,
            client_id,
            client_secret,
            scope: self.scope.clone().or_else(|| profile.default_scope().map(str::to_owned)),
            audience: self.audience.clone(),
            resource: self.resource.clone(),
            auth_method,
            refresh_skew: self.refresh_skew.unwrap_or(DEFAULT_REFRESH_SKEW),
            default_lifetime: self.default_lifetime.unwrap_or(DEFAULT_LIFETIME),
            timeout: self.timeout.unwrap_or(DEFAULT_TIMEOUT),
            connect_timeout: self.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT),
            ca_file: self.ca_file.clone(),
            proxy: self.proxy.clone(),
            user_agent,
        })
    }

    fn resolve_token_url(&self, profile: Profile) -> Result<Url> {
        let name = profile.name();
        let source = profile.url_source();
        if self.environment.is_some() && !matches!(source, UrlSource::Environment { .. }) {
            return Err(Error::config(format!(
                "environment does not apply to profile {name}: set token_url instead"
            )));
        }
        if self.domain.is_some() && !matches!(source, UrlSource::Domain { .. }) {
            return Err(Error::config(format!(
                "domain does not apply to profile {name}: set token_url instead"
            )));
        }
        if let Some(url) = &self.token_url {
            if self.environment.is_some() || self.domain.is_some() {
                return Err(Error::config(format!(
                    "token_url and {} are both set for profile {name}: set one of them",
                    if self.environment.is_some() { "environment" } else { "domain" }
                )));
            }
            return Ok(url.clone());
        }
        let built = match source {
            UrlSource::Environment { sandbox_host, production_host, path } => {
                let host = match self.environment {
                    Some(Environment::Sandbox) => sandbox_host,
                    Some(Environment::Production) => production_host,
                    None => {
                        return Err(Error::config(format!(
                            "profile {name} needs environment (sandbox or production) or token_url"
                        )))
                    }
                };
                format!("https://{host}{path}")
            }
            UrlSource::Domain { suffix, path } => match &self.domain {
                Some(domain) => format!("https://{domain}.{suffix}{path}"),
                None => {
                    return Err(Error::config(format!(
                        "profile {name} needs domain (your tenant, as in {{domain}}.{suffix}) or token_url"
                    )))
                }
            },
            UrlSource::TokenUrlOnly => {
                return Err(Error::config(format!(
                    "profile {name} needs token_url: the full https URL of the token endpoint"
                )))
            }
        };
        Url::parse(&built).map_err(|_| Error::internal("a profile built an invalid token URL"))
    }
}

fn parse_token_url(value: &str) -> Result<Url> {
    // A value with `@` may hold user:password@ that failed to parse: never echo it.
    let shown = (!value.contains('@')).then_some(value);
    let url = Url::parse(value).map_err(|e| bad_value("token_url", &format!("an absolute http(s) URL ({e})"), shown))?;
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err(bad_value("token_url", "an https URL (http only to loopback hosts)", shown));
    }
    if url.host().is_none() {
        return Err(bad_value("token_url", "an absolute http(s) URL with a host", shown));
    }
    if !url.username().is_empty() || url.password().is_some() {
        // Credentials in a URL end up in logs and proxies; never echo this value.
        return Err(bad_value(
            "token_url",
            "a URL without user:password@ (set client_id and client_secret instead)",
            None,
        ));
    }
    if url.fragment().is_some() {
        return Err(bad_value("token_url", "a URL without a #fragment", shown));
    }
    Ok(url)
}

/// An HTTP CONNECT proxy's URL. It may carry `user:password@`, so `Debug` shows host and port
/// only.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyUrl(Url);

impl ProxyUrl {
    pub fn url(&self) -> &Url {
        &self.0
    }

    /// `host:port`, safe to print.
    pub fn host_and_port(&self) -> String {
        format!("{}:{}", self.0.host_str().unwrap_or("?"), self.0.port_or_known_default().unwrap_or(80))
    }
}

impl std::fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ProxyUrl({})", self.host_and_port())
    }
}

fn parse_proxy(value: &str) -> Result<ProxyUrl> {
    let url = Url::parse(value)
        .map_err(|_| bad_value("proxy", "an http://host:port URL of an HTTP CONNECT proxy", None))?;
    if url.scheme() != "http" || url.host().is_none() {
        return Err(bad_value("proxy", "an http://host:port URL of an HTTP CONNECT proxy", None));
    }
    Ok(ProxyUrl(url))
}

fn printable<'a>(key: &str, value: &'a str) -> Result<&'a str> {
    if value.chars().any(char::is_control) {
        return Err(bad_value(key, "text without control characters", None));
    }
    Ok(value)
}

fn parse_number(key: &str, value: &str, min: u64, max: u64, unit: &str) -> Result<u64> {
    match value.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(bad_value(key, &format!("a whole number of {unit} from {min} to {max}"), Some(value))),
    }
}

fn seconds(key: &str, value: &str, min: u64) -> Result<Duration> {
    parse_number(key, value, min, MAX_SECONDS, "seconds").map(Duration::from_secs)
}

fn millis(key: &str, value: &str) -> Result<Duration> {
    parse_number(key, value, 1, MAX_MILLIS, "milliseconds").map(Duration::from_millis)
}

fn unknown_key(key: &str) -> Error {
    let shown: String = key.chars().take(64).collect();
    Error::config(format!("unknown configuration key '{shown}': accepted keys are {}", KEYS.join(", ")))
}

/// `shown` is the offending value when it is safe to repeat, `None` for secrets and for values
/// that may embed one.
fn bad_value(key: &str, accepted: &str, shown: Option<&str>) -> Error {
    match shown {
        Some(value) => {
            let value: String = value.chars().take(120).collect();
            Error::config(format!("invalid value '{value}' for {key}: expected {accepted}"))
        }
        None => Error::config(format!("invalid value for {key}: expected {accepted}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn config(pairs: &[(&str, &str)]) -> Config {
        let mut config = Config::new();
        for (key, value) in pairs {
            config.set(key, value).unwrap();
        }
        config
    }

    const CREDS: [(&str, &str); 2] = [("client_id", "id"), ("client_secret", "s3cret")];

    #[test]
    fn unknown_key_names_the_key_and_lists_accepted_ones() {
        let err = Config::new().set("clientid", "x").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
        assert!(err.message().contains("'clientid'"));
        assert!(err.message().contains("client_id"));
    }

    #[test]
    fn bad_values_name_the_key_and_what_is_accepted() {
        let cases = [
            ("profile", "cigna", "change-healthcare-v2"),
            ("environment", "staging", "sandbox, production"),
            ("auth_method", "digest", "basic, post, json"),
            ("timeout_ms", "0", "milliseconds"),
            ("timeout_ms", "ten", "milliseconds"),
            ("refresh_skew_secs", "-1", "seconds"),
            ("token_url", "ftp://x/token", "https"),
            ("token_url", "not a url", "absolute"),
            ("domain", "a.b", "sub-domain"),
            ("proxy", "socks5://p:1", "CONNECT"),
            ("resource", "relative/path", "RFC 8707"),
        ];
        for (key, value, expected) in cases {
            let err = Config::new().set(key, value).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Config, "{key}={value}");
            assert!(err.message().contains(key), "{}", err.message());
            assert!(err.message().contains(expected), "{}", err.message());
        }
    }

    #[test]
    fn secrets_are_never_echoed() {
        let err = Config::new().set("client_secret", "abc\u{7}def").unwrap_err();
        assert!(!err.message().contains("abc"));
        let err = Config::new().set("token_url", "https://user:pw123@host/t").unwrap_err();
        assert!(!err.message().contains("pw123"));
        let settings = config(&[("profile", "optum-v3"), ("token_url", "https://h/t"), CREDS[0], CREDS[1]])
            .resolve()
            .unwrap();
        assert!(!format!("{settings:?}").contains("s3cret"));
    }

    #[test]
    fn proxy_credentials_never_show_in_debug_output() {
        let mut config = Config::new();
        config.set("proxy", "http://user:proxy-pw-123@proxy.local:3128").unwrap();
        assert!(!format!("{config:?}").contains("proxy-pw-123"));
        assert!(format!("{config:?}").contains("proxy.local:3128"));
    }

    #[test]
    fn missing_credentials_are_named() {
        let err = config(&[("token_url", "https://h/t")]).resolve().unwrap_err();
        assert!(err.message().contains("client_id"));
        let err = config(&[("token_url", "https://h/t"), ("client_id", "x")]).resolve().unwrap_err();
        assert!(err.message().contains("client_secret"));
    }

    #[test]
    fn change_healthcare_environment_picks_the_documented_host() {
        let sandbox = config(&[("profile", "change-healthcare-v2"), ("environment", "sandbox"), CREDS[0], CREDS[1]]);
        assert_eq!(
            sandbox.resolve().unwrap().token_url.as_str(),
            "https://sandbox.apigw.changehealthcare.com/apip/auth/v2/token"
        );
        let production = config(&[("profile", "change-healthcare-v2"), ("environment", "production"), CREDS[0], CREDS[1]]);
        assert_eq!(
            production.resolve().unwrap().token_url.as_str(),
            "https://apigw.changehealthcare.com/apip/auth/v2/token"
        );
        let neither = config(&[("profile", "change-healthcare-v2"), CREDS[0], CREDS[1]]);
        assert!(neither.resolve().unwrap_err().message().contains("environment"));
    }

    #[test]
    fn nikohealth_domain_builds_the_url_and_defaults_the_scope() {
        let settings = config(&[("profile", "nikohealth"), ("domain", "Acme"), CREDS[0], CREDS[1]]).resolve().unwrap();
        assert_eq!(settings.token_url.as_str(), "https://acme.nikohealth.com/api/identity/connect/token");
        assert_eq!(settings.scope.as_deref(), Some("external"));
        assert_eq!(settings.auth_method, AuthMethod::Basic);
    }

    #[test]
    fn inconsistent_settings_are_refused() {
        let cases: &[&[(&str, &str)]] = &[
            &[("profile", "optum-v3")],
            &[("profile", "generic")],
            &[("profile", "optum-v3"), ("token_url", "https://h/t"), ("auth_method", "json")],
            &[("profile", "generic"), ("token_url", "https://h/t"), ("environment", "sandbox")],
            &[("profile", "change-healthcare-v2"), ("domain", "acme")],
            &[("profile", "nikohealth"), ("domain", "acme"), ("token_url", "https://h/t")],
        ];
        for pairs in cases {
            let mut all = pairs.to_vec();
            all.extend_from_slice(&CREDS);
            let err = config(&all).resolve().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Config, "{pairs:?}");
        }
    }

    #[test]
    fn empty_value_clears_a_key() {
        let mut config = config(&[("scope", "a")]);
        config.set("scope", "").unwrap();
        config.set("token_url", "https://h/t").unwrap();
        config.set("client_id", "x").unwrap();
        config.set("client_secret", "y").unwrap();
        assert_eq!(config.resolve().unwrap().scope, None);
        assert!(Config::new().set("nope", "").is_err());
    }

    // -----------------------------------------------------------------------------------------
    // Property tests (issue 6): the setter takes whatever text a host program passes through
    // the C ABI. It must never panic, answer every key it does not know with a Config error,
    // keep its messages short, and never repeat a secret. Bounded case counts keep it fast.

    use proptest::prelude::*;

    fn any_key() -> impl Strategy<Value = String> {
        prop_oneof![
            proptest::sample::select(KEYS).prop_map(str::to_owned),
            "\\PC{0,30}",
            "[a-z_]{1,24}",
        ]
    }

    fn any_value() -> impl Strategy<Value = String> {
        prop_oneof![
            "\\PC{0,60}",
            "[0-9]{1,25}",
            "-?[0-9]{1,6}",
            "(https?|ftp|socks5)://[a-z0-9.:@\\[\\]-]{0,30}(/[a-z]{0,8})?(\\?[a-z=]{0,8})?(#[a-z]{0,5})?",
            proptest::sample::select(&["generic", "optum-v3", "nikohealth", "change-healthcare-v2", "change-healthcare-v1", "sandbox", "production", "basic", "post", "json", "", " "][..]).prop_map(str::to_owned),
            "[\\x00-\\x1f\\x7f]{1,4}[a-z]{0,4}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

        #[test]
        fn set_survives_any_key_and_value(key in any_key(), value in any_value()) {
            let mut config = Config::new();
            match config.set(&key, &value) {
                Ok(()) => prop_assert!(KEYS.contains(&key.as_str()), "accepted unknown key {:?}", key),
                Err(error) => {
                    prop_assert_eq!(error.kind(), ErrorKind::Config);
                    prop_assert!(error.message().len() < 1200, "a {}-byte message", error.message().len());
                    if KEYS.contains(&key.as_str()) {
                        prop_assert!(error.message().contains(key.as_str()), "{}", error.message());
                    }
                    if key == "client_secret" && value.trim().len() >= 3 {
                        prop_assert!(!error.message().contains(value.trim()), "the secret was echoed");
                    }
                }
            }
        }

        #[test]
        fn resolve_survives_any_sequence_of_settings(pairs in prop::collection::vec((any_key(), any_value()), 0..12)) {
            let mut config = Config::new();
            for (key, value) in &pairs {
                let _ = config.set(key, value);
            }
            match config.resolve() {
                Ok(settings) => {
                    prop_assert!(matches!(settings.token_url.scheme(), "http" | "https"));
                    prop_assert!(settings.refresh_skew <= Duration::from_secs(MAX_SECONDS));
                    prop_assert!(settings.timeout >= Duration::from_millis(1));
                    let shown = format!("{:?}", settings);
                    prop_assert!(shown.contains("client_secret: <redacted>"), "{}", shown);
                }
                Err(error) => prop_assert!(matches!(error.kind(), ErrorKind::Config | ErrorKind::Internal), "{:?}", error),
            }
        }

        #[test]
        fn numbers_are_accepted_exactly_in_range(n in 0u64..2_000_000, key in proptest::sample::select(&["timeout_ms", "connect_timeout_ms", "refresh_skew_secs", "default_lifetime_secs"][..])) {
            let (min, max) = match key {
                "timeout_ms" | "connect_timeout_ms" => (1, MAX_MILLIS),
                "refresh_skew_secs" => (0, MAX_SECONDS),
                _ => (1, MAX_SECONDS),
            };
            let accepted = Config::new().set(key, &n.to_string()).is_ok();
            prop_assert_eq!(accepted, (min..=max).contains(&n), "{}={}", key, n);
            // Surrounding spaces are trimmed; a sign or a fraction is not a whole number.
            prop_assert_eq!(Config::new().set(key, &format!(" {n} ")).is_ok(), accepted);
            let (fraction, negative) = (format!("{n}.5"), format!("-{n}"));
            prop_assert!(Config::new().set(key, &fraction).is_err());
            prop_assert!(Config::new().set(key, &negative).is_err());
        }
    }
}
