//! The cached path, one thread, with a 1.2 KB JWT: what a caller pays on every API request.
//!
//! * `so_*`: through the released shared library (dlopen), as a C, Python or .NET host calls it.
//! * `c_abi_*`: the same exported functions linked into this benchmark.
//! * `rust_*`: the Rust API.
//! * `floor/*`: the parts the cached path cannot avoid (a clock read, the copy, an allocation),
//!   to show how close to them it is.

mod support;

use std::ffi::CString;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};

use support::c_abi::CClient;
use support::shared_library::{self, SharedLibrary};
use support::token_server::TokenServer;

fn cached_get(c: &mut Criterion) {
    let server = TokenServer::start();
    let url = server.token_url();
    let mut buf = vec![0u8; 4096];
    let mut group = c.benchmark_group("cached_get");

    let library = SharedLibrary::open(&shared_library::default_path());
    match &library {
        Ok(library) => {
            let client = library.client(&url);
            assert_eq!(client.get_token_into(&mut buf), support::jwt::TOKEN_LEN, "the first get fetches");
            group.bench_function("so_get_token", |b| b.iter(|| client.get_token()));
            group.bench_function("so_get_token_into", |b| b.iter(|| client.get_token_into(black_box(&mut buf))));
        }
        Err(why) => eprintln!("skipping so_* (build the release library first: cargo build --release --lib): {why}"),
    }

    let client = CClient::new(&url);
    client.get_token();
    group.bench_function("c_abi_get_token", |b| b.iter(|| client.get_token()));
    group.bench_function("c_abi_get_token_into", |b| b.iter(|| client.get_token_into(black_box(&mut buf))));

    let rust = hctoken::Client::new(&support::rust_config(&url)).unwrap();
    rust.token().unwrap();
    group.bench_function("rust_with_token_copy", |b| {
        b.iter(|| {
            rust.with_token(|token| {
                buf[..token.len()].copy_from_slice(token.as_bytes());
                token.len()
            })
            .unwrap()
        })
    });
    group.bench_function("rust_token", |b| b.iter(|| rust.token().unwrap()));
    group.finish();

    let fetched = if library.is_ok() { 3 } else { 2 };
    assert_eq!(server.requests(), fetched, "every get after the first must come from the cache");
    floor(c);
}

fn floor(c: &mut Criterion) {
    let token = support::jwt::jwt(0, 3600);
    let mut buf = vec![0u8; 4096];
    let mut group = c.benchmark_group("floor");
    group.bench_function("copy_1200_bytes", |b| {
        b.iter(|| {
            let token = black_box(token.as_bytes());
            buf[..token.len()].copy_from_slice(token);
            buf[token.len()] = 0;
        })
    });
    group.bench_function("cstring_1200_bytes", |b| b.iter(|| CString::new(black_box(token.as_str())).unwrap()));
    // What hct_client_get_token and hct_string_free do with the bytes: copy into a new C string,
    // hand it out, take it back, wipe it, free it.
    group.bench_function("cstring_round_trip_1200_bytes", |b| {
        b.iter(|| {
            let raw = CString::new(black_box(token.as_str())).unwrap().into_raw();
            // SAFETY: from CString::into_raw just above.
            let mut bytes = unsafe { CString::from_raw(black_box(raw)) }.into_bytes_with_nul();
            zeroize::Zeroize::zeroize(&mut bytes);
        })
    });
    // The same, wiping the bytes as a slice: zeroize fills a slice with one memset, but a Vec
    // (or String) byte by byte with a fence after each.
    group.bench_function("cstring_round_trip_1200_bytes_slice_wipe", |b| {
        b.iter(|| {
            let raw = CString::new(black_box(token.as_str())).unwrap().into_raw();
            // SAFETY: from CString::into_raw just above.
            let mut bytes = unsafe { CString::from_raw(black_box(raw)) }.into_bytes_with_nul();
            zeroize::Zeroize::zeroize(bytes.as_mut_slice());
        })
    });
    group.bench_function("malloc_free_1201_bytes", |b| b.iter(|| Vec::<u8>::with_capacity(black_box(1201))));
    group.bench_function("malloc_free_1000_bytes", |b| b.iter(|| Vec::<u8>::with_capacity(black_box(1000))));
    let swapped = arc_swap::ArcSwapOption::from_pointee(token.clone());
    group.bench_function("arc_swap_load", |b| b.iter(|| swapped.load().as_deref().map_or(0, String::len)));
    for (name, clock) in [
        ("clock_boottime", libc::CLOCK_BOOTTIME),
        ("clock_monotonic", libc::CLOCK_MONOTONIC),
        ("clock_monotonic_coarse", libc::CLOCK_MONOTONIC_COARSE),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
                // SAFETY: a writable timespec.
                unsafe { libc::clock_gettime(black_box(clock), &mut ts) };
                ts.tv_nsec
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = support::criterion();
    targets = cached_get
}
criterion_main!(benches);
