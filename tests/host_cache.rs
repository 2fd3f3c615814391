//! The `glance host-cache-*` commands as separate processes on one cache
//! directory, against the real Glance lab (and a scripted server for a
//! fetch killed mid-download): one download however many processes ask,
//! nothing wedged by `SIGKILL`, eviction that spares checked-out images.

mod cli;
mod support;

#[path = "download/harness.rs"]
mod harness;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use cli::glance;
use glance_client::{ImageData, NewImage};
use harness::{Act, ID, Scripted, entries, image_json, sample, sha512_hex};
use serde_json::Value;

/// An active raw image in the lab holding `data`; deleted when dropped.
struct Uploaded {
    client: glance_client::Client,
    id: String,
}

impl Uploaded {
    fn new(lab: &support::Lab, name: &str, data: &[u8]) -> Uploaded {
        let client = lab.client();
        let image = client
            .create_image(&NewImage {
                name: Some(name.into()),
                disk_format: Some("raw".into()),
                container_format: Some("bare".into()),
                ..NewImage::default()
            })
            .expect("create an image");
        client
            .upload(
                &image.id,
                ImageData::reader(&mut &data[..], Some(data.len() as u64)),
            )
            .expect("upload its data");
        Uploaded {
            client,
            id: image.id,
        }
    }
}

impl Drop for Uploaded {
    fn drop(&mut self) {
        let _ = self.client.delete_image(&self.id);
    }
}

/// How many times the lab's uWSGI log shows `GET path`.
fn gets_in_log(lab: &support::Lab, path: &str) -> Option<usize> {
    let log = lab.dir.as_ref()?.join("log").join("uwsgi.log");
    let text = fs::read_to_string(log).ok()?;
    let needle = format!("GET {path} ");
    Some(text.lines().filter(|l| l.contains(&needle)).count())
}

fn dir_arg(dir: &Path) -> String {
    dir.display().to_string()
}

#[test]
fn eight_processes_fetching_one_image_download_it_once() {
    let Some(lab) = support::lab() else { return };
    let data = sample(64 << 20, 21);
    let image = Uploaded::new(lab, "host-cache-eight", &data);
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let file = format!("/v2/images/{}/file", image.id);
    let before = gets_in_log(lab, &file);

    let children: Vec<_> = (0..8)
        .map(|_| {
            Command::new(cli::binary())
                .args([
                    "--os-image-url",
                    &lab.endpoint,
                    "--json",
                    "host-cache-fetch",
                ])
                .args([&image.id, "--cache-dir", &dir_arg(&cache)])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start glance")
        })
        .collect();
    let mut statuses = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}\n{stdout}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(report[0]["id"], image.id.as_str());
        assert_eq!(report[0]["bytes"], data.len());
        assert_eq!(report[0]["error"], Value::Null);
        statuses.push(report[0]["status"].as_str().unwrap().to_string());
    }
    statuses.sort();
    let mut expected = vec!["existing".to_string(); 7];
    expected.push("fetched".into());
    assert_eq!(statuses, expected);
    assert_eq!(
        sha512_hex(&fs::read(cache.join(&image.id)).unwrap()),
        sha512_hex(&data)
    );
    match (before, gets_in_log(lab, &file)) {
        (Some(before), Some(after)) => {
            assert_eq!(after - before, 1, "one GET {file} in the lab's request log")
        }
        _ => support::say("no lab request log (GLANCE_ENDPOINT): GET count not checked"),
    }
}

#[test]
fn a_fetch_killed_mid_download_wedges_nothing() {
    let data = sample(3_000_000, 22);
    let json = image_json(&data, &[]);
    let served = data.clone();
    // The first data request stalls after a third of the image.
    let server = Scripted::start(move |seen, index| {
        if !seen.path.ends_with("/file") {
            Act::json(&json)
        } else if index < 2 {
            Act::Stall {
                headers: harness::octet_headers(&served),
                announced: served.len(),
                body: served[..1_000_000].to_vec(),
            }
        } else {
            Act::data(&served)
        }
    });
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let mut child = Command::new(cli::binary())
        .args(["--os-image-url", &server.url, "host-cache-fetch", ID])
        .args(["--cache-dir", &dir_arg(&cache)])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let part = format!(".{ID}.");
    let mut started = false;
    for _ in 0..500 {
        if cache.exists()
            && fs::read_dir(&cache).unwrap().flatten().any(|e| {
                e.file_name().to_string_lossy().starts_with(&part)
                    && e.metadata().is_ok_and(|m| m.len() > 0)
            })
        {
            started = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(started, "the fetch started writing: {:?}", entries(&cache));
    child.kill().unwrap(); // SIGKILL: no cleanup runs
    child.wait().unwrap();
    assert!(
        entries(&cache).iter().any(|n| n.starts_with(&part)),
        "the killed fetch left its temporary file: {:?}",
        entries(&cache)
    );

    let cache_arg = dir_arg(&cache);
    let listed = glance(&["--json", "host-cache-list", "--cache-dir", &cache_arg]).ok();
    assert_eq!(listed.json(), Value::Array(vec![]), "no entry yet");
    let again = glance(&[
        "--os-image-url",
        &server.url,
        "--json",
        "host-cache-fetch",
        ID,
        "--cache-dir",
        &cache_arg,
    ])
    .ok();
    assert_eq!(again.json()[0]["status"], "fetched");
    assert_eq!(fs::read(cache.join(ID)).unwrap(), data);

    let cleaned = glance(&["--json", "host-cache-clean", "--cache-dir", &cache_arg]).ok();
    let cleaned = cleaned.json();
    assert_eq!(cleaned["removed"], Value::Array(vec![]));
    assert!(cleaned["freed"].as_u64().unwrap() > 0, "{cleaned}");
    assert_eq!(
        entries(&cache),
        [ID.to_string(), format!("{ID}.json"), format!("{ID}.lock")],
        "no temporary file left"
    );
}

#[test]
fn checkouts_pin_entries_and_eviction_goes_by_age_then_size() {
    let Some(lab) = support::lab() else { return };
    let a = Uploaded::new(lab, "host-cache-a", &sample(40_000, 23));
    let b = Uploaded::new(lab, "host-cache-b", &sample(60_000, 24));
    let tmp = tempfile::tempdir().unwrap();
    let cache = dir_arg(&tmp.path().join("cache"));
    let dest = tmp.path().join("disk-a");
    let dest_arg = dir_arg(&dest);
    let url = lab.endpoint.as_str();
    let download = |id: &str| {
        glance(&[
            "--os-image-url",
            url,
            "--json",
            "image-download",
            id,
            "--file",
            &dest_arg,
            "--cache-dir",
            &cache,
        ])
        .ok()
        .json()
    };
    let first = download(&a.id);
    assert_eq!(first["source"], "http");
    assert_eq!(first["path"], dest_arg.as_str());
    let second = download(&a.id);
    assert_eq!(second["source"], "cache", "{second}");
    assert_eq!(second["bytes"], 40_000);
    assert_eq!(fs::metadata(&dest).unwrap().nlink(), 2, "a hard link");
    glance(&[
        "--os-image-url",
        url,
        "host-cache-fetch",
        &b.id,
        "--cache-dir",
        &cache,
    ])
    .ok();

    let listed = glance(&["--json", "host-cache-list", "--cache-dir", &cache])
        .ok()
        .json();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2);
    for entry in listed {
        let in_use = entry["id"] == a.id.as_str();
        assert_eq!(entry["in_use"], in_use, "{entry}");
        let last_used = entry["last_used"].as_str().unwrap();
        assert!(
            last_used.ends_with('Z') && last_used.len() == 20,
            "{last_used}"
        );
        assert!(
            entry["path"]
                .as_str()
                .unwrap()
                .ends_with(entry["id"].as_str().unwrap())
        );
    }

    // Age: b goes, the checked-out a stays.
    let clean = |extra: &[&str]| {
        let mut args = vec!["--json", "host-cache-clean", "--cache-dir", &cache];
        args.extend_from_slice(extra);
        glance(&args).ok().json()
    };
    assert_eq!(
        clean(&["--max-age", "0"])["removed"],
        serde_json::json!([b.id])
    );
    assert_eq!(clean(&["--max-age", "0"])["removed"], serde_json::json!([]));
    fs::remove_file(&dest).unwrap();
    // Size: with the link gone, a budget below a's size removes it.
    let report = clean(&["--max-size", "39999"]);
    assert_eq!(report["removed"], serde_json::json!([a.id]));
    assert_eq!(report["freed"], 40_000);
    let left = glance(&["--json", "host-cache-list", "--cache-dir", &cache]).ok();
    assert_eq!(left.json(), Value::Array(vec![]));
}

#[test]
fn verify_removes_a_corrupted_entry_and_exits_1() {
    let Some(lab) = support::lab() else { return };
    let data = sample(80_000, 25);
    let image = Uploaded::new(lab, "host-cache-verify", &data);
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let cache_arg = dir_arg(&cache);
    let url = lab.endpoint.as_str();
    glance(&[
        "--os-image-url",
        url,
        "host-cache-fetch",
        &image.id,
        "--cache-dir",
        &cache_arg,
    ])
    .ok();
    let clean = glance(&["--json", "host-cache-verify", "--cache-dir", &cache_arg]).ok();
    assert_eq!(
        clean.json(),
        serde_json::json!({"checked": 1, "removed": []})
    );

    let path = cache.join(&image.id);
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    let mut bytes = fs::read(&path).unwrap();
    bytes[40_000] ^= 0x80;
    fs::write(&path, bytes).unwrap();
    let run = glance(&["--json", "host-cache-verify", "--cache-dir", &cache_arg]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert_eq!(
        run.json(),
        serde_json::json!({"checked": 1, "removed": [image.id]})
    );
    assert!(!path.exists());
    // The next fetch puts it back.
    let again = glance(&[
        "--os-image-url",
        url,
        "--json",
        "host-cache-fetch",
        &image.id,
        "--cache-dir",
        &cache_arg,
    ])
    .ok();
    assert_eq!(again.json()[0]["status"], "fetched");
}

#[test]
fn a_failed_image_among_several_exits_1_and_is_reported() {
    let Some(lab) = support::lab() else { return };
    let image = Uploaded::new(lab, "host-cache-some", &sample(1000, 26));
    let tmp = tempfile::tempdir().unwrap();
    let cache = dir_arg(&tmp.path().join("cache"));
    let missing = "00000000-0000-0000-0000-000000000000";
    let run = glance(&[
        "--os-image-url",
        &lab.endpoint,
        "--json",
        "host-cache-fetch",
        &image.id,
        missing,
        "--cache-dir",
        &cache,
    ]);
    assert_eq!(run.code, 1, "{run:#?}");
    let report = run.json();
    assert_eq!(report[0]["status"], "fetched");
    assert_eq!(report[1]["status"], "error");
    assert_eq!(report[1]["id"], missing);
    assert!(
        report[1]["error"].as_str().unwrap().contains("404"),
        "{report}"
    );
    assert!(run.stderr.contains(missing), "{run:#?}");
}

#[test]
fn the_cache_commands_need_a_cache_directory() {
    glance(&["host-cache-list"]).fails(2, &["--cache-dir"]);
    glance(&["host-cache-clean", "--cache-dir", ""]).fails(2, &["--cache-dir is empty"]);
    glance(&["host-cache-clean", "--cache-dir", "/tmp", "--max-age", "x"]).fails(2, &["--max-age"]);
}
