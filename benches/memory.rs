//! Memory: the resident size (VmRSS) of a process holding 1,000 clients made through the C ABI,
//! before and after each has fetched a token (each then also holds a kept-alive connection).
//! The token server is `hctoken serve` in its own process, so its memory is not counted.

mod support;

use serde_json::json;
use support::c_abi::CClient;
use support::emulator::Emulator;

/// VmRSS of this process, in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmRSS line")
}

fn main() {
    let clients_wanted = if support::full_run() { 1000 } else { 20 };
    let emulator = Emulator::start(&[]);
    let url = emulator.token_url();

    let at_start = rss_kib();
    // The first client pays the one-time costs (the system trust store, TLS provider, ...).
    let first = CClient::new(&url);
    first.get_token();
    let one_client = rss_kib();

    let mut clients = vec![first];
    clients.extend((1..clients_wanted).map(|_| CClient::new(&url)));
    let created = rss_kib();
    for client in &clients {
        client.get_token();
    }
    let fetched = rss_kib();
    let n = clients.len() as u64;
    drop(clients);
    let freed = rss_kib();

    let per_client_created = (created - one_client) as f64 / (n - 1) as f64;
    let per_client_fetched = (fetched - one_client) as f64 / (n - 1) as f64;
    println!("memory (VmRSS): at start {at_start} KiB; one client with a token {one_client} KiB");
    println!("  {n} clients created: {created} KiB ({per_client_created:.1} KiB per client)");
    println!("  {n} clients each holding a token and a connection: {fetched} KiB ({per_client_fetched:.1} KiB per client)");
    println!("  after freeing them: {freed} KiB");
    if support::full_run() {
        support::results::write(
            "memory",
            &json!({
                "clients": n,
                "rss_kib": {"start": at_start, "one_client": one_client, "created": created, "fetched": fetched, "freed": freed},
                "per_client_kib": {"created": per_client_created, "fetched": per_client_fetched},
            }),
        );
    }
}
