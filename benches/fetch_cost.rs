//! The cost of one token fetch against a local keep-alive server (no latency), so the client's
//! own work shows: hctoken (invalidate + get) beside a plain ureq POST on the same HTTP stack
//! (and the same POST plus a JSON parse), and beside the Rust `oauth2` crate driven over the same
//! ureq agent. Then, on the same server in the same run, the Python peers
//! (scripts/bench_peers.py: authlib, requests-oauthlib, and hctoken through its Python binding),
//! when HCT_BENCH_PYTHON names a Python that has them (scripts/bench.sh sets it up).

mod support;

use std::hint::black_box;
use std::io::Read;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use criterion::Criterion;
use oauth2::basic::BasicClient;
use oauth2::{ClientId, ClientSecret, TokenResponse, TokenUrl};

use support::shared_library::{self, SharedLibrary};
use support::token_server::TokenServer;
use support::{CLIENT_ID, CLIENT_SECRET};

fn main() {
    let server = TokenServer::start();
    let mut criterion = support::criterion().configure_from_args();
    fetch(&mut criterion, &server.token_url());
    criterion.final_summary();
    if support::full_run() {
        python_peers(&server.token_url());
    }
}

fn agent() -> ureq::Agent {
    // As the library builds its own with default settings: no redirects, and the default
    // connect and overall timeouts (which cost socket-option calls on every request).
    ureq::AgentBuilder::new()
        .redirects(0)
        .timeout_connect(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .build()
}

fn fetch(c: &mut Criterion, token_url: &str) {
    let mut group = c.benchmark_group("fetch");

    let client = hctoken::Client::new(&support::rust_config(token_url)).unwrap();
    group.bench_function("hctoken_rust", |b| {
        b.iter(|| {
            client.invalidate();
            client.with_token(str::len).unwrap()
        })
    });

    if let Ok(library) = SharedLibrary::open(&shared_library::default_path()) {
        let client = library.client(token_url);
        let mut buf = vec![0u8; 4096];
        group.bench_function("hctoken_so", |b| {
            b.iter(|| {
                client.invalidate();
                client.get_token_into(&mut buf)
            })
        });
    } else {
        eprintln!("skipping hctoken_so: build the release library first (cargo build --release --lib)");
    }

    let agent = agent();
    let authorization = format!("Basic {}", STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}")));
    let post = || {
        let response = agent
            .post(token_url)
            .set("Content-Type", "application/x-www-form-urlencoded")
            .set("Accept", "application/json")
            .set("Authorization", &authorization)
            .send_bytes(b"grant_type=client_credentials")
            .unwrap();
        let mut body = Vec::with_capacity(2048);
        response.into_reader().read_to_end(&mut body).unwrap();
        body
    };
    group.bench_function("ureq_post", |b| b.iter(|| post().len()));
    group.bench_function("ureq_post_and_json_parse", |b| {
        b.iter(|| {
            let body: serde_json::Value = serde_json::from_slice(&post()).unwrap();
            black_box(body["access_token"].as_str().unwrap().len())
        })
    });

    let oauth = BasicClient::new(ClientId::new(CLIENT_ID.to_owned()))
        .set_client_secret(ClientSecret::new(CLIENT_SECRET.to_owned()))
        .set_token_uri(TokenUrl::new(token_url.to_owned()).unwrap());
    let http = |request: oauth2::HttpRequest| over_ureq(&agent, request);
    group.bench_function("oauth2_crate", |b| {
        b.iter(|| oauth.exchange_client_credentials().request(&http).unwrap().access_token().secret().len())
    });
    group.finish();
}

/// oauth2's blocking HTTP client interface over a ureq agent (what its `ureq` feature does, but
/// on this crate's ureq build, so both sides use one HTTP stack).
fn over_ureq(agent: &ureq::Agent, request: oauth2::HttpRequest) -> Result<oauth2::HttpResponse, std::io::Error> {
    let mut call = agent.request(request.method().as_str(), &request.uri().to_string());
    for (name, value) in request.headers() {
        call = call.set(name.as_str(), value.to_str().map_err(std::io::Error::other)?);
    }
    let response = match call.send_bytes(request.body()) {
        Ok(response) | Err(ureq::Error::Status(_, response)) => response,
        Err(other) => return Err(std::io::Error::other(other)),
    };
    let mut builder = oauth2::http::Response::builder().status(response.status());
    if let Some(content_type) = response.header("Content-Type") {
        builder = builder.header("Content-Type", content_type);
    }
    let mut body = Vec::new();
    response.into_reader().read_to_end(&mut body)?;
    builder.body(body).map_err(std::io::Error::other)
}

fn python_peers(token_url: &str) {
    let Some(python) = std::env::var_os("HCT_BENCH_PYTHON") else {
        println!("skipping the Python peers: set HCT_BENCH_PYTHON (scripts/bench.sh does)");
        return;
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/bench_peers.py");
    let out = support::results::dir().join("peers.json");
    let status = Command::new(python)
        .arg(script)
        .args(["--token-url", token_url, "--out"])
        .arg(&out)
        .status()
        .expect("run scripts/bench_peers.py");
    assert!(status.success(), "scripts/bench_peers.py failed");
}
