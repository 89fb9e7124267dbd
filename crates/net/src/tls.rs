//! TLS for the listeners (server side) and the client, on rustls with the ring provider,
//! TLS 1.2 and 1.3 only.
//!
//! A listener's [`ServerTls`] holds its current rustls configuration behind an
//! [`ArcSwap`]: a handshake takes the configuration of the moment, so [`ServerTls::reload`]
//! (on SIGHUP, or when [`ServerTls::reload_if_changed`] sees the files change) swaps in new
//! certificates without touching established connections. A new certificate that does not
//! load (a bad file, a key that does not match) is refused with a logged error and the old
//! one is kept.
//!
//! Mutual TLS: with a `client_ca_file`, clients must present a certificate that CA signed;
//! [`ServerTls::accept`] returns the name it maps to a principal: the subject's first common
//! name, else its first DNS or e-mail subject alternative name.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::TlsConfig;

pub use tokio_rustls::client::TlsStream as ClientTlsStream;
pub use tokio_rustls::server::TlsStream as ServerTlsStream;

/// The first byte of every TLS record that starts a handshake.
pub const HANDSHAKE_RECORD: u8 = 0x16;

/// The read buffer under each TLS session. rustls reads at most 4 KiB per call (its
/// deframer's read size); reading the socket through a 64 KiB buffer makes that one system
/// call per 64 KiB instead of one per 4 KiB.
pub const SOCKET_READ_BUFFER_BYTES: usize = 64 << 10;

/// A TCP socket read through [`SOCKET_READ_BUFFER_BYTES`] (writes go straight through).
pub type BufferedTcp = tokio::io::BufReader<TcpStream>;

/// Why a TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read or parsed.
    #[error("{key} {}: {detail}", path.display())]
    File {
        /// The config key naming the file.
        key: String,
        /// The file.
        path: PathBuf,
        /// What went wrong.
        detail: String,
    },
    /// rustls refused the combination (a key that does not match the certificate, ...).
    #[error("{prefix}: {detail}")]
    Config {
        /// The section (`network.tls`, ...).
        prefix: String,
        /// rustls's reason.
        detail: String,
    },
}

/// ring's cipher suites with AES-128-GCM first (rustls lists AES-256-GCM first). Both are
/// AEADs every TLS 1.3 peer has; AES-128 runs 10 rounds to AES-256's 14, which on a
/// broker that encrypts every byte it serves is a measurable share of the CPU
/// (BENCHMARKS.md). Go's TLS stack makes the same choice on hardware with AES instructions.
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    let mut provider = rustls::crypto::ring::default_provider();
    provider
        .cipher_suites
        .sort_by_key(|s| !is_aes_128_gcm(s.suite()));
    Arc::new(provider)
}

fn is_aes_128_gcm(suite: rustls::CipherSuite) -> bool {
    matches!(
        suite,
        rustls::CipherSuite::TLS13_AES_128_GCM_SHA256
            | rustls::CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
            | rustls::CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
    )
}

const VERSIONS: &[&rustls::SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];

fn file_error(key: &str, path: &Path, detail: impl std::fmt::Display) -> TlsError {
    TlsError::File {
        key: key.to_owned(),
        path: path.to_path_buf(),
        detail: detail.to_string(),
    }
}

/// Every certificate in a PEM file (at least one).
pub fn load_certs(key: &str, path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| file_error(key, path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_error(key, path, e))?;
    if certs.is_empty() {
        return Err(file_error(key, path, "no PEM certificate in the file"));
    }
    Ok(certs)
}

/// The private key in a PEM file (PKCS#8, PKCS#1 or SEC1).
pub fn load_key(key: &str, path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| file_error(key, path, e))
}

fn roots(key: &str, path: &Path) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    for cert in load_certs(key, path)? {
        roots
            .add(cert)
            .map_err(|e| file_error(key, path, format!("not a usable CA certificate: {e}")))?;
    }
    Ok(roots)
}

/// The server configuration for `cfg` (whose keys are under `prefix`).
pub fn server_config(prefix: &str, cfg: &TlsConfig) -> Result<ServerConfig, TlsError> {
    let certs = load_certs(&format!("{prefix}.cert_file"), &cfg.cert_file)?;
    let key = load_key(&format!("{prefix}.key_file"), &cfg.key_file)?;
    let invalid = |e: rustls::Error| TlsError::Config {
        prefix: prefix.to_owned(),
        detail: e.to_string(),
    };
    let builder = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(VERSIONS)
        .map_err(invalid)?;
    let builder = if cfg.mutual() {
        let ca_key = format!("{prefix}.client_ca_file");
        let roots = Arc::new(roots(&ca_key, &cfg.client_ca_file)?);
        let verifier = WebPkiClientVerifier::builder_with_provider(roots, provider())
            .build()
            .map_err(|e| TlsError::Config {
                prefix: prefix.to_owned(),
                detail: e.to_string(),
            })?;
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let mut config = builder.with_single_cert(certs, key).map_err(invalid)?;
    // The server's preference (AES-128-GCM first) over the client's: OpenSSL-based clients
    // (librdkafka, kafka-python) list AES-256-GCM first.
    config.ignore_client_order = true;
    Ok(config)
}

/// Modification time and length of a file, to notice a change.
type Stamp = Option<(SystemTime, u64)>;

fn stamp(path: &Path) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// One listener's TLS: the configuration in force, reloadable.
pub struct ServerTls {
    prefix: &'static str,
    files: TlsConfig,
    current: ArcSwap<ServerConfig>,
    stamps: Mutex<[Stamp; 3]>,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTls")
            .field("prefix", &self.prefix)
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

/// Why an accepted connection did not become a TLS session.
#[derive(Debug, thiserror::Error)]
pub enum AcceptError {
    /// The client spoke something else (its first byte is not a TLS handshake record).
    #[error("the client is not speaking TLS (first byte {0:#04x}); this listener requires TLS")]
    NotTls(u8),
    /// The handshake failed.
    #[error("TLS handshake failed: {0}")]
    Handshake(std::io::Error),
    /// The client closed before its first byte.
    #[error("the client closed before the handshake")]
    Closed,
}

impl ServerTls {
    /// Loads the listener's certificate and key (`prefix` names its section in errors and
    /// logs, e.g. `kafka.tls`).
    pub fn load(prefix: &'static str, files: &TlsConfig) -> Result<ServerTls, TlsError> {
        let config = server_config(prefix, files)?;
        Ok(ServerTls {
            prefix,
            files: files.clone(),
            current: ArcSwap::from_pointee(config),
            stamps: Mutex::new(Self::stamps_of(files)),
        })
    }

    fn stamps_of(files: &TlsConfig) -> [Stamp; 3] {
        [
            stamp(&files.cert_file),
            stamp(&files.key_file),
            stamp(&files.client_ca_file),
        ]
    }

    /// Whether clients must present a certificate.
    pub fn mutual(&self) -> bool {
        self.files.mutual()
    }

    /// Reads the files again and uses them for new handshakes; on an error the old
    /// configuration stays and the error is returned (and logged).
    pub fn reload(&self) -> Result<(), TlsError> {
        let stamps = Self::stamps_of(&self.files);
        *self.stamps.lock().unwrap_or_else(|p| p.into_inner()) = stamps;
        match server_config(self.prefix, &self.files) {
            Ok(config) => {
                self.current.store(Arc::new(config));
                tracing::info!(listener = self.prefix, "TLS certificate reloaded");
                Ok(())
            }
            Err(e) => {
                tracing::error!(listener = self.prefix, error = %e, "new TLS certificate refused; the old one stays in use");
                Err(e)
            }
        }
    }

    /// Reloads when a file's modification time or length changed since the last load.
    pub fn reload_if_changed(&self) -> Option<Result<(), TlsError>> {
        let now = Self::stamps_of(&self.files);
        let changed = *self.stamps.lock().unwrap_or_else(|p| p.into_inner()) != now;
        changed.then(|| self.reload())
    }

    /// Checks the files every `every` until `stop` resolves.
    pub async fn watch(
        self: Arc<Self>,
        every: Duration,
        stop: impl std::future::Future<Output = ()>,
    ) {
        tokio::pin!(stop);
        loop {
            tokio::select! {
                () = &mut stop => return,
                () = tokio::time::sleep(every) => {}
            }
            let _ = self.reload_if_changed();
        }
    }

    /// Runs the handshake on an accepted socket: refuses at once a client whose first byte
    /// is not a TLS handshake (a plaintext client, said so in the error), then completes
    /// the handshake. Returns the session and, for mutual TLS, the client certificate's
    /// name.
    pub async fn accept(
        &self,
        tcp: TcpStream,
    ) -> Result<(ServerTlsStream<BufferedTcp>, Option<String>), AcceptError> {
        let mut first = [0u8; 1];
        match tcp.peek(&mut first).await {
            Ok(0) => return Err(AcceptError::Closed),
            Ok(_) if first[0] != HANDSHAKE_RECORD => return Err(AcceptError::NotTls(first[0])),
            Ok(_) => {}
            Err(e) => return Err(AcceptError::Handshake(e)),
        }
        let acceptor = tokio_rustls::TlsAcceptor::from(self.current.load_full());
        let tcp = tokio::io::BufReader::with_capacity(SOCKET_READ_BUFFER_BYTES, tcp);
        let stream = acceptor.accept(tcp).await.map_err(AcceptError::Handshake)?;
        let name = stream
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|certs| certs.first())
            .and_then(|cert| certificate_name(cert));
        Ok((stream, name))
    }
}

/// The name a client certificate maps to: the subject's first common name, else its first
/// DNS or e-mail subject alternative name.
pub fn certificate_name(cert: &CertificateDer<'_>) -> Option<String> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).ok()?;
    if let Some(cn) = parsed
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
    {
        return Some(cn.to_owned());
    }
    let san = parsed.subject_alternative_name().ok()??;
    san.value.general_names.iter().find_map(|name| match name {
        x509_parser::extensions::GeneralName::DNSName(n)
        | x509_parser::extensions::GeneralName::RFC822Name(n) => Some((*n).to_owned()),
        _ => None,
    })
}

/// Whether the first bytes a plaintext listener read look like a TLS ClientHello: a TLS
/// client connected to a listener without TLS.
pub fn looks_like_tls(first: &[u8]) -> bool {
    matches!(first, [HANDSHAKE_RECORD, 0x03, ..])
}

/// What a client needs to connect with TLS.
#[derive(Clone, Debug, Default)]
pub struct ClientTlsFiles {
    /// CA certificates to trust (PEM); none: the system's roots.
    pub ca_file: Option<PathBuf>,
    /// A client certificate chain (PEM), for mutual TLS.
    pub cert_file: Option<PathBuf>,
    /// Its private key (PEM).
    pub key_file: Option<PathBuf>,
}

/// A client configuration trusting `files.ca_file` (or the system roots), with the client
/// certificate when one is given.
pub fn client_config(files: &ClientTlsFiles) -> Result<Arc<ClientConfig>, TlsError> {
    let roots = match &files.ca_file {
        Some(path) => roots("--ca-file", path)?,
        None => {
            let mut roots = RootCertStore::empty();
            let found = rustls_native_certs::load_native_certs();
            for cert in found.certs {
                let _ = roots.add(cert);
            }
            if roots.is_empty() {
                return Err(TlsError::Config {
                    prefix: "--tls".into(),
                    detail: "no system CA certificates found: pass --ca-file".into(),
                });
            }
            roots
        }
    };
    let invalid = |e: rustls::Error| TlsError::Config {
        prefix: "--tls".into(),
        detail: e.to_string(),
    };
    let builder = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(VERSIONS)
        .map_err(invalid)?
        .with_root_certificates(roots);
    let config = match (&files.cert_file, &files.key_file) {
        (Some(cert), Some(key)) => builder
            .with_client_auth_cert(load_certs("--cert", cert)?, load_key("--key", key)?)
            .map_err(invalid)?,
        (None, None) => builder.with_no_client_auth(),
        _ => {
            return Err(TlsError::Config {
                prefix: "--cert".into(),
                detail: "--cert and --key go together".into(),
            })
        }
    };
    Ok(Arc::new(config))
}

/// Connects TLS over `tcp`, checking the server's certificate against `server_name` (a DNS
/// name or an IP address).
pub async fn connect(
    config: Arc<ClientConfig>,
    server_name: &str,
    tcp: TcpStream,
) -> std::io::Result<ClientTlsStream<BufferedTcp>> {
    let name = ServerName::try_from(server_name.to_owned()).map_err(|e| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{server_name:?} is not a valid TLS server name: {e}"),
        )
    })?;
    let tcp = tokio::io::BufReader::with_capacity(SOCKET_READ_BUFFER_BYTES, tcp);
    tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
}

/// A stream that is TLS or not: what a listener serves either way.
pub trait Stream: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Stream for T {}

#[cfg(test)]
mod tests;
