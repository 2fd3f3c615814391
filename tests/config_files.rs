//! Reading Nova's configuration: errors with their lines, several files, and
//! robustness against arbitrary text.

use std::fs;
use std::path::Path;

use glance_client::{Config, Error};

/// The line and message of the configuration error `text` must produce.
fn config_error(text: &str) -> (Option<usize>, String) {
    match Config::from_ini_str(text) {
        Err(Error::Config {
            file: None,
            line,
            message,
        }) => (line, message),
        other => panic!("expected a configuration error for {text:?}, got {other:?}"),
    }
}

#[test]
fn a_bad_url_is_an_error_at_its_line() {
    let (line, message) =
        config_error("[glance]\n\napi_servers = http://ok:9292, http://[::1:9292\n");
    assert_eq!(line, Some(3));
    assert_eq!(
        message,
        "[glance] api_servers: \"http://[::1:9292\" has an unclosed \"[\": \
         expected http(s)://host[:port][/path]"
    );
    let (line, message) = config_error("[glance]\napi_servers = ftp://images:21\n");
    assert_eq!(line, Some(2));
    assert_eq!(
        message,
        "[glance] api_servers: \"ftp://images:21\" has scheme \"ftp\": expected http or https"
    );
    let (line, message) = config_error("[glance]\nendpoint_override = glance:9292/x?y\n");
    assert_eq!(line, Some(2));
    assert!(
        message.starts_with("[glance] endpoint_override: "),
        "{message}"
    );
    assert_eq!(
        config_error("[glance]\napi_servers = http://h:70000\n").0,
        Some(2)
    );
}

#[test]
fn a_non_ascii_url_is_an_error_not_a_panic() {
    // url's IDNA step (idna_adapter 1.0) asserts on upper case mixed with
    // non-ASCII in debug builds; the parser must refuse such a host first.
    let (line, message) = config_error("[glance]\nhost = GLANCE.bücher.example\n");
    assert_eq!(line, Some(2));
    assert_eq!(
        message,
        "[glance] host: \"http://GLANCE.bücher.example:9292\" is not ASCII: expected \
         http(s)://host[:port][/path], with an international host name in its xn-- form"
    );
    let (line, _) = config_error("[glance]\napi_servers = http://JJ\u{feff}J.example\n");
    assert_eq!(line, Some(2));
}

#[test]
fn a_port_out_of_range_is_an_error_at_its_line() {
    for port in ["0", "65536", "-1", "http"] {
        let (line, message) = config_error(&format!("[glance]\nhost = g\nport = {port}\n"));
        assert_eq!(line, Some(3), "{port}");
        assert_eq!(
            message,
            format!("[glance] port = \"{port}\": expected a port number from 1 to 65535")
        );
    }
}

#[test]
fn an_unknown_protocol_is_an_error_at_its_line() {
    let (line, message) = config_error("[glance]\nhost = g\n\nprotocol = gopher\n");
    assert_eq!(line, Some(4));
    assert_eq!(
        message,
        "[glance] protocol = \"gopher\": expected a protocol, http or https"
    );
}

#[test]
fn a_host_that_makes_no_url_is_an_error_naming_host() {
    let (line, message) = config_error("[glance]\nhost = a b\n");
    assert_eq!(line, Some(2));
    assert!(
        message.starts_with("[glance] host: \"http://a b:9292\""),
        "{message}"
    );
}

#[test]
fn booleans_and_integers_that_do_not_parse_are_errors_at_their_line() {
    let cases = [
        (
            "insecure = maybe",
            "[glance] insecure = \"maybe\": expected a boolean (true/false, yes/no, on/off, 1/0)",
        ),
        (
            "verify_glance_signatures = y",
            "[glance] verify_glance_signatures = \"y\": expected a boolean (true/false, yes/no, on/off, 1/0)",
        ),
        (
            "api_insecure = 2",
            "[glance] api_insecure = \"2\": expected a boolean (true/false, yes/no, on/off, 1/0)",
        ),
        (
            "num_retries = three",
            "[glance] num_retries = \"three\": expected an integer",
        ),
        (
            "num_retries = 4294967296",
            "[glance] num_retries = \"4294967296\": expected an integer from 0 to 4294967295",
        ),
        (
            "timeout = 0",
            "[glance] timeout = \"0\": expected a whole number of seconds, at least 1",
        ),
        (
            "timeout = 1.5",
            "[glance] timeout = \"1.5\": expected an integer",
        ),
        (
            "api_version = 3",
            "[glance] api_version = \"3\": expected 1 or 2",
        ),
    ];
    for (option, expected) in cases {
        let (line, message) = config_error(&format!("# c\n[glance]\n{option}\n"));
        assert_eq!(line, Some(3), "{option}");
        assert_eq!(message, expected);
    }
}

#[test]
fn listed_filesystems_need_a_section_with_id_and_absolute_mountpoint() {
    let head = "[image_file_url]\nfilesystems = shared\n";
    let (line, message) = config_error(head);
    assert_eq!(line, Some(2));
    assert_eq!(
        message,
        "[image_file_url] filesystems lists \"shared\", but there is no \
         [image_file_url:shared] section: expected one with id and mountpoint"
    );
    let (line, message) = config_error(&format!(
        "{head}\n[image_file_url:shared]\nmountpoint = /m\n"
    ));
    assert_eq!(line, Some(4), "the section header");
    assert_eq!(
        message,
        "[image_file_url:shared] has no id: expected \
         \"id = <the id Glance puts in the location metadata>\""
    );
    let (line, message) = config_error(&format!("{head}[image_file_url:shared]\nid = s\n"));
    assert_eq!(line, Some(3));
    assert!(
        message.starts_with("[image_file_url:shared] has no mountpoint"),
        "{message}"
    );
    let (line, message) = config_error(&format!(
        "{head}[image_file_url:shared]\nid = s\nmountpoint = mnt/s\n"
    ));
    assert_eq!(line, Some(5));
    assert_eq!(
        message,
        "[image_file_url:shared] mountpoint = \"mnt/s\": expected an absolute path"
    );
}

#[test]
fn unterminated_interpolation_is_an_error_at_its_line() {
    let (line, message) = config_error("[glance]\napi_servers = http://${my_ip:9292\n");
    assert_eq!(line, Some(2));
    assert_eq!(
        message,
        "[glance] api_servers: unterminated \"${\" in \"http://${my_ip:9292\": \
         expected ${name} or ${section.name}"
    );
}

#[test]
fn circular_interpolation_is_an_error_at_the_line_closing_the_circle() {
    let (line, message) = config_error("[DEFAULT]\na = $b\nb = $a\n[glance]\nhost = $a\n");
    assert_eq!(line, Some(3));
    assert_eq!(
        message,
        "[glance] host (through [DEFAULT] b): circular interpolation: \
         [glance] host -> [DEFAULT] a -> [DEFAULT] b -> [DEFAULT] a"
    );
}

#[test]
fn a_reference_to_an_unset_option_is_an_error() {
    let (line, message) = config_error("[glance]\n\ncafile = $ca_dir/ca.pem\n");
    assert_eq!(line, Some(3));
    assert_eq!(
        message,
        "[glance] cafile: $ca_dir refers to an option that is not set (looked in [glance] and [DEFAULT])"
    );
}

#[test]
fn malformed_lines_are_errors_at_their_line() {
    assert_eq!(config_error("[glance]\napi_servers\n").0, Some(2));
    assert_eq!(config_error("[glance\n").0, Some(1));
    assert_eq!(config_error("api_servers = http://x\n").0, Some(1));
    assert_eq!(config_error("[glance]\n\n   http://x\n").0, Some(3));
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_later_file_overrides_an_earlier_one_option_by_option() {
    let dir = tempfile::tempdir().unwrap();
    let first = write(
        dir.path(),
        "nova.conf",
        "[DEFAULT]\nmy_ip = 10.0.0.1\n[glance]\napi_servers = http://a.example:9292\n\
         num_retries = 5\ninsecure = true\n",
    );
    let second = write(
        dir.path(),
        "override.conf",
        "[DEFAULT]\nmy_ip = 10.0.0.2\n[glance]\napi_servers = http://$my_ip:9292\ninsecure = no\n",
    );
    let config = Config::from_files([&first, &second]).unwrap();
    assert_eq!(config.api_servers, ["http://10.0.0.2:9292"]);
    assert_eq!(config.num_retries, 5, "kept from the first file");
    assert!(!config.insecure);
    let reversed = Config::from_files([&second, &first]).unwrap();
    assert_eq!(reversed.api_servers, ["http://a.example:9292"]);
    assert!(reversed.insecure);
}

#[test]
fn interpolation_sees_the_merged_files() {
    let dir = tempfile::tempdir().unwrap();
    let base = write(dir.path(), "a.conf", "[glance]\nhost = $my_ip\n");
    let site = write(dir.path(), "b.conf", "[DEFAULT]\nmy_ip = 192.0.2.1\n");
    let config = Config::from_files([&base, &site]).unwrap();
    assert_eq!(config.api_servers, ["http://192.0.2.1:9292"]);
    assert_eq!(
        config.warnings,
        [format!(
            "{}:2: [glance] host is deprecated: write \"api_servers = http://192.0.2.1:9292\" in [glance]",
            base.display()
        )]
    );
}

#[test]
fn errors_from_files_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "a.conf", "[glance]\napi_servers = http://a:1\n");
    let bad = write(dir.path(), "b.conf", "[glance]\n\ninsecure = sometimes\n");
    match Config::from_files([&good, &bad]) {
        Err(Error::Config { file, line, .. }) => {
            assert_eq!(file.as_deref(), Some(bad.as_path()));
            assert_eq!(line, Some(3));
        }
        other => panic!("expected a configuration error in b.conf, got {other:?}"),
    }
    let not_utf8 = dir.path().join("c.conf");
    fs::write(&not_utf8, b"[glance]\n\nhost = caf\xe9\n").unwrap();
    match Config::from_file(&not_utf8) {
        Err(Error::Config { line, message, .. }) => {
            assert_eq!(line, Some(3));
            assert_eq!(message, "not valid UTF-8");
        }
        other => panic!("expected an encoding error, got {other:?}"),
    }
    let missing = dir.path().join("missing.conf");
    match Config::from_file(&missing) {
        Err(e @ Error::Io { .. }) => assert!(e.to_string().contains("missing.conf"), "{e}"),
        other => panic!("expected an I/O error, got {other:?}"),
    }
}

/// The three `[glance]` options asking for signature verification, each on
/// line 4 of a file.
const SIGNATURE_LINES: [&str; 3] = [
    "verify_glance_signatures = True",
    "enable_certificate_validation = yes",
    "default_trusted_certificate_ids = cert-1, cert-2",
];

#[test]
#[cfg(not(feature = "signatures"))]
fn without_the_feature_signature_options_are_errors_naming_the_option_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let expected = [
        "[glance] verify_glance_signatures = \"True\" asks for image signature \
         verification, which needs glance-client built with its cargo feature `signatures`",
        "[glance] enable_certificate_validation = \"yes\" asks for",
        "[glance] default_trusted_certificate_ids = \"cert-1, cert-2\" asks for",
    ];
    for (line, expected) in SIGNATURE_LINES.iter().zip(expected) {
        let path = write(
            dir.path(),
            "nova.conf",
            &format!("[glance]\napi_servers = http://a:1\n\n{line}\n"),
        );
        match Config::from_file(&path) {
            Err(Error::Config {
                file,
                line: at,
                message,
            }) => {
                assert_eq!(file.as_deref(), Some(path.as_path()), "{line}");
                assert_eq!(at, Some(4), "{line}");
                assert!(message.starts_with(expected), "{line}: {message}");
            }
            other => panic!("{line}: expected a configuration error, got {other:?}"),
        }
    }
    // Switched off, or empty, they ask for nothing.
    let off = "[glance]\nverify_glance_signatures = False\n\
               enable_certificate_validation = false\ndefault_trusted_certificate_ids =\n";
    let config = Config::from_ini_str(off).unwrap();
    assert!(!config.verify_glance_signatures);
}

#[test]
#[cfg(not(feature = "signatures"))]
fn without_the_feature_a_config_built_in_code_asking_for_signature_checks_is_refused() {
    let config = Config {
        verify_glance_signatures: true,
        ..Config::for_server("http://127.0.0.1:9292")
    };
    match glance_client::Client::new(config) {
        Err(Error::Config { message, .. }) => {
            assert!(
                message.starts_with("verify_glance_signatures is true")
                    && message.contains("cargo feature `signatures`"),
                "{message}"
            );
        }
        other => panic!("expected a configuration error, got {other:?}"),
    }
}

#[test]
#[cfg(feature = "signatures")]
fn with_the_feature_the_signature_and_barbican_options_are_read() {
    let text = "[glance]\napi_servers = http://a:1\n\n".to_string()
        + &SIGNATURE_LINES.join("\n")
        + "\n[barbican]\nbarbican_endpoint = https://kms.example:9311\n\
           barbican_endpoint_type = Internal\nbarbican_region_name = r2\n";
    let config = Config::from_ini_str(&text).unwrap();
    assert!(config.verify_glance_signatures && config.enable_certificate_validation);
    assert_eq!(config.default_trusted_certificate_ids, ["cert-1", "cert-2"]);
    assert_eq!(
        config.barbican_endpoint.as_deref(),
        Some("https://kms.example:9311")
    );
    assert_eq!(config.barbican_endpoint_type, "internal");
    assert_eq!(config.barbican_region_name.as_deref(), Some("r2"));
    let policy = config.signature_policy().expect("verification is required");
    assert!(policy.source.is_none() && policy.validate_certificate && policy.validates());
    assert_eq!(policy.trusted_certificate_ids, ["cert-1", "cert-2"]);
    glance_client::Client::new(config).expect("a client that verifies signatures");
    let (line, message) = config_error("[barbican]\nbarbican_endpoint_type = private\n");
    assert_eq!(line, Some(2));
    assert!(message.contains("public, internal or admin"), "{message}");
    let (line, message) = config_error("[barbican]\nbarbican_endpoint = ftp://kms\n");
    assert_eq!(line, Some(2));
    assert!(message.contains("barbican_endpoint"), "{message}");
}

#[test]
#[cfg(feature = "signatures")]
fn with_the_feature_the_signature_policy_is_novas() {
    let policy = |text: &str| Config::from_ini_str(text).unwrap().signature_policy();
    // Nothing asked.
    assert!(policy("[glance]\n").is_none());
    // Trusted ids without validation are not used, as in Nova.
    assert!(policy("[glance]\ndefault_trusted_certificate_ids = a\n").is_none());
    // Validation with trusted ids turns verification on by itself.
    let p = policy(
        "[glance]\nenable_certificate_validation = true\ndefault_trusted_certificate_ids = a\n",
    )
    .expect("required");
    assert_eq!(p.trusted_certificate_ids, ["a"]);
    // Validation without trusted ids only matters when verification is on.
    assert!(policy("[glance]\nenable_certificate_validation = true\n").is_none());
    let p =
        policy("[glance]\nverify_glance_signatures = true\nenable_certificate_validation = true\n")
            .expect("required");
    assert!(p.validates() && p.trusted_certificate_ids.is_empty());
    // ... which is worth a warning: every signed image would be refused.
    let config = Config::from_ini_str(
        "[glance]\nverify_glance_signatures = true\nenable_certificate_validation = true\n",
    )
    .unwrap();
    assert!(
        config
            .warnings
            .iter()
            .any(|w| w.contains("line 3") && w.contains("every signed image will be refused")),
        "{:?}",
        config.warnings
    );
    let p = policy("[glance]\nverify_glance_signatures = true\n").expect("required");
    assert!(!p.validates());
}

#[test]
fn no_files_give_the_defaults() {
    // Nova's defaults, for what a nova.conf reader always knows: the host
    // image cache under /var/lib/nova, kept 24 hours.
    let none: [&Path; 0] = [];
    let expected = Config {
        image_cache_dir: Some("/var/lib/nova/instances/_base".into()),
        image_cache_max_age: Some(std::time::Duration::from_secs(86_400)),
        ..Config::default()
    };
    assert_eq!(Config::from_files(none).unwrap(), expected);
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 8) as usize
    }
}

#[test]
fn mangled_configurations_never_panic_and_parse_the_same_twice() {
    let fixture = include_str!("fixtures/nova.conf");
    let pieces = [
        "$",
        "${",
        "}",
        "$$",
        "\\$",
        "[",
        "]",
        "=",
        ":",
        "\n",
        "\n ",
        "#",
        ",",
        "\"",
        "$my_ip",
        "${DEFAULT.my_ip}",
        "[glance]\n",
        "host = ",
        "port = ",
        "api_servers = ",
        "::",
        "é",
        "[image_file_url:nfs_gold]\n",
        "$a$a$a",
        "a = $b\n",
        "b = $a\n",
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..500 {
        let mut text: Vec<char> = fixture.chars().collect();
        for _ in 0..1 + rng.next() % 8 {
            let at = rng.next() % (text.len() + 1);
            match rng.next() % 3 {
                0 => {
                    let piece = pieces[rng.next() % pieces.len()];
                    text.splice(at..at, piece.chars());
                }
                1 => {
                    let end = (at + rng.next() % 40).min(text.len());
                    text.drain(at..end);
                }
                _ => {
                    let end = (at + rng.next() % 200).min(text.len());
                    let copy: Vec<char> = text[at..end].to_vec();
                    let to = rng.next() % (text.len() + 1);
                    text.splice(to..to, copy);
                }
            }
        }
        let text: String = text.into_iter().collect();
        let once = format!("{:?}", Config::from_ini_str(&text));
        let twice = format!("{:?}", Config::from_ini_str(&text));
        assert_eq!(once, twice, "not deterministic for {text:?}");
    }
}
