//! The signature suite's fixture: keys, certificates and signatures made
//! with `openssl` in a temporary directory, the certificates stored in the
//! Barbican lab; and [`BarbicanSource`], the certificate source a client
//! uses to fetch them back.
#![allow(dead_code)] // each suite uses its own part of the fixture

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use glance_client::signature::{self, CertificateSource, SignatureError};

use crate::support_barbican::{self, Barbican};

/// Every certificate made, by name (`<name>.pem`, `<name>.key`).
pub const CERTIFICATES: [&str; 11] = [
    "root",
    "intermediate",
    "rsa2048",
    "rsa4096",
    "p384",
    "p521",
    "dsa",
    "other",
    "expired",
    "rogue",
    "rogue-leaf",
];

/// The fixture: a directory of files and the certificates' Barbican UUIDs.
pub struct Pki {
    dir: tempfile::TempDir,
    /// The Barbican the certificates are stored in.
    pub lab: &'static Barbican,
    uuids: BTreeMap<String, String>,
}

impl Pki {
    /// A file of the fixture.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The Barbican UUID of the certificate `name`.
    pub fn uuid(&self, name: &str) -> String {
        self.uuids
            .get(name)
            .cloned()
            .unwrap_or_else(|| panic!("no certificate {name}"))
    }

    /// The signature file `name`, base64 as `base64 -w 0` writes it.
    pub fn signature_b64(&self, name: &str) -> String {
        let out = openssl(self.dir.path(), &["base64", "-A", "-in", name]);
        String::from_utf8(out)
            .expect("base64 is ASCII")
            .trim()
            .to_string()
    }
}

/// The suite's fixture, made on first use; `None` (said on stderr) when a
/// prerequisite is missing.
pub fn get() -> Option<&'static Pki> {
    static PKI: OnceLock<Option<Pki>> = OnceLock::new();
    PKI.get_or_init(|| {
        if let Err(reason) = support_barbican::have_tool("openssl", &["version"]) {
            support_barbican::skip_or_fail(&reason);
            return None;
        }
        let lab = support_barbican::lab()?;
        let dir = tempfile::tempdir().expect("a temp dir");
        make(dir.path());
        let mut uuids: BTreeMap<String, String> = CERTIFICATES
            .iter()
            .map(|name| {
                (
                    name.to_string(),
                    store(lab, dir.path(), name, "certificate"),
                )
            })
            .collect();
        // The same certificate, stored without secret_type (an opaque secret).
        uuids.insert(
            "rsa2048-opaque".into(),
            store(lab, dir.path(), "rsa2048", "opaque"),
        );
        Some(Pki { dir, lab, uuids })
    })
    .as_ref()
}

/// Runs `openssl args` in `dir`; its stdout. Panics with its stderr on failure.
pub fn openssl(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("running openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The DER of certificate `name`, as openssl converts it.
pub fn openssl_der(pki: &Pki, name: &str) -> Vec<u8> {
    openssl(
        pki.dir.path(),
        &["x509", "-in", &format!("{name}.pem"), "-outform", "DER"],
    )
}

const CONFIG: &str = "\
[req]
distinguished_name = dn
prompt = no
[dn]
[root]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[intermediate]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[leaf]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
";

/// Keys, certificates, the image and its signatures, in `dir`.
fn make(dir: &Path) {
    std::fs::write(dir.join("lab.cnf"), CONFIG).expect("writing lab.cnf");
    let image = sample(1 << 20 | 13);
    let mut flipped = image.clone();
    flipped[1000] ^= 0x01;
    std::fs::write(dir.join("image"), image).expect("writing the image");
    std::fs::write(dir.join("image-flipped"), flipped).expect("writing the image");
    let run = |args: &[&str]| openssl(dir, args);
    for (name, algorithm, option) in [
        ("root", "RSA", "rsa_keygen_bits:2048"),
        ("intermediate", "EC", "ec_paramgen_curve:P-256"),
        ("rsa2048", "RSA", "rsa_keygen_bits:2048"),
        ("rsa4096", "RSA", "rsa_keygen_bits:4096"),
        ("p384", "EC", "ec_paramgen_curve:P-384"),
        ("p521", "EC", "ec_paramgen_curve:P-521"),
        ("other", "RSA", "rsa_keygen_bits:2048"),
        ("expired", "RSA", "rsa_keygen_bits:2048"),
        ("rogue", "RSA", "rsa_keygen_bits:2048"),
        ("rogue-leaf", "RSA", "rsa_keygen_bits:2048"),
    ] {
        run(&[
            "genpkey",
            "-algorithm",
            algorithm,
            "-pkeyopt",
            option,
            "-out",
            &format!("{name}.key"),
        ]);
    }
    run(&[
        "genpkey",
        "-genparam",
        "-algorithm",
        "DSA",
        "-pkeyopt",
        "dsa_paramgen_bits:2048",
        "-out",
        "dsa.param",
    ]);
    run(&["genpkey", "-paramfile", "dsa.param", "-out", "dsa.key"]);
    certificates(dir);
    signatures(dir);
}

/// The CA hierarchy: root (RSA) > intermediate (P-256, pathlen 0) > EC
/// leaves; root > RSA and DSA leaves and the expired one; rogue > rogue-leaf.
fn certificates(dir: &Path) {
    let run = |args: &[&str]| openssl(dir, args);
    for ca in ["root", "rogue"] {
        let subject = format!("/CN=glance-client lab {ca} CA");
        run(&[
            "req",
            "-config",
            "lab.cnf",
            "-x509",
            "-new",
            "-key",
            &format!("{ca}.key"),
            "-subj",
            &subject,
            "-days",
            "30",
            "-sha256",
            "-extensions",
            "root",
            "-out",
            &format!("{ca}.pem"),
        ]);
    }
    let issued = [
        ("intermediate", "root", "intermediate", "30"),
        ("rsa2048", "root", "leaf", "30"),
        ("rsa4096", "root", "leaf", "30"),
        ("dsa", "root", "leaf", "30"),
        ("other", "root", "leaf", "30"),
        ("expired", "root", "leaf", "-1"),
        ("p384", "intermediate", "leaf", "30"),
        ("p521", "intermediate", "leaf", "30"),
        ("rogue-leaf", "rogue", "leaf", "30"),
    ];
    for (serial, (name, ca, extensions, days)) in issued.into_iter().enumerate() {
        let csr = format!("{name}.csr");
        run(&[
            "req",
            "-config",
            "lab.cnf",
            "-new",
            "-key",
            &format!("{name}.key"),
            "-subj",
            &format!("/CN=glance-client lab {name}"),
            "-out",
            &csr,
        ]);
        run(&[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &format!("{ca}.pem"),
            "-CAkey",
            &format!("{ca}.key"),
            "-set_serial",
            &(serial + 100).to_string(),
            "-days",
            days,
            "-sha256",
            "-extfile",
            "lab.cnf",
            "-extensions",
            extensions,
            "-out",
            &format!("{name}.pem"),
        ]);
    }
}

/// The image's signatures, as Glance's documentation makes them:
/// `openssl dgst -sha256 -sign key.pem [-sigopt rsa_padding_mode:pss] -out sig image`.
fn signatures(dir: &Path) {
    let sign = |key: &str, hash: &str, extra: &[&str], out: &str| {
        let mut args = vec!["dgst", hash, "-sign", key];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["-out", out, "image"]);
        openssl(dir, &args);
    };
    let pss = ["-sigopt", "rsa_padding_mode:pss"];
    for hash in ["sha224", "sha256", "sha384", "sha512"] {
        for key in ["rsa2048", "rsa4096"] {
            sign(
                &format!("{key}.key"),
                &format!("-{hash}"),
                &pss,
                &format!("{key}-{hash}.sig"),
            );
        }
        for key in ["p384", "p521", "dsa"] {
            sign(
                &format!("{key}.key"),
                &format!("-{hash}"),
                &[],
                &format!("{key}-{hash}.sig"),
            );
        }
    }
    for key in ["other", "expired", "rogue-leaf"] {
        sign(
            &format!("{key}.key"),
            "-sha256",
            &pss,
            &format!("{key}-sha256.sig"),
        );
    }
    for salt in ["digest", "max", "0"] {
        let salt_option = format!("rsa_pss_saltlen:{salt}");
        let extra = [pss[0], pss[1], "-sigopt", &salt_option];
        sign(
            "rsa2048.key",
            "-sha256",
            &extra,
            &format!("rsa2048-sha256-salt-{salt}.sig"),
        );
    }
}

/// Deterministic bytes that do not compress or repeat in short cycles.
fn sample(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// Stores certificate `name` in Barbican (a `secret_type` secret) as
/// Glance's documentation does
/// (`openstack secret store --secret-type certificate --payload-content-type
/// application/octet-stream --payload-content-encoding base64 --payload
/// "$(base64 cert.pem)"`); its UUID.
fn store(lab: &Barbican, dir: &Path, name: &str, secret_type: &str) -> String {
    let pem = openssl(dir, &["base64", "-A", "-in", &format!("{name}.pem")]);
    let body = serde_json::json!({
        "name": format!("glance-client lab {name}"),
        "secret_type": secret_type,
        "payload": String::from_utf8_lossy(&pem).trim(),
        "payload_content_type": "application/octet-stream",
        "payload_content_encoding": "base64",
    });
    let mut response = agent()
        .post(format!("{}/v1/secrets", lab.url))
        .header("X-Project-Id", &lab.project)
        .header("Accept", "application/json")
        .header("Content-Type", "application/json")
        .send(body.to_string())
        .expect("an answer from Barbican");
    let text = response
        .body_mut()
        .read_to_string()
        .expect("Barbican's answer");
    assert_eq!(response.status(), 201, "storing {name} in Barbican: {text}");
    let answer: serde_json::Value = serde_json::from_str(&text).expect("JSON from Barbican");
    let href = answer["secret_ref"].as_str().expect("a secret_ref");
    href.rsplit('/').next().unwrap_or_default().to_string()
}

/// Certificates from Barbican by UUID, as castellan reads a certificate
/// secret: `GET /v1/secrets/{uuid}` (JSON metadata; it must be a
/// `certificate` secret), then `GET /v1/secrets/{uuid}/payload` with the
/// secret's default content type as `Accept` (`application/octet-stream`),
/// whose body is the certificate exactly as stored (PEM, here).
pub struct BarbicanSource(pub &'static Barbican);

impl BarbicanSource {
    fn get(&self, uuid: &str, path: &str, accept: &str) -> Result<Vec<u8>, SignatureError> {
        let url = format!("{}/v1/secrets/{uuid}{path}", self.0.url);
        let unavailable = |reason: String| SignatureError::CertificateUnavailable {
            uuid: uuid.into(),
            reason,
        };
        let mut response = agent()
            .get(&url)
            .header("X-Project-Id", &self.0.project)
            .header("Accept", accept)
            .call()
            .map_err(|e| unavailable(e.to_string()))?;
        let body = response
            .body_mut()
            .read_to_vec()
            .map_err(|e| unavailable(e.to_string()))?;
        match response.status().as_u16() {
            200 => Ok(body),
            404 => Err(SignatureError::CertificateNotFound(uuid.into())),
            status => Err(unavailable(format!("GET {url}: {status}"))),
        }
    }
}

impl CertificateSource for BarbicanSource {
    fn certificate_bytes(&self, uuid: &str) -> Result<Vec<u8>, SignatureError> {
        if !signature::is_uuid(uuid) {
            return Err(SignatureError::InvalidCertificateUuid(uuid.into()));
        }
        let metadata = self.get(uuid, "", "application/json")?;
        let metadata: serde_json::Value = serde_json::from_slice(&metadata).map_err(|e| {
            SignatureError::CertificateUnreadable(format!("Barbican metadata: {e}"))
        })?;
        if metadata["secret_type"] != "certificate" {
            let found = metadata["secret_type"].to_string();
            return Err(SignatureError::CertificateUnreadable(format!(
                "secret type {found}, not certificate"
            )));
        }
        let accept = metadata["content_types"]["default"]
            .as_str()
            .unwrap_or("application/octet-stream");
        self.get(uuid, "/payload", accept)
    }
}
