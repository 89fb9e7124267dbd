//! The protocol's golden tests against docs/protocol.md, linked as one binary (codec_props.rs, which counts allocations, stays on its own).

mod golden;
mod golden_batch;
