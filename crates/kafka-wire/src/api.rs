//! The API keys this broker implements and their version ranges: the one table ApiVersions
//! advertises and the front-end dispatches on.

/// One API: its key, name, the versions implemented, and the first flexible version (compact
/// types, tagged fields, request header v2 and response header v1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiSpec {
    /// The API key.
    pub key: i16,
    /// Kafka's name for it.
    pub name: &'static str,
    /// Oldest version implemented.
    pub min: i16,
    /// Newest version implemented.
    pub max: i16,
    /// First flexible version (beyond `max` when none of the implemented ones is).
    pub flexible_from: i16,
}

impl ApiSpec {
    /// Whether `version` is implemented.
    pub fn supports(&self, version: i16) -> bool {
        (self.min..=self.max).contains(&version)
    }

    /// Whether `version` uses the flexible encoding.
    pub fn is_flexible(&self, version: i16) -> bool {
        version >= self.flexible_from
    }
}

/// Kafka's API keys for the APIs implemented.
pub mod key {
    /// Produce.
    pub const PRODUCE: i16 = 0;
    /// Fetch.
    pub const FETCH: i16 = 1;
    /// ListOffsets.
    pub const LIST_OFFSETS: i16 = 2;
    /// Metadata.
    pub const METADATA: i16 = 3;
    /// OffsetCommit.
    pub const OFFSET_COMMIT: i16 = 8;
    /// OffsetFetch.
    pub const OFFSET_FETCH: i16 = 9;
    /// FindCoordinator.
    pub const FIND_COORDINATOR: i16 = 10;
    /// JoinGroup.
    pub const JOIN_GROUP: i16 = 11;
    /// Heartbeat.
    pub const HEARTBEAT: i16 = 12;
    /// LeaveGroup.
    pub const LEAVE_GROUP: i16 = 13;
    /// SyncGroup.
    pub const SYNC_GROUP: i16 = 14;
    /// DescribeGroups.
    pub const DESCRIBE_GROUPS: i16 = 15;
    /// ListGroups.
    pub const LIST_GROUPS: i16 = 16;
    /// SaslHandshake.
    pub const SASL_HANDSHAKE: i16 = 17;
    /// ApiVersions.
    pub const API_VERSIONS: i16 = 18;
    /// CreateTopics.
    pub const CREATE_TOPICS: i16 = 19;
    /// DeleteTopics.
    pub const DELETE_TOPICS: i16 = 20;
    /// DeleteRecords.
    pub const DELETE_RECORDS: i16 = 21;
    /// InitProducerId.
    pub const INIT_PRODUCER_ID: i16 = 22;
    /// DescribeAcls.
    pub const DESCRIBE_ACLS: i16 = 29;
    /// CreateAcls.
    pub const CREATE_ACLS: i16 = 30;
    /// DeleteAcls.
    pub const DELETE_ACLS: i16 = 31;
    /// DescribeConfigs.
    pub const DESCRIBE_CONFIGS: i16 = 32;
    /// SaslAuthenticate.
    pub const SASL_AUTHENTICATE: i16 = 36;
    /// CreatePartitions.
    pub const CREATE_PARTITIONS: i16 = 37;
    /// DeleteGroups.
    pub const DELETE_GROUPS: i16 = 42;
    /// IncrementalAlterConfigs.
    pub const INCREMENTAL_ALTER_CONFIGS: i16 = 44;
    /// DescribeUserScramCredentials.
    pub const DESCRIBE_USER_SCRAM_CREDENTIALS: i16 = 50;
    /// AlterUserScramCredentials.
    pub const ALTER_USER_SCRAM_CREDENTIALS: i16 = 51;
    /// DescribeCluster.
    pub const DESCRIBE_CLUSTER: i16 = 60;
}

const fn api(key: i16, name: &'static str, min: i16, max: i16, flexible_from: i16) -> ApiSpec {
    ApiSpec {
        key,
        name,
        min,
        max,
        flexible_from,
    }
}

/// `flexible_from` of an API that has no flexible version at all (SaslHandshake).
const NEVER_FLEXIBLE: i16 = i16::MAX;

/// Every API implemented, by key.
pub const SUPPORTED: &[ApiSpec] = &[
    api(key::PRODUCE, "Produce", 3, 9, 9),
    api(key::FETCH, "Fetch", 4, 12, 12),
    api(key::LIST_OFFSETS, "ListOffsets", 1, 6, 6),
    api(key::METADATA, "Metadata", 0, 12, 9),
    api(key::OFFSET_COMMIT, "OffsetCommit", 2, 8, 8),
    api(key::OFFSET_FETCH, "OffsetFetch", 1, 8, 6),
    api(key::FIND_COORDINATOR, "FindCoordinator", 0, 4, 3),
    api(key::JOIN_GROUP, "JoinGroup", 0, 9, 6),
    api(key::HEARTBEAT, "Heartbeat", 0, 4, 4),
    api(key::LEAVE_GROUP, "LeaveGroup", 0, 5, 4),
    api(key::SYNC_GROUP, "SyncGroup", 0, 5, 4),
    api(key::DESCRIBE_GROUPS, "DescribeGroups", 0, 5, 5),
    api(key::LIST_GROUPS, "ListGroups", 0, 4, 3),
    api(key::SASL_HANDSHAKE, "SaslHandshake", 0, 1, NEVER_FLEXIBLE),
    api(key::API_VERSIONS, "ApiVersions", 0, 3, 3),
    api(key::CREATE_TOPICS, "CreateTopics", 0, 7, 5),
    api(key::DELETE_TOPICS, "DeleteTopics", 0, 6, 4),
    api(key::DELETE_RECORDS, "DeleteRecords", 0, 2, 2),
    api(key::INIT_PRODUCER_ID, "InitProducerId", 0, 4, 2),
    api(key::DESCRIBE_ACLS, "DescribeAcls", 0, 3, 2),
    api(key::CREATE_ACLS, "CreateAcls", 0, 3, 2),
    api(key::DELETE_ACLS, "DeleteAcls", 0, 3, 2),
    api(key::DESCRIBE_CONFIGS, "DescribeConfigs", 0, 4, 4),
    api(key::SASL_AUTHENTICATE, "SaslAuthenticate", 0, 2, 2),
    api(key::CREATE_PARTITIONS, "CreatePartitions", 0, 3, 2),
    api(key::DELETE_GROUPS, "DeleteGroups", 0, 2, 2),
    api(
        key::INCREMENTAL_ALTER_CONFIGS,
        "IncrementalAlterConfigs",
        0,
        1,
        1,
    ),
    api(
        key::DESCRIBE_USER_SCRAM_CREDENTIALS,
        "DescribeUserScramCredentials",
        0,
        0,
        0,
    ),
    api(
        key::ALTER_USER_SCRAM_CREDENTIALS,
        "AlterUserScramCredentials",
        0,
        0,
        0,
    ),
    api(key::DESCRIBE_CLUSTER, "DescribeCluster", 0, 1, 0),
];

/// The entry for `key`, if it is implemented.
pub fn spec(key: i16) -> Option<&'static ApiSpec> {
    SUPPORTED.iter().find(|s| s.key == key)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_by_key_without_duplicates() {
        assert!(SUPPORTED.windows(2).all(|w| w[0].key < w[1].key));
        assert!(SUPPORTED.iter().all(|s| s.min <= s.max));
    }
}
