//! Kafka's wire protocol as MemoryStreamer speaks it: request headers, the request decoders
//! and response encoders of each implemented API, and Kafka's error codes. No I/O: the
//! front-end (`memstream-kafka`) reads size-prefixed frames and calls these.
//!
//! Decoding never panics and never allocates beyond the bytes received ([`codec::Reader`]);
//! record batches stay opaque `Bytes` slices of the request (Produce) and are spliced into
//! responses as stored (Fetch). [`api::SUPPORTED`] is the one table of implemented keys and
//! versions: ApiVersions advertises exactly it. See `docs/kafka.md`.

#![deny(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

pub mod acl;
pub mod api;
pub mod api_versions;
pub mod codec;
pub mod consumer_protocol;
pub mod create_acls;
pub mod create_partitions;
pub mod create_topics;
pub mod delete_acls;
pub mod delete_groups;
pub mod delete_records;
pub mod delete_topics;
pub mod describe_acls;
pub mod describe_cluster;
pub mod describe_configs;
pub mod describe_groups;
pub mod error_code;
pub mod fetch;
pub mod find_coordinator;
pub mod header;
pub mod heartbeat;
pub mod incremental_alter_configs;
pub mod init_producer_id;
pub mod join_group;
pub mod leave_group;
pub mod list_groups;
pub mod list_offsets;
pub mod metadata;
pub mod offset_commit;
pub mod offset_fetch;
pub mod produce;
pub mod request;
pub mod sasl_authenticate;
pub mod sasl_handshake;
pub mod scram_credentials;
pub mod sync_group;

pub use codec::{DecodeError, Reader, Writer};
pub use error_code::ErrorCode;
pub use request::Request;
