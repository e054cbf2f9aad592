//! Text that must never be printed and is wiped from memory when dropped: client secrets,
//! access tokens, request bodies that carry either.

use std::fmt;

/// A secret string. `Debug` prints `<redacted>`; the bytes are zeroed on drop.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

// Not Zeroizing<String>: that wipes a String (or Vec) byte by byte with a fence after each,
// ~250 ns per KB, paid by every Client::token() and every fetch.
impl Drop for Secret {
    fn drop(&mut self) {
        // SAFETY: all zeroes is valid UTF-8, and the string is dropped right after.
        wipe_all(unsafe { self.0.as_mut_vec() });
    }
}

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret text. The name makes every use visible in review.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Secret bytes (a request body, a response body).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretBytes(Vec<u8>);

impl Drop for SecretBytes {
    fn drop(&mut self) {
        wipe_all(&mut self.0);
    }
}

/// Wipes a buffer and its spare capacity (which may hold bytes from before a truncation).
fn wipe_all(bytes: &mut Vec<u8>) {
    wipe(bytes);
    zeroize::Zeroize::zeroize(bytes.spare_capacity_mut());
}

impl SecretBytes {
    pub fn new(value: Vec<u8>) -> Self {
        SecretBytes(value)
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<redacted {} bytes>", self.0.len())
    }
}

/// Overwrites `bytes` with zeros in a way the compiler may not remove: the C library's
/// `explicit_bzero` on glibc and musl, the zeroize crate elsewhere.
pub fn wipe(bytes: &mut [u8]) {
    #[cfg(all(target_os = "linux", any(target_env = "gnu", target_env = "musl")))]
    {
        // SAFETY: the pointer and length describe `bytes`, which we borrow mutably.
        unsafe { libc::explicit_bzero(bytes.as_mut_ptr().cast(), bytes.len()) };
    }
    #[cfg(not(all(target_os = "linux", any(target_env = "gnu", target_env = "musl"))))]
    zeroize::Zeroize::zeroize(bytes);
}

/// Whether `a` and `b` are equal, in time that depends on their lengths only, not on where
/// they first differ (a token compared against one an attacker guesses must not leak a prefix).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wipe_zeroes_every_byte() {
        let mut bytes = *b"token-bytes";
        wipe(&mut bytes);
        assert_eq!(bytes, [0u8; 11]);
    }

    #[test]
    fn constant_time_eq_compares_whole_slices() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(constant_time_eq(b"", b""));
    }

    #[test]
    fn debug_never_shows_the_value() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret:?}"), "<redacted>");
        let bytes = SecretBytes::new(b"client_secret=hunter2".to_vec());
        assert!(!format!("{bytes:?}").contains("hunter2"));
    }
}
