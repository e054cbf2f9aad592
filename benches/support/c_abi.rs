//! A client made and used through the C ABI, linked into the benchmark (the rlib, with LTO):
//! the same exported functions a C host calls, minus the shared library's call indirection.

use std::ffi::{c_char, CString};
use std::ptr;

use hctoken::ffi::{self, hct_client, hct_status};

use super::config_pairs;

pub struct CClient(*mut hct_client);

// SAFETY: hct_client is documented as safe to use from any number of threads at once.
unsafe impl Send for CClient {}
unsafe impl Sync for CClient {}

impl CClient {
    pub fn new(token_url: &str) -> CClient {
        // SAFETY: every pointer passed is valid for the call; the config is freed once.
        unsafe {
            let config = ffi::hct_config_new();
            for (key, value) in config_pairs(token_url) {
                let (key, value) = (CString::new(key).unwrap(), CString::new(value).unwrap());
                assert_eq!(ffi::hct_config_set(config, key.as_ptr(), value.as_ptr()), hct_status::HCT_OK);
            }
            let mut client = ptr::null_mut();
            let status = ffi::hct_client_new(config, &mut client);
            ffi::hct_config_free(config);
            assert_eq!(status, hct_status::HCT_OK);
            CClient(client)
        }
    }

    /// hct_client_get_token then hct_string_free: the allocating way in, as a C caller uses it.
    /// Returns the token's first byte so the work cannot be optimized away.
    #[inline]
    pub fn get_token(&self) -> u8 {
        let mut token: *mut c_char = ptr::null_mut();
        // SAFETY: a live client and a writable out-pointer; the token is freed once.
        unsafe {
            assert_eq!(ffi::hct_client_get_token(self.0, &mut token), hct_status::HCT_OK);
            let first = *token as u8;
            ffi::hct_string_free(token);
            first
        }
    }

    /// hct_client_get_token_into: the copy into the caller's buffer; returns the token length.
    #[inline]
    pub fn get_token_into(&self, buf: &mut [u8]) -> usize {
        let mut len = 0usize;
        // SAFETY: a live client; buf is writable for buf.len() bytes.
        let status = unsafe { ffi::hct_client_get_token_into(self.0, buf.as_mut_ptr().cast(), buf.len(), &mut len) };
        assert_eq!(status, hct_status::HCT_OK);
        len
    }

    pub fn invalidate(&self) {
        // SAFETY: a live client.
        assert_eq!(unsafe { ffi::hct_client_invalidate(self.0) }, hct_status::HCT_OK);
    }

    pub fn as_ptr(&self) -> *mut hct_client {
        self.0
    }
}

impl Drop for CClient {
    fn drop(&mut self) {
        // SAFETY: created by hct_client_new, freed once, after every call on it returned.
        unsafe { ffi::hct_client_free(self.0) }
    }
}
