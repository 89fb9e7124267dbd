//! Configuration: layering and origins, error reporting, rendering, hot reload, and keeping
//! `docs/configuration.md` in step with the defaults.

use std::path::{Path, PathBuf};
use std::time::Duration;

use memstream_broker::config::{
    check_file, is_reloadable, load, watch_file, Config, ConfigError, ConfigHandle, ConfigSources,
    Origin, Override, ReloadReport, DEFAULT_TOML,
};
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::time::timeout;

const WAIT: Duration = Duration::from_secs(10);

fn write(dir: &TempDir, text: &str) -> PathBuf {
    let path = dir.path().join("memstream.toml");
    std::fs::write(&path, text).expect("write config file");
    path
}

fn file_only(path: &Path) -> ConfigSources {
    ConfigSources {
        file: Some(path.to_owned()),
        ..ConfigSources::default()
    }
}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn flag(key: &str, value: &str, flag: &str) -> Override {
    Override {
        key: key.into(),
        value: value.into(),
        flag: flag.into(),
    }
}

fn handle_for(path: &Path) -> ConfigHandle {
    let sources = file_only(path);
    ConfigHandle::new(load(&sources).expect("initial load"), sources)
}

#[track_caller]
fn assert_invalid(err: ConfigError, key: &str, value: &str, reason: &str, origin: Origin) {
    let message = err.to_string();
    match err {
        ConfigError::Invalid {
            key: k,
            value: v,
            reason: r,
            origin: o,
        } => {
            assert_eq!(k, key);
            assert_eq!(v, value);
            assert!(r.contains(reason), "reason {r:?} lacks {reason:?}");
            assert_eq!(o, origin);
            for part in [key, value] {
                assert!(message.contains(part), "{message:?} lacks {part:?}");
            }
        }
        other => panic!("expected Invalid for {key}, got {other:?}"),
    }
}

// ----- layering -----

#[test]
fn defaults_validate() {
    let loaded = load(&ConfigSources::default()).expect("defaults are valid");
    assert_eq!(loaded.config, Config::default());
    assert_eq!(loaded.origins.len(), 81);
    assert!(loaded.origins.values().all(|o| *o == Origin::Default));
}

#[test]
fn file_overrides_defaults() {
    let dir = TempDir::new().unwrap();
    let path = write(
        &dir,
        "[network]\nmax_connections = 100\n[log]\nlevel = \"debug\"\n",
    );
    let loaded = load(&file_only(&path)).unwrap();
    assert_eq!(loaded.config.network.max_connections, 100);
    assert_eq!(loaded.config.log.level, "debug");
    assert_eq!(loaded.config.server, Config::default().server);
    assert_eq!(
        loaded.origins["network.max_connections"],
        Origin::File(path.clone())
    );
    assert_eq!(loaded.origins["network.max_frame_bytes"], Origin::Default);
}

#[test]
fn env_overrides_file() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "[network]\nmax_connections = 100\n");
    let sources = ConfigSources {
        env: env(&[("MEMSTREAM_NETWORK__MAX_CONNECTIONS", "5000")]),
        ..file_only(&path)
    };
    let loaded = load(&sources).unwrap();
    assert_eq!(loaded.config.network.max_connections, 5000);
    assert_eq!(
        loaded.origins["network.max_connections"],
        Origin::Env("MEMSTREAM_NETWORK__MAX_CONNECTIONS".into())
    );
}

#[test]
fn override_beats_env() {
    let sources = ConfigSources {
        env: env(&[("MEMSTREAM_SERVER__LISTEN", "127.0.0.1:9000")]),
        overrides: vec![flag("server.listen", "127.0.0.1:9001", "--listen")],
        ..ConfigSources::default()
    };
    let loaded = load(&sources).unwrap();
    assert_eq!(loaded.config.server.listen, "127.0.0.1:9001");
    assert_eq!(
        loaded.origins["server.listen"],
        Origin::Flag("--listen".into())
    );
}

#[test]
fn env_without_double_underscore_is_not_config() {
    let sources = ConfigSources {
        env: env(&[
            ("MEMSTREAM_SERVER", "example.com:7878"),
            ("MEMSTREAM_LOG_LEVEL", "nonsense"),
            ("HOME", "/root"),
        ]),
        ..ConfigSources::default()
    };
    assert_eq!(load(&sources).unwrap().config, Config::default());
}

#[test]
fn env_sets_paths_and_strings() {
    let sources = ConfigSources {
        env: env(&[
            ("MEMSTREAM_SERVER__DATA_DIR", "/var/lib/memstream"),
            ("MEMSTREAM_LOG__FORMAT", "json"),
        ]),
        ..ConfigSources::default()
    };
    let config = load(&sources).unwrap().config;
    assert_eq!(config.server.data_dir, PathBuf::from("/var/lib/memstream"));
    assert_eq!(config.log.format, "json");
}

#[test]
fn env_sets_stream_defaults() {
    let sources = ConfigSources {
        env: env(&[
            ("MEMSTREAM_STREAMS__STORAGE", "memory"),
            ("MEMSTREAM_STREAMS__FSYNC", "interval"),
            ("MEMSTREAM_STREAMS__PARTITIONS", "8"),
        ]),
        ..ConfigSources::default()
    };
    let loaded = load(&sources).unwrap();
    let streams = &loaded.config.streams;
    assert_eq!(streams.storage, "memory");
    assert_eq!(streams.fsync, "interval");
    assert_eq!(streams.partitions, 8);
    assert_eq!(
        loaded.origins["streams.storage"],
        Origin::Env("MEMSTREAM_STREAMS__STORAGE".into())
    );
    assert_eq!(
        streams.retention_bytes,
        Config::default().streams.retention_bytes
    );
    assert_eq!(loaded.origins["streams.retention_bytes"], Origin::Default);
}

// ----- errors -----

#[test]
fn unknown_key_in_file_is_rejected() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "[network]\nmax_conections = 100\n");
    let err = load(&file_only(&path)).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "unknown key `network.max_conections` (file {}); did you mean `network.max_connections`?",
            path.display()
        )
    );
    assert!(
        matches!(err, ConfigError::UnknownKey { key, origin: Origin::File(p) }
        if key == "network.max_conections" && p == path)
    );
}

#[test]
fn unknown_section_in_file_is_rejected() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "[netwrok]\nmax_connections = 100\n");
    let err = load(&file_only(&path)).unwrap_err();
    assert!(
        matches!(err, ConfigError::UnknownKey { ref key, .. } if key == "netwrok"),
        "{err:?}"
    );

    let path = write(&dir, "[server.tls]\ncert = \"x\"\n");
    let err = load(&file_only(&path)).unwrap_err();
    assert!(
        matches!(err, ConfigError::UnknownKey { ref key, .. } if key == "server.tls"),
        "{err:?}"
    );
}

#[test]
fn unknown_env_key_is_rejected() {
    let sources = ConfigSources {
        env: env(&[("MEMSTREAM_NETWORK__MAX_CONECTIONS", "5")]),
        ..ConfigSources::default()
    };
    let err = load(&sources).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown key `network.max_conections` (env MEMSTREAM_NETWORK__MAX_CONECTIONS); did you mean `network.max_connections`?"
    );
}

#[test]
fn unknown_override_key_is_rejected() {
    let sources = ConfigSources {
        overrides: vec![flag("server.bogus", "1", "--bogus")],
        ..ConfigSources::default()
    };
    let err = load(&sources).unwrap_err();
    assert!(
        matches!(err, ConfigError::UnknownKey { ref key, origin: Origin::Flag(ref f) }
        if key == "server.bogus" && f == "--bogus"),
        "{err:?}"
    );
}

#[test]
fn type_mismatch_in_file_names_the_key() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "[network]\nmax_connections = \"many\"\n");
    let err = load(&file_only(&path)).unwrap_err();
    assert_invalid(
        err,
        "network.max_connections",
        "many",
        "expected an unsigned integer",
        Origin::File(path.clone()),
    );

    let path = write(&dir, "[log]\nlevel = 3\n");
    let err = load(&file_only(&path)).unwrap_err();
    assert_invalid(
        err,
        "log.level",
        "3",
        "expected a string",
        Origin::File(path.clone()),
    );

    let path = write(&dir, "server = 5\n");
    let err = load(&file_only(&path)).unwrap_err();
    assert_invalid(err, "server", "5", "expected a table", Origin::File(path));
}

#[test]
fn non_integer_env_value_names_key_value_and_reason() {
    let sources = ConfigSources {
        env: env(&[("MEMSTREAM_NETWORK__MAX_CONNECTIONS", "abc")]),
        ..ConfigSources::default()
    };
    let err = load(&sources).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid value `abc` for `network.max_connections` \
         (env MEMSTREAM_NETWORK__MAX_CONNECTIONS): expected an unsigned integer"
    );
}

#[test]
fn negative_and_overflowing_integers_are_invalid() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "[network]\nmax_frame_bytes = -1\n");
    let err = load(&file_only(&path)).unwrap_err();
    assert_invalid(
        err,
        "network.max_frame_bytes",
        "-1",
        "expected an unsigned integer",
        Origin::File(path.clone()),
    );

    let path = write(&dir, "[network]\nmax_frame_bytes = 4294967296\n");
    let err = load(&file_only(&path)).unwrap_err();
    assert_invalid(
        err,
        "network.max_frame_bytes",
        "4294967296",
        "out of range",
        Origin::File(path),
    );

    let sources = ConfigSources {
        overrides: vec![flag(
            "admin.max_connections",
            "99999999999",
            "--admin-max-connections",
        )],
        ..ConfigSources::default()
    };
    let err = load(&sources).unwrap_err();
    assert_invalid(
        err,
        "admin.max_connections",
        "99999999999",
        "out of range",
        Origin::Flag("--admin-max-connections".into()),
    );
}

#[test]
fn out_of_range_values_are_invalid() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "[network]\nmax_connections = 0\n");
    let err = load(&file_only(&path)).unwrap_err();
    assert_invalid(
        err,
        "network.max_connections",
        "0",
        "between 1 and 1000000",
        Origin::File(path),
    );

    let sources = ConfigSources {
        env: env(&[("MEMSTREAM_NETWORK__MAX_FRAME_BYTES", "1024")]),
        ..ConfigSources::default()
    };
    let err = load(&sources).unwrap_err();
    assert_invalid(
        err,
        "network.max_frame_bytes",
        "1024",
        "between 4136 and 268435456",
        Origin::Env("MEMSTREAM_NETWORK__MAX_FRAME_BYTES".into()),
    );

    let sources = ConfigSources {
        overrides: vec![flag("server.config_poll_ms", "5", "--config-poll-ms")],
        ..ConfigSources::default()
    };
    assert!(matches!(load(&sources), Err(ConfigError::Invalid { .. })));
}

#[test]
fn write_queue_smaller_than_a_frame_is_invalid() {
    let dir = TempDir::new().unwrap();
    let path = write(
        &dir,
        "[network]\nmax_frame_bytes = 2097152\nmax_write_queue_bytes = 1048576\n",
    );
    let err = load(&file_only(&path)).unwrap_err();
    assert_invalid(
        err,
        "network.max_write_queue_bytes",
        "1048576",
        "at least network.max_frame_bytes",
        Origin::File(path),
    );
}

#[test]
fn bad_listen_address_and_log_settings_are_invalid() {
    let sources = ConfigSources {
        overrides: vec![flag("server.listen", "localhost", "--listen")],
        ..ConfigSources::default()
    };
    let err = load(&sources).unwrap_err();
    assert_invalid(
        err,
        "server.listen",
        "localhost",
        "IP address and port",
        Origin::Flag("--listen".into()),
    );

    let sources = ConfigSources {
        env: env(&[("MEMSTREAM_LOG__LEVEL", "info,memstream=loud")]),
        ..ConfigSources::default()
    };
    assert!(
        matches!(load(&sources), Err(ConfigError::Invalid { ref key, .. }) if key == "log.level")
    );

    let sources = ConfigSources {
        env: env(&[("MEMSTREAM_LOG__FORMAT", "xml")]),
        ..ConfigSources::default()
    };
    assert!(
        matches!(load(&sources), Err(ConfigError::Invalid { ref key, .. }) if key == "log.format")
    );
}

#[test]
fn invalid_stream_storage_and_fsync_name_the_key() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "[streams]\nstorage = \"ssd\"\n");
    let err = load(&file_only(&path)).unwrap_err();
    assert_invalid(
        err,
        "streams.storage",
        "ssd",
        "expected `disk` or `memory`",
        Origin::File(path),
    );

    let sources = ConfigSources {
        env: env(&[("MEMSTREAM_STREAMS__FSYNC", "sometimes")]),
        ..ConfigSources::default()
    };
    let err = load(&sources).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid value `sometimes` for `streams.fsync` (env MEMSTREAM_STREAMS__FSYNC): \
         expected `always`, `interval` or `never`"
    );
}

#[test]
fn max_message_bytes_must_leave_room_in_a_frame() {
    let dir = TempDir::new().unwrap();
    // As large as the frame: the frame header and PRODUCE fields would not fit.
    let path = write(&dir, "[streams]\nmax_message_bytes = 1048576\n");
    let err = load(&file_only(&path)).unwrap_err();
    assert_invalid(
        err,
        "streams.max_message_bytes",
        "1048576",
        "network.max_frame_bytes",
        Origin::File(path.clone()),
    );

    // Checked on the merged result: a frame limit raised in the environment admits it.
    let sources = ConfigSources {
        env: env(&[("MEMSTREAM_NETWORK__MAX_FRAME_BYTES", "2097152")]),
        overrides: vec![flag(
            "network.max_write_queue_bytes",
            "2097152",
            "--max-write-queue-bytes",
        )],
        ..file_only(&path)
    };
    let config = load(&sources).unwrap().config;
    assert_eq!(config.streams.max_message_bytes, 1_048_576);

    // ... and one lowered there rejects the file's value, naming the file.
    let path = write(&dir, "[streams]\nmax_message_bytes = 8192\n");
    let sources = ConfigSources {
        env: env(&[("MEMSTREAM_NETWORK__MAX_FRAME_BYTES", "8192")]),
        ..file_only(&path)
    };
    let err = load(&sources).unwrap_err();
    assert_invalid(
        err,
        "streams.max_message_bytes",
        "8192",
        "between 1 and 7168",
        Origin::File(path),
    );
}

#[test]
fn partition_total_below_per_stream_limit_is_invalid() {
    let dir = TempDir::new().unwrap();
    let path = write(
        &dir,
        "[streams]\nmax_partitions_per_stream = 100\nmax_partitions_total = 99\n",
    );
    let err = load(&file_only(&path)).unwrap_err();
    assert_invalid(
        err,
        "streams.max_partitions_total",
        "99",
        "at least streams.max_partitions_per_stream (100)",
        Origin::File(path),
    );

    let sources = ConfigSources {
        env: env(&[("MEMSTREAM_STREAMS__PARTITIONS", "5000")]),
        ..ConfigSources::default()
    };
    let err = load(&sources).unwrap_err();
    assert_invalid(
        err,
        "streams.partitions",
        "5000",
        "at most streams.max_partitions_per_stream (4096)",
        Origin::Env("MEMSTREAM_STREAMS__PARTITIONS".into()),
    );
}

#[test]
fn stream_ranges_are_enforced() {
    let dir = TempDir::new().unwrap();
    let cases = [
        (
            "segment_bytes = 1048575",
            "streams.segment_bytes",
            "1048575",
        ),
        ("fsync_interval_ms = 0", "streams.fsync_interval_ms", "0"),
        (
            "index_interval_bytes = 63",
            "streams.index_interval_bytes",
            "63",
        ),
        ("max_streams = 0", "streams.max_streams", "0"),
        (
            "fetch_max_wait_ms = 600001",
            "streams.fetch_max_wait_ms",
            "600001",
        ),
        ("sync_threads = 65", "streams.sync_threads", "65"),
        (
            "retention_check_ms = 99",
            "streams.retention_check_ms",
            "99",
        ),
    ];
    for (line, key, value) in cases {
        let path = write(&dir, &format!("[streams]\n{line}\n"));
        let err = load(&file_only(&path)).unwrap_err();
        assert_invalid(err, key, value, "must be between", Origin::File(path));
    }
}

#[test]
fn memory_streams_without_a_retention_limit_are_invalid() {
    let dir = TempDir::new().unwrap();
    let path = write(
        &dir,
        "[streams]\nstorage = \"memory\"\nretention_bytes = 0\n",
    );
    let err = load(&file_only(&path)).unwrap_err();
    assert_invalid(
        err,
        "streams.retention_bytes",
        "0",
        "streams.storage is `memory`",
        Origin::File(path.clone()),
    );
    let path = write(&dir, "[streams]\nstorage = \"disk\"\nretention_bytes = 0\n");
    assert_eq!(
        load(&file_only(&path))
            .unwrap()
            .config
            .streams
            .retention_bytes,
        0
    );
}

#[test]
fn toml_syntax_error_has_line_and_column() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "[network]\nmax_connections = \n");
    let err = load(&file_only(&path)).unwrap_err();
    let ConfigError::Parse { path: p, message } = &err else {
        panic!("expected Parse, got {err:?}");
    };
    assert_eq!(*p, path);
    assert!(message.contains("line 2"), "{message}");
    assert!(message.contains("column"), "{message}");
}

#[test]
fn missing_file_is_a_read_error() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("absent.toml");
    let err = check_file(&path).unwrap_err();
    assert!(
        matches!(err, ConfigError::Read { path: ref p, .. } if *p == path),
        "{err:?}"
    );
}

#[test]
fn check_file_reads_only_file_and_defaults() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "[admin]\nmax_connections = 8\n");
    let config = check_file(&path).unwrap();
    assert_eq!(config.admin.max_connections, 8);
    assert_eq!(config.network, Config::default().network);

    let path = write(&dir, "[admin]\nmax_connections = 0\n");
    assert!(matches!(
        check_file(&path),
        Err(ConfigError::Invalid { .. })
    ));
}

// ----- render -----

#[test]
fn render_shows_origins_and_round_trips() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "[log]\nlevel = \"debug\"\n");
    let sources = ConfigSources {
        env: env(&[("MEMSTREAM_NETWORK__MAX_CONNECTIONS", "5000")]),
        overrides: vec![flag("server.listen", "127.0.0.1:9001", "--listen")],
        ..file_only(&path)
    };
    let loaded = load(&sources).unwrap();
    let text = loaded.render();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.contains(&"max_connections = 5000  # env MEMSTREAM_NETWORK__MAX_CONNECTIONS"));
    assert!(lines.contains(&"listen = \"127.0.0.1:9001\"  # flag --listen"));
    assert!(lines.contains(&format!("level = \"debug\"  # file {}", path.display()).as_str()));
    assert!(lines.contains(&"listen = \"127.0.0.1:7879\"  # default"));
    for section in ["[server]", "[network]", "[streams]", "[admin]", "[log]"] {
        assert!(lines.contains(&section), "{text}");
    }
    let parsed: Config = toml::from_str(&text).expect("render output is TOML");
    assert_eq!(parsed, loaded.config);
}

// ----- docs stay in step -----

fn docs() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/configuration.md");
    std::fs::read_to_string(path).expect("read docs/configuration.md")
}

#[test]
fn default_toml_matches_defaults_and_docs() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, DEFAULT_TOML);
    let loaded = load(&file_only(&path)).unwrap();
    assert_eq!(loaded.config, Config::default());
    assert!(
        loaded
            .origins
            .values()
            .all(|o| *o == Origin::File(path.clone())),
        "default.toml must set every key"
    );
    let block = format!("```toml\n{DEFAULT_TOML}```");
    assert!(
        docs().contains(&block),
        "docs/configuration.md must contain crates/broker/src/config/default.toml verbatim"
    );
}

#[test]
fn docs_table_lists_every_key_with_how_it_applies() {
    let docs = docs();
    let keys = load(&ConfigSources::default()).unwrap().origins;
    for key in keys.keys() {
        let prefix = format!("| `{key}` |");
        let row = docs
            .lines()
            .find(|line| line.starts_with(&prefix))
            .unwrap_or_else(|| panic!("docs/configuration.md has no table row for {key}"));
        let applies = if is_reloadable(key) {
            "| live |"
        } else {
            "| restart |"
        };
        assert!(
            row.contains(applies),
            "row for {key} should say {applies}: {row}"
        );
    }
}

// ----- reload -----

#[test]
fn reload_applies_a_live_key() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "[network]\nmax_connections = 100\n");
    let handle = handle_for(&path);
    write(&dir, "[network]\nmax_connections = 200\n");
    let report = handle.reload().unwrap();
    assert_eq!(
        report,
        ReloadReport {
            applied: vec!["network.max_connections".into()],
            needs_restart: vec![],
        }
    );
    assert_eq!(handle.load().network.max_connections, 200);
}

#[test]
fn reload_keeps_a_restart_key_and_reports_it() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "[server]\nlisten = \"127.0.0.1:7000\"\n");
    let handle = handle_for(&path);
    write(
        &dir,
        "[server]\nlisten = \"127.0.0.1:7001\"\n[network]\nmax_connections = 200\n",
    );
    let report = handle.reload().unwrap();
    assert_eq!(report.applied, ["network.max_connections"]);
    assert_eq!(report.needs_restart, ["server.listen"]);
    let running = handle.load();
    assert_eq!(running.server.listen, "127.0.0.1:7000");
    assert_eq!(running.network.max_connections, 200);
}

#[test]
fn reload_applies_stream_defaults_but_not_sync_threads() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "");
    let handle = handle_for(&path);
    write(
        &dir,
        "[streams]\nstorage = \"memory\"\nmax_streams = 10\nsync_threads = 8\n",
    );
    let report = handle.reload().unwrap();
    assert_eq!(report.applied, ["streams.storage", "streams.max_streams"]);
    assert_eq!(report.needs_restart, ["streams.sync_threads"]);
    let running = handle.load();
    assert_eq!(running.streams.storage, "memory");
    assert_eq!(running.streams.max_streams, 10);
    assert_eq!(running.streams.sync_threads, 2);
}

#[test]
fn reload_that_shrinks_the_frame_below_the_message_limit_is_rejected() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "");
    let handle = handle_for(&path);
    let before = handle.load();
    write(&dir, "[network]\nmax_frame_bytes = 524288\n");
    let err = handle.reload().unwrap_err();
    assert!(
        matches!(err, ConfigError::Invalid { ref key, .. } if key == "streams.max_message_bytes"),
        "{err:?}"
    );
    assert_eq!(handle.load(), before);
}

#[test]
fn reload_of_only_restart_keys_does_not_notify() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "");
    let handle = handle_for(&path);
    let rx = handle.subscribe();
    write(&dir, "[log]\nformat = \"json\"\n");
    let report = handle.reload().unwrap();
    assert_eq!(report.needs_restart, ["log.format"]);
    assert!(report.applied.is_empty());
    assert!(!rx.has_changed().unwrap());
    assert_eq!(handle.load().log.format, "text");
}

#[test]
fn invalid_reload_keeps_the_running_config() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "[network]\nmax_connections = 100\n");
    let handle = handle_for(&path);
    let rx = handle.subscribe();
    let before = handle.load();

    write(&dir, "[network]\nmax_connections = 0\n");
    assert!(matches!(handle.reload(), Err(ConfigError::Invalid { .. })));
    write(&dir, "[network]\nmax_connections = \n");
    assert!(matches!(handle.reload(), Err(ConfigError::Parse { .. })));
    write(&dir, "[network]\nmax_conections = 5\n");
    assert!(matches!(
        handle.reload(),
        Err(ConfigError::UnknownKey { .. })
    ));
    std::fs::remove_file(&path).unwrap();
    assert!(matches!(handle.reload(), Err(ConfigError::Read { .. })));

    assert_eq!(handle.load(), before);
    assert!(!rx.has_changed().unwrap());
}

#[test]
fn reload_keeps_env_and_flags_from_startup() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "[network]\nmax_connections = 100\n");
    let sources = ConfigSources {
        env: env(&[("MEMSTREAM_NETWORK__MAX_CONNECTIONS", "5000")]),
        ..file_only(&path)
    };
    let handle = ConfigHandle::new(load(&sources).unwrap(), sources);
    write(
        &dir,
        "[network]\nmax_connections = 200\nidle_timeout_ms = 1000\n",
    );
    let report = handle.reload().unwrap();
    assert_eq!(report.applied, ["network.idle_timeout_ms"]);
    assert_eq!(handle.load().network.max_connections, 5000);
}

#[tokio::test]
async fn subscribe_sees_an_applied_reload() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "");
    let handle = handle_for(&path);
    let mut rx = handle.subscribe();
    write(&dir, "[network]\nidle_timeout_ms = 1000\n");
    handle.reload().unwrap();
    timeout(WAIT, rx.changed()).await.unwrap().unwrap();
    assert_eq!(rx.borrow_and_update().network.idle_timeout_ms, 1000);
}

#[test]
fn fixed_handle_has_nothing_to_reload() {
    let mut config = Config::default();
    config.network.max_connections = 7;
    let handle = ConfigHandle::fixed(config.clone());
    assert_eq!(handle.reload().unwrap(), ReloadReport::default());
    assert_eq!(*handle.load(), config);
    assert!(handle.sources().file.is_none());
}

// ----- watch_file -----

/// Spawns `watch_file` and returns the sender that stops it.
fn spawn_watch(handle: &ConfigHandle) -> (oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(watch_file(handle.clone(), async move {
        let _ = stopped.await;
    }));
    (stop, task)
}

#[tokio::test(start_paused = true)]
async fn watch_file_picks_up_a_changed_file() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "[network]\nmax_connections = 100\n");
    let handle = handle_for(&path);
    let mut rx = handle.subscribe();

    // Changed before the watcher starts: its first round catches up.
    write(&dir, "[network]\nmax_connections = 200\n");
    let (stop, task) = spawn_watch(&handle);
    timeout(WAIT, rx.changed()).await.unwrap().unwrap();
    assert_eq!(rx.borrow_and_update().network.max_connections, 200);

    // Changed while it runs: a later poll catches it.
    write(&dir, "[network]\nmax_connections = 300\n");
    timeout(WAIT, rx.changed()).await.unwrap().unwrap();
    assert_eq!(rx.borrow_and_update().network.max_connections, 300);
    assert_eq!(handle.load().network.max_connections, 300);

    stop.send(()).unwrap();
    timeout(WAIT, task).await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn watch_file_survives_a_missing_and_an_invalid_file() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "[network]\nmax_connections = 100\n");
    let handle = handle_for(&path);
    let mut rx = handle.subscribe();
    let (stop, task) = spawn_watch(&handle);

    std::fs::remove_file(&path).unwrap();
    tokio::time::sleep(Duration::from_secs(5)).await; // paused clock: five polls
    write(&dir, "[network]\nmax_connections = 0\n");
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(!rx.has_changed().unwrap());
    assert_eq!(handle.load().network.max_connections, 100);

    write(&dir, "[network]\nmax_connections = 400\n");
    timeout(WAIT, rx.changed()).await.unwrap().unwrap();
    assert_eq!(handle.load().network.max_connections, 400);

    stop.send(()).unwrap();
    timeout(WAIT, task).await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn watch_file_polls_at_the_running_interval() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "[server]\nconfig_poll_ms = 60000\n");
    let handle = handle_for(&path);
    let mut rx = handle.subscribe();
    let (stop, task) = spawn_watch(&handle);
    // Let the first round (which sees the file as loaded) run.
    tokio::time::sleep(Duration::from_millis(1)).await;

    write(
        &dir,
        "[server]\nconfig_poll_ms = 60000\n[log]\nlevel = \"debug\"\n",
    );
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert!(
        !rx.has_changed().unwrap(),
        "polled before config_poll_ms elapsed"
    );
    timeout(Duration::from_secs(31), rx.changed())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(handle.load().log.level, "debug");

    stop.send(()).unwrap();
    timeout(WAIT, task).await.unwrap().unwrap();
}

#[tokio::test]
async fn watch_file_without_a_file_returns_on_shutdown() {
    let handle = ConfigHandle::fixed(Config::default());
    timeout(WAIT, watch_file(handle, async {})).await.unwrap();
}

#[test]
fn group_session_bounds_are_checked() {
    let env = |k: &str, v: &str| ConfigSources {
        env: vec![(k.to_owned(), v.to_owned())],
        ..ConfigSources::default()
    };
    let err = load(&env("MEMSTREAM_GROUPS__SESSION_TIMEOUT_MS_MAX", "50")).unwrap_err();
    assert!(
        err.to_string().contains("groups.session_timeout_ms_max"),
        "{err}"
    );
    let err = load(&env("MEMSTREAM_GROUPS__MAX_MEMBERS", "0")).unwrap_err();
    assert!(err.to_string().contains("groups.max_members"), "{err}");
    let ok = load(&env("MEMSTREAM_GROUPS__MAX_GROUPS", "7")).unwrap();
    assert_eq!(ok.config.groups.max_groups, 7);
}
