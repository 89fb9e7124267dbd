//! DeleteTopics (key 20), v0-v6.
//!
//! Request: `topic_names [STRING]`, `timeout_ms` up to v5; v6 replaces `topic_names` with
//! `topics [name (nullable), topic_id]`, so a topic can be named by its id alone. v1-v3 have
//! the same fields as v0; v4 is the first flexible version. Both shapes decode into one
//! [`DeleteTopicsRequest`].
//!
//! Response: `throttle_time_ms` (v1+), `responses [name, topic_id (v6+), error_code,
//! error_message (v5+, nullable)]`; the name is nullable from v6. From v2 the broker answers
//! before throttling, from v3 it may answer TOPIC_DELETION_DISABLED, from v5
//! THROTTLING_QUOTA_EXCEEDED.

use crate::codec::{Reader, Result, Writer};
use crate::error_code::ErrorCode;

/// The first version naming topics as `topics [name, topic_id]`.
const TOPIC_IDS: i16 = 6;

/// The request, whatever its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteTopicsRequest {
    /// The topics to delete, in the request's order.
    pub topics: Vec<DeleteTopic>,
    /// How long to wait for the deletions.
    pub timeout_ms: i32,
}

/// One topic to delete: by name, or (v6+) by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteTopic {
    /// The name; always given before v6, null in v6+ when the topic is named by id.
    pub name: Option<String>,
    /// v6+: the topic's id, when it is not the all-zero (unset) UUID.
    pub topic_id: Option<[u8; 16]>,
}

impl DeleteTopicsRequest {
    /// The names given, in order (topics named only by id are left out).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.topics.iter().filter_map(|t| t.name.as_deref())
    }
}

/// Decodes the body of `version`.
pub fn decode(r: &mut Reader, version: i16) -> Result<DeleteTopicsRequest> {
    let topics = if version >= TOPIC_IDS {
        r.array("topics", |r| {
            let name = r.nullable_string("topics.name")?;
            let id = r.uuid("topics.topic_id")?;
            r.tagged_fields()?;
            Ok(DeleteTopic {
                name,
                topic_id: (id != [0; 16]).then_some(id),
            })
        })?
    } else {
        r.array("topic_names", |r| {
            Ok(DeleteTopic {
                name: Some(r.string("topic_names")?),
                topic_id: None,
            })
        })?
    };
    let timeout_ms = r.i32("timeout_ms")?;
    r.tagged_fields()?;
    r.finish()?;
    Ok(DeleteTopicsRequest { topics, timeout_ms })
}

/// The response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteTopicsResponse {
    /// v1+: how long the request was throttled.
    pub throttle_time_ms: i32,
    /// One result per topic.
    pub responses: Vec<TopicResult>,
}

/// The result for one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicResult {
    /// The topic's name; null only in v6+ (written as "" before v6, where it may not be null).
    pub name: Option<String>,
    /// v6+: the topic's id (all zeros if unknown).
    pub topic_id: [u8; 16],
    /// NONE, or why the topic was not deleted.
    pub error_code: ErrorCode,
    /// v5+: the error's message, or null.
    pub error_message: Option<String>,
}

/// Encodes the response in `version`.
pub fn encode(w: &mut Writer, version: i16, resp: &DeleteTopicsResponse) {
    if version >= 1 {
        w.i32(resp.throttle_time_ms);
    }
    w.array(&resp.responses, |w, t| {
        if version >= TOPIC_IDS {
            w.nullable_string(t.name.as_deref());
            w.uuid(t.topic_id);
        } else {
            w.string(t.name.as_deref().unwrap_or_default());
        }
        w.error_code(t.error_code);
        if version >= 5 {
            w.nullable_string(t.error_message.as_deref());
        }
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
    const FLEXIBLE: i16 = 4;

    fn decode_bytes(version: i16, body: &[u8]) -> Result<DeleteTopicsRequest> {
        let mut r = Reader::new(Bytes::copy_from_slice(body), version >= FLEXIBLE);
        decode(&mut r, version)
    }

    fn encoded(version: i16, resp: &DeleteTopicsResponse) -> Vec<u8> {
        let mut w = Writer::new(version >= FLEXIBLE);
        encode(&mut w, version, resp);
        w.finish().concat()
    }

    fn classic_request() -> Vec<u8> {
        [
            &[0, 0, 0, 2][..],   // topic_names: 2
            &[0, 6],             //   length 6
            b"orders",           //     "orders"
            &[0, 1],             //   length 1
            b"b",                //     "b"
            &[0, 0, 0x3a, 0x98], // timeout_ms: 15000
        ]
        .concat()
    }

    #[test]
    fn v0_and_v3_requests() {
        for version in [0, 3] {
            let req = decode_bytes(version, &classic_request()).unwrap();
            assert_eq!(req.names().collect::<Vec<_>>(), ["orders", "b"]);
            assert!(req.topics.iter().all(|t| t.topic_id.is_none()));
            assert_eq!(req.timeout_ms, 15000);
        }
    }

    #[test]
    fn v5_request() {
        let body = [
            &[2][..],        // topic_names: compact 1
            &[7],            //   compact length 6
            b"orders",       //     "orders"
            &[0, 0, 0, 100], // timeout_ms: 100
            &[0],            // tagged fields: none
        ]
        .concat();
        let req = decode_bytes(5, &body).unwrap();
        assert_eq!(req.names().collect::<Vec<_>>(), ["orders"]);
        assert_eq!(req.timeout_ms, 100);
    }

    #[test]
    fn v6_request() {
        let body = [
            &[3][..],        // topics: compact 2
            &[7],            //   name: compact length 6
            b"orders",       //     "orders"
            &[0; 16],        //   topic_id: unset
            &[0],            //   tagged fields: none
            &[0],            //   name: null
            &[9; 16],        //   topic_id
            &[0],            //   tagged fields: none
            &[0, 0, 0, 100], // timeout_ms: 100
            &[0],            // tagged fields: none
        ]
        .concat();
        let req = decode_bytes(6, &body).unwrap();
        assert_eq!(
            req.topics,
            [
                DeleteTopic {
                    name: Some("orders".into()),
                    topic_id: None
                },
                DeleteTopic {
                    name: None,
                    topic_id: Some([9; 16])
                },
            ]
        );
        assert_eq!(req.names().collect::<Vec<_>>(), ["orders"]);
    }

    #[test]
    fn a_truncated_request_is_an_error() {
        let body = classic_request();
        for len in 0..body.len() {
            assert!(decode_bytes(0, &body[..len]).is_err(), "{len} bytes");
        }
    }

    fn response() -> DeleteTopicsResponse {
        DeleteTopicsResponse {
            throttle_time_ms: 2,
            responses: vec![
                TopicResult {
                    name: Some("orders".into()),
                    topic_id: [1; 16],
                    error_code: ErrorCode::NONE,
                    error_message: None,
                },
                TopicResult {
                    name: None,
                    topic_id: [9; 16],
                    error_code: ErrorCode::UNKNOWN_TOPIC_ID,
                    error_message: Some("no".into()),
                },
            ],
        }
    }

    #[test]
    fn v0_response() {
        let expected = [
            &[0, 0, 0, 2][..], // responses: 2
            &[0, 6],           //   name: length 6
            b"orders",         //     "orders"
            &[0, 0],           //   error_code: NONE
            &[0, 0],           //   name: "" (null may not be written before v6)
            &[0, 100],         //   error_code: UNKNOWN_TOPIC_ID
        ]
        .concat();
        assert_eq!(encoded(0, &response()), expected);
    }

    #[test]
    fn v3_response() {
        let expected = [
            &[0, 0, 0, 2][..], // throttle_time_ms: 2
            &[0, 0, 0, 2],     // responses: 2
            &[0, 6],           //   name: length 6
            b"orders",         //     "orders"
            &[0, 0],           //   error_code: NONE
            &[0, 0],           //   name: ""
            &[0, 100],         //   error_code: UNKNOWN_TOPIC_ID
        ]
        .concat();
        assert_eq!(encoded(3, &response()), expected);
    }

    #[test]
    fn v4_and_v5_responses() {
        let v4 = [
            &[0, 0, 0, 2][..], // throttle_time_ms: 2
            &[3],              // responses: compact 2
            &[7],              //   name: compact length 6
            b"orders",         //     "orders"
            &[0, 0],           //   error_code: NONE
            &[0],              //   tagged fields: none
            &[1],              //   name: compact "" (not null before v6)
            &[0, 100],         //   error_code: UNKNOWN_TOPIC_ID
            &[0],              //   tagged fields: none
            &[0],              // tagged fields: none
        ]
        .concat();
        assert_eq!(encoded(4, &response()), v4);
        let v5 = [
            &[0, 0, 0, 2][..], // throttle_time_ms: 2
            &[3],              // responses: compact 2
            &[7],              //   name: compact length 6
            b"orders",         //     "orders"
            &[0, 0],           //   error_code: NONE
            &[0],              //   error_message: null
            &[0],              //   tagged fields: none
            &[1],              //   name: compact ""
            &[0, 100],         //   error_code: UNKNOWN_TOPIC_ID
            &[3],              //   error_message: compact length 2
            b"no",             //     "no"
            &[0],              //   tagged fields: none
            &[0],              // tagged fields: none
        ]
        .concat();
        assert_eq!(encoded(5, &response()), v5);
    }

    #[test]
    fn v6_response() {
        let expected = [
            &[0, 0, 0, 2][..], // throttle_time_ms: 2
            &[3],              // responses: compact 2
            &[7],              //   name: compact length 6
            b"orders",         //     "orders"
            &[1; 16],          //   topic_id
            &[0, 0],           //   error_code: NONE
            &[0],              //   error_message: null
            &[0],              //   tagged fields: none
            &[0],              //   name: null
            &[9; 16],          //   topic_id
            &[0, 100],         //   error_code: UNKNOWN_TOPIC_ID
            &[3],              //   error_message: compact length 2
            b"no",             //     "no"
            &[0],              //   tagged fields: none
            &[0],              // tagged fields: none
        ]
        .concat();
        assert_eq!(encoded(6, &response()), expected);
    }

    #[test]
    fn the_table_matches() {
        let spec = api::spec(api::key::DELETE_TOPICS).unwrap();
        assert_eq!((spec.min, spec.max, spec.flexible_from), (0, 6, FLEXIBLE));
    }
}
