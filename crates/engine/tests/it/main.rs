//! The engine through its public API.

mod classic_groups;
