//! [`ImageMeta`]: the v1 image record as the wire carries it, and its
//! conversions to and from the version-neutral types.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::headers::TextSource;
use super::values::{bool_text, normalize_timestamp};
use crate::error::{Error, Result};
use crate::image::Image;

/// An image's v1 metadata: every `x-image-meta-*` field, as `HEAD` headers
/// or a `{"image": {...}}` body carry it.
///
/// Every field is optional because requests carry only what they change.
/// [`ImageMeta::into_image`] gives the neutral [`Image`]; the fields that
/// have no place there are documented on the field.
///
/// It is `#[non_exhaustive]`: build one from [`ImageMeta::default`] and set
/// what you need.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImageMeta {
    /// Image id (a UUID).
    pub id: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Disk format.
    pub disk_format: Option<String>,
    /// Container format.
    pub container_format: Option<String>,
    /// Data size in bytes.
    pub size: Option<u64>,
    /// Virtual disk size in bytes.
    pub virtual_size: Option<u64>,
    /// Hex MD5 of the data.
    pub checksum: Option<String>,
    /// Status (`queued`, `saving`, `active`, `killed`, `deleted`,
    /// `pending_delete`, `deactivated`).
    pub status: Option<String>,
    /// Public or private; becomes [`Image::visibility`].
    pub is_public: Option<bool>,
    /// Protected from deletion.
    pub protected: Option<bool>,
    /// Minimum RAM in MiB.
    pub min_ram: Option<u64>,
    /// Minimum disk in GiB.
    pub min_disk: Option<u64>,
    /// Owning project.
    pub owner: Option<String>,
    /// Creation time (UTC).
    pub created_at: Option<String>,
    /// Last update time (UTC).
    pub updated_at: Option<String>,
    /// Whether the record is deleted. Not kept in [`Image`]: a deleted
    /// image's status already says `deleted` or `pending_delete`.
    pub deleted: Option<bool>,
    /// Deletion time. Not kept in [`Image`] (see `deleted`).
    pub deleted_at: Option<String>,
    /// Where the data lives. The server never shows it (it may hold
    /// credentials); sent on create or on a queued image to register data
    /// already stored elsewhere. Becomes [`Image::direct_url`] when present.
    pub location: Option<String>,
    /// A URL the server copies the data from (`x-glance-api-copy-from`);
    /// request-only, not kept in [`Image`].
    pub copy_from: Option<String>,
    /// The store scheme to upload into (`file`, `swift`, ...); becomes
    /// [`Image::stores`] when present.
    pub store: Option<String>,
    /// Custom properties (`x-image-meta-property-<key>`).
    pub properties: BTreeMap<String, String>,
}

impl ImageMeta {
    /// Builds the metadata from a v1 image object (`{"image": {...}}`'s
    /// inside, or one entry of `{"images": [...]}`).
    ///
    /// Numbers may be JSON numbers or decimal strings, booleans JSON
    /// booleans or oslo strings; `null` means none; unknown keys are ignored.
    pub fn from_json(object: Map<String, Value>) -> Result<ImageMeta> {
        let mut meta = ImageMeta::default();
        for (key, value) in object {
            if key == "properties" {
                meta.properties = json_properties(value)?;
                continue;
            }
            let text = match value {
                Value::Null => continue,
                Value::String(s) => s,
                Value::Bool(b) => bool_text(b).to_string(),
                Value::Number(n) => n.to_string(),
                other => {
                    return Err(Error::invalid_response(format!(
                        "image {key} is not a scalar: {other}"
                    )));
                }
            };
            if !text.is_empty() {
                meta.set_text(&key, text, TextSource::Json)?;
            }
        }
        Ok(meta)
    }

    /// The neutral image. Fails when there is no id.
    ///
    /// `is_public` becomes `visibility` `public` or `private` (empty when
    /// absent); `location` becomes `direct_url` and `store` becomes
    /// `stores`; missing `min_ram`/`min_disk` are 0. Timestamps are put in
    /// v2's form (`2016-01-06T03:22:20Z`: v1's are UTC without a zone, and
    /// v2 drops the fraction), so one image reads the same from both APIs.
    pub fn into_image(self) -> Result<Image> {
        let id = self
            .id
            .filter(|s| !s.is_empty())
            .ok_or_else(|| Error::invalid_response("image has no id"))?;
        Ok(Image {
            id,
            name: self.name,
            status: self.status.unwrap_or_default(),
            size: self.size,
            virtual_size: self.virtual_size,
            checksum: self.checksum,
            disk_format: self.disk_format,
            container_format: self.container_format,
            visibility: match self.is_public {
                Some(true) => "public".into(),
                Some(false) => "private".into(),
                None => String::new(),
            },
            protected: self.protected.unwrap_or(false),
            min_disk: self.min_disk.unwrap_or(0),
            min_ram: self.min_ram.unwrap_or(0),
            owner: self.owner,
            created_at: self.created_at.map(normalize_timestamp),
            updated_at: self.updated_at.map(normalize_timestamp),
            direct_url: self.location,
            stores: self
                .store
                .map(|s| {
                    s.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default(),
            properties: self.properties,
            ..Image::default()
        })
    }

    /// The metadata a v1 server would show for `image` (the inverse of
    /// [`ImageMeta::into_image`] for everything v1 can express).
    ///
    /// `visibility` `public` is `is_public: true`, any other non-empty
    /// visibility `false`; tags, `os_hidden`, the secure hash and
    /// `locations` have no v1 form and are left out.
    pub fn from_image(image: &Image) -> ImageMeta {
        let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_string());
        ImageMeta {
            id: non_empty(&image.id),
            name: image.name.clone(),
            disk_format: image.disk_format.clone(),
            container_format: image.container_format.clone(),
            size: image.size,
            virtual_size: image.virtual_size,
            checksum: image.checksum.clone(),
            status: non_empty(&image.status),
            is_public: non_empty(&image.visibility).map(|v| v == "public"),
            protected: Some(image.protected),
            min_ram: Some(image.min_ram),
            min_disk: Some(image.min_disk),
            owner: image.owner.clone(),
            created_at: image.created_at.clone(),
            updated_at: image.updated_at.clone(),
            deleted: None,
            deleted_at: None,
            location: image.direct_url.clone(),
            copy_from: None,
            store: non_empty(&image.stores.join(",")),
            properties: image.properties.clone(),
        }
    }
}

fn json_properties(value: Value) -> Result<BTreeMap<String, String>> {
    let object = match value {
        Value::Null => return Ok(BTreeMap::new()),
        Value::Object(o) => o,
        other => {
            return Err(Error::invalid_response(format!(
                "image properties is not an object: {other}"
            )));
        }
    };
    let mut out = BTreeMap::new();
    for (key, value) in object {
        let text = match value {
            Value::Null => continue,
            Value::String(s) => s,
            other => other.to_string(),
        };
        out.insert(key, text);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_objects_accept_numbers_as_text_and_refuse_nesting() {
        let object = serde_json::json!({
            "id": "i", "size": "12", "is_public": "True", "min_ram": 5,
            "deleted_at": null, "properties": {"n": 1, "s": "x", "z": null},
            "extra": "ignored"
        });
        let Value::Object(o) = object else {
            unreachable!()
        };
        let meta = ImageMeta::from_json(o).unwrap();
        assert_eq!(
            (meta.size, meta.min_ram, meta.is_public),
            (Some(12), Some(5), Some(true))
        );
        assert_eq!(meta.properties.len(), 2);
        assert_eq!(meta.properties["n"], "1");
        let bad = serde_json::json!({"id": "i", "name": ["x"]});
        let Value::Object(o) = bad else {
            unreachable!()
        };
        assert!(ImageMeta::from_json(o).is_err());
    }
}
