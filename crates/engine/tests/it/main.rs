//! The engine's integration tests (real files in temporary directories), linked as one binary.

mod alter;
mod common;
mod grow;
