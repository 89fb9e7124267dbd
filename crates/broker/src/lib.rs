//! The MemoryStreamer server.
pub mod config;
