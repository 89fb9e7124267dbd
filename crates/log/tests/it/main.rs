//! The log's integration tests, linked as one binary (footprint.rs, which counts allocations, stays on its own).

mod common;

mod durability;
mod garbage;
mod model;
mod recovery;
mod retention;
mod roundtrip;
mod storage_doc;
