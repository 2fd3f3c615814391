//! Runs the example tool `examples/glance.rs` as a user does: a child
//! process with arguments, environment and stdin, its exit status and
//! output captured.
#![allow(dead_code)] // each suite uses a different subset

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// What one run of the tool did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout parsed as JSON; panics showing the run when it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:#?}"))
    }

    /// Asserts success (exit 0).
    pub fn ok(self) -> Run {
        assert_eq!(self.code, 0, "expected success: {self:#?}");
        self
    }

    /// Asserts a failure with `code`, nothing on stdout, and one error line
    /// on stderr, the last, that contains every one of `words`; any lines
    /// before it are the library's warnings (`glance: warning: `).
    pub fn fails(self, code: i32, words: &[&str]) -> Run {
        assert_eq!(self.code, code, "expected exit status {code}: {self:#?}");
        assert_eq!(self.stdout, "", "nothing on stdout on failure: {self:#?}");
        let lines: Vec<&str> = self.stderr.lines().collect();
        let Some((error, warnings)) = lines.split_last() else {
            panic!("an error line on stderr: {self:#?}");
        };
        assert!(
            warnings.iter().all(|l| l.starts_with("glance: warning: ")),
            "only warnings before the one error line: {self:#?}"
        );
        assert!(
            error.starts_with("glance: ") && !error.starts_with("glance: warning: "),
            "the last line is the error: {self:#?}"
        );
        for word in words {
            assert!(error.contains(word), "the error names {word:?}: {self:#?}");
        }
        self
    }

    /// The lines on stderr that are warnings.
    pub fn warnings(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| l.starts_with("glance: warning: "))
            .collect()
    }
}

/// The built tool. Built here with cargo (a no-op when `cargo test` built
/// it already), so `cargo test --test tool` alone never runs a stale binary.
pub fn binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(build)
}

fn build() -> PathBuf {
    // This test runs from <target>/[<triple>/]<profile>/deps/.
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test binary sits in <profile>/deps");
    let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR is <target>/tmp");
    let profile = profile_dir
        .file_name()
        .and_then(|n| n.to_str())
        .expect("a profile directory name");
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo
        .args(["build", "--quiet", "--example", "glance", "--manifest-path"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
        .args([
            "--profile",
            match profile {
                "debug" => "dev",
                other => other,
            },
        ])
        .env("CARGO_TARGET_DIR", target_dir);
    // The tool the suite runs is built with the features the suite was
    // built with (`cargo test --features signatures`).
    if cfg!(feature = "signatures") {
        cargo.args(["--features", "signatures"]);
    }
    // What cargo sets for this test run only. Left in place, a build script
    // that watches one of them (ring watches CARGO_MANIFEST_DIR) would see it
    // change, and this build and the next `cargo test` would rebuild in turn.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let per_run = name.starts_with("CARGO_PKG_")
            || name.starts_with("CARGO_BIN_")
            || [
                "CARGO_MANIFEST_DIR",
                "CARGO_MANIFEST_PATH",
                "CARGO_CRATE_NAME",
                "CARGO_PRIMARY_PACKAGE",
                "CARGO_TARGET_TMPDIR",
                "CARGO_RUSTC_CURRENT_DIR",
                "OUT_DIR",
            ]
            .contains(&name.as_ref());
        if per_run {
            cargo.env_remove(name.as_ref());
        }
    }
    if let Some(triple) = profile_dir.parent().filter(|p| *p != target_dir) {
        let triple = triple
            .file_name()
            .and_then(|n| n.to_str())
            .expect("a triple");
        cargo.args(["--target", triple]);
    }
    let status = cargo
        .status()
        .expect("running cargo build --example glance");
    assert!(status.success(), "cargo build --example glance: {status}");
    let binary = profile_dir
        .join("examples")
        .join(format!("glance{}", std::env::consts::EXE_SUFFIX));
    assert!(binary.exists(), "{} was built", binary.display());
    binary
}

/// Variables the tool (or the crate's proxy support) reads, cleared for
/// every run so the caller's shell cannot change a test.
const CLEARED: [&str; 11] = [
    "OS_IMAGE_URL",
    "OS_AUTH_TOKEN",
    "OS_IMAGE_API_VERSION",
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
];

/// Runs the tool with `args`.
pub fn glance(args: &[&str]) -> Run {
    glance_with(args, &[], None)
}

/// Runs the tool with `args`, extra environment `env` and, when given,
/// `stdin` as its standard input (otherwise none).
pub fn glance_with(args: &[&str], env: &[(&str, &str)], stdin: Option<&[u8]>) -> Run {
    let mut command = Command::new(binary());
    command.args(args);
    for name in CLEARED {
        command.env_remove(name);
    }
    // Nor any OpenStack setting of the caller's shell (OS_AUTH_URL, OS_PASSWORD, ...).
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("OS_") {
            command.env_remove(name);
        }
    }
    command.envs(env.iter().copied());
    command
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("starting the tool");
    if let Some(data) = stdin {
        let mut pipe = child.stdin.take().expect("a stdin pipe");
        let data = data.to_vec();
        // Written from a thread: the tool may fill its stdout meanwhile.
        std::thread::spawn(move || {
            let _ = pipe.write_all(&data);
        });
    }
    let output = child.wait_with_output().expect("the tool's output");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}
