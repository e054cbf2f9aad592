//! The committed C header must be exactly what cbindgen generates from the code (build.rs
//! writes the generated one into OUT_DIR on every build).

#[test]
fn committed_header_matches_the_generated_one() {
    let generated = std::fs::read_to_string(concat!(env!("OUT_DIR"), "/hctoken.h")).unwrap();
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/hctoken.h")).unwrap();
    assert!(
        generated == committed,
        "include/hctoken.h is out of date: regenerate it with `HCTOKEN_WRITE_HEADER=1 cargo build` and commit it"
    );
}
