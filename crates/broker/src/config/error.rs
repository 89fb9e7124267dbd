//! [`ConfigError`]: why a configuration was rejected, naming the key and the layer it came from.

use std::io;
use std::path::PathBuf;

use super::Origin;

/// A configuration that cannot be used. Every variant names enough to find and fix the value:
/// the file, or the key together with its [`Origin`].
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read config file {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    /// The config file is not valid TOML; `message` carries toml's line and column.
    #[error("cannot parse config file {}: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    /// A key or section that does not exist.
    #[error("{} ({origin}){}", unknown_what(key), did_you_mean(key))]
    UnknownKey { key: String, origin: Origin },
    /// A key whose value has the wrong type or is out of range.
    #[error("invalid value `{value}` for `{key}` ({origin}): {reason}")]
    Invalid {
        key: String,
        value: String,
        reason: String,
        origin: Origin,
    },
}

/// "unknown section `[x]`" when no key lives in that section, else "unknown key `x.y`".
fn unknown_what(key: &str) -> String {
    let section = key.split('.').next().unwrap_or(key);
    let known = super::schema::KEYS
        .iter()
        .any(|k| k.name.split('.').next() == Some(section));
    if known {
        format!("unknown key `{key}`")
    } else {
        format!("unknown section `[{section}]`")
    }
}

/// "; did you mean `x`?" for the closest known key or section, when one is close.
fn did_you_mean(key: &str) -> String {
    let mut candidates: Vec<&str> = super::schema::KEYS.iter().map(|k| k.name).collect();
    let sections: Vec<&str> = candidates
        .iter()
        .filter_map(|k| k.split('.').next())
        .collect();
    if !key.contains('.') {
        candidates = sections;
    }
    let best = candidates
        .into_iter()
        .map(|c| (edit_distance(key, c), c))
        .min_by_key(|(d, _)| *d);
    match best {
        Some((d, c)) if d > 0 && d <= (key.len() / 3).clamp(1, 3) => {
            format!("; did you mean `{c}`?")
        }
        _ => String::new(),
    }
}

/// Levenshtein distance, over bytes (keys are ASCII).
fn edit_distance(a: &str, b: &str) -> usize {
    let b = b.as_bytes();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.bytes().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_get_a_suggestion_and_sections_are_named_as_such() {
        let origin = Origin::Default;
        let err = |key: &str| {
            ConfigError::UnknownKey {
                key: key.into(),
                origin: origin.clone(),
            }
            .to_string()
        };
        let typo = err("network.max_conections");
        assert!(
            typo.starts_with("unknown key `network.max_conections`"),
            "{typo}"
        );
        assert!(
            typo.ends_with("did you mean `network.max_connections`?"),
            "{typo}"
        );
        let section = err("netwrok");
        assert!(
            section.starts_with("unknown section `[netwrok]`"),
            "{section}"
        );
        assert!(section.ends_with("did you mean `network`?"), "{section}");
        let far = err("bogus.thing");
        assert!(
            far.starts_with("unknown section `[bogus]`") && !far.contains("did you mean"),
            "{far}"
        );
    }
}
