//! From a `file://` image location to a path on this host: the pure,
//! lexical part of the local short-circuit (no filesystem access, so it can
//! be fuzzed). The filesystem checks that follow are in `local.rs`.

use std::path::{Component, Path, PathBuf};

use crate::config::FileSystem;
use crate::image::Location;

impl Location {
    /// Where this `file://` location's data is on this host, by the rules of
    /// Nova's `[image_file_url]` (a pure function: nothing is opened).
    ///
    /// With no `filesystems`, the location's path is used as it is. With
    /// some, the location's metadata must carry the `id` of one of them and
    /// the `mountpoint` the Glance store sees; the path must lie under that
    /// mountpoint (compared by whole path components, so `/glance` does not
    /// match `/glancefoo`), and that prefix is swapped for the filesystem's
    /// local mountpoint. The result is then always under the local
    /// mountpoint.
    ///
    /// Refused, with the reason: another scheme, a host other than
    /// `localhost`, a query or fragment, a relative path, `.` or `..`
    /// segments (also %-escaped), a NUL byte, a path that is not UTF-8, an
    /// unknown id, and a path outside the store's mountpoint or equal to it.
    /// The reason is a message for the log and the download report.
    pub(crate) fn local_path(&self, filesystems: &[FileSystem]) -> Result<PathBuf, String> {
        let path = file_url_path(&self.url)?;
        if filesystems.is_empty() {
            return Ok(path);
        }
        let id = self
            .metadata_str("id")
            .ok_or("location metadata has no store id")?;
        let fs = filesystems
            .iter()
            .find(|fs| fs.id == id)
            .ok_or_else(|| format!("no [image_file_url] filesystem has id {id:?}"))?;
        let glance_mount = self
            .metadata_str("mountpoint")
            .ok_or("location metadata has no mountpoint")?;
        let glance_mount = Path::new(glance_mount);
        if !glance_mount.is_absolute() || has_dot_segments(glance_mount) {
            return Err(format!(
                "location metadata mountpoint {glance_mount:?} is not a plain absolute path"
            ));
        }
        let rest = path.strip_prefix(glance_mount).map_err(|_| {
            format!(
                "{} is not under the store's mountpoint {}",
                path.display(),
                glance_mount.display()
            )
        })?;
        if rest.as_os_str().is_empty() {
            return Err(format!(
                "{} names the store's mountpoint itself",
                path.display()
            ));
        }
        if !fs.mountpoint.is_absolute() {
            return Err(format!(
                "[image_file_url:{}] mountpoint {} is not absolute",
                fs.name,
                fs.mountpoint.display()
            ));
        }
        Ok(fs.mountpoint.join(rest))
    }
}

/// The path of a `file:` URL: `file:///p`, `file://localhost/p` or `file:/p`,
/// %-decoded, absolute, without dot segments.
fn file_url_path(url: &str) -> Result<PathBuf, String> {
    let rest = url
        .get(..5)
        .filter(|scheme| scheme.eq_ignore_ascii_case("file:"))
        .map(|_| &url[5..])
        .ok_or_else(|| format!("{url:?} is not a file: URL"))?;
    if rest.contains(['?', '#']) {
        return Err(format!("{url:?} has a query or fragment"));
    }
    let encoded = match rest.strip_prefix("//") {
        Some(authority_and_path) => {
            let slash = authority_and_path
                .find('/')
                .unwrap_or(authority_and_path.len());
            let host = &authority_and_path[..slash];
            if !(host.is_empty() || host.eq_ignore_ascii_case("localhost")) {
                return Err(format!("{url:?} names another host"));
            }
            &authority_and_path[slash..]
        }
        None => rest,
    };
    if !encoded.starts_with('/') {
        return Err(format!("{url:?} has no absolute path"));
    }
    // Segments are checked before decoding (a `..` written as is) and
    // after (one written `%2e%2e`).
    let decoded = percent_decode(encoded).ok_or_else(|| format!("{url:?} has a bad %-escape"))?;
    let decoded = String::from_utf8(decoded).map_err(|_| format!("{url:?} is not a UTF-8 path"))?;
    if decoded.contains('\0') {
        return Err(format!("{url:?} has a NUL byte"));
    }
    for text in [encoded, decoded.as_str()] {
        if text.split('/').any(|s| s == "." || s == "..") {
            return Err(format!("{url:?} has a . or .. segment"));
        }
    }
    Ok(PathBuf::from(decoded))
}

fn has_dot_segments(path: &Path) -> bool {
    path.components()
        .any(|c| matches!(c, Component::CurDir | Component::ParentDir))
        || path
            .to_str()
            .is_some_and(|s| s.split('/').any(|x| x == "."))
}

fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let text = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(text, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn location(url: &str, meta: serde_json::Value) -> Location {
        Location {
            url: url.into(),
            metadata: meta.as_object().cloned().unwrap_or_default(),
        }
    }

    fn mounts() -> Vec<FileSystem> {
        vec![
            FileSystem {
                name: "a".into(),
                id: "store-a".into(),
                mountpoint: "/mnt/a".into(),
            },
            FileSystem {
                name: "b".into(),
                id: "store-b".into(),
                mountpoint: "/mnt/b".into(),
            },
        ]
    }

    fn meta(id: &str) -> serde_json::Value {
        json!({"id": id, "mountpoint": "/var/lib/glance/images"})
    }

    #[test]
    fn without_filesystems_the_path_is_used_as_is() {
        for url in [
            "file:///var/lib/glance/images/x",
            "file://localhost/var/lib/glance/images/x",
            "FILE:/var/lib/glance/images/x",
        ] {
            assert_eq!(
                location(url, json!({})).local_path(&[]).unwrap(),
                Path::new("/var/lib/glance/images/x"),
                "{url}"
            );
        }
        assert_eq!(
            location("file:///srv/my%20image", json!({}))
                .local_path(&[])
                .unwrap(),
            Path::new("/srv/my image")
        );
    }

    #[test]
    fn matching_id_swaps_the_mountpoint() {
        let l = location("file:///var/lib/glance/images/sub/x", meta("store-b"));
        assert_eq!(l.local_path(&mounts()).unwrap(), Path::new("/mnt/b/sub/x"));
    }

    #[test]
    fn refusals_name_the_reason() {
        let cases = [
            (
                location("file:///var/lib/glance/images/x", meta("other")),
                "no [image_file_url] filesystem has id",
            ),
            (
                location(
                    "file:///var/lib/glance/images/x",
                    json!({"mountpoint": "/var/lib/glance/images"}),
                ),
                "no store id",
            ),
            (
                location("file:///var/lib/glance/images/x", json!({"id": "store-a"})),
                "no mountpoint",
            ),
            (
                location("file:///var/lib/glance/imagesfoo/x", meta("store-a")),
                "not under",
            ),
            (location("file:///srv/x", meta("store-a")), "not under"),
            (
                location("file:///var/lib/glance/images", meta("store-a")),
                "mountpoint itself",
            ),
            (
                location(
                    "file:///var/lib/glance/images/../../../etc/shadow",
                    meta("store-a"),
                ),
                "..",
            ),
            (
                location("file:///var/lib/glance/images/%2e%2e/x", meta("store-a")),
                "..",
            ),
            (
                location("file:///var/lib/glance/images/./x", meta("store-a")),
                ". or ..",
            ),
            (
                location("file://otherhost/var/lib/glance/images/x", meta("store-a")),
                "another host",
            ),
            (
                location("http://h/var/lib/glance/images/x", meta("store-a")),
                "not a file: URL",
            ),
            (
                location("file:///var/lib/glance/images/x?y", meta("store-a")),
                "query",
            ),
            (
                location("file:///var/lib/glance/images/x%00", meta("store-a")),
                "NUL",
            ),
            (
                location("file:///var/lib/glance/images/x%zz", meta("store-a")),
                "%-escape",
            ),
            (location("file:relative/x", meta("store-a")), "absolute"),
            (
                location(
                    "file:///var/lib/glance/images/x",
                    json!({"id": "store-a", "mountpoint": "/var/../lib"}),
                ),
                "plain absolute",
            ),
        ];
        for (l, why) in cases {
            let e = l.local_path(&mounts()).unwrap_err();
            assert!(e.contains(why), "{}: expected {why:?} in {e:?}", l.url);
        }
    }
}
