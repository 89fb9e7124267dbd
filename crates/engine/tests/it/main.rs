//! The engine's integration tests through its public API (real files in temporary
//! directories), linked as one binary.

mod alter;
mod classic_groups;
mod classic_initial_delay;
mod common;
mod grow;
