//! hctoken: OAuth 2.0 client-credentials access tokens for healthcare APIs, cached for every
//! thread of the program and refreshed before they expire, behind a stable C ABI.
//!
//! ```no_run
//! let mut config = hctoken::Config::new();
//! config.set("profile", "change-healthcare-v2")?;
//! config.set("environment", "sandbox")?;
//! config.set("client_id", "my-id")?;
//! config.set("client_secret", "my-secret")?;
//! let client = hctoken::Client::new(&config)?;
//! let token = client.token()?; // cached until shortly before it expires
//! println!("Authorization: Bearer {}", token.as_str());
//! # Ok::<(), hctoken::Error>(())
//! ```

mod cache;
mod client;
mod clock;
mod config;
mod deadline;
mod error;
pub mod ffi;
mod fork;
#[doc(hidden)]
pub mod fuzzing;
mod http;
mod log;
mod profile;
mod redact;
mod request;
mod response;
mod retry;
mod secret;
mod stats;
mod tls;

pub use client::{AccessToken, Client, GetOptions};
#[doc(hidden)]
pub use clock::ManualClock;
pub use config::{Config, KEYS as CONFIG_KEYS};
pub use error::{Error, ErrorKind, OAuthDetails, Result};
pub use log::{LogLevel, Logger};
pub use profile::Profile;
pub use stats::Stats;
