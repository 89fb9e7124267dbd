//! The binary's integration tests (real `memstream` processes), linked as one binary.

mod common;

mod commands;
mod console;
mod crash;
mod examples;
mod footprint;
mod kafka_admin;
mod kafka_clients;
mod kafka_security;
mod readme;
mod security_online;
mod security_store;
mod serve;
mod top;
