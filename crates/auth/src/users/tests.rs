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
