//! Loading: stacking the layers (defaults, file, environment, flags) key by key, recording
//! where each value came from, and printing the result with those origins.
//!
//! Each layer is checked against the schema as it is applied: an unknown key or a value of the
//! wrong type fails there, naming the key and the layer. Only the fully merged table is
//! deserialised and validated, so a rule spanning two keys sees the final values of both.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};

use super::error::ConfigError;
use super::schema::{self, Key, KEYS};
use super::validate::{validate, Violation};
use super::Config;

/// Environment variables that configure the server start with this and contain `__`.
const ENV_PREFIX: &str = "MEMSTREAM_";

/// The layer a configuration value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The built-in default.
    Default,
    /// The TOML file at this path.
    File(PathBuf),
    /// The environment variable of this name.
    Env(String),
    /// The command-line flag of this name, e.g. `--listen`.
    Flag(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("default"),
            Origin::File(path) => write!(f, "file {}", path.display()),
            Origin::Env(name) => write!(f, "env {name}"),
            Origin::Flag(flag) => write!(f, "flag {flag}"),
        }
    }
}

/// One command-line override: set `key` (`section.field`) to `value`, given by `flag`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Override {
    pub key: String,
    pub value: String,
    pub flag: String,
}

/// Everything a configuration is loaded from, captured once at startup so a reload re-reads
/// the file but sees the same environment and flags.
#[derive(Clone, Debug, Default)]
pub struct ConfigSources {
    /// The TOML file, if any. A named file that cannot be read is an error.
    pub file: Option<PathBuf>,
    /// The process environment (all of it; only `MEMSTREAM_<SECTION>__<KEY>` is read).
    pub env: Vec<(String, String)>,
    /// Command-line overrides, applied last in order.
    pub overrides: Vec<Override>,
}

/// A validated configuration and the origin of every leaf key (`section.field`).
#[derive(Clone, Debug)]
pub struct Loaded {
    pub config: Config,
    pub origins: BTreeMap<String, Origin>,
}

impl Loaded {
    /// The effective configuration as TOML, each key followed by a comment naming its origin,
    /// e.g. `max_connections = 5000  # env MEMSTREAM_NETWORK__MAX_CONNECTIONS`. The output
    /// parses back to the same [`Config`].
    pub fn render(&self) -> String {
        let table = schema::to_table(&self.config);
        let mut out = String::new();
        let mut section = "";
        for key in KEYS {
            if key.section() != section {
                if !out.is_empty() {
                    out.push('\n');
                }
                section = key.section();
                let _ = writeln!(out, "[{section}]");
            }
            let Some(value) = schema::get(&table, key) else {
                continue;
            };
            let origin = self.origins.get(key.name).unwrap_or(&Origin::Default);
            let _ = writeln!(out, "{} = {value}  # {origin}", key.field());
        }
        out
    }
}

/// Loads a configuration from `sources`: defaults, then the file, then the environment, then
/// the overrides; then validates it.
pub fn load(sources: &ConfigSources) -> Result<Loaded, ConfigError> {
    let mut layers = Layers::defaults();
    if let Some(path) = &sources.file {
        layers.apply_file(path)?;
    }
    for (name, value) in &sources.env {
        layers.apply_env(name, value)?;
    }
    for flag in &sources.overrides {
        layers.apply_override(flag)?;
    }
    layers.finish(sources.file.as_deref())
}

/// Checks a config file on its own: the file over the defaults, no environment or flags.
pub fn check_file(path: &Path) -> Result<Config, ConfigError> {
    let sources = ConfigSources {
        file: Some(path.to_owned()),
        ..ConfigSources::default()
    };
    load(&sources).map(|loaded| loaded.config)
}

/// Maps an environment variable name to a key: `MEMSTREAM_NETWORK__MAX_CONNECTIONS` is
/// `network.max_connections`, `MEMSTREAM_KAFKA__TLS__CERT_FILE` `kafka.tls.cert_file`. `None` for variables that are not configuration (no prefix, or
/// no `__` after it, like `MEMSTREAM_SERVER`).
fn env_key(name: &str) -> Option<String> {
    let rest = name.strip_prefix(ENV_PREFIX)?;
    rest.contains("__")
        .then(|| rest.replace("__", ".").to_ascii_lowercase())
}

/// The merged table so far and the origin of each key in it.
struct Layers {
    table: toml::Table,
    origins: BTreeMap<String, Origin>,
}

impl Layers {
    fn defaults() -> Layers {
        Layers {
            table: schema::to_table(&Config::default()),
            origins: KEYS
                .iter()
                .map(|key| (key.name.to_owned(), Origin::Default))
                .collect(),
        }
    }

    fn set(&mut self, key: &Key, value: toml::Value, origin: Origin) {
        schema::set(&mut self.table, key, value);
        self.origins.insert(key.name.to_owned(), origin);
    }

    fn apply_file(&mut self, path: &Path) -> Result<(), ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let file: toml::Table =
            text.parse()
                .map_err(|err: toml::de::Error| ConfigError::Parse {
                    path: path.to_owned(),
                    message: err.to_string().trim_end().to_owned(),
                })?;
        let origin = Origin::File(path.to_owned());
        for (section, value) in file {
            self.apply_section(section, value, &origin)?;
        }
        Ok(())
    }

    /// Applies one section of a file (`[network]`, or `[network.tls]` within it).
    fn apply_section(
        &mut self,
        section: String,
        value: toml::Value,
        origin: &Origin,
    ) -> Result<(), ConfigError> {
        if !schema::is_section(&section) {
            return Err(unknown(section, origin));
        }
        let toml::Value::Table(fields) = value else {
            return Err(invalid(section, &value, "expected a table", origin));
        };
        for (field, value) in fields {
            let name = format!("{section}.{field}");
            if value.is_table() && schema::is_section(&name) {
                self.apply_section(name, value, origin)?;
                continue;
            }
            let Some(key) = schema::find(&name) else {
                return Err(unknown(name, origin));
            };
            let checked = key
                .check_toml(&value)
                .map_err(|reason| invalid(name, &value, &reason, origin))?;
            self.set(key, checked, origin.clone());
        }
        Ok(())
    }

    fn apply_env(&mut self, name: &str, value: &str) -> Result<(), ConfigError> {
        let Some(key_name) = env_key(name) else {
            return Ok(());
        };
        self.apply_str(key_name, value, Origin::Env(name.to_owned()))
    }

    fn apply_override(&mut self, flag: &Override) -> Result<(), ConfigError> {
        self.apply_str(
            flag.key.clone(),
            &flag.value,
            Origin::Flag(flag.flag.clone()),
        )
    }

    fn apply_str(&mut self, name: String, raw: &str, origin: Origin) -> Result<(), ConfigError> {
        let Some(key) = schema::find(&name) else {
            return Err(ConfigError::UnknownKey { key: name, origin });
        };
        match key.parse_str(raw) {
            Ok(value) => {
                self.set(key, value, origin);
                Ok(())
            }
            Err(reason) => Err(ConfigError::Invalid {
                key: name,
                value: raw.to_owned(),
                reason,
                origin,
            }),
        }
    }

    /// Deserialises the merged table and validates it.
    fn finish(self, file: Option<&Path>) -> Result<Loaded, ConfigError> {
        let config = deserialise(self.table, file)?;
        check(&config, &self.origins)?;
        Ok(Loaded {
            config,
            origins: self.origins,
        })
    }
}

/// Turns a merged table back into a [`Config`]. Cannot fail while every layer was checked
/// against a schema that matches `Config` (a unit test keeps them equal).
pub(crate) fn deserialise(table: toml::Table, file: Option<&Path>) -> Result<Config, ConfigError> {
    table
        .try_into()
        .map_err(|err: toml::de::Error| ConfigError::Parse {
            path: file.map(Path::to_owned).unwrap_or_default(),
            message: format!("merged configuration does not match the schema: {err}"),
        })
}

/// Validates `config`, naming the origin of the offending key.
pub(crate) fn check(
    config: &Config,
    origins: &BTreeMap<String, Origin>,
) -> Result<(), ConfigError> {
    validate(config).map_err(|Violation { key, value, reason }| ConfigError::Invalid {
        key: key.to_owned(),
        value,
        reason,
        origin: origins.get(key).cloned().unwrap_or(Origin::Default),
    })
}

fn unknown(key: String, origin: &Origin) -> ConfigError {
    ConfigError::UnknownKey {
        key,
        origin: origin.clone(),
    }
}

fn invalid(key: String, value: &toml::Value, reason: &str, origin: &Origin) -> ConfigError {
    ConfigError::Invalid {
        key,
        value: schema::show(value),
        reason: reason.to_owned(),
        origin: origin.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_names_map_to_keys() {
        assert_eq!(
            env_key("MEMSTREAM_NETWORK__MAX_CONNECTIONS").as_deref(),
            Some("network.max_connections")
        );
        assert_eq!(
            env_key("MEMSTREAM_LOG__LEVEL").as_deref(),
            Some("log.level")
        );
        assert_eq!(
            env_key("MEMSTREAM_KAFKA__TLS__CERT_FILE").as_deref(),
            Some("kafka.tls.cert_file")
        );
        assert_eq!(env_key("MEMSTREAM_SERVER"), None);
        assert_eq!(env_key("MEMSTREAM_SERVER_LISTEN"), None);
        assert_eq!(env_key("PATH"), None);
        assert_eq!(env_key("memstream_log__level"), None);
    }

    #[test]
    fn origins_display() {
        assert_eq!(Origin::Default.to_string(), "default");
        assert_eq!(
            Origin::File("/etc/m.toml".into()).to_string(),
            "file /etc/m.toml"
        );
        assert_eq!(
            Origin::Env("MEMSTREAM_X__Y".into()).to_string(),
            "env MEMSTREAM_X__Y"
        );
        assert_eq!(Origin::Flag("--listen".into()).to_string(), "flag --listen");
    }

    #[test]
    fn defaults_load_with_every_origin_default() {
        let loaded = load(&ConfigSources::default()).expect("defaults load");
        assert_eq!(loaded.config, Config::default());
        assert_eq!(loaded.origins.len(), KEYS.len());
        assert!(loaded.origins.values().all(|o| *o == Origin::Default));
    }

    #[test]
    fn later_env_entries_win() {
        let sources = ConfigSources {
            env: vec![
                ("MEMSTREAM_LOG__LEVEL".into(), "debug".into()),
                ("MEMSTREAM_LOG__LEVEL".into(), "warn".into()),
            ],
            ..ConfigSources::default()
        };
        assert_eq!(load(&sources).unwrap().config.log.level, "warn");
    }

    #[test]
    fn nested_tls_sections_and_string_lists_load_from_file_env_and_flags() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.toml");
        std::fs::write(
            &path,
            "[kafka.tls]\ncert_file = \"/c.pem\"\nkey_file = \"/k.pem\"\n\n[auth]\nsuperusers = [\"admin\", \"User:ops\"]\n",
        )
        .unwrap();
        let sources = ConfigSources {
            file: Some(path.clone()),
            env: vec![
                ("MEMSTREAM_NETWORK__TLS__CERT_FILE".into(), "/n.pem".into()),
                ("MEMSTREAM_NETWORK__TLS__KEY_FILE".into(), "/nk.pem".into()),
            ],
            overrides: vec![Override {
                key: "auth.superusers".into(),
                value: "root, admin".into(),
                flag: "--superusers".into(),
            }],
        };
        let loaded = load(&sources).unwrap();
        assert_eq!(loaded.config.kafka.tls.cert_file, PathBuf::from("/c.pem"));
        assert_eq!(loaded.config.network.tls.cert_file, PathBuf::from("/n.pem"));
        assert_eq!(loaded.config.auth.superusers, ["root", "admin"]);
        assert_eq!(
            loaded.origins["kafka.tls.cert_file"],
            Origin::File(path.clone())
        );
        let text = loaded.render();
        assert!(
            text.contains("[kafka.tls]\ncert_file = \"/c.pem\""),
            "{text}"
        );
        let parsed: Config = toml::from_str(&text).expect("render output is TOML");
        assert_eq!(parsed, loaded.config);

        std::fs::write(&path, "[kafka.tls]\ncert = \"/c.pem\"\n").unwrap();
        let err = load(&ConfigSources {
            file: Some(path.clone()),
            ..ConfigSources::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("kafka.tls.cert"), "{err}");
        std::fs::write(&path, "[auth]\nsuperusers = \"admin\"\n").unwrap();
        let err = load(&ConfigSources {
            file: Some(path),
            ..ConfigSources::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("auth.superusers"), "{err}");
    }

    #[test]
    fn render_round_trips() {
        let loaded = load(&ConfigSources::default()).unwrap();
        let text = loaded.render();
        let parsed: Config = toml::from_str(&text).expect("render output is TOML");
        assert_eq!(parsed, loaded.config);
        assert!(
            text.starts_with("[server]\nlisten = \"127.0.0.1:7878\"  # default\n"),
            "{text}"
        );
    }
}
