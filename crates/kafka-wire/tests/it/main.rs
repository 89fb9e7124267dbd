//! The decoders at the boundary: arbitrary bytes never panic, for every API and version.

mod core_decoders;
mod group_decoders;
