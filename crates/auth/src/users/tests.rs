use super::*;

fn settings() -> UserSettings {
    UserSettings {
        users_max: 3,
        iterations: 4096,
    }
}

#[test]
fn add_verify_change_remove_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let store = UserStore::open(Some(dir.path()), settings()).unwrap();
    store.add("alice", b"s3cret", 1).unwrap();
    assert!(store.verify_password("alice", b"s3cret"));
    assert!(!store.verify_password("alice", b"wrong"));
    assert!(!store.verify_password("nobody", b"s3cret"));
    for m in Mechanism::ALL {
        assert_eq!(store.credential("alice", m).unwrap().mechanism, m);
    }
    assert!(matches!(
        store.add("alice", b"x", 2),
        Err(StoreError::Exists { .. })
    ));
    store.set_password("alice", b"n3w", 3).unwrap();
    drop(store);

    let store = UserStore::open(Some(dir.path()), settings()).unwrap();
    assert!(store.verify_password("alice", b"n3w"));
    assert!(!store.verify_password("alice", b"s3cret"));
    let list = store.list();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].name, "alice");
    assert_eq!(list[0].mechanisms, vec!["SCRAM-SHA-256", "SCRAM-SHA-512"]);
    assert_eq!((list[0].created_ms, list[0].updated_ms), (1, 3));
    store.remove("alice").unwrap();
    assert!(matches!(
        store.remove("alice"),
        Err(StoreError::NotFound { .. })
    ));
    drop(store);
    assert!(UserStore::open(Some(dir.path()), settings())
        .unwrap()
        .list()
        .is_empty());
}

#[test]
fn no_password_reaches_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = UserStore::open(Some(dir.path()), settings()).unwrap();
    store.add("bob", b"correct-horse-battery", 1).unwrap();
    let text = std::fs::read_to_string(dir.path().join(USERS_FILE)).unwrap();
    assert!(!text.contains("correct-horse-battery"));
    assert!(text.contains("stored_key") && text.contains("\"bob\""));
}

#[test]
fn limits_and_bad_input() {
    let store = UserStore::open(None, settings()).unwrap();
    for n in ["a", "b", "c"] {
        store.add(n, b"p", 0).unwrap();
    }
    let err = store.add("d", b"p", 0).unwrap_err();
    assert!(err.to_string().contains("auth.max_users"), "{err}");
    assert!(matches!(
        store.add("", b"p", 0),
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.set_password("a", b"", 0),
        Err(StoreError::Invalid(_))
    ));
    let long = vec![b'x'; PASSWORD_BYTES_MAX + 1];
    assert!(matches!(
        store.set_password("a", &long, 0),
        Err(StoreError::Invalid(_))
    ));
    assert!(!store.verify_password("a", &long));
    assert!(matches!(
        store.set_password("zed", b"p", 0),
        Err(StoreError::NotFound { .. })
    ));
}

#[test]
fn a_corrupt_or_future_file_is_refused_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(USERS_FILE), b"[]").unwrap();
    let err = UserStore::open(Some(dir.path()), settings()).unwrap_err();
    assert!(err.to_string().contains(USERS_FILE), "{err}");
    std::fs::write(dir.path().join(USERS_FILE), br#"{"version":9,"users":{}}"#).unwrap();
    let err = UserStore::open(Some(dir.path()), settings()).unwrap_err();
    assert!(err.to_string().contains("format version 9"), "{err}");
}

#[test]
fn credentials_from_salted_passwords_log_in_and_can_be_removed_one_by_one() {
    use crate::scram::ScramCredential;
    let store = UserStore::open(None, settings()).unwrap();
    let salt = b"0123456789abcdef";
    for m in Mechanism::ALL {
        // What a Kafka admin client sends: Hi(password, salt, i), never the password.
        let reference = ScramCredential::derive(m, b"pw", salt, 4096);
        let mut salted = vec![0u8; m.key_len()];
        match m {
            Mechanism::ScramSha256 => {
                pbkdf2::pbkdf2_hmac::<sha2::Sha256>(b"pw", salt, 4096, &mut salted)
            }
            Mechanism::ScramSha512 => {
                pbkdf2::pbkdf2_hmac::<sha2::Sha512>(b"pw", salt, 4096, &mut salted)
            }
        }
        let made = ScramCredential::from_salted(m, &salted, salt, 4096);
        assert_eq!(made, reference);
        store.upsert_credential("carol", made, 5).unwrap();
    }
    assert!(store.verify_password("carol", b"pw"));
    assert_eq!(store.describe("carol").unwrap().len(), 2);
    store
        .remove_credential("carol", Mechanism::ScramSha256)
        .unwrap();
    assert!(
        store.verify_password("carol", b"pw"),
        "the SHA-512 credential is enough"
    );
    assert!(matches!(
        store.remove_credential("carol", Mechanism::ScramSha256),
        Err(StoreError::NotFound { .. })
    ));
    store
        .remove_credential("carol", Mechanism::ScramSha512)
        .unwrap();
    assert!(
        !store.contains("carol"),
        "a user without credentials is gone"
    );
    let weak = ScramCredential::from_salted(Mechanism::ScramSha256, &[0; 32], salt, 10);
    assert!(matches!(
        store.upsert_credential("dave", weak, 0),
        Err(StoreError::Invalid(_))
    ));
}

#[test]
fn put_sets_client_made_credentials_per_mode() {
    use crate::scram::ScramCredential;
    let dir = tempfile::tempdir().unwrap();
    let store = UserStore::open(Some(dir.path()), settings()).unwrap();
    let made = |pw: &[u8]| {
        Mechanism::ALL
            .into_iter()
            .map(|m| ScramCredential::generate(m, pw, 4096).unwrap())
            .collect::<Vec<_>>()
    };
    let err = store
        .put("bob", made(b"one"), PutMode::Update, 1)
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
    store.put("bob", made(b"one"), PutMode::Create, 1).unwrap();
    let err = store
        .put("bob", made(b"two"), PutMode::Create, 2)
        .unwrap_err();
    assert!(matches!(err, StoreError::Exists { .. }), "{err}");
    assert!(store.verify_password("bob", b"one"));
    store.put("bob", made(b"two"), PutMode::Update, 3).unwrap();
    assert!(store.verify_password("bob", b"two") && !store.verify_password("bob", b"one"));
    store
        .put("carol", made(b"three"), PutMode::Upsert, 4)
        .unwrap();
    store
        .put("carol", made(b"four"), PutMode::Upsert, 5)
        .unwrap();
    assert!(store.verify_password("carol", b"four"));
    let reopened = UserStore::open(Some(dir.path()), settings()).unwrap();
    assert!(reopened.verify_password("carol", b"four"));
    assert_eq!(reopened.list()[0].updated_ms, 3);

    let twice = [made(b"x"), made(b"y")].concat();
    assert!(store.put("dave", twice, PutMode::Create, 6).is_err());
    assert!(store.put("dave", Vec::new(), PutMode::Create, 6).is_err());
    let mut weak = made(b"x");
    weak[0].iterations = 1;
    assert!(store.put("dave", weak, PutMode::Create, 6).is_err());
    assert!(!store.contains("dave"));
}
