#![allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

use super::*;

fn credential(mechanism: WireMechanism, len: usize) -> WireCredential {
    WireCredential {
        mechanism,
        iterations: 4096,
        salt: vec![7; 16],
        stored_key: vec![1; len],
        server_key: vec![2; len],
    }
}

fn acl() -> WireAcl {
    WireAcl {
        principal: "User:alice".into(),
        host: "*".into(),
        resource_type: AclResource::Stream,
        name: "orders-".into(),
        pattern_type: AclPattern::Prefixed,
        operation: AclOperation::Write,
        permission: AclPermission::Allow,
    }
}

/// Every message decodes to what was encoded, and every cut of it fails.
fn round_trip<T: PartialEq + std::fmt::Debug>(
    msg: &T,
    encode: impl Fn(&T, &mut BytesMut),
    decode: impl Fn(&[u8]) -> Result<T, PayloadError>,
) {
    let mut buf = BytesMut::new();
    encode(msg, &mut buf);
    assert_eq!(&decode(&buf).unwrap(), msg);
    for cut in 0..buf.len() {
        assert!(decode(&buf[..cut]).is_err(), "cut at {cut} of {msg:?}");
    }
    buf.put_u8(0);
    assert!(matches!(
        decode(&buf),
        Err(PayloadError::TrailingBytes { extra: 1 })
    ));
}

#[test]
fn every_message_round_trips_and_every_truncation_fails() {
    let put = PutUser {
        name: "alice".into(),
        mode: PutMode::Create,
        credentials: vec![
            credential(WireMechanism::ScramSha256, 32),
            credential(WireMechanism::ScramSha512, 64),
        ],
    };
    round_trip(&put, PutUser::encode, PutUser::decode);
    round_trip(
        &UserRef {
            name: "alice".into(),
        },
        UserRef::encode,
        UserRef::decode,
    );
    let list = UserList {
        users: vec![UserInfo {
            name: "alice".into(),
            created_ms: 1,
            updated_ms: 2,
            mechanisms: vec![(WireMechanism::ScramSha512, 8192)],
        }],
    };
    round_trip(&list, UserList::encode, UserList::decode);
    round_trip(&UserList::default(), UserList::encode, UserList::decode);
    round_trip(
        &CreateAcls { acls: vec![acl()] },
        CreateAcls::encode,
        CreateAcls::decode,
    );
    round_trip(
        &AclList {
            acls: vec![acl(), acl()],
        },
        AclList::encode,
        AclList::decode,
    );
    let filter = AclFilterMsg {
        principal: Some("User:alice".into()),
        host: None,
        resource_type: Some(AclResource::Group),
        name: Some("g".into()),
        pattern: AclPatternFilter::Match,
        operation: None,
        permission: Some(AclPermission::Deny),
    };
    round_trip(&filter, AclFilterMsg::encode, AclFilterMsg::decode);
    round_trip(
        &AclFilterMsg::default(),
        AclFilterMsg::encode,
        AclFilterMsg::decode,
    );
}

#[test]
fn unknown_codes_and_counts_are_refused_by_field() {
    let mut buf = BytesMut::new();
    CreateAcls { acls: vec![acl()] }.encode(&mut buf);
    let last = buf.len() - 1;
    buf[last] = 3; // permission
    assert!(matches!(
        CreateAcls::decode(&buf),
        Err(PayloadError::InvalidValue {
            field: "permission",
            value: 3
        })
    ));
    let empty = [0u8, 0];
    assert!(matches!(
        CreateAcls::decode(&empty),
        Err(PayloadError::InvalidValue { field: "count", .. })
    ));
    let mut buf = BytesMut::new();
    PutUser {
        name: "a".into(),
        mode: PutMode::Upsert,
        credentials: vec![credential(WireMechanism::ScramSha256, 32)],
    }
    .encode(&mut buf);
    let mut no_credentials = buf.clone();
    no_credentials[4] = 0;
    no_credentials.truncate(5);
    assert!(matches!(
        PutUser::decode(&no_credentials),
        Err(PayloadError::InvalidValue { field: "count", .. })
    ));
    buf[3] = 9; // mode
    assert!(matches!(
        PutUser::decode(&buf),
        Err(PayloadError::InvalidValue { field: "mode", .. })
    ));
    // A key longer than any mechanism's.
    let mut long = BytesMut::new();
    put_str16(&mut long, "a");
    long.put_u8(0);
    long.put_u8(1);
    long.put_u8(1);
    long.put_u32_le(4096);
    long.put_u8(KEY_BYTES_MAX as u8 + 1);
    assert!(matches!(
        PutUser::decode(&long),
        Err(PayloadError::TooLong { field: "salt", .. })
    ));
    // A filter's optional-field marker is 0 or 1.
    let mut bad = BytesMut::new();
    AclFilterMsg::default().encode(&mut bad);
    bad[0] = 2;
    assert!(matches!(
        AclFilterMsg::decode(&bad),
        Err(PayloadError::InvalidValue {
            field: "principal",
            ..
        })
    ));
}

#[test]
fn key_material_stays_out_of_debug_output() {
    let c = credential(WireMechanism::ScramSha256, 32);
    let shown = format!("{c:?}");
    assert!(
        !shown.contains("stored_key") && !shown.contains("[1, 1"),
        "{shown}"
    );
}
