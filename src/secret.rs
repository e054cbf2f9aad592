//! Text that must never be printed and is wiped from memory when dropped: client secrets,
//! access tokens, request bodies that carry either.

use std::fmt;
use zeroize::Zeroizing;

/// A secret string. `Debug` prints `<redacted>`; the bytes are zeroed on drop.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(Zeroizing::new(value.into()))
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
pub struct SecretBytes(Zeroizing<Vec<u8>>);

impl SecretBytes {
    pub fn new(value: Vec<u8>) -> Self {
        SecretBytes(Zeroizing::new(value))
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

/// Overwrites `bytes` with zeros in a way the compiler may not remove. On glibc and musl this is
/// `explicit_bzero` (memset speed); elsewhere the zeroize crate's volatile writes, which are
/// byte by byte and several times slower on a kilobyte token.
pub fn wipe(bytes: &mut [u8]) {
    #[cfg(all(target_os = "linux", any(target_env = "gnu", target_env = "musl")))]
    {
        // SAFETY: the pointer and length describe `bytes`, which we borrow mutably.
        unsafe { libc::explicit_bzero(bytes.as_mut_ptr().cast(), bytes.len()) };
    }
    #[cfg(not(all(target_os = "linux", any(target_env = "gnu", target_env = "musl"))))]
    zeroize::Zeroize::zeroize(bytes);
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
    fn debug_never_shows_the_value() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret:?}"), "<redacted>");
        let bytes = SecretBytes::new(b"client_secret=hunter2".to_vec());
        assert!(!format!("{bytes:?}").contains("hunter2"));
    }
}
