//! The redactor as a property: for any secret of 6 bytes or more (without control characters,
//! which the configuration refuses, and not containing or contained in the text `<redacted>`
//! that replaces an echo) and any echo of it
//! in any spelling the redactor knows (verbatim, percent-encoded in either hex case or with `+`
//! for a space, JSON `\uXXXX` in either case or the short escapes, Base64 standard or URL-safe,
//! padded or not, of the secret, of `client_id:secret` and of the Basic credential, with those
//! spellings mixed character by character), embedded anywhere in error, error_description,
//! token_type, Content-Type or Location, at any status: no message shows the secret or the
//! spelling that was sent.
#![no_main]

use base64::Engine as _;
use libfuzzer_sys::fuzz_target;

#[path = "input.rs"]
mod input;

fn form(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// One character in the spelling chosen by `how`; `json` when it goes into a JSON string (a raw
/// `"`, `\` or control character would end or break the string).
fn spell(c: char, how: u8, json: bool, out: &mut String) {
    let mut utf8 = [0u8; 4];
    let bytes = c.encode_utf8(&mut utf8).as_bytes();
    match how % 7 {
        1 => bytes.iter().for_each(|b| out.push_str(&format!("%{b:02X}"))),
        2 => bytes.iter().for_each(|b| out.push_str(&format!("%{b:02x}"))),
        3 => c.encode_utf16(&mut [0; 2]).iter().for_each(|u| out.push_str(&format!("\\u{u:04X}"))),
        4 => c.encode_utf16(&mut [0; 2]).iter().for_each(|u| out.push_str(&format!("\\u{u:04x}"))),
        5 if c == ' ' => out.push('+'),
        6 if c == '/' => out.push_str("\\/"),
        _ if json && (c == '"' || c == '\\' || c.is_control()) => {
            c.encode_utf16(&mut [0; 2]).iter().for_each(|u| out.push_str(&format!("\\u{u:04x}")))
        }
        _ => out.push(c),
    }
}

fn json_string_content(text: &str) -> String {
    let quoted = serde_json::to_string(text).unwrap();
    quoted[1..quoted.len() - 1].to_owned()
}

fuzz_target!(|data: &[u8]| {
    let mut input = input::Input::new(data);
    let secret: String = input.text(48).chars().filter(|c| !c.is_control()).collect::<String>().trim().to_owned();
    let mark = hctoken::fuzzing::MARK;
    if secret.len() < hctoken::fuzzing::MIN_SECRET_LEN || secret.contains(mark) || mark.contains(secret.as_str()) {
        return;
    }
    let client_id: String = input.text(16).chars().filter(|c| !c.is_control()).collect::<String>().trim().to_owned();
    let client_id = if client_id.is_empty() { "fuzz-client".to_owned() } else { client_id };

    // What is echoed: the secret, or a Base64 of it.
    let base = input.byte();
    let b64 = |text: &str| -> String {
        let engine = match base / 4 % 4 {
            0 => base64::engine::general_purpose::STANDARD,
            1 => base64::engine::general_purpose::STANDARD_NO_PAD,
            2 => base64::engine::general_purpose::URL_SAFE,
            _ => base64::engine::general_purpose::URL_SAFE_NO_PAD,
        };
        engine.encode(text)
    };
    let echoed = match base % 4 {
        0 => secret.clone(),
        1 => b64(&secret),
        2 => b64(&format!("{client_id}:{secret}")),
        _ => b64(&format!("{}:{}", form(&client_id), form(&secret))),
    };

    // Where it goes, at which status, with what around it.
    let field = input.byte() % 5;
    let status = 100 + input.u16() % 500;
    let in_json = field < 3;
    let mut spelling = String::new();
    for c in echoed.chars() {
        spell(c, input.byte(), in_json, &mut spelling);
    }
    let before = input.text(700);
    let after = input.text(100);
    let (before, after) = if in_json { (json_string_content(&before), json_string_content(&after)) } else { (before, after) };
    let echo = format!("{before}{spelling}{after}");
    let token = "fuzz-token-0123456789";
    let (body, content_type, location) = match field {
        0 => (format!(r#"{{"error":"{echo}"}}"#), None, None),
        1 => (format!(r#"{{"error":"invalid_client","error_description":"{echo}"}}"#), None, None),
        2 => (format!(r#"{{"access_token":"{token}","token_type":"{echo}"}}"#), None, None),
        3 => ("not json".to_owned(), Some(echo.clone()), None),
        _ => (String::new(), Some("text/plain".to_owned()), Some(echo.clone())),
    };
    let result = hctoken::fuzzing::parse_answer(
        status,
        content_type.as_deref(),
        location.as_deref(),
        body.as_bytes(),
        hctoken::Profile::Generic,
        &client_id,
        &secret,
    );
    let Err(error) = result else { return };
    // The message and the OAuth fields as they are; Debug output escapes them (a `\` shows as
    // `\\`), so it is searched for the escaped forms.
    let details = error.oauth_details();
    let shown = format!(
        "{error}\n{}\n{}",
        details.map_or("", |d| d.error.as_str()),
        details.and_then(|d| d.description.as_deref()).unwrap_or("")
    );
    // Debug shows exactly the kind and the message checked above (and the OAuth fields, also
    // checked above), escaped: searching the Debug text for the secret instead would match the
    // escapes themselves (`\u{1e79e}` ends in `}`, `\"` in `"`), two false alarms CI found.
    let expected = format!("Error {{ kind: {:?}, message: {:?} }}", error.kind(), error.message());
    assert_eq!(format!("{error:?}"), expected, "Debug shows more than the message");
    assert!(!shown.contains(&secret), "the secret {secret:?} shows:\n{shown}");
    assert!(!shown.contains(&spelling), "the spelling {spelling:?} of {secret:?} shows:\n{shown}");
    if echoed != secret {
        // The Base64 text, unescaped, with or without its padding.
        assert!(!shown.contains(echoed.trim_end_matches('=')), "the Base64 {echoed:?} shows:\n{shown}");
    }
});
