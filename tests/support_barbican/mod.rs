//! Support for the suites that need a real Barbican (and cursive).
//!
//! [`lab`] gives every test of a test binary the same running Barbican: the
//! first test to ask starts one with `tests/lab/start-barbican.sh` on a free
//! port of 127.0.0.1, in a lab directory of its own under cargo's
//! `target/tmp`, its watchdog tied to the test process (as
//! `tests/support/mod.rs` does for Glance). Its venv also holds cursive, the
//! oracle `tests/lab/cursive_oracle.py` runs.
//!
//! Knobs (environment):
//! - `BARBICAN_LAB_ENV`: the `barbican.env` of a running lab, used instead.
//! - `BARBICAN_VENV`: the virtualenv to use or create (default
//!   `target/tmp/barbican-venv`, built once, a minute or two, then reused).
//! - `GLANCE_LAB_REQUIRED=1`: a missing prerequisite (python3 >= 3.11 with
//!   venv, a C compiler and Python headers, PyPI; `openssl`) fails the tests
//!   instead of skipping them, which they do saying why, on stderr.
//! - `GLANCE_LAB_KEEP=1`: keep the lab directory (logs) after the run.

#![allow(dead_code)] // each test binary uses its own part of this module

use std::env;
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// A running Barbican (unauthenticated pipeline) and the venv holding cursive.
#[derive(Debug)]
pub struct Barbican {
    /// Base URL, e.g. `http://127.0.0.1:40123`.
    pub url: String,
    /// The `X-Project-Id` every request sends.
    pub project: String,
    /// The venv's Python, which imports barbican, castellan and cursive.
    pub python: PathBuf,
    /// `barbican.env`'s lines.
    pub vars: Vec<(String, String)>,
}

impl Barbican {
    /// A `barbican.env` entry, or "".
    pub fn var(&self, key: &str) -> &str {
        self.vars
            .iter()
            .find(|(k, _)| k == key)
            .map_or("", |(_, v)| v.as_str())
    }
}

enum Outcome {
    Ready(Barbican),
    Skip(String),
    Fail(String),
}

/// The test binary's Barbican, started on first use; `None` (after saying
/// so on stderr) when the tests must be skipped. Panics when the launcher failed.
pub fn lab() -> Option<&'static Barbican> {
    static OUTCOME: OnceLock<Outcome> = OnceLock::new();
    match OUTCOME.get_or_init(|| required(start())) {
        Outcome::Ready(lab) => Some(lab),
        Outcome::Skip(_) => {
            let test = std::thread::current()
                .name()
                .unwrap_or("a test")
                .to_string();
            say(&format!(
                "SKIPPED {test} (no Barbican: see the reason above)"
            ));
            None
        }
        Outcome::Fail(message) => panic!("could not start a Barbican lab:\n{message}"),
    }
}

/// Writes a line to stderr past libtest's capture: a skip must be seen.
pub fn say(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "barbican lab: {line}");
}

/// `Err(reason)` to skip when `program --version`-like `args` cannot run
/// (a missing tool such as openssl); the caller turns it into a skip or,
/// with `GLANCE_LAB_REQUIRED=1`, a failure.
pub fn have_tool(program: &str, args: &[&str]) -> Result<(), String> {
    match Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
    {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(format!("{program} {args:?} exited with {}", out.status)),
        Err(e) => Err(format!("prerequisite missing: cannot run {program}: {e}")),
    }
}

/// A skip that fails instead with `GLANCE_LAB_REQUIRED=1`; announced.
pub fn skip_or_fail(reason: &str) {
    if non_empty_var("GLANCE_LAB_REQUIRED").as_deref() == Some("1") {
        panic!("{reason} (and GLANCE_LAB_REQUIRED=1)");
    }
    say(&format!("SKIPPED: {reason}"));
}

fn required(outcome: Outcome) -> Outcome {
    match outcome {
        Outcome::Skip(reason) if non_empty_var("GLANCE_LAB_REQUIRED").as_deref() == Some("1") => {
            Outcome::Fail(format!("{reason} (and GLANCE_LAB_REQUIRED=1)"))
        }
        Outcome::Skip(reason) => {
            say(&format!(
                "the tests that need a real Barbican are SKIPPED: {reason}"
            ));
            Outcome::Skip(reason)
        }
        other => other,
    }
}

fn start() -> Outcome {
    if let Some(env_file) = non_empty_var("BARBICAN_LAB_ENV") {
        say(&format!(
            "using the running Barbican of {env_file} (BARBICAN_LAB_ENV)"
        ));
        return read_env_file(Path::new(&env_file));
    }
    launch()
}

/// Runs the launcher, up to three times should another program take the
/// free port first, and reads the env file it writes.
fn launch() -> Outcome {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = manifest.join("tests/lab/start-barbican.sh");
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let dir = tmp.join(format!("barbican-lab-{}", std::process::id()));
    let venv =
        non_empty_var("BARBICAN_VENV").map_or_else(|| tmp.join("barbican-venv"), PathBuf::from);
    if !venv.join("bin/uwsgi").exists() {
        say(&format!(
            "creating the venv {} from PyPI first (a minute or two, once)",
            venv.display()
        ));
    }
    let keep = non_empty_var("GLANCE_LAB_KEEP").as_deref() == Some("1");
    let mut last = String::new();
    for _ in 0..3 {
        let port = match TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
            Ok(addr) => addr.port(),
            Err(e) => return Outcome::Fail(format!("no free port on 127.0.0.1: {e}")),
        };
        let output = Command::new("bash")
            .arg(&script)
            .arg(port.to_string())
            .env("BARBICAN_LAB", &dir)
            .env("BARBICAN_VENV", &venv)
            .env("BARBICAN_LAB_OWNER_PID", std::process::id().to_string())
            .env("BARBICAN_LAB_CLEANUP", if keep { "0" } else { "1" })
            .env_remove("BARBICAN_PORT")
            .stdin(Stdio::null())
            .output();
        let output = match output {
            Ok(output) => output,
            Err(e) => return Outcome::Skip(format!("cannot run bash {}: {e}", script.display())),
        };
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        match output.status.code() {
            Some(0) => return read_env_file(&dir.join("barbican.env")),
            Some(3) => {
                let _ = std::fs::remove_dir_all(&dir);
                let reason = stderr.lines().rev().find(|l| !l.trim().is_empty());
                return Outcome::Skip(reason.unwrap_or("a prerequisite is missing").to_string());
            }
            _ => {
                let stdout = String::from_utf8_lossy(&output.stdout);
                last = format!(
                    "{} exited with {}\n{stdout}{stderr}",
                    script.display(),
                    output.status
                );
                if !stderr.contains("already listens") {
                    return Outcome::Fail(last);
                }
            }
        }
    }
    Outcome::Fail(last)
}

fn read_env_file(path: &Path) -> Outcome {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => return Outcome::Fail(format!("reading {}: {e}", path.display())),
    };
    let vars: Vec<(String, String)> = text
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let get = |key: &str| vars.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    let (Some(url), Some(venv)) = (get("BARBICAN_URL"), get("BARBICAN_VENV")) else {
        return Outcome::Fail(format!(
            "{} lacks BARBICAN_URL or BARBICAN_VENV",
            path.display()
        ));
    };
    say(&format!(
        "Barbican {} (cursive {}) is up at {url}",
        get("BARBICAN_VERSION").unwrap_or_default(),
        get("CURSIVE_VERSION").unwrap_or_default()
    ));
    Outcome::Ready(Barbican {
        url,
        project: get("BARBICAN_PROJECT_ID").unwrap_or_else(|| "glance-client-lab".into()),
        python: Path::new(&venv).join("bin/python"),
        vars,
    })
}

fn non_empty_var(name: &str) -> Option<String> {
    env::var(name).ok().filter(|v| !v.trim().is_empty())
}
