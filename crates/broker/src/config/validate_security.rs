//! The rules of the `[auth]` section and of each listener's `tls` section, and the one rule
//! relating them to the listen addresses: security off on a non-loopback address needs
//! `auth.allow_insecure_remote = true`.

use memstream_net::TlsConfig;

use super::validate::{range, violation, Violation};
use super::Config;

/// Fewest PBKDF2 iterations accepted (RFC 7677's minimum).
pub(crate) const MIN_SCRAM_ITERATIONS: u64 = 4096;
/// Most PBKDF2 iterations accepted: about a second of one core per login.
pub(crate) const MAX_SCRAM_ITERATIONS: u64 = 1_000_000;

/// The keys of one listener's TLS section.
pub(crate) struct TlsKeys {
    pub cert_file: &'static str,
    pub key_file: &'static str,
    pub client_ca_file: &'static str,
}

pub(crate) const NETWORK_TLS: TlsKeys = TlsKeys {
    cert_file: "network.tls.cert_file",
    key_file: "network.tls.key_file",
    client_ca_file: "network.tls.client_ca_file",
};
pub(crate) const KAFKA_TLS: TlsKeys = TlsKeys {
    cert_file: "kafka.tls.cert_file",
    key_file: "kafka.tls.key_file",
    client_ca_file: "kafka.tls.client_ca_file",
};
pub(crate) const ADMIN_TLS: TlsKeys = TlsKeys {
    cert_file: "admin.tls.cert_file",
    key_file: "admin.tls.key_file",
    client_ca_file: "admin.tls.client_ca_file",
};

/// A TLS section is off (no files) or has both a certificate and a key; a client CA needs
/// TLS. Whether the files hold what they should is checked when they are loaded.
pub(crate) fn tls(keys: &TlsKeys, tls: &TlsConfig) -> Result<(), Violation> {
    let set = |p: &std::path::Path| !p.as_os_str().is_empty();
    let shown = |p: &std::path::Path| p.display().to_string();
    if set(&tls.cert_file) && !set(&tls.key_file) {
        return Err(violation(
            keys.key_file,
            "",
            &format!("must be set when {} is set", keys.cert_file),
        ));
    }
    if !set(&tls.cert_file) && set(&tls.key_file) {
        return Err(violation(
            keys.cert_file,
            "",
            &format!("must be set when {} is set", keys.key_file),
        ));
    }
    if !set(&tls.cert_file) && set(&tls.client_ca_file) {
        return Err(violation(
            keys.client_ca_file,
            &shown(&tls.client_ca_file),
            &format!("needs TLS: set {} and {}", keys.cert_file, keys.key_file),
        ));
    }
    Ok(())
}

/// The `[auth]` rules, and no open listener on the network without consent.
pub(crate) fn auth(config: &Config) -> Result<(), Violation> {
    let auth = &config.auth;
    for name in &auth.superusers {
        let bare = name.strip_prefix("User:").unwrap_or(name);
        if memstream_auth::principal::check_user_name(bare).is_err() {
            return Err(violation(
                "auth.superusers",
                name,
                "expected user names (`admin` or `User:admin`)",
            ));
        }
    }
    range(
        "auth.scram_iterations",
        auth.scram_iterations.into(),
        MIN_SCRAM_ITERATIONS,
        MAX_SCRAM_ITERATIONS,
    )?;
    range("auth.failure_delay_ms", auth.failure_delay_ms, 0, 60_000)?;
    range(
        "auth.max_failures_per_minute",
        auth.max_failures_per_minute.into(),
        1,
        1_000_000,
    )?;
    range(
        "auth.max_tracked_addresses",
        auth.max_tracked_addresses.into(),
        1,
        10_000_000,
    )?;
    range(
        "auth.max_unauthenticated_request_bytes",
        auth.max_unauthenticated_request_bytes.into(),
        1024,
        1 << 20,
    )?;
    range("auth.max_users", auth.max_users.into(), 1, 10_000_000)?;
    range("auth.max_acls", auth.max_acls.into(), 1, 10_000_000)?;
    range("auth.max_tokens", auth.max_tokens.into(), 1, 1_000_000)?;
    range(
        "auth.max_cached_decisions",
        auth.max_cached_decisions.into(),
        1,
        1_000_000,
    )?;
    if auth.enabled || auth.allow_insecure_remote {
        return Ok(());
    }
    let mut listeners = vec![
        ("server.listen", &config.server.listen),
        ("admin.listen", &config.admin.listen),
    ];
    if config.kafka.enabled {
        listeners.push(("kafka.listen", &config.kafka.listen));
    }
    for (key, addr) in listeners {
        let open = addr
            .parse::<std::net::SocketAddr>()
            .is_ok_and(|a| !a.ip().is_loopback());
        if open {
            return Err(violation(
                key,
                addr,
                "is not a loopback address and security is off (auth.enabled = false): anyone \
                 who can reach it could read, write and delete every stream. Set auth.enabled = \
                 true, or auth.allow_insecure_remote = true to run without security anyway",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::validate::validate;
    use super::*;

    fn key_of(config: &Config) -> Option<&'static str> {
        validate(config).err().map(|v| v.key)
    }

    #[test]
    fn tls_needs_a_certificate_and_its_key() {
        let mut c = Config::default();
        c.kafka.tls.cert_file = "/c.pem".into();
        assert_eq!(key_of(&c), Some("kafka.tls.key_file"));
        c.kafka.tls.key_file = "/k.pem".into();
        assert_eq!(key_of(&c), None);
        let mut c = Config::default();
        c.network.tls.key_file = "/k.pem".into();
        assert_eq!(key_of(&c), Some("network.tls.cert_file"));
        let mut c = Config::default();
        c.admin.tls.client_ca_file = "/ca.pem".into();
        assert_eq!(key_of(&c), Some("admin.tls.client_ca_file"));
    }

    #[test]
    fn open_listeners_need_security_or_consent() {
        for set in [
            |c: &mut Config| c.server.listen = "0.0.0.0:7878".into(),
            |c: &mut Config| c.kafka.listen = "10.1.2.3:9092".into(),
            |c: &mut Config| c.admin.listen = "[::]:7879".into(),
        ] {
            let mut c = Config::default();
            set(&mut c);
            let v = validate(&c).unwrap_err();
            assert!(
                v.reason.contains("auth.allow_insecure_remote"),
                "{}",
                v.reason
            );
            c.auth.allow_insecure_remote = true;
            assert_eq!(key_of(&c), None);
            c.auth.allow_insecure_remote = false;
            c.auth.enabled = true;
            assert_eq!(key_of(&c), None);
        }
        let mut c = Config::default();
        c.kafka.enabled = false;
        c.kafka.listen = "0.0.0.0:9092".into();
        assert_eq!(key_of(&c), None, "a disabled listener is not open");
    }

    type Tweak = fn(&mut Config);

    #[test]
    fn auth_ranges() {
        let cases: [(Tweak, &str); 5] = [
            (|c| c.auth.scram_iterations = 4095, "auth.scram_iterations"),
            (
                |c| c.auth.scram_iterations = 1_000_001,
                "auth.scram_iterations",
            ),
            (
                |c| c.auth.failure_delay_ms = 60_001,
                "auth.failure_delay_ms",
            ),
            (|c| c.auth.max_users = 0, "auth.max_users"),
            (
                |c| c.auth.superusers = vec!["two words".into()],
                "auth.superusers",
            ),
        ];
        for (set, key) in cases {
            let mut c = Config::default();
            set(&mut c);
            assert_eq!(key_of(&c), Some(key));
        }
    }
}
