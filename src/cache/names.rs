//! The cache's file names: which ids are allowed, and what each file in the
//! directory is.

use crate::error::{Error, Result};

/// The longest id taken. Glance ids are UUIDs (36 characters).
const MAX_ID: usize = 64;

/// Fails unless `id` could be a Glance image id: 1 to 64 ASCII letters,
/// digits, `-` and `_`. Nothing else can be a file name that stays in the
/// cache directory and never collides with the cache's own files.
pub(super) fn check_id(id: &str) -> Result<()> {
    if is_id(id) {
        Ok(())
    } else {
        Err(Error::InvalidInput(format!(
            "{id:?} is not a Glance image id (1 to {MAX_ID} letters, digits, '-' or '_')"
        )))
    }
}

fn is_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// What a file in the cache directory is.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Kind<'a> {
    /// `ID`: an entry's data.
    Data(&'a str),
    /// `ID.json`: an entry's record.
    Record(&'a str),
    /// `ID.lock`: an entry's lock file.
    Lock(&'a str),
    /// `.ID.….part`: a temporary file of a fetch or a record write.
    Temporary(&'a str),
    /// Anything else: not the cache's, never touched.
    Other,
}

/// Classifies a file name of the cache directory.
pub(super) fn kind(name: &str) -> Kind<'_> {
    if let Some(rest) = name.strip_prefix('.') {
        return match rest.strip_suffix(".part").and_then(|r| r.split_once('.')) {
            Some((id, _)) if is_id(id) => Kind::Temporary(id),
            _ => Kind::Other,
        };
    }
    if let Some(id) = name.strip_suffix(".json") {
        return if is_id(id) {
            Kind::Record(id)
        } else {
            Kind::Other
        };
    }
    if let Some(id) = name.strip_suffix(".lock") {
        return if is_id(id) {
            Kind::Lock(id)
        } else {
            Kind::Other
        };
    }
    if is_id(name) {
        Kind::Data(name)
    } else {
        Kind::Other
    }
}

/// The record's file name.
pub(super) fn record(id: &str) -> String {
    format!("{id}.json")
}

/// The lock file's name.
pub(super) fn lock(id: &str) -> String {
    format!("{id}.lock")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_glance_ids_and_nothing_that_leaves_the_directory() {
        check_id("0c6a0b7e-1d1e-4f0e-9d8b-0e2b1c3d4e5f").unwrap();
        check_id("image_1").unwrap();
        for bad in [
            "",
            ".",
            "..",
            "../etc/passwd",
            "a/b",
            "a.json",
            ".hidden",
            "a b",
            "é",
            &"a".repeat(65),
        ] {
            let e = check_id(bad).unwrap_err();
            assert!(
                e.to_string().contains("not a Glance image id"),
                "{bad:?}: {e}"
            );
        }
    }

    #[test]
    fn files_are_classified_by_name() {
        let id = "0c6a0b7e-1d1e-4f0e-9d8b-0e2b1c3d4e5f";
        assert_eq!(kind(id), Kind::Data(id));
        assert_eq!(kind(&format!("{id}.json")), Kind::Record(id));
        assert_eq!(kind(&format!("{id}.lock")), Kind::Lock(id));
        assert_eq!(kind(&format!(".{id}.123-4.part")), Kind::Temporary(id));
        assert_eq!(kind(&format!(".{id}.json.123-4.part")), Kind::Temporary(id));
        // Nova's own _base files and anything else are not the cache's.
        for other in [
            "5d7d3d2e3c1a5b0e8f1f7e2b9a0c4d6e8f0a1b2c_10",
            "ephemeral_20_40d1d2c",
            "swap_512",
            "abc.part",
            ".abc",
            ".a b.1-1.part",
            "x.json.bak",
        ] {
            let k = kind(other);
            assert!(
                matches!(k, Kind::Other | Kind::Data(_)),
                "{other:?} is {k:?}"
            );
        }
        assert_eq!(kind("abc.part"), Kind::Other);
        assert_eq!(kind(".abc"), Kind::Other);
    }
}
