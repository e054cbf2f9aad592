//! The configuration setter takes any key and value from the host program: it never panics,
//! a value it refuses for `client_secret` is never repeated in the message, and a configuration
//! it accepts either builds a client or says why not (no network is touched: a client fetches
//! nothing until asked).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "input.rs"]
mod input;

fuzz_target!(|data: &[u8]| {
    let mut input = input::Input::new(data);
    let mut config = hctoken::Config::new();
    let pairs = input.byte() % 8;
    for _ in 0..pairs {
        let pick = input.byte();
        let key = if pick < 240 { hctoken::CONFIG_KEYS[usize::from(pick) % hctoken::CONFIG_KEYS.len()].to_owned() } else { input.text(32) };
        let value = input.text(300);
        if let Err(error) = config.set(&key, &value) {
            let message = error.message();
            assert!(message.len() <= 4096, "a {}-byte message", message.len());
            if key == "client_secret" && value.trim().len() >= 6 {
                assert!(!message.contains(value.trim()), "the secret is repeated: {message}");
            }
            if key == "token_url" && value.contains('@') {
                assert!(!message.contains(value.trim()), "a URL with credentials is repeated: {message}");
            }
        }
    }
    // Only loopback or unreachable-by-design URLs may be set: Client::new never connects.
    let _ = hctoken::Client::new(&config).map(|client| client.describe());
});
