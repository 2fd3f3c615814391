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
//!
//! [`keystone_lab`] does the same for a real Keystone and a second Glance
//! behind keystonemiddleware's auth_token pointing at it
//! (`tests/lab/start-keystone.sh`, then `GLANCE_AUTH=keystone
//! start-glance.sh`), one pair per test binary, in the same venv. Knobs:
//! `KEYSTONE_LAB_ENV` (a running Keystone lab's `keystone.env`) together
//! with `GLANCE_KEYSTONE_ENDPOINT` (a Glance validating tokens against it)
//! use those instead; `GLANCE_VENV`, `GLANCE_LAB_REQUIRED` and
//! `GLANCE_LAB_KEEP` apply as above. [`keystone_lab_expiring`] starts such a
//! pair whose Keystone issues tokens valid for a few seconds only
//! (`KEYSTONE_TOKEN_EXPIRATION`), always its own.

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

/// What starting a lab came to, decided once per test binary.
enum Outcome<T> {
    Ready(T),
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
    static OUTCOME: OnceLock<Outcome<Lab>> = OnceLock::new();
    ready(OUTCOME.get_or_init(start), "Glance")
}

fn ready<'a, T>(outcome: &'a Outcome<T>, what: &str) -> Option<&'a T> {
    match outcome {
        Outcome::Ready(lab) => Some(lab),
        Outcome::Skip(_) => {
            let test = std::thread::current()
                .name()
                .unwrap_or("a test")
                .to_string();
            say(&format!("SKIPPED {test} (no {what}: see the reason above)"));
            None
        }
        Outcome::Fail(message) => panic!("could not start a {what} lab:\n{message}"),
    }
}

/// Lists one image (`limit=1`, the first page only): the cheapest call
/// that needs a valid token. Returns how many came back (0 or 1).
pub fn list_one(client: &Client) -> glance_client::Result<usize> {
    let query = glance_client::ListQuery {
        limit: Some(1),
        ..glance_client::ListQuery::default()
    };
    client
        .images(&query)
        .take(1)
        .collect::<glance_client::Result<Vec<_>>>()
        .map(|v| v.len())
}

/// Writes a line to stderr directly: libtest captures `eprintln!` of passing
/// tests, and a skip must be seen.
pub fn say(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "glance lab: {line}");
}

fn start() -> Outcome<Lab> {
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
    required(launch(), "Glance")
}

/// A skip becomes a failure with `GLANCE_LAB_REQUIRED=1`, and is announced.
fn required<T>(outcome: Outcome<T>, what: &str) -> Outcome<T> {
    match outcome {
        Outcome::Skip(reason) if non_empty_var("GLANCE_LAB_REQUIRED").as_deref() == Some("1") => {
            Outcome::Fail(format!("{reason} (and GLANCE_LAB_REQUIRED=1)"))
        }
        Outcome::Skip(reason) => {
            say(&format!(
                "the tests that need a real {what} are SKIPPED: {reason}"
            ));
            Outcome::Skip(reason)
        }
        other => other,
    }
}

/// How one run of a start script ended, when it did not start its service.
enum Launch {
    /// Exit 3: a prerequisite is missing.
    Skip(String),
    /// Another program took the port first: worth another try.
    Busy(String),
    Failed(String),
}

/// Runs `script PORT` with `env` set and `unset` removed; `Ok` once the
/// service is up. `logs` is named in the failure message.
fn run_launcher(
    script: &Path,
    port: u16,
    env: &[(&str, &std::ffi::OsStr)],
    unset: &[&str],
    logs: &Path,
) -> Result<(), Launch> {
    let mut command = Command::new("bash");
    command
        .arg(script)
        .arg(port.to_string())
        .stdin(Stdio::null());
    for (key, value) in env {
        command.env(key, value);
    }
    for key in unset {
        command.env_remove(key);
    }
    let output = command
        .output()
        .map_err(|e| Launch::Skip(format!("cannot run bash {}: {e}", script.display())))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    match output.status.code() {
        Some(0) => Ok(()),
        Some(3) => {
            let reason = stderr.lines().rev().find(|l| !l.trim().is_empty());
            Err(Launch::Skip(
                reason.unwrap_or("a prerequisite is missing").to_string(),
            ))
        }
        _ => {
            let message = format!(
                "{} exited with {} (logs kept in {})\n{stdout}{stderr}",
                script.display(),
                output.status,
                logs.display()
            );
            if stderr.contains("already listens") {
                Err(Launch::Busy(message))
            } else {
                Err(Launch::Failed(message))
            }
        }
    }
}

/// The venv shared by every lab of this checkout.
fn venv() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let venv = non_empty_var("GLANCE_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| tmp.join("glance-venv"));
    if !venv.join("bin/uwsgi").exists() {
        say(&format!(
            "creating the venv {} from PyPI first (about a minute, once)",
            venv.display()
        ));
    }
    venv
}

fn cleanup_flag() -> &'static std::ffi::OsStr {
    let keep = non_empty_var("GLANCE_LAB_KEEP").as_deref() == Some("1");
    std::ffi::OsStr::new(if keep { "0" } else { "1" })
}

/// Runs the launcher (up to three times, should another program take the
/// free port first) and reads the env file it writes.
fn launch() -> Outcome<Lab> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = manifest.join("tests/lab/start-glance.sh");
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let dir = tmp.join(format!("glance-lab-{}", std::process::id()));
    let venv = venv();
    let owner = std::process::id().to_string();
    let started = std::time::Instant::now();
    let mut last = String::new();
    for _ in 0..3 {
        let port = match free_port() {
            Ok(port) => port,
            Err(e) => return Outcome::Fail(format!("no free port on 127.0.0.1: {e}")),
        };
        let env = [
            ("GLANCE_LAB", dir.as_os_str()),
            ("GLANCE_VENV", venv.as_os_str()),
            ("GLANCE_LAB_OWNER_PID", owner.as_ref()),
            ("GLANCE_LAB_CLEANUP", cleanup_flag()),
        ];
        let unset = ["GLANCE_AUTH", "GLANCE_PORT"];
        match run_launcher(&script, port, &env, &unset, &dir.join("log")) {
            Ok(()) => return read_env_file(&dir.join("glance.env"), started.elapsed()),
            Err(Launch::Skip(reason)) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Outcome::Skip(reason);
            }
            Err(Launch::Busy(message)) => last = message,
            Err(Launch::Failed(message)) => return Outcome::Fail(message),
        }
    }
    Outcome::Fail(last)
}

/// A port the kernel just handed out, hence free a moment ago.
fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn read_env_file(path: &Path, took: std::time::Duration) -> Outcome<Lab> {
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

/// A running Keystone and a Glance that validates tokens against it.
#[derive(Debug)]
pub struct KeystoneLab {
    /// The Keystone-backed Glance.
    pub glance: Lab,
    /// The entries of the lab's `keystone.env`: `OS_*` of user demo on
    /// project demo, the `KEYSTONE_*` ids, names and lab secrets.
    pub vars: Vec<(String, String)>,
}

impl KeystoneLab {
    /// A `keystone.env` entry; panics naming it when it is missing.
    pub fn var(&self, key: &str) -> String {
        self.vars
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("keystone.env has no {key}"))
    }

    /// The `OS_*` variables of user demo, as a lookup for `Config::apply_os_vars`.
    pub fn os_vars(&self) -> impl Fn(&str) -> Option<String> + '_ {
        |name| {
            self.vars
                .iter()
                .find(|(k, _)| k.starts_with("OS_") && k == name)
                .map(|(_, v)| v.clone())
        }
    }

    /// A configuration with `auth` and no server, so the image API comes
    /// from the catalog (the lab's interface and region), kept in order, with
    /// a short pause between retries.
    pub fn config(&self, auth: glance_client::Auth) -> Config {
        Config {
            auth,
            shuffle_servers: false,
            retry_delay: std::time::Duration::from_millis(100),
            valid_interfaces: vec![self.var("OS_INTERFACE")],
            region_name: Some(self.var("OS_REGION_NAME")),
            ..Config::default()
        }
    }

    /// User demo's password login on project demo, both by name.
    pub fn demo_password(&self) -> glance_client::auth::Password {
        use glance_client::auth::{Domain, Password, Project, User};
        Password::new(
            self.var("OS_AUTH_URL"),
            User::name(
                self.var("OS_USERNAME"),
                Domain::name(self.var("OS_USER_DOMAIN_NAME")),
            ),
            self.var("OS_PASSWORD"),
        )
        .with_project(Project::name(
            self.var("OS_PROJECT_NAME"),
            Domain::name(self.var("OS_PROJECT_DOMAIN_NAME")),
        ))
    }
}

/// The test binary's Keystone and Keystone-backed Glance, started on first
/// use; `None` (after saying so on stderr) when the tests must be skipped.
/// Panics when a launcher failed.
pub fn keystone_lab() -> Option<&'static KeystoneLab> {
    static OUTCOME: OnceLock<Outcome<KeystoneLab>> = OnceLock::new();
    ready(OUTCOME.get_or_init(start_keystone), "Keystone")
}

/// Like [`keystone_lab`], but the Keystone's tokens expire `seconds` after
/// they are issued. Always a lab of its own (a running one named by
/// `KEYSTONE_LAB_ENV` has its own expiry); one per test binary, so every
/// caller in a binary must pass the same `seconds`.
pub fn keystone_lab_expiring(seconds: u32) -> Option<&'static KeystoneLab> {
    static OUTCOME: OnceLock<Outcome<KeystoneLab>> = OnceLock::new();
    ready(
        OUTCOME.get_or_init(|| required(launch_keystone(Some(seconds)), "Keystone")),
        "Keystone",
    )
}

fn start_keystone() -> Outcome<KeystoneLab> {
    if let (Some(env_file), Some(endpoint)) = (
        non_empty_var("KEYSTONE_LAB_ENV"),
        non_empty_var("GLANCE_KEYSTONE_ENDPOINT"),
    ) {
        say(&format!(
            "using the running Keystone of {env_file} (KEYSTONE_LAB_ENV) and the Glance \
             at {endpoint} (GLANCE_KEYSTONE_ENDPOINT)"
        ));
        return match read_vars(Path::new(&env_file)) {
            Ok(vars) => Outcome::Ready(KeystoneLab {
                glance: Lab {
                    endpoint: endpoint.trim_end_matches('/').to_string(),
                    store_dir: None,
                    fs_id: None,
                    venv: None,
                    dir: None,
                },
                vars,
            }),
            Err(e) => Outcome::Fail(e),
        };
    }
    required(launch_keystone(None), "Keystone")
}

fn read_vars(path: &Path) -> Result<Vec<(String, String)>, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    Ok(text
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect())
}

/// Starts Keystone (its catalog naming the port Glance will take, its tokens
/// valid for `expiration` seconds when given, else the launcher's hour),
/// then a Glance with `GLANCE_AUTH=keystone`; up to three times, should
/// another program take a port first.
fn launch_keystone(expiration: Option<u32>) -> Outcome<KeystoneLab> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lab_scripts = manifest.join("tests/lab");
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let pid = std::process::id();
    let ks_dir = tmp.join(format!("keystone-lab-{pid}"));
    let glance_dir = tmp.join(format!("glance-keystone-lab-{pid}"));
    let ks_env = ks_dir.join("keystone.env");
    let venv = venv();
    let owner = pid.to_string();
    let expiration = expiration.map(|s| s.to_string());
    let started = std::time::Instant::now();
    let stop_keystone = || {
        let _ = Command::new("bash")
            .arg(lab_scripts.join("stop-keystone.sh"))
            .arg("--remove-lab")
            .env("KEYSTONE_LAB", &ks_dir)
            .stdin(Stdio::null())
            .output();
    };
    let mut last = String::new();
    for _ in 0..3 {
        let ports = TcpListener::bind("127.0.0.1:0")
            .and_then(|a| Ok((a.local_addr()?.port(), TcpListener::bind("127.0.0.1:0")?)))
            .and_then(|(ks, b)| Ok((ks, b.local_addr()?.port())));
        let (ks_port, glance_port) = match ports {
            Ok(ports) => ports,
            Err(e) => return Outcome::Fail(format!("no free port on 127.0.0.1: {e}")),
        };
        let glance_url = format!("http://127.0.0.1:{glance_port}");
        let mut env = vec![
            ("KEYSTONE_LAB", ks_dir.as_os_str()),
            ("KEYSTONE_VENV", venv.as_os_str()),
            ("GLANCE_URL", glance_url.as_ref()),
            ("KEYSTONE_LAB_OWNER_PID", owner.as_ref()),
            ("KEYSTONE_LAB_CLEANUP", cleanup_flag()),
        ];
        let mut unset = vec!["KEYSTONE_RESET", "KEYSTONE_REGION"];
        match &expiration {
            Some(seconds) => env.push(("KEYSTONE_TOKEN_EXPIRATION", seconds.as_ref())),
            None => unset.push("KEYSTONE_TOKEN_EXPIRATION"),
        }
        let script = lab_scripts.join("start-keystone.sh");
        match run_launcher(&script, ks_port, &env, &unset, &ks_dir.join("log")) {
            Ok(()) => {}
            Err(Launch::Skip(reason)) => {
                let _ = std::fs::remove_dir_all(&ks_dir);
                return Outcome::Skip(reason);
            }
            Err(Launch::Busy(message)) => {
                last = message;
                continue;
            }
            Err(Launch::Failed(message)) => return Outcome::Fail(message),
        }
        let env = [
            ("GLANCE_LAB", glance_dir.as_os_str()),
            ("GLANCE_VENV", venv.as_os_str()),
            ("GLANCE_AUTH", "keystone".as_ref()),
            ("KEYSTONE_ENV_FILE", ks_env.as_os_str()),
            ("GLANCE_LAB_OWNER_PID", owner.as_ref()),
            ("GLANCE_LAB_CLEANUP", cleanup_flag()),
        ];
        // start-glance.sh prefers these to the env file's.
        let unset = [
            "GLANCE_PORT",
            "KEYSTONE_URL",
            "KEYSTONE_GLANCE_USERNAME",
            "KEYSTONE_GLANCE_PASSWORD",
            "KEYSTONE_GLANCE_PROJECT_NAME",
            "OS_REGION_NAME",
        ];
        let script = lab_scripts.join("start-glance.sh");
        match run_launcher(&script, glance_port, &env, &unset, &glance_dir.join("log")) {
            Ok(()) => {}
            Err(Launch::Skip(reason)) => {
                stop_keystone();
                return Outcome::Skip(reason);
            }
            Err(Launch::Busy(message)) => {
                stop_keystone();
                last = message;
                continue;
            }
            Err(Launch::Failed(message)) => return Outcome::Fail(message),
        }
        let vars = match read_vars(&ks_env) {
            Ok(vars) => vars,
            Err(e) => return Outcome::Fail(e),
        };
        let Outcome::Ready(glance) =
            read_env_file(&glance_dir.join("glance.env"), started.elapsed())
        else {
            return Outcome::Fail(format!("{} is unreadable", glance_dir.display()));
        };
        say(&format!(
            "Keystone is up at {} (lab {})",
            vars.iter()
                .find(|(k, _)| k == "KEYSTONE_URL")
                .map_or("?", |(_, v)| v.as_str()),
            ks_dir.display()
        ));
        return Outcome::Ready(KeystoneLab { glance, vars });
    }
    Outcome::Fail(last)
}
