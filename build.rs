//! Generates the C header with cbindgen into OUT_DIR on every build. The committed copy,
//! include/hctoken.h, is checked against it by tests/header.rs; regenerate it with
//! `HCTOKEN_WRITE_HEADER=1 cargo build`.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=src/ffi");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-env-changed=HCTOKEN_WRITE_HEADER");
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
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

