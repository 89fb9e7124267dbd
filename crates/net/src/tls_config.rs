//! A listener's `tls` configuration section (`[network.tls]`, `[kafka.tls]`, `[admin.tls]`).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// TLS for one listener: on when `cert_file` is set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate chain, the server's first; empty: no TLS. Reloaded when it changes.
    pub cert_file: PathBuf,
    /// PEM private key of the first certificate (PKCS#8, PKCS#1 or SEC1).
    pub key_file: PathBuf,
    /// PEM CA certificates; set: clients must present a certificate they signed (mutual TLS).
    pub client_ca_file: PathBuf,
}

impl TlsConfig {
    /// Whether the listener speaks TLS.
    pub fn enabled(&self) -> bool {
        !self.cert_file.as_os_str().is_empty()
    }

    /// Whether clients must present a certificate.
    pub fn mutual(&self) -> bool {
        !self.client_ca_file.as_os_str().is_empty()
    }
}
