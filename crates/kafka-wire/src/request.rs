//! One decoded request of any implemented API: the header, the API's table entry and the
//! body as its own type. The front-end matches on [`Request`]; the property tests feed
//! arbitrary frames through [`decode`].

use bytes::Bytes;

use crate::api::{key, ApiSpec};
use crate::codec::{DecodeError, Result};
use crate::header::{self, RequestHeader};
use crate::{
    api_versions, create_acls, create_partitions, create_topics, delete_acls, delete_groups,
    delete_records, delete_topics, describe_acls, describe_cluster, describe_configs,
    describe_groups, fetch, find_coordinator, heartbeat, incremental_alter_configs,
    init_producer_id, join_group, leave_group, list_groups, list_offsets, metadata, offset_commit,
    offset_fetch, produce, sasl_authenticate, sasl_handshake, scram_credentials, sync_group,
};

/// A request body, by API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Produce.
    Produce(produce::ProduceRequest),
    /// Fetch.
    Fetch(fetch::FetchRequest),
    /// ListOffsets.
    ListOffsets(list_offsets::ListOffsetsRequest),
    /// Metadata.
    Metadata(metadata::MetadataRequest),
    /// OffsetCommit.
    OffsetCommit(offset_commit::OffsetCommitRequest),
    /// OffsetFetch.
    OffsetFetch(offset_fetch::OffsetFetchRequest),
    /// FindCoordinator.
    FindCoordinator(find_coordinator::FindCoordinatorRequest),
    /// JoinGroup.
    JoinGroup(join_group::JoinGroupRequest),
    /// Heartbeat.
    Heartbeat(heartbeat::HeartbeatRequest),
    /// LeaveGroup.
    LeaveGroup(leave_group::LeaveGroupRequest),
    /// SyncGroup.
    SyncGroup(sync_group::SyncGroupRequest),
    /// DescribeGroups.
    DescribeGroups(describe_groups::DescribeGroupsRequest),
    /// ListGroups.
    ListGroups(list_groups::ListGroupsRequest),
    /// SaslHandshake.
    SaslHandshake(sasl_handshake::SaslHandshakeRequest),
    /// ApiVersions.
    ApiVersions(api_versions::ApiVersionsRequest),
    /// CreateTopics.
    CreateTopics(create_topics::CreateTopicsRequest),
    /// DeleteTopics.
    DeleteTopics(delete_topics::DeleteTopicsRequest),
    /// DeleteRecords.
    DeleteRecords(delete_records::DeleteRecordsRequest),
    /// InitProducerId.
    InitProducerId(init_producer_id::InitProducerIdRequest),
    /// DescribeAcls.
    DescribeAcls(describe_acls::DescribeAclsRequest),
    /// CreateAcls.
    CreateAcls(create_acls::CreateAclsRequest),
    /// DeleteAcls.
    DeleteAcls(delete_acls::DeleteAclsRequest),
    /// DescribeConfigs.
    DescribeConfigs(describe_configs::DescribeConfigsRequest),
    /// SaslAuthenticate.
    SaslAuthenticate(sasl_authenticate::SaslAuthenticateRequest),
    /// CreatePartitions.
    CreatePartitions(create_partitions::CreatePartitionsRequest),
    /// DeleteGroups.
    DeleteGroups(delete_groups::DeleteGroupsRequest),
    /// IncrementalAlterConfigs.
    IncrementalAlterConfigs(incremental_alter_configs::IncrementalAlterConfigsRequest),
    /// DescribeCluster.
    DescribeCluster(describe_cluster::DescribeClusterRequest),
    /// DescribeUserScramCredentials.
    DescribeUserScramCredentials(scram_credentials::DescribeRequest),
    /// AlterUserScramCredentials.
    AlterUserScramCredentials(scram_credentials::AlterRequest),
}

/// Decodes one whole request (without its size prefix). Errors name the field; an unknown
/// API key or an unimplemented version is an error too.
pub fn decode(frame: Bytes) -> Result<(RequestHeader, &'static ApiSpec, Request)> {
    let (header, spec, mut r) = header::decode(frame)?;
    let v = header.api_version;
    let request = match header.api_key {
        key::PRODUCE => Request::Produce(produce::decode(&mut r, v)?),
        key::FETCH => Request::Fetch(fetch::decode(&mut r, v)?),
        key::LIST_OFFSETS => Request::ListOffsets(list_offsets::decode(&mut r, v)?),
        key::METADATA => Request::Metadata(metadata::decode(&mut r, v)?),
        key::OFFSET_COMMIT => Request::OffsetCommit(offset_commit::decode(&mut r, v)?),
        key::OFFSET_FETCH => Request::OffsetFetch(offset_fetch::decode(&mut r, v)?),
        key::FIND_COORDINATOR => Request::FindCoordinator(find_coordinator::decode(&mut r, v)?),
        key::JOIN_GROUP => Request::JoinGroup(join_group::decode(&mut r, v)?),
        key::HEARTBEAT => Request::Heartbeat(heartbeat::decode(&mut r, v)?),
        key::LEAVE_GROUP => Request::LeaveGroup(leave_group::decode(&mut r, v)?),
        key::SYNC_GROUP => Request::SyncGroup(sync_group::decode(&mut r, v)?),
        key::DESCRIBE_GROUPS => Request::DescribeGroups(describe_groups::decode(&mut r, v)?),
        key::LIST_GROUPS => Request::ListGroups(list_groups::decode(&mut r, v)?),
        key::SASL_HANDSHAKE => Request::SaslHandshake(sasl_handshake::decode(&mut r, v)?),
        key::API_VERSIONS => Request::ApiVersions(api_versions::decode(&mut r, v)?),
        key::CREATE_TOPICS => Request::CreateTopics(create_topics::decode(&mut r, v)?),
        key::DELETE_TOPICS => Request::DeleteTopics(delete_topics::decode(&mut r, v)?),
        key::DELETE_RECORDS => Request::DeleteRecords(delete_records::decode(&mut r, v)?),
        key::INIT_PRODUCER_ID => Request::InitProducerId(init_producer_id::decode(&mut r, v)?),
        key::DESCRIBE_ACLS => Request::DescribeAcls(describe_acls::decode(&mut r, v)?),
        key::CREATE_ACLS => Request::CreateAcls(create_acls::decode(&mut r, v)?),
        key::DELETE_ACLS => Request::DeleteAcls(delete_acls::decode(&mut r, v)?),
        key::DESCRIBE_CONFIGS => Request::DescribeConfigs(describe_configs::decode(&mut r, v)?),
        key::SASL_AUTHENTICATE => Request::SaslAuthenticate(sasl_authenticate::decode(&mut r, v)?),
        key::CREATE_PARTITIONS => Request::CreatePartitions(create_partitions::decode(&mut r, v)?),
        key::DELETE_GROUPS => Request::DeleteGroups(delete_groups::decode(&mut r, v)?),
        key::INCREMENTAL_ALTER_CONFIGS => {
            Request::IncrementalAlterConfigs(incremental_alter_configs::decode(&mut r, v)?)
        }
        key::DESCRIBE_CLUSTER => Request::DescribeCluster(describe_cluster::decode(&mut r, v)?),
        key::DESCRIBE_USER_SCRAM_CREDENTIALS => {
            Request::DescribeUserScramCredentials(scram_credentials::decode_describe(&mut r, v)?)
        }
        key::ALTER_USER_SCRAM_CREDENTIALS => {
            Request::AlterUserScramCredentials(scram_credentials::decode_alter(&mut r, v)?)
        }
        other => return Err(DecodeError::UnknownApi(other)),
    };
    Ok((header, spec, request))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::SUPPORTED;

    #[test]
    fn every_api_in_the_table_has_a_decoder() {
        for spec in SUPPORTED {
            let mut frame = Vec::new();
            frame.extend(spec.key.to_be_bytes());
            frame.extend(spec.max.to_be_bytes());
            frame.extend(1i32.to_be_bytes());
            frame.extend((-1i16).to_be_bytes());
            // Whatever the body says, the error must not be "unknown API".
            let got = decode(Bytes::from(frame));
            assert!(
                !matches!(got, Err(DecodeError::UnknownApi(_))),
                "{} has no decoder",
                spec.name
            );
        }
    }
}
