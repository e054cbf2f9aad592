//! The vendor profiles: what each token endpoint expects and answers, from the vendor pages in
//! `shared/seeds/`. A profile supplies defaults; the configuration may override some of them.

/// How the client authenticates to the token endpoint and how the body is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMethod {
    /// HTTP Basic with the client id and secret (RFC 6749 section 2.3.1), form body.
    Basic,
    /// `client_id` and `client_secret` in a form-urlencoded body.
    Post,
    /// `client_id` and `client_secret` in a JSON body (Change Healthcare / Optum v1 and v2).
    Json,
}

impl AuthMethod {
    pub const ACCEPTED: &'static str = "basic, post, json";

    pub fn parse(value: &str) -> Option<AuthMethod> {
        match value {
            "basic" | "client_secret_basic" => Some(AuthMethod::Basic),
            "post" | "client_secret_post" => Some(AuthMethod::Post),
            "json" => Some(AuthMethod::Json),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::Basic => "basic",
            AuthMethod::Post => "post",
            AuthMethod::Json => "json",
        }
    }
}

/// Which environment of a vendor with fixed hosts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Environment {
    Sandbox,
    Production,
}

impl Environment {
    pub const ACCEPTED: &'static str = "sandbox, production";

    pub fn parse(value: &str) -> Option<Environment> {
        match value {
            "sandbox" => Some(Environment::Sandbox),
            "production" => Some(Environment::Production),
            _ => None,
        }
    }
}

/// Where a profile's token URL comes from when `token_url` is not set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UrlSource {
    /// `environment` picks one of two documented hosts; the path is fixed.
    Environment { sandbox_host: &'static str, production_host: &'static str, path: &'static str },
    /// `domain` is the tenant's sub-domain: `https://{domain}.{suffix}{path}`.
    Domain { suffix: &'static str, path: &'static str },
    /// Only `token_url`.
    TokenUrlOnly,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    ChangeHealthcareV2,
    ChangeHealthcareV1,
    OptumV3,
    NikoHealth,
    Generic,
}

impl Profile {
    pub const ACCEPTED: &'static str =
        "change-healthcare-v2, change-healthcare-v1, optum-v3, nikohealth, generic";

    pub fn parse(value: &str) -> Option<Profile> {
        match value {
            // Optum now runs the Change Healthcare platform; its docs call v1/v2 by its own name.
            "change-healthcare-v2" | "optum-v2" => Some(Profile::ChangeHealthcareV2),
            "change-healthcare-v1" | "optum-v1" => Some(Profile::ChangeHealthcareV1),
            "optum-v3" => Some(Profile::OptumV3),
            "nikohealth" => Some(Profile::NikoHealth),
            "generic" => Some(Profile::Generic),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Profile::ChangeHealthcareV2 => "change-healthcare-v2",
            Profile::ChangeHealthcareV1 => "change-healthcare-v1",
            Profile::OptumV3 => "optum-v3",
            Profile::NikoHealth => "nikohealth",
            Profile::Generic => "generic",
        }
    }

    pub fn default_auth_method(self) -> AuthMethod {
        match self {
            Profile::ChangeHealthcareV2 | Profile::ChangeHealthcareV1 => AuthMethod::Json,
            Profile::OptumV3 => AuthMethod::Post,
            Profile::NikoHealth | Profile::Generic => AuthMethod::Basic,
        }
    }

    /// Auth methods the vendor's endpoint is documented to take.
    pub fn allows_auth_method(self, method: AuthMethod) -> bool {
        match self {
            // "can only be sent in application/x-www-form-urlencoded format"
            Profile::OptumV3 => method != AuthMethod::Json,
            _ => true,
        }
    }

    pub fn url_source(self) -> UrlSource {
        const CHC_SANDBOX: &str = "sandbox.apigw.changehealthcare.com";
        const CHC_PRODUCTION: &str = "apigw.changehealthcare.com";
        match self {
            Profile::ChangeHealthcareV2 => UrlSource::Environment {
                sandbox_host: CHC_SANDBOX,
                production_host: CHC_PRODUCTION,
                path: "/apip/auth/v2/token",
            },
            Profile::ChangeHealthcareV1 => UrlSource::Environment {
                sandbox_host: CHC_SANDBOX,
                production_host: CHC_PRODUCTION,
                path: "/apip/auth/v1/token",
            },
            Profile::NikoHealth => {
                UrlSource::Domain { suffix: "nikohealth.com", path: "/api/identity/connect/token" }
            }
            Profile::OptumV3 | Profile::Generic => UrlSource::TokenUrlOnly,
        }
    }

    /// The response field that carries the token, in the order tried.
    pub fn token_fields(self) -> &'static [&'static str] {
        match self {
            // v1 named it `accessToken`; v2 is "backward-compatible", so accept both.
            Profile::ChangeHealthcareV1 => &["accessToken", "access_token"],
            _ => &["access_token"],
        }
    }

    pub fn default_scope(self) -> Option<&'static str> {
        match self {
            Profile::NikoHealth => Some("external"),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_profile_name_round_trips() {
        for profile in [
            Profile::ChangeHealthcareV2,
            Profile::ChangeHealthcareV1,
            Profile::OptumV3,
            Profile::NikoHealth,
            Profile::Generic,
        ] {
            assert_eq!(Profile::parse(profile.name()), Some(profile));
            assert!(Profile::ACCEPTED.contains(profile.name()));
        }
    }

    #[test]
    fn optum_v3_refuses_json_bodies() {
        assert!(!Profile::OptumV3.allows_auth_method(AuthMethod::Json));
        assert!(Profile::OptumV3.allows_auth_method(AuthMethod::Post));
    }
}
