//! The Kafka front-end at its boundary: raw requests on a socket against an in-process
//! listener on a real engine (temporary directory), for what real clients rarely send:
//! retried and out-of-order idempotent batches, oversized, malformed and unknown requests, and
//! a newer client's ApiVersions.

mod fetch_acks;
mod raw;
mod sasl;
