//! What a create or an update sends in v1, from the neutral
//! [`NewImage`] and [`ImageUpdate`].

use std::collections::BTreeMap;

use super::ImageMeta;
use crate::error::{Error, Result};
use crate::image::{ImageUpdate, NewImage};

/// The v1-only parts of a create: where the data comes from and what the
/// server should check it against.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateOptions {
    /// The server copies the data from this URL (`x-glance-api-copy-from`).
    pub copy_from: Option<String>,
    /// The data already lives at this URL (`x-image-meta-location`); the
    /// image becomes active without an upload.
    pub location: Option<String>,
    /// Store scheme to upload into (`x-image-meta-store`).
    pub store: Option<String>,
    /// Expected data size; the server refuses data of another size.
    pub size: Option<u64>,
    /// Expected hex MD5; the server kills the image if the data differs.
    pub checksum: Option<String>,
}

impl ImageMeta {
    /// The headers of a create: every field of `new` that is set, plus the
    /// v1-only `options`. What v1 cannot express is refused before any
    /// request: tags, `os_hidden: true`, `community` visibility
    /// ([`Error::Unsupported`]).
    pub fn for_create(new: &NewImage, options: &CreateOptions) -> Result<ImageMeta> {
        if !new.tags.is_empty() {
            return Err(unsupported("tags"));
        }
        if new.os_hidden == Some(true) {
            return Err(unsupported("hidden images"));
        }
        Ok(ImageMeta {
            id: new.id.clone(),
            name: new.name.clone(),
            disk_format: new.disk_format.clone(),
            container_format: new.container_format.clone(),
            is_public: is_public(new.visibility.as_deref())?,
            protected: new.protected,
            min_ram: new.min_ram,
            min_disk: new.min_disk,
            owner: new.owner.clone(),
            size: options.size,
            checksum: options.checksum.clone(),
            location: options.location.clone(),
            copy_from: options.copy_from.clone(),
            store: options.store.clone(),
            properties: new.properties.clone(),
            ..ImageMeta::default()
        })
    }

    /// The headers of an update, and whether it must purge properties.
    ///
    /// Without removals only the changed properties are sent and the server
    /// keeps the others (purge `false`). With removals v1 can only replace
    /// the whole set: `current` (the image's properties now, from a `HEAD`)
    /// with `set_properties` applied and `remove_properties` taken out is
    /// sent, with purge `true`; removing a property that is not there is
    /// not an error. `current` is required exactly when there are removals.
    ///
    /// Only what v1 cannot honour is refused ([`Error::Unsupported`]): tags,
    /// `os_hidden: true`, `community` visibility. No tags and `os_hidden:
    /// false` already hold for every v1 image and send nothing.
    pub fn for_update(
        update: &ImageUpdate,
        current: Option<&BTreeMap<String, String>>,
    ) -> Result<(ImageMeta, bool)> {
        if update.tags.as_ref().is_some_and(|t| !t.is_empty()) {
            return Err(unsupported("tags"));
        }
        if update.os_hidden == Some(true) {
            return Err(unsupported("hidden images"));
        }
        let purge = !update.remove_properties.is_empty();
        let properties = match (purge, current) {
            (false, _) => update.set_properties.clone(),
            (true, Some(current)) => {
                // v1 stores names lowercase; a change may name either form.
                let mut all = current.clone();
                for (key, value) in &update.set_properties {
                    all.remove(key);
                    all.insert(key.to_ascii_lowercase(), value.clone());
                }
                for key in &update.remove_properties {
                    all.remove(key);
                    all.remove(&key.to_ascii_lowercase());
                }
                all
            }
            (true, None) => {
                return Err(Error::InvalidInput(
                    "removing v1 properties needs the image's current properties".into(),
                ));
            }
        };
        let meta = ImageMeta {
            name: update.name.clone(),
            disk_format: update.disk_format.clone(),
            container_format: update.container_format.clone(),
            is_public: is_public(update.visibility.as_deref())?,
            protected: update.protected,
            min_ram: update.min_ram,
            min_disk: update.min_disk,
            owner: update.owner.clone(),
            properties,
            ..ImageMeta::default()
        };
        Ok((meta, purge))
    }
}

/// `visibility` as v1's `is_public`: `shared` is a private image with members.
fn is_public(visibility: Option<&str>) -> Result<Option<bool>> {
    match visibility {
        None => Ok(None),
        Some("public") => Ok(Some(true)),
        Some("private" | "shared") => Ok(Some(false)),
        Some("community") => Err(unsupported("community visibility")),
        Some(other) => Err(Error::InvalidInput(format!("unknown visibility {other:?}"))),
    }
}

pub(crate) fn unsupported(operation: &'static str) -> Error {
    Error::Unsupported {
        operation,
        api_version: 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_without_removals_keeps_other_properties() {
        let u = ImageUpdate {
            set_properties: BTreeMap::from([("a".into(), "1".into())]),
            ..ImageUpdate::default()
        };
        let (meta, purge) = ImageMeta::for_update(&u, None).unwrap();
        assert!(!purge);
        assert_eq!(meta.properties, u.set_properties);
    }

    #[test]
    fn update_with_removals_sends_the_whole_remaining_set() {
        let u = ImageUpdate {
            set_properties: BTreeMap::from([("a".into(), "new".into())]),
            remove_properties: vec!["B".into(), "absent".into()],
            ..ImageUpdate::default()
        };
        assert!(ImageMeta::for_update(&u, None).is_err());
        let current = BTreeMap::from([
            ("a".to_string(), "old".to_string()),
            ("b".into(), "2".into()),
            ("c".into(), "3".into()),
        ]);
        let (meta, purge) = ImageMeta::for_update(&u, Some(&current)).unwrap();
        assert!(purge);
        assert_eq!(
            meta.properties,
            BTreeMap::from([("a".into(), "new".into()), ("c".into(), "3".into())])
        );
    }

    #[test]
    fn what_v1_cannot_express_is_unsupported() {
        let new = NewImage {
            tags: vec!["t".into()],
            ..NewImage::default()
        };
        let err = ImageMeta::for_create(&new, &CreateOptions::default()).unwrap_err();
        assert!(matches!(
            err,
            Error::Unsupported {
                operation: "tags",
                api_version: 1
            }
        ));
        let new = NewImage {
            visibility: Some("community".into()),
            ..NewImage::default()
        };
        assert!(matches!(
            ImageMeta::for_create(&new, &CreateOptions::default()),
            Err(Error::Unsupported { .. })
        ));
        let u = ImageUpdate {
            os_hidden: Some(true),
            ..ImageUpdate::default()
        };
        assert!(matches!(
            ImageMeta::for_update(&u, None),
            Err(Error::Unsupported { .. })
        ));
    }
}
