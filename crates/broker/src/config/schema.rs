//! The schema: one row per configuration key naming its type and whether a running server can
//! apply a change to it, plus the conversion between [`Config`] and its TOML table form.
//!
//! Layers are merged as TOML tables and checked against this table before anything is
//! deserialised, which is what lets an error name the key instead of quoting serde. A unit test
//! keeps the rows equal to the fields of [`Config`].

use super::Config;

/// The type of a key's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Bool,
    Str,
    Path,
    U32,
    U64,
    /// An array of strings; from the environment or a flag, comma-separated.
    StrList,
}

/// Whether a changed value takes effect on reload or only after a restart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Apply {
    Live,
    Restart,
}

/// One configuration key.
#[derive(Debug)]
pub(crate) struct Key {
    /// `section.field`.
    pub name: &'static str,
    pub kind: Kind,
    pub apply: Apply,
}

const fn key(name: &'static str, kind: Kind, apply: Apply) -> Key {
    Key { name, kind, apply }
}

/// Every key, in the order of the [`Config`] fields (which is the order `render` prints).
pub(crate) const KEYS: &[Key] = &[
    key("server.listen", Kind::Str, Apply::Restart),
    key("server.data_dir", Kind::Path, Apply::Restart),
    key("server.node_id", Kind::U64, Apply::Restart),
    key("server.shutdown_timeout_ms", Kind::U64, Apply::Live),
    key("server.config_poll_ms", Kind::U64, Apply::Live),
    key("network.max_connections", Kind::U32, Apply::Live),
    key("network.max_frame_bytes", Kind::U32, Apply::Live),
    key("network.max_in_flight_requests", Kind::U32, Apply::Live),
    key("network.max_write_queue_bytes", Kind::U64, Apply::Live),
    key("network.handshake_timeout_ms", Kind::U64, Apply::Live),
    key("network.idle_timeout_ms", Kind::U64, Apply::Live),
    key("network.close_linger_ms", Kind::U64, Apply::Live),
    key("network.write_coalesce_bytes", Kind::U32, Apply::Live),
    key("network.max_subscriptions", Kind::U32, Apply::Live),
    key("network.tls.cert_file", Kind::Path, Apply::Restart),
    key("network.tls.key_file", Kind::Path, Apply::Restart),
    key("network.tls.client_ca_file", Kind::Path, Apply::Restart),
    key("streams.storage", Kind::Str, Apply::Live),
    key("streams.partitions", Kind::U32, Apply::Live),
    key("streams.retention_bytes", Kind::U64, Apply::Live),
    key("streams.retention_ms", Kind::U64, Apply::Live),
    key("streams.segment_bytes", Kind::U64, Apply::Live),
    key("streams.max_message_bytes", Kind::U64, Apply::Live),
    key(
        "streams.max_decompressed_batch_bytes",
        Kind::U64,
        Apply::Live,
    ),
    key(
        "streams.max_producers_per_partition",
        Kind::U32,
        Apply::Live,
    ),
    key("streams.fsync", Kind::Str, Apply::Live),
    key("streams.fsync_interval_ms", Kind::U64, Apply::Live),
    key("streams.index_interval_bytes", Kind::U32, Apply::Live),
    key("streams.max_streams", Kind::U32, Apply::Live),
    key("streams.max_partitions_per_stream", Kind::U32, Apply::Live),
    key("streams.max_partitions_total", Kind::U32, Apply::Live),
    key("streams.fetch_max_wait_ms", Kind::U64, Apply::Live),
    key("streams.sync_threads", Kind::U32, Apply::Restart),
    key("streams.retention_check_ms", Kind::U64, Apply::Live),
    key("groups.session_timeout_ms_min", Kind::U32, Apply::Live),
    key("groups.session_timeout_ms_max", Kind::U32, Apply::Live),
    key("groups.max_members", Kind::U32, Apply::Live),
    key("groups.max_groups", Kind::U32, Apply::Live),
    key("groups.session_check_ms", Kind::U64, Apply::Live),
    key("groups.offsets_retention_ms", Kind::U64, Apply::Live),
    key("groups.max_offset_metadata_bytes", Kind::U32, Apply::Live),
    key("groups.initial_rebalance_delay_ms", Kind::U32, Apply::Live),
    key("kafka.enabled", Kind::Bool, Apply::Restart),
    key("kafka.listen", Kind::Str, Apply::Restart),
    key("kafka.advertised_listener", Kind::Str, Apply::Live),
    key("kafka.auto_create_topics", Kind::Bool, Apply::Live),
    key("kafka.default_partitions", Kind::U32, Apply::Live),
    key("kafka.max_request_bytes", Kind::U32, Apply::Live),
    key("kafka.max_in_flight_requests", Kind::U32, Apply::Live),
    key("kafka.max_connections", Kind::U32, Apply::Live),
    key("kafka.tls.cert_file", Kind::Path, Apply::Restart),
    key("kafka.tls.key_file", Kind::Path, Apply::Restart),
    key("kafka.tls.client_ca_file", Kind::Path, Apply::Restart),
    key("admin.listen", Kind::Str, Apply::Restart),
    key("admin.max_connections", Kind::U32, Apply::Live),
    key("admin.request_timeout_ms", Kind::U64, Apply::Live),
    key("admin.max_request_body_bytes", Kind::U32, Apply::Restart),
    key("admin.max_page_records", Kind::U32, Apply::Live),
    key("admin.max_page_bytes", Kind::U32, Apply::Live),
    key("admin.events_interval_ms", Kind::U32, Apply::Live),
    key("admin.metrics_max_partitions", Kind::U32, Apply::Live),
    key("admin.metrics_max_groups", Kind::U32, Apply::Live),
    key("admin.tls.cert_file", Kind::Path, Apply::Restart),
    key("admin.tls.key_file", Kind::Path, Apply::Restart),
    key("admin.tls.client_ca_file", Kind::Path, Apply::Restart),
    key("auth.enabled", Kind::Bool, Apply::Restart),
    key("auth.superusers", Kind::StrList, Apply::Live),
    key("auth.allow_insecure_remote", Kind::Bool, Apply::Restart),
    key("auth.allow_plain_without_tls", Kind::Bool, Apply::Live),
    key("auth.scram_iterations", Kind::U32, Apply::Live),
    key("auth.failure_delay_ms", Kind::U64, Apply::Live),
    key("auth.max_failures_per_minute", Kind::U32, Apply::Live),
    key("auth.max_tracked_addresses", Kind::U32, Apply::Restart),
    key(
        "auth.max_unauthenticated_request_bytes",
        Kind::U32,
        Apply::Live,
    ),
    key("auth.max_users", Kind::U32, Apply::Restart),
    key("auth.max_acls", Kind::U32, Apply::Restart),
    key("auth.max_tokens", Kind::U32, Apply::Restart),
    key("auth.max_cached_decisions", Kind::U32, Apply::Restart),
    key("log.level", Kind::Str, Apply::Live),
    key("log.format", Kind::Str, Apply::Restart),
    key("log.slow_request_ms", Kind::U64, Apply::Live),
];

const NOT_UNSIGNED: &str = "expected an unsigned integer";
const NOT_BOOL: &str = "expected true or false";
const NOT_STRING: &str = "expected a string";
const NOT_STRING_LIST: &str = "expected an array of strings";

/// The row for `name` (`section.field`), if it is a key.
pub(crate) fn find(name: &str) -> Option<&'static Key> {
    KEYS.iter().find(|key| key.name == name)
}

/// Whether `section` names a section of [`Config`] (`network` or `network.tls`).
pub(crate) fn is_section(section: &str) -> bool {
    KEYS.iter().any(|key| key.section() == section)
}

impl Key {
    pub(crate) fn section(&self) -> &'static str {
        self.split().0
    }

    pub(crate) fn field(&self) -> &'static str {
        self.split().1
    }

    /// The section is everything before the last dot (`network.tls` for
    /// `network.tls.cert_file`), the field what follows it.
    fn split(&self) -> (&'static str, &'static str) {
        let name: &'static str = self.name;
        name.rsplit_once('.').unwrap_or((name, ""))
    }

    /// Checks a value taken from a TOML file against this key's type. `Err` is the reason.
    pub(crate) fn check_toml(&self, value: &toml::Value) -> Result<toml::Value, String> {
        match (self.kind, value) {
            (Kind::Bool, toml::Value::Boolean(_)) => Ok(value.clone()),
            (Kind::Bool, _) => Err(NOT_BOOL.to_owned()),
            (Kind::Str | Kind::Path, toml::Value::String(_)) => Ok(value.clone()),
            (Kind::Str | Kind::Path, _) => Err(NOT_STRING.to_owned()),
            (Kind::U32 | Kind::U64, toml::Value::Integer(n)) => match u64::try_from(*n) {
                Ok(n) => self.check_unsigned(n),
                Err(_) => Err(NOT_UNSIGNED.to_owned()),
            },
            (Kind::U32 | Kind::U64, _) => Err(NOT_UNSIGNED.to_owned()),
            (Kind::StrList, toml::Value::Array(items)) if items.iter().all(|v| v.is_str()) => {
                Ok(value.clone())
            }
            (Kind::StrList, _) => Err(NOT_STRING_LIST.to_owned()),
        }
    }

    /// Converts a string from the environment or a flag to this key's type. `Err` is the reason.
    pub(crate) fn parse_str(&self, raw: &str) -> Result<toml::Value, String> {
        match self.kind {
            Kind::Bool => match raw {
                "true" => Ok(toml::Value::Boolean(true)),
                "false" => Ok(toml::Value::Boolean(false)),
                _ => Err(NOT_BOOL.to_owned()),
            },
            Kind::Str | Kind::Path => Ok(toml::Value::String(raw.to_owned())),
            Kind::StrList => Ok(toml::Value::Array(
                raw.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| toml::Value::String(s.to_owned()))
                    .collect(),
            )),
            Kind::U32 | Kind::U64 => match raw.parse::<u64>() {
                Ok(n) => self.check_unsigned(n),
                Err(err) if *err.kind() == std::num::IntErrorKind::PosOverflow => {
                    Err(self.out_of_range())
                }
                Err(_) => Err(NOT_UNSIGNED.to_owned()),
            },
        }
    }

    /// An unsigned value must fit the field and, being stored as TOML, an `i64`.
    fn check_unsigned(&self, n: u64) -> Result<toml::Value, String> {
        let max = self.max_unsigned();
        match i64::try_from(n) {
            Ok(stored) if n <= max => Ok(toml::Value::Integer(stored)),
            _ => Err(self.out_of_range()),
        }
    }

    fn max_unsigned(&self) -> u64 {
        match self.kind {
            Kind::U32 => u64::from(u32::MAX),
            _ => i64::MAX as u64,
        }
    }

    fn out_of_range(&self) -> String {
        format!(
            "out of range: an unsigned integer of at most {}",
            self.max_unsigned()
        )
    }
}

/// A TOML value as an error message shows it: strings bare, everything else as TOML.
pub(crate) fn show(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `config` as a table of sections. Cannot fail for a config built by [`super::load`], whose
/// strings and paths are UTF-8 and whose integers fit an `i64`; a hand-built config breaking
/// either gives an empty table.
pub(crate) fn to_table(config: &Config) -> toml::Table {
    toml::Table::try_from(config).unwrap_or_default()
}

/// The table of `section` (a dotted path) in `table`.
fn section<'t>(table: &'t toml::Table, section: &str) -> Option<&'t toml::Table> {
    section
        .split('.')
        .try_fold(table, |t, part| t.get(part)?.as_table())
}

/// The value of `key` in a table made by [`to_table`] or by merging layers onto it.
pub(crate) fn get<'t>(table: &'t toml::Table, key: &Key) -> Option<&'t toml::Value> {
    section(table, key.section())?.get(key.field())
}

/// Sets the value of `key` in a table made by [`to_table`].
pub(crate) fn set(table: &mut toml::Table, key: &Key, value: toml::Value) {
    let mut t = table;
    for part in key.section().split('.') {
        match t.get_mut(part) {
            Some(toml::Value::Table(inner)) => t = inner,
            _ => return,
        }
    }
    t.insert(key.field().to_owned(), value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_exactly_the_config_fields() {
        fn leaves(prefix: &str, table: &toml::Table, out: &mut Vec<String>) {
            for (name, value) in table {
                let path = format!("{prefix}{name}");
                match value {
                    toml::Value::Table(inner) => leaves(&format!("{path}."), inner, out),
                    _ => out.push(path),
                }
            }
        }
        let table = to_table(&Config::default());
        let mut fields = Vec::new();
        for (section, value) in &table {
            let inner = value.as_table().expect("section is a table");
            leaves(&format!("{section}."), inner, &mut fields);
        }
        let mut keys: Vec<String> = KEYS.iter().map(|k| k.name.to_owned()).collect();
        fields.sort();
        keys.sort();
        assert_eq!(keys, fields);
    }

    #[test]
    fn key_kinds_match_the_default_values() {
        let table = to_table(&Config::default());
        for key in KEYS {
            let value = get(&table, key).expect("key present");
            assert!(
                key.check_toml(value).is_ok(),
                "{} has kind {:?}",
                key.name,
                key.kind
            );
        }
    }

    #[test]
    fn parse_str_converts_to_the_key_type() {
        let n = find("network.max_connections").unwrap();
        assert_eq!(n.parse_str("5000"), Ok(toml::Value::Integer(5000)));
        assert_eq!(n.parse_str("abc"), Err(NOT_UNSIGNED.to_owned()));
        assert_eq!(n.parse_str("-1"), Err(NOT_UNSIGNED.to_owned()));
        assert_eq!(n.parse_str(""), Err(NOT_UNSIGNED.to_owned()));
        assert!(n
            .parse_str("4294967296")
            .unwrap_err()
            .contains("4294967295"));
        assert_eq!(
            n.parse_str("4294967295"),
            Ok(toml::Value::Integer(4294967295))
        );

        let wide = find("server.node_id").unwrap();
        assert!(wide.parse_str("9223372036854775808").is_err());
        assert!(wide.parse_str("99999999999999999999").is_err());
        assert!(wide.parse_str("9223372036854775807").is_ok());

        let b = find("kafka.enabled").unwrap();
        assert_eq!(b.parse_str("false"), Ok(toml::Value::Boolean(false)));
        assert_eq!(b.parse_str("yes"), Err(NOT_BOOL.to_owned()));
        assert_eq!(
            b.check_toml(&toml::Value::Integer(1)),
            Err(NOT_BOOL.to_owned())
        );

        let s = find("server.listen").unwrap();
        assert_eq!(
            s.parse_str("0.0.0.0:1"),
            Ok(toml::Value::String("0.0.0.0:1".into()))
        );
    }

    #[test]
    fn check_toml_rejects_wrong_types() {
        let n = find("network.max_connections").unwrap();
        assert!(n.check_toml(&toml::Value::String("many".into())).is_err());
        assert!(n.check_toml(&toml::Value::Float(5.0)).is_err());
        assert!(n.check_toml(&toml::Value::Integer(-1)).is_err());
        let s = find("log.level").unwrap();
        assert_eq!(
            s.check_toml(&toml::Value::Integer(1)),
            Err(NOT_STRING.to_owned())
        );
    }
}
