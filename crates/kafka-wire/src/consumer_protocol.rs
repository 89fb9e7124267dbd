//! The `consumer` protocol's member metadata and assignments: opaque bytes to the group
//! coordinator, read here only for what the broker shows (the topics a member subscribes to,
//! the partitions it was given) in `group describe` and lag. Both start with an INT16 version
//! and use the classic encoding in every version; fields after the ones read are ignored, so
//! newer versions read too.
//!
//! Subscription: `version, topics [STRING], user_data, owned_partitions (v1+), ...`.
//! Assignment: `version, assigned_partitions [topic STRING, partitions [INT32]], user_data`.

use bytes::Bytes;

use crate::codec::{Reader, Result};

/// The topics in a member's subscription metadata.
pub fn subscription_topics(metadata: &Bytes) -> Result<Vec<String>> {
    let mut r = Reader::new(metadata.clone(), false);
    r.i16("subscription.version")?;
    r.array("subscription.topics", |r| r.string("subscription.topic"))
}

/// The (topic, partition) pairs in an assignment.
pub fn assignment_partitions(assignment: &Bytes) -> Result<Vec<(String, i32)>> {
    if assignment.is_empty() {
        return Ok(Vec::new());
    }
    let mut r = Reader::new(assignment.clone(), false);
    r.i16("assignment.version")?;
    let topics = r.array("assignment.assigned_partitions", |r| {
        let topic = r.string("assignment.topic")?;
        let partitions = r.array("assignment.partitions", |r| r.i32("assignment.partition"))?;
        Ok((topic, partitions))
    })?;
    Ok(topics
        .into_iter()
        .flat_map(|(t, ps)| ps.into_iter().map(move |p| (t.clone(), p)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscription_and_assignment() {
        // v0 subscription of ["orders", "refunds"], null user data.
        let mut b = vec![0, 0, 0, 0, 0, 2, 0, 6];
        b.extend(b"orders");
        b.extend([0, 7]);
        b.extend(b"refunds");
        b.extend([0xff, 0xff, 0xff, 0xff]);
        let topics = subscription_topics(&Bytes::from(b)).unwrap();
        assert_eq!(topics, ["orders", "refunds"]);
        // v1 assignment: orders [0, 2], empty user data.
        let mut a = vec![0, 1, 0, 0, 0, 1, 0, 6];
        a.extend(b"orders");
        a.extend([0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0]);
        let parts = assignment_partitions(&Bytes::from(a)).unwrap();
        assert_eq!(parts, [("orders".to_owned(), 0), ("orders".to_owned(), 2)]);
        assert!(assignment_partitions(&Bytes::new()).unwrap().is_empty());
        assert!(subscription_topics(&Bytes::from_static(&[0, 0, 0, 0, 0, 9])).is_err());
    }
}
