//! The agents requests go through: one per server, each with the shared TLS
//! settings and timeouts and that server's proxy; and the servers in the
//! order they are tried.

use std::fmt;
use std::time::Duration;

use ureq::Agent;

use super::proxy;
use super::servers::{Rotation, shuffle};
use super::tls;
use crate::config::Config;
use crate::error::{Error, Result};

/// The servers, their agents and the shared rotation.
#[derive(Debug)]
pub(super) struct Routes {
    /// Base URLs, in the order they are tried.
    pub(super) servers: Vec<String>,
    /// One agent per server: the shared TLS settings and that server's proxy.
    pub(super) agents: Vec<Agent>,
    pub(super) rotation: Rotation,
}

/// This crate's product token in the `User-Agent` header.
const USER_AGENT: &str = concat!("glance-client-rust/", env!("CARGO_PKG_VERSION"));

/// What every agent is built from: TLS, the proxy environment, timeouts,
/// the `User-Agent`.
pub(super) struct Connector {
    tls: ureq::tls::TlsConfig,
    env: proxy::ProxyEnv,
    connect_timeout: Option<Duration>,
    io_timeout: Option<Duration>,
    user_agent: String,
}

impl fmt::Debug for Connector {
    // The proxy variables may hold passwords: not shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connector")
            .field("connect_timeout", &self.connect_timeout)
            .field("io_timeout", &self.io_timeout)
            .finish_non_exhaustive()
    }
}

impl Connector {
    pub(super) fn new(config: &Config) -> Result<Connector> {
        Ok(Connector {
            tls: tls::tls_config(config)?,
            env: proxy::ProxyEnv::from_process(),
            connect_timeout: config.connect_timeout,
            io_timeout: config.io_timeout,
            user_agent: user_agent(config.user_agent_prefix.as_deref()),
        })
    }

    /// The agent for requests to `base` (a checked http(s) URL).
    pub(super) fn agent(&self, base: &str) -> Result<Agent> {
        let url = url::Url::parse(base)
            .map_err(|e| Error::Internal(format!("checked server URL {base}: {e}")))?;
        let chosen = self.env.proxy_for(&url)?;
        match &chosen {
            Some(c) => log::debug!("{base}: through proxy {} ({})", c.shown, c.var),
            None => log::debug!("{base}: direct connection"),
        }
        Ok(Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(&self.user_agent)
            .timeout_connect(self.connect_timeout)
            .timeout_per_read(self.io_timeout)
            .timeout_per_write(self.io_timeout)
            .tls_config(self.tls.clone())
            .proxy(chosen.map(|c| c.proxy))
            .build()
            .new_agent())
    }

    /// The routes to `servers` (checked base URLs), shuffled once when asked.
    pub(super) fn routes(&self, servers: Vec<String>, shuffled: bool) -> Result<Routes> {
        let mut routes = Vec::new();
        for server in servers {
            let agent = self.agent(&server)?;
            routes.push((server, agent));
        }
        if shuffled {
            shuffle(&mut routes);
        }
        let (servers, agents): (Vec<String>, Vec<Agent>) = routes.into_iter().unzip();
        Ok(Routes {
            rotation: Rotation::new(servers.len()),
            servers,
            agents,
        })
    }
}

/// The `User-Agent`: the caller's product tokens, then this crate's.
fn user_agent(prefix: Option<&str>) -> String {
    match prefix.map(str::trim).filter(|p| !p.is_empty()) {
        Some(prefix) => format!("{prefix} {USER_AGENT}"),
        None => USER_AGENT.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_crate_token_ends_the_user_agent() {
        assert_eq!(user_agent(None), USER_AGENT);
        assert_eq!(
            user_agent(Some("my-agent/1.2 ")),
            format!("my-agent/1.2 {USER_AGENT}")
        );
    }
}
