//! The configuration the tool runs with: `--config-file`s first, the
//! environment over them, the command line over both.

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

    // Keystone: each OS_* variable, or its --os-* flag over it.
    let flag_or_env = |name: &str| {
        let flag = format!("--{}", name.to_ascii_lowercase().replace('_', "-"));
        match global.one(&flag) {
            Some(v) => Some(v.to_string()),
            None => env(name),
        }
    };
    config
        .apply_os_vars(flag_or_env)
        .map_err(|e| Failure::Config(crate::error_message(&e)))?;

    match global.one("--os-auth-token") {
        Some("") => return Err(Failure::Usage("--os-auth-token is empty".into())),
        Some(token) => config.auth = Auth::Token(token.to_string()),
        None => {
            if let Some(token) = env("OS_AUTH_TOKEN") {
                config.auth = Auth::Token(token);
            }
        }
    }

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

/// The configuration as `config-check` prints it: never the token, and URLs
/// without their user information.
pub fn to_json(settings: &Settings) -> Value {
    let c = &settings.config;
    let auth = match &c.auth {
        Auth::None => "none",
        Auth::Token(_) => "token",
        Auth::Password(_) => "password",
        Auth::ApplicationCredential(_) => "application_credential",
        _ => "other",
    };
    json!({
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
        "read_timeout": seconds(c.read_timeout),
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
        "warnings": redact::all(&c.warnings),
    })
}
