//! The C ABI as integrators ship against it: scripts/install.sh into a temporary prefix, the
//! exported symbols against the committed list (abi/symbols.txt), their version node and the
//! SONAME, and two C consumers of the installed copy, one built with `pkg-config --cflags
//! --libs hctoken` and one with CMake's `find_package(hctoken)`, each run against `hctoken
//! serve` with no LD_LIBRARY_PATH (what pkg-config and CMake give is all they get).
//! Also: the `rust-version` in Cargo.toml is true for the committed lock file.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use support::Emulator;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn checked(what: &str, output: std::io::Result<Output>) -> Output {
    let output = output.unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// One install per test process (into target/tmp), shared by the tests below.
fn prefix() -> &'static Path {
    static PREFIX: OnceLock<PathBuf> = OnceLock::new();
    PREFIX.get_or_init(|| {
        let prefix = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("install-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&prefix);
        let debug = root().join("target/debug");
        assert!(
            debug.join("libhctoken.a").exists() && debug.join("hctoken").exists(),
            "target/debug has no libhctoken.a or hctoken: run `cargo build` first"
        );
        checked(
            "scripts/install.sh",
            Command::new("bash")
                .arg(root().join("scripts/install.sh"))
                .args(["--debug", "--no-build", "--prefix"])
                .arg(&prefix)
                .output(),
        );
        prefix
    })
}

fn committed_symbols() -> BTreeSet<String> {
    std::fs::read_to_string(root().join("abi/symbols.txt"))
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_shared_library_exports_exactly_the_committed_symbols_under_one_version_node() {
    let lib = prefix().join("lib/libhctoken.so");
    let output = checked("nm -D", Command::new("nm").args(["-D", "--defined-only"]).arg(&lib).output());
    let text = String::from_utf8(output.stdout).unwrap();
    let mut exported = BTreeSet::new();
    for line in text.lines() {
        let Some(name) = line.split_whitespace().last() else { continue };
        if name == "HCTOKEN_0" {
            continue; // the version node's own symbol
        }
        let (symbol, version) = name.split_once("@@").unwrap_or((name, ""));
        assert_eq!(version, "HCTOKEN_0", "{symbol} is exported without the HCTOKEN_0 version: {line}");
        exported.insert(symbol.to_owned());
    }
    let committed = committed_symbols();
    let removed: Vec<_> = committed.difference(&exported).collect();
    let added: Vec<_> = exported.difference(&committed).collect();
    assert!(removed.is_empty(), "symbols removed or renamed (an ABI break): {removed:?}");
    assert!(added.is_empty(), "new exported symbols: add them to abi/symbols.txt: {added:?}");
    // And cargo's own cdylib, which the tests link, has the same set.
    let cargo_lib = root().join("target/debug/libhctoken.so");
    let output = checked("nm -D", Command::new("nm").args(["-D", "--defined-only"]).arg(&cargo_lib).output());
    let cargo_set: BTreeSet<String> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().last())
        .filter(|name| name.starts_with("hct_"))
        .map(|name| name.split('@').next().unwrap().to_owned())
        .collect();
    assert_eq!(cargo_set, committed, "target/debug/libhctoken.so exports another set");
}

#[test]
fn the_soname_and_links_are_versioned() {
    let lib = prefix().join("lib");
    let output = checked("readelf -d", Command::new("readelf").arg("-d").arg(lib.join("libhctoken.so")).output());
    let text = String::from_utf8(output.stdout).unwrap();
    let major = env!("CARGO_PKG_VERSION_MAJOR");
    assert!(text.contains(&format!("Library soname: [libhctoken.so.{major}]")), "{text}");
    assert_eq!(std::fs::read_link(lib.join("libhctoken.so")).unwrap(), PathBuf::from(format!("libhctoken.so.{major}")));
    assert_eq!(
        std::fs::read_link(lib.join(format!("libhctoken.so.{major}"))).unwrap(),
        PathBuf::from(format!("libhctoken.so.{}", env!("CARGO_PKG_VERSION")))
    );
    for file in ["libhctoken.a", "pkgconfig/hctoken.pc", "cmake/hctoken/hctokenConfig.cmake", "cmake/hctoken/hctokenConfigVersion.cmake"] {
        assert!(lib.join(file).exists(), "{file} is not installed");
    }
    assert!(prefix().join("include/hctoken.h").exists());
    assert!(prefix().join("bin/hctoken").exists());
}

/// Runs the example built against the install: it must print a bearer header.
fn run_example(program: &Path) {
    let emulator = Emulator::start();
    let output = checked(
        "the installed example",
        Command::new(program)
            .env_remove("LD_LIBRARY_PATH")
            .env("HCTOKEN_CLIENT_SECRET", support::CLIENT_SECRET)
            .args(["change-healthcare-v2", &emulator.token_url("/apip/auth/v2/token"), support::CLIENT_ID])
            .output(),
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("Authorization: Bearer "), "{stdout}");
    // The installed library was the one loaded, not target/debug's.
    let ldd = checked("ldd", Command::new("ldd").arg(program).env_remove("LD_LIBRARY_PATH").output());
    let ldd = String::from_utf8(ldd.stdout).unwrap();
    assert!(ldd.contains(&prefix().join("lib").display().to_string()), "{ldd}");
}

#[test]
fn a_c_program_builds_with_pkg_config_and_runs() {
    let pc_path = prefix().join("lib/pkgconfig");
    let flags = checked(
        "pkg-config",
        Command::new("pkg-config").args(["--cflags", "--libs", "hctoken"]).env("PKG_CONFIG_PATH", &pc_path).output(),
    );
    let flags = String::from_utf8(flags.stdout).unwrap();
    let version = checked(
        "pkg-config --modversion",
        Command::new("pkg-config").args(["--modversion", "hctoken"]).env("PKG_CONFIG_PATH", &pc_path).output(),
    );
    assert_eq!(String::from_utf8(version.stdout).unwrap().trim(), env!("CARGO_PKG_VERSION"));
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("get_token-pkgconfig-{}", std::process::id()));
    checked(
        "cc with pkg-config's flags",
        Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
            .args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"])
            .arg(root().join("examples/c/get_token.c"))
            .arg("-o")
            .arg(&out)
            .args(flags.split_whitespace())
            .output(),
    );
    run_example(&out);
}

#[test]
fn a_c_program_builds_with_cmake_find_package_and_runs() {
    if Command::new("cmake").arg("--version").output().is_err() {
        panic!("cmake is not installed: run scripts/setup.sh");
    }
    let build = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cmake-consumer-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&build);
    checked(
        "cmake configure",
        Command::new("cmake")
            .arg("-S")
            .arg(root().join("tests/consumers/cmake"))
            .arg("-B")
            .arg(&build)
            .arg(format!("-DCMAKE_PREFIX_PATH={}", prefix().display()))
            .arg(format!("-DEXAMPLE_SOURCE={}", root().join("examples/c/get_token.c").display()))
            .output(),
    );
    checked("cmake build", Command::new("cmake").arg("--build").arg(&build).output());
    run_example(&build.join("get_token"));
}

/// `rust-version` in Cargo.toml must be at least every locked dependency's own.
#[test]
fn rust_version_holds_for_the_locked_dependencies() {
    let ours = env!("CARGO_PKG_RUST_VERSION");
    assert!(!ours.is_empty(), "Cargo.toml declares no rust-version");
    let output = checked(
        "cargo metadata",
        Command::new(env!("CARGO"))
            .args(["metadata", "--format-version", "1", "--locked", "--offline", "--manifest-path"])
            .arg(root().join("Cargo.toml"))
            .output(),
    );
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let version = |text: &str| -> Vec<u64> { text.split('.').map(|p| p.parse().unwrap_or(0)).collect() };
    // Only what the library and the CLI build with counts: dev-dependencies (criterion...) are
    // for this repository's own tests, which CI runs on a current toolchain.
    let resolve = &metadata["resolve"]["nodes"];
    let root_id = metadata["resolve"]["root"].as_str().unwrap();
    let mut normal = BTreeSet::new();
    let mut stack = vec![root_id.to_owned()];
    while let Some(id) = stack.pop() {
        if !normal.insert(id.clone()) {
            continue;
        }
        let node = resolve.as_array().unwrap().iter().find(|n| n["id"] == id.as_str()).unwrap();
        for dep in node["deps"].as_array().unwrap() {
            let kinds = dep["dep_kinds"].as_array().unwrap();
            if kinds.iter().any(|k| k["kind"].is_null() || k["kind"] == "build") {
                stack.push(dep["pkg"].as_str().unwrap().to_owned());
            }
        }
    }
    let mut too_new = Vec::new();
    for package in metadata["packages"].as_array().unwrap() {
        if !normal.contains(package["id"].as_str().unwrap()) {
            continue;
        }
        if let Some(theirs) = package["rust_version"].as_str() {
            if version(theirs) > version(ours) {
                too_new.push(format!("{} {} needs Rust {theirs}", package["name"], package["version"]));
            }
        }
    }
    assert!(too_new.is_empty(), "Cargo.toml says rust-version {ours}, but: {too_new:#?}");
}
