//! The client's configuration: a plain struct with public fields.
//!
//! Build one in code (`Config { api_servers: vec![..], ..Config::default() }`)
//! or read Nova's `[glance]` / `[image_file_url]` options from a file.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

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

/// How requests are authenticated.
///
/// `Debug` never shows a secret.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Auth {
    /// No authentication header (a Glance with `noauth`, or behind a proxy that adds it).
    #[default]
    None,
    /// A Keystone token, sent as `X-Auth-Token` on every request.
    Token(String),
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Token(_) => f.write_str("Token(<redacted>)"),
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
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Base URLs of the image API, e.g. `http://glance.example:9292`. Tried in
    /// rotation; see [`Config::shuffle_servers`].
    pub api_servers: Vec<String>,
    /// Overrides `api_servers` with one URL when set (Nova's `endpoint_override`).
    pub endpoint_override: Option<String>,
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
    /// Limit on each single read or write; a stalled server is detected
    /// without putting a deadline on a long download.
    pub read_timeout: Option<Duration>,
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
    /// Whether image signatures should be verified (parsed and reported; this
    /// crate does not check signatures).
    pub verify_glance_signatures: bool,
    /// Deprecation and other warnings produced while reading configuration
    /// files; empty for a config built in code.
    pub warnings: Vec<String>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            api_servers: Vec::new(),
            endpoint_override: None,
            api_version: ApiVersion::V2,
            auth: Auth::None,
            num_retries: 3,
            shuffle_servers: true,
            retry_delay: Duration::from_millis(500),
            connect_timeout: Some(Duration::from_secs(30)),
            read_timeout: Some(Duration::from_secs(120)),
            insecure: false,
            cafile: None,
            certfile: None,
            keyfile: None,
            allowed_direct_url_schemes: Vec::new(),
            filesystems: Vec::new(),
            verify_glance_signatures: false,
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
