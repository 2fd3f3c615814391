//! Which proxy, if any, carries the requests to each server.
//!
//! The environment is read once, when the client is built, the way curl reads
//! it (ureq's own `Proxy::try_from_env` differs: it takes one proxy for every
//! scheme, `ALL_PROXY` first, and matches `NO_PROXY` entries only exactly and
//! untrimmed; so this crate decides itself and hands ureq the result):
//!
//! - `http://` servers use `http_proxy`, then `HTTP_PROXY` (ignored when
//!   `REQUEST_METHOD` is set, i.e. inside a CGI program, against "httpoxy"),
//!   then `all_proxy` / `ALL_PROXY`; `https://` servers use `https_proxy`,
//!   `HTTPS_PROXY`, then `all_proxy` / `ALL_PROXY`. Empty values count as unset.
//! - `no_proxy` (or `NO_PROXY`) is a comma-separated list; spaces around
//!   entries are ignored. `*` matches every server. `example.com`,
//!   `.example.com` and `*.example.com` all match `example.com` and every name
//!   below it. An IP address matches that address, a CIDR block
//!   (`10.0.0.0/8`, `fd00::/8`) every address in it; names are not resolved
//!   to match addresses. `host:port` matches only that port.
//! - Loopback servers are not exempt by themselves (as with curl): list
//!   `localhost,127.0.0.1,::1` in `no_proxy` to reach them directly.
//! - Proxies are `http://`, `https://` (`host:port` means `http://`) or
//!   `socks4://`, `socks4a://`, `socks5://` (the client resolves the server's
//!   name), `socks5h://` (the proxy does). ureq reaches every server through an
//!   HTTP proxy with a `CONNECT` tunnel, `http://` servers too, so the proxy
//!   must allow `CONNECT` to the Glance port. The token only travels inside
//!   the tunnel.

use std::net::IpAddr;

use url::{Host, Url};

use crate::error::{Error, Result};
use crate::urls;

/// The form of a proxy URL, for messages.
const FORM: &str = "scheme://[user:password@]host[:port] with scheme http, https, socks4, \
                    socks4a, socks5 or socks5h";

/// A proxy chosen for one server.
#[derive(Debug, Clone)]
pub(crate) struct Chosen {
    pub(crate) proxy: ureq::Proxy,
    /// `scheme://host:port` of the proxy, without credentials: safe to log.
    pub(crate) shown: String,
    /// The variable it came from.
    pub(crate) var: &'static str,
}

/// A snapshot of the proxy variables.
#[derive(Debug, Clone, Default)]
pub(crate) struct ProxyEnv {
    vars: Vec<(&'static str, String)>,
}

const NAMES: [&str; 9] = [
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
    "REQUEST_METHOD",
];

impl ProxyEnv {
    /// Reads the process environment.
    pub(crate) fn from_process() -> ProxyEnv {
        ProxyEnv::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the variables through `get` (tests pass a map).
    pub(crate) fn from_lookup(get: impl Fn(&str) -> Option<String>) -> ProxyEnv {
        let vars = NAMES
            .iter()
            .filter_map(|&name| get(name).map(|v| (name, v)))
            .collect();
        ProxyEnv { vars }
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The proxy for `server`, or `None` to connect directly.
    pub(crate) fn proxy_for(&self, server: &Url) -> Result<Option<Chosen>> {
        let cgi = self.get("REQUEST_METHOD").is_some();
        let candidates: &[&'static str] = match server.scheme() {
            "https" => &["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"],
            _ if cgi => &["http_proxy", "all_proxy", "ALL_PROXY"],
            _ => &["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"],
        };
        let Some((var, value)) = candidates.iter().find_map(|&var| {
            let value = self.get(var)?.trim();
            (!value.is_empty()).then_some((var, value))
        }) else {
            return Ok(None);
        };
        let no_proxy = self.get("no_proxy").or_else(|| self.get("NO_PROXY"));
        if let (Some(list), Some(host)) = (no_proxy, server.host()) {
            let port = server.port_or_known_default().unwrap_or(0);
            if bypasses(list, &host, port) {
                return Ok(None);
            }
        }
        parse_proxy(var, value).map(Some)
    }
}

/// Parses a proxy URL from variable `var`. Errors name the variable, never
/// the value (it may hold a password).
fn parse_proxy(var: &'static str, value: &str) -> Result<Chosen> {
    let bad = |why: String| Error::Config {
        file: None,
        line: None,
        message: format!("environment variable {var}: {why}"),
    };
    let text = if value.contains("://") {
        value.to_string()
    } else {
        format!("http://{value}")
    };
    let parts = urls::split(&text, FORM).map_err(|why| bad(format!("the proxy URL {why}")))?;
    let scheme = parts.scheme.to_ascii_lowercase();
    match scheme.as_str() {
        "http" | "https" | "socks4" | "socks4a" | "socks" | "socks5" | "socks5h" => {}
        s => return Err(bad(format!("unsupported proxy scheme {s:?}"))),
    }
    let port = parts.port.unwrap_or(match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        _ => 1080,
    });
    let proxy = ureq::Proxy::new(&text).map_err(|e| bad(format!("not a proxy URL ({e})")))?;
    Ok(Chosen {
        proxy,
        shown: format!("{scheme}://{}:{port}", parts.host.to_ascii_lowercase()),
        var,
    })
}

/// One `no_proxy` entry.
#[derive(Debug, PartialEq)]
enum Pattern {
    All,
    Name(String, Option<u16>),
    Addr(IpAddr, Option<u16>),
    Block(IpAddr, u8),
}

/// Parses one trimmed, non-empty entry; `None` for one that cannot match anything.
fn pattern(entry: &str) -> Option<Pattern> {
    let entry = entry.to_ascii_lowercase();
    if entry == "*" {
        return Some(Pattern::All);
    }
    if let Some((addr, bits)) = entry.split_once('/') {
        let addr: IpAddr = unbracket(addr).parse().ok()?;
        let bits: u8 = bits.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        return (bits <= max).then_some(Pattern::Block(addr, bits));
    }
    if let Ok(addr) = entry.parse::<IpAddr>() {
        return Some(Pattern::Addr(addr, None));
    }
    // `[v6]`, `[v6]:port`, `name:port`, `v4:port`.
    let (host, port) = if let Some(rest) = entry.strip_prefix('[') {
        let (addr, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse().ok()?),
            None if after.is_empty() => None,
            None => return None,
        };
        (addr.to_string(), port)
    } else if let Some((host, port)) = entry.rsplit_once(':') {
        (host.to_string(), Some(port.parse().ok()?))
    } else {
        (entry, None)
    };
    if let Ok(addr) = host.parse::<IpAddr>() {
        return Some(Pattern::Addr(addr, port));
    }
    let name = host
        .strip_prefix("*.")
        .or_else(|| host.strip_prefix('.'))
        .unwrap_or(&host)
        .trim_end_matches('.');
    (!name.is_empty() && !name.contains(['*', ':'])).then(|| Pattern::Name(name.into(), port))
}

fn unbracket(s: &str) -> &str {
    s.strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(s)
}

/// Whether `no_proxy` exempts `host:port`.
fn bypasses(no_proxy: &str, host: &Host<&str>, port: u16) -> bool {
    let addr: Option<IpAddr> = match host {
        Host::Ipv4(a) => Some((*a).into()),
        Host::Ipv6(a) => Some((*a).into()),
        Host::Domain(_) => None,
    };
    let name = match host {
        Host::Domain(d) => d.trim_end_matches('.').to_ascii_lowercase(),
        _ => String::new(),
    };
    let port_ok = |p: &Option<u16>| p.is_none_or(|p| p == port);
    no_proxy
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .filter_map(pattern)
        .any(|p| match (&p, addr) {
            (Pattern::All, _) => true,
            (Pattern::Addr(a, p), Some(addr)) => *a == addr && port_ok(p),
            (Pattern::Block(net, bits), Some(addr)) => in_block(addr, *net, *bits),
            (Pattern::Name(n, p), None) => {
                port_ok(p)
                    && (name == *n
                        || (name.len() > n.len()
                            && name.ends_with(n.as_str())
                            && name.as_bytes()[name.len() - n.len() - 1] == b'.'))
            }
            _ => false,
        })
}

fn in_block(addr: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (addr, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> ProxyEnv {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ProxyEnv::from_lookup(|name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        })
    }

    /// The proxy chosen for `server`, as `var -> shown`, or "direct".
    fn route(e: &ProxyEnv, server: &str) -> String {
        match e.proxy_for(&Url::parse(server).unwrap()).unwrap() {
            Some(c) => format!("{} -> {}", c.var, c.shown),
            None => "direct".into(),
        }
    }

    #[test]
    fn no_variables_means_direct() {
        assert_eq!(route(&env(&[]), "https://glance:9292"), "direct");
    }

    #[test]
    fn each_scheme_uses_its_own_variable() {
        let e = env(&[("HTTP_PROXY", "http://p1:3128"), ("HTTPS_PROXY", "p2:8080")]);
        assert_eq!(route(&e, "http://g:9292"), "HTTP_PROXY -> http://p1:3128");
        assert_eq!(route(&e, "https://g:9292"), "HTTPS_PROXY -> http://p2:8080");
        let only_https = env(&[("HTTPS_PROXY", "http://p2:8080")]);
        assert_eq!(route(&only_https, "http://g:9292"), "direct");
    }

    #[test]
    fn lower_case_wins_and_all_proxy_is_the_fallback() {
        let e = env(&[
            ("HTTP_PROXY", "http://upper:1"),
            ("http_proxy", "http://lower:2"),
            ("ALL_PROXY", "http://all:3"),
        ]);
        assert_eq!(route(&e, "http://g"), "http_proxy -> http://lower:2");
        assert_eq!(route(&e, "https://g"), "ALL_PROXY -> http://all:3");
        let empty = env(&[("http_proxy", " "), ("HTTP_PROXY", "http://upper:1")]);
        assert_eq!(route(&empty, "http://g"), "HTTP_PROXY -> http://upper:1");
    }

    #[test]
    fn http_proxy_is_ignored_in_a_cgi_program() {
        let e = env(&[("HTTP_PROXY", "http://evil:1"), ("REQUEST_METHOD", "GET")]);
        assert_eq!(route(&e, "http://g"), "direct");
    }

    #[test]
    fn socks_proxies_are_accepted() {
        let e = env(&[("all_proxy", "socks5h://p")]);
        assert_eq!(route(&e, "https://g"), "all_proxy -> socks5h://p:1080");
    }

    #[test]
    fn credentials_are_never_shown() {
        let e = env(&[("https_proxy", "http://user:s3cret@p:3128")]);
        let shown = route(&e, "https://g");
        assert_eq!(shown, "https_proxy -> http://p:3128");
        let chosen = e.proxy_for(&Url::parse("https://g").unwrap()).unwrap();
        let debug = format!("{chosen:?}");
        assert!(!debug.contains("s3cret"), "{debug}");
    }

    #[test]
    fn bad_proxies_are_config_errors_naming_the_variable() {
        for value in ["ftp://p", "http://", "http://[zz"] {
            let e = env(&[("https_proxy", value)]);
            let err = e.proxy_for(&Url::parse("https://g").unwrap()).unwrap_err();
            let text = err.to_string();
            assert!(text.contains("https_proxy"), "{value}: {text}");
        }
        let e = env(&[("https_proxy", "http://u:s3cret@[zz")]);
        let err = e.proxy_for(&Url::parse("https://g").unwrap()).unwrap_err();
        assert!(!err.to_string().contains("s3cret"), "{err}");
    }

    #[test]
    fn no_proxy_names_match_the_domain_and_below() {
        let hit = |list: &str, server: &str| {
            let e = env(&[("http_proxy", "http://p:1"), ("no_proxy", list)]);
            route(&e, server) == "direct"
        };
        for list in [
            "example.com",
            ".example.com",
            "*.example.com",
            "EXAMPLE.com.",
        ] {
            assert!(hit(list, "http://example.com"), "{list}");
            assert!(hit(list, "http://glance.Example.com:9292"), "{list}");
            assert!(!hit(list, "http://badexample.com"), "{list}");
            assert!(!hit(list, "http://example.com.evil"), "{list}");
        }
        assert!(
            hit("a, b ,glance", "http://glance:9292"),
            "entries are trimmed"
        );
        assert!(hit("*", "http://anything"));
        assert!(!hit("", "http://glance"));
        assert!(hit("glance:9292", "http://glance:9292"));
        assert!(!hit("glance:9292", "http://glance:9393"));
        assert!(hit("glance:80", "http://glance"), "default port");
    }

    #[test]
    fn no_proxy_addresses_and_blocks_match_ip_servers() {
        let hit = |list: &str, server: &str| {
            let e = env(&[("http_proxy", "http://p:1"), ("NO_PROXY", list)]);
            route(&e, server) == "direct"
        };
        assert!(hit("127.0.0.1", "http://127.0.0.1:9292"));
        assert!(!hit("127.0.0.1", "http://127.0.0.2:9292"));
        assert!(hit("127.0.0.0/8", "http://127.1.2.3"));
        assert!(hit("10.0.0.0/8", "http://10.20.30.40:9292"));
        assert!(!hit("10.0.0.0/8", "http://11.0.0.1"));
        assert!(hit("0.0.0.0/0", "http://192.0.2.1"));
        assert!(hit("::1", "http://[::1]:9292"));
        assert!(hit("[::1]", "http://[::1]:9292"));
        assert!(hit("[0:0::1]:9292", "http://[::1]:9292"));
        assert!(!hit("[::1]:1", "http://[::1]:9292"));
        assert!(hit("fd00::/8", "http://[fd12::5]"));
        assert!(hit("127.0.0.1:9292", "http://127.0.0.1:9292"));
        assert!(!hit("127.0.0.1", "http://localhost:9292"), "no resolution");
        assert!(!hit("localhost", "http://127.0.0.1"), "no resolution");
        assert!(!hit("10.0.0.0/99,bad/x,[::1", "http://10.0.0.1"));
    }

    #[test]
    fn lower_case_no_proxy_wins() {
        let e = env(&[
            ("http_proxy", "http://p:1"),
            ("no_proxy", "a"),
            ("NO_PROXY", "g"),
        ]);
        assert_eq!(route(&e, "http://g"), "http_proxy -> http://p:1");
    }

    #[test]
    fn loopback_is_proxied_unless_listed() {
        let e = env(&[("http_proxy", "http://p:1")]);
        assert_eq!(
            route(&e, "http://127.0.0.1:9292"),
            "http_proxy -> http://p:1"
        );
    }
}
