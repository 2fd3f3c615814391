//! TLS settings from [`Config`]: the web PKI roots by default, `cafile`
//! instead of them, `certfile`/`keyfile` for a client certificate, and
//! `insecure` to turn verification off (with a loud warning).
//!
//! Every file is read and checked when the client is built, so a missing or
//! malformed file is an [`Error::Config`] naming it at `Client::new`, not a
//! failure (or, for a mismatched key, a panic inside ureq) at the first
//! HTTPS request.

use std::path::Path;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use ureq::tls::{Certificate, ClientCert, PemItem, PrivateKey, RootCerts, TlsConfig};

use crate::config::Config;
use crate::error::{Error, Result};

/// Builds ureq's TLS settings, reading and checking every file.
pub(crate) fn tls_config(config: &Config) -> Result<TlsConfig> {
    let mut builder = TlsConfig::builder();
    if config.insecure {
        log::warn!(
            "TLS certificate verification is DISABLED (insecure = true): any host \
             can pose as the image API and read the token and the images{}",
            if config.cafile.is_some() {
                "; cafile is ignored"
            } else {
                ""
            }
        );
        builder = builder.disable_verification(true);
    } else if let Some(cafile) = &config.cafile {
        builder = builder.root_certs(RootCerts::new_with_certs(&load_roots(cafile)?));
    }
    match (&config.certfile, &config.keyfile) {
        (Some(certfile), keyfile) => {
            let cert = load_client_cert(certfile, keyfile.as_deref())?;
            builder = builder.client_cert(Some(cert));
        }
        (None, Some(keyfile)) => {
            return Err(file_error(keyfile, "keyfile is set but certfile is not"));
        }
        (None, None) => {}
    }
    Ok(builder.build())
}

fn file_error(path: &Path, message: impl Into<String>) -> Error {
    Error::Config {
        file: Some(path.to_path_buf()),
        line: None,
        message: message.into(),
    }
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| file_error(path, format!("cannot read the {what}: {e}")))
}

/// The PEM items of a file, or an error naming it.
fn pem_items(path: &Path, bytes: &[u8]) -> Result<Vec<PemItem<'static>>> {
    ureq::tls::parse_pem(bytes)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| file_error(path, format!("malformed PEM: {e}")))
}

/// Reads a PEM bundle of CA certificates and checks each is usable as a trust anchor.
fn load_roots(path: &Path) -> Result<Vec<Certificate<'static>>> {
    let bytes = read(path, "CA bundle (cafile)")?;
    let certs: Vec<Certificate<'static>> = pem_items(path, &bytes)?
        .into_iter()
        .filter_map(|item| match item {
            PemItem::Certificate(c) => Some(c),
            _ => None,
        })
        .collect();
    if certs.is_empty() {
        return Err(file_error(
            path,
            "the CA bundle (cafile) holds no PEM certificate",
        ));
    }
    let mut store = rustls::RootCertStore::empty();
    for (n, cert) in certs.iter().enumerate() {
        store.add(CertificateDer::from(cert.der())).map_err(|e| {
            file_error(
                path,
                format!("certificate {} of the CA bundle is unusable: {e}", n + 1),
            )
        })?;
    }
    Ok(certs)
}

/// Reads the client certificate chain from `certfile` and its key from
/// `keyfile` (or from `certfile` itself when no keyfile is given), and checks
/// that the key parses and belongs to the first certificate.
fn load_client_cert(certfile: &Path, keyfile: Option<&Path>) -> Result<ClientCert> {
    let cert_pem = read(certfile, "client certificate (certfile)")?;
    let mut chain = Vec::new();
    let mut keys_in_certfile = 0;
    for item in pem_items(certfile, &cert_pem)? {
        match item {
            PemItem::Certificate(c) => chain.push(c),
            PemItem::PrivateKey(_) => keys_in_certfile += 1,
            _ => {}
        }
    }
    if chain.is_empty() {
        return Err(file_error(
            certfile,
            "the client certificate file (certfile) holds no PEM certificate",
        ));
    }
    let (key_path, key_pem, keys) = match keyfile {
        Some(path) => {
            let bytes = read(path, "client key (keyfile)")?;
            let keys = pem_items(path, &bytes)?
                .iter()
                .filter(|item| matches!(item, PemItem::PrivateKey(_)))
                .count();
            (path, bytes, keys)
        }
        None => (certfile, cert_pem, keys_in_certfile),
    };
    if keys != 1 {
        let what = if keys == 0 { "no" } else { "more than one" };
        return Err(file_error(
            key_path,
            format!(
                "holds {what} unencrypted PEM private key (PKCS#8, PKCS#1 or SEC1); \
                 exactly one is needed for the client certificate"
            ),
        ));
    }
    check_pair(&chain, &key_pem).map_err(|why| file_error(key_path, why))?;
    let key = PrivateKey::from_pem(&key_pem)
        .map_err(|e| file_error(key_path, format!("malformed private key: {e}")))?;
    Ok(ClientCert::new_with_certs(&chain, key))
}

/// Whether rustls accepts the key in `key_pem` and it matches the first
/// certificate, checked with the crypto provider ureq will use.
fn check_pair(chain: &[Certificate<'static>], key_pem: &[u8]) -> std::result::Result<(), String> {
    let key = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|e| format!("malformed private key: {e}"))?;
    let chain = chain
        .iter()
        .map(|c| CertificateDer::from(c.der().to_vec()))
        .collect();
    let provider = CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
    rustls::sign::CertifiedKey::from_der(chain, key, &provider)
        .map(drop)
        .map_err(|e| format!("the private key does not fit the client certificate: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn config_error(result: Result<TlsConfig>) -> (PathBuf, String) {
        match result {
            Err(Error::Config {
                file: Some(file),
                message,
                ..
            }) => (file, message),
            other => panic!(
                "expected a config error naming a file, got {:?}",
                other.err()
            ),
        }
    }

    #[test]
    fn defaults_use_the_web_pki_roots() {
        let tls = tls_config(&Config::default()).unwrap();
        assert!(matches!(tls.root_certs(), RootCerts::WebPki));
        assert!(!tls.disable_verification());
        assert!(tls.client_cert().is_none());
    }

    #[test]
    fn a_missing_cafile_is_named() {
        let config = Config {
            cafile: Some("/nonexistent/ca.pem".into()),
            ..Config::default()
        };
        let (file, message) = config_error(tls_config(&config));
        assert_eq!(file, PathBuf::from("/nonexistent/ca.pem"));
        assert!(message.contains("cannot read"), "{message}");
    }

    #[test]
    fn a_cafile_without_certificates_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let empty = write(dir.path(), "empty.pem", "not pem at all\n");
        let config = Config {
            cafile: Some(empty.clone()),
            ..Config::default()
        };
        let (file, message) = config_error(tls_config(&config));
        assert_eq!(file, empty);
        assert!(message.contains("no PEM certificate"), "{message}");
    }

    #[test]
    fn a_garbled_certificate_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let bad = write(
            dir.path(),
            "bad.pem",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        );
        let config = Config {
            cafile: Some(bad),
            ..Config::default()
        };
        let (_, message) = config_error(tls_config(&config));
        assert!(message.contains("certificate 1"), "{message}");
    }

    #[test]
    fn a_keyfile_needs_a_certfile() {
        let config = Config {
            keyfile: Some("/k.pem".into()),
            ..Config::default()
        };
        let (file, message) = config_error(tls_config(&config));
        assert_eq!(file, PathBuf::from("/k.pem"));
        assert!(message.contains("certfile"), "{message}");
    }

    #[test]
    fn insecure_turns_verification_off() {
        let config = Config {
            insecure: true,
            ..Config::default()
        };
        assert!(tls_config(&config).unwrap().disable_verification());
    }
}
