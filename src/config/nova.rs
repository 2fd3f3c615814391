//! Nova's `[glance]`, `[image_file_url]`, `[ssl]` and `[barbican]` options, mapped onto
//! [`Config`], with a warning for every deprecated spelling.

use std::path::{Path, PathBuf};

use super::ini::{Ini, Location, normalize_section};
use super::values::{Reader, Value, escape};
use super::{ApiVersion, Config, FileSystem};
use crate::error::{Error, Result};

const GLANCE: &str = "glance";

/// What `$my_ip` becomes when `[DEFAULT] my_ip` is not set. Nova would use
/// this host's address; a pure parser cannot look it up.
const FALLBACK_MY_IP: &str = "127.0.0.1";

const MY_IP_WARNING: &str = "[DEFAULT] my_ip is not set, so $my_ip is 127.0.0.1 \
    (Nova would use this host's address): write \"my_ip = <this host's address>\" in [DEFAULT]";

/// Builds a [`Config`] from parsed (and merged) files.
pub(crate) fn config_from_ini(mut ini: Ini) -> Result<Config> {
    ini.set_builtin("DEFAULT", "my_ip", FALLBACK_MY_IP);
    super::compute::set_defaults(&mut ini);
    let mut r = Reader::new(&ini, MY_IP_WARNING.to_string());
    let mut config = Config::default();
    servers(&mut r, &mut config)?;
    if let Some(v) = r.get(GLANCE, "endpoint_override")?
        && let Some(url) = v.string()
    {
        v.check_url(&url)?;
        config.endpoint_override = Some(url);
    }
    retries_and_timeout(&mut r, &mut config)?;
    tls(&mut r, &mut config)?;
    if let Some(v) = r.get(GLANCE, "allowed_direct_url_schemes")? {
        config.allowed_direct_url_schemes = v.list();
    }
    super::checks::refuse_unsupported_options(&mut r)?;
    signatures(&mut r, &mut config)?;
    api_version(&mut r, &mut config)?;
    keystone(&mut r, &mut config)?;
    filesystems(&mut r, &mut config)?;
    super::compute::image_safety(&mut r, &mut config)?;
    super::compute::image_cache(&mut r, &mut config)?;
    config.warnings = r.finish();
    Ok(config)
}

/// `api_servers`, or the deprecated `host`/`port`/`protocol` when it is not set.
fn servers(r: &mut Reader<'_>, config: &mut Config) -> Result<()> {
    let old: Vec<&str> = ["host", "port", "protocol"]
        .into_iter()
        .filter(|key| r.is_set(GLANCE, key))
        .collect();
    let old_at = old
        .first()
        .and_then(|key| r.ini.raw(GLANCE, key))
        .map(|e| e.at.clone());
    let names = old.join("/");
    let is_are = if old.len() == 1 { "is" } else { "are" };

    if let Some(v) = r.get(GLANCE, "api_servers")?
        && !v.list().is_empty()
    {
        config.api_servers = api_servers(r, &v)?;
        if let Some(at) = old_at {
            let them = if old.len() == 1 { "it" } else { "them" };
            let message = format!(
                "[glance] {names} {is_are} deprecated and ignored because api_servers is set: \
                 remove {them} from [glance]"
            );
            r.warn(&at, &message);
        }
        return Ok(());
    }

    let Some(at) = old_at else { return Ok(()) };
    let url = legacy_server(r, &at)?;
    let message = format!(
        "[glance] {names} {is_are} deprecated: write \"api_servers = {}\" in [glance]",
        escape(&url)
    );
    r.warn(&at, &message);
    config.api_servers = vec![url];
    Ok(())
}

/// The checked `api_servers` entries, `http://` added (with a warning) to
/// those without a scheme.
fn api_servers(r: &mut Reader<'_>, v: &Value) -> Result<Vec<String>> {
    let mut urls = Vec::new();
    let mut bare = Vec::new();
    for entry in v.list() {
        let url = if entry.contains("://") {
            entry
        } else {
            bare.push(format!("{entry:?}"));
            format!("http://{entry}")
        };
        v.check_url(&url)?;
        urls.push(url);
    }
    if !bare.is_empty() {
        let has = if bare.len() == 1 { "has" } else { "have" };
        let message = format!(
            "[glance] api_servers: {} {has} no scheme, so http:// is assumed: \
             write \"api_servers = {}\" in [glance]",
            bare.join(", "),
            escape(&urls.join(", "))
        );
        r.warn(&v.at, &message);
    }
    Ok(urls)
}

/// `protocol://host:port` from the deprecated options (`host` defaulting to
/// `$my_ip`, `port` to 9292, `protocol` to http); `at` is where the first
/// of them is set.
fn legacy_server(r: &mut Reader<'_>, at: &Location) -> Result<String> {
    let host = match r.get(GLANCE, "host")? {
        Some(v) => v,
        None => r.default_value(GLANCE, "host", "$my_ip", at)?,
    };
    let host_name = host
        .string()
        .ok_or_else(|| host.invalid("a host name or IP address"))?;
    let port = match r.get(GLANCE, "port")? {
        Some(v) => v.integer_in(1, 65535, "a port number")?.unwrap_or(9292),
        None => 9292,
    };
    let protocol = match r.get(GLANCE, "protocol")? {
        Some(v) => match v.text.trim().to_ascii_lowercase().as_str() {
            "" | "http" => "http",
            "https" => "https",
            _ => return Err(v.invalid("a protocol, http or https")),
        },
        None => "http",
    };
    let host_part = if host_name.contains(':') && !host_name.starts_with('[') {
        format!("[{host_name}]")
    } else {
        host_name
    };
    let url = format!("{protocol}://{host_part}:{port}");
    host.check_url(&url)?;
    Ok(url)
}

fn retries_and_timeout(r: &mut Reader<'_>, config: &mut Config) -> Result<()> {
    if let Some(v) = r.get(GLANCE, "num_retries")?
        && let Some(n) = v.integer()?
    {
        if n < 0 {
            let message = format!(
                "[glance] num_retries = {n} is negative, so 0 is used: \
                 write \"num_retries = 0\" in [glance]"
            );
            r.warn(&v.at, &message);
        }
        config.num_retries =
            u32::try_from(n.max(0)).map_err(|_| v.invalid("an integer from 0 to 4294967295"))?;
    }
    if let Some(v) = r.get(GLANCE, "timeout")?
        && let Some(n) = v.integer()?
    {
        let secs = u64::try_from(n)
            .ok()
            .filter(|&s| s > 0)
            .ok_or_else(|| v.invalid("a whole number of seconds, at least 1"))?;
        let timeout = Some(std::time::Duration::from_secs(secs));
        config.connect_timeout = timeout;
        config.io_timeout = timeout;
    }
    Ok(())
}

/// The value of a renamed option: the new name when set, else the old one
/// (second of the pair `true`). Warns when both are set.
pub(super) fn renamed(
    r: &mut Reader<'_>,
    (new_section, new_key): (&str, &str),
    (old_section, old_key): (&str, &str),
) -> Result<Option<(Value, bool)>> {
    let new = r.get(new_section, new_key)?;
    if new.is_some() {
        if let Some(old) = r.ini.raw(old_section, old_key) {
            let at = old.at.clone();
            let message = format!(
                "[{old_section}] {old_key} is deprecated and ignored because \
                 [{new_section}] {new_key} is set: remove it from [{old_section}]"
            );
            r.warn(&at, &message);
        }
        return Ok(new.map(|v| (v, false)));
    }
    Ok(r.get(old_section, old_key)?.map(|v| (v, true)))
}

/// The warning for an old option that is used: the line to write instead.
pub(super) fn deprecated(r: &mut Reader<'_>, old: &Value, new_section: &str, line: &str) {
    let message = format!(
        "{} is deprecated: write \"{}\" in [{new_section}]",
        old.label(),
        line.trim_end()
    );
    r.warn(&old.at, &message);
}

fn tls(r: &mut Reader<'_>, config: &mut Config) -> Result<()> {
    if let Some((v, old)) = renamed(r, (GLANCE, "insecure"), (GLANCE, "api_insecure"))? {
        config.insecure = v.boolean()?;
        if old {
            deprecated(r, &v, GLANCE, &format!("insecure = {}", config.insecure));
        }
    }
    let files = [
        ("cafile", "ca_file", &mut config.cafile),
        ("certfile", "cert_file", &mut config.certfile),
        ("keyfile", "key_file", &mut config.keyfile),
    ];
    for (new_key, old_key, field) in files {
        if let Some((v, old)) = renamed(r, (GLANCE, new_key), ("ssl", old_key))? {
            *field = v.string().map(PathBuf::from);
            if old {
                let text = v.string().unwrap_or_default();
                deprecated(r, &v, GLANCE, &format!("{new_key} = {}", escape(&text)));
            }
        }
    }
    Ok(())
}

fn api_version(r: &mut Reader<'_>, config: &mut Config) -> Result<()> {
    let Some((v, old)) = renamed(r, (GLANCE, "api_version"), (GLANCE, "use_glance_v1"))? else {
        return Ok(());
    };
    if old {
        config.api_version = if v.boolean()? {
            ApiVersion::V1
        } else {
            ApiVersion::V2
        };
        let line = format!("api_version = {}", config.api_version.number());
        deprecated(r, &v, GLANCE, &line);
        return Ok(());
    }
    config.api_version = match v.text.trim() {
        "" => config.api_version,
        "1" => ApiVersion::V1,
        "2" => ApiVersion::V2,
        _ => return Err(v.invalid("1 or 2")),
    };
    Ok(())
}

/// keystoneauth's options that Nova reads from `[glance]` to log in.
const AUTH_OPTIONS: [&str; 19] = [
    "auth_type",
    "auth_url",
    "token",
    "user_id",
    "username",
    "user_domain_id",
    "user_domain_name",
    "password",
    "project_id",
    "project_name",
    "project_domain_id",
    "project_domain_name",
    "tenant_id",
    "tenant_name",
    "default_domain_id",
    "default_domain_name",
    "application_credential_id",
    "application_credential_name",
    "application_credential_secret",
];

/// The Keystone login (`auth_type` and its options), `region_name` and
/// `valid_interfaces`. Values of secret options never appear in messages.
fn keystone(r: &mut Reader<'_>, config: &mut Config) -> Result<()> {
    let mut values: Vec<(&str, String)> = Vec::new();
    let mut auth_type_at = None;
    let mut first_unused = None;
    for key in AUTH_OPTIONS {
        let Some(v) = r.get(GLANCE, key)? else {
            continue;
        };
        if key == "auth_url"
            && let Some(url) = v.string()
        {
            v.check_url(&url)?;
        }
        if key == "auth_type" {
            auth_type_at = Some(v.at.clone());
        } else if first_unused.is_none() && !v.text.trim().is_empty() {
            first_unused = Some((key, v.at.clone()));
        }
        values.push((key, v.text));
    }
    let get = |option: &str| {
        values
            .iter()
            .find(|(k, _)| *k == option)
            .map(|(_, v)| v.clone())
    };
    let label = |option: &str| format!("[glance] {option}");
    match crate::auth::auth_from_vars(&get, &label, false) {
        Ok(Some(auth)) => config.auth = auth,
        Ok(None) => {
            if let Some((key, at)) = first_unused.filter(|_| auth_type_at.is_none()) {
                let message = format!(
                    "[glance] {key} is set but auth_type is not, so no Keystone login is \
                     configured: write \"auth_type = password\" (or \
                     v3applicationcredential) in [glance]"
                );
                r.warn(&at, &message);
            }
        }
        // Without inference only a set auth_type leads to an error: name its line.
        Err(Error::Config { message, .. }) => {
            return Err(match &auth_type_at {
                Some(at) => at.error(message),
                None => Error::Config {
                    file: None,
                    line: None,
                    message,
                },
            });
        }
        Err(e) => return Err(e),
    }
    if let Some(v) = r.get(GLANCE, "region_name")? {
        config.region_name = v.string();
    }
    if let Some(v) = r.get(GLANCE, "valid_interfaces")?
        && !v.list().is_empty()
    {
        config.valid_interfaces = v.list();
    }
    Ok(())
}

/// `[glance]`'s signature verification options and `[barbican]`'s
/// endpoint (castellan's option names and defaults).
fn signatures(r: &mut Reader<'_>, config: &mut Config) -> Result<()> {
    if let Some(v) = r.get(GLANCE, "verify_glance_signatures")? {
        config.verify_glance_signatures = v.boolean()?;
    }
    let mut validation_at = None;
    if let Some(v) = r.get(GLANCE, "enable_certificate_validation")? {
        config.enable_certificate_validation = v.boolean()?;
        validation_at = Some(v.at.clone());
    }
    if let Some(v) = r.get(GLANCE, "default_trusted_certificate_ids")? {
        config.default_trusted_certificate_ids = v.list();
    }
    if let Some(at) = validation_at
        && config.verify_glance_signatures
        && config.enable_certificate_validation
        && config.default_trusted_certificate_ids.is_empty()
    {
        let message = "[glance] enable_certificate_validation is on without \
            default_trusted_certificate_ids: every signed image will be refused, as Nova \
            refuses it, unless a download gives trusted certificates of its own";
        r.warn(&at, message);
    }
    if let Some(v) = r.get("barbican", "barbican_endpoint")?
        && let Some(url) = v.string()
    {
        v.check_url(&url)?;
        config.barbican_endpoint = Some(url);
    }
    if let Some(v) = r.get("barbican", "barbican_endpoint_type")? {
        config.barbican_endpoint_type = match v.text.trim().to_ascii_lowercase().as_str() {
            "" => config.barbican_endpoint_type.clone(),
            t @ ("public" | "internal" | "admin") => t.to_string(),
            _ => return Err(v.invalid("public, internal or admin")),
        };
    }
    if let Some(v) = r.get("barbican", "barbican_region_name")? {
        config.barbican_region_name = v.string();
    }
    Ok(())
}

/// `[image_file_url] filesystems` and each listed `[image_file_url:NAME]`.
fn filesystems(r: &mut Reader<'_>, config: &mut Config) -> Result<()> {
    let Some(v) = r.get("image_file_url", "filesystems")? else {
        return Ok(());
    };
    for name in v.list() {
        if config.filesystems.iter().any(|fs| fs.name == name) {
            continue;
        }
        let section = normalize_section(&format!("image_file_url:{name}"));
        let header: Location = match r.ini.section(&section) {
            Some(s) => s.at.clone(),
            None => {
                return Err(v.at.error(format!(
                    "[image_file_url] filesystems lists {name:?}, but there is no \
                     [{section}] section: expected one with id and mountpoint"
                )));
            }
        };
        let missing = |key: &str, what: &str| {
            header.error(format!(
                "[{section}] has no {key}: expected \"{key} = <{what}>\""
            ))
        };
        let id = r
            .get(&section, "id")?
            .and_then(|v| v.string())
            .ok_or_else(|| missing("id", "the id Glance puts in the location metadata"))?;
        let mountpoint = r.get(&section, "mountpoint")?;
        let path = mountpoint
            .as_ref()
            .and_then(Value::string)
            .ok_or_else(|| missing("mountpoint", "where the store is mounted on this host"))?;
        if !Path::new(&path).is_absolute() {
            return Err(mountpoint
                .map(|m| m.invalid("an absolute path"))
                .unwrap_or_else(|| missing("mountpoint", "an absolute path")));
        }
        config.filesystems.push(FileSystem {
            name,
            id,
            mountpoint: PathBuf::from(path),
        });
    }
    Ok(())
}
