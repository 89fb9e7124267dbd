//! The stable, numbered error-code table and the Rust errors that map onto it.
//!
//! Wire codes are part of the protocol: a number, once published in `docs/protocol.md`, keeps
//! its meaning forever. Rust error types are separate and richer (they carry the offending
//! values); each maps to exactly one code through a `code()` method defined in this file, so
//! the mapping lives in one place.

use crate::header::FrameHeader;

/// A numbered wire error code. See the table in `docs/protocol.md`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum ErrorCode {
    /// No error; used as the reason of an ordinary GOODBYE.
    Ok = 0,
    // Framing (fatal for the connection).
    /// The frame does not start with `MSTR`.
    BadMagic = 1,
    /// The header version byte, or the HELLO version range, has no version in common.
    UnsupportedVersion = 2,
    /// The header checksum does not match header bytes 0..36.
    HeaderChecksum = 3,
    /// The payload checksum does not match the payload.
    PayloadChecksum = 4,
    /// Header plus payload exceed the negotiated maximum frame size.
    FrameTooLarge = 5,
    /// The opcode is not one this server knows.
    UnknownOpcode = 6,
    /// The payload does not parse as the opcode's message.
    MalformedPayload = 7,
    /// A frame other than HELLO arrived before the handshake completed.
    HandshakeRequired = 8,
    /// The server is at its connection limit.
    TooManyConnections = 9,
    /// The server is shutting down and takes no new work.
    ShuttingDown = 10,
    /// Reserved flag bits are set.
    ReservedFlags = 11,
    /// HELLO did not arrive within the handshake timeout.
    HandshakeTimeout = 12,
    /// No frame arrived within the idle timeout.
    IdleTimeout = 13,
    /// A second HELLO on a connection that already completed its handshake.
    AlreadyHandshaken = 14,
    /// A frame with the RESPONSE flag was sent where a request was expected.
    UnexpectedResponse = 15,
    /// The server failed in a way that is not the client's fault.
    Internal = 16,
    /// The request did not complete within its deadline.
    RequestTimeout = 17,
    /// The connection's outbound queue is full and the peer is not reading.
    WriteQueueFull = 18,
    /// A request field is out of its allowed range.
    InvalidArgument = 19,
    // Streams.
    /// The named stream does not exist.
    StreamNotFound = 20,
    /// A stream with that name already exists.
    StreamAlreadyExists = 21,
    /// The stream name breaks the naming rules.
    InvalidStreamName = 22,
    /// The partition does not exist in the stream.
    PartitionNotFound = 23,
    /// The offset is outside the retained range of the partition.
    OffsetOutOfRange = 24,
    /// A record exceeds the stream's maximum message size.
    MessageTooLarge = 25,
    /// A record batch is structurally invalid.
    InvalidBatch = 26,
    /// A record batch fails its checksum.
    BatchChecksum = 27,
    /// A producer sequence number is not the next expected one.
    OutOfOrderSequence = 28,
    /// The subscription id is not active on this connection.
    SubscriptionNotFound = 29,
    /// The subscription id is already in use on this connection.
    SubscriptionExists = 30,
    /// A configured limit is reached (streams, partitions, groups, members, subscriptions,
    /// producers): the request was valid, the server is full. Not bad input.
    LimitReached = 31,
    /// The idempotent producer id is not known for this partition (never initialised here,
    /// or its state was evicted or expired): start again with INIT_PRODUCER or sequence 0.
    UnknownProducerId = 32,
    // Consumer groups.
    /// The consumer group does not exist.
    GroupNotFound = 40,
    /// The member id is not part of the group.
    UnknownMember = 41,
    /// The group is rebalancing; rejoin to get the new assignment.
    RebalanceInProgress = 42,
    /// The request carries an old group generation.
    StaleGeneration = 43,
    /// The group has members; only an empty group can be deleted.
    GroupNotEmpty = 44,
    /// The partition is not assigned to this member in the current generation.
    PartitionNotAssigned = 45,
    // Storage.
    /// Reading or writing the log failed.
    StorageError = 50,
    /// The partition is fenced after a failed write (retried after 1 s) or fsync (until a
    /// restart).
    PartitionFenced = 51,
    /// Stored data failed its checksum.
    CorruptData = 52,
    // Authentication and authorisation.
    /// The connection must authenticate first.
    AuthenticationRequired = 60,
    /// The credentials were rejected.
    AuthenticationFailed = 61,
    /// The principal may not perform this operation.
    NotAuthorized = 62,
    /// USER_PUT (update) or USER_DELETE named a user that does not exist.
    UserNotFound = 63,
    /// USER_PUT (create) named a user that exists.
    UserAlreadyExists = 64,
}

impl ErrorCode {
    /// Every code, in numeric order.
    pub const ALL: &'static [ErrorCode] = &[
        ErrorCode::Ok,
        ErrorCode::BadMagic,
        ErrorCode::UnsupportedVersion,
        ErrorCode::HeaderChecksum,
        ErrorCode::PayloadChecksum,
        ErrorCode::FrameTooLarge,
        ErrorCode::UnknownOpcode,
        ErrorCode::MalformedPayload,
        ErrorCode::HandshakeRequired,
        ErrorCode::TooManyConnections,
        ErrorCode::ShuttingDown,
        ErrorCode::ReservedFlags,
        ErrorCode::HandshakeTimeout,
        ErrorCode::IdleTimeout,
        ErrorCode::AlreadyHandshaken,
        ErrorCode::UnexpectedResponse,
        ErrorCode::Internal,
        ErrorCode::RequestTimeout,
        ErrorCode::WriteQueueFull,
        ErrorCode::InvalidArgument,
        ErrorCode::StreamNotFound,
        ErrorCode::StreamAlreadyExists,
        ErrorCode::InvalidStreamName,
        ErrorCode::PartitionNotFound,
        ErrorCode::OffsetOutOfRange,
        ErrorCode::MessageTooLarge,
        ErrorCode::InvalidBatch,
        ErrorCode::BatchChecksum,
        ErrorCode::OutOfOrderSequence,
        ErrorCode::SubscriptionNotFound,
        ErrorCode::SubscriptionExists,
        ErrorCode::LimitReached,
        ErrorCode::UnknownProducerId,
        ErrorCode::GroupNotFound,
        ErrorCode::UnknownMember,
        ErrorCode::RebalanceInProgress,
        ErrorCode::StaleGeneration,
        ErrorCode::GroupNotEmpty,
        ErrorCode::PartitionNotAssigned,
        ErrorCode::StorageError,
        ErrorCode::PartitionFenced,
        ErrorCode::CorruptData,
        ErrorCode::AuthenticationRequired,
        ErrorCode::AuthenticationFailed,
        ErrorCode::NotAuthorized,
        ErrorCode::UserNotFound,
        ErrorCode::UserAlreadyExists,
    ];

    /// Maps a wire number to a known code.
    pub fn from_u16(raw: u16) -> Option<ErrorCode> {
        Self::ALL.iter().copied().find(|c| c.as_u16() == raw)
    }

    /// The upper-case name used in docs, logs and metric labels.
    pub fn name(self) -> &'static str {
        match self {
            ErrorCode::Ok => "OK",
            ErrorCode::BadMagic => "BAD_MAGIC",
            ErrorCode::UnsupportedVersion => "UNSUPPORTED_VERSION",
            ErrorCode::HeaderChecksum => "HEADER_CHECKSUM",
            ErrorCode::PayloadChecksum => "PAYLOAD_CHECKSUM",
            ErrorCode::FrameTooLarge => "FRAME_TOO_LARGE",
            ErrorCode::UnknownOpcode => "UNKNOWN_OPCODE",
            ErrorCode::MalformedPayload => "MALFORMED_PAYLOAD",
            ErrorCode::HandshakeRequired => "HANDSHAKE_REQUIRED",
            ErrorCode::TooManyConnections => "TOO_MANY_CONNECTIONS",
            ErrorCode::ShuttingDown => "SHUTTING_DOWN",
            ErrorCode::ReservedFlags => "RESERVED_FLAGS",
            ErrorCode::HandshakeTimeout => "HANDSHAKE_TIMEOUT",
            ErrorCode::IdleTimeout => "IDLE_TIMEOUT",
            ErrorCode::AlreadyHandshaken => "ALREADY_HANDSHAKEN",
            ErrorCode::UnexpectedResponse => "UNEXPECTED_RESPONSE",
            ErrorCode::Internal => "INTERNAL",
            ErrorCode::RequestTimeout => "REQUEST_TIMEOUT",
            ErrorCode::WriteQueueFull => "WRITE_QUEUE_FULL",
            ErrorCode::InvalidArgument => "INVALID_ARGUMENT",
            ErrorCode::StreamNotFound => "STREAM_NOT_FOUND",
            ErrorCode::StreamAlreadyExists => "STREAM_ALREADY_EXISTS",
            ErrorCode::InvalidStreamName => "INVALID_STREAM_NAME",
            ErrorCode::PartitionNotFound => "PARTITION_NOT_FOUND",
            ErrorCode::OffsetOutOfRange => "OFFSET_OUT_OF_RANGE",
            ErrorCode::MessageTooLarge => "MESSAGE_TOO_LARGE",
            ErrorCode::InvalidBatch => "INVALID_BATCH",
            ErrorCode::BatchChecksum => "BATCH_CHECKSUM",
            ErrorCode::OutOfOrderSequence => "OUT_OF_ORDER_SEQUENCE",
            ErrorCode::SubscriptionNotFound => "SUBSCRIPTION_NOT_FOUND",
            ErrorCode::SubscriptionExists => "SUBSCRIPTION_EXISTS",
            ErrorCode::LimitReached => "LIMIT_REACHED",
            ErrorCode::UnknownProducerId => "UNKNOWN_PRODUCER_ID",
            ErrorCode::GroupNotFound => "GROUP_NOT_FOUND",
            ErrorCode::UnknownMember => "UNKNOWN_MEMBER",
            ErrorCode::RebalanceInProgress => "REBALANCE_IN_PROGRESS",
            ErrorCode::StaleGeneration => "STALE_GENERATION",
            ErrorCode::GroupNotEmpty => "GROUP_NOT_EMPTY",
            ErrorCode::PartitionNotAssigned => "PARTITION_NOT_ASSIGNED",
            ErrorCode::StorageError => "STORAGE_ERROR",
            ErrorCode::PartitionFenced => "PARTITION_FENCED",
            ErrorCode::CorruptData => "CORRUPT_DATA",
            ErrorCode::AuthenticationRequired => "AUTHENTICATION_REQUIRED",
            ErrorCode::AuthenticationFailed => "AUTHENTICATION_FAILED",
            ErrorCode::NotAuthorized => "NOT_AUTHORIZED",
            ErrorCode::UserNotFound => "USER_NOT_FOUND",
            ErrorCode::UserAlreadyExists => "USER_ALREADY_EXISTS",
        }
    }

    /// The wire number.
    pub fn as_u16(self) -> u16 {
        self as u16
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.name(), self.as_u16())
    }
}

/// A frame-level failure found by the decoder. Always fatal for the connection.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The first four bytes are not `MSTR`.
    #[error("bad magic bytes {found:02x?}, expected \"MSTR\"")]
    BadMagic {
        /// What arrived instead.
        found: [u8; 4],
    },
    /// The header version byte is not one this decoder reads.
    #[error("unsupported header version {found}")]
    UnsupportedVersion {
        /// The version byte that arrived.
        found: u8,
    },
    /// The header checksum does not match.
    #[error("header checksum mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    HeaderChecksum {
        /// Checksum carried in the header.
        stored: u32,
        /// Checksum of the bytes received.
        computed: u32,
    },
    /// Reserved flag bits are set.
    #[error("reserved flag bits set in {:#06x}", header.flags.bits())]
    ReservedFlags {
        /// The (checksum-valid) header.
        header: FrameHeader,
    },
    /// The frame is larger than the limit.
    #[error("frame of {frame_len} bytes exceeds the limit of {max_frame_bytes}")]
    TooLarge {
        /// The (checksum-valid) header.
        header: FrameHeader,
        /// Header plus payload length announced.
        frame_len: u64,
        /// The limit in force.
        max_frame_bytes: u32,
    },
    /// The payload checksum does not match.
    #[error("payload checksum mismatch: stored {:#010x}, computed {computed:#010x}", header.payload_crc)]
    PayloadChecksum {
        /// The frame's header.
        header: FrameHeader,
        /// Checksum of the bytes received.
        computed: u32,
    },
    /// The transport failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

impl FrameError {
    /// The wire code reported to the peer.
    pub fn code(&self) -> ErrorCode {
        match self {
            FrameError::BadMagic { .. } => ErrorCode::BadMagic,
            FrameError::UnsupportedVersion { .. } => ErrorCode::UnsupportedVersion,
            FrameError::HeaderChecksum { .. } => ErrorCode::HeaderChecksum,
            FrameError::ReservedFlags { .. } => ErrorCode::ReservedFlags,
            FrameError::TooLarge { .. } => ErrorCode::FrameTooLarge,
            FrameError::PayloadChecksum { .. } => ErrorCode::PayloadChecksum,
            FrameError::Io(_) => ErrorCode::Internal,
        }
    }

    /// The header of the offending frame when it could be trusted (its checksum held), so the
    /// error frame can echo its opcode and correlation id.
    pub fn trusted_header(&self) -> Option<&FrameHeader> {
        match self {
            FrameError::ReservedFlags { header }
            | FrameError::TooLarge { header, .. }
            | FrameError::PayloadChecksum { header, .. } => Some(header),
            _ => None,
        }
    }
}

/// A payload that does not parse as its opcode's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// The payload ended inside a field.
    #[error("payload truncated in field `{field}`")]
    Truncated {
        /// The field being read.
        field: &'static str,
    },
    /// Bytes remain after the last field.
    #[error("{extra} unexpected trailing bytes")]
    TrailingBytes {
        /// How many.
        extra: usize,
    },
    /// A text field is not UTF-8.
    #[error("field `{field}` is not valid UTF-8")]
    InvalidUtf8 {
        /// The field.
        field: &'static str,
    },
    /// A field is longer than allowed.
    #[error("field `{field}` is {len} bytes, the limit is {max}")]
    TooLong {
        /// The field.
        field: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A field holds a value outside its domain.
    #[error("field `{field}` has invalid value {value}")]
    InvalidValue {
        /// The field.
        field: &'static str,
        /// The value.
        value: u64,
    },
}

impl PayloadError {
    /// The wire code reported to the peer.
    pub fn code(&self) -> ErrorCode {
        ErrorCode::MalformedPayload
    }
}

/// A request-level failure: the frame was sound, the request in it is not.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The opcode is not known.
    #[error("unknown opcode {opcode:#04x}")]
    UnknownOpcode {
        /// The raw opcode.
        opcode: u8,
    },
    /// A response frame arrived where a request was expected.
    #[error("frame with the RESPONSE flag sent as a request (opcode {opcode:#04x})")]
    UnexpectedResponse {
        /// The raw opcode.
        opcode: u8,
    },
    /// The payload does not parse.
    #[error("malformed {opcode} payload: {source}")]
    Malformed {
        /// The operation's name.
        opcode: &'static str,
        /// What was wrong.
        source: PayloadError,
    },
}

impl RequestError {
    /// The wire code reported to the peer.
    pub fn code(&self) -> ErrorCode {
        match self {
            RequestError::UnknownOpcode { .. } => ErrorCode::UnknownOpcode,
            RequestError::UnexpectedResponse { .. } => ErrorCode::UnexpectedResponse,
            RequestError::Malformed { source, .. } => source.code(),
        }
    }
}

impl From<&crate::batch::BatchError> for ErrorCode {
    /// The wire code a producer gets for a refused batch.
    fn from(e: &crate::batch::BatchError) -> ErrorCode {
        use crate::batch::BatchError;
        match e {
            BatchError::Checksum { .. } => ErrorCode::BatchChecksum,
            BatchError::RecordTooLarge { .. }
            | BatchError::BatchTooLarge { .. }
            | BatchError::DecompressedTooLarge { .. } => ErrorCode::MessageTooLarge,
            _ => ErrorCode::InvalidBatch,
        }
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for &code in ErrorCode::ALL {
            assert!(seen.insert(code.as_u16()), "duplicate number for {code}");
            assert_eq!(ErrorCode::from_u16(code.as_u16()), Some(code));
        }
        assert!(ErrorCode::ALL.len() >= 22);
    }

    #[test]
    fn fixed_numbers_never_change() {
        let fixed = [
            (ErrorCode::BadMagic, 1),
            (ErrorCode::UnsupportedVersion, 2),
            (ErrorCode::HeaderChecksum, 3),
            (ErrorCode::PayloadChecksum, 4),
            (ErrorCode::FrameTooLarge, 5),
            (ErrorCode::UnknownOpcode, 6),
            (ErrorCode::MalformedPayload, 7),
            (ErrorCode::HandshakeRequired, 8),
            (ErrorCode::TooManyConnections, 9),
            (ErrorCode::ShuttingDown, 10),
        ];
        for (code, num) in fixed {
            assert_eq!(code.as_u16(), num, "{}", code.name());
        }
    }
}
