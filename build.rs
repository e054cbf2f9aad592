//! Generates the C header with cbindgen into OUT_DIR on every build. The committed copy,
//! include/hctoken.h, is checked against it by tests/header.rs; regenerate it with
//! `HCTOKEN_WRITE_HEADER=1 cargo build`.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=src/ffi");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-env-changed=HCTOKEN_WRITE_HEADER");
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    link_args();
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
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

/// The SONAME of the shared library cargo builds (ELF targets). Symbol versions are applied by
/// scripts/install.sh, which links the installed shared library from the static one with
/// abi/hctoken.map: rustc hands the linker a version script of its own, and the linker takes
/// the first, so a second script given to cargo's cdylib would be silently ignored.
fn link_args() {
        let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if !matches!(target_os.as_str(), "linux" | "android" | "freebsd" | "netbsd" | "openbsd") {
        return;
    }
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap();
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libhctoken.so.{major}");

}
