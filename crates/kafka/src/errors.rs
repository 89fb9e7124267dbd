//! The one place engine errors become Kafka error codes (the native front-end has its own
//! mapping in `memstream-broker`).

use memstream_batch::BatchError;
use memstream_engine::groups::GroupError;
use memstream_engine::streams::StreamError;
use memstream_kafka_wire::ErrorCode;
use memstream_log::LogError;

/// The Kafka code for a stream error.
pub fn stream_code(e: &StreamError) -> ErrorCode {
    match e {
        StreamError::NotFound(_) | StreamError::PartitionNotFound { .. } => {
            ErrorCode::UNKNOWN_TOPIC_OR_PARTITION
        }
        StreamError::AlreadyExists(_) => ErrorCode::TOPIC_ALREADY_EXISTS,
        StreamError::InvalidName { .. } => ErrorCode::INVALID_TOPIC_EXCEPTION,
        StreamError::OutOfRange(_) => ErrorCode::INVALID_CONFIG,
        StreamError::PartitionsNotAdded { .. } => ErrorCode::INVALID_PARTITIONS,
        StreamError::LimitReached { .. } => ErrorCode::POLICY_VIOLATION,
        StreamError::Batch(e) => batch_code(e),
        StreamError::OutOfOrderSequence { .. } => ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER,
        StreamError::UnknownProducer { .. } => ErrorCode::UNKNOWN_PRODUCER_ID,
        StreamError::BatchOverFrame { .. } => ErrorCode::MESSAGE_TOO_LARGE,
        StreamError::Log(e) => log_code(e),
        StreamError::Storage { .. } | StreamError::ProducerIdsExhausted => {
            ErrorCode::KAFKA_STORAGE_ERROR
        }
        StreamError::TaskFailed { .. } => ErrorCode::UNKNOWN_SERVER_ERROR,
    }
}

/// The Kafka code for a refused batch.
pub fn batch_code(e: &BatchError) -> ErrorCode {
    match e {
        BatchError::Checksum { .. } => ErrorCode::CORRUPT_MESSAGE,
        BatchError::BatchTooLarge { .. }
        | BatchError::RecordTooLarge { .. }
        | BatchError::DecompressedTooLarge { .. } => ErrorCode::MESSAGE_TOO_LARGE,
        BatchError::UnsupportedMagic { .. } | BatchError::UnsupportedAttributes { .. } => {
            ErrorCode::UNSUPPORTED_FOR_MESSAGE_FORMAT
        }
        BatchError::Truncated { .. }
        | BatchError::LengthMismatch { .. }
        | BatchError::BadCount { .. }
        | BatchError::NegativeTimestamp { .. }
        | BatchError::MalformedRecord { .. }
        | BatchError::Decompress { .. } => ErrorCode::CORRUPT_MESSAGE,
    }
}

/// The Kafka code for a log error.
pub fn log_code(e: &LogError) -> ErrorCode {
    match e {
        LogError::OffsetOutOfRange { .. } => ErrorCode::OFFSET_OUT_OF_RANGE,
        LogError::Corrupt { .. } => ErrorCode::CORRUPT_MESSAGE,
        // Closing for shutdown: the client retries elsewhere (or here after a restart).
        LogError::Closed => ErrorCode::NOT_LEADER_OR_FOLLOWER,
        LogError::Io { .. } | LogError::Fenced { .. } => ErrorCode::KAFKA_STORAGE_ERROR,
    }
}

/// The Kafka code for a group error.
pub fn group_code(e: &GroupError) -> ErrorCode {
    match e {
        GroupError::InvalidName { .. } => ErrorCode::INVALID_GROUP_ID,
        GroupError::OutOfRange(_) => ErrorCode::INVALID_SESSION_TIMEOUT,
        GroupError::LimitReached { .. } => ErrorCode::GROUP_MAX_SIZE_REACHED,
        GroupError::NotEmpty { .. } => ErrorCode::NON_EMPTY_GROUP,
        GroupError::NotAssigned { .. } => ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
        GroupError::NotFound(_) => ErrorCode::GROUP_ID_NOT_FOUND,
        GroupError::UnknownMember(_) => ErrorCode::UNKNOWN_MEMBER_ID,
        GroupError::RebalanceInProgress(_) => ErrorCode::REBALANCE_IN_PROGRESS,
        GroupError::StaleGeneration { .. } => ErrorCode::ILLEGAL_GENERATION,
        GroupError::Storage(_) => ErrorCode::COORDINATOR_NOT_AVAILABLE,
        GroupError::InconsistentProtocol { .. } => ErrorCode::INCONSISTENT_GROUP_PROTOCOL,
        GroupError::FencedInstance { .. } => ErrorCode::FENCED_INSTANCE_ID,
        GroupError::MetadataTooLarge { .. } => ErrorCode::OFFSET_METADATA_TOO_LARGE,
    }
}

/// The code and message of a refused topic-administration request (CreateTopics,
/// CreatePartitions, IncrementalAlterConfigs): a server limit is POLICY_VIOLATION; a setting
/// out of range is INVALID_CONFIG naming the Kafka configuration; the rest as
/// [`stream_code`].
pub fn admin_error(e: &StreamError) -> (ErrorCode, String) {
    match e {
        StreamError::OutOfRange(r) if r.setting == "partitions" => {
            (ErrorCode::POLICY_VIOLATION, e.to_string())
        }
        StreamError::OutOfRange(r) => match crate::topic_config::TopicConfig::of_setting(r.setting)
        {
            Some(config) => (ErrorCode::INVALID_CONFIG, format!("{}: {e}", config.name())),
            None => (ErrorCode::INVALID_CONFIG, e.to_string()),
        },
        _ => (stream_code(e), e.to_string()),
    }
}
