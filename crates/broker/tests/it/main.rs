//! The broker's integration tests, linked as one binary (one link instead of one per file).

mod common;

mod admin_api;
mod client_groups;
mod client_producer;
mod client_resilience;
mod config;
mod groups;
mod limits;
mod protocol_errors;
mod security;
mod security_admin;
mod server;
mod streams;
mod subscription_faults;
mod subscriptions;
mod tls;
