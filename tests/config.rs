//! Reading Nova's configuration: values, deprecations, merging and errors.
//! Nova's own cases first, then the rest of the options, then a deployed file.

use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::Once;
use std::time::Duration;

use glance_client::auth::{ApplicationCredential, Domain, Password, Project, User};
use glance_client::{ApiVersion, Auth, Config, Error, FileSystem};

/// Captures this thread's `log::warn!` records from the crate.
struct Capture;

thread_local! {
    static LOGGED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

impl log::Log for Capture {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Warn
    }
    fn log(&self, record: &log::Record<'_>) {
        if record.level() == log::Level::Warn && record.target().starts_with("glance_client") {
            LOGGED.with(|l| l.borrow_mut().push(record.args().to_string()));
        }
    }
    fn flush(&self) {}
}

/// Parses `text` and returns the config and what was logged while parsing.
fn parse_logged(text: &str) -> (Config, Vec<String>) {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        log::set_logger(&Capture).expect("no other logger in this test binary");
        log::set_max_level(log::LevelFilter::Warn);
    });
    LOGGED.with(|l| l.borrow_mut().clear());
    let config = Config::from_ini_str(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
    (config, LOGGED.with(|l| l.take()))
}

/// What a nova.conf that sets nothing means: `Config::default()` plus the
/// compute host's own defaults (Nova's image cache directory and age).
fn nova_defaults() -> Config {
    Config {
        image_cache_dir: Some(PathBuf::from("/var/lib/nova/instances/_base")),
        image_cache_max_age: Some(Duration::from_secs(86_400)),
        ..Config::default()
    }
}

fn parse(text: &str) -> Config {
    parse_logged(text).0
}

#[test]
fn api_server_without_a_scheme_gets_http_and_a_warning() {
    let (config, logged) = parse_logged("[glance]\napi_servers = 10.0.1.1:9292\n");
    assert_eq!(config.api_servers, ["http://10.0.1.1:9292"]);
    let expected = "line 2: [glance] api_servers: \"10.0.1.1:9292\" has no scheme, so http:// \
                    is assumed: write \"api_servers = http://10.0.1.1:9292\" in [glance]";
    assert_eq!(config.warnings, [expected]);
    assert_eq!(logged, [expected], "each warning is logged once");
}

#[test]
fn ipv6_host_port_and_protocol_become_a_bracketed_url() {
    let config = parse("[glance]\nhost = f000::c0de\nport = 9292\nprotocol = https\n");
    assert_eq!(config.api_servers, ["https://[f000::c0de]:9292"]);
    assert_eq!(
        config.warnings,
        ["line 2: [glance] host/port/protocol are deprecated: \
          write \"api_servers = https://[f000::c0de]:9292\" in [glance]"]
    );
}

#[test]
fn host_interpolates_my_ip_from_default() {
    let config = parse("[DEFAULT]\nmy_ip = 10.1.2.3\n[glance]\nhost = $my_ip\n");
    assert_eq!(config.api_servers, ["http://10.1.2.3:9292"]);
    assert_eq!(
        config.warnings,
        [
            "line 4: [glance] host is deprecated: write \"api_servers = http://10.1.2.3:9292\" in [glance]"
        ]
    );
}

#[test]
fn host_defaults_to_my_ip_and_port_and_protocol_default_too() {
    let config = parse("[DEFAULT]\nmy_ip = 2001:db8::5\n[glance]\nprotocol = https\n");
    assert_eq!(config.api_servers, ["https://[2001:db8::5]:9292"]);
    let config = parse("[DEFAULT]\nmy_ip = 10.9.9.9\n[glance]\nport = 9393\n");
    assert_eq!(config.api_servers, ["http://10.9.9.9:9393"]);
}

#[test]
fn unset_my_ip_falls_back_to_loopback_with_a_warning() {
    let (config, logged) = parse_logged("[glance]\nport = 9393\n");
    assert_eq!(config.api_servers, ["http://127.0.0.1:9393"]);
    let expected = [
        "line 2: [DEFAULT] my_ip is not set, so $my_ip is 127.0.0.1 (Nova would use this \
         host's address): write \"my_ip = <this host's address>\" in [DEFAULT]",
        "line 2: [glance] port is deprecated: write \"api_servers = http://127.0.0.1:9393\" in [glance]",
    ];
    assert_eq!(config.warnings, expected);
    assert_eq!(logged, expected);
    let config = parse("[glance]\napi_servers = http://$my_ip:9292, http://${my_ip}:9393\n");
    assert_eq!(
        config.api_servers,
        ["http://127.0.0.1:9292", "http://127.0.0.1:9393"]
    );
    assert_eq!(config.warnings.len(), 1, "{:?}", config.warnings);
}

#[test]
fn no_server_options_leave_api_servers_empty_without_guessing() {
    let config = parse("[DEFAULT]\nmy_ip = 10.0.0.1\n[glance]\nnum_retries = 1\n");
    assert!(config.api_servers.is_empty());
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
}

#[test]
fn each_deprecation_warns_exactly_once() {
    let text = "[DEFAULT]\nmy_ip = 10.0.0.5\n[glance]\n\
                api_servers = glance.example:9292\nhost = old.example\n\
                api_insecure = yes\nuse_glance_v1 = true\nnum_retries = -1\n\
                [ssl]\nca_file = /etc/ssl/ca.pem\ncert_file = /etc/ssl/c.pem\n\
                key_file = /etc/ssl/k.pem\n[glance]\napi_insecure = YES\n";
    let (config, logged) = parse_logged(text);
    let expected = [
        "line 4: [glance] api_servers: \"glance.example:9292\" has no scheme, so http:// is \
         assumed: write \"api_servers = http://glance.example:9292\" in [glance]",
        "line 5: [glance] host is deprecated and ignored because api_servers is set: \
         remove it from [glance]",
        "line 8: [glance] num_retries = -1 is negative, so 0 is used: write \"num_retries = 0\" in [glance]",
        "line 14: [glance] api_insecure is deprecated: write \"insecure = true\" in [glance]",
        "line 10: [ssl] ca_file is deprecated: write \"cafile = /etc/ssl/ca.pem\" in [glance]",
        "line 11: [ssl] cert_file is deprecated: write \"certfile = /etc/ssl/c.pem\" in [glance]",
        "line 12: [ssl] key_file is deprecated: write \"keyfile = /etc/ssl/k.pem\" in [glance]",
        "line 7: [glance] use_glance_v1 is deprecated: write \"api_version = 1\" in [glance]",
    ];
    assert_eq!(config.warnings, expected);
    assert_eq!(logged, expected);
    assert_eq!(config.api_servers, ["http://glance.example:9292"]);
    assert_eq!(config.num_retries, 0);
    assert!(config.insecure);
    assert_eq!(config.cafile, Some(PathBuf::from("/etc/ssl/ca.pem")));
    assert_eq!(config.certfile, Some(PathBuf::from("/etc/ssl/c.pem")));
    assert_eq!(config.keyfile, Some(PathBuf::from("/etc/ssl/k.pem")));
    assert_eq!(config.api_version, ApiVersion::V1);
}

#[test]
fn when_old_and_new_names_are_both_set_the_new_one_wins_and_the_warning_says_so() {
    let text = "[glance]\napi_servers = https://new:9292\nhost = old\nport = 1\n\
                insecure = false\napi_insecure = true\napi_version = 2\nuse_glance_v1 = yes\n\
                cafile = /new/ca.pem\n[ssl]\nca_file = /old/ca.pem\n";
    let config = parse(text);
    assert_eq!(config.api_servers, ["https://new:9292"]);
    assert!(!config.insecure);
    assert_eq!(config.api_version, ApiVersion::V2);
    assert_eq!(config.cafile, Some(PathBuf::from("/new/ca.pem")));
    assert_eq!(
        config.warnings,
        [
            "line 3: [glance] host/port are deprecated and ignored because api_servers is set: \
             remove them from [glance]",
            "line 6: [glance] api_insecure is deprecated and ignored because [glance] insecure \
             is set: remove it from [glance]",
            "line 11: [ssl] ca_file is deprecated and ignored because [glance] cafile is set: \
             remove it from [ssl]",
            "line 8: [glance] use_glance_v1 is deprecated and ignored because [glance] \
             api_version is set: remove it from [glance]",
        ]
    );
}

#[test]
fn a_replacement_line_escapes_dollars_so_it_reads_back_the_same() {
    let config = parse("[ssl]\nca_file = /etc/pki/$$weird.pem\n");
    assert_eq!(config.cafile, Some(PathBuf::from("/etc/pki/$weird.pem")));
    assert!(
        config.warnings[0].ends_with("write \"cafile = /etc/pki/$$weird.pem\" in [glance]"),
        "{:?}",
        config.warnings
    );
}

#[test]
fn the_remaining_options_map_onto_the_struct() {
    let text = "[glance]\napi_servers = http://a:9292,\n  https://b/image\n\
                endpoint_override = https://override.example/image\nnum_retries = 7\n\
                timeout = 12\nallowed_direct_url_schemes = file, swift\n\
                verify_glance_signatures = off\napi_version = 1\ninsecure = 1\n\
                certfile = /c.pem\nkeyfile = /k.pem\n";
    let config = parse(text);
    assert_eq!(config.api_servers, ["http://a:9292", "https://b/image"]);
    assert_eq!(
        config.endpoint_override.as_deref(),
        Some("https://override.example/image")
    );
    assert_eq!(config.servers(), ["https://override.example/image"]);
    assert_eq!(config.num_retries, 7);
    assert_eq!(config.connect_timeout, Some(Duration::from_secs(12)));
    assert_eq!(config.io_timeout, Some(Duration::from_secs(12)));
    assert_eq!(config.allowed_direct_url_schemes, ["file", "swift"]);
    assert!(!config.verify_glance_signatures);
    assert_eq!(config.api_version, ApiVersion::V1);
    assert!(config.insecure);
    assert_eq!(config.certfile, Some(PathBuf::from("/c.pem")));
    assert_eq!(config.keyfile, Some(PathBuf::from("/k.pem")));
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
}

#[test]
fn unset_and_empty_options_keep_the_defaults() {
    let defaults = nova_defaults();
    assert_eq!(parse(""), defaults);
    let text = "[glance]\nnum_retries =\ntimeout =\ncafile =\napi_servers =\napi_version =\n";
    assert_eq!(parse(text), defaults);
}

#[test]
fn unknown_sections_and_options_are_accepted_quietly() {
    let text = "[DEFAULT]\nwhatever = $undefined ${x\n[libvirt]\nvirt_type = kvm\n\
                [glance]\nservice_name = glance\nservice_type = image\n";
    let config = parse(text);
    assert_eq!(config, nova_defaults());
}

#[test]
fn listed_filesystems_are_read_from_their_sections() {
    let text = "[DEFAULT]\nstate_path = /var/lib/nova\n[image_file_url]\nfilesystems = a, B, a\n\
                [image_file_url:a]\nid = store-a\nmountpoint = $state_path/mnt/a\n\
                [image_file_url:b]\nid = store-b\nmountpoint = /srv/b\n\
                [image_file_url:unlisted]\nid = x\n";
    let config = parse(text);
    assert_eq!(
        config.filesystems,
        [
            FileSystem {
                name: "a".into(),
                id: "store-a".into(),
                mountpoint: PathBuf::from("/var/lib/nova/mnt/a"),
            },
            FileSystem {
                name: "B".into(),
                id: "store-b".into(),
                mountpoint: PathBuf::from("/srv/b"),
            },
        ]
    );
}

#[test]
fn a_deployed_nova_conf_parses_into_the_expected_config() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/nova.conf");
    let config = Config::from_file(path).unwrap();
    let text = std::fs::read_to_string(path).unwrap();
    assert_eq!(Config::from_ini_str(&text).unwrap(), config);
    let expected = Config {
        api_servers: vec![
            "https://glance-int.region1.example.net:9292".into(),
            "https://[2001:db8:20::a1]:9292".into(),
            "http://192.0.2.17:9292".into(),
        ],
        num_retries: 4,
        insecure: false,
        cafile: Some("/etc/ssl/certs/region1-ca.pem".into()),
        certfile: Some("/var/lib/nova/tls/glance-client.pem".into()),
        keyfile: Some("/var/lib/nova/tls/glance-client.key".into()),
        connect_timeout: Some(Duration::from_secs(45)),
        io_timeout: Some(Duration::from_secs(45)),
        allowed_direct_url_schemes: vec!["file".into()],
        verify_glance_signatures: false,
        api_version: ApiVersion::V2,
        // [glance]'s keystoneauth options; [keystone_authtoken] is not read.
        valid_interfaces: vec!["internal".into()],
        region_name: Some("region1".into()),
        filesystems: vec![
            FileSystem {
                name: "nfs_gold".into(),
                id: "3a8e6f7c-54b2-4d0f-9e3e-6c2b1f0d9a41".into(),
                mountpoint: "/var/lib/nova/mnt/glance-gold".into(),
            },
            FileSystem {
                name: "nfs_silver".into(),
                id: "b0c4d1e2-7f3a-4e65-8a9b-1c2d3e4f5a6b".into(),
                mountpoint: "/srv/glance/silver".into(),
            },
        ],
        // [barbican], where Nova's castellan finds the key manager.
        barbican_endpoint_type: "internal".into(),
        ..nova_defaults()
    };
    assert_eq!(config, expected);
}

#[test]
fn from_str_is_the_text_parser() {
    let config: Config = "[glance]\napi_servers = http://x:1\n".parse().unwrap();
    assert_eq!(config.api_servers, ["http://x:1"]);
}

#[test]
fn keystone_login_options_in_glance_become_a_password_login() {
    let (config, warnings) = parse_logged(
        "[glance]\nauth_type = password\nauth_url = http://keystone:5000/v3\n\
         username = nova\nuser_domain_name = Default\npassword = pa$$word\n\
         project_name = service\nproject_domain_id = default\n\
         region_name = RegionTwo\nvalid_interfaces = public, internal\n",
    );
    let expected = Password::new(
        "http://keystone:5000/v3",
        User::name("nova", Domain::name("Default")),
        "pa$word",
    )
    .with_project(Project::name("service", Domain::id("default")));
    assert_eq!(config.auth, Auth::Password(expected));
    assert_eq!(config.region_name.as_deref(), Some("RegionTwo"));
    assert_eq!(config.valid_interfaces, ["public", "internal"]);
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn an_application_credential_in_glance() {
    let config = parse(
        "[glance]\nauth_type = v3applicationcredential\nauth_url = https://ks/identity\n\
         application_credential_id = ac1\napplication_credential_secret = s\n",
    );
    assert_eq!(
        config.auth,
        Auth::ApplicationCredential(ApplicationCredential::new(
            "https://ks/identity",
            "ac1",
            "s"
        ))
    );
    assert_eq!(
        config.valid_interfaces,
        ["internal", "public"],
        "Nova's default order"
    );
}

#[test]
fn login_options_without_auth_type_are_unused_with_a_warning() {
    let (config, warnings) =
        parse_logged("[glance]\nusername = nova\npassword = pw\nauth_url = http://ks/v3\n");
    assert_eq!(config.auth, Auth::None);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("[glance] auth_url is set but auth_type is not"),
        "{warnings:?}"
    );
}

#[test]
fn an_incomplete_login_is_an_error_at_the_auth_type_line_without_secrets() {
    let err = Config::from_ini_str(
        "[glance]\npassword = s3cr3t-pw\n\nauth_type = password\nusername = nova\n",
    )
    .unwrap_err();
    let Error::Config { line, message, .. } = &err else {
        panic!("expected a config error, got {err:?}")
    };
    assert_eq!(*line, Some(4));
    assert_eq!(
        message,
        "[glance] auth_url is not set: a Keystone password login needs it"
    );
    let err = Config::from_ini_str("[glance]\nauth_type = kerberos\n").unwrap_err();
    assert!(
        err.to_string()
            .contains("line 2: [glance] auth_type = \"kerberos\""),
        "{err}"
    );
    let err = Config::from_ini_str(
        "[glance]\nauth_type = password\nauth_url = ftp://ks\nusername = u\npassword = s3cr3t-pw\n",
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("line 3: [glance] auth_url"),
        "{err}"
    );
    assert!(!format!("{err} {err:?}").contains("s3cr3t"), "{err:?}");
}

#[test]
fn deep_inspection_options_are_read_and_turning_it_off_is_said_aloud() {
    let (config, logged) = parse_logged(
        "[workarounds]\ndisable_deep_image_inspection = True\n\
         [compute]\nvmdk_allowed_types = streamOptimized\n",
    );
    assert!(config.disable_deep_image_inspection);
    assert_eq!(config.vmdk_allowed_types, ["streamOptimized"]);
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert!(
        logged[0].contains("line 2") && logged[0].contains("not inspected"),
        "{logged:?}"
    );
    let defaults = parse("");
    assert!(!defaults.disable_deep_image_inspection);
    assert_eq!(
        defaults.vmdk_allowed_types,
        ["streamOptimized", "monolithicSparse"]
    );
    assert_eq!(
        parse("[compute]\nvmdk_allowed_types =\n").vmdk_allowed_types,
        Vec::<String>::new()
    );
}

#[test]
fn the_host_image_cache_is_nova_s_base_directory() {
    let config = parse("[DEFAULT]\nstate_path = /srv/nova\n");
    assert_eq!(
        config.image_cache_dir,
        Some(PathBuf::from("/srv/nova/instances/_base"))
    );
    // $state_path resolves to Nova's default without a word.
    let (config, logged) = parse_logged(
        "[DEFAULT]\ninstances_path = $state_path/vms\n\
         [image_cache]\nsubdirectory_name = cache\n\
         remove_unused_original_minimum_age_seconds = 3600\n",
    );
    assert!(logged.is_empty(), "{logged:?}");
    assert_eq!(
        config.image_cache_dir,
        Some(PathBuf::from("/var/lib/nova/vms/cache"))
    );
    assert_eq!(config.image_cache_max_age, Some(Duration::from_secs(3600)));
    let config = parse("[image_cache]\nremove_unused_base_images = false\n");
    assert_eq!(
        config.image_cache_max_age, None,
        "Nova never removes them then"
    );
}

#[test]
fn the_image_cache_s_old_default_section_names_still_work_with_warnings() {
    let (config, logged) = parse_logged(
        "[DEFAULT]\nimage_cache_subdirectory_name = old_base\n\
         remove_unused_original_minimum_age_seconds = 60\n",
    );
    assert_eq!(
        config.image_cache_dir,
        Some(PathBuf::from("/var/lib/nova/instances/old_base"))
    );
    assert_eq!(config.image_cache_max_age, Some(Duration::from_secs(60)));
    assert_eq!(logged.len(), 2, "{logged:?}");
    assert!(
        logged[0].contains("subdirectory_name = old_base") && logged[0].contains("[image_cache]")
    );
    assert!(logged[1].contains("remove_unused_original_minimum_age_seconds = 60"));
}

#[test]
fn a_negative_cache_age_is_an_error_naming_the_option_and_line() {
    let e =
        Config::from_ini_str("[image_cache]\n\nremove_unused_original_minimum_age_seconds = -5\n")
            .unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("line 3") && text.contains("remove_unused_original_minimum_age_seconds"),
        "{text}"
    );
}
