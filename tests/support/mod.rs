//! Support for the suites that talk to a real Glance.
//!
//! [`lab`] gives every test of a test binary the same running Glance: the
//! first test to ask starts one with `tests/lab/start-glance.sh` (on a free
//! port of 127.0.0.1, in a lab directory of its own under cargo's
//! `target/tmp`), the others wait for it. The lab's watchdog is tied to the
//! test process, so the Glance stops (and its directory is removed) within a
//! second or two of the test binary exiting, however it exits.
//!
//! Knobs (environment):
//! - `GLANCE_ENDPOINT`: use this already running Glance instead of starting one
//!   (with `GLANCE_STORE_DIR` and `GLANCE_FS_ID` when it is a lab whose store is
//!   on this machine; `set -a; . LAB/glance.env; set +a` sets them all).
//! - `GLANCE_VENV`: the virtualenv to use or create (default
//!   `target/tmp/glance-venv`, built once, about a minute, then reused).
//! - `GLANCE_LAB_REQUIRED=1`: a missing prerequisite fails the tests instead
//!   of skipping them.
//! - `GLANCE_LAB_KEEP=1`: keep the lab directory (logs, database, images) after
//!   the run, to read `log/glance-api.log` after a failure.
//!
//! When a prerequisite is missing (python3 >= 3.11 with venv and pip, a C
//! compiler and Python headers, a reachable PyPI) every test returns early
//! and says so on stderr, past the test harness's output capture: never a
//! silent skip. Any other launcher failure fails every test with its output.

#![allow(dead_code)] // each test binary uses its own part of this module

use std::env;
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use glance_client::{Client, Config, http};

/// A running Glance the tests may use.
#[derive(Debug)]
pub struct Lab {
    /// Base URL, e.g. `http://127.0.0.1:40123`.
    pub endpoint: String,
    /// The file store's directory, when it is on this machine.
    pub store_dir: Option<PathBuf>,
    /// The store id in each location's metadata, when known.
    pub fs_id: Option<String>,
    /// The virtualenv Glance runs from (holds `glance`, `openstack` clients, uWSGI).
    pub venv: Option<PathBuf>,
    /// The lab directory (config, database, logs), when known.
    pub dir: Option<PathBuf>,
}

impl Lab {
    /// A configuration for this Glance: one server, kept in order, and a
    /// short pause between retries.
    pub fn config(&self) -> Config {
        Config {
            shuffle_servers: false,
            retry_delay: std::time::Duration::from_millis(100),
            ..Config::for_server(&self.endpoint)
        }
    }

    /// A client for this Glance, acting as the lab's default project.
    pub fn client(&self) -> Client {
        Client::new(self.config()).expect("a client for the lab's endpoint")
    }

    /// `endpoint` + `path` (`path` starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.endpoint, path)
    }

    /// Sends a request built by the crate's sans-IO wire code (its URI a
    /// path) as it is, plus `extra` headers, and reads the whole answer. For
    /// what `Client` does not do: a deliberately wrong header, or acting as
    /// another project (`("X-Project-Id", "B")`, see tests/lab/start-glance.sh).
    pub fn send(
        &self,
        request: http::Request<Vec<u8>>,
        extra: &[(&str, &str)],
    ) -> http::Response<Vec<u8>> {
        let (mut parts, body) = request.into_parts();
        let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        parts.uri = self.url(path).parse().expect("a valid lab URL");
        for (name, value) in extra {
            parts.headers.insert(
                http::HeaderName::from_bytes(name.as_bytes()).expect("a header name"),
                http::HeaderValue::from_str(value).expect("a header value"),
            );
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let response = agent
            .run(http::Request::from_parts(parts, body))
            .expect("an answer from the lab");
        let (parts, mut body) = response.into_parts();
        let bytes = body.read_to_vec().expect("the whole answer body");
        http::Response::from_parts(parts, bytes)
    }
}

/// What starting the lab came to, decided once per test binary.
enum Outcome {
    Ready(Lab),
    /// A prerequisite is missing: tests skip, saying why.
    Skip(String),
    /// The launcher failed: tests fail, showing why.
    Fail(String),
}

/// The test binary's Glance, started on first use; `None` (after saying so
/// on stderr) when the tests must be skipped. Panics when the launcher failed.
///
/// ```ignore
/// let Some(lab) = support::lab() else { return };
/// ```
pub fn lab() -> Option<&'static Lab> {
    static OUTCOME: OnceLock<Outcome> = OnceLock::new();
    match OUTCOME.get_or_init(start) {
        Outcome::Ready(lab) => Some(lab),
        Outcome::Skip(_) => {
            let test = std::thread::current()
                .name()
                .unwrap_or("a test")
                .to_string();
            say(&format!("SKIPPED {test} (no Glance: see the reason above)"));
            None
        }
        Outcome::Fail(message) => panic!("could not start a Glance lab:\n{message}"),
    }
}

/// Writes a line to stderr directly: libtest captures `eprintln!` of passing
/// tests, and a skip must be seen.
pub fn say(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "glance lab: {line}");
}

fn start() -> Outcome {
    if let Some(endpoint) = non_empty_var("GLANCE_ENDPOINT") {
        say(&format!(
            "using the running Glance at {endpoint} (GLANCE_ENDPOINT)"
        ));
        return Outcome::Ready(Lab {
            endpoint: endpoint.trim_end_matches('/').to_string(),
            store_dir: non_empty_var("GLANCE_STORE_DIR").map(PathBuf::from),
            fs_id: non_empty_var("GLANCE_FS_ID"),
            venv: non_empty_var("GLANCE_VENV").map(PathBuf::from),
            dir: non_empty_var("GLANCE_LAB").map(PathBuf::from),
        });
    }
    let outcome = launch();
    match outcome {
        Outcome::Skip(reason) if non_empty_var("GLANCE_LAB_REQUIRED").as_deref() == Some("1") => {
            Outcome::Fail(format!("{reason} (and GLANCE_LAB_REQUIRED=1)"))
        }
        Outcome::Skip(reason) => {
            say(&format!(
                "the tests that need a real Glance are SKIPPED: {reason}"
            ));
            Outcome::Skip(reason)
        }
        other => other,
    }
}

/// Runs the launcher (up to three times, should another program take the
/// free port first) and reads the env file it writes.
fn launch() -> Outcome {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = manifest.join("tests/lab/start-glance.sh");
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let dir = tmp.join(format!("glance-lab-{}", std::process::id()));
    let venv = non_empty_var("GLANCE_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| tmp.join("glance-venv"));
    if !venv.join("bin/uwsgi").exists() {
        say(&format!(
            "creating the venv {} from PyPI first (about a minute, once)",
            venv.display()
        ));
    }
    let keep = non_empty_var("GLANCE_LAB_KEEP").as_deref() == Some("1");
    let started = std::time::Instant::now();
    let mut last = String::new();
    for _ in 0..3 {
        let port = match free_port() {
            Ok(port) => port,
            Err(e) => return Outcome::Fail(format!("no free port on 127.0.0.1: {e}")),
        };
        let output = Command::new("bash")
            .arg(&script)
            .arg(port.to_string())
            .env("GLANCE_LAB", &dir)
            .env("GLANCE_VENV", &venv)
            .env("GLANCE_LAB_OWNER_PID", std::process::id().to_string())
            .env("GLANCE_LAB_CLEANUP", if keep { "0" } else { "1" })
            .env_remove("GLANCE_AUTH")
            .env_remove("GLANCE_PORT")
            .stdin(Stdio::null())
            .output();
        let output = match output {
            Ok(output) => output,
            Err(e) => return Outcome::Skip(format!("cannot run bash {}: {e}", script.display())),
        };
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        match output.status.code() {
            Some(0) => return read_env_file(&dir.join("glance.env"), started.elapsed()),
            Some(3) => {
                let reason = stderr.lines().rev().find(|l| !l.trim().is_empty());
                let _ = std::fs::remove_dir_all(&dir);
                return Outcome::Skip(reason.unwrap_or("a prerequisite is missing").to_string());
            }
            _ => {
                last = format!(
                    "{} exited with {} (logs kept in {})\n{stdout}{stderr}",
                    script.display(),
                    output.status,
                    dir.join("log").display()
                );
                if !stderr.contains("already listens") {
                    break;
                }
            }
        }
    }
    Outcome::Fail(last)
}

/// A port the kernel just handed out, hence free a moment ago.
fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn read_env_file(path: &Path, took: std::time::Duration) -> Outcome {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => return Outcome::Fail(format!("reading {}: {e}", path.display())),
    };
    let get = |key: &str| {
        text.lines()
            .filter_map(|line| line.split_once('='))
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.to_string())
    };
    let Some(endpoint) = get("GLANCE_ENDPOINT") else {
        return Outcome::Fail(format!("{} has no GLANCE_ENDPOINT", path.display()));
    };
    say(&format!(
        "Glance {} is up at {endpoint} after {:.1}s (lab {})",
        get("GLANCE_VERSION").unwrap_or_default(),
        took.as_secs_f64(),
        get("GLANCE_LAB").unwrap_or_default()
    ));
    Outcome::Ready(Lab {
        endpoint,
        store_dir: get("GLANCE_STORE_DIR").map(PathBuf::from),
        fs_id: get("GLANCE_FS_ID"),
        venv: get("GLANCE_VENV").map(PathBuf::from),
        dir: get("GLANCE_LAB").map(PathBuf::from),
    })
}

fn non_empty_var(name: &str) -> Option<String> {
    env::var(name).ok().filter(|v| !v.trim().is_empty())
}
