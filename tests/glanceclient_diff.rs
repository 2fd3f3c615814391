//! Differential tests: python-glanceclient (the lab venv's `glance`, pinned
//! in tests/lab/requirements.lock) and our `glance` tool run side by side
//! against the same real Glance, with the same commands, and compared on
//! what a script sees:
//!
//! - the server state each leaves: every field of an image after
//!   `image-create` (data from a pipe, every typed flag) and `image-update`
//!   (every flag, a missing property removed), and of a queued image made
//!   from `--name` alone;
//! - the values `awk` idioms take from the tables (`/ id / {print $4}`,
//!   status, size, name, checksum, `/ NAME / {print $2}` on image-list),
//!   and the tables themselves, byte for byte, where both show the same
//!   objects (image-show, image-list, member-*, stores-info, import-info,
//!   image-tasks, usage);
//! - the data `image-download ID > file` writes;
//! - exit statuses: success, 404, a usage error, an unreachable server.
//!
//! Without the lab's glanceclient (no venv), the tests are skipped saying
//! so, unless `GLANCE_LAB_REQUIRED=1`.

mod cli;
mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use glance_client::{Client, Image};

/// Which tool runs a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tool {
    Python,
    Ours,
}

const BOTH: [Tool; 2] = [Tool::Python, Tool::Ours];

/// What one run did.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
}

impl Run {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    fn ok(self) -> Run {
        assert_eq!(self.code, 0, "expected success: {self:#?} {}", self.text());
        self
    }

    /// `awk '/ FIELD / {print $4}'`.
    fn awk4(&self, field: &str) -> Vec<String> {
        let pattern = format!(" {field} ");
        self.text()
            .lines()
            .filter(|l| l.contains(&pattern))
            .filter_map(|l| l.split_whitespace().nth(3).map(String::from))
            .collect()
    }

    /// `awk '/ NAME / {print $2}'`.
    fn awk2(&self, name: &str) -> Vec<String> {
        let pattern = format!(" {name} ");
        self.text()
            .lines()
            .filter(|l| l.contains(&pattern))
            .filter_map(|l| l.split_whitespace().nth(1).map(String::from))
            .collect()
    }
}

/// The two tools, a home for glanceclient's schema cache, and the lab.
struct Pair {
    python: PathBuf,
    home: tempfile::TempDir,
    lab: &'static support::Lab,
}

/// The pair, or `None` (said on stderr) when the lab or its glanceclient is
/// missing; with `GLANCE_LAB_REQUIRED=1` a missing glanceclient fails.
fn pair() -> Option<Pair> {
    let lab = support::lab()?;
    let python = lab.venv.as_ref().map(|v| v.join("bin/glance"));
    let Some(python) = python.filter(|p| p.exists()) else {
        let why = format!("no python-glanceclient in the lab's venv ({:?})", lab.venv);
        assert!(
            std::env::var("GLANCE_LAB_REQUIRED").as_deref() != Ok("1"),
            "{why} (and GLANCE_LAB_REQUIRED=1)"
        );
        support::say(&format!("SKIPPED: {why}"));
        return None;
    };
    Some(Pair {
        python,
        home: tempfile::tempdir().expect("a home for glanceclient"),
        lab,
    })
}

/// What a run reads on stdin.
enum Stdin<'a> {
    /// Closed (`<&-`): no data for either tool.
    Closed,
    /// A pipe with these bytes.
    Data(&'a [u8]),
}

impl Pair {
    fn client(&self) -> Client {
        self.lab.client()
    }

    /// Runs `tool` with `args` against `url`, the token `lab`, a clean
    /// environment and `stdin`.
    fn run_at(&self, tool: Tool, url: &str, args: &[&str], stdin: Stdin<'_>) -> Run {
        let program: &Path = match tool {
            Tool::Python => &self.python,
            Tool::Ours => cli::binary(),
        };
        // `exec "$@" <&-` closes stdin, as a cron job's can be.
        let mut command = Command::new("sh");
        command.arg("-c");
        command.arg(match stdin {
            Stdin::Closed => "exec \"$@\" <&-",
            Stdin::Data(_) => "exec \"$@\"",
        });
        command.arg("sh").arg(program).args(args);
        command.env_clear();
        for keep in ["PATH", "LANG", "LC_ALL", "TMPDIR"] {
            if let Some(v) = std::env::var_os(keep) {
                command.env(keep, v);
            }
        }
        command
            .env("HOME", self.home.path())
            .env("OS_IMAGE_URL", url)
            .env("OS_AUTH_TOKEN", "lab")
            .stdin(match stdin {
                Stdin::Closed => Stdio::null(),
                Stdin::Data(_) => Stdio::piped(),
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("starting a tool");
        if let Stdin::Data(data) = stdin {
            let mut pipe = child.stdin.take().expect("a stdin pipe");
            let data = data.to_vec();
            std::thread::spawn(move || {
                let _ = pipe.write_all(&data);
            });
        }
        let output = child.wait_with_output().expect("the tool's output");
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: output.stdout,
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    fn run(&self, tool: Tool, args: &[&str], stdin: Stdin<'_>) -> Run {
        self.run_at(tool, &self.lab.endpoint, args, stdin)
    }

    /// Runs the same command with both tools; asserts the same stdout.
    fn same_output(&self, args: &[&str]) -> String {
        let [python, ours] = BOTH.map(|t| self.run(t, args, Stdin::Closed).ok());
        assert_eq!(
            ours.text(),
            python.text(),
            "`glance {}`: ours (left) differs from glanceclient's (right)",
            args.join(" ")
        );
        ours.text()
    }
}

/// An image's state, without what differs between any two images (its
/// id, times, the locations that name the id, and the import's task id,
/// which Glance removes a moment after the image turns active).
fn state(image: &Image) -> serde_json::Value {
    let mut v = serde_json::to_value(image).expect("an image as JSON");
    let o = v.as_object_mut().expect("an object");
    for key in [
        "id",
        "created_at",
        "updated_at",
        "locations",
        "direct_url",
        "os_glance_import_task",
    ] {
        o.remove(key);
    }
    if let Some(tags) = o.get_mut("tags").and_then(|t| t.as_array_mut()) {
        tags.sort_by_key(|t| t.to_string());
    }
    v
}

/// Deletes the images when dropped (unprotecting them first).
struct Cleanup(Client, Vec<String>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for id in &self.1 {
            let unprotect = glance_client::ImageUpdate {
                protected: Some(false),
                ..glance_client::ImageUpdate::default()
            };
            let _ = self.0.update_image(id, &unprotect);
            let _ = self.0.delete_image(id);
        }
    }
}

fn unique(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("diff-{tag}-{}-{nanos}", std::process::id())
}

/// A UUID of our own for `--id`.
fn uuid(seed: u32) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let n = nanos ^ (u128::from(std::process::id()) << 64) ^ (u128::from(seed) << 96);
    let h = format!("{n:032x}");
    format!(
        "{}-{}-4{}-8{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

fn data(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31) ^ seed)
        .collect()
}

#[test]
fn create_with_every_flag_from_a_pipe_then_update_with_every_flag_leave_the_same_images() {
    let Some(pair) = pair() else { return };
    let client = pair.client();
    let bytes = data(70_001, 1);
    let name = unique("every-flag");
    let mut ids = Vec::new();
    let mut creates = Vec::new();
    for (i, tool) in BOTH.iter().enumerate() {
        let id = uuid(i as u32);
        let args = [
            "image-create",
            "--name",
            &name,
            "--disk-format",
            "raw",
            "--container-format",
            "bare",
            "--id",
            &id,
            "--min-disk",
            "2",
            "--min-ram",
            "64",
            "--protected",
            "True",
            "--hidden",
            "True",
            "--visibility",
            "private",
            "--tags",
            "a",
            "b",
            "--property",
            "foo=bar",
            "--property",
            "hw_disk_bus=scsi",
        ];
        let run = pair.run(*tool, &args, Stdin::Data(&bytes)).ok();
        ids.push(id);
        creates.push(run);
    }
    let _cleanup = Cleanup(client.clone(), ids.clone());
    // What scripts take from the create table.
    for (run, id) in creates.iter().zip(&ids) {
        assert_eq!(run.awk4("id"), std::slice::from_ref(id), "{}", run.text());
    }
    for field in [
        "status",
        "size",
        "name",
        "checksum",
        "min_disk",
        "protected",
        "tags",
    ] {
        assert_eq!(creates[1].awk4(field), creates[0].awk4(field), "{field}");
    }
    assert_eq!(creates[1].awk4("status"), ["active"]);
    let images: Vec<Image> = ids
        .iter()
        .map(|id| client.image(id).expect("show"))
        .collect();
    assert_eq!(state(&images[1]), state(&images[0]), "after image-create");
    assert_eq!(images[1].size, Some(bytes.len() as u64));
    assert!(images[1].protected && images[1].os_hidden);

    for (tool, id) in BOTH.iter().zip(&ids) {
        let args = [
            "image-update",
            id,
            "--name",
            "renamed",
            "--min-disk",
            "3",
            "--min-ram",
            "128",
            "--protected",
            "False",
            "--hidden",
            "False",
            "--visibility",
            "shared",
            "--property",
            "foo=baz",
            "--property",
            "new=1",
            "--remove-property",
            "hw_disk_bus",
            "--remove-property",
            "missing",
        ];
        let run = pair.run(*tool, &args, Stdin::Closed).ok();
        assert_eq!(run.awk4("name"), ["renamed"], "{}", run.text());
        assert_eq!(run.awk4("foo"), ["baz"]);
    }
    let images: Vec<Image> = ids
        .iter()
        .map(|id| client.image(id).expect("show"))
        .collect();
    assert_eq!(state(&images[1]), state(&images[0]), "after image-update");
    assert!(!images[1].properties.contains_key("hw_disk_bus"));

    // The same image shown by both: the same table, byte for byte.
    pair.same_output(&["image-show", &ids[0]]);
    pair.same_output(&["image-show", "--human-readable", &ids[1]]);
    // Data written to a redirected stdout.
    for tool in BOTH {
        let run = pair
            .run(tool, &["image-download", &ids[0]], Stdin::Closed)
            .ok();
        assert!(run.stdout == bytes, "{tool:?}: the downloaded bytes");
    }
}

#[test]
fn an_image_from_its_name_alone_is_queued_the_same() {
    let Some(pair) = pair() else { return };
    let client = pair.client();
    let name = unique("name-only");
    let runs: Vec<Run> = BOTH
        .iter()
        .map(|t| {
            pair.run(*t, &["image-create", "--name", &name], Stdin::Closed)
                .ok()
        })
        .collect();
    let ids: Vec<String> = runs.iter().map(|r| r.awk4("id").concat()).collect();
    let _cleanup = Cleanup(client.clone(), ids.clone());
    assert_eq!(runs[1].awk4("status"), ["queued"]);
    assert_eq!(runs[1].awk4("size"), runs[0].awk4("size"));
    let [a, b] = [&ids[0], &ids[1]].map(|id| client.image(id).expect("show"));
    assert_eq!(state(&b), state(&a));
    // Both tables list the same fields in the same order (values differ by id and time).
    let keys = |r: &Run| -> Vec<String> {
        r.text()
            .lines()
            .skip(3)
            .filter_map(|l| l.split_whitespace().nth(1).map(String::from))
            .collect()
    };
    assert_eq!(keys(&runs[1]), keys(&runs[0]));
}

#[test]
fn listings_and_the_other_tables_are_the_same() {
    let Some(pair) = pair() else { return };
    let client = pair.client();
    let tag = unique("listed");
    let mut ids = Vec::new();
    for name in ["b-second", "a-first", "c-third"] {
        let new = glance_client::NewImage {
            name: Some(format!("{tag}-{name}")),
            tags: vec![tag.clone()],
            ..glance_client::NewImage::default()
        };
        ids.push(client.create_image(&new).expect("create").id);
    }
    let _cleanup = Cleanup(client.clone(), ids.clone());
    client.add_member(&ids[0], "proj-diff").expect("share");

    let listed = pair.same_output(&["image-list", "--tag", &tag]);
    let names: Vec<&str> = listed
        .lines()
        .skip(3)
        .filter_map(|l| l.split_whitespace().nth(3))
        .collect();
    assert_eq!(
        names,
        [
            format!("{tag}-a-first"),
            format!("{tag}-b-second"),
            format!("{tag}-c-third")
        ],
        "sorted by name"
    );
    let ours = pair.run(Tool::Ours, &["image-list", "--tag", &tag], Stdin::Closed);
    assert_eq!(ours.awk2(&format!("{tag}-a-first")), [ids[1].clone()]);
    for args in [
        vec!["image-list", "--tag", &tag, "--sort", "name:desc"],
        vec![
            "image-list",
            "--tag",
            &tag,
            "--sort-key",
            "name",
            "--sort-dir",
            "desc",
            "--limit",
            "2",
        ],
        vec!["-v", "image-list", "--tag", &tag, "--include-stores"],
        vec!["member-list", "--image-id", &ids[0]],
        vec!["member-get", &ids[0], "proj-diff"],
        vec!["stores-info"],
        vec!["stores-info", "--detail"],
        vec!["import-info"],
        vec!["usage"],
    ] {
        pair.same_output(&args);
    }
}

#[test]
fn an_imports_tasks_and_the_image_are_shown_the_same() {
    let Some(pair) = pair() else { return };
    let client = pair.client();
    let name = unique("via-import");
    let bytes = data(4096, 3);
    let runs: Vec<Run> = BOTH
        .iter()
        .map(|t| {
            let args = [
                "image-create-via-import",
                "--name",
                &name,
                "--disk-format",
                "raw",
                "--container-format",
                "bare",
            ];
            pair.run(*t, &args, Stdin::Data(&bytes)).ok()
        })
        .collect();
    let ids: Vec<String> = runs.iter().map(|r| r.awk4("id").concat()).collect();
    let _cleanup = Cleanup(client.clone(), ids.clone());
    let mut images = Vec::new();
    for id in &ids {
        let mut image = client.image(id).expect("show");
        for _ in 0..200 {
            if image.status == "active" {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
            image = client.image(id).expect("show");
        }
        images.push(image);
    }
    assert_eq!(state(&images[1]), state(&images[0]), "after the import");
    assert_eq!(images[1].size, Some(4096));
    // The tasks' tables, once both tasks have settled.
    std::thread::sleep(std::time::Duration::from_millis(500));
    pair.same_output(&["image-tasks", &ids[1]]);
    // With -v, the Input column shows a JSON object Glance wrote in its own
    // key order, which we show sorted: every other cell is the same.
    let [python, ours] = BOTH.map(|t| {
        pair.run(t, &["-v", "image-tasks", &ids[0]], Stdin::Closed)
            .ok()
    });
    let cells = |r: &Run| -> Vec<Vec<String>> {
        r.text()
            .lines()
            .map(|l| {
                let mut cells: Vec<String> = l.split(" | ").map(|c| c.trim().to_string()).collect();
                if cells.len() == 11 {
                    cells.remove(9);
                }
                cells
            })
            .collect()
    };
    assert_eq!(cells(&ours), cells(&python));
}

#[test]
fn exit_statuses_for_success_not_found_usage_errors_and_an_unreachable_server() {
    let Some(pair) = pair() else { return };
    let missing = "00000000-0000-4000-8000-000000000000";
    let cases: [(&str, Vec<&str>, i32); 5] = [
        ("success", vec!["image-list", "--limit", "1"], 0),
        ("404", vec!["image-show", missing], 1),
        ("usage: a missing argument", vec!["image-show"], 2),
        (
            "usage: a value out of choices",
            vec!["image-list", "--sort-key", "bogus"],
            2,
        ),
        ("usage: an unknown command", vec!["image-fly"], 2),
    ];
    for (what, args, code) in cases {
        for tool in BOTH {
            let run = pair.run(tool, &args, Stdin::Closed);
            assert_eq!(run.code, code, "{what}, {tool:?}: {run:#?}");
        }
    }
    for tool in BOTH {
        let run = pair.run_at(tool, "http://127.0.0.1:1", &["image-list"], Stdin::Closed);
        assert_eq!(run.code, 1, "unreachable, {tool:?}: {run:#?}");
        assert!(run.stdout.is_empty(), "{tool:?}: nothing on stdout");
        assert!(!run.stderr.is_empty(), "{tool:?}: says why on stderr");
    }
}

#[test]
fn removing_a_missing_property_succeeds_with_both() {
    let Some(pair) = pair() else { return };
    let client = pair.client();
    let mut ids = Vec::new();
    for _ in BOTH {
        let new = glance_client::NewImage {
            name: Some(unique("remove-missing")),
            ..glance_client::NewImage::default()
        };
        ids.push(client.create_image(&new).expect("create").id);
    }
    let _cleanup = Cleanup(client.clone(), ids.clone());
    for (tool, id) in BOTH.iter().zip(&ids) {
        let args = [
            "image-update",
            "--property",
            "foo=bar",
            "--remove-property",
            "missing",
            id,
        ];
        let run = pair.run(*tool, &args, Stdin::Closed).ok();
        assert_eq!(run.awk4("foo"), ["bar"], "{tool:?}");
    }
}
