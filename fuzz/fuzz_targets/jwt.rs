//! The JWT reader: any text is read without panicking, and a JWT built from any `exp`/`iat`
//! claims is read back exactly.
#![no_main]

use base64::Engine as _;
use libfuzzer_sys::fuzz_target;

#[path = "input.rs"]
mod input;

fuzz_target!(|data: &[u8]| {
    let mut input = input::Input::new(data);
    let mode = input.byte();
    if mode % 2 == 0 {
        // Any text at all.
        let text = String::from_utf8_lossy(input.rest()).into_owned();
        let times = hctoken::fuzzing::jwt_times(&text);
        assert_eq!(times.map(|t| t.exp), hctoken::fuzzing::jwt_expiry(&text));
        // As a payload, too.
        let e = |s: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let _ = hctoken::fuzzing::jwt_times(&format!("{}.{}.sig", e(b"{}"), e(text.as_bytes())));
        return;
    }
    let exp = u64::from_be_bytes(std::array::from_fn(|_| input.byte())) >> 11; // < 2^53
    let iat = u64::from_be_bytes(std::array::from_fn(|_| input.byte())) >> 11;
    let extra = input.text(64);
    let with_iat = mode & 2 != 0;
    let mut claims = serde_json::json!({ "exp": exp, "sub": extra });
    if with_iat {
        claims["iat"] = iat.into();
    }
    let e = |s: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let token = format!("{}.{}.sig", e(br#"{"alg":"none"}"#), e(claims.to_string().as_bytes()));
    let times = hctoken::fuzzing::jwt_times(&token).expect("a well-formed JWT is read");
    assert_eq!(times.exp, exp);
    assert_eq!(times.iat, with_iat.then_some(iat));
});
