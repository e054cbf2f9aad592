//! Generates the C header with cbindgen into OUT_DIR on every build. The committed copy,
//! include/hctoken.h, is checked against it by tests/header.rs; regenerate it with
//! `HCTOKEN_WRITE_HEADER=1 cargo build`.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=src/ffi");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-env-changed=HCTOKEN_WRITE_HEADER");
    println!("cargo:rerun-if-changed=Cargo.toml");
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let mut config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
    config.after_includes = Some(version_macros());
    let bindings = cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen could not generate the header");
    bindings.write_to_file(out_dir.join("hctoken.h"));
    if std::env::var_os("HCTOKEN_WRITE_HEADER").is_some() {
        bindings.write_to_file(crate_dir.join("include/hctoken.h"));
    }
}


/// The version macros of the header, from Cargo.toml's version (cargo passes it in the
/// environment). src/ffi/mod.rs's hct_version_number computes the same number at compile time.
fn version_macros() -> String {
    let part = |name: &str| -> u32 {
        let value = std::env::var(name).unwrap_or_else(|_| panic!("cargo sets {name}"));
        let number: u32 = value.parse().unwrap_or_else(|_| panic!("{name}={value} is not a number"));
        assert!(number <= 255, "{name}={number}: HCTOKEN_VERSION_NUMBER keeps 8 bits per part");
        number
    };
    let (major, minor, patch) = (part("CARGO_PKG_VERSION_MAJOR"), part("CARGO_PKG_VERSION_MINOR"), part("CARGO_PKG_VERSION_PATCH"));
    format!(
        "
/*
 * The version of this header (from Cargo.toml). hct_version_number() gives the library's at
 * run time; a program that needs at least version X.Y.Z of the library compares
 * hct_version_number() >= ((X << 16) | (Y << 8) | Z) at start-up.
 * HCTOKEN_VERSION_NUMBER is MAJOR << 16 | MINOR << 8 | PATCH, e.g. 0x000100 for 0.1.0;
 * each part is at most 255.
 */
#define HCTOKEN_VERSION_MAJOR {major}
#define HCTOKEN_VERSION_MINOR {minor}
#define HCTOKEN_VERSION_PATCH {patch}
#define HCTOKEN_VERSION_NUMBER 0x{number:06x}u
#define HCTOKEN_VERSION_STRING \"{major}.{minor}.{patch}\"",
        number = (major << 16) | (minor << 8) | patch
    )
}
