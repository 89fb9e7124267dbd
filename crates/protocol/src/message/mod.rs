//! Typed payloads and request decoding.
//!
//! Each message has `encode(&self, dst: &mut BytesMut)` and `decode(payload) -> Result<_,
//! PayloadError>`. Decoding reads through [`reader::PayloadReader`], which bounds-checks every
//! field, so no payload can make a decoder panic, and refuses trailing bytes.

mod auth;
mod error_body;
mod fetch;
mod group;
mod hello;
mod produce;
pub(crate) mod reader;
mod request;
mod security;
mod stream;
mod subscribe;

pub use auth::{AuthRequest, AuthResponse, AUTH_DATA_BYTES_MAX};
pub use error_body::{ErrorBody, ERROR_MESSAGE_BYTES_MAX};
pub use fetch::{
    FetchRequest, FetchResponse, FetchResponseHeader, OffsetSpec, FETCH_RESPONSE_HEADER_LEN,
};
pub use group::{
    CommitOffsets, FetchOffsets, GroupDescription, GroupList, Heartbeat, JoinGroup, Joined,
    LeaveGroup, MemberInfo, Offsets, PartitionLag, PartitionOffset, Rebalance, StreamPartition,
    MEMBER_ID_BYTES_MAX, NO_OFFSET,
};
pub use hello::{
    HelloRequest, HelloResponse, LimitId, Limits, AUTH_MECHANISMS_MAX, MECHANISM_BYTES_MAX,
    NAME_BYTES_MAX,
};
pub use produce::{
    Acks, Durability, InitProducer, PartitionSelector, ProduceBatch, ProduceRequest,
    ProduceResponse, ProduceResult,
};
pub use request::Request;
pub use security::{
    AclFilterMsg, AclList, AclOperation, AclPattern, AclPatternFilter, AclPermission, AclResource,
    CreateAcls, PutMode, PutUser, UserInfo, UserList, UserRef, WireAcl, WireCredential,
    WireMechanism, ACLS_PER_REQUEST_MAX, KEY_BYTES_MAX, RESOURCE_NAME_BYTES_MAX,
    SECURITY_NAME_BYTES_MAX,
};
pub use stream::{
    validate_stream_name, CorruptInfo, CreateStream, FsyncMode, PartitionInfo, StorageKind,
    StreamDescription, StreamList, StreamRef, StreamSettings, StreamSummary, STREAM_NAME_BYTES_MAX,
};
pub use subscribe::{Credit, PushError, PushHeader, Subscribe, Subscribed, ALL_PARTITIONS};
