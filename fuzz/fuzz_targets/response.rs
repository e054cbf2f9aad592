//! The response parser takes whatever a token endpoint sends: it never panics, its messages
//! are bounded, one line (a `hint: ` line may follow), free of control characters, and a token
//! it accepts can go into an Authorization header.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "input.rs"]
mod input;

fuzz_target!(|data: &[u8]| {
    let mut input = input::Input::new(data);
    let status = 100 + input.u16() % 500;
    let profile = hctoken::fuzzing::PROFILES[usize::from(input.byte()) % hctoken::fuzzing::PROFILES.len()];
    let flags = input.byte();
    let content_type = input.text(200);
    let location = input.text(600);
    let body = input.rest();
    let content_type = (flags & 1 != 0).then_some(content_type.as_str());
    let location = (flags & 2 != 0).then_some(location.as_str());
    match hctoken::fuzzing::parse_answer(status, content_type, location, body, profile, "fuzz-client", "fuzz-secret-value") {
        Ok((token, lifetime)) => {
            assert!((200..300).contains(&status), "a token from HTTP {status}");
            assert!(!token.is_empty() && token.bytes().all(|b| b.is_ascii_graphic()));
            assert!(!lifetime.is_zero() && lifetime.as_secs() <= 86_400);
        }
        Err(error) => {
            let message = error.message();
            assert!(message.len() <= 2048, "a {}-byte message", message.len());
            assert!(!message.chars().any(|c| c.is_control() && c != '\n'), "{message:?}");
            assert!(message.lines().skip(1).all(|l| l.starts_with("hint: ")), "{message:?}");
        }
    }
});
