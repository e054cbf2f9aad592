//! `hctoken serve`: a local emulator of every profile's token endpoint (docs/emulator.md).
//! Strict where the vendor pages are strict, so a client that passes here sends what the real
//! endpoints expect. Loopback only; quiet unless asked, so a parent that never reads its
//! output cannot block it.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde_json::{json, Value};

use super::args::Args;
use super::exit::Failure;
use super::http::{Request, Response};

pub const USAGE: &str = "\
usage: hctoken serve [--port N] [--client-id ID] [--client-secret S] [--lifetime SECS]
                     [--latency-ms MS] [--watch-stdin] [--verbose]

Runs a local emulator of every profile's token endpoint on 127.0.0.1 and prints its
base URL (http://127.0.0.1:PORT) on the first line of standard output. See docs/emulator.md.

  --port N          port on 127.0.0.1, 0 to 65535 (default 0: a free port)
  --client-id ID    the one client id it accepts (default test-client)
  --client-secret S the one secret it accepts (default $HCTOKEN_SERVE_SECRET, else
                    test-secret); a test fixture's secret, not a real one
  --lifetime SECS   expires_in of every token (default: each profile's own)
  --latency-ms MS   delay before answering each token request (default 0)
  --watch-stdin     exit when standard input reaches end of file
  --verbose         log each request to standard error: method, path, status,
                    duration (never a header, a body, a secret or a token)

Request bodies over 64 KiB are refused with 413 unread.

";

const ISSUER: &str = "hctoken-serve";

#[derive(Clone, Copy, PartialEq)]
enum Endpoint {
    ChangeHealthcareV2,
    ChangeHealthcareV1,
    OptumV3,
    NikoHealth,
    Generic,
}

impl Endpoint {
    fn from_path(path: &str) -> Option<Endpoint> {
        // Tolerate the trailing slash the Change Healthcare page shows.
        match path.trim_end_matches('/') {
            "/apip/auth/v2/token" => Some(Endpoint::ChangeHealthcareV2),
            "/apip/auth/v1/token" => Some(Endpoint::ChangeHealthcareV1),
            "/auth/sntl/v1/token" => Some(Endpoint::OptumV3),
            "/api/identity/connect/token" => Some(Endpoint::NikoHealth),
            "/oauth2/token" => Some(Endpoint::Generic),
            _ => None,
        }
    }

    fn default_lifetime(self) -> u64 {
        match self {
            Endpoint::OptumV3 => 7200,
            Endpoint::NikoHealth => 1200,
            _ => 3600,
        }
    }
}

struct State {
    client_id: String,
    client_secret: String,
    lifetime: Option<u64>,
    latency: Duration,
    requests_by_path: Mutex<BTreeMap<String, u64>>,
    next_jti: AtomicU64,
    /// Tokens with a jti at or below this were revoked.
    revoked_through: AtomicU64,
}

pub fn run(raw: &[String]) -> Result<(), Failure> {
    let args = Args::parse(
        raw,
        &["watch-stdin", "verbose"],
        &["port", "client-id", "client-secret", "lifetime", "latency-ms"],
    )?;
    let port = args.port("port")?;
    let lifetime = match args.value("lifetime") {
        Some(_) => Some(args.number("lifetime", 0)?),
        None => None,
    };
    let secret = args
        .value("client-secret")
        .map(str::to_owned)
        .or_else(|| std::env::var("HCTOKEN_SERVE_SECRET").ok())
        .unwrap_or_else(|| "test-secret".to_owned());
    let state = Arc::new(State {
        client_id: args.value("client-id").unwrap_or("test-client").to_owned(),
        client_secret: secret,
        lifetime,
        latency: Duration::from_millis(args.number("latency-ms", 0)?),
        requests_by_path: Mutex::new(BTreeMap::new()),
        next_jti: AtomicU64::new(1),
        revoked_through: AtomicU64::new(0),
    });

    let listener = TcpListener::bind(("127.0.0.1", port)).map_err(|e| Failure::Other(format!("cannot listen on 127.0.0.1:{port}: {e}")))?;
    let address = listener.local_addr().map_err(|e| Failure::Other(e.to_string()))?;
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "http://{address}").and_then(|_| stdout.flush()).map_err(|e| Failure::Other(e.to_string()))?;
    }
    if args.flag("watch-stdin") {
        std::thread::spawn(|| {
            let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
            std::process::exit(0);
        });
    }
    super::http::serve(listener, Arc::new(move |request: &Request| handle(&state, request)), args.flag("verbose"));
    Ok(())
}

fn handle(state: &State, request: &Request) -> Response {
    let path = request.path();
    let method = request.method.as_str();
    let (status, answer, extra_header) = match (method, path) {
        ("POST", p) if Endpoint::from_path(p).is_some() => {
            let endpoint = Endpoint::from_path(p).unwrap_or(Endpoint::Generic);
            *state.requests_by_path.lock().unwrap().entry(p.to_owned()).or_default() += 1;
            if !state.latency.is_zero() {
                std::thread::sleep(state.latency);
            }
            match issue(state, endpoint, request, &request.body) {
                Ok(answer) => (200, answer, None),
                Err((status, error, description)) => {
                    (status, json!({"error": error, "error_description": description}), None)
                }
            }
        }
        ("GET", "/_hctoken/stats") => {
            let by_path = state.requests_by_path.lock().unwrap().clone();
            let total: u64 = by_path.values().sum();
            (200, json!({"token_requests": total, "by_path": by_path}), None)
        }
        ("POST", "/_hctoken/reset") => {
            state.requests_by_path.lock().unwrap().clear();
            (200, json!({"ok": true}), None)
        }
        ("POST", "/_hctoken/revoke") => {
            let last_issued = state.next_jti.load(Ordering::SeqCst) - 1;
            state.revoked_through.store(last_issued, Ordering::SeqCst);
            (200, json!({"ok": true, "revoked_through": last_issued}), None)
        }
        ("GET", "/api/resource") => {
            if bearer_is_valid(state, request) {
                (200, json!({"ok": true}), None)
            } else {
                let challenge = ("WWW-Authenticate", r#"Bearer error="invalid_token""#.to_owned());
                (401, json!({"error": "invalid_token"}), Some(challenge))
            }
        }
        _ => (404, Value::String(format!("no endpoint {method} {path}")), None),
    };
    // Unknown paths answer plain text, as real gateways do, not an OAuth error body.
    let (body, content_type) = match answer {
        Value::String(text) => (text, "text/plain"),
        json => (json.to_string(), "application/json"),
    };
    Response { status, content_type, body, headers: extra_header.into_iter().collect() }
}

type Refusal = (u16, &'static str, String);

fn issue(state: &State, endpoint: Endpoint, request: &Request, body: &[u8]) -> Result<Value, Refusal> {
    let content_type = request.header("Content-Type").unwrap_or_default().to_ascii_lowercase();
    let is_json = content_type.starts_with("application/json");
    let is_form = content_type.starts_with("application/x-www-form-urlencoded");
    let params: BTreeMap<String, String> = match endpoint {
        // "can only be sent in application/x-www-form-urlencoded format"
        Endpoint::OptumV3 | Endpoint::NikoHealth if !is_form => {
            return Err((415, "invalid_request", "this endpoint takes application/x-www-form-urlencoded bodies only".into()))
        }
        _ if is_json => match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => map.into_iter().filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_owned()))).collect(),
            _ => return Err((400, "invalid_request", "the body is not a JSON object".into())),
        },
        _ if is_form => form_urlencoded::parse(body).into_owned().collect(),
        _ => return Err((415, "invalid_request", "send a JSON or form-urlencoded body".into())),
    };

    let basic = request.header("Authorization").and_then(parse_basic);
    let credentials = match (endpoint, basic) {
        (Endpoint::NikoHealth, None) => {
            return Err((401, "invalid_client", "HTTP Basic client authentication is required".into()))
        }
        (Endpoint::ChangeHealthcareV2 | Endpoint::ChangeHealthcareV1 | Endpoint::OptumV3, Some(_)) => {
            return Err((400, "invalid_request", "send client_id and client_secret in the body".into()))
        }
        (_, Some(pair)) => {
            if params.contains_key("client_secret") {
                return Err((400, "invalid_request", "use one client authentication method, not two".into()));
            }
            pair
        }
        (_, None) => (
            params.get("client_id").cloned().unwrap_or_default(),
            params.get("client_secret").cloned().unwrap_or_default(),
        ),
    };
    if credentials.0 != state.client_id || credentials.1 != state.client_secret {
        return Err((401, "invalid_client", "unknown client or wrong secret".into()));
    }
    match params.get("grant_type").map(String::as_str) {
        Some("client_credentials") => {}
        None => return Err((400, "invalid_request", "grant_type is missing".into())),
        Some(_) => return Err((400, "unsupported_grant_type", "only client_credentials is supported".into())),
    }
    let scope = params.get("scope").cloned();
    if endpoint == Endpoint::NikoHealth && scope.as_deref().is_some_and(|s| s != "external") {
        return Err((400, "invalid_scope", "the only scope is external".into()));
    }
    if scope.as_deref().is_some_and(|s| s.split(' ').any(|part| part == "forbidden")) {
        return Err((400, "invalid_scope", "scope 'forbidden' is not granted to this client".into()));
    }

    let lifetime = state.lifetime.unwrap_or_else(|| endpoint.default_lifetime());
    let token = mint(state, lifetime, scope.as_deref());
    Ok(match endpoint {
        Endpoint::ChangeHealthcareV2 => json!({"access_token": token, "token_type": "bearer", "expires_in": lifetime}),
        Endpoint::ChangeHealthcareV1 => json!({"accessToken": token, "token_type": "bearer", "expires_in": lifetime}),
        Endpoint::OptumV3 => json!({
            "access_token": token, "expires_in": lifetime, "refresh_expires_in": 0, "token_type": "Bearer",
            "not-before-policy": 0, "scope": "broker-read-token idp openid email profile"
        }),
        Endpoint::NikoHealth => json!({"access_token": token, "expires_in": lifetime, "token_type": "Bearer", "scope": "external"}),
        Endpoint::Generic => {
            let mut answer = json!({"access_token": token, "token_type": "Bearer", "expires_in": lifetime});
            if let Some(scope) = scope {
                answer["scope"] = scope.into();
            }
            answer
        }
    })
}

fn mint(state: &State, lifetime: u64, scope: Option<&str>) -> String {
    let now = unix_now();
    let jti = state.next_jti.fetch_add(1, Ordering::SeqCst);
    let claims = json!({
        "iss": ISSUER, "sub": state.client_id, "iat": now, "exp": now + lifetime, "jti": jti, "scope": scope,
    });
    let encode = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    format!("{}.{}.{}", encode(&json!({"alg": "none", "typ": "JWT"})), encode(&claims), "c2lnbmF0dXJl")
}

fn bearer_is_valid(state: &State, request: &Request) -> bool {
    let Some(token) = request.header("Authorization").and_then(|h| h.strip_prefix("Bearer ")) else {
        return false;
    };
    let Some(payload) = token.split('.').nth(1) else { return false };
    let Ok(bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload) else { return false };
    let Ok(claims) = serde_json::from_slice::<Value>(&bytes) else { return false };
    let jti = claims["jti"].as_u64().unwrap_or(0);
    claims["iss"] == ISSUER
        && claims["exp"].as_u64().is_some_and(|exp| exp > unix_now())
        && jti > state.revoked_through.load(Ordering::SeqCst)
        && jti < state.next_jti.load(Ordering::SeqCst)
}

fn parse_basic(value: &str) -> Option<(String, String)> {
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    // RFC 6749 section 2.3.1: both halves are form-urlencoded.
    let unescape = |s: &str| form_urlencoded::parse(format!("v={s}").as_bytes()).next().map(|(_, v)| v.into_owned());
    Some((unescape(id)?, unescape(secret)?))
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}
