"""The version of the Python package; kept equal to the Rust crate's version (Cargo.toml)."""

__version__ = "0.1.0"
