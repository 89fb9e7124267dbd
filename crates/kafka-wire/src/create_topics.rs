//! CreateTopics (key 19), v0-v7.
//!
//! Request: `topics [name, num_partitions, replication_factor, assignments [partition_index,
//! broker_ids [INT32]], configs [name, value (nullable)]]`, `timeout_ms`; v1 adds
//! `validate_only`. v2-v4 have the same fields as v1 (v4 lets `num_partitions` and
//! `replication_factor` be -1, the broker's default, even without assignments: KIP-464).
//! v5 is the first flexible version; v6 and v7 have the same request as v5.
//!
//! Response: `throttle_time_ms` (v2+), `topics [name, topic_id (v7+), error_code,
//! error_message (v1+, nullable)]`; v5 adds, per topic, `num_partitions`,
//! `replication_factor` and `configs` (nullable) `[name, value (nullable), read_only,
//! config_source, is_sensitive]`, and the tagged field 0 `topic_config_error_code` (written
//! only when it is not NONE). From v3 the broker answers before throttling; from v6 it may
//! answer THROTTLING_QUOTA_EXCEEDED.

use crate::codec::{Reader, Result, Writer};
use crate::error_code::ErrorCode;

/// The first flexible version.
const FLEXIBLE: i16 = 5;

/// The request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateTopicsRequest {
    /// The topics to create.
    pub topics: Vec<CreatableTopic>,
    /// How long to wait for the topics to be created.
    pub timeout_ms: i32,
    /// v1+: check the request but create nothing (false before v1).
    pub validate_only: bool,
}

/// One topic to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatableTopic {
    /// The topic's name.
    pub name: String,
    /// Partitions, or -1 for the broker's default or when `assignments` are given.
    pub num_partitions: i32,
    /// Replicas per partition, or -1 for the broker's default or when `assignments` are given.
    pub replication_factor: i16,
    /// A manual assignment of partitions to brokers; empty for automatic assignment.
    pub assignments: Vec<ReplicaAssignment>,
    /// Topic configurations to set.
    pub configs: Vec<TopicConfig>,
}

/// The brokers of one partition, in a manual assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaAssignment {
    /// The partition.
    pub partition_index: i32,
    /// The brokers holding its replicas.
    pub broker_ids: Vec<i32>,
}

/// One topic configuration in the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicConfig {
    /// The configuration's name.
    pub name: String,
    /// Its value (null is allowed).
    pub value: Option<String>,
}

/// Decodes the body of `version`.
pub fn decode(r: &mut Reader, version: i16) -> Result<CreateTopicsRequest> {
    let topics = r.array("topics", decode_topic)?;
    let timeout_ms = r.i32("timeout_ms")?;
    let validate_only = if version >= 1 {
        r.bool("validate_only")?
    } else {
        false
    };
    r.tagged_fields()?;
    r.finish()?;
    Ok(CreateTopicsRequest {
        topics,
        timeout_ms,
        validate_only,
    })
}

/// One entry of `topics`.
fn decode_topic(r: &mut Reader) -> Result<CreatableTopic> {
    let name = r.string("name")?;
    let num_partitions = r.i32("num_partitions")?;
    let replication_factor = r.i16("replication_factor")?;
    let assignments = r.array("assignments", |r| {
        let partition_index = r.i32("partition_index")?;
        let broker_ids = r.array("broker_ids", |r| r.i32("broker_ids"))?;
        r.tagged_fields()?;
        Ok(ReplicaAssignment {
            partition_index,
            broker_ids,
        })
    })?;
    let configs = r.array("configs", |r| {
        let name = r.string("configs.name")?;
        let value = r.nullable_string("configs.value")?;
        r.tagged_fields()?;
        Ok(TopicConfig { name, value })
    })?;
    r.tagged_fields()?;
    Ok(CreatableTopic {
        name,
        num_partitions,
        replication_factor,
        assignments,
        configs,
    })
}

/// The response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateTopicsResponse {
    /// v2+: how long the request was throttled.
    pub throttle_time_ms: i32,
    /// One result per topic.
    pub topics: Vec<TopicResult>,
}

/// The result for one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicResult {
    /// The topic's name.
    pub name: String,
    /// v7+: the new topic's id (all zeros when it was not created).
    pub topic_id: [u8; 16],
    /// NONE, or why the topic was not created.
    pub error_code: ErrorCode,
    /// v1+: the error's message, or null.
    pub error_message: Option<String>,
    /// v5+ (tagged field 0, written when not NONE): why `configs` are not returned.
    pub topic_config_error_code: ErrorCode,
    /// v5+: the topic's partitions (-1 if unknown).
    pub num_partitions: i32,
    /// v5+: its replication factor (-1 if unknown).
    pub replication_factor: i16,
    /// v5+: its configuration, or null.
    pub configs: Option<Vec<ConfigEntry>>,
}

/// One configuration of a created topic (v5+).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigEntry {
    /// The configuration's name.
    pub name: String,
    /// Its value, or null (sensitive configurations).
    pub value: Option<String>,
    /// Whether it is read-only.
    pub read_only: bool,
    /// Where the value comes from (the codes of DescribeConfigs' `config_source`).
    pub config_source: i8,
    /// Whether it is sensitive.
    pub is_sensitive: bool,
}

/// Encodes the response in `version`.
pub fn encode(w: &mut Writer, version: i16, resp: &CreateTopicsResponse) {
    if version >= 2 {
        w.i32(resp.throttle_time_ms);
    }
    w.array(&resp.topics, |w, t| encode_topic(w, version, t));
    w.tagged_fields();
}

/// One entry of `topics` in the response.
fn encode_topic(w: &mut Writer, version: i16, t: &TopicResult) {
    w.string(&t.name);
    if version >= 7 {
        w.uuid(t.topic_id);
    }
    w.error_code(t.error_code);
    if version >= 1 {
        w.nullable_string(t.error_message.as_deref());
    }
    if version >= FLEXIBLE {
        w.i32(t.num_partitions);
        w.i16(t.replication_factor);
        match &t.configs {
            Some(configs) => w.array(configs, |w, c| {
                w.string(&c.name);
                w.nullable_string(c.value.as_deref());
                w.bool(c.read_only);
                w.i8(c.config_source);
                w.bool(c.is_sensitive);
                w.tagged_fields();
            }),
            None => w.null_array(),
        }
        if t.topic_config_error_code == ErrorCode::NONE {
            w.tagged_fields();
        } else {
            // One tagged field: tag 0, 2 bytes, the INT16.
            w.uvarint(1);
            w.uvarint(0);
            w.uvarint(2);
            w.error_code(t.topic_config_error_code);
        }
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::api;
    use bytes::Bytes;

    fn decode_bytes(version: i16, body: &[u8]) -> Result<CreateTopicsRequest> {
        let mut r = Reader::new(Bytes::copy_from_slice(body), version >= FLEXIBLE);
        decode(&mut r, version)
    }

    fn encoded(version: i16, resp: &CreateTopicsResponse) -> Vec<u8> {
        let mut w = Writer::new(version >= FLEXIBLE);
        encode(&mut w, version, resp);
        w.finish().concat()
    }

    /// A classic request: "orders" with 3 partitions, replication 1, partition 0 on brokers
    /// 1 and 2, config cleanup.policy=compact and retention.ms=null; timeout 5000.
    fn classic_request(validate_only: Option<bool>) -> Vec<u8> {
        let mut b = [
            &[0, 0, 0, 1][..],         // topics: 1
            &[0, 6],                   // name: length 6
            b"orders",                 //   "orders"
            &[0, 0, 0, 3],             // num_partitions: 3
            &[0, 1],                   // replication_factor: 1
            &[0, 0, 0, 1],             // assignments: 1
            &[0, 0, 0, 0],             //   partition_index: 0
            &[0, 0, 0, 2],             //   broker_ids: 2
            &[0, 0, 0, 1, 0, 0, 0, 2], //     1, 2
            &[0, 0, 0, 2],             // configs: 2
            &[0, 14],                  //   name: length 14
            b"cleanup.policy",         //     "cleanup.policy"
            &[0, 7],                   //   value: length 7
            b"compact",                //     "compact"
            &[0, 12],                  //   name: length 12
            b"retention.ms",           //     "retention.ms"
            &[0xff, 0xff],             //   value: null
            &[0, 0, 0x13, 0x88],       // timeout_ms: 5000
        ]
        .concat();
        if let Some(v) = validate_only {
            b.push(u8::from(v)); // validate_only
        }
        b
    }

    fn check_orders(req: &CreateTopicsRequest) {
        assert_eq!(req.topics.len(), 1);
        let t = &req.topics[0];
        assert_eq!(t.name, "orders");
        assert_eq!((t.num_partitions, t.replication_factor), (3, 1));
        assert_eq!(
            t.assignments,
            [ReplicaAssignment {
                partition_index: 0,
                broker_ids: vec![1, 2]
            }]
        );
        assert_eq!(t.configs.len(), 2);
        assert_eq!(t.configs[0].name, "cleanup.policy");
        assert_eq!(t.configs[0].value.as_deref(), Some("compact"));
        assert_eq!(t.configs[1].name, "retention.ms");
        assert_eq!(t.configs[1].value, None);
        assert_eq!(req.timeout_ms, 5000);
    }

    #[test]
    fn v0_request() {
        let req = decode_bytes(0, &classic_request(None)).unwrap();
        check_orders(&req);
        assert!(!req.validate_only);
        // A v0 body with a validate_only byte has one byte too many.
        assert!(decode_bytes(0, &classic_request(Some(true))).is_err());
    }

    #[test]
    fn v3_request() {
        let req = decode_bytes(3, &classic_request(Some(true))).unwrap();
        check_orders(&req);
        assert!(req.validate_only);
    }

    #[test]
    fn v7_request() {
        let body = [
            &[2][..],                  // topics: compact 1
            &[7],                      // name: compact length 6
            b"orders",                 //   "orders"
            &[0xff, 0xff, 0xff, 0xff], // num_partitions: -1
            &[0xff, 0xff],             // replication_factor: -1
            &[1],                      // assignments: compact 0
            &[2],                      // configs: compact 1
            &[15],                     //   name: compact length 14
            b"cleanup.policy",         //     "cleanup.policy"
            &[0],                      //   value: null
            &[0],                      //   tagged fields: none
            &[1, 0, 1, 9],             // topic tagged fields: 1, tag 0, size 1, one byte
            &[0, 0, 0x75, 0x30],       // timeout_ms: 30000
            &[0],                      // validate_only: false
            &[0],                      // tagged fields: none
        ]
        .concat();
        let req = decode_bytes(7, &body).unwrap();
        let t = &req.topics[0];
        assert_eq!(t.name, "orders");
        assert_eq!((t.num_partitions, t.replication_factor), (-1, -1));
        assert!(t.assignments.is_empty());
        assert_eq!(
            t.configs,
            [TopicConfig {
                name: "cleanup.policy".into(),
                value: None
            }]
        );
        assert_eq!((req.timeout_ms, req.validate_only), (30000, false));
    }

    #[test]
    fn a_truncated_request_is_an_error() {
        let body = classic_request(Some(false));
        for len in 0..body.len() {
            assert!(decode_bytes(3, &body[..len]).is_err(), "{len} bytes");
        }
    }

    fn result(error: ErrorCode) -> TopicResult {
        TopicResult {
            name: "orders".into(),
            topic_id: [7; 16],
            error_code: error,
            error_message: None,
            topic_config_error_code: ErrorCode::NONE,
            num_partitions: 3,
            replication_factor: 1,
            configs: Some(vec![ConfigEntry {
                name: "retention.ms".into(),
                value: Some("1000".into()),
                read_only: false,
                config_source: 5,
                is_sensitive: false,
            }]),
        }
    }

    #[test]
    fn v0_response() {
        let resp = CreateTopicsResponse {
            throttle_time_ms: 9,
            topics: vec![result(ErrorCode::TOPIC_ALREADY_EXISTS)],
        };
        let expected = [
            &[0, 0, 0, 1][..], // topics: 1
            &[0, 6],           //   name: length 6
            b"orders",         //     "orders"
            &[0, 36],          //   error_code: TOPIC_ALREADY_EXISTS
        ]
        .concat();
        assert_eq!(encoded(0, &resp), expected);
    }

    #[test]
    fn v3_response() {
        let mut topic = result(ErrorCode::INVALID_PARTITIONS);
        topic.error_message = Some("bad".into());
        let resp = CreateTopicsResponse {
            throttle_time_ms: 9,
            topics: vec![topic],
        };
        let expected = [
            &[0, 0, 0, 9][..], // throttle_time_ms: 9
            &[0, 0, 0, 1],     // topics: 1
            &[0, 6],           //   name: length 6
            b"orders",         //     "orders"
            &[0, 37],          //   error_code: INVALID_PARTITIONS
            &[0, 3],           //   error_message: length 3
            b"bad",            //     "bad"
        ]
        .concat();
        assert_eq!(encoded(3, &resp), expected);
    }

    #[test]
    fn v7_response() {
        let mut second = result(ErrorCode::NONE);
        second.name = "b".into();
        second.configs = None;
        second.topic_config_error_code = ErrorCode::CLUSTER_AUTHORIZATION_FAILED;
        let resp = CreateTopicsResponse {
            throttle_time_ms: 0,
            topics: vec![result(ErrorCode::NONE), second],
        };
        let expected = [
            &[0, 0, 0, 0][..], // throttle_time_ms: 0
            &[3],              // topics: compact 2
            &[7],              //   name: compact length 6
            b"orders",         //     "orders"
            &[7; 16],          //   topic_id
            &[0, 0],           //   error_code: NONE
            &[0],              //   error_message: null
            &[0, 0, 0, 3],     //   num_partitions: 3
            &[0, 1],           //   replication_factor: 1
            &[2],              //   configs: compact 1
            &[13],             //     name: compact length 12
            b"retention.ms",   //       "retention.ms"
            &[5],              //     value: compact length 4
            b"1000",           //       "1000"
            &[0],              //     read_only: false
            &[5],              //     config_source: DEFAULT_CONFIG
            &[0],              //     is_sensitive: false
            &[0],              //     tagged fields: none
            &[0],              //   tagged fields: none
            &[2],              //   name: compact length 1
            b"b",              //     "b"
            &[7; 16],          //   topic_id
            &[0, 0],           //   error_code: NONE
            &[0],              //   error_message: null
            &[0, 0, 0, 3],     //   num_partitions: 3
            &[0, 1],           //   replication_factor: 1
            &[0],              //   configs: null
            &[1, 0, 2, 0, 31], //   tagged fields: 1, tag 0 (topic_config_error_code), size 2, 31
            &[0],              // tagged fields: none
        ]
        .concat();
        assert_eq!(encoded(7, &resp), expected);
        // v5 and v6 are the same without the topic id.
        let v5 = encoded(5, &resp);
        assert_eq!(v5.len(), expected.len() - 32);
        assert_eq!(encoded(6, &resp), v5);
    }

    #[test]
    fn the_table_matches() {
        let spec = api::spec(api::key::CREATE_TOPICS).unwrap();
        assert_eq!((spec.min, spec.max, spec.flexible_from), (0, 7, FLEXIBLE));
    }
}
