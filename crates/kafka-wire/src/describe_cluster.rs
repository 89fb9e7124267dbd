//! DescribeCluster (key 60), v0-v1. Every version is flexible.
//!
//! Request: `include_cluster_authorized_operations`; v1 adds `endpoint_type` (1 brokers,
//! 2 controllers; 1 in v0).
//! Response: `throttle_time_ms`, `error_code`, `error_message` (nullable), `endpoint_type`
//! (v1+), `cluster_id`, `controller_id`, `brokers [broker_id, host, port, rack (nullable)]`,
//! `cluster_authorized_operations` (a bit field, or [`AUTHORIZED_OPERATIONS_OMITTED`]).

use crate::codec::{Reader, Result, Writer};
use crate::error_code::ErrorCode;

/// `endpoint_type`: describe the brokers.
pub const ENDPOINT_BROKERS: i8 = 1;

/// `endpoint_type`: describe the controllers.
pub const ENDPOINT_CONTROLLERS: i8 = 2;

/// `cluster_authorized_operations` when they were not asked for.
pub const AUTHORIZED_OPERATIONS_OMITTED: i32 = i32::MIN;

/// The request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DescribeClusterRequest {
    /// Whether to fill in `cluster_authorized_operations`.
    pub include_cluster_authorized_operations: bool,
    /// v1+: which endpoints to describe ([`ENDPOINT_BROKERS`] before v1).
    pub endpoint_type: i8,
}

/// Decodes the body of `version`.
pub fn decode(r: &mut Reader, version: i16) -> Result<DescribeClusterRequest> {
    let include_cluster_authorized_operations = r.bool("include_cluster_authorized_operations")?;
    let endpoint_type = if version >= 1 {
        r.i8("endpoint_type")?
    } else {
        ENDPOINT_BROKERS
    };
    r.tagged_fields()?;
    r.finish()?;
    Ok(DescribeClusterRequest {
        include_cluster_authorized_operations,
        endpoint_type,
    })
}

/// The response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeClusterResponse {
    /// How long the request was throttled.
    pub throttle_time_ms: i32,
    /// NONE, or why the cluster was not described.
    pub error_code: ErrorCode,
    /// The error's message, or null.
    pub error_message: Option<String>,
    /// v1+: the endpoint type described.
    pub endpoint_type: i8,
    /// The cluster's id.
    pub cluster_id: String,
    /// The controller's broker id (-1 if none).
    pub controller_id: i32,
    /// The brokers (or controllers).
    pub brokers: Vec<Broker>,
    /// The operations the client may perform on the cluster, or
    /// [`AUTHORIZED_OPERATIONS_OMITTED`].
    pub cluster_authorized_operations: i32,
}

/// One broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broker {
    /// Its id.
    pub broker_id: i32,
    /// Its host name.
    pub host: String,
    /// Its port.
    pub port: i32,
    /// Its rack, or null.
    pub rack: Option<String>,
}

/// Encodes the response in `version`.
pub fn encode(w: &mut Writer, version: i16, resp: &DescribeClusterResponse) {
    w.i32(resp.throttle_time_ms);
    w.error_code(resp.error_code);
    w.nullable_string(resp.error_message.as_deref());
    if version >= 1 {
        w.i8(resp.endpoint_type);
    }
    w.string(&resp.cluster_id);
    w.i32(resp.controller_id);
    w.array(&resp.brokers, |w, b| {
        w.i32(b.broker_id);
        w.string(&b.host);
        w.i32(b.port);
        w.nullable_string(b.rack.as_deref());
        w.tagged_fields();
    });
    w.i32(resp.cluster_authorized_operations);
    w.tagged_fields();
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::api;
    use bytes::Bytes;

    fn decode_bytes(version: i16, body: &[u8]) -> Result<DescribeClusterRequest> {
        decode(
            &mut Reader::new(Bytes::copy_from_slice(body), true),
            version,
        )
    }

    fn encoded(version: i16, resp: &DescribeClusterResponse) -> Vec<u8> {
        let mut w = Writer::new(true);
        encode(&mut w, version, resp);
        w.finish().concat()
    }

    #[test]
    fn v0_request() {
        let body = [
            1, // include_cluster_authorized_operations: true
            0, // tagged fields: none
        ];
        let req = decode_bytes(0, &body).unwrap();
        assert!(req.include_cluster_authorized_operations);
        assert_eq!(req.endpoint_type, ENDPOINT_BROKERS);
    }

    #[test]
    fn v1_request() {
        let body = [
            0, // include_cluster_authorized_operations: false
            2, // endpoint_type: controllers
            1, 0, 0, // tagged fields: 1, tag 0, size 0
        ];
        let req = decode_bytes(1, &body).unwrap();
        assert!(!req.include_cluster_authorized_operations);
        assert_eq!(req.endpoint_type, ENDPOINT_CONTROLLERS);
        // In v0 the endpoint type byte is not a field.
        assert!(decode_bytes(0, &[0, 2, 0]).is_err());
    }

    #[test]
    fn a_truncated_request_is_an_error() {
        let body = [0, 1, 0];
        for len in 0..body.len() {
            assert!(decode_bytes(1, &body[..len]).is_err(), "{len} bytes");
        }
    }

    fn response() -> DescribeClusterResponse {
        DescribeClusterResponse {
            throttle_time_ms: 0,
            error_code: ErrorCode::NONE,
            error_message: None,
            endpoint_type: ENDPOINT_BROKERS,
            cluster_id: "ms".into(),
            controller_id: 1,
            brokers: vec![
                Broker {
                    broker_id: 1,
                    host: "h".into(),
                    port: 9092,
                    rack: None,
                },
                Broker {
                    broker_id: 2,
                    host: "h2".into(),
                    port: 9093,
                    rack: Some("r".into()),
                },
            ],
            cluster_authorized_operations: AUTHORIZED_OPERATIONS_OMITTED,
        }
    }

    /// The response's bytes; `endpoint_type` is written between the error message and the
    /// cluster id when given.
    fn expected(endpoint_type: Option<u8>) -> Vec<u8> {
        [
            &[0, 0, 0, 0][..],        // throttle_time_ms: 0
            &[0, 0],                  // error_code: NONE
            &[0],                     // error_message: null
            endpoint_type.as_slice(), // endpoint_type (v1+)
            &[3],                     // cluster_id: compact length 2
            b"ms",                    //   "ms"
            &[0, 0, 0, 1],            // controller_id: 1
            &[3],                     // brokers: compact 2
            &[0, 0, 0, 1],            //   broker_id: 1
            &[2],                     //   host: compact length 1
            b"h",                     //     "h"
            &[0, 0, 0x23, 0x84],      //   port: 9092
            &[0],                     //   rack: null
            &[0],                     //   tagged fields: none
            &[0, 0, 0, 2],            //   broker_id: 2
            &[3],                     //   host: compact length 2
            b"h2",                    //     "h2"
            &[0, 0, 0x23, 0x85],      //   port: 9093
            &[2],                     //   rack: compact length 1
            b"r",                     //     "r"
            &[0],                     //   tagged fields: none
            &[0x80, 0, 0, 0],         // cluster_authorized_operations: omitted (i32::MIN)
            &[0],                     // tagged fields: none
        ]
        .concat()
    }

    #[test]
    fn v0_response() {
        assert_eq!(encoded(0, &response()), expected(None));
    }

    #[test]
    fn v1_response() {
        assert_eq!(encoded(1, &response()), expected(Some(1)));
    }

    #[test]
    fn the_table_matches() {
        let spec = api::spec(api::key::DESCRIBE_CLUSTER).unwrap();
        assert_eq!((spec.min, spec.max, spec.flexible_from), (0, 1, 0));
    }
}
