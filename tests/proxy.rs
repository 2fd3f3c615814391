//! Proxies from the environment, end to end, without leaving 127.0.0.1.
//!
//! The variables are process-wide, so each case runs the client in a child
//! process (this test binary again, filtered to `child_process`) with its own
//! environment; the parent runs the fake proxy and the Glance stand-in and
//! checks who was asked.

mod common;

use std::process::Command;
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use common::{RawServer, VERSIONS, read_head, within};
use glance_client::{Auth, Client, Config, Error};
use httptest::matchers::request;
use httptest::responders::status_code;
use httptest::{Expectation, Server, ServerBuilder};

const SERVER: &str = "GLANCE_CLIENT_TEST_CHILD_SERVER";
const EXPECT: &str = "GLANCE_CLIENT_TEST_CHILD_EXPECT";
const TOKEN: &str = "tok-proxy-test";

/// The client side, run only in a child process started by [`run_child`].
#[test]
fn child_process() {
    let Ok(server) = std::env::var(SERVER) else {
        return;
    };
    let config = Config {
        num_retries: 0,
        auth: Auth::Token(TOKEN.into()),
        connect_timeout: Some(Duration::from_secs(5)),
        io_timeout: Some(Duration::from_secs(5)),
        ..Config::for_server(server)
    };
    match std::env::var(EXPECT).as_deref() {
        Ok("config-error") => {
            let err = Client::new(config).expect_err("Client::new refuses the proxy");
            assert!(matches!(err, Error::Config { .. }), "{err:?}");
            println!("CHILD: {err}");
        }
        _ => {
            let versions = Client::new(config).unwrap().versions().expect("versions");
            assert_eq!(versions[0].id, "v2.18");
        }
    }
}

/// Runs [`child_process`] against `server` with exactly the proxy variables
/// in `env`, and returns what it printed.
fn run_child(server: &str, expect: &str, env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "child_process",
        "--test-threads=1",
        "--nocapture",
    ]);
    for var in [
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
        "no_proxy",
        "NO_PROXY",
        "REQUEST_METHOD",
    ] {
        cmd.env_remove(var);
    }
    cmd.env(SERVER, server).env(EXPECT, expect);
    for (name, value) in env {
        cmd.env(name, value);
    }
    let out = within(Duration::from_secs(60), "the child client", move || {
        cmd.output()
    })
    .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "the child client failed:\n{text}");
    assert!(text.contains("1 passed"), "the child ran its test:\n{text}");
    text
}

/// What the fake proxy saw: the CONNECT head, then the tunnelled request head.
struct Tunnel {
    connect: String,
    inner: String,
}

/// A fake HTTP proxy on 127.0.0.1 that accepts any CONNECT and then answers
/// the tunnelled request itself with the versions document.
fn fake_proxy() -> (RawServer, Receiver<Tunnel>) {
    let (tx, rx) = channel();
    let proxy = RawServer::start(move |mut stream| {
        use std::io::Write;
        let connect = read_head(&mut stream).unwrap_or_default();
        let _ = stream.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
        let inner = read_head(&mut stream).unwrap_or_default();
        let answer = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{VERSIONS}",
            VERSIONS.len()
        );
        let _ = stream.write_all(answer.as_bytes());
        let _ = tx.send(Tunnel { connect, inner });
    });
    (proxy, rx)
}

/// The Glance stand-in, on 127.0.0.1 (httptest's default is `[::1]`).
/// A fake SOCKS5 proxy on 127.0.0.1 (no authentication) that records the
/// requested target as `host:port` and then answers the tunnelled request
/// itself with the versions document.
fn fake_socks5() -> (RawServer, Receiver<(String, String)>) {
    use std::io::{Read, Write};
    let (tx, rx) = channel();
    let proxy = RawServer::start(move |mut s| {
        let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
        let mut greeting = [0u8; 2];
        let _ = s.read_exact(&mut greeting);
        let _ = s.read_exact(&mut vec![0u8; usize::from(greeting[1])]);
        let _ = s.write_all(&[5, 0]);
        let mut request = [0u8; 4];
        let _ = s.read_exact(&mut request);
        let host = match request[3] {
            1 => {
                let mut a = [0u8; 4];
                let _ = s.read_exact(&mut a);
                std::net::Ipv4Addr::from(a).to_string()
            }
            3 => {
                let mut len = [0u8; 1];
                let _ = s.read_exact(&mut len);
                let mut name = vec![0u8; usize::from(len[0])];
                let _ = s.read_exact(&mut name);
                String::from_utf8_lossy(&name).into_owned()
            }
            other => format!("address type {other}"),
        };
        let mut port = [0u8; 2];
        let _ = s.read_exact(&mut port);
        let _ = s.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0]);
        let inner = read_head(&mut s).unwrap_or_default();
        let answer = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{VERSIONS}",
            VERSIONS.len()
        );
        let _ = s.write_all(answer.as_bytes());
        let _ = tx.send((format!("{host}:{}", u16::from_be_bytes(port)), inner));
    });
    (proxy, rx)
}

fn glance() -> (Server, String) {
    let server = ServerBuilder::new()
        .bind_addr("127.0.0.1:0".parse().unwrap())
        .run()
        .unwrap();
    let url = server.url_str("");
    (server, url)
}

fn expect_direct(server: &Server) {
    server.expect(
        Expectation::matching(request::method_path("GET", "/versions"))
            .times(1)
            .respond_with(status_code(200).body(VERSIONS)),
    );
}

#[test]
fn http_proxy_tunnels_to_an_http_server_and_keeps_the_token_inside() {
    let (proxy, seen) = fake_proxy();
    let (glance, url) = glance();
    run_child(&url, "ok", &[("http_proxy", &proxy.url)]);
    let tunnel = seen.recv_timeout(Duration::from_secs(10)).unwrap();
    let target = glance.addr();
    assert!(
        tunnel
            .connect
            .starts_with(&format!("CONNECT 127.0.0.1:{} HTTP/1.1\r\n", target.port())),
        "{}",
        tunnel.connect
    );
    assert!(
        !tunnel.connect.to_ascii_lowercase().contains("x-auth-token"),
        "the proxy never sees the token: {}",
        tunnel.connect
    );
    assert!(
        tunnel.inner.starts_with("GET /versions HTTP/1.1\r\n"),
        "{}",
        tunnel.inner
    );
    assert!(
        tunnel.inner.contains(TOKEN),
        "the token travels inside the tunnel: {}",
        tunnel.inner
    );
}

#[test]
fn no_proxy_sends_a_listed_server_direct() {
    let (proxy, _) = fake_proxy();
    for no_proxy in ["localhost, 127.0.0.1", "127.0.0.0/8", "*"] {
        let (glance, url) = glance();
        expect_direct(&glance);
        run_child(
            &url,
            "ok",
            &[("HTTP_PROXY", &proxy.url), ("NO_PROXY", no_proxy)],
        );
    }
    assert_eq!(proxy.accepted(), 0, "the proxy was never asked");
}

#[test]
fn an_unlisted_server_still_goes_through_the_proxy() {
    let (proxy, seen) = fake_proxy();
    let (_glance, url) = glance();
    run_child(
        &url,
        "ok",
        &[
            ("HTTP_PROXY", &proxy.url),
            ("no_proxy", "glance.example,10.0.0.0/8"),
        ],
    );
    assert!(seen.recv_timeout(Duration::from_secs(10)).is_ok());
}

#[test]
fn an_https_proxy_does_not_carry_plain_http() {
    let (proxy, _) = fake_proxy();
    let (glance, url) = glance();
    expect_direct(&glance);
    run_child(&url, "ok", &[("HTTPS_PROXY", &proxy.url)]);
    assert_eq!(proxy.accepted(), 0, "HTTPS_PROXY is for https:// servers");
}

#[test]
fn all_proxy_may_be_socks5h_which_resolves_names_itself() {
    let (proxy, seen) = fake_socks5();
    run_child(
        "http://localhost:9292",
        "ok",
        &[("ALL_PROXY", &proxy.url.replace("http://", "socks5h://"))],
    );
    let (target, inner) = seen.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(
        target, "localhost:9292",
        "the name goes to the proxy unresolved"
    );
    assert!(inner.starts_with("GET /versions HTTP/1.1\r\n"), "{inner}");
}

#[test]
fn an_unusable_proxy_variable_fails_client_new_naming_it() {
    let (_glance, url) = glance();
    let out = run_child(
        &url,
        "config-error",
        &[("http_proxy", "ftp://user:pw-s3cret@127.0.0.1:21")],
    );
    assert!(
        out.contains("CHILD: configuration: environment variable http_proxy"),
        "{out}"
    );
    assert!(
        !out.contains("s3cret"),
        "the proxy password is never shown: {out}"
    );
}
