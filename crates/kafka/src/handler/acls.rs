//! DescribeAcls, CreateAcls and DeleteAcls without an authorizer: SECURITY_DISABLED, as Kafka
//! answers when no `authorizer.class.name` is set (`AclApis`): DescribeAcls once for the
//! request, CreateAcls once per creation, DeleteAcls once per filter, each with nothing
//! described, created or deleted. Every client may do everything on this broker until
//! authorization exists; saying so is better than pretending to store ACLs.

use memstream_kafka_wire::create_acls::{
    self, CreateAclsRequest, CreateAclsResponse, CreationResult,
};
use memstream_kafka_wire::delete_acls::{
    self, DeleteAclsRequest, DeleteAclsResponse, FilterResult,
};
use memstream_kafka_wire::describe_acls::{self, DescribeAclsRequest, DescribeAclsResponse};
use memstream_kafka_wire::ErrorCode;

use super::{Client, Pending, Reply};

/// The message of every refusal.
const NO_AUTHORIZER: &str = "no authorizer is configured";

pub(super) fn describe(req: DescribeAclsRequest, reply: Reply, client: &Client) -> Option<Pending> {
    tracing::info!(
        client_id = ?client.client_id,
        host = client.host,
        resource_type = req.resource_type,
        "DescribeAcls refused with SECURITY_DISABLED: no authorizer is configured"
    );
    let resp = DescribeAclsResponse {
        throttle_time_ms: 0,
        error_code: ErrorCode::SECURITY_DISABLED,
        error_message: Some(NO_AUTHORIZER.into()),
        resources: Vec::new(),
    };
    let mut w = reply.writer();
    describe_acls::encode(&mut w, reply.version(), &resp);
    reply.now(w)
}

pub(super) fn create(req: CreateAclsRequest, reply: Reply, client: &Client) -> Option<Pending> {
    tracing::info!(
        client_id = ?client.client_id,
        host = client.host,
        creations = req.creations.len(),
        "CreateAcls refused with SECURITY_DISABLED: no authorizer is configured"
    );
    let refused = CreationResult {
        error_code: ErrorCode::SECURITY_DISABLED,
        error_message: Some(NO_AUTHORIZER.into()),
    };
    let resp = CreateAclsResponse {
        throttle_time_ms: 0,
        results: vec![refused; req.creations.len()],
    };
    let mut w = reply.writer();
    create_acls::encode(&mut w, reply.version(), &resp);
    reply.now(w)
}

pub(super) fn delete(req: DeleteAclsRequest, reply: Reply, client: &Client) -> Option<Pending> {
    tracing::info!(
        client_id = ?client.client_id,
        host = client.host,
        filters = req.filters.len(),
        "DeleteAcls refused with SECURITY_DISABLED: no authorizer is configured"
    );
    let refused = FilterResult {
        error_code: ErrorCode::SECURITY_DISABLED,
        error_message: Some(NO_AUTHORIZER.into()),
        matching_acls: Vec::new(),
    };
    let resp = DeleteAclsResponse {
        throttle_time_ms: 0,
        filter_results: vec![refused; req.filters.len()],
    };
    let mut w = reply.writer();
    delete_acls::encode(&mut w, reply.version(), &resp);
    reply.now(w)
}
