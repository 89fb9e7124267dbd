//! Partition logs for MemoryStreamer: segments, indexes, recovery and retention.
//!
//! This crate is deliberately empty in the foundation milestone; the streams milestone fills it
//! (see `docs/ARCHITECTURE.md`, "Planned crates"). It exists now so that the workspace layout,
//! CI and dependency checks already cover it.
