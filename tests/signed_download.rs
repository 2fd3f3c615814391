//! Signed images through the downloader (cargo feature `signatures`): signed
//! with `openssl` as Glance's documentation does, uploaded to a real Glance,
//! their `img_signature*` properties added afterwards (Glance checks
//! signatures only at upload, with a key manager; the lab has none), the
//! certificates stored in a real Barbican and fetched back by the library's
//! `BarbicanSource` (or read from a directory); then downloaded with
//! verification required, through the library and the `glance` tool.
//!
//! Each refusal has its own error (`Error::Signature` with its reason) and
//! publishes nothing; what HTTP cannot show (a flipped byte under matching
//! checksums, the local short-circuit) is served by the scripted Glance of
//! `tests/download/harness.rs`; several verdicts are checked against
//! cursive's on the same image, certificate and properties
//! (`tests/lab/cursive_oracle.py`). The Keystone lab's catalog gets a
//! `key-manager` endpoint pointing at the Barbican lab, so Barbican is also
//! found as Nova finds it.
//!
//! Skips, saying why, without openssl or the labs' prerequisites, unless
//! `GLANCE_LAB_REQUIRED=1`.

#![cfg(feature = "signatures")]

mod cli;
mod common;
#[path = "download/harness.rs"]
mod harness;
#[path = "signature/pki.rs"]
mod pki;
mod support;
mod support_barbican;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use glance_client::signature::{DirectorySource, HashMethod, KeyType, Policy, SignatureError};
use glance_client::{
    Auth, Client, Config, DownloadOptions, DownloadSource, Error, FileSystem, ImageData, NewImage,
    SignatureCheck,
};
use pki::Pki;

/// The four `img_signature*` properties of an image signed as `signature`
/// (a file of the fixture), with `key_type`, `hash` and certificate `cert`.
fn signed(pki: &Pki, signature: &str, cert: &str, key_type: &str, hash: &str) -> Props {
    let mut props = BTreeMap::new();
    props.insert("img_signature".into(), pki.signature_b64(signature));
    props.insert("img_signature_hash_method".into(), hash.into());
    props.insert("img_signature_key_type".into(), key_type.into());
    props.insert("img_signature_certificate_uuid".into(), pki.uuid(cert));
    props
}

type Props = BTreeMap<String, String>;

/// The good signature: RSA-PSS over SHA-256, certificate `rsa2048`.
fn rsa(pki: &Pki) -> Props {
    signed(pki, "rsa2048-sha256.sig", "rsa2048", "RSA-PSS", "SHA-256")
}

/// A configuration for the Glance lab whose Barbican is the Barbican lab,
/// reached with a token (any: the lab's Barbican only needs one).
fn config(glance: &support::Lab, barbican: &support_barbican::Barbican) -> Config {
    Config {
        auth: Auth::Token("lab-token".into()),
        barbican_endpoint: Some(barbican.url.clone()),
        ..glance.config()
    }
}

/// An image of the real Glance, deleted when dropped.
struct Uploaded {
    client: Client,
    id: String,
}

impl Drop for Uploaded {
    fn drop(&mut self) {
        let _ = self.client.delete_image(&self.id);
    }
}

/// Uploads the fixture's `image` file to Glance as a raw image, then adds
/// `props` (after the upload, as Glance would otherwise try to verify them).
fn upload(client: &Client, pki: &Pki, image: &str, props: &Props) -> Uploaded {
    let created = client
        .create_image(&NewImage {
            name: Some(format!("signed-download {image}")),
            disk_format: Some("raw".into()),
            container_format: Some("bare".into()),
            ..NewImage::default()
        })
        .expect("create an image");
    let uploaded = Uploaded {
        client: client.clone(),
        id: created.id,
    };
    client
        .upload(&uploaded.id, ImageData::file(pki.path(image)))
        .expect("upload the image");
    if !props.is_empty() {
        let update = glance_client::ImageUpdate {
            set_properties: props.clone(),
            ..Default::default()
        };
        client
            .update_image(&uploaded.id, &update)
            .expect("add the signature properties");
    }
    uploaded
}

/// Verification required, certificates from the client's Barbican.
fn required() -> DownloadOptions<'static> {
    DownloadOptions {
        signature: SignatureCheck::Required(Policy::default()),
        ..DownloadOptions::default()
    }
}

/// Verification required with certificate validation against `trusted`
/// (certificates of the fixture, by name, fetched from Barbican by id).
fn validated(pki: &Pki, trusted: &[&str]) -> DownloadOptions<'static> {
    DownloadOptions {
        signature: SignatureCheck::Required(Policy {
            validate_certificate: true,
            trusted_certificate_ids: trusted.iter().map(|n| pki.uuid(n)).collect(),
            ..Policy::default()
        }),
        ..DownloadOptions::default()
    }
}

/// The reason of a signature refusal; panics on anything else.
fn reason(result: glance_client::Result<glance_client::DownloadReport>) -> SignatureError {
    match result {
        Err(Error::Signature { reason, .. }) => *reason,
        other => panic!("expected a signature refusal, got {other:?}"),
    }
}

/// The labs and the fixture, or `None` (said) when the tests must skip.
fn labs() -> Option<(&'static support::Lab, &'static Pki)> {
    let pki = pki::get()?;
    let glance = support::lab()?;
    Some((glance, pki))
}

/// A directory to download into; asserts it is left empty after a refusal.
struct Out(tempfile::TempDir);

impl Out {
    fn new() -> Out {
        Out(tempfile::tempdir().expect("a temp dir"))
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }

    /// Nothing was published, and no temporary file is left.
    fn assert_empty(&self, case: &str) {
        let left = harness::entries(self.0.path());
        assert!(left.is_empty(), "{case}: left {left:?}");
    }
}

#[test]
fn a_signed_image_from_glance_verifies_with_its_certificate_from_barbican() {
    let Some((glance, pki)) = labs() else { return };
    let client = Client::new(config(glance, pki.lab)).expect("a client");
    let image = upload(&client, pki, "image", &rsa(pki));
    let out = Out::new();
    let dest = out.path("image.raw");
    let report = client
        .download(&image.id, &dest, required())
        .expect("a verified download");
    let verified = report
        .signature
        .expect("the report says how it was verified");
    assert_eq!(verified.key_type, KeyType::RsaPss);
    assert_eq!(verified.hash_method, HashMethod::Sha256);
    assert_eq!(verified.certificate_uuid, pki.uuid("rsa2048"));
    assert_eq!(verified.certificate_subject, "CN=glance-client lab rsa2048");
    assert!(!verified.certificate_validated);
    assert!(matches!(report.source, DownloadSource::Http { .. }));
    // Glance's os_hash_algo is sha512: the signature's SHA-256 was one more stream.
    assert_eq!(report.verified, ["sha512"]);
    assert_eq!(
        std::fs::read(&dest).expect("the published file"),
        std::fs::read(pki.path("image")).expect("the image")
    );
    // Into a writer too.
    let mut sink = Vec::new();
    let report = client
        .download_to(&image.id, &mut sink, required())
        .expect("a verified download into a writer");
    assert!(report.signature.is_some());
    // Not required: a signed image is not verified, and the report says so.
    let report = client
        .download(&image.id, out.path("plain.raw"), DownloadOptions::default())
        .expect("a plain download");
    assert_eq!(report.signature, None);
}

#[test]
fn every_hash_the_signature_may_use_is_taken_in_the_same_pass() {
    let Some((glance, pki)) = labs() else { return };
    let client = Client::new(config(glance, pki.lab)).expect("a client");
    let out = Out::new();
    for (hash, short) in [
        ("SHA-224", "sha224"),
        ("SHA-384", "sha384"),
        ("SHA-512", "sha512"),
    ] {
        let props = signed(
            pki,
            &format!("p521-{short}.sig"),
            "p521",
            "ECC_SECP521R1",
            hash,
        );
        let image = upload(&client, pki, "image", &props);
        let report = client
            .download(
                &image.id,
                out.path(short),
                validated(pki, &["root", "intermediate"]),
            )
            .unwrap_or_else(|e| panic!("{hash}: {e}"));
        let verified = report.signature.expect("verified");
        assert_eq!(verified.hash_method.name(), hash);
        assert!(verified.certificate_validated, "{hash}: chained");
    }
}

#[test]
fn each_failure_is_refused_with_its_own_reason_and_publishes_nothing() {
    let Some((glance, pki)) = labs() else { return };
    let client = Client::new(config(glance, pki.lab)).expect("a client");
    let other_key = signed(pki, "other-sha256.sig", "rsa2048", "RSA-PSS", "SHA-256");
    let expired = signed(pki, "expired-sha256.sig", "expired", "RSA-PSS", "SHA-256");
    let rogue = signed(
        pki,
        "rogue-leaf-sha256.sig",
        "rogue-leaf",
        "RSA-PSS",
        "SHA-256",
    );
    let wrong_type = signed(
        pki,
        "rsa2048-sha256.sig",
        "rsa2048",
        "ECC_SECP384R1",
        "SHA-256",
    );
    let mut missing_cert = rsa(pki);
    missing_cert.insert(
        "img_signature_certificate_uuid".into(),
        "00000000-0000-4000-8000-000000000000".into(),
    );
    let cases: [(&str, Props, DownloadOptions<'static>, &str); 6] = [
        (
            "another key's signature",
            other_key,
            required(),
            "BadSignature",
        ),
        (
            "an expired certificate",
            expired,
            required(),
            "CertificateExpired",
        ),
        (
            "a certificate of an untrusted CA, validation on",
            rogue,
            validated(pki, &["root", "intermediate"]),
            "NotTrusted",
        ),
        (
            "a key type the key is not",
            wrong_type,
            required(),
            "KeyTypeMismatch",
        ),
        (
            "a certificate Barbican does not have",
            missing_cert,
            required(),
            "CertificateNotFound",
        ),
        (
            "an unsigned image, required",
            Props::new(),
            required(),
            "Unsigned",
        ),
    ];
    for (case, props, options, expected) in cases {
        let image = upload(&client, pki, "image", &props);
        let out = Out::new();
        let why = reason(client.download(&image.id, out.path("image.raw"), options));
        assert!(
            format!("{why:?}").starts_with(expected),
            "{case}: expected {expected}, got {why:?}"
        );
        out.assert_empty(case);
    }
}

#[test]
fn certificate_validation_on_without_trusted_certificates_refuses_as_nova_does() {
    let Some((glance, pki)) = labs() else { return };
    // nova.conf's way: validation on, no default_trusted_certificate_ids.
    let config = Config {
        verify_glance_signatures: true,
        enable_certificate_validation: true,
        ..config(glance, pki.lab)
    };
    let client = Client::new(config).expect("a client");
    let image = upload(&client, pki, "image", &rsa(pki));
    let out = Out::new();
    let why = reason(client.download(&image.id, out.path("x"), DownloadOptions::default()));
    assert_eq!(why, SignatureError::NoTrustedCertificates);
    out.assert_empty("no trusted certificates");
    // The configuration's trusted ids make it pass (and be validated).
    let config = Config {
        default_trusted_certificate_ids: vec![pki.uuid("root")],
        ..client.config().clone()
    };
    let report = Client::new(config)
        .expect("a client")
        .download(&image.id, out.path("x"), DownloadOptions::default())
        .expect("verified as configured");
    assert!(report.signature.expect("verified").certificate_validated);
    // SignatureCheck::Off downloads it unverified whatever the configuration.
    let off = DownloadOptions {
        signature: SignatureCheck::Off,
        ..DownloadOptions::default()
    };
    let report = client
        .download(&image.id, out.path("y"), off)
        .expect("not verified");
    assert_eq!(report.signature, None);
}

#[test]
fn certificates_can_come_from_a_directory_instead_of_barbican() {
    let Some((glance, pki)) = labs() else { return };
    // No Barbican at all: only the directory.
    let client = Client::new(glance.config()).expect("a client");
    let image = upload(&client, pki, "image", &rsa(pki));
    let certs = tempfile::tempdir().expect("a temp dir");
    let uuid = pki.uuid("rsa2048");
    // DER, under .der: the directory takes either form.
    std::fs::write(
        certs.path().join(format!("{uuid}.der")),
        pki::openssl_der(pki, "rsa2048"),
    )
    .expect("write the certificate");
    std::fs::copy(
        pki.path("root.pem"),
        certs.path().join(format!("{}.pem", pki.uuid("root"))),
    )
    .expect("copy the root");
    let options = DownloadOptions {
        signature: SignatureCheck::Required(Policy {
            source: Some(Arc::new(DirectorySource::new(certs.path()))),
            trusted_certificate_ids: vec![pki.uuid("root")],
            ..Policy::default()
        }),
        ..DownloadOptions::default()
    };
    let out = Out::new();
    let report = client
        .download(&image.id, out.path("x"), options)
        .expect("verified with the directory's certificate");
    assert!(report.signature.expect("verified").certificate_validated);
    // Without Barbican, the default source has nowhere to ask.
    let why = reason(client.download(&image.id, out.path("y"), required()));
    assert!(
        matches!(&why, SignatureError::CertificateUnavailable { reason, .. }
            if reason.contains("barbican_endpoint")),
        "{why:?}"
    );
}

#[test]
fn barbican_is_asked_with_the_token_and_the_token_is_never_logged() {
    let Some((glance, pki)) = labs() else { return };
    common::record_logs();
    // The lab's Barbican answers 401 to a request without a token.
    let anonymous = Client::new(Config {
        auth: Auth::None,
        ..config(glance, pki.lab)
    })
    .expect("a client");
    let image = upload(&anonymous, pki, "image", &rsa(pki));
    let out = Out::new();
    let why = reason(anonymous.download(&image.id, out.path("x"), required()));
    assert!(
        matches!(&why, SignatureError::CertificateUnavailable { reason, .. } if reason.contains("401")),
        "{why:?}"
    );
    let token = "s3cret-lab-token-for-barbican";
    let client = Client::new(Config {
        auth: Auth::Token(token.into()),
        ..config(glance, pki.lab)
    })
    .expect("a client");
    client
        .download(&image.id, out.path("x"), required())
        .expect("verified");
    let logs = common::logs();
    assert!(
        logs.iter().any(|l| l.contains("/v1/secrets/")),
        "Barbican's requests are logged at debug: {logs:?}"
    );
    assert!(
        !logs.iter().any(|l| l.contains(token)),
        "the token is never logged: {logs:?}"
    );
}

/// The scripted Glance's record of an image holding `data` (its checksums),
/// with `props` and `locations`.
fn scripted(
    data: &[u8],
    props: &Props,
    locations: &[(String, serde_json::Value)],
) -> harness::Scripted {
    let mut json = harness::image_json(data, locations);
    for (key, value) in props {
        json[key] = serde_json::Value::from(value.clone());
    }
    harness::serving(json, data.to_vec())
}

#[test]
fn a_flipped_byte_under_matching_checksums_is_caught_by_the_signature() {
    let Some(pki) = pki::get() else { return };
    // A Glance that serves other bytes with their own checksums: only the
    // signature can tell.
    let flipped = std::fs::read(pki.path("image-flipped")).expect("the flipped image");
    let server = scripted(&flipped, &rsa(pki), &[]);
    let client = harness::client(&[&server.url], |c| {
        c.auth = Auth::Token("lab-token".into());
        c.barbican_endpoint = Some(pki.lab.url.clone());
    });
    let out = Out::new();
    let why = reason(client.download(harness::ID, out.path("image.raw"), required()));
    assert_eq!(why, SignatureError::BadSignature);
    out.assert_empty("flipped byte");
    // Not required, the checksums pass: this is what the signature adds.
    client
        .download(
            harness::ID,
            out.path("image.raw"),
            DownloadOptions::default(),
        )
        .expect("the checksums alone accept it");
    // Into a writer: refused at the end (the writer has had the bytes).
    let mut sink = Vec::new();
    let why = reason(client.download_to(harness::ID, &mut sink, required()));
    assert_eq!(why, SignatureError::BadSignature);
}

#[test]
fn the_local_short_circuit_verifies_and_refuses_without_falling_back_to_http() {
    let Some(pki) = pki::get() else { return };
    let mount = tempfile::tempdir().expect("a mount");
    let image = std::fs::read(pki.path("image")).expect("the image");
    std::fs::write(mount.path().join(harness::ID), &image).expect("the store's file");
    let location = (
        format!("file:///var/lib/glance/images/{}", harness::ID),
        serde_json::json!({"id": "fs1", "mountpoint": "/var/lib/glance/images"}),
    );
    let local_client = |server: &harness::Scripted| {
        harness::client(&[&server.url], |c| {
            c.auth = Auth::Token("lab-token".into());
            c.barbican_endpoint = Some(pki.lab.url.clone());
            c.allowed_direct_url_schemes = vec!["file".into()];
            c.filesystems = vec![FileSystem {
                name: "store".into(),
                id: "fs1".into(),
                mountpoint: mount.path().to_path_buf(),
            }];
        })
    };
    let out = Out::new();
    let good = scripted(&image, &rsa(pki), std::slice::from_ref(&location));
    let report = local_client(&good)
        .download(harness::ID, out.path("good.raw"), required())
        .expect("verified from the local copy");
    assert!(matches!(report.source, DownloadSource::Local { .. }));
    assert!(report.signature.is_some());
    assert!(good.data_requests().is_empty(), "no HTTP data request");
    // Another key's signature: the local copy is the image (its checksum
    // matched), so HTTP would only repeat the refusal; it is not asked.
    let other_key = signed(pki, "other-sha256.sig", "rsa2048", "RSA-PSS", "SHA-256");
    let bad = scripted(&image, &other_key, &[location]);
    let out = Out::new();
    let why = reason(local_client(&bad).download(harness::ID, out.path("bad.raw"), required()));
    assert_eq!(why, SignatureError::BadSignature);
    assert!(bad.data_requests().is_empty(), "no fallback to HTTP");
    out.assert_empty("local copy refused");
}

#[test]
fn the_local_copy_of_the_real_glance_store_verifies() {
    let Some((glance, pki)) = labs() else { return };
    let (Some(store), Some(fs_id)) = (&glance.store_dir, &glance.fs_id) else {
        support::say("the Glance lab's store is not on this machine: local copy not tested");
        return;
    };
    let config = Config {
        allowed_direct_url_schemes: vec!["file".into()],
        filesystems: vec![FileSystem {
            name: "lab".into(),
            id: fs_id.clone(),
            mountpoint: store.clone(),
        }],
        ..config(glance, pki.lab)
    };
    let client = Client::new(config).expect("a client");
    let image = upload(&client, pki, "image", &rsa(pki));
    let out = Out::new();
    let report = client
        .download(&image.id, out.path("x"), required())
        .expect("verified from the local store");
    assert!(
        matches!(report.source, DownloadSource::Local { .. }),
        "{report:?}"
    );
    assert!(report.signature.is_some());
}

/// cursive's verdict (`VERIFIED` or `REFUSED: ...`) on the fixture's
/// `image` with `props`, validating against `trusted` when given.
fn cursive(pki: &Pki, image: &Path, props: &Props, trusted: Option<&[&str]>) -> String {
    let file = tempfile::NamedTempFile::new().expect("a temp file");
    std::fs::write(file.path(), serde_json::to_vec(props).expect("JSON")).expect("props");
    let oracle = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lab/cursive_oracle.py");
    let mut command = Command::new(&pki.lab.python);
    command.arg(oracle).arg(image).arg(file.path());
    command
        .env("BARBICAN_URL", &pki.lab.url)
        .env("BARBICAN_PROJECT_ID", &pki.lab.project);
    if let Some(trusted) = trusted {
        command.arg("--validate");
        for name in trusted {
            command.arg("--trusted").arg(pki.uuid(name));
        }
    }
    let out = command.output().expect("running cursive_oracle.py");
    let verdict = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(out.status.success(), "cursive_oracle.py: {out:?}");
    verdict
}

#[test]
fn the_downloaders_verdicts_are_cursives() {
    let Some((glance, pki)) = labs() else { return };
    let client = Client::new(config(glance, pki.lab)).expect("a client");
    let trusted: &[&str] = &["root", "intermediate"];
    let cases: [(&str, Props, Option<&[&str]>); 5] = [
        ("RSA-PSS SHA-256", rsa(pki), None),
        (
            "P-384 under the intermediate, validated",
            signed(pki, "p384-sha384.sig", "p384", "ECC_SECP384R1", "SHA-384"),
            Some(trusted),
        ),
        (
            "DSA SHA-224",
            signed(pki, "dsa-sha224.sig", "dsa", "DSA", "SHA-224"),
            None,
        ),
        (
            "another key",
            signed(pki, "other-sha256.sig", "rsa2048", "RSA-PSS", "SHA-256"),
            None,
        ),
        (
            "untrusted CA, validated",
            signed(
                pki,
                "rogue-leaf-sha256.sig",
                "rogue-leaf",
                "RSA-PSS",
                "SHA-256",
            ),
            Some(trusted),
        ),
    ];
    let mut differ = Vec::new();
    for (case, props, trust) in cases {
        let image = upload(&client, pki, "image", &props);
        let options = match trust {
            Some(names) => validated(pki, names),
            None => required(),
        };
        let out = Out::new();
        let ours = client.download(&image.id, out.path("x"), options);
        let theirs = cursive(pki, &pki.path("image"), &props, trust);
        support_barbican::say(&format!(
            "{case:<42} ours: {:<40} cursive: {theirs}",
            ours.as_ref()
                .map_or_else(|e| format!("refused: {e}"), |_| "verified".into())
        ));
        if ours.is_ok() != (theirs == "VERIFIED") {
            differ.push(case);
        }
    }
    assert!(
        differ.is_empty(),
        "verdicts differ from cursive's: {differ:?}"
    );
}

#[test]
fn the_tool_verifies_or_refuses_in_one_line() {
    let Some((glance, pki)) = labs() else { return };
    let client = Client::new(config(glance, pki.lab)).expect("a client");
    let good = upload(&client, pki, "image", &rsa(pki));
    let other_key = signed(pki, "other-sha256.sig", "rsa2048", "RSA-PSS", "SHA-256");
    let bad = upload(&client, pki, "image", &other_key);
    let unsigned = upload(&client, pki, "image", &Props::new());
    let conf = tempfile::NamedTempFile::new().expect("a temp file");
    std::fs::write(
        conf.path(),
        format!(
            "[glance]\napi_servers = {}\n[barbican]\nbarbican_endpoint = {}\n",
            glance.endpoint, pki.lab.url
        ),
    )
    .expect("nova.conf");
    let conf = conf.path().to_str().expect("UTF-8").to_string();
    let out = Out::new();
    let dest = out.path("image.raw");
    let dest = dest.to_str().expect("UTF-8");
    let base = [
        "--config-file",
        conf.as_str(),
        "--os-auth-token",
        "lab-token",
        "--json",
    ];
    let download = |id: &str, extra: &[&str]| {
        let mut args: Vec<&str> = base.to_vec();
        args.extend(["image-download", id, "--file", dest]);
        args.extend(extra);
        cli::glance(&args)
    };
    let run = download(&good.id, &["--verify-signature"]).ok();
    assert_eq!(run.json()["signature"], "verified", "{run:?}");
    // Not asked: not verified, and the report says so.
    let run = download(&good.id, &[]).ok();
    assert_eq!(run.json()["signature"], serde_json::Value::Null, "{run:?}");
    std::fs::remove_file(dest).expect("remove the download");
    download(&bad.id, &["--verify-signature"]).fails(1, &[&bad.id, "bad signature"]);
    download(&unsigned.id, &["--verify-signature"]).fails(1, &["not signed"]);
    out.assert_empty("refused by the tool");
    // The certificate from a directory, no Barbican needed.
    let certs = tempfile::tempdir().expect("a temp dir");
    std::fs::copy(
        pki.path("rsa2048.pem"),
        certs.path().join(format!("{}.pem", pki.uuid("rsa2048"))),
    )
    .expect("copy the certificate");
    let dir = certs.path().to_str().expect("UTF-8");
    let run = cli::glance(&[
        "--os-image-url",
        &glance.endpoint,
        "image-download",
        &good.id,
        "--file",
        dest,
        "--verify-signature",
        "--trusted-cert-dir",
        dir,
    ])
    .ok();
    assert!(
        run.stdout
            .contains("signature verified (RSA-PSS, SHA-256, certificate"),
        "{run:?}"
    );
    // A directory without verification would be ignored: a usage error.
    cli::glance(&[
        "--os-image-url",
        &glance.endpoint,
        "image-download",
        &good.id,
        "--file",
        dest,
        "--trusted-cert-dir",
        dir,
    ])
    .fails(2, &["--trusted-cert-dir", "--verify-signature"]);
    // The configuration asks for verification: config-check shows it.
    let conf = tempfile::NamedTempFile::new().expect("a temp file");
    std::fs::write(
        conf.path(),
        "[glance]\napi_servers = http://127.0.0.1:9\nverify_glance_signatures = True\n\
         enable_certificate_validation = True\ndefault_trusted_certificate_ids = a, b\n\
         [barbican]\nbarbican_endpoint = http://kms:9311\nbarbican_endpoint_type = internal\n",
    )
    .expect("nova.conf");
    let run = cli::glance(&[
        "--config-file",
        conf.path().to_str().expect("UTF-8"),
        "config-check",
    ])
    .ok();
    let shown = run.json();
    assert_eq!(shown["verify_glance_signatures"], true);
    assert_eq!(shown["enable_certificate_validation"], true);
    assert_eq!(
        shown["default_trusted_certificate_ids"],
        serde_json::json!(["a", "b"])
    );
    assert_eq!(shown["barbican_endpoint"], "http://kms:9311");
    assert_eq!(shown["barbican_endpoint_type"], "internal");
    assert_eq!(shown["signatures_feature"], true);
}

#[test]
fn the_host_cache_hands_out_only_verified_entries_when_signatures_are_required() {
    let Some((glance, pki)) = labs() else { return };
    let client = Client::new(config(glance, pki.lab)).expect("a client");
    let image = upload(&client, pki, "image", &rsa(pki));
    let dir = tempfile::tempdir().expect("a temp dir");
    let cache = glance_client::ImageCache::new(dir.path()).expect("a cache");
    // Fetched without verification...
    let plain = cache
        .fetch(&client, &image.id, DownloadOptions::default())
        .expect("fetched");
    assert!(plain.signature.is_none() && plain.download.is_some());
    // ... so a fetch that requires it downloads again, verified.
    let verified = cache
        .fetch(&client, &image.id, required())
        .expect("fetched again");
    assert!(verified.download.is_some(), "downloaded again");
    assert!(verified.signature.is_some());
    // Now the entry is verified: a hit.
    let hit = cache.fetch(&client, &image.id, required()).expect("a hit");
    assert!(hit.download.is_none(), "no download");
    assert_eq!(hit.signature, verified.signature);
    // The image's signature changed: fetched again, and refused.
    let update = glance_client::ImageUpdate {
        set_properties: signed(pki, "other-sha256.sig", "rsa2048", "RSA-PSS", "SHA-256"),
        ..Default::default()
    };
    client.update_image(&image.id, &update).expect("re-signed");
    let why = match cache.fetch(&client, &image.id, required()) {
        Err(Error::Signature { reason, .. }) => *reason,
        other => panic!("expected a refusal, got {other:?}"),
    };
    assert_eq!(why, SignatureError::BadSignature);
}

#[test]
fn barbican_is_found_in_the_keystone_catalog() {
    let Some(pki) = pki::get() else { return };
    let Some(ks) = support::keystone_lab() else {
        return;
    };
    add_key_manager(ks, &pki.lab.url);
    let client = Client::new(ks.config(Auth::Password(ks.demo_password()))).expect("a client");
    // A signed image in the Keystone-backed Glance, found in the catalog too.
    let image = upload(&client, pki, "image", &rsa(pki));
    let out = Out::new();
    let report = client
        .download(&image.id, out.path("x"), required())
        .expect("verified, Barbican from the catalog");
    assert_eq!(
        report.signature.expect("verified").certificate_uuid,
        pki.uuid("rsa2048")
    );
    // Another region has no key manager: the catalog says what it has.
    let config = Config {
        barbican_region_name: Some("Elsewhere".into()),
        ..ks.config(Auth::Password(ks.demo_password()))
    };
    let why = reason(Client::new(config).expect("a client").download(
        &image.id,
        out.path("y"),
        required(),
    ));
    assert!(
        matches!(&why, SignatureError::CertificateUnavailable { reason, .. }
            if reason.contains("no key-manager endpoint with interface public in region Elsewhere")),
        "{why:?}"
    );
}

/// Puts a `key-manager` service with a public endpoint at `url` into the
/// Keystone lab's catalog (as an admin; idempotent, re-pointed when the lab
/// was started by hand with another Barbican).
fn add_key_manager(ks: &support::KeystoneLab, url: &str) {
    let api = format!("{}/v3", ks.var("KEYSTONE_URL"));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let login = serde_json::json!({"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": ks.var("KEYSTONE_ADMIN_USERNAME"), "domain": {"id": "default"},
            "password": ks.var("KEYSTONE_ADMIN_PASSWORD")}}},
        "scope": {"system": {"all": true}}}});
    let response = agent
        .post(format!("{api}/auth/tokens"))
        .header("Content-Type", "application/json")
        .send(login.to_string())
        .expect("an admin login");
    assert_eq!(response.status(), 201, "admin login");
    let token = response
        .headers()
        .get("X-Subject-Token")
        .and_then(|v| v.to_str().ok())
        .expect("a token")
        .to_string();
    let call = |method: &str, path: &str, body: Option<serde_json::Value>| {
        let request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{api}{path}"))
            .header("X-Auth-Token", &token)
            .header("Content-Type", "application/json")
            .body(body.map(|b| b.to_string()).unwrap_or_default())
            .expect("a request");
        let mut response = agent.run(request).expect("an answer from Keystone");
        let text = response.body_mut().read_to_string().unwrap_or_default();
        assert!(response.status().is_success(), "{method} {path}: {text}");
        serde_json::from_str::<serde_json::Value>(&text).unwrap_or_default()
    };
    let services = call("GET", "/services?type=key-manager", None);
    let service_id = match services["services"][0]["id"].as_str() {
        Some(id) => id.to_string(),
        None => call(
            "POST",
            "/services",
            Some(serde_json::json!({"service": {"type": "key-manager", "name": "barbican"}})),
        )["service"]["id"]
            .as_str()
            .expect("a service id")
            .to_string(),
    };
    let found = call(
        "GET",
        &format!("/endpoints?service_id={service_id}&interface=public"),
        None,
    );
    let want = serde_json::json!({"url": url, "region_id": ks.var("OS_REGION_NAME")});
    match found["endpoints"][0]["id"].as_str() {
        Some(id) => {
            call(
                "PATCH",
                &format!("/endpoints/{id}"),
                Some(serde_json::json!({"endpoint": want})),
            );
        }
        None => {
            let mut endpoint = want;
            endpoint["service_id"] = service_id.into();
            endpoint["interface"] = "public".into();
            call(
                "POST",
                "/endpoints",
                Some(serde_json::json!({"endpoint": endpoint})),
            );
        }
    }
}
