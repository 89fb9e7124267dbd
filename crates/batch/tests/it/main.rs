//! The batch crate's tests, linked as one binary.

mod batch;
mod untrusted;
