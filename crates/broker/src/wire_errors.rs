//! The one place engine errors become native error codes (a second front-end, such as the
//! Kafka listener, has its own mapping).

use memstream_engine::groups::GroupError;
use memstream_engine::streams::StreamError;
use memstream_log::LogError;
use memstream_protocol::ErrorCode;

/// The native wire code of an engine error.
pub trait WireCode {
    /// The code reported to the client.
    fn code(&self) -> ErrorCode;
}

impl WireCode for StreamError {
    fn code(&self) -> ErrorCode {
        match self {
            StreamError::NotFound(_) => ErrorCode::StreamNotFound,
            StreamError::AlreadyExists(_) => ErrorCode::StreamAlreadyExists,
            StreamError::InvalidName { .. } => ErrorCode::InvalidStreamName,
            StreamError::PartitionNotFound { .. } => ErrorCode::PartitionNotFound,
            StreamError::OutOfRange(_) | StreamError::PartitionsNotAdded { .. } => {
                ErrorCode::InvalidArgument
            }
            StreamError::LimitReached { .. } => ErrorCode::LimitReached,
            StreamError::TaskFailed { .. } => ErrorCode::Internal,
            StreamError::Batch(e) => ErrorCode::from(e),
            StreamError::OutOfOrderSequence { .. } => ErrorCode::OutOfOrderSequence,
            StreamError::UnknownProducer { .. } => ErrorCode::UnknownProducerId,
            StreamError::BatchOverFrame { .. } => ErrorCode::MessageTooLarge,
            StreamError::Log(LogError::OffsetOutOfRange { .. }) => ErrorCode::OffsetOutOfRange,
            StreamError::Log(LogError::Corrupt { .. }) => ErrorCode::CorruptData,
            StreamError::Log(LogError::Fenced { .. }) => ErrorCode::PartitionFenced,
            StreamError::Log(LogError::Closed) => ErrorCode::ShuttingDown,
            StreamError::Log(LogError::Io { .. })
            | StreamError::Storage { .. }
            | StreamError::ProducerIdsExhausted => ErrorCode::StorageError,
        }
    }
}

impl WireCode for GroupError {
    fn code(&self) -> ErrorCode {
        match self {
            GroupError::InvalidName { .. } => ErrorCode::InvalidStreamName,
            GroupError::OutOfRange(_) => ErrorCode::InvalidArgument,
            GroupError::LimitReached { .. } => ErrorCode::LimitReached,
            GroupError::NotEmpty { .. } => ErrorCode::GroupNotEmpty,
            GroupError::NotAssigned { .. } => ErrorCode::PartitionNotAssigned,
            GroupError::NotFound(_) => ErrorCode::GroupNotFound,
            GroupError::UnknownMember(_) => ErrorCode::UnknownMember,
            GroupError::RebalanceInProgress(_) => ErrorCode::RebalanceInProgress,
            GroupError::StaleGeneration { .. } => ErrorCode::StaleGeneration,
            GroupError::Storage(_) => ErrorCode::StorageError,
            // A native member meeting a Kafka group, or limits only Kafka clients reach.
            GroupError::InconsistentProtocol { .. } | GroupError::MetadataTooLarge { .. } => {
                ErrorCode::InvalidArgument
            }
            GroupError::FencedInstance { .. } => ErrorCode::UnknownMember,
        }
    }
}

impl WireCode for memstream_auth::StoreError {
    fn code(&self) -> ErrorCode {
        use memstream_auth::StoreError;
        match self {
            StoreError::NotFound { .. } => ErrorCode::UserNotFound,
            StoreError::Exists { .. } => ErrorCode::UserAlreadyExists,
            StoreError::Limit { .. } => ErrorCode::LimitReached,
            StoreError::Invalid(_) => ErrorCode::InvalidArgument,
            StoreError::Io { .. } | StoreError::Corrupt { .. } => ErrorCode::StorageError,
            StoreError::Random(_) => ErrorCode::Internal,
        }
    }
}
