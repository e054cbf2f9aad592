//! Redaction where server text becomes message text: every string a token endpoint sends that
//! is quoted in an error message (error, error_description, token_type, Content-Type,
//! Location...) goes through a [`Redactor`] built from the client secret (and, per answer, the
//! access token in it), which replaces each spelling of a secret with `<redacted>`.
//!
//! A secret is matched character by character, and each character may be spelled
//! * verbatim;
//! * percent-encoded, byte by byte, in either hex case (`%2F`, `%2f`, `%7E` for `~`), or `+`
//!   for a space;
//! * JSON-escaped: `\uXXXX` of any character in either hex case (a surrogate pair beyond the
//!   BMP), and the short escapes (`\/`, `\"`, `\\`, `\n`...);
//!
//! and the spellings may be mixed within one echo. Besides the secret itself, the Base64 of the
//! secret, of `client_id:secret` and of `form(client_id):form(secret)` (the HTTP Basic
//! credential, RFC 6749 section 2.3.1) are matched, standard or URL-safe alphabet, padded or not
//! (each of their characters again in any of the spellings above).
//!
//! [`Redactor::quote`] also strips control characters (before matching, so they cannot split an
//! echo), bounds the text, and never lets a cut end in a partial echo.
//!
//! Not caught, and documented in SECURITY.md: a secret shorter than [`MIN_SECRET_LEN`] bytes
//! (it would match ordinary text), a partial echo ("your secret starts with abcd"), and every
//! transformation not listed above (hashes, double encoding, HTML entities, Base64 of the secret
//! inside a longer Base64 text, case changes of the secret's letters).

use std::fmt;

use base64::Engine as _;

use crate::secret::SecretBytes;

/// Secrets shorter than this (in bytes) are not redacted: they would match ordinary text.
pub const MIN_SECRET_LEN: usize = 6;
/// What an echo is replaced with.
pub const MARK: &str = "<redacted>";
/// A cut quote never ends in this many bytes (or more) of text that begin an echo.
pub const MIN_CUT_PREFIX: usize = 4;
/// Server text quoted in one message, at most (bytes).
pub const MAX_QUOTED_TOTAL: usize = 512;
/// Longest text span of one character of a pattern: a surrogate pair, `\uD83D\uDE00`.
const MAX_SPAN_PER_CHAR: usize = 12;
/// Text read past a quote's bound so an echo that begins inside it is matched whole; an echo
/// longer than this still cannot show, the cut-end check catches it.
const MAX_LOOKAHEAD: usize = 1024;

/// How one pattern's characters may be spelled beyond the common spellings.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Alphabet {
    /// The secret's own text.
    Text,
    /// A Base64 text: `+` may also be `-` and `/` may be `_` (the URL-safe alphabet).
    Base64,
}

#[derive(Clone, Copy)]
struct Pattern {
    start: usize,
    len: usize,
    alphabet: Alphabet,
}

/// The spellings of one client's secrets. Built once per client; its memory is wiped on drop.
pub struct Redactor {
    /// Every pattern's text, back to back, in one buffer sized exactly before it is filled (it
    /// never reallocates, so no unwiped copy is left behind); wiped on drop.
    spellings: SecretBytes,
    patterns: Vec<Pattern>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor(<{} patterns redacted>)", self.patterns.len())
    }
}

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD_NO_PAD;

fn form_len(text: &str) -> usize {
    form_urlencoded::byte_serialize(text.as_bytes()).map(str::len).sum()
}

impl Redactor {
    /// A redactor for the client secret, and the Basic credential built from it and the client
    /// id. The client id alone is not a secret and is not redacted.
    pub fn new(client_id: &str, client_secret: &str) -> Redactor {
        if client_secret.len() < MIN_SECRET_LEN {
            return Redactor::empty();
        }
        let (id, secret) = (client_id.as_bytes(), client_secret.as_bytes());
        let plain_pair = id.len() + 1 + secret.len();
        let form_pair = form_len(client_id) + 1 + form_len(client_secret);
        let b64 = |n: usize| base64::encoded_len(n, false).unwrap_or(0);
        let capacity = secret.len() + b64(secret.len()) + b64(plain_pair) + b64(form_pair);
        let mut builder = Builder::with_capacity(capacity, 4);
        builder.push(secret, Alphabet::Text);
        builder.push_base64(&[secret]);
        builder.push_base64(&[id, b":", secret]);
        let form_id = Joined::form(client_id);
        let form_secret = Joined::form(client_secret);
        builder.push_base64(&[form_id.bytes(), b":", form_secret.bytes()]);
        builder.finish()
    }

    /// A redactor for an access token (verbatim and Base64), for the messages about the answer
    /// that carries it.
    pub fn for_token(token: &str) -> Redactor {
        if token.len() < MIN_SECRET_LEN {
            return Redactor::empty();
        }
        let capacity = token.len() + base64::encoded_len(token.len(), false).unwrap_or(0);
        let mut builder = Builder::with_capacity(capacity, 2);
        builder.push(token.as_bytes(), Alphabet::Text);
        builder.push_base64(&[token.as_bytes()]);
        builder.finish()
    }

    /// Redacts nothing (for tests and for clients without a secret long enough to match).
    pub fn empty() -> Redactor {
        Redactor { spellings: SecretBytes::default(), patterns: Vec::new() }
    }

    fn pattern(&self, p: &Pattern) -> &str {
        // Every pattern is a whole UTF-8 text (the secret, or ASCII Base64).
        std::str::from_utf8(&self.spellings.expose()[p.start..p.start + p.len]).unwrap_or("")
    }

    /// Longest text one echo of any pattern can span.
    fn max_span(&self) -> usize {
        self.patterns.iter().map(|p| p.len * MAX_SPAN_PER_CHAR).max().unwrap_or(0).min(MAX_LOOKAHEAD)
    }

    /// The end of the longest echo of any pattern starting at `at`, and whether some pattern
    /// has a partial echo that starts at `at` and runs to the end of `text`.
    fn match_at(&self, text: &str, at: usize) -> (Option<usize>, bool) {
        let mut best: Option<usize> = None;
        let mut partial = false;
        for p in &self.patterns {
            let (end, runs_off) = match_pattern(self.pattern(p), p.alphabet, text, at);
            if let Some(end) = end {
                best = Some(best.map_or(end, |b| b.max(end)));
            }
            partial |= runs_off;
        }
        (best, partial)
    }

    /// `text` with every echo of every pattern (of this redactor and of `also`) replaced by
    /// `<redacted>`. Control characters are kept (see `quote` for text that is shown).
    ///
    /// A secret that overlaps the marker (one ending in `<re`, say) could be formed again by
    /// server text next to a marker, so passes repeat until nothing matches; after
    /// `MAX_PASSES`, the whole text is replaced.
    pub fn redact(&self, text: &str, also: Option<&Redactor>) -> String {
        const MAX_PASSES: usize = 8;
        let mut out = match self.redact_once(text, also) {
            None => return text.to_owned(),
            Some(out) => out,
        };
        for _ in 1..MAX_PASSES {
            match self.redact_once(&out, also) {
                None => return out,
                Some(again) => out = again,
            }
        }
        MARK.to_owned()
    }

    /// One left-to-right pass; `None` when nothing matched.
    fn redact_once(&self, text: &str, also: Option<&Redactor>) -> Option<String> {
        let redactors: [Option<&Redactor>; 2] = [Some(self), also];
        let redactors = || redactors.iter().flatten();
        if redactors().all(|r| r.patterns.is_empty()) {
            return None;
        }
        let mut out = String::with_capacity(text.len());
        let mut matched = false;
        let mut at = 0;
        while at < text.len() {
            let end = redactors().filter_map(|r| r.match_at(text, at).0).max();
            match end {
                Some(end) => {
                    out.push_str(MARK);
                    matched = true;
                    at = end;
                }
                None => {
                    let c = text[at..].chars().next().unwrap_or('\u{fffd}');
                    out.push(c);
                    at += c.len_utf8();
                }
            }
        }
        matched.then_some(out)
    }

    /// Server text made fit to quote in a message: control characters removed, every echo
    /// redacted, at most `max_bytes` long (cut at a character, with `...` after it), and a cut
    /// that would end in the beginning of an echo ends before it instead.
    pub fn quote(&self, text: &str, max_bytes: usize, also: Option<&Redactor>) -> String {
        self.bounded(text, max_bytes, also, false)
    }

    /// A whole message of ours, as a last pass before it leaves the library: every echo
    /// redacted, at most `max_bytes` long; line breaks are kept, other control characters
    /// removed.
    pub fn message(&self, text: &str, max_bytes: usize) -> String {
        self.bounded(text, max_bytes, None, true)
    }

    fn bounded(&self, text: &str, max_bytes: usize, also: Option<&Redactor>, keep_newlines: bool) -> String {
        // Bound the work first: an echo that begins inside the quoted part ends within this.
        let span = self.max_span().max(also.map_or(0, Redactor::max_span));
        let mut bounded = String::with_capacity(text.len().min(max_bytes + span + 4));
        let mut cut_input = false;
        for c in text.chars().filter(|&c| !c.is_control() || (keep_newlines && c == '\n')) {
            if bounded.len() + c.len_utf8() > max_bytes + span {
                cut_input = true;
                break;
            }
            bounded.push(c);
        }
        let mut redacted = self.redact(&bounded, also);
        if !cut_input && redacted.len() <= max_bytes {
            return redacted;
        }
        let mut cut = max_bytes.min(redacted.len());
        while !redacted.is_char_boundary(cut) {
            cut -= 1;
        }
        redacted.truncate(cut);
        // A cut through a marker of ours: drop the marker's beginning.
        if let Some(marker) = redacted.rfind('<').filter(|&i| MARK.starts_with(&redacted[i..]) && redacted.len() - i < MARK.len()) {
            redacted.truncate(marker);
        }
        // A cut through an echo: it must not leave the echo's first bytes.
        let cut_at = redacted
            .char_indices()
            .map(|(i, _)| i)
            .filter(|&i| redacted.len() - i >= MIN_CUT_PREFIX)
            .find(|&i| {
                [Some(self), also].into_iter().flatten().any(|r| r.match_at(&redacted, i).1)
            });
        if let Some(i) = cut_at {
            redacted.truncate(i);
            redacted.push_str(MARK);
        }
        redacted.push_str("...");
        // What was cut and what was added may together form an echo again (a secret ending in
        // `...` or `<re`): one more pass.
        self.redact(&redacted, also)
    }
}

/// Builds the spellings buffer at its final size.
struct Builder {
    bytes: Vec<u8>,
    patterns: Vec<Pattern>,
}

impl Builder {
    fn with_capacity(capacity: usize, patterns: usize) -> Builder {
        Builder { bytes: Vec::with_capacity(capacity), patterns: Vec::with_capacity(patterns) }
    }

    fn push(&mut self, text: &[u8], alphabet: Alphabet) {
        let start = self.bytes.len();
        debug_assert!(start + text.len() <= self.bytes.capacity(), "the spellings buffer is presized");
        if start + text.len() > self.bytes.capacity() {
            return; // never reallocate with a secret inside
        }
        self.bytes.extend_from_slice(text);
        self.add(start, alphabet);
    }

    /// Base64 (no padding) of the concatenation of `parts`, written straight into the buffer.
    fn push_base64(&mut self, parts: &[&[u8]]) {
        let joined = Joined::of(parts);
        let start = self.bytes.len();
        let len = base64::encoded_len(joined.bytes().len(), false).unwrap_or(0);
        if start + len > self.bytes.capacity() {
            debug_assert!(false, "the spellings buffer is presized");
            return;
        }
        self.bytes.resize(start + len, 0);
        let written = B64.encode_slice(joined.bytes(), &mut self.bytes[start..]).unwrap_or(0);
        self.bytes.truncate(start + written);
        self.add(start, Alphabet::Base64);
    }

    fn add(&mut self, start: usize, alphabet: Alphabet) {
        let len = self.bytes.len() - start;
        let duplicate = self.patterns.iter().any(|p| self.bytes[p.start..p.start + p.len] == self.bytes[start..]);
        if len == 0 || duplicate {
            crate::secret::wipe(&mut self.bytes[start..]);
            self.bytes.truncate(start);
            return;
        }
        self.patterns.push(Pattern { start, len, alphabet });
    }

    fn finish(self) -> Redactor {
        Redactor { spellings: SecretBytes::new(self.bytes), patterns: self.patterns }
    }
}

/// A presized, wiped scratch buffer (a form-encoded credential, a joined pair).
struct Joined(SecretBytes);

impl Joined {
    fn of(parts: &[&[u8]]) -> Joined {
        let mut bytes = Vec::with_capacity(parts.iter().map(|p| p.len()).sum());
        parts.iter().for_each(|p| bytes.extend_from_slice(p));
        Joined(SecretBytes::new(bytes))
    }

    fn form(text: &str) -> Joined {
        let mut bytes = Vec::with_capacity(form_len(text));
        form_urlencoded::byte_serialize(text.as_bytes()).for_each(|s| bytes.extend_from_slice(s.as_bytes()));
        Joined(SecretBytes::new(bytes))
    }

    fn bytes(&self) -> &[u8] {
        self.0.expose()
    }
}

/// Matches `pattern` (each character in any of its spellings) in `text` from `at`. Returns the
/// end of the longest match, and whether a partial match (at least one character) runs to the
/// end of `text`.
///
/// The offsets reachable after each pattern character are tracked as a set (the spellings
/// have different lengths), so there is no backtracking: O(pattern length x set size) per
/// start, and the set holds a handful of offsets.
fn match_pattern(pattern: &str, alphabet: Alphabet, text: &str, at: usize) -> (Option<usize>, bool) {
    let bytes = text.as_bytes();
    // Cheap rejection: every spelling of the first character starts with its own first byte,
    // `%`, `\\`, `+` (a space), or the URL-safe Base64 letters.
    let (Some(&first), Some(&own)) = (bytes.get(at), pattern.as_bytes().first()) else { return (None, false) };
    if first != own && !matches!(first, b'%' | b'\\' | b'+' | b'-' | b'_') {
        return (None, false);
    }
    let mut offsets: Vec<usize> = vec![at];
    let mut next: Vec<usize> = Vec::new();
    let mut runs_off = false;
    for c in pattern.chars() {
        next.clear();
        for &o in &offsets {
            if o == bytes.len() {
                continue;
            }
            for_each_spelling_end(c, alphabet, bytes, o, |end| {
                if !next.contains(&end) {
                    next.push(end);
                }
            });
        }
        if next.is_empty() {
            return (None, runs_off);
        }
        if next.contains(&bytes.len()) {
            runs_off = true;
        }
        std::mem::swap(&mut offsets, &mut next);
    }
    // The whole pattern matched: not a partial match, whatever else ran off the end.
    let end = offsets.iter().copied().max();
    let partial = runs_off && end.is_none();
    (end, partial)
}

/// Calls `found(end)` for each spelling of `c` that begins at `bytes[at]`.
fn for_each_spelling_end(c: char, alphabet: Alphabet, bytes: &[u8], at: usize, mut found: impl FnMut(usize)) {
    let variants: [Option<char>; 2] = match (alphabet, c) {
        (Alphabet::Base64, '+') => [Some('+'), Some('-')],
        (Alphabet::Base64, '/') => [Some('/'), Some('_')],
        _ => [Some(c), None],
    };
    for c in variants.into_iter().flatten() {
        let mut utf8 = [0u8; 4];
        let raw = c.encode_utf8(&mut utf8).as_bytes();
        let rest = &bytes[at..];
        // Verbatim.
        if rest.starts_with(raw) {
            found(at + raw.len());
        }
        // Percent-encoded, byte by byte, either hex case; `+` for a space.
        if c == ' ' && rest.first() == Some(&b'+') {
            found(at + 1);
        }
        if rest.len() >= 3 * raw.len()
            && raw.iter().enumerate().all(|(i, b)| rest[3 * i] == b'%' && hex_is(&rest[3 * i + 1..3 * i + 3], u32::from(*b)))
        {
            found(at + 3 * raw.len());
        }
        // JSON: the short escapes, and \uXXXX (a surrogate pair beyond the BMP).
        let short = match c {
            '"' => Some(b'"'),
            '\\' => Some(b'\\'),
            '/' => Some(b'/'),
            '\u{8}' => Some(b'b'),
            '\u{c}' => Some(b'f'),
            '\n' => Some(b'n'),
            '\r' => Some(b'r'),
            '\t' => Some(b't'),
            _ => None,
        };
        if let Some(short) = short {
            if rest.len() >= 2 && rest[0] == b'\\' && rest[1] == short {
                found(at + 2);
            }
        }
        let mut units = [0u16; 2];
        let units = c.encode_utf16(&mut units);
        if rest.len() >= 6 * units.len()
            && units.iter().enumerate().all(|(i, u)| {
                let e = &rest[6 * i..6 * i + 6];
                e[0] == b'\\' && (e[1] == b'u' || e[1] == b'U') && hex_is(&e[2..6], u32::from(*u))
            })
        {
            found(at + 6 * units.len());
        }
    }
}

/// Whether `digits` (hex, either case) spell `value`.
fn hex_is(digits: &[u8], value: u32) -> bool {
    let mut parsed = 0u32;
    for d in digits {
        let v = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            b'A'..=b'F' => d - b'A' + 10,
            _ => return false,
        };
        parsed = parsed * 16 + u32::from(v);
    }
    parsed == value
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "p/ss~w&rd<é>+1 2";
    const ID: &str = "my id";

    fn r() -> Redactor {
        Redactor::new(ID, SECRET)
    }

    fn json_u_all(text: &str) -> String {
        text.encode_utf16().map(|u| format!("\\u{u:04x}")).collect()
    }

    fn pct(text: &str, lower: bool) -> String {
        text.bytes()
            .map(|b| if lower { format!("%{b:02x}") } else { format!("%{b:02X}") })
            .collect()
    }

    fn spellings() -> Vec<String> {
        let form: String = form_urlencoded::byte_serialize(SECRET.as_bytes()).collect();
        let std = base64::engine::general_purpose::STANDARD;
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let basic_form = format!("{}:{}", form_urlencoded::byte_serialize(ID.as_bytes()).collect::<String>(), form);
        vec![
            SECRET.to_owned(),
            form.clone(),
            form.to_lowercase(),
            form.replace('+', "%20"),
            form.replace("%7E", "~"),
            pct(SECRET, true),
            pct(SECRET, false),
            json_u_all(SECRET),
            json_u_all(SECRET).to_uppercase().replace("\\U", "\\u"),
            serde_json::to_string(SECRET).unwrap().trim_matches('"').replace('/', "\\/"),
            SECRET.replace('&', "\\u0026").replace('<', "\\u003c").replace('>', "\\u003e").replace('é', "\\u00e9"),
            std.encode(SECRET),
            url.encode(SECRET),
            std.encode(format!("{ID}:{SECRET}")),
            std.encode(&basic_form),
            url.encode(&basic_form),
            format!("Basic {}", std.encode(&basic_form)),
            // Base64 with its / JSON-escaped, as PHP writes it.
            std.encode(&basic_form).replace('/', "\\/"),
        ]
    }

    #[test]
    fn every_spelling_is_redacted() {
        let r = r();
        for spelling in spellings() {
            let text = format!("before {spelling} after");
            let out = r.redact(&text, None);
            assert!(out.starts_with("before ") && out.ends_with(" after"), "{spelling}: {out}");
            assert!(out.contains(MARK), "{spelling} was not redacted: {out}");
            assert!(!out.contains("ss~w") && !out.contains("w&rd") && !out.contains("ss%7"), "{out}");
        }
    }

    #[test]
    fn ordinary_text_is_left_alone() {
        let text = "invalid_client: the client secret is wrong (see https://idp.example/help?a=1&b=2)";
        assert_eq!(r().redact(text, None), text);
        assert_eq!(r().quote(text, 512, None), text);
    }

    #[test]
    fn short_secrets_are_not_matched() {
        let r = Redactor::new("id", "abcde");
        assert_eq!(r.redact("abcde abcde", None), "abcde abcde");
        assert_eq!(Redactor::new("id", "abcdef").redact("x abcdef y", None), "x <redacted> y");
    }

    #[test]
    fn the_token_redactor_adds_to_the_clients() {
        let token = Redactor::for_token("tok-123456789");
        let out = r().quote(&format!("{SECRET} and tok-123456789"), 512, Some(&token));
        assert_eq!(out, "<redacted> and <redacted>");
    }

    #[test]
    fn a_cut_never_ends_in_the_beginning_of_an_echo() {
        let r = r();
        for spelling in spellings().into_iter().filter(|s| !s.starts_with("Basic ")) {
            let prefix = "x".repeat(20);
            let text = format!("{prefix}{spelling}");
            for max in 20..text.len() {
                let out = r.quote(&text, max, None);
                assert!(out.len() <= max + MARK.len() + 3, "{out}");
                let shown = out.trim_end_matches("...");
                let tail = match shown.rfind(MARK) {
                    Some(i) => &shown[i + MARK.len()..],
                    None => &shown[prefix.len().min(shown.len())..],
                };
                assert!(tail.len() < MIN_CUT_PREFIX, "{spelling} cut at {max}: {out}");
            }
        }
    }

    #[test]
    fn control_characters_cannot_split_an_echo() {
        let text = "p/ss~\u{7}w&rd<é>+1\u{0} 2 \u{1b}[31m";
        assert_eq!(r().quote(text, 512, None), "<redacted> [31m");
    }

    #[test]
    fn quotes_are_bounded() {
        let long = "é".repeat(1000);
        let out = r().quote(&long, 100, None);
        assert!(out.len() <= 103 && out.ends_with("..."), "{}", out.len());
    }

    #[test]
    fn a_secret_that_overlaps_the_marker_is_not_formed_again() {
        let r = Redactor::new("id", "\u{fffd}\u{fffd}<re");
        let out = r.redact("\u{fffd}\u{fffd}\u{fffd}\u{fffd}<re\u{fffd}\u{fffd}<re", None);
        assert!(!out.contains("\u{fffd}\u{fffd}<re"), "{out}");
        let r = Redactor::new("id", "ted>ab");
        assert!(!r.redact("xted>abab", None).contains("ted>ab"));
    }

    #[test]
    fn debug_shows_nothing_secret() {
        let debug = format!("{:?}", r());
        assert!(!debug.contains("ss") && !debug.contains("cC9z"), "{debug}");
    }

    #[test]
    fn the_spellings_buffer_is_sized_exactly() {
        let r = r();
        assert_eq!(r.spellings.expose().len(), r.patterns.iter().map(|p| p.len).sum::<usize>());
        assert_eq!(r.patterns.len(), 4);
    }
}
