//! Metadata (key 3), v0-v12 (v9+ flexible).
//!
//! Request: `topics` (a nullable array from v1: null = every topic; in v0 an array where
//! empty means every topic; entries are `topic_id` (v10+) and `name`, nullable from v10), `allow_auto_topic_creation` (v4+),
//! `include_cluster_authorized_operations` (v8-v10), `include_topic_authorized_operations`
//! (v8+).
//!
//! Response: `throttle_time_ms` (v3+), `brokers [node_id, host, port, rack (v1+)]`,
//! `cluster_id` (v2+), `controller_id` (v1+), `topics [error_code, name, topic_id (v10+),
//! is_internal (v1+),
//! partitions [error_code, partition_index, leader_id, leader_epoch (v7+), replica_nodes,
//! isr_nodes, offline_replicas (v5+)], topic_authorized_operations (v8+)]`,
//! `cluster_authorized_operations` (v8-v10).
//!
//! v0 matters for kafka-python (2.0.2), whose version probe sends a Metadata v0 behind each
//! probe request as the one request every broker answers: refusing it closed the connection,
//! and the probe's answer, read together with the close, was lost.

use crate::codec::{Reader, Result, Writer};
use crate::error_code::ErrorCode;

/// A metadata request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataRequest {
    /// Topics asked for by name; `None` means every topic. (Entries without a name, by id
    /// only, are left out: this broker has no topic ids.)
    pub topics: Option<Vec<String>>,
    /// Whether asking for a missing topic creates it (v4+; always true before).
    pub allow_auto_topic_creation: bool,
}

/// Decodes a request body of `version`.
pub fn decode(r: &mut Reader, version: i16) -> Result<MetadataRequest> {
    let topics = r.nullable_array("topics", |r| {
        if version >= 10 {
            r.uuid("topics.topic_id")?;
        }
        let name = r.nullable_string("topics.name")?;
        r.tagged_fields()?;
        Ok(name)
    })?;
    if topics.is_none() {
        skip_librdkafka_reserved_count(r, version)?;
    }
    // v0 has no null array: no topics named means every topic.
    let topics = match topics {
        Some(names) if version == 0 && names.is_empty() => None,
        topics => topics,
    };
    let allow_auto_topic_creation = if version >= 4 {
        r.bool("allow_auto_topic_creation")?
    } else {
        true
    };
    if (8..=10).contains(&version) {
        r.bool("include_cluster_authorized_operations")?;
    }
    if version >= 8 {
        r.bool("include_topic_authorized_operations")?;
    }
    r.tagged_fields()?;
    r.finish()?;
    Ok(MetadataRequest {
        topics: topics.map(|t| t.into_iter().flatten().collect()),
        allow_auto_topic_creation,
    })
}

/// librdkafka (2.6 at least) writes the null `topics` of a flexible request ("every topic")
/// as the varint 0 followed by the three unused bytes of the four it reserved for the count,
/// which Kafka never notices (it ignores bytes after the fields). Those three zero bytes are
/// skipped when they are exactly what the body has beyond its fields (and their empty tagged
/// fields), so `list_topics()` of every librdkafka client works; any other extra bytes are
/// still refused.
fn skip_librdkafka_reserved_count(r: &mut Reader, version: i16) -> Result<()> {
    const RESERVED: usize = 3;
    if !r.flexible() {
        return Ok(());
    }
    // The fields after `topics`: the flags of this version (one byte each) and the empty
    // tagged fields (one byte).
    let rest = [
        version >= 4,
        (8..=10).contains(&version),
        version >= 8,
        true,
    ]
    .iter()
    .filter(|&&present| present)
    .count();
    if r.remaining().checked_sub(RESERVED) == Some(rest)
        && r.peek(RESERVED) == Some(&[0; RESERVED][..])
    {
        for _ in 0..RESERVED {
            r.i8("topics (reserved count bytes)")?;
        }
    }
    Ok(())
}

/// A broker in the response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broker {
    /// Node id.
    pub node_id: i32,
    /// Host clients connect to.
    pub host: String,
    /// Port.
    pub port: i32,
}

/// A partition in the response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    /// Error, or NONE.
    pub error: ErrorCode,
    /// Index.
    pub index: i32,
    /// Leader's node id.
    pub leader_id: i32,
    /// Leader epoch.
    pub leader_epoch: i32,
    /// Replicas (and the in-sync ones: the same here).
    pub replicas: Vec<i32>,
}

/// A topic in the response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic {
    /// Error, or NONE.
    pub error: ErrorCode,
    /// Name.
    pub name: String,
    /// Partitions.
    pub partitions: Vec<Partition>,
}

/// The response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataResponse {
    /// Brokers.
    pub brokers: Vec<Broker>,
    /// Cluster id.
    pub cluster_id: String,
    /// Controller's node id.
    pub controller_id: i32,
    /// Topics.
    pub topics: Vec<Topic>,
}

/// "Not provided" for the authorized-operations fields.
const OPERATIONS_UNKNOWN: i32 = i32::MIN;

/// Encodes the response in `version`.
pub fn encode(w: &mut Writer, version: i16, resp: &MetadataResponse) {
    if version >= 3 {
        w.i32(0);
    }
    w.array(&resp.brokers, |w, b| {
        w.i32(b.node_id);
        w.string(&b.host);
        w.i32(b.port);
        if version >= 1 {
            w.nullable_string(None);
        }
        w.tagged_fields();
    });
    if version >= 2 {
        w.nullable_string(Some(&resp.cluster_id));
    }
    if version >= 1 {
        w.i32(resp.controller_id);
    }
    w.array(&resp.topics, |w, t| {
        w.error_code(t.error);
        w.string(&t.name);
        if version >= 10 {
            w.uuid([0; 16]);
        }
        if version >= 1 {
            w.bool(false);
        }
        w.array(&t.partitions, |w, p| {
            w.error_code(p.error);
            w.i32(p.index);
            w.i32(p.leader_id);
            if version >= 7 {
                w.i32(p.leader_epoch);
            }
            w.array(&p.replicas, |w, n| w.i32(*n));
            w.array(&p.replicas, |w, n| w.i32(*n));
            if version >= 5 {
                w.array_len(0);
            }
            w.tagged_fields();
        });
        if version >= 8 {
            w.i32(OPERATIONS_UNKNOWN);
        }
        w.tagged_fields();
    });
    if (8..=10).contains(&version) {
        w.i32(OPERATIONS_UNKNOWN);
    }
    w.tagged_fields();
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn v1_null_topics_means_all() {
        let req = decode(
            &mut Reader::new(Bytes::from_static(&[0xff, 0xff, 0xff, 0xff]), false),
            1,
        )
        .unwrap();
        assert_eq!(req.topics, None);
        assert!(req.allow_auto_topic_creation);
        let req = decode(
            &mut Reader::new(Bytes::from_static(&[0, 0, 0, 1, 0, 1, b'a']), false),
            1,
        )
        .unwrap();
        assert_eq!(req.topics, Some(vec!["a".to_owned()]));
    }

    #[test]
    fn v0_no_topics_means_all() {
        let req = decode(
            &mut Reader::new(Bytes::from_static(&[0, 0, 0, 0]), false),
            0,
        )
        .unwrap();
        assert_eq!(req.topics, None);
        let req = decode(
            &mut Reader::new(Bytes::from_static(&[0, 0, 0, 1, 0, 1, b'a']), false),
            0,
        )
        .unwrap();
        assert_eq!(req.topics, Some(vec!["a".to_owned()]));
        // In v1 an empty array names no topic.
        let req = decode(
            &mut Reader::new(Bytes::from_static(&[0, 0, 0, 0]), false),
            1,
        )
        .unwrap();
        assert_eq!(req.topics, Some(Vec::new()));
    }

    #[test]
    fn v4_and_v8_flags() {
        let body = [0, 0, 0, 0, 0];
        let req = decode(&mut Reader::new(Bytes::copy_from_slice(&body), false), 4).unwrap();
        assert!(!req.allow_auto_topic_creation);
        let body = [0, 0, 0, 0, 1, 0, 0];
        let req = decode(&mut Reader::new(Bytes::copy_from_slice(&body), false), 8).unwrap();
        assert!(req.allow_auto_topic_creation);
        assert!(decode(
            &mut Reader::new(Bytes::copy_from_slice(&body[..6]), false),
            8
        )
        .is_err());
    }

    #[test]
    fn v12_request_with_topic_ids() {
        let mut b = vec![2]; // topics: 1
        b.extend([0u8; 16]); // topic_id
        b.extend([2, b'x', 0]); // name "x", tags
        b.extend([1, 0, 0]); // allow_auto, include_topic_ops, tags
        let req = decode(&mut Reader::new(Bytes::from(b), true), 12).unwrap();
        assert_eq!(req.topics, Some(vec!["x".to_owned()]));
    }

    /// The body librdkafka 2.6.1 sends for `list_topics()` (captured): null topics, its three
    /// unused count bytes, allow_auto_topic_creation = true, include_topic_ops, no tags.
    #[test]
    fn v12_every_topic_as_librdkafka_writes_it() {
        let body = [0, 0, 0, 0, 1, 0, 0];
        let req = decode(&mut Reader::new(Bytes::copy_from_slice(&body), true), 12).unwrap();
        assert_eq!(req.topics, None);
        assert!(req.allow_auto_topic_creation);
        // Without the padding; and v9, which also has include_cluster_authorized_operations.
        let req = decode(
            &mut Reader::new(Bytes::from_static(&[0, 1, 0, 0]), true),
            12,
        )
        .unwrap();
        assert_eq!(req.topics, None);
        let v9 = [0, 0, 0, 0, 1, 0, 0, 0];
        assert!(decode(&mut Reader::new(Bytes::copy_from_slice(&v9), true), 9).is_ok());
        // Other extra bytes are still refused: non-zero padding, or padding with topics.
        let odd = [0, 0, 1, 0, 1, 0, 0];
        assert!(decode(&mut Reader::new(Bytes::copy_from_slice(&odd), true), 12).is_err());
        let listed = [1, 0, 0, 0, 1, 0, 0];
        assert!(decode(&mut Reader::new(Bytes::copy_from_slice(&listed), true), 12).is_err());
        let longer = [0, 0, 0, 0, 0, 1, 0, 0];
        assert!(decode(&mut Reader::new(Bytes::copy_from_slice(&longer), true), 12).is_err());
    }

    fn response() -> MetadataResponse {
        MetadataResponse {
            brokers: vec![Broker {
                node_id: 1,
                host: "h".into(),
                port: 9092,
            }],
            cluster_id: "c".into(),
            controller_id: 1,
            topics: vec![Topic {
                error: ErrorCode::NONE,
                name: "t".into(),
                partitions: vec![Partition {
                    error: ErrorCode::NONE,
                    index: 0,
                    leader_id: 1,
                    leader_epoch: 0,
                    replicas: vec![1],
                }],
            }],
        }
    }

    #[test]
    fn v1_response() {
        let mut w = Writer::new(false);
        encode(&mut w, 1, &response());
        let got: Vec<u8> = w.finish().concat();
        let mut want = vec![
            0, 0, 0, 1, 0, 0, 0, 1, 0, 1, b'h', 0, 0, 0x23, 0x84, 0xff, 0xff,
        ];
        want.extend([0, 0, 0, 1]); // controller_id
        want.extend([0, 0, 0, 1, 0, 0, 0, 1, b't', 0]); // topics 1, error, name, internal
        want.extend([0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]); // partitions 1, error, index, leader
        want.extend([0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]); // replicas, isr
        assert_eq!(got, want);
    }

    #[test]
    fn v0_response_has_no_rack_controller_or_internal_flag() {
        let mut w = Writer::new(false);
        encode(&mut w, 0, &response());
        let got: Vec<u8> = w.finish().concat();
        let mut want = vec![0, 0, 0, 1, 0, 0, 0, 1, 0, 1, b'h', 0, 0, 0x23, 0x84]; // brokers
        want.extend([0, 0, 0, 1, 0, 0, 0, 1, b't']); // topics 1, error, name
        want.extend([0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]); // partitions 1, error, index, leader
        want.extend([0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]); // replicas, isr
        assert_eq!(got, want);
    }

    #[test]
    fn v12_response_is_compact() {
        let mut w = Writer::new(true);
        encode(&mut w, 12, &response());
        let got: Vec<u8> = w.finish().concat();
        let mut want = vec![0, 0, 0, 0, 2, 0, 0, 0, 1, 2, b'h', 0, 0, 0x23, 0x84, 0, 0];
        want.extend([2, b'c', 0, 0, 0, 1]); // cluster_id, controller_id
        want.extend([2, 0, 0, 2, b't']); // topics 1, error, name
        want.extend([0u8; 16]); // topic_id
        want.extend([0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]); // internal, partitions..epoch
        want.extend([2, 0, 0, 0, 1, 2, 0, 0, 0, 1, 1, 0]); // replicas, isr, offline, tags
        want.extend([0x80, 0, 0, 0, 0, 0]); // topic ops, topic tags, response tags
        assert_eq!(got, want);
    }
}
