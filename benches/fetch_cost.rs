//! The cost of one token fetch against a local keep-alive server (no latency), so the client's
//! own work shows: hctoken (invalidate + get, over its own HTTP layer, src/http/) beside a plain
//! POST with the ureq 2 client (and the same POST plus a JSON parse), and beside the Rust
//! `oauth2` crate driven over that ureq agent. Then, on the same server in the same run, the Python peers
//! (scripts/bench_peers.py: authlib, requests-oauthlib, and hctoken through its Python binding),
//! when HCT_BENCH_PYTHON names a Python that has them (scripts/bench.sh sets it up).

mod support;

use std::hint::black_box;
use std::io::Read;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use criterion::Criterion;
use oauth2::basic::BasicClient;
use oauth2::{ClientId, ClientSecret, TokenResponse, TokenUrl};

use support::shared_library::{self, SharedLibrary};
use support::token_server::TokenServer;
use support::{CLIENT_ID, CLIENT_SECRET};

fn main() {
    pin_to_one_cpu();
    let server = TokenServer::start();
    let mut criterion = support::criterion().configure_from_args();
    fetch(&mut criterion, &server);
    criterion.final_summary();
    if support::full_run() {
        python_peers(&server.token_url());
    }
}

/// Client and server (and the Python peers, which inherit it) share one CPU: then each fetch is
/// two context switches on that CPU. Across this VM's two vCPUs a wake-up costs tens of
/// microseconds more, and whether one is needed depends on where the scheduler put each server
/// thread, which made the same client measure 60 or 100 us from one connection to the next.
fn pin_to_one_cpu() {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; pid 0 is this thread (threads started
    // later inherit the mask).
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(0, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            eprintln!("could not pin the fetch benchmark to CPU 0; figures will vary more");
        }
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

/// A way to fetch one token; returns something of the token so the work is not optimized away.
type Fetch<'a> = (&'static str, Box<dyn FnMut() -> usize + 'a>);

fn fetch(c: &mut Criterion, server: &TokenServer) {
    let token_url = &server.token_url();

    let client = hctoken::Client::new(&support::rust_config(token_url)).unwrap();
    let library = SharedLibrary::open(&shared_library::default_path());
    let so_client = library.as_ref().ok().map(|library| library.client(token_url));
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
    let oauth = BasicClient::new(ClientId::new(CLIENT_ID.to_owned()))
        .set_client_secret(ClientSecret::new(CLIENT_SECRET.to_owned()))
        .set_token_uri(TokenUrl::new(token_url.to_owned()).unwrap());
    let http = |request: oauth2::HttpRequest| over_ureq(&agent, request);

    let mut fetches: Vec<Fetch> = vec![(
        "hctoken_rust",
        Box::new(|| {
            client.invalidate();
            client.with_token(str::len).unwrap()
        }),
    )];
    match &so_client {
        Some(so_client) => {
            let mut buf = vec![0u8; 4096];
            fetches.push((
                "hctoken_so",
                Box::new(move || {
                    so_client.invalidate();
                    so_client.get_token_into(&mut buf)
                }),
            ));
        }
        None => eprintln!("skipping hctoken_so: build the release library first (cargo build --release --lib)"),
    }
    fetches.push(("ureq_post", Box::new(|| post().len())));
    fetches.push((
        "ureq_post_and_json_parse",
        Box::new(|| {
            let body: serde_json::Value = serde_json::from_slice(&post()).unwrap();
            body["access_token"].as_str().unwrap().len()
        }),
    ));
    fetches.push((
        "oauth2_crate",
        Box::new(|| oauth.exchange_client_credentials().request(&http).unwrap().access_token().secret().len()),
    ));

    let mut group = c.benchmark_group("fetch");
    for (name, fetch) in &mut fetches {
        group.bench_function(*name, |b| b.iter(&mut *fetch));
    }
    // What a program pays once per client: configuration checks, TLS set-up, a new connection
    // (a new thread on this server), the first fetch.
    let config = support::rust_config(token_url);
    group.bench_function("hctoken_new_client_first_token", |b| {
        b.iter(|| hctoken::Client::new(&config).unwrap().with_token(str::len).unwrap())
    });
    group.finish();

    if support::full_run() {
        interleaved(&mut fetches);
    }
    // Each client above kept one connection alive (the new-client benchmark aside, one per
    // client); one that reconnected on every fetch would show here as thousands more.
    println!("token server: {} requests over {} connections", server.requests(), server.connections());
}

/// One fetch of each kind in turn, round after round, each timed alone: loopback round trips
/// drift with whatever else the machine does, and interleaving puts the same drift under every
/// kind, so their ratios hold still better than criterion's one-after-the-other medians.
fn interleaved(fetches: &mut [Fetch]) {
    const WARM_UP_ROUNDS: usize = 100;
    const ROUNDS: usize = 2000;
    let mut samples: Vec<Vec<f64>> = vec![Vec::with_capacity(ROUNDS); fetches.len()];
    let kinds = fetches.len();
    for round in 0..WARM_UP_ROUNDS + ROUNDS {
        // Each round starts with the next kind, so no kind always follows the same other one.
        for i in (0..kinds).map(|k| (k + round) % kinds) {
            let started = Instant::now();
            black_box((fetches[i].1)());
            if round >= WARM_UP_ROUNDS {
                samples[i].push(started.elapsed().as_nanos() as f64);
            }
        }
    }
    let medians: serde_json::Map<String, serde_json::Value> = fetches
        .iter()
        .zip(&mut samples)
        .map(|((name, _), samples)| (name.to_string(), serde_json::json!(support::median(samples))))
        .collect();
    println!("interleaved fetch medians ({ROUNDS} rounds): {}", serde_json::Value::Object(medians.clone()));
    support::results::write("fetch_interleaved", &serde_json::json!({"rounds": ROUNDS, "median_ns": medians}));
}

/// oauth2's blocking HTTP client interface over a ureq agent (what its `ureq` feature does, on
/// the ureq build of this crate's tests).
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
