//! The configuration the tool runs with: `--config-file`s first, the
//! environment over them, the command line over both.

use glance_client::auth::{Credential, Domain, Project, User};
use glance_client::{ApiVersion, Auth, Config};
use serde_json::{Value, json};

use crate::args::Values;
use crate::{Failure, redact};

/// The resolved configuration and where its servers came from.
pub struct Settings {
    pub config: Config,
    pub config_files: Vec<String>,
    /// `command line`, `OS_IMAGE_URL`, `config file` or `none`.
    pub servers_from: &'static str,
}

/// Reads the files, then applies the environment and the command line.
pub fn resolve(global: &Values) -> Result<Settings, Failure> {
    let config_files = global.all("--config-file").to_vec();
    let mut config = if config_files.is_empty() {
        Config::default()
    } else {
        Config::from_files(&config_files).map_err(|e| Failure::Config(crate::error_message(&e)))?
    };

    let cli_urls = split_urls(global.all("--os-image-url"));
    let env_urls = split_urls(&env("OS_IMAGE_URL").into_iter().collect::<Vec<_>>());
    let servers_from = if !cli_urls.is_empty() {
        use_servers(&mut config, cli_urls);
        "command line"
    } else if global.flag("--os-image-url") {
        return Err(Failure::Usage("--os-image-url is empty".into()));
    } else if !env_urls.is_empty() {
        use_servers(&mut config, env_urls);
        "OS_IMAGE_URL"
    } else if !config.servers().is_empty() {
        "config file"
    } else {
        "none"
    };

    apply_login(&mut config, global)?;
    config.global_request_id = global_request_id(global)?;
    apply_transport(&mut config, global)?;

    match global.one("--os-image-api-version") {
        Some(v) => {
            config.api_version = api_version(v).ok_or_else(|| {
                Failure::Usage(format!("--os-image-api-version is 1 or 2, not {v:?}"))
            })?;
        }
        None => {
            if let Some(v) = env("OS_IMAGE_API_VERSION") {
                config.api_version = api_version(&v).ok_or_else(|| {
                    Failure::Config(format!("OS_IMAGE_API_VERSION is 1 or 2, not {v:?}"))
                })?;
            }
        }
    }

    Ok(Settings {
        config,
        config_files,
        servers_from,
    })
}

/// Keystone settings and the login, from the `--os-*` flags and the `OS_*`
/// variables.
///
/// A login chosen on the command line (`--os-auth-type`, a token, an
/// application credential, a user or a password) is the login, whatever the
/// environment says; the environment only fills in what the flags leave
/// open (e.g. `--os-password` with `OS_USERNAME`). Otherwise the environment
/// chooses as `Config::apply_os_vars` does, and `OS_AUTH_TOKEN` (the
/// glanceclient token, with `OS_IMAGE_URL`) wins over an `OS_*` login.
/// Settings that are not a login (`--os-auth-url`, `--os-region-name`, ...)
/// override their variable one by one.
fn apply_login(config: &mut Config, global: &Values) -> Result<(), Failure> {
    let flag = |name: &str| {
        global
            .one(name)
            .filter(|v| !v.trim().is_empty())
            .map(String::from)
    };
    let token_flag = match global.one("--os-auth-token") {
        Some(v) if v.trim().is_empty() => {
            return Err(Failure::Usage("--os-auth-token is empty".into()));
        }
        Some(v) => Some(v.to_string()),
        None => flag("--os-token"),
    };
    let chosen_on_command_line = flag("--os-auth-type").or_else(|| {
        if token_flag.is_some() {
            Some("token".into())
        } else if flag("--os-application-credential-id").is_some()
            || flag("--os-application-credential-name").is_some()
        {
            Some("v3applicationcredential".into())
        } else if ["--os-password", "--os-username", "--os-user-id"]
            .iter()
            .any(|f| flag(f).is_some())
        {
            Some("password".into())
        } else {
            None
        }
    });
    // Each OS_* variable, or its --os-* flag over it; OS_AUTH_TYPE says what
    // the command line chose, so that neither the environment's OS_AUTH_TYPE
    // nor its OS_TOKEN can turn that login into another.
    let lookup = |name: &str| -> Option<String> {
        match name {
            "OS_AUTH_TYPE" if chosen_on_command_line.is_some() => chosen_on_command_line.clone(),
            // glanceclient's --os-endpoint-type and OS_ENDPOINT_TYPE name
            // the interface too (keystoneauth takes publicURL for public).
            "OS_INTERFACE" => flag("--os-interface")
                .or_else(|| flag("--os-endpoint-type"))
                .or_else(|| env("OS_INTERFACE"))
                .or_else(|| env("OS_ENDPOINT_TYPE"))
                .map(|i| i.trim_end_matches("URL").to_string()),
            "OS_TOKEN" => token_flag
                .clone()
                .or_else(|| env("OS_AUTH_TOKEN"))
                .or_else(|| env("OS_TOKEN")),
            _ => flag(&format!(
                "--{}",
                name.to_ascii_lowercase().replace('_', "-")
            ))
            .or_else(|| env(name)),
        }
    };
    config
        .apply_os_vars(lookup)
        .map_err(|e| Failure::Config(crate::error_message(&e)))?;
    if chosen_on_command_line.is_none()
        && let Some(token) = env("OS_AUTH_TOKEN")
    {
        config.auth = Auth::Token(token);
    }
    Ok(())
}

/// `--os-global-request-id`, else `OS_GLOBAL_REQUEST_ID`: `req-` and a
/// lowercase UUID (the library checks it too; here the error names the
/// flag or the variable).
fn global_request_id(global: &Values) -> Result<Option<String>, Failure> {
    let (id, from, failure): (String, &str, fn(String) -> Failure) =
        match global.one("--os-global-request-id") {
            Some(id) => (id.trim().into(), "--os-global-request-id", Failure::Usage),
            None => match env("OS_GLOBAL_REQUEST_ID") {
                Some(id) => (id.trim().into(), "OS_GLOBAL_REQUEST_ID", Failure::Config),
                None => return Ok(None),
            },
        };
    let groups: Vec<&str> = id.strip_prefix("req-").unwrap_or("").split('-').collect();
    let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    let hex = groups
        .iter()
        .all(|g| g.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
    if lengths != [8, 4, 4, 4, 12] || !hex {
        return Err(failure(format!(
            "{from} is {id:?}: expected req- and a lowercase UUID \
             (req-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)"
        )));
    }
    Ok(Some(id))
}

/// glanceclient's TLS and timeout settings: `--insecure`, `--os-cacert`
/// (`OS_CACERT`), `--os-cert` (`OS_CERT`), `--os-key` (`OS_KEY`) and
/// `--timeout`, over what the files say.
fn apply_transport(config: &mut Config, global: &Values) -> Result<(), Failure> {
    if global.flag("--insecure") {
        config.insecure = true;
    }
    for (flag, var, slot) in [
        ("--os-cacert", "OS_CACERT", &mut config.cafile),
        ("--os-cert", "OS_CERT", &mut config.certfile),
        ("--os-key", "OS_KEY", &mut config.keyfile),
    ] {
        match global.one(flag) {
            Some("") => return Err(Failure::Usage(format!("{flag} is empty"))),
            Some(path) => *slot = Some(path.into()),
            None => {
                if let Some(path) = env(var) {
                    *slot = Some(path.into());
                }
            }
        }
    }
    if let Some(text) = global.one("--timeout") {
        let seconds: f64 = text
            .trim()
            .parse()
            .ok()
            .filter(|s: &f64| s.is_finite() && *s > 0.0)
            .ok_or_else(|| {
                Failure::Usage(format!("--timeout takes a number of seconds, not {text:?}"))
            })?;
        let timeout = std::time::Duration::from_secs_f64(seconds);
        config.connect_timeout = Some(timeout);
        config.io_timeout = Some(timeout);
    }
    Ok(())
}

/// Servers given outside the files replace the files' `api_servers` and
/// their `endpoint_override` (which would otherwise win over them).
fn use_servers(config: &mut Config, urls: Vec<String>) {
    config.api_servers = urls;
    config.endpoint_override = None;
}

fn split_urls(values: &[String]) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(String::from)
        .collect()
}

fn api_version(text: &str) -> Option<ApiVersion> {
    match text.trim() {
        "1" => Some(ApiVersion::V1),
        "2" => Some(ApiVersion::V2),
        _ => None,
    }
}

/// A set, non-blank environment variable.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn seconds(d: Option<std::time::Duration>) -> Value {
    d.map_or(Value::Null, |d| json!(d.as_secs_f64()))
}

fn path(p: &Option<std::path::PathBuf>) -> Value {
    p.as_ref()
        .map_or(Value::Null, |p| Value::from(p.display().to_string()))
}

/// The configuration as `config-check` prints it: never a token, password
/// or secret, and URLs without their user information.
pub fn to_json(settings: &Settings) -> Value {
    let c = &settings.config;
    let auth = match &c.auth {
        Auth::None => "none",
        Auth::Token(_) => "token",
        Auth::Password(_) => "password",
        Auth::ApplicationCredential(_) => "application_credential",
        _ => "other",
    };
    let mut value = json!({
        "config_files": settings.config_files,
        "servers": redact::all(&c.servers()),
        "servers_from": settings.servers_from,
        "api_servers": redact::all(&c.api_servers),
        "endpoint_override": c.endpoint_override.as_deref().map(redact::text),
        "api_version": c.api_version.number(),
        "auth": auth,
        "num_retries": c.num_retries,
        "shuffle_servers": c.shuffle_servers,
        "retry_delay": c.retry_delay.as_secs_f64(),
        "connect_timeout": seconds(c.connect_timeout),
        "io_timeout": seconds(c.io_timeout),
        "insecure": c.insecure,
        "cafile": path(&c.cafile),
        "certfile": path(&c.certfile),
        "keyfile": path(&c.keyfile),
        "allowed_direct_url_schemes": c.allowed_direct_url_schemes,
        "filesystems": c.filesystems.iter().map(|f| json!({
            "name": f.name,
            "id": f.id,
            "mountpoint": f.mountpoint.display().to_string(),
        })).collect::<Vec<_>>(),
        "verify_glance_signatures": c.verify_glance_signatures,
        "enable_certificate_validation": c.enable_certificate_validation,
        "default_trusted_certificate_ids": c.default_trusted_certificate_ids,
        "barbican_endpoint": c.barbican_endpoint.as_deref().map(redact::text),
        "barbican_endpoint_type": c.barbican_endpoint_type,
        "barbican_region_name": c.barbican_region_name,
        "signatures_feature": cfg!(feature = "signatures"),
        "disable_deep_image_inspection": c.disable_deep_image_inspection,
        "vmdk_allowed_types": c.vmdk_allowed_types,
        "image_cache_dir": path(&c.image_cache_dir),
        "image_cache_max_age": c.image_cache_max_age.map(|d| d.as_secs()),
        "call_timeout": seconds(c.call_timeout),
        "user_agent_prefix": c.user_agent_prefix,
        "global_request_id": c.global_request_id,
        "warnings": redact::all(&c.warnings),
    });
    if let Value::Object(fields) = &mut value {
        fields.extend(keystone_json(c));
    }
    value
}

/// The Keystone settings under keystoneauth's option names (`OS_AUTH_URL` is
/// `auth_url`), `null` where the login has no such part. Never the token,
/// password or secret.
fn keystone_json(c: &Config) -> serde_json::Map<String, Value> {
    let mut k = serde_json::Map::new();
    let mut set = |key: &str, value: Option<&str>| {
        k.insert(key.to_string(), value.map_or(Value::Null, Value::from));
    };
    let (auth_type, auth_url, user, project, credential) = match &c.auth {
        Auth::None => ("none", None, None, None, None),
        Auth::Token(_) => ("token", None, None, None, None),
        Auth::Password(p) => (
            "password",
            Some(&p.auth_url),
            Some(&p.user),
            p.project.as_ref(),
            None,
        ),
        Auth::ApplicationCredential(a) => {
            let user = match &a.credential {
                Credential::Name { user, .. } => Some(user),
                _ => None,
            };
            (
                "v3applicationcredential",
                Some(&a.auth_url),
                user,
                None,
                Some(&a.credential),
            )
        }
        _ => ("other", None, None, None, None),
    };
    set("auth_type", Some(auth_type));
    set("auth_url", auth_url.map(|u| redact::text(u)).as_deref());
    let (user_id, username, user_domain) = match user {
        Some(User::Id(id)) => (Some(id.as_str()), None, None),
        Some(User::Name { name, domain }) => (None, Some(name.as_str()), Some(domain)),
        _ => (None, None, None),
    };
    set("user_id", user_id);
    set("username", username);
    set("user_domain_id", domain_id(user_domain));
    set("user_domain_name", domain_name(user_domain));
    let (project_id, project_name, project_domain) = match project {
        Some(Project::Id(id)) => (Some(id.as_str()), None, None),
        Some(Project::Name { name, domain }) => (None, Some(name.as_str()), Some(domain)),
        _ => (None, None, None),
    };
    set("project_id", project_id);
    set("project_name", project_name);
    set("project_domain_id", domain_id(project_domain));
    set("project_domain_name", domain_name(project_domain));
    let (credential_id, credential_name) = match credential {
        Some(Credential::Id(id)) => (Some(id.as_str()), None),
        Some(Credential::Name { name, .. }) => (None, Some(name.as_str())),
        _ => (None, None),
    };
    set("application_credential_id", credential_id);
    set("application_credential_name", credential_name);
    set("region_name", c.region_name.as_deref());
    k.insert("valid_interfaces".into(), json!(c.valid_interfaces));
    k
}

fn domain_id(domain: Option<&Domain>) -> Option<&str> {
    match domain {
        Some(Domain::Id(id)) => Some(id),
        _ => None,
    }
}

fn domain_name(domain: Option<&Domain>) -> Option<&str> {
    match domain {
        Some(Domain::Name(name)) => Some(name),
        _ => None,
    }
}
