//! Access tokens the size vendors really issue: an RS256-style JWT of about 1.2 KB (header,
//! a dozen claims, a 2048-bit signature), so that copies in the benchmarks cost what they cost
//! in production. The emulator's tokens are a third of that.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// The length of every token `jwt` makes.
pub const TOKEN_LEN: usize = 1200;

/// A JWT of exactly `TOKEN_LEN` bytes; `serial` makes each one different (its `jti`).
pub fn jwt(serial: u64, lifetime_secs: u64) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT","kid":"bench-signing-key-2024-01"}"#);
    // The bytes of a 2048-bit RSA signature; the benchmarks never verify it.
    let signature = URL_SAFE_NO_PAD.encode([0x5a_u8; 256]);
    let claims = |padding: &str| {
        format!(
            concat!(
                r#"{{"iss":"https://auth.bench.invalid/oauth2","sub":"test-client","aud":"https://api.bench.invalid","#,
                r#""iat":1700000000,"nbf":1700000000,"exp":{exp},"jti":"{serial:016x}","client_id":"test-client","#,
                r#""scope":"eligibility claims claimstatus","tenant":"bench","pad":"{padding}"}}"#
            ),
            exp = 1_700_000_000 + lifetime_secs,
            serial = serial,
            padding = padding,
        )
    };
    let fixed = header.len() + 1 + URL_SAFE_NO_PAD.encode(claims("")).len() + 1 + signature.len();
    // Each 3 bytes of padding add 4 base64 characters; fill up to the target length.
    let mut padding = "x".repeat((TOKEN_LEN.saturating_sub(fixed)) * 3 / 4);
    let mut payload = URL_SAFE_NO_PAD.encode(claims(&padding));
    while header.len() + payload.len() + signature.len() + 2 > TOKEN_LEN {
        padding.pop();
        payload = URL_SAFE_NO_PAD.encode(claims(&padding));
    }
    let mut token = format!("{header}.{payload}.{signature}");
    // base64 lengths move in steps; pad the last step with signature characters.
    while token.len() < TOKEN_LEN {
        token.push('A');
    }
    token
}

/// The body of a successful token response (RFC 6749 section 5.1).
pub fn token_response(serial: u64, lifetime_secs: u64) -> String {
    format!(
        r#"{{"access_token":"{}","token_type":"Bearer","expires_in":{lifetime_secs},"scope":"eligibility claims claimstatus"}}"#,
        jwt(serial, lifetime_secs)
    )
}
