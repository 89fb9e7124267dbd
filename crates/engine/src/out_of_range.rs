//! A request value outside the range the engine accepts, shared by streams and groups.

/// `setting = value` is outside `min..=max`; `why` says where the bound comes from (a config
/// key, the frame limit, the stream's storage).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{setting} = {value} is {} ({why})", range(*.min, *.max))]
pub struct OutOfRange {
    /// The setting or request field.
    pub setting: &'static str,
    /// The value asked for.
    pub value: u64,
    /// The least value accepted.
    pub min: u64,
    /// The greatest value accepted.
    pub max: u64,
    /// Where the bound comes from.
    pub why: &'static str,
}

fn range(min: u64, max: u64) -> String {
    if max == u64::MAX {
        format!("below the minimum {min}")
    } else {
        format!("outside {min}..={max}")
    }
}

impl OutOfRange {
    /// `Err` when `value` is outside `min..=max`.
    pub fn check(
        setting: &'static str,
        value: u64,
        (min, max): (u64, u64),
        why: &'static str,
    ) -> Result<(), OutOfRange> {
        if (min..=max).contains(&value) {
            Ok(())
        } else {
            Err(OutOfRange {
                setting,
                value,
                min,
                max,
                why,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_setting_the_value_and_the_range() {
        assert!(OutOfRange::check("segment_bytes", 10, (10, 20), "x").is_ok());
        let e = OutOfRange::check("segment_bytes", 9, (10, 20), "the log's bounds").unwrap_err();
        assert_eq!(e.setting, "segment_bytes");
        assert_eq!(
            e.to_string(),
            "segment_bytes = 9 is outside 10..=20 (the log's bounds)"
        );
        assert!(OutOfRange::check("n", 21, (10, 20), "x").is_err());
        let e = OutOfRange::check("retention_bytes", 0, (1, u64::MAX), "memory").unwrap_err();
        assert_eq!(
            e.to_string(),
            "retention_bytes = 0 is below the minimum 1 (memory)"
        );
    }
}
