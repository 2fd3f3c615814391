//! The client's configuration: a plain struct with public fields.
//!
//! Build one in code (`Config { api_servers: vec![..], ..Config::default() }`)
//! or read Nova's options from `nova.conf`-style files with
//! [`Config::from_file`], [`Config::from_files`] or [`Config::from_ini_str`]
//! (the rules are in [`Config`]'s documentation).

mod checks;
mod compute;
mod ini;
mod interp;
mod nova;
mod values;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use crate::auth::Auth;
use crate::error::{Error, Result};

pub(crate) use checks::{check_identity, refuse_unsupported};

/// Which image API the client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ApiVersion {
    /// Glance API v1 (`x-image-meta-*` headers). Removed upstream; kept for old clouds.
    V1,
    /// Glance API v2 (JSON). The default.
    #[default]
    V2,
}

impl ApiVersion {
    /// The major version number, `1` or `2`.
    pub fn number(self) -> u8 {
        match self {
            ApiVersion::V1 => 1,
            ApiVersion::V2 => 2,
        }
    }
}

/// A local mount of a Glance file store (`[image_file_url:NAME]`).
///
/// A `file://` location whose metadata carries this `id` is read from
/// `mountpoint` instead of over HTTP, the location's own `mountpoint` prefix
/// replaced by this one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileSystem {
    /// Section name suffix, as listed in `[image_file_url] filesystems`.
    pub name: String,
    /// The store id Glance puts in each location's metadata.
    pub id: String,
    /// Where that store is mounted on this host.
    pub mountpoint: PathBuf,
}

/// Everything the client needs to know. Plain data: every field is public and
/// [`Default`] gives a usable starting point.
///
/// # Reading nova.conf
///
/// The format is oslo.config's INI dialect: `[section]` headers, `key = value`
/// or `key: value`, full-line `#`/`;` comments (no inline comments), indented
/// continuation lines, and `$name` / `${section.name}` interpolation (`$$` for a
/// literal `$`). Later values override earlier ones, within a file and across
/// files. Options and sections this crate does not use are accepted quietly.
///
/// | option | field |
/// |---|---|
/// | `[glance] api_servers` (list) | `api_servers`; an entry without a scheme gets `http://` and a warning |
/// | `[glance] host`, `port`, `protocol` (deprecated) | `api_servers = protocol://host:port`, used only when `api_servers` is not set; `host` defaults to `$my_ip`, `port` to 9292, `protocol` to `http`; an IPv6 host is bracketed |
/// | `[glance] endpoint_override` | `endpoint_override` |
/// | `[glance] num_retries` | `num_retries`; a negative value becomes 0 with a warning |
/// | `[glance] insecure` (old name `api_insecure`) | `insecure` |
/// | `[glance] cafile`, `certfile`, `keyfile` (old names `[ssl] ca_file`, `cert_file`, `key_file`) | `cafile`, `certfile`, `keyfile` |
/// | `[glance] timeout` (whole seconds) | both `connect_timeout` and `io_timeout`, as the Python clients apply one timeout to the connection and to each read |
/// | `[glance] allowed_direct_url_schemes` (list) | `allowed_direct_url_schemes` |
/// | `[glance] verify_glance_signatures`, `enable_certificate_validation`, `default_trusted_certificate_ids` (list) | `verify_glance_signatures`, `enable_certificate_validation`, `default_trusted_certificate_ids` (see `Config::signature_policy`; errors without cargo feature `signatures`, see below) |
/// | `[barbican] barbican_endpoint`, `barbican_endpoint_type` (`public`, `internal` or `admin`), `barbican_region_name` | `barbican_endpoint`, `barbican_endpoint_type`, `barbican_region_name` |
/// | `[glance] api_version` (1 or 2; old switch `use_glance_v1`) | `api_version` |
/// | `[image_file_url] filesystems` (list) and each `[image_file_url:NAME]` `id`, `mountpoint` (absolute) | `filesystems` |
/// | `[glance] auth_type` = `password` (or `v3password`) with `auth_url`, `username` or `user_id`, `user_domain_name` or `user_domain_id`, `password`, `project_name` or `project_id`, `project_domain_name` or `project_domain_id` | `auth` = [`Auth::Password`] |
/// | `[glance] auth_type` = `v3applicationcredential` with `auth_url`, `application_credential_id` (or `application_credential_name` with the user options), `application_credential_secret` | `auth` = [`Auth::ApplicationCredential`] |
/// | `[glance] region_name`, `valid_interfaces` (list) | `region_name`, `valid_interfaces` |
///
/// The login options are keystoneauth's, as Nova reads them from `[glance]`
/// (see [`Config::apply_os_vars`] for the same rules from `OS_*`); without
/// `auth_type` they are unused, with a warning. A name without its domain
/// is in `default_domain_id` / `default_domain_name`, else in the domain
/// with id `default`.
///
/// Options a file does not set keep their [`Config::default`] values. Booleans
/// are `true/false`, `yes/no`, `on/off`, `1/0` in any case; lists split on
/// commas and are trimmed (empty items dropped); an empty value for a number,
/// path or list means "not set".
///
/// When a deprecated name is used, the value still works and a warning names
/// the option, its section and the line to write instead; when both the old
/// and the new name are set, the new one wins and the warning says the old one
/// is ignored. Each warning is logged once with `log::warn!` and kept in
/// [`Config::warnings`].
///
/// `$my_ip` (the default of the deprecated `host`) comes from `[DEFAULT]
/// my_ip`. Nova falls back to this host's address; reading a file here does no
/// I/O beyond the file, so an unset `my_ip` becomes `127.0.0.1`, with a warning
/// saying so. With none of `api_servers`, `host`, `port` and `protocol` set,
/// `api_servers` stays empty rather than guessing `http://$my_ip:9292`.
///
/// A setting asking for what this build does not do is an error naming the
/// option, rather than a silent no-op: without cargo feature `signatures`,
/// `[glance] verify_glance_signatures = True`,
/// `enable_certificate_validation = True` and a non-empty
/// `default_trusted_certificate_ids` (image signature verification).
///
/// Errors are [`Error::Config`] with the file and line,
/// naming the option and what was expected. URLs must be ASCII (an
/// international host name in its `xn--` form). Interpolation follows at most
/// 32 nested references and yields at most 64 KiB per value, and files larger
/// than 16 MiB are refused, so hostile input costs bounded time and memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Base URLs of the image API, e.g. `http://glance.example:9292`. Tried in
    /// rotation; see [`Config::shuffle_servers`].
    pub api_servers: Vec<String>,
    /// Overrides `api_servers` with one URL when set (Nova's `endpoint_override`).
    /// With neither, a Keystone login ([`Auth::Password`],
    /// [`Auth::ApplicationCredential`]) finds the image API in the token's
    /// service catalog.
    pub endpoint_override: Option<String>,
    /// The catalog endpoint interfaces to use, in order of preference
    /// (Nova's `valid_interfaces`, default `internal`, then `public`).
    pub valid_interfaces: Vec<String>,
    /// The catalog region to use (Nova's `region_name`); `None` takes the
    /// first endpoint of an interface in any region.
    pub region_name: Option<String>,
    /// Which API version to speak.
    pub api_version: ApiVersion,
    /// Authentication.
    pub auth: Auth,
    /// Extra attempts after the first for requests that are safe to repeat.
    pub num_retries: u32,
    /// Shuffle `api_servers` once when the client is built (Nova does, to spread
    /// load); `false` keeps the configured order, so the first one is the primary.
    pub shuffle_servers: bool,
    /// Pause between attempts.
    pub retry_delay: Duration,
    /// Limit on establishing a connection.
    pub connect_timeout: Option<Duration>,
    /// Limit on each single read from and write to the connection (sending
    /// a request and its body, reading the answer): a stalled server is
    /// detected without putting a deadline on a long transfer that keeps
    /// moving.
    pub io_timeout: Option<Duration>,
    /// Disable TLS certificate verification (logged loudly).
    pub insecure: bool,
    /// PEM bundle of CA certificates to trust instead of the web PKI roots.
    pub cafile: Option<PathBuf>,
    /// PEM client certificate (chain) for mutual TLS.
    pub certfile: Option<PathBuf>,
    /// PEM private key for `certfile`.
    pub keyfile: Option<PathBuf>,
    /// Direct-URL schemes the downloader may read locally (Nova's
    /// `allowed_direct_url_schemes`; only `file` is understood).
    pub allowed_direct_url_schemes: Vec<String>,
    /// Local mounts of Glance file stores (`[image_file_url]`).
    pub filesystems: Vec<FileSystem>,
    /// Whether every download verifies the image's signature and refuses
    /// an unsigned image (nova.conf `[glance] verify_glance_signatures`; see
    /// [`DownloadOptions::signature`](crate::DownloadOptions::signature)).
    /// Needs cargo feature `signatures`: without it, `true` is refused by
    /// [`Client::new`](crate::Client::new) with [`Error::Config`] (and so is
    /// a nova.conf that sets it), rather than leave an operator believing
    /// images are checked.
    pub verify_glance_signatures: bool,
    /// Certificate validation (nova.conf `[glance]
    /// enable_certificate_validation`): a signing certificate must chain to
    /// a trusted one, `default_trusted_certificate_ids`; with those set,
    /// downloads verify signatures even without `verify_glance_signatures`,
    /// as in Nova. Needs cargo feature `signatures` (refused without it).
    pub enable_certificate_validation: bool,
    /// The trusted certificates' ids in the key manager (nova.conf
    /// `[glance] default_trusted_certificate_ids`), used when
    /// `enable_certificate_validation` is on. Needs cargo feature
    /// `signatures` (a non-empty list is refused without it).
    pub default_trusted_certificate_ids: Vec<String>,
    /// Barbican's URL (nova.conf `[barbican] barbican_endpoint`), without
    /// or with its `/v1`; `None`: the token's catalog's `key-manager`
    /// endpoint. Where signing certificates come from by default.
    pub barbican_endpoint: Option<String>,
    /// The catalog interface of Barbican's endpoint (nova.conf `[barbican]
    /// barbican_endpoint_type`: `public`, the default, `internal` or `admin`).
    pub barbican_endpoint_type: String,
    /// The catalog region of Barbican's endpoint (nova.conf `[barbican]
    /// barbican_region_name`); `None` takes the first in any region.
    pub barbican_region_name: Option<String>,
    /// Turns off the deep format inspection of downloads (nova.conf
    /// `[workarounds] disable_deep_image_inspection`; default `false`: every
    /// download is inspected and refused when unsafe, see
    /// [`DownloadOptions::inspect`](crate::DownloadOptions::inspect)).
    pub disable_deep_image_inspection: bool,
    /// The VMDK `createType`s a download may have (nova.conf `[compute]
    /// vmdk_allowed_types`; default `streamOptimized`, `monolithicSparse`).
    pub vmdk_allowed_types: Vec<String>,
    /// The host image cache directory, [`ImageCache`](crate::ImageCache):
    /// nova.conf `[DEFAULT] instances_path` (default `$state_path/instances`,
    /// `state_path` default `/var/lib/nova`) joined with `[image_cache]
    /// subdirectory_name` (default `_base`). Always set when read from
    /// nova.conf; `None` for a config built in code.
    pub image_cache_dir: Option<PathBuf>,
    /// How long an unused host cache entry is kept (nova.conf `[image_cache]
    /// remove_unused_original_minimum_age_seconds`, default 86400; `None`
    /// when `remove_unused_base_images = False`, and for a config built in
    /// code).
    pub image_cache_max_age: Option<Duration>,
    /// The longest a call without image data may take, from its start to
    /// its end, retries, pauses and a Keystone login included (`None`, the
    /// default: no limit beyond the timeouts). Past it the call ends with
    /// [`Error::DeadlineExceeded`]. Each page of a listing is such a call.
    /// Uploads, stages and downloads, whose time grows with the image, are
    /// bounded instead by [`CallOptions::deadline`](crate::CallOptions::deadline)
    /// and [`DownloadOptions::deadline`](crate::DownloadOptions::deadline)
    /// (their own requests for records still by this).
    pub call_timeout: Option<Duration>,
    /// Product tokens put before this crate's own in the `User-Agent` header,
    /// e.g. `my-agent/1.2` gives `my-agent/1.2 glance-client-rust/0.1.0`
    /// (`None`: the crate's token alone). Printable ASCII; anything else is
    /// an [`Error::Config`] at [`Client::new`](crate::Client::new).
    pub user_agent_prefix: Option<String>,
    /// The global request id every request carries as
    /// `X-OpenStack-Request-ID` (Keystone logins included), so that Glance
    /// logs it with its own request id: `req-` and a lowercase UUID, as Nova
    /// sends its context's (`None`, the default: no header). A call's
    /// [`CallOptions::request_id`](crate::CallOptions::request_id) replaces
    /// it. Any other form is an [`Error::Config`] at [`Client::new`](crate::Client::new).
    pub global_request_id: Option<String>,
    /// Deprecation and other warnings produced while reading configuration
    /// files; empty for a config built in code.
    pub warnings: Vec<String>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            api_servers: Vec::new(),
            endpoint_override: None,
            valid_interfaces: crate::auth::DEFAULT_INTERFACES
                .iter()
                .map(|i| i.to_string())
                .collect(),
            region_name: None,
            api_version: ApiVersion::V2,
            auth: Auth::None,
            num_retries: 3,
            shuffle_servers: true,
            retry_delay: Duration::from_millis(500),
            connect_timeout: Some(Duration::from_secs(30)),
            io_timeout: Some(Duration::from_secs(120)),
            insecure: false,
            cafile: None,
            certfile: None,
            keyfile: None,
            allowed_direct_url_schemes: Vec::new(),
            filesystems: Vec::new(),
            verify_glance_signatures: false,
            enable_certificate_validation: false,
            default_trusted_certificate_ids: Vec::new(),
            barbican_endpoint: None,
            barbican_endpoint_type: "public".into(),
            barbican_region_name: None,
            disable_deep_image_inspection: false,
            vmdk_allowed_types: crate::inspect::Policy::default().vmdk_allowed_types,
            image_cache_dir: None,
            image_cache_max_age: None,
            call_timeout: None,
            user_agent_prefix: None,
            global_request_id: None,
            warnings: Vec::new(),
        }
    }
}

impl Config {
    /// A config for one server, with the defaults for everything else.
    pub fn for_server(url: impl Into<String>) -> Config {
        Config {
            api_servers: vec![url.into()],
            ..Config::default()
        }
    }

    /// The servers the client will use: `endpoint_override` when set, else `api_servers`.
    pub fn servers(&self) -> Vec<String> {
        match &self.endpoint_override {
            Some(url) => vec![url.clone()],
            None => self.api_servers.clone(),
        }
    }

    /// The signature verification nova.conf's options ask of every
    /// download, as Nova decides it; `None` when they ask for none (cargo
    /// feature `signatures`):
    ///
    /// - with `enable_certificate_validation` and
    ///   `default_trusted_certificate_ids`, signatures are verified and the
    ///   signing certificate must chain to one of those, even without
    ///   `verify_glance_signatures`;
    /// - with `verify_glance_signatures`, signatures are verified; with
    ///   `enable_certificate_validation` too but no trusted ids, every
    ///   signed image is refused (Nova's "no trusted certificate IDs were
    ///   provided"), unless a download gives trusted certificates of its own
    ///   ([`SignatureCheck::Required`](crate::SignatureCheck::Required)).
    ///
    /// Certificates come from Barbican ([`Client::barbican`](crate::Client::barbican)).
    ///
    /// ```
    /// use glance_client::Config;
    ///
    /// let config = Config::from_ini_str("[glance]\nverify_glance_signatures = True\n")?;
    /// let policy = config.signature_policy().expect("required");
    /// assert!(!policy.validates());
    /// assert!(Config::default().signature_policy().is_none());
    /// # Ok::<(), glance_client::Error>(())
    /// ```
    #[cfg(feature = "signatures")]
    pub fn signature_policy(&self) -> Option<crate::signature::Policy> {
        let trusted_ids = if self.enable_certificate_validation {
            self.default_trusted_certificate_ids.clone()
        } else {
            Vec::new()
        };
        if !self.verify_glance_signatures && trusted_ids.is_empty() {
            return None;
        }
        Some(crate::signature::Policy {
            source: None,
            validate_certificate: self.enable_certificate_validation,
            trusted_certificate_ids: trusted_ids,
            trusted_certificates: Vec::new(),
        })
    }

    /// Applies the `OS_*` variables of the OpenStack command-line clients,
    /// looked up through `get` (`|name| std::env::var(name).ok()` for the
    /// process environment; a tool may answer from its `--os-*` flags
    /// first). Empty values count as unset.
    ///
    /// - `OS_AUTH_TYPE` chooses the authentication: `password` (or
    ///   `v3password`), `v3applicationcredential`, `token`, `none`. Without
    ///   it: `OS_TOKEN` set means [`Auth::Token`]; else
    ///   `OS_APPLICATION_CREDENTIAL_ID` or `_NAME` an
    ///   [`Auth::ApplicationCredential`]; else `OS_PASSWORD`, `OS_USERNAME`
    ///   or `OS_USER_ID` an [`Auth::Password`]; else `auth` stays as it was.
    /// - A password login reads `OS_AUTH_URL`, `OS_USER_ID` or `OS_USERNAME`
    ///   with `OS_USER_DOMAIN_ID` or `OS_USER_DOMAIN_NAME`, `OS_PASSWORD`,
    ///   and `OS_PROJECT_ID` or `OS_PROJECT_NAME` (old names `OS_TENANT_ID`,
    ///   `OS_TENANT_NAME`) with `OS_PROJECT_DOMAIN_ID` or
    ///   `OS_PROJECT_DOMAIN_NAME`. An application credential reads
    ///   `OS_AUTH_URL`, `OS_APPLICATION_CREDENTIAL_ID` (or `_NAME` with the
    ///   user, as above) and `OS_APPLICATION_CREDENTIAL_SECRET`. A name
    ///   without its domain is in `OS_DEFAULT_DOMAIN_ID` /
    ///   `OS_DEFAULT_DOMAIN_NAME`, else in the domain with id `default`.
    /// - `OS_REGION_NAME` sets `region_name`; `OS_INTERFACE` sets
    ///   `valid_interfaces` to that one interface.
    ///
    /// A missing part is an [`Error::Config`] naming the variable; no value
    /// is ever quoted in an error.
    ///
    /// ```
    /// use glance_client::{Auth, Config};
    ///
    /// let vars = [
    ///     ("OS_AUTH_URL", "http://127.0.0.1:5000/v3"),
    ///     ("OS_USERNAME", "demo"),
    ///     ("OS_PASSWORD", "secret"),
    ///     ("OS_PROJECT_NAME", "demo"),
    ///     ("OS_INTERFACE", "public"),
    /// ];
    /// let mut config = Config::default();
    /// config.apply_os_vars(|name| {
    ///     vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string())
    /// })?;
    /// assert!(matches!(config.auth, Auth::Password(_)));
    /// assert_eq!(config.valid_interfaces, ["public"]);
    /// # Ok::<(), glance_client::Error>(())
    /// ```
    pub fn apply_os_vars(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<()> {
        let name = |option: &str| format!("OS_{}", option.to_ascii_uppercase());
        let lookup = |option: &str| get(&name(option));
        if let Some(auth) = crate::auth::auth_from_vars(&lookup, &name, true)? {
            self.auth = auth;
        }
        let value = |option: &str| {
            lookup(option)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        if let Some(region) = value("region_name") {
            self.region_name = Some(region);
        }
        if let Some(interface) = value("interface") {
            self.valid_interfaces = vec![interface];
        }
        Ok(())
    }

    /// Reads Nova's options from configuration text (the contents of a
    /// `nova.conf`). Pure: no file or network access, so it suits tests and
    /// fuzzing. Errors carry line numbers but no file name.
    ///
    /// ```
    /// use glance_client::Config;
    ///
    /// let config = Config::from_ini_str("[glance]\napi_servers = http://127.0.0.1:9292\n")?;
    /// assert_eq!(config.api_servers, ["http://127.0.0.1:9292"]);
    /// assert!(config.warnings.is_empty());
    /// # Ok::<(), glance_client::Error>(())
    /// ```
    pub fn from_ini_str(text: &str) -> Result<Config> {
        nova::config_from_ini(ini::Ini::parse(text, None)?)
    }

    /// Reads Nova's options from one file, e.g. `/etc/nova/nova.conf`.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Config> {
        Config::from_files([path])
    }

    /// Reads Nova's options from several files, as repeated `--config-file`
    /// arguments do: a later file overrides an earlier one option by option,
    /// and interpolation sees the merged result. No files gives
    /// [`Config::default`].
    pub fn from_files<I>(paths: I) -> Result<Config>
    where
        I: IntoIterator,
        I::Item: AsRef<Path>,
    {
        let mut merged = ini::Ini::default();
        for path in paths {
            let path = path.as_ref();
            let text = read_text(path)?;
            merged.merge(ini::Ini::parse(&text, Some(ini::file_name(path)))?);
        }
        nova::config_from_ini(merged)
    }
}

/// Same as [`Config::from_ini_str`].
impl FromStr for Config {
    type Err = Error;

    fn from_str(text: &str) -> Result<Config> {
        Config::from_ini_str(text)
    }
}

/// Larger configuration files are refused (a `nova.conf` is tens of KiB).
const MAX_FILE: u64 = 16 * 1024 * 1024;

fn read_text(path: &Path) -> Result<String> {
    let io_error = |e| Error::io(format!("reading {}", path.display()), e);
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_FILE + 1).read_to_end(&mut bytes))
        .map_err(io_error)?;
    let config_error = |line, message: String| Error::Config {
        file: Some(path.to_path_buf()),
        line,
        message,
    };
    if bytes.len() as u64 > MAX_FILE {
        return Err(config_error(
            None,
            format!("larger than {} MiB", MAX_FILE / (1024 * 1024)),
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        config_error(Some(line), "not valid UTF-8".into())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_a_token() {
        let config = Config {
            auth: Auth::Token("s3cr3t-token".into()),
            ..Config::for_server("http://127.0.0.1:9292")
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("redacted"), "{shown}");
    }

    #[test]
    fn endpoint_override_wins() {
        let mut config = Config::for_server("http://a:9292");
        assert_eq!(config.servers(), vec!["http://a:9292"]);
        config.endpoint_override = Some("http://b:9292".into());
        assert_eq!(config.servers(), vec!["http://b:9292"]);
    }
}
