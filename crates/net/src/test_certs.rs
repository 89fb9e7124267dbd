//! Certificates for tests, made at run time with rcgen: a CA, a server certificate for
//! `localhost` and `127.0.0.1` signed by it, and client certificates, written as PEM files
//! into a directory the test owns. Nothing here is key material kept anywhere.

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};

/// A CA that signs what the test needs.
pub struct TestCa {
    cert: rcgen::Certificate,
    key: KeyPair,
    /// The CA certificate's PEM file.
    pub ca_file: PathBuf,
    dir: PathBuf,
}

/// A certificate and key written as PEM files.
#[derive(Debug, Clone)]
pub struct CertFiles {
    /// The certificate (PEM).
    pub cert_file: PathBuf,
    /// Its key (PEM, PKCS#8).
    pub key_file: PathBuf,
}

impl TestCa {
    /// A new CA named `name`, its certificate written to `dir/<name>-ca.pem`.
    pub fn new(dir: &Path, name: &str) -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, format!("{name} test CA"));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().expect("CA key");
        let cert = params.self_signed(&key).expect("CA certificate");
        let ca_file = dir.join(format!("{name}-ca.pem"));
        std::fs::write(&ca_file, cert.pem()).expect("write CA");
        TestCa {
            cert,
            key,
            ca_file,
            dir: dir.to_path_buf(),
        }
    }

    /// A certificate for `names` (DNS names or IP addresses) with common name `cn`, signed
    /// by this CA, written as `<file>.pem` and `<file>.key`.
    pub fn issue(&self, file: &str, cn: &str, names: &[&str]) -> CertFiles {
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        let mut params = CertificateParams::new(names).expect("params");
        params.distinguished_name.push(DnType::CommonName, cn);
        let key = KeyPair::generate().expect("key");
        let cert = params.signed_by(&key, &self.cert, &self.key).expect("sign");
        let files = CertFiles {
            cert_file: self.dir.join(format!("{file}.pem")),
            key_file: self.dir.join(format!("{file}.key")),
        };
        std::fs::write(&files.cert_file, cert.pem()).expect("write cert");
        std::fs::write(&files.key_file, key.serialize_pem()).expect("write key");
        files
    }

    /// A server certificate for `localhost` and `127.0.0.1`.
    pub fn server(&self, file: &str) -> CertFiles {
        self.issue(file, "localhost", &["localhost", "127.0.0.1"])
    }
}
