//! Real disk images for the tests, made by `qemu-img` (Debian's
//! `qemu-utils`) in a directory the test owns. Shared by the suites that
//! need real images: include it with
//! `#[path = "inspect/images.rs"] mod images;`.
//!
//! Without `qemu-img`, [`have_qemu_img`] says why and returns false, and the
//! test returns early; with `GLANCE_LAB_REQUIRED=1` in the environment (as
//! `.ci/run` sets it) a missing `qemu-img` fails the test instead.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Whether `qemu-img` runs here. When it does not: panics under
/// `GLANCE_LAB_REQUIRED=1`, otherwise prints why the test is skipped.
pub fn have_qemu_img() -> bool {
    let found = Command::new("qemu-img")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        let why = "qemu-img is not installed (Debian: apt-get install qemu-utils)";
        assert!(
            std::env::var("GLANCE_LAB_REQUIRED").as_deref() != Ok("1"),
            "{why}, and GLANCE_LAB_REQUIRED=1"
        );
        eprintln!("skipped: {why}");
    }
    found
}

/// Runs `qemu-img create -f FORMAT ARGS... FILE [SIZE]` in `dir` (so a
/// relative backing or data file name is relative to the image) and returns
/// the image's path. `args` are extra options, e.g. `["-o",
/// "subformat=fixed"]` or `["-b", "base.raw", "-F", "raw"]`; `size` such as
/// `"1M"` (`None` to take it from a backing file).
pub fn qemu_img_create(
    dir: &Path,
    file: &str,
    format: &str,
    args: &[&str],
    size: Option<&str>,
) -> PathBuf {
    let mut command = Command::new("qemu-img");
    command
        .current_dir(dir)
        .args(["create", "-q", "-f", format])
        .args(args)
        .arg(file);
    command.args(size);
    run(&mut command);
    dir.join(file)
}

/// `qemu-img info --output=json` of `path` (with `-f FORMAT` when given,
/// instead of qemu's probe): the format qemu sees and the virtual size.
pub fn qemu_img_info(path: &Path, format: Option<&str>) -> (String, u64) {
    let mut command = Command::new("qemu-img");
    command.args(["info", "--output=json"]);
    if let Some(format) = format {
        command.args(["-f", format]);
    }
    let out = run(command.arg(path));
    let info: serde_json::Value = serde_json::from_slice(&out).expect("qemu-img info prints JSON");
    let format = info["format"].as_str().expect("a format").to_string();
    (
        format,
        info["virtual-size"].as_u64().expect("a virtual-size"),
    )
}

fn run(command: &mut Command) -> Vec<u8> {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert!(
        out.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}
