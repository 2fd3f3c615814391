//! TLS against a local HTTPS server on 127.0.0.1 with a throwaway CA:
//! unknown CA refused, `cafile` trusted, client certificates presented,
//! `insecure` accepted with a warning, bad files refused at `Client::new`.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use common::{RawServer, VERSIONS};
use glance_client::{Client, Config, Error};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig, ServerConnection, StreamOwned};

/// A CA, a server certificate for 127.0.0.1 and a client certificate, all
/// signed by the CA, as PEM and DER.
struct Pki {
    ca_pem: String,
    ca_der: CertificateDer<'static>,
    server_der: CertificateDer<'static>,
    server_key: KeyPair,
    client_pem: String,
    client_der: CertificateDer<'static>,
    client_key_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

fn pki() -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "glance-client test CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);

    let server_key = KeyPair::generate().unwrap();
    let server = leaf(
        &["127.0.0.1"],
        ExtendedKeyUsagePurpose::ServerAuth,
        &server_key,
        &issuer,
    );
    let client_key = KeyPair::generate().unwrap();
    let client = leaf(
        &["compute-1"],
        ExtendedKeyUsagePurpose::ClientAuth,
        &client_key,
        &issuer,
    );
    Pki {
        ca_pem: ca_cert.pem(),
        ca_der: ca_cert.der().clone(),
        server_der: server.der().clone(),
        server_key,
        client_pem: client.pem(),
        client_der: client.der().clone(),
        client_key_pem: client_key.serialize_pem(),
        issuer,
    }
}

fn leaf(
    names: &[&str],
    usage: ExtendedKeyUsagePurpose,
    key: &KeyPair,
    issuer: &Issuer<'static, KeyPair>,
) -> rcgen::Certificate {
    let mut params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    params.extended_key_usages = vec![usage];
    params.signed_by(key, issuer).unwrap()
}

/// What the HTTPS server saw on each connection: the client's certificate
/// chain after a good handshake, or why the handshake failed.
type Outcome = Result<Vec<CertificateDer<'static>>, String>;

/// Reports what the server saw on its next connection (waiting for it, bounded).
struct Seen(Receiver<Outcome>);

impl Seen {
    fn next(&self) -> Outcome {
        self.0
            .recv_timeout(Duration::from_secs(20))
            .expect("the HTTPS server reports on the connection")
    }
}

/// An HTTPS server on 127.0.0.1 answering `/versions`; with `client_ca` it
/// requires a client certificate signed by that CA.
fn https_server(
    cert: CertificateDer<'static>,
    key: &KeyPair,
    client_ca: Option<CertificateDer<'static>>,
) -> (RawServer, String, Seen) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = match client_ca {
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            roots.add(ca).unwrap();
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .unwrap();
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let key = PrivateKeyDer::Pkcs8(key.serialize_der().into());
    let config = Arc::new(builder.with_single_cert(vec![cert], key).unwrap());
    let (record, seen) = channel();
    let server = RawServer::start(move |tcp| {
        let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
        let Ok(conn) = ServerConnection::new(config.clone()) else {
            return;
        };
        let mut tls = StreamOwned::new(conn, tcp);
        let outcome = match tls.conn.complete_io(&mut tls.sock) {
            Err(e) => Err(e.to_string()),
            Ok(_) => {
                let chain = tls.conn.peer_certificates().unwrap_or_default().to_vec();
                let _ = read_head_tls(&mut tls);
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{VERSIONS}",
                    VERSIONS.len()
                );
                let _ = tls.write_all(answer.as_bytes());
                let _ = tls.flush();
                tls.conn.send_close_notify();
                let _ = tls.conn.complete_io(&mut tls.sock);
                Ok(chain)
            }
        };
        let _ = record.send(outcome);
    });
    let url = server.url.replace("http://", "https://");
    (server, url, Seen(seen))
}

fn read_head_tls(tls: &mut StreamOwned<ServerConnection, std::net::TcpStream>) -> String {
    use std::io::Read;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 64 * 1024 {
        match tls.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn config(url: &str) -> Config {
    Config {
        num_retries: 0,
        retry_delay: Duration::ZERO,
        connect_timeout: Some(Duration::from_secs(10)),
        io_timeout: Some(Duration::from_secs(10)),
        ..Config::for_server(url)
    }
}

#[test]
fn a_server_signed_by_an_unknown_ca_is_refused() {
    let pki = pki();
    let (_server, url, seen) = https_server(pki.server_der.clone(), &pki.server_key, None);
    let err = Client::new(config(&url)).unwrap().versions().unwrap_err();
    let Error::Config { message, .. } = &err else {
        panic!("expected a configuration error (no retry cures it), got {err:?}");
    };
    assert!(message.contains("UnknownIssuer"), "{message}");
    assert!(
        message.contains("not signed by a CA this client trusts"),
        "{message}"
    );
    assert!(message.contains(&url), "names the server: {message}");
    assert!(seen.next().is_err(), "no handshake completed");
}

/// What `openssl req -x509` makes by default: a self-signed certificate
/// with CA:TRUE, given to the client as its CA file and used by the server
/// as its own. rustls refuses a CA certificate as an end entity; the error
/// says so in plain words, with the fix, and no retry is made.
#[test]
fn a_ca_certificate_used_as_the_servers_own_is_refused_in_plain_words_once() {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, "lab");
    let cert = params.self_signed(&key).unwrap();
    let (_server, url, seen) = https_server(cert.der().clone(), &key, None);
    let dir = tempfile::tempdir().unwrap();
    let client = Client::new(Config {
        cafile: Some(write(dir.path(), "lab.pem", &cert.pem())),
        num_retries: 3,
        api_servers: vec![url.clone(), url.clone()],
        ..config(&url)
    })
    .unwrap();
    let err = client.versions().unwrap_err();
    let Error::Config { message, .. } = &err else {
        panic!("expected a configuration error, got {err:?}");
    };
    for words in [
        "CA certificate",
        "CA:TRUE",
        "signed by that CA",
        "CA:FALSE",
        "CaUsedAsEndEntity",
    ] {
        assert!(message.contains(words), "{words:?} in {message}");
    }
    assert!(seen.next().is_err(), "the one handshake failed");
    assert!(
        seen.0.recv_timeout(Duration::from_millis(500)).is_err(),
        "a certificate error is not retried"
    );
}

#[test]
fn a_server_signed_by_the_cafile_is_trusted() {
    let pki = pki();
    let dir = tempfile::tempdir().unwrap();
    let (_server, url, _) = https_server(pki.server_der.clone(), &pki.server_key, None);
    let client = Client::new(Config {
        cafile: Some(write(dir.path(), "ca.pem", &pki.ca_pem)),
        ..config(&url)
    })
    .unwrap();
    let versions = client
        .versions()
        .expect("the CA from cafile vouches for the server");
    assert_eq!(versions[0].id, "v2.18");
}

#[test]
fn a_certificate_for_another_name_is_refused_even_from_the_cafile() {
    let pki = pki();
    let dir = tempfile::tempdir().unwrap();
    let key = KeyPair::generate().unwrap();
    let other = leaf(
        &["glance.example"],
        ExtendedKeyUsagePurpose::ServerAuth,
        &key,
        &pki.issuer,
    );
    let (_server, url, _) = https_server(other.der().clone(), &key, None);
    let client = Client::new(Config {
        cafile: Some(write(dir.path(), "ca.pem", &pki.ca_pem)),
        ..config(&url)
    })
    .unwrap();
    let err = client.versions().unwrap_err();
    assert!(err.to_string().contains("does not name the host"), "{err}");
    assert!(err.to_string().contains("NotValidForName"), "{err}");
}

#[test]
fn a_client_certificate_is_presented_when_the_server_asks() {
    let pki = pki();
    let dir = tempfile::tempdir().unwrap();
    let (_server, url, seen) = https_server(
        pki.server_der.clone(),
        &pki.server_key,
        Some(pki.ca_der.clone()),
    );
    let client = Client::new(Config {
        cafile: Some(write(dir.path(), "ca.pem", &pki.ca_pem)),
        certfile: Some(write(dir.path(), "client.pem", &pki.client_pem)),
        keyfile: Some(write(dir.path(), "client.key", &pki.client_key_pem)),
        ..config(&url)
    })
    .unwrap();
    client.versions().expect("mutual TLS succeeds");
    let chain = seen.next().expect("the handshake completed");
    assert_eq!(
        chain.first(),
        Some(&pki.client_der),
        "the server saw our certificate"
    );
}

#[test]
fn a_certfile_may_hold_the_key_too() {
    let pki = pki();
    let dir = tempfile::tempdir().unwrap();
    let (_server, url, seen) = https_server(
        pki.server_der.clone(),
        &pki.server_key,
        Some(pki.ca_der.clone()),
    );
    let both = format!("{}{}", pki.client_pem, pki.client_key_pem);
    let client = Client::new(Config {
        cafile: Some(write(dir.path(), "ca.pem", &pki.ca_pem)),
        certfile: Some(write(dir.path(), "both.pem", &both)),
        ..config(&url)
    })
    .unwrap();
    client.versions().expect("mutual TLS succeeds");
    assert!(seen.next().is_ok());
}

#[test]
fn without_a_client_certificate_a_server_that_requires_one_refuses() {
    let pki = pki();
    let dir = tempfile::tempdir().unwrap();
    let (_server, url, seen) = https_server(
        pki.server_der.clone(),
        &pki.server_key,
        Some(pki.ca_der.clone()),
    );
    let client = Client::new(Config {
        cafile: Some(write(dir.path(), "ca.pem", &pki.ca_pem)),
        ..config(&url)
    })
    .unwrap();
    assert!(client.versions().is_err(), "the server must refuse us");
    let why = seen.next().expect_err("the server refused the handshake");
    assert!(why.contains("no certificates"), "{why}");
}

#[test]
fn insecure_accepts_any_certificate_with_a_warning() {
    common::record_logs();
    let pki = pki();
    let (_server, url, _) = https_server(pki.server_der.clone(), &pki.server_key, None);
    let client = Client::new(Config {
        insecure: true,
        ..config(&url)
    })
    .unwrap();
    client.versions().expect("verification is off");
    let logs = common::logs();
    assert!(
        logs.iter()
            .any(|l| l.starts_with("WARN") && l.contains("verification is DISABLED")),
        "building an insecure client warns: {logs:#?}"
    );
}

#[test]
fn bad_tls_files_are_config_errors_naming_the_file_at_new() {
    let pki = pki();
    let dir = tempfile::tempdir().unwrap();
    let other_key = KeyPair::generate().unwrap().serialize_pem();
    let cases = [
        (
            Config {
                cafile: Some(dir.path().join("missing-ca.pem")),
                ..config("https://127.0.0.1:1")
            },
            "missing-ca.pem",
        ),
        (
            Config {
                cafile: Some(write(dir.path(), "junk-ca.pem", "junk\n")),
                ..config("https://127.0.0.1:1")
            },
            "junk-ca.pem",
        ),
        (
            Config {
                certfile: Some(write(dir.path(), "c.pem", &pki.client_pem)),
                keyfile: Some(write(dir.path(), "wrong.key", &other_key)),
                ..config("https://127.0.0.1:1")
            },
            "wrong.key",
        ),
        (
            Config {
                certfile: Some(write(dir.path(), "only-cert.pem", &pki.client_pem)),
                ..config("https://127.0.0.1:1")
            },
            "only-cert.pem",
        ),
        (
            Config {
                certfile: Some(write(dir.path(), "key-no-cert.pem", &pki.client_key_pem)),
                keyfile: Some(write(dir.path(), "k.pem", &pki.client_key_pem)),
                ..config("https://127.0.0.1:1")
            },
            "key-no-cert.pem",
        ),
    ];
    for (config, name) in cases {
        let err = Client::new(config).expect_err(name);
        let Error::Config {
            file: Some(file), ..
        } = &err
        else {
            panic!("{name}: expected a config error naming the file, got {err:?}");
        };
        assert_eq!(file.file_name().unwrap(), name, "{err}");
        assert!(
            err.to_string().starts_with(&file.display().to_string()),
            "{err}"
        );
    }
}
