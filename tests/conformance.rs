//! Conformance of hctoken against OAuth 2.0 authorization servers that other people wrote:
//! `oidc-provider` (OpenID certified) and `oauth2-mock-server`, run from tests/peers/ on
//! 127.0.0.1 by the tests themselves. Our own emulator (`hctoken serve`) only checks our reading
//! of the specs against itself; these servers check it against theirs.
//!
//! Needs Node.js 20.19 or later and `npm ci --prefix tests/peers`. Without them every test here
//! fails (never passes silently) with a message that says so. tests/peers/README.md describes
//! the clients the servers know; docs/conformance.md has the table of results.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::thread;
use std::time::Duration;

use base64::Engine as _;
use hctoken::{AccessToken, Client, Config, Error, ErrorKind};
use serde_json::Value;

const INSTALL_HINT: &str = "the conformance servers are not installed: run `npm ci --prefix tests/peers` \
     (needs Node.js 20.19 or later and npm on PATH)";
/// Generous: a cold start of Node with oidc-provider on a busy 2-core machine.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
/// How far a token's remaining lifetime may fall below the server's figure: the time between
/// the request and the assertion, on a loaded machine.
const LIFETIME_SLACK_SECS: u64 = 60;

/// The resource server of oidc.mjs that gets JWT access tokens.
const RESOURCE: &str = "https://api.conformance.test/";
/// Lifetimes configured in tests/peers: distinct, so a test can tell which one the library used.
const OIDC_OPAQUE_TTL_SECS: u64 = 600;
const OIDC_JWT_TTL_SECS: u64 = 1800;
const MOCK_TTL_SECS: u64 = 3600;
/// `default_lifetime_secs` in the tests that must not fall back to it (and one that must).
const DEFAULT_LIFETIME_SECS: u64 = 300;
/// A secret with the characters RFC 6749 section 2.3.1 makes clients form-encode in Basic.
const SPECIAL_SECRET: &str = "p&ss:w%rd +/=?";

// ---------------------------------------------------------------------------------------------
// The servers

/// A peer server process. It exits when its stdin closes, which happens when this test process
/// ends, however it ends; so the process is simply kept for the life of the test binary.
struct Peer {
    base_url: String,
    _process: Mutex<(Child, ChildStdin)>,
}

impl Peer {
    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }
}

fn peers_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("peers")
}

/// Node on PATH and the pinned packages in tests/peers/node_modules, or a message saying what to do.
fn check_installed() -> Result<(), String> {
    let version = match Command::new("node").arg("--version").stdin(Stdio::null()).output() {
        Ok(output) if output.status.success() => String::from_utf8_lossy(&output.stdout).trim().to_owned(),
        Ok(output) => return Err(format!("{INSTALL_HINT}; `node --version` failed: {}", output.status)),
        Err(e) => return Err(format!("{INSTALL_HINT}; `node` could not be started: {e}")),
    };
    // oauth2-mock-server needs 20.19 (ES modules loaded with require); older Node fails obscurely.
    let numbers: Vec<u32> = version.trim_start_matches('v').split('.').map_while(|n| n.parse().ok()).collect();
    if numbers.len() < 2 || (numbers[0], numbers[1]) < (20, 19) {
        return Err(format!("{INSTALL_HINT}; this is Node.js {version}"));
    }
    for package in ["oidc-provider", "oauth2-mock-server"] {
        let manifest = peers_dir().join("node_modules").join(package).join("package.json");
        if !manifest.is_file() {
            return Err(format!("{INSTALL_HINT}; {} is missing", manifest.display()));
        }
    }
    Ok(())
}

/// Starts `node <script>` in tests/peers and reads its base URL from the first stdout line.
fn start(script: &str) -> Peer {
    if let Err(message) = check_installed() {
        panic!("{message}");
    }
    let mut child = Command::new("node")
        .arg(script)
        .current_dir(peers_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start node {script}: {e}"));
    let stdin = child.stdin.take().expect("stdin is piped");

    // Keep stderr (version warnings, and the reason when startup fails) without showing it.
    let stderr_text = Arc::new(Mutex::new(String::new()));
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let sink = Arc::clone(&stderr_text);
    thread::spawn(move || {
        let mut buffer = [0u8; 4096];
        while let Ok(n @ 1..) = stderr.read(&mut buffer) {
            let mut text = sink.lock().unwrap();
            if text.len() < 64 * 1024 {
                text.push_str(&String::from_utf8_lossy(&buffer[..n]));
            }
        }
    });

    // First line is the base URL; the rest is drained so the pipe never fills.
    let stdout = child.stdout.take().expect("stdout is piped");
    let (first_line, received) = mpsc::channel();
    thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let _ = first_line.send(lines.next());
        lines.for_each(drop);
    });

    let base_url = match received.recv_timeout(STARTUP_TIMEOUT) {
        Ok(Some(Ok(line))) if line.starts_with("http://127.0.0.1:") => line.trim().to_owned(),
        outcome => {
            let _ = child.kill();
            let _ = child.wait();
            thread::sleep(Duration::from_millis(200)); // let the stderr reader catch up
            panic!(
                "node {script} did not print its base URL ({outcome:?}); its stderr:\n{}",
                stderr_text.lock().unwrap()
            );
        }
    };
    Peer { base_url, _process: Mutex::new((child, stdin)) }
}

fn oidc_provider() -> &'static Peer {
    static PEER: OnceLock<Peer> = OnceLock::new();
    PEER.get_or_init(|| start("oidc.mjs"))
}

fn mock_server() -> &'static Peer {
    static PEER: OnceLock<Peer> = OnceLock::new();
    PEER.get_or_init(|| start("mock.mjs"))
}

// ---------------------------------------------------------------------------------------------
// The library, as a user drives it

fn client(settings: &[(&str, &str)]) -> Client {
    let mut config = Config::new();
    for (key, value) in settings {
        config.set(key, value).unwrap_or_else(|e| panic!("config.set({key:?}): {e}"));
    }
    Client::new(&config).unwrap_or_else(|e| panic!("Client::new: {e}"))
}

fn token(settings: &[(&str, &str)]) -> AccessToken {
    client(settings).token().unwrap_or_else(|e| panic!("token() failed: {:?}: {e}", e.kind()))
}

fn refusal(settings: &[(&str, &str)]) -> Error {
    match client(settings).token() {
        Ok(_) => panic!("the server issued a token; expected a refusal"),
        Err(e) => e,
    }
}

/// The claims of a JWT access token, unverified: the tests only read what the server recorded.
fn jwt_claims(token: &AccessToken) -> Value {
    let payload = token.as_str().split('.').nth(1).expect("the access token is a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).expect("base64url payload");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

fn assert_lifetime(token: &AccessToken, server_secs: u64) {
    let remaining = token.expires_in().as_secs();
    assert!(
        remaining <= server_secs && remaining + LIFETIME_SLACK_SECS >= server_secs,
        "remaining lifetime {remaining} s; the server issued the token for {server_secs} s"
    );
}

fn assert_oauth_error(error: &Error, expected_message: &str, secret: &str) {
    assert_eq!(error.kind(), ErrorKind::OAuth, "{error}");
    assert_eq!(error.message(), expected_message);
    assert!(!error.to_string().contains(secret) && !format!("{error:?}").contains(secret));
}

// ---------------------------------------------------------------------------------------------
// Installation

#[test]
fn servers_are_installed() {
    if let Err(message) = check_installed() {
        panic!("{message}");
    }
}

/// docs/conformance.md must describe the versions the lockfile pins, not older ones.
#[test]
fn results_table_names_the_pinned_versions() {
    let lock: Value =
        serde_json::from_str(&std::fs::read_to_string(peers_dir().join("package-lock.json")).unwrap()).unwrap();
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/conformance.md")).unwrap();
    for package in ["oidc-provider", "oauth2-mock-server"] {
        let version = lock["packages"][format!("node_modules/{package}")]["version"].as_str().unwrap();
        let row = format!("| {package} | {version} |");
        assert!(doc.contains(&row), "docs/conformance.md has no row starting `{row}`: rerun and update it");
    }
}

// ---------------------------------------------------------------------------------------------
// oidc-provider: the generic profile with each client authentication method

fn oidc_token_url() -> String {
    oidc_provider().url("/token")
}

#[test]
fn oidc_provider_generic_basic() {
    let url = oidc_token_url();
    let token = token(&[
        ("profile", "generic"),
        ("token_url", &url),
        ("client_id", "basic-client"),
        ("client_secret", "basic-client-secret"),
        ("auth_method", "basic"),
        ("scope", "read"),
    ]);
    assert!(!token.as_str().is_empty());
    assert_lifetime(&token, OIDC_OPAQUE_TTL_SECS);
}

#[test]
fn oidc_provider_generic_post() {
    let url = oidc_token_url();
    let token = token(&[
        ("profile", "generic"),
        ("token_url", &url),
        ("client_id", "post-client"),
        ("client_secret", "post-client-secret"),
        ("auth_method", "post"),
        ("scope", "read write"),
    ]);
    assert_lifetime(&token, OIDC_OPAQUE_TTL_SECS);
}

/// The peer holds each client to its registered method, so the two tests above prove the
/// library used the method it was configured with.
#[test]
fn oidc_provider_refuses_the_method_a_client_is_not_registered_for() {
    let url = oidc_token_url();
    let error = refusal(&[
        ("token_url", &url),
        ("client_id", "basic-client"),
        ("client_secret", "basic-client-secret"),
        ("auth_method", "post"),
    ]);
    assert_oauth_error(
        &error,
        "token endpoint refused the request: invalid_client: client authenticated with client_secret_post \
         but is registered for client_secret_basic",
        "basic-client-secret",
    );
}

/// RFC 6749 section 2.3.1: id and secret are form-urlencoded before they go into Basic.
#[test]
fn oidc_provider_basic_with_reserved_characters_in_the_secret() {
    let url = oidc_token_url();
    for (client_id, method) in [("special-basic-client", "basic"), ("special-post-client", "post")] {
        let token = token(&[
            ("token_url", &url),
            ("client_id", client_id),
            ("client_secret", SPECIAL_SECRET),
            ("auth_method", method),
        ]);
        assert_lifetime(&token, OIDC_OPAQUE_TTL_SECS);
    }
}

/// RFC 8707 resource indicator: the server issues a JWT for that audience, with the asked scope.
#[test]
fn oidc_provider_resource_indicator_gives_a_jwt_for_that_resource() {
    let url = oidc_token_url();
    let token = token(&[
        ("token_url", &url),
        ("client_id", "resource-client"),
        ("client_secret", "resource-client-secret"),
        ("scope", "read"),
        ("resource", RESOURCE),
    ]);
    let claims = jwt_claims(&token);
    assert_eq!(claims["aud"], RESOURCE, "{claims}");
    assert_eq!(claims["scope"], "read", "{claims}");
    assert_eq!(claims["client_id"], "resource-client", "{claims}");
    assert_lifetime(&token, OIDC_JWT_TTL_SECS);
}

#[test]
fn oidc_provider_without_expires_in_uses_the_jwt_exp() {
    let url = oidc_token_url();
    let default_lifetime = DEFAULT_LIFETIME_SECS.to_string();
    let token = token(&[
        ("token_url", &url),
        ("client_id", "no-expires-in-client"),
        ("client_secret", "no-expires-in-client-secret"),
        ("resource", RESOURCE),
        ("default_lifetime_secs", &default_lifetime),
    ]);
    assert_lifetime(&token, OIDC_JWT_TTL_SECS);
}

/// An opaque token and no expires_in: nothing says when it expires, so the configured default.
#[test]
fn oidc_provider_without_expires_in_or_jwt_uses_the_default_lifetime() {
    let url = oidc_token_url();
    let default_lifetime = DEFAULT_LIFETIME_SECS.to_string();
    let token = token(&[
        ("token_url", &url),
        ("client_id", "no-expires-in-client"),
        ("client_secret", "no-expires-in-client-secret"),
        ("default_lifetime_secs", &default_lifetime),
    ]);
    assert_lifetime(&token, DEFAULT_LIFETIME_SECS);
}

#[test]
fn oidc_provider_token_is_cached_until_invalidated() {
    let url = oidc_token_url();
    let client =
        client(&[("token_url", &url), ("client_id", "basic-client"), ("client_secret", "basic-client-secret")]);
    let first = client.token().unwrap();
    assert_eq!(client.token().unwrap().as_str(), first.as_str(), "a fresh token is served from the cache");
    client.invalidate();
    assert_ne!(client.token().unwrap().as_str(), first.as_str(), "invalidate fetches a new token");
}

/// optum-v3 sends client_secret_post: the peer's post client takes it as is.
#[test]
fn oidc_provider_optum_v3_profile() {
    let url = oidc_token_url();
    let token = token(&[
        ("profile", "optum-v3"),
        ("token_url", &url),
        ("client_id", "post-client"),
        ("client_secret", "post-client-secret"),
    ]);
    assert_lifetime(&token, OIDC_OPAQUE_TTL_SECS);
}

/// nikohealth sends Basic and scope `external`, which this server does not know and ignores.
#[test]
fn oidc_provider_nikohealth_profile() {
    let url = oidc_token_url();
    let token = token(&[
        ("profile", "nikohealth"),
        ("token_url", &url),
        ("client_id", "basic-client"),
        ("client_secret", "basic-client-secret"),
    ]);
    assert_lifetime(&token, OIDC_OPAQUE_TTL_SECS);
}

// ---------------------------------------------------------------------------------------------
// oidc-provider: refusals carry the server's error code and description

#[test]
fn oidc_provider_wrong_secret() {
    let url = oidc_token_url();
    let error = refusal(&[("token_url", &url), ("client_id", "basic-client"), ("client_secret", "wrong-secret-123")]);
    assert_oauth_error(
        &error,
        "token endpoint refused the request: invalid_client: client authentication failed",
        "wrong-secret-123",
    );
}

#[test]
fn oidc_provider_unknown_client() {
    let url = oidc_token_url();
    let error = refusal(&[
        ("token_url", &url),
        ("client_id", "nobody"),
        ("client_secret", "nobody-secret-456"),
        ("auth_method", "post"),
    ]);
    assert_oauth_error(
        &error,
        "token endpoint refused the request: invalid_client: client authentication failed",
        "nobody-secret-456",
    );
}

/// A server with the client-credentials grant switched off.
#[test]
fn oidc_provider_unsupported_grant() {
    let url = oidc_provider().url("/without-client-credentials/token");
    let error =
        refusal(&[("token_url", &url), ("client_id", "basic-client"), ("client_secret", "basic-client-secret")]);
    assert_oauth_error(
        &error,
        "token endpoint refused the request: unsupported_grant_type: unsupported grant_type requested",
        "basic-client-secret",
    );
}

/// A client registered for the authorization-code grant only (oidc-provider answers
/// invalid_request here, where RFC 6749 suggests unauthorized_client).
#[test]
fn oidc_provider_grant_not_allowed_for_the_client() {
    let url = oidc_token_url();
    let error = refusal(&[
        ("token_url", &url),
        ("client_id", "code-only-client"),
        ("client_secret", "code-only-client-secret"),
    ]);
    assert_oauth_error(
        &error,
        "token endpoint refused the request: invalid_request: requested grant type is not allowed for this client",
        "code-only-client-secret",
    );
}

#[test]
fn oidc_provider_bad_scope() {
    let url = oidc_token_url();
    let error = refusal(&[
        ("token_url", &url),
        ("client_id", "basic-client"),
        ("client_secret", "basic-client-secret"),
        ("scope", "read admin"),
    ]);
    assert_oauth_error(
        &error,
        "token endpoint refused the request: invalid_scope: requested scope is not allowed",
        "basic-client-secret",
    );
}

#[test]
fn oidc_provider_unknown_resource() {
    let url = oidc_token_url();
    let error = refusal(&[
        ("token_url", &url),
        ("client_id", "resource-client"),
        ("client_secret", "resource-client-secret"),
        ("resource", "https://elsewhere.conformance.test/"),
    ]);
    assert_oauth_error(
        &error,
        "token endpoint refused the request: invalid_target: resource indicator is missing, or unknown",
        "resource-client-secret",
    );
}

/// oidc-provider takes form bodies only. A JSON-body profile pointed at it must be refused
/// with a message that sends the user to the right profile or auth_method.
#[test]
fn oidc_provider_refuses_a_json_body_and_the_message_says_what_to_change() {
    let url = oidc_token_url();
    for profile_settings in
        [vec![("profile", "change-healthcare-v2")], vec![("profile", "generic"), ("auth_method", "json")]]
    {
        let mut settings =
            vec![("token_url", url.as_str()), ("client_id", "post-client"), ("client_secret", "post-client-secret")];
        settings.extend(profile_settings);
        let error = refusal(&settings);
        assert_eq!(error.kind(), ErrorKind::OAuth, "{error}");
        let message = error.message();
        assert!(
            message.starts_with(
                "token endpoint refused the request: invalid_request: only application/x-www-form-urlencoded \
                 content-type bodies are supported on POST /token"
            ),
            "{message}"
        );
        for advice in ["JSON body", "form-urlencoded", "auth_method basic or post", "profile"] {
            assert!(message.contains(advice), "the message does not mention `{advice}`: {message}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// oauth2-mock-server: its JWT access tokens record how the request arrived (see mock.mjs)

fn mock_token_url() -> String {
    mock_server().url("/token")
}

fn mock_token(extra: &[(&str, &str)]) -> AccessToken {
    let url = mock_token_url();
    let mut settings =
        vec![("token_url", url.as_str()), ("client_id", "mock-client"), ("client_secret", "mock-client-secret")];
    settings.extend_from_slice(extra);
    token(&settings)
}

#[test]
fn mock_server_generic_basic_with_scope_audience_and_resource() {
    let token = mock_token(&[
        ("profile", "generic"),
        ("auth_method", "basic"),
        ("scope", "read write"),
        ("audience", "https://audience.conformance.test"),
        ("resource", RESOURCE),
    ]);
    let claims = jwt_claims(&token);
    assert_eq!(claims["client_auth"], "client_secret_basic", "{claims}");
    assert_eq!(claims["client_id"], "mock-client", "{claims}");
    assert_eq!(claims["scope"], "read write", "{claims}");
    assert_eq!(claims["audience"], "https://audience.conformance.test", "{claims}");
    assert_eq!(claims["resource"], RESOURCE, "{claims}");
    assert_lifetime(&token, MOCK_TTL_SECS);
}

#[test]
fn mock_server_generic_post() {
    let token = mock_token(&[("auth_method", "post"), ("scope", "read")]);
    let claims = jwt_claims(&token);
    assert_eq!(claims["client_auth"], "client_secret_post", "{claims}");
    assert_eq!(claims["content_type"], "application/x-www-form-urlencoded", "{claims}");
    assert_eq!(claims["scope"], "read", "{claims}");
    assert_lifetime(&token, MOCK_TTL_SECS);
}

#[test]
fn mock_server_generic_json() {
    let token = mock_token(&[("auth_method", "json"), ("scope", "read")]);
    let claims = jwt_claims(&token);
    assert_eq!(claims["client_auth"], "json_body", "{claims}");
    assert_eq!(claims["content_type"], "application/json", "{claims}");
    assert_eq!(claims["scope"], "read", "{claims}");
    assert_lifetime(&token, MOCK_TTL_SECS);
}

#[test]
fn mock_server_change_healthcare_v2_profile() {
    let token = mock_token(&[("profile", "change-healthcare-v2")]);
    assert_eq!(jwt_claims(&token)["client_auth"], "json_body");
    assert_lifetime(&token, MOCK_TTL_SECS);
}

/// v1 reads `accessToken`, and `access_token` too, as the v2 page says the API stays compatible.
#[test]
fn mock_server_change_healthcare_v1_profile() {
    let token = mock_token(&[("profile", "change-healthcare-v1")]);
    assert_eq!(jwt_claims(&token)["client_auth"], "json_body");
    assert_lifetime(&token, MOCK_TTL_SECS);
}

#[test]
fn mock_server_optum_v3_profile() {
    let token = mock_token(&[("profile", "optum-v3")]);
    assert_eq!(jwt_claims(&token)["client_auth"], "client_secret_post");
    assert_lifetime(&token, MOCK_TTL_SECS);
}

#[test]
fn mock_server_nikohealth_profile_sends_basic_and_scope_external() {
    let token = mock_token(&[("profile", "nikohealth")]);
    let claims = jwt_claims(&token);
    assert_eq!(claims["client_auth"], "client_secret_basic", "{claims}");
    assert_eq!(claims["scope"], "external", "{claims}");
    assert_lifetime(&token, MOCK_TTL_SECS);
}

#[test]
fn mock_server_without_expires_in_uses_the_jwt_exp() {
    let url = mock_token_url();
    let default_lifetime = DEFAULT_LIFETIME_SECS.to_string();
    let token = token(&[
        ("token_url", &url),
        ("client_id", "no-expires-in-client"),
        ("client_secret", "no-expires-in-client-secret"),
        ("default_lifetime_secs", &default_lifetime),
    ]);
    assert_lifetime(&token, MOCK_TTL_SECS);
}

#[test]
fn mock_server_wrong_secret() {
    let url = mock_token_url();
    for method in ["basic", "post", "json"] {
        let error = refusal(&[
            ("token_url", &url),
            ("client_id", "mock-client"),
            ("client_secret", "wrong-secret-789"),
            ("auth_method", method),
        ]);
        let expected = "token endpoint refused the request: invalid_client: unknown client or wrong secret";
        if method == "json" {
            // A refused JSON body also carries the hint about form bodies.
            assert_eq!(error.kind(), ErrorKind::OAuth, "{error}");
            assert!(error.message().starts_with(expected), "{error}");
        } else {
            assert_oauth_error(&error, expected, "wrong-secret-789");
        }
    }
}

#[test]
fn mock_server_unknown_client() {
    let url = mock_token_url();
    let error = refusal(&[("token_url", &url), ("client_id", "nobody"), ("client_secret", "nobody-secret-000")]);
    assert_oauth_error(
        &error,
        "token endpoint refused the request: invalid_client: unknown client or wrong secret",
        "nobody-secret-000",
    );
}
