//! Stream name patterns for subscriptions, NATS-style: tokens separated by dots, `*` matches
//! exactly one token, `>` (last token only) matches one or more tokens.
//!
//! `orders.*` matches `orders.eu` but not `orders` or `orders.eu.paid`; `orders.>` matches
//! `orders.eu` and `orders.eu.paid` but not `orders`. A pattern without wildcards matches only
//! the stream of that name.

use crate::STREAM_NAME_BYTES_MAX;

/// A parsed pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    text: String,
    tokens: Vec<Token>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Literal(String),
    One,
    Rest,
}

impl Pattern {
    /// Parses `text`; the error says which rule it breaks.
    pub fn parse(text: &str) -> Result<Pattern, &'static str> {
        if text.is_empty() || text.len() > STREAM_NAME_BYTES_MAX {
            return Err("must be 1 to 255 bytes long");
        }
        let parts: Vec<&str> = text.split('.').collect();
        let mut tokens = Vec::with_capacity(parts.len());
        for (i, part) in parts.iter().enumerate() {
            tokens.push(match *part {
                "" => return Err("dots must separate non-empty tokens"),
                "*" => Token::One,
                ">" if i.saturating_add(1) == parts.len() => Token::Rest,
                ">" => return Err("`>` may only be the last token"),
                literal => {
                    if !literal
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
                    {
                        return Err(
                            "tokens may contain only A-Z, a-z, 0-9, '_' and '-', or be `*` or `>`",
                        );
                    }
                    Token::Literal(literal.to_owned())
                }
            });
        }
        Ok(Pattern {
            text: text.to_owned(),
            tokens,
        })
    }

    /// True when the pattern has a wildcard (it may match streams created later).
    pub fn is_wildcard(&self) -> bool {
        self.tokens.iter().any(|t| !matches!(t, Token::Literal(_)))
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether stream `name` matches.
    pub fn matches(&self, name: &str) -> bool {
        let mut names = name.split('.');
        for token in &self.tokens {
            match token {
                Token::Rest => return names.next().is_some(),
                Token::One => {
                    if names.next().is_none() {
                        return false;
                    }
                }
                Token::Literal(lit) => {
                    if names.next() != Some(lit.as_str()) {
                        return false;
                    }
                }
            }
        }
        names.next().is_none()
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        let one = Pattern::parse("orders.*").unwrap();
        assert!(one.matches("orders.eu") && one.is_wildcard());
        assert!(
            !one.matches("orders") && !one.matches("orders.eu.paid") && !one.matches("order.eu")
        );
        let rest = Pattern::parse("orders.>").unwrap();
        assert!(rest.matches("orders.eu") && rest.matches("orders.eu.paid"));
        assert!(!rest.matches("orders") && !rest.matches("other.eu"));
        let mid = Pattern::parse("*.eu.>").unwrap();
        assert!(mid.matches("orders.eu.paid") && !mid.matches("orders.us.paid"));
        let exact = Pattern::parse("orders").unwrap();
        assert!(exact.matches("orders") && !exact.matches("orders.eu") && !exact.is_wildcard());
        let all = Pattern::parse(">").unwrap();
        assert!(all.matches("a") && all.matches("a.b.c"));
    }

    #[test]
    fn bad_patterns() {
        for bad in ["", "a..b", "a.>.b", ".a", "a b", "a*.b", &"x".repeat(256)] {
            assert!(Pattern::parse(bad).is_err(), "{bad}");
        }
    }
}
