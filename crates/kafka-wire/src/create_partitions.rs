//! CreatePartitions (key 37), v0-v3.
//!
//! Request: `topics [name, count, assignments (nullable) [broker_ids [INT32]]]`, `timeout_ms`,
//! `validate_only`: grow each topic to `count` partitions, the new ones on the brokers of
//! `assignments` (one entry per new partition) or placed by the broker when null.
//! Response: `throttle_time_ms`, `results [name, error_code, error_message (nullable)]`.
//! v1 has the same fields as v0 (the broker answers before throttling); v2 is the first
//! flexible version; v3 has the same fields as v2 (it may answer THROTTLING_QUOTA_EXCEEDED).

use crate::codec::{Reader, Result, Writer};
use crate::error_code::ErrorCode;

/// The request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatePartitionsRequest {
    /// The topics to grow.
    pub topics: Vec<CreatePartitionsTopic>,
    /// How long to wait for the partitions to be created.
    pub timeout_ms: i32,
    /// Check the request but create nothing.
    pub validate_only: bool,
}

/// One topic to grow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatePartitionsTopic {
    /// The topic's name.
    pub name: String,
    /// The partition count it should have afterwards.
    pub count: i32,
    /// The brokers of each new partition (each entry's broker ids), or `None` (null) to let
    /// the broker place them.
    pub assignments: Option<Vec<Vec<i32>>>,
}

/// Decodes the body of `version` (all versions have the same fields).
pub fn decode(r: &mut Reader, _version: i16) -> Result<CreatePartitionsRequest> {
    let topics = r.array("topics", |r| {
        let name = r.string("topics.name")?;
        let count = r.i32("count")?;
        let assignments = r.nullable_array("assignments", |r| {
            let broker_ids = r.array("broker_ids", |r| r.i32("broker_ids"))?;
            r.tagged_fields()?;
            Ok(broker_ids)
        })?;
        r.tagged_fields()?;
        Ok(CreatePartitionsTopic {
            name,
            count,
            assignments,
        })
    })?;
    let timeout_ms = r.i32("timeout_ms")?;
    let validate_only = r.bool("validate_only")?;
    r.tagged_fields()?;
    r.finish()?;
    Ok(CreatePartitionsRequest {
        topics,
        timeout_ms,
        validate_only,
    })
}

/// The response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatePartitionsResponse {
    /// How long the request was throttled.
    pub throttle_time_ms: i32,
    /// One result per topic.
    pub results: Vec<TopicResult>,
}

/// The result for one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicResult {
    /// The topic's name.
    pub name: String,
    /// NONE, or why the partitions were not created.
    pub error_code: ErrorCode,
    /// The error's message, or null.
    pub error_message: Option<String>,
}

/// Encodes the response in `version` (all versions have the same fields).
pub fn encode(w: &mut Writer, _version: i16, resp: &CreatePartitionsResponse) {
    w.i32(resp.throttle_time_ms);
    w.array(&resp.results, |w, t| {
        w.string(&t.name);
        w.error_code(t.error_code);
        w.nullable_string(t.error_message.as_deref());
        w.tagged_fields();
    });
    w.tagged_fields();
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::api;
    use bytes::Bytes;

    /// The first flexible version.
    const FLEXIBLE: i16 = 2;

    fn decode_bytes(version: i16, body: &[u8]) -> Result<CreatePartitionsRequest> {
        let mut r = Reader::new(Bytes::copy_from_slice(body), version >= FLEXIBLE);
        decode(&mut r, version)
    }

    fn encoded(version: i16, resp: &CreatePartitionsResponse) -> Vec<u8> {
        let mut w = Writer::new(version >= FLEXIBLE);
        encode(&mut w, version, resp);
        w.finish().concat()
    }

    /// "orders" to 4 partitions, the new one on brokers 1 and 2; "b" to 2, placed by the
    /// broker; timeout 1000, validate only.
    fn classic_request() -> Vec<u8> {
        [
            &[0, 0, 0, 2][..],         // topics: 2
            &[0, 6],                   //   name: length 6
            b"orders",                 //     "orders"
            &[0, 0, 0, 4],             //   count: 4
            &[0, 0, 0, 1],             //   assignments: 1
            &[0, 0, 0, 2],             //     broker_ids: 2
            &[0, 0, 0, 1, 0, 0, 0, 2], //       1, 2
            &[0, 1],                   //   name: length 1
            b"b",                      //     "b"
            &[0, 0, 0, 2],             //   count: 2
            &[0xff; 4],                //   assignments: null
            &[0, 0, 0x03, 0xe8],       // timeout_ms: 1000
            &[1],                      // validate_only: true
        ]
        .concat()
    }

    fn check(req: &CreatePartitionsRequest) {
        assert_eq!(
            req.topics,
            [
                CreatePartitionsTopic {
                    name: "orders".into(),
                    count: 4,
                    assignments: Some(vec![vec![1, 2]]),
                },
                CreatePartitionsTopic {
                    name: "b".into(),
                    count: 2,
                    assignments: None,
                },
            ]
        );
        assert_eq!((req.timeout_ms, req.validate_only), (1000, true));
    }

    #[test]
    fn v0_and_v1_requests() {
        check(&decode_bytes(0, &classic_request()).unwrap());
        check(&decode_bytes(1, &classic_request()).unwrap());
    }

    #[test]
    fn v3_request() {
        let body = [
            &[3][..],                  // topics: compact 2
            &[7],                      //   name: compact length 6
            b"orders",                 //     "orders"
            &[0, 0, 0, 4],             //   count: 4
            &[2],                      //   assignments: compact 1
            &[3],                      //     broker_ids: compact 2
            &[0, 0, 0, 1, 0, 0, 0, 2], //       1, 2
            &[0],                      //     tagged fields: none
            &[0],                      //   tagged fields: none
            &[2],                      //   name: compact length 1
            b"b",                      //     "b"
            &[0, 0, 0, 2],             //   count: 2
            &[0],                      //   assignments: null
            &[0],                      //   tagged fields: none
            &[0, 0, 0x03, 0xe8],       // timeout_ms: 1000
            &[1],                      // validate_only: true
            &[0],                      // tagged fields: none
        ]
        .concat();
        check(&decode_bytes(3, &body).unwrap());
        check(&decode_bytes(2, &body).unwrap());
    }

    #[test]
    fn a_truncated_request_is_an_error() {
        let body = classic_request();
        for len in 0..body.len() {
            assert!(decode_bytes(0, &body[..len]).is_err(), "{len} bytes");
        }
    }

    fn response() -> CreatePartitionsResponse {
        CreatePartitionsResponse {
            throttle_time_ms: 3,
            results: vec![
                TopicResult {
                    name: "orders".into(),
                    error_code: ErrorCode::NONE,
                    error_message: None,
                },
                TopicResult {
                    name: "b".into(),
                    error_code: ErrorCode::INVALID_PARTITIONS,
                    error_message: Some("fewer".into()),
                },
            ],
        }
    }

    #[test]
    fn v0_and_v1_responses() {
        let expected = [
            &[0, 0, 0, 3][..], // throttle_time_ms: 3
            &[0, 0, 0, 2],     // results: 2
            &[0, 6],           //   name: length 6
            b"orders",         //     "orders"
            &[0, 0],           //   error_code: NONE
            &[0xff, 0xff],     //   error_message: null
            &[0, 1],           //   name: length 1
            b"b",              //     "b"
            &[0, 37],          //   error_code: INVALID_PARTITIONS
            &[0, 5],           //   error_message: length 5
            b"fewer",          //     "fewer"
        ]
        .concat();
        assert_eq!(encoded(0, &response()), expected);
        assert_eq!(encoded(1, &response()), expected);
    }

    #[test]
    fn v3_response() {
        let expected = [
            &[0, 0, 0, 3][..], // throttle_time_ms: 3
            &[3],              // results: compact 2
            &[7],              //   name: compact length 6
            b"orders",         //     "orders"
            &[0, 0],           //   error_code: NONE
            &[0],              //   error_message: null
            &[0],              //   tagged fields: none
            &[2],              //   name: compact length 1
            b"b",              //     "b"
            &[0, 37],          //   error_code: INVALID_PARTITIONS
            &[6],              //   error_message: compact length 5
            b"fewer",          //     "fewer"
            &[0],              //   tagged fields: none
            &[0],              // tagged fields: none
        ]
        .concat();
        assert_eq!(encoded(3, &response()), expected);
    }

    #[test]
    fn the_table_matches() {
        let spec = api::spec(api::key::CREATE_PARTITIONS).unwrap();
        assert_eq!((spec.min, spec.max, spec.flexible_from), (0, 3, FLEXIBLE));
    }
}
