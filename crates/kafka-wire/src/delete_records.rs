//! DeleteRecords (key 21), v0-v2.
//!
//! Request: `topics [name, partitions [partition_index, offset]]`, `timeout_ms`: delete the
//! records of each partition before `offset` (-1: up to the high watermark).
//! Response: `throttle_time_ms`, `topics [name, partitions [partition_index, low_watermark,
//! error_code]]`. v1 has the same fields as v0 (the broker answers before throttling); v2 is
//! the first flexible version.

use crate::codec::{Reader, Result, Writer};
use crate::error_code::ErrorCode;

/// The request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteRecordsRequest {
    /// The topics whose records to delete.
    pub topics: Vec<DeleteRecordsTopic>,
    /// How long to wait for the deletions.
    pub timeout_ms: i32,
}

/// One topic's partitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteRecordsTopic {
    /// The topic's name.
    pub name: String,
    /// Its partitions.
    pub partitions: Vec<DeleteRecordsPartition>,
}

/// One partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeleteRecordsPartition {
    /// The partition.
    pub partition_index: i32,
    /// Records before this offset are deleted; -1 for the high watermark.
    pub offset: i64,
}

/// Decodes the body of `version` (all versions have the same fields).
pub fn decode(r: &mut Reader, _version: i16) -> Result<DeleteRecordsRequest> {
    let topics = r.array("topics", |r| {
        let name = r.string("topics.name")?;
        let partitions = r.array("partitions", |r| {
            let partition_index = r.i32("partition_index")?;
            let offset = r.i64("offset")?;
            r.tagged_fields()?;
            Ok(DeleteRecordsPartition {
                partition_index,
                offset,
            })
        })?;
        r.tagged_fields()?;
        Ok(DeleteRecordsTopic { name, partitions })
    })?;
    let timeout_ms = r.i32("timeout_ms")?;
    r.tagged_fields()?;
    r.finish()?;
    Ok(DeleteRecordsRequest { topics, timeout_ms })
}

/// The response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteRecordsResponse {
    /// How long the request was throttled.
    pub throttle_time_ms: i32,
    /// One result per topic.
    pub topics: Vec<TopicResult>,
}

/// The results for one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicResult {
    /// The topic's name.
    pub name: String,
    /// One result per partition.
    pub partitions: Vec<PartitionResult>,
}

/// The result for one partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionResult {
    /// The partition.
    pub partition_index: i32,
    /// The partition's first offset after the deletion.
    pub low_watermark: i64,
    /// NONE, or why the records were not deleted.
    pub error_code: ErrorCode,
}

/// Encodes the response in `version` (all versions have the same fields).
pub fn encode(w: &mut Writer, _version: i16, resp: &DeleteRecordsResponse) {
    w.i32(resp.throttle_time_ms);
    w.array(&resp.topics, |w, t| {
        w.string(&t.name);
        w.array(&t.partitions, |w, p| {
            w.i32(p.partition_index);
            w.i64(p.low_watermark);
            w.error_code(p.error_code);
            w.tagged_fields();
        });
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

    fn decode_bytes(version: i16, body: &[u8]) -> Result<DeleteRecordsRequest> {
        let mut r = Reader::new(Bytes::copy_from_slice(body), version >= FLEXIBLE);
        decode(&mut r, version)
    }

    fn encoded(version: i16, resp: &DeleteRecordsResponse) -> Vec<u8> {
        let mut w = Writer::new(version >= FLEXIBLE);
        encode(&mut w, version, resp);
        w.finish().concat()
    }

    fn classic_request() -> Vec<u8> {
        [
            &[0, 0, 0, 1][..],               // topics: 1
            &[0, 6],                         //   name: length 6
            b"orders",                       //     "orders"
            &[0, 0, 0, 2],                   //   partitions: 2
            &[0, 0, 0, 0],                   //     partition_index: 0
            &[0, 0, 0, 0, 0, 0, 0x01, 0x00], //     offset: 256
            &[0, 0, 0, 1],                   //     partition_index: 1
            &[0xff; 8],                      //     offset: -1
            &[0, 0, 0x03, 0xe8],             // timeout_ms: 1000
        ]
        .concat()
    }

    fn check(req: &DeleteRecordsRequest) {
        assert_eq!(req.topics.len(), 1);
        assert_eq!(req.topics[0].name, "orders");
        assert_eq!(
            req.topics[0].partitions,
            [
                DeleteRecordsPartition {
                    partition_index: 0,
                    offset: 256
                },
                DeleteRecordsPartition {
                    partition_index: 1,
                    offset: -1
                },
            ]
        );
        assert_eq!(req.timeout_ms, 1000);
    }

    #[test]
    fn v0_and_v1_requests() {
        check(&decode_bytes(0, &classic_request()).unwrap());
        check(&decode_bytes(1, &classic_request()).unwrap());
    }

    #[test]
    fn v2_request() {
        let body = [
            &[2][..],                        // topics: compact 1
            &[7],                            //   name: compact length 6
            b"orders",                       //     "orders"
            &[3],                            //   partitions: compact 2
            &[0, 0, 0, 0],                   //     partition_index: 0
            &[0, 0, 0, 0, 0, 0, 0x01, 0x00], //     offset: 256
            &[0],                            //     tagged fields: none
            &[0, 0, 0, 1],                   //     partition_index: 1
            &[0xff; 8],                      //     offset: -1
            &[1, 3, 0],                      //     tagged fields: 1, tag 3, size 0
            &[0],                            //   tagged fields: none
            &[0, 0, 0x03, 0xe8],             // timeout_ms: 1000
            &[0],                            // tagged fields: none
        ]
        .concat();
        check(&decode_bytes(2, &body).unwrap());
    }

    #[test]
    fn a_truncated_request_is_an_error() {
        let body = classic_request();
        for len in 0..body.len() {
            assert!(decode_bytes(0, &body[..len]).is_err(), "{len} bytes");
        }
        let mut longer = body.clone();
        longer.push(0);
        assert!(decode_bytes(0, &longer).is_err());
    }

    fn response() -> DeleteRecordsResponse {
        DeleteRecordsResponse {
            throttle_time_ms: 1,
            topics: vec![TopicResult {
                name: "orders".into(),
                partitions: vec![
                    PartitionResult {
                        partition_index: 0,
                        low_watermark: 256,
                        error_code: ErrorCode::NONE,
                    },
                    PartitionResult {
                        partition_index: 1,
                        low_watermark: -1,
                        error_code: ErrorCode::OFFSET_OUT_OF_RANGE,
                    },
                ],
            }],
        }
    }

    #[test]
    fn v0_and_v1_responses() {
        let expected = [
            &[0, 0, 0, 1][..],               // throttle_time_ms: 1
            &[0, 0, 0, 1],                   // topics: 1
            &[0, 6],                         //   name: length 6
            b"orders",                       //     "orders"
            &[0, 0, 0, 2],                   //   partitions: 2
            &[0, 0, 0, 0],                   //     partition_index: 0
            &[0, 0, 0, 0, 0, 0, 0x01, 0x00], //     low_watermark: 256
            &[0, 0],                         //     error_code: NONE
            &[0, 0, 0, 1],                   //     partition_index: 1
            &[0xff; 8],                      //     low_watermark: -1
            &[0, 1],                         //     error_code: OFFSET_OUT_OF_RANGE
        ]
        .concat();
        assert_eq!(encoded(0, &response()), expected);
        assert_eq!(encoded(1, &response()), expected);
    }

    #[test]
    fn v2_response() {
        let expected = [
            &[0, 0, 0, 1][..],               // throttle_time_ms: 1
            &[2],                            // topics: compact 1
            &[7],                            //   name: compact length 6
            b"orders",                       //     "orders"
            &[3],                            //   partitions: compact 2
            &[0, 0, 0, 0],                   //     partition_index: 0
            &[0, 0, 0, 0, 0, 0, 0x01, 0x00], //     low_watermark: 256
            &[0, 0],                         //     error_code: NONE
            &[0],                            //     tagged fields: none
            &[0, 0, 0, 1],                   //     partition_index: 1
            &[0xff; 8],                      //     low_watermark: -1
            &[0, 1],                         //     error_code: OFFSET_OUT_OF_RANGE
            &[0],                            //     tagged fields: none
            &[0],                            //   tagged fields: none
            &[0],                            // tagged fields: none
        ]
        .concat();
        assert_eq!(encoded(2, &response()), expected);
    }

    #[test]
    fn the_table_matches() {
        let spec = api::spec(api::key::DELETE_RECORDS).unwrap();
        assert_eq!((spec.min, spec.max, spec.flexible_from), (0, 2, FLEXIBLE));
    }
}
