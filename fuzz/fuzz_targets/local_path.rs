//! A `file://` location mapped to a local path. Input lines: the location
//! URL, its metadata `id` and `mountpoint`, then (id, local mountpoint) pairs
//! of the configured filesystems. A mapped path is absolute; with
//! filesystems it lies under the mountpoint of the one whose id matched and
//! what the URL added below it is plain names (no `..`, `.` or root), so
//! the path has no `..` unless the configured mountpoint has one.
#![no_main]
use std::path::{Component, Path};

use glance_client::{FileSystem, Location};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.split('\n');
    let url = lines.next().unwrap_or_default().to_string();
    let mut metadata = Map::new();
    for key in ["id", "mountpoint"] {
        metadata.insert(
            key.into(),
            Value::String(lines.next().unwrap_or_default().into()),
        );
    }
    let lines: Vec<&str> = lines.collect();
    let filesystems: Vec<FileSystem> = (lines.chunks_exact(2).take(4))
        .map(|pair| FileSystem {
            name: "f".into(),
            id: pair[0].into(),
            mountpoint: pair[1].into(),
        })
        .collect();
    let location = Location { url, metadata };
    let Ok(path) = glance_client::fuzzing::local_path(&location, &filesystems) else {
        return;
    };
    let plain = |p: &Path| p.components().all(|c| matches!(c, Component::Normal(_)));
    assert!(path.is_absolute(), "{path:?} from {:?}", location.url);
    if filesystems.is_empty() {
        assert!(plain(path.strip_prefix("/").unwrap()), "{path:?}");
        return;
    }
    let id = location.metadata_str("id");
    let fs = filesystems
        .iter()
        .find(|fs| Some(fs.id.as_str()) == id)
        .expect("an id matched");
    let rest = path.strip_prefix(&fs.mountpoint).unwrap_or_else(|_| {
        panic!(
            "{path:?} is outside {:?} ({:?})",
            fs.mountpoint, location.url
        )
    });
    let dotdot = |p: &Path| p.components().any(|c| c == Component::ParentDir);
    assert!(!dotdot(&path) || dotdot(&fs.mountpoint), "{path:?} has ..");
    assert!(
        !rest.as_os_str().is_empty() && plain(rest),
        "{rest:?} under {:?}",
        fs.mountpoint
    );
});
