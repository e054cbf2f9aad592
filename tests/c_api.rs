//! Drives the C test programs in tests/c/: compiles them against include/hctoken.h and the
//! built libhctoken.so, and runs them against `hctoken serve` plainly, under valgrind (no
//! leaks, no invalid access) and with AddressSanitizer.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::Emulator;

/// target/debug (or target/release), where cargo put libhctoken.so next to this test's deps/.
fn library_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
    assert!(
        dir.join("libhctoken.so").exists(),
        "{} has no libhctoken.so: run `cargo build` first",
        dir.display()
    );
    dir
}

fn compile(source: &str, sanitize: bool) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lib = library_dir();
    let name = format!("{}{}", source.trim_end_matches(".c"), if sanitize { "-asan" } else { "" });
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let mut cc = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()));
    cc.args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-g", "-O1", "-pthread"])
        .arg("-I")
        .arg(root.join("include"))
        .arg(root.join("tests/c").join(source))
        .arg("-o")
        .arg(&out)
        .arg(format!("-L{}", lib.display()))
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .arg("-lhctoken");
    if sanitize {
        cc.args(["-fsanitize=address", "-fno-omit-frame-pointer"]);
    }
    let status = cc.status().expect("run the C compiler (cc)");
    assert!(status.success(), "compiling tests/c/{source} failed");
    out
}

/// Runs `program` (under `wrapper`, e.g. valgrind, when given) with `args`; fails the test with
/// everything it printed unless it exits 0.
fn run(program: &Path, wrapper: &[&str], args: &[&str]) -> String {
    let mut command = match wrapper.split_first() {
        Some((tool, tool_args)) => {
            let mut command = Command::new(tool);
            command.args(tool_args).arg(program);
            command
        }
        None => Command::new(program),
    };
    let output = command.args(args).output().expect("run the C program");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    println!("{text}");
    assert!(output.status.success(), "{} failed:\n{text}", program.display());
    text
}

fn run_api_test(program: &Path, wrapper: &[&str]) {
    let emulator = Emulator::start();
    let text = run(program, wrapper, &[&emulator.url]);
    let expected: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("expected_token_requests="))
        .and_then(|n| n.trim().parse().ok())
        .expect("the C test reports its expected request count");
    assert_eq!(emulator.token_requests(), expected, "token requests seen by the server");
}

fn run_stress(program: &Path, wrapper: &[&str], seconds: &str) {
    let emulator = Emulator::start();
    run(program, wrapper, &[&emulator.url, seconds]);
}

const VALGRIND: &[&str] = &[
    "valgrind",
    "--quiet",
    "--error-exitcode=99",
    "--leak-check=full",
    "--errors-for-leak-kinds=definite,indirect",
    "--show-leak-kinds=definite,indirect",
];

fn require_valgrind() {
    let found = Command::new("valgrind").arg("--version").output().is_ok_and(|o| o.status.success());
    assert!(found, "valgrind is not installed: `apt-get install valgrind` (.ci/run installs it)");
}

#[test]
fn c_api() {
    run_api_test(&compile("test_api.c", false), &[]);
}

#[test]
fn c_api_under_valgrind() {
    require_valgrind();
    run_api_test(&compile("test_api.c", false), VALGRIND);
}

#[test]
fn c_api_with_address_sanitizer() {
    run_api_test(&compile("test_api.c", true), &[]);
}

#[test]
fn stress_with_address_sanitizer() {
    run_stress(&compile("stress.c", true), &[], "3");
}

#[test]
fn stress_under_valgrind() {
    require_valgrind();
    run_stress(&compile("stress.c", false), VALGRIND, "3");
}
