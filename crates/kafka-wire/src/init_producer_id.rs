//! InitProducerId (key 22), v0-v4 (v2+ flexible).
//!
//! Request: `transactional_id` (nullable; set only by transactional producers, which this
//! broker does not support), `transaction_timeout_ms`, and from v3 `producer_id` and
//! `producer_epoch` (an existing producer asking to bump its epoch; -1 for a new one).
//! Response: `throttle_time_ms`, `error_code`, `producer_id`, `producer_epoch`.

use crate::codec::{Reader, Result, Writer};
use crate::error_code::ErrorCode;

/// A request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitProducerIdRequest {
    /// Transactional id, if any.
    pub transactional_id: Option<String>,
    /// Transaction timeout.
    pub transaction_timeout_ms: i32,
    /// The producer's current id (v3+; -1 = new producer).
    pub producer_id: i64,
    /// The producer's current epoch (v3+; -1 = new producer).
    pub producer_epoch: i16,
}

/// Decodes a request body of `version`.
pub fn decode(r: &mut Reader, version: i16) -> Result<InitProducerIdRequest> {
    let transactional_id = r.nullable_string("transactional_id")?;
    let transaction_timeout_ms = r.i32("transaction_timeout_ms")?;
    let (mut producer_id, mut producer_epoch) = (-1, -1);
    if version >= 3 {
        producer_id = r.i64("producer_id")?;
        producer_epoch = r.i16("producer_epoch")?;
    }
    r.tagged_fields()?;
    r.finish()?;
    Ok(InitProducerIdRequest {
        transactional_id,
        transaction_timeout_ms,
        producer_id,
        producer_epoch,
    })
}

/// Encodes the response.
pub fn encode(w: &mut Writer, error: ErrorCode, producer_id: i64, producer_epoch: i16) {
    w.i32(0);
    w.error_code(error);
    w.i64(producer_id);
    w.i16(producer_epoch);
    w.tagged_fields();
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn v0_and_v4() {
        let b = [0xff, 0xff, 0, 0, 0xea, 0x60];
        let req = decode(&mut Reader::new(Bytes::copy_from_slice(&b), false), 0).unwrap();
        assert_eq!((req.transactional_id, req.producer_id), (None, -1));
        let mut b = vec![0]; // transactional_id: null (compact)
        b.extend(60_000i32.to_be_bytes());
        b.extend(7i64.to_be_bytes());
        b.extend(2i16.to_be_bytes());
        b.push(0);
        let req = decode(&mut Reader::new(Bytes::from(b), true), 4).unwrap();
        assert_eq!((req.producer_id, req.producer_epoch), (7, 2));
        let mut w = Writer::new(true);
        encode(&mut w, ErrorCode::NONE, 1000, 0);
        let got: Vec<u8> = w.finish().concat();
        assert_eq!(
            got,
            [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x03, 0xe8, 0, 0, 0]
        );
        assert!(decode(&mut Reader::new(Bytes::from_static(&[0xff]), false), 0).is_err());
    }
}
