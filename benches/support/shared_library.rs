//! The released shared library (target/release/libhctoken.so), opened with dlopen: calls go
//! through the dynamic symbol table exactly as a C, Python or .NET host makes them, with none of
//! the inlining that linking the rlib into the benchmark would allow.

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::path::{Path, PathBuf};
use std::ptr;

use super::config_pairs;

type Status = c_int;
const HCT_OK: Status = 0;

/// The exported functions the benchmarks call.
pub struct SharedLibrary {
    pub path: PathBuf,
    config_new: unsafe extern "C" fn() -> *mut c_void,
    config_set: unsafe extern "C" fn(*mut c_void, *const c_char, *const c_char) -> Status,
    config_free: unsafe extern "C" fn(*mut c_void),
    client_new: unsafe extern "C" fn(*const c_void, *mut *mut c_void) -> Status,
    client_free: unsafe extern "C" fn(*mut c_void),
    get_token: unsafe extern "C" fn(*mut c_void, *mut *mut c_char) -> Status,
    get_token_into: unsafe extern "C" fn(*mut c_void, *mut c_char, usize, *mut usize) -> Status,
    invalidate: unsafe extern "C" fn(*mut c_void) -> Status,
    string_free: unsafe extern "C" fn(*mut c_char),
}

/// Where scripts/bench.sh builds it: `HCTOKEN_LIBRARY`, else target/release/libhctoken.so.
pub fn default_path() -> PathBuf {
    std::env::var_os("HCTOKEN_LIBRARY")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/libhctoken.so"))
}

impl SharedLibrary {
    /// Opens the library, or says why not (not built yet, say).
    pub fn open(path: &Path) -> Result<SharedLibrary, String> {
        let c_path = CString::new(path.to_str().ok_or("a non-UTF-8 path")?).unwrap();
        // SAFETY: a valid NUL-terminated path; the handle is kept open for the process's life.
        let handle = unsafe { libc::dlopen(c_path.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
        if handle.is_null() {
            // SAFETY: dlerror returns a valid C string after a failed dlopen.
            let why = unsafe { CStr::from_ptr(libc::dlerror()) }.to_string_lossy().into_owned();
            return Err(why);
        }
        // SAFETY (each use): the symbol is the function of that name in include/hctoken.h, and
        // the field it goes into has the signature declared there.
        unsafe {
            Ok(SharedLibrary {
                path: path.to_owned(),
                config_new: function(handle, path, "hct_config_new")?,
                config_set: function(handle, path, "hct_config_set")?,
                config_free: function(handle, path, "hct_config_free")?,
                client_new: function(handle, path, "hct_client_new")?,
                client_free: function(handle, path, "hct_client_free")?,
                get_token: function(handle, path, "hct_client_get_token")?,
                get_token_into: function(handle, path, "hct_client_get_token_into")?,
                invalidate: function(handle, path, "hct_client_invalidate")?,
                string_free: function(handle, path, "hct_string_free")?,
            })
        }
    }

    pub fn client(&self, token_url: &str) -> SoClient<'_> {
        // SAFETY: valid pointers for each call; the config is freed once.
        unsafe {
            let config = (self.config_new)();
            for (key, value) in config_pairs(token_url) {
                let (key, value) = (CString::new(key).unwrap(), CString::new(value).unwrap());
                assert_eq!((self.config_set)(config, key.as_ptr(), value.as_ptr()), HCT_OK);
            }
            let mut client = ptr::null_mut();
            let status = (self.client_new)(config, &mut client);
            (self.config_free)(config);
            assert_eq!(status, HCT_OK);
            SoClient { library: self, client }
        }
    }
}

/// The exported function `name` as a function pointer of type `F`.
///
/// # Safety
/// `F` must be the `extern "C"` function pointer type of that function's declaration.
unsafe fn function<F: Copy>(handle: *mut c_void, path: &Path, name: &str) -> Result<F, String> {
    assert_eq!(std::mem::size_of::<F>(), std::mem::size_of::<*mut c_void>());
    let c_name = CString::new(name).unwrap();
    // SAFETY: a live handle and a valid symbol name.
    let found = unsafe { libc::dlsym(handle, c_name.as_ptr()) };
    if found.is_null() {
        return Err(format!("{} has no symbol {name}", path.display()));
    }
    // SAFETY: a non-NULL function address, of the type the caller vouches for.
    Ok(unsafe { std::mem::transmute_copy::<*mut c_void, F>(&found) })
}

/// A client of the shared library.
pub struct SoClient<'a> {
    library: &'a SharedLibrary,
    client: *mut c_void,
}

// SAFETY: hct_client is documented as safe to use from any number of threads at once.
unsafe impl Send for SoClient<'_> {}
unsafe impl Sync for SoClient<'_> {}

impl SoClient<'_> {
    /// hct_client_get_token then hct_string_free; returns the token's first byte.
    #[inline]
    pub fn get_token(&self) -> u8 {
        let mut token: *mut c_char = ptr::null_mut();
        // SAFETY: a live client and a writable out-pointer; the token is freed once.
        unsafe {
            assert_eq!((self.library.get_token)(self.client, &mut token), HCT_OK);
            let first = *token as u8;
            (self.library.string_free)(token);
            first
        }
    }

    /// hct_client_get_token_into; returns the token length.
    #[inline]
    pub fn get_token_into(&self, buf: &mut [u8]) -> usize {
        let mut len = 0usize;
        // SAFETY: a live client; buf is writable for buf.len() bytes.
        let status = unsafe { (self.library.get_token_into)(self.client, buf.as_mut_ptr().cast(), buf.len(), &mut len) };
        assert_eq!(status, HCT_OK);
        len
    }

    pub fn invalidate(&self) {
        // SAFETY: a live client.
        assert_eq!(unsafe { (self.library.invalidate)(self.client) }, HCT_OK);
    }
}

impl Drop for SoClient<'_> {
    fn drop(&mut self) {
        // SAFETY: created by hct_client_new, freed once.
        unsafe { (self.library.client_free)(self.client) }
    }
}
