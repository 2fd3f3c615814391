//! The version-neutral image model.
//!
//! [`Image`] is what both API versions convert into. It serializes to (and
//! deserializes from) JSON with Glance v2's own field names, extra properties
//! as top-level string keys, so `serde_json::to_string(&image)` looks like
//! what `GET /v2/images/{id}` returned.

use std::collections::BTreeMap;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// One image, as both API versions describe it.
///
/// Fields the server may leave out are `Option`s or empty collections;
/// `properties` holds every key that is not a standard field (Glance v2
/// "additional properties"; v1 `x-image-meta-property-*`).
///
/// Glance adds fields over time, so the struct is `#[non_exhaustive]`:
/// build one from [`Image::default`] and set what you need.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Image {
    /// Image id (a UUID).
    pub id: String,
    /// Name; Glance allows none.
    pub name: Option<String>,
    /// Status: `queued`, `saving`, `active`, `killed`, `deleted`, `pending_delete`,
    /// `deactivated`, `uploading` or `importing`.
    pub status: String,
    /// Size of the image data in bytes, once uploaded.
    pub size: Option<u64>,
    /// Virtual disk size in bytes, when the server computed it.
    pub virtual_size: Option<u64>,
    /// Hex MD5 of the data (legacy checksum).
    pub checksum: Option<String>,
    /// Algorithm of the secure hash (`sha512` by default on Glance).
    pub os_hash_algo: Option<String>,
    /// Hex digest of the data under `os_hash_algo`.
    pub os_hash_value: Option<String>,
    /// Disk format (`raw`, `qcow2`, ...).
    pub disk_format: Option<String>,
    /// Container format (`bare`, `ovf`, ...).
    pub container_format: Option<String>,
    /// `public`, `private`, `shared` or `community`.
    pub visibility: String,
    /// Whether deletion is prevented.
    pub protected: bool,
    /// Whether the image is hidden from default listings.
    pub os_hidden: bool,
    /// Minimum disk in GiB needed to boot.
    pub min_disk: u64,
    /// Minimum RAM in MiB needed to boot.
    pub min_ram: u64,
    /// Owning project.
    pub owner: Option<String>,
    /// Creation time, ISO 8601 as the server wrote it.
    pub created_at: Option<String>,
    /// Last update time, ISO 8601 as the server wrote it.
    pub updated_at: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Storage locations, when the operator shows them (`show_multiple_locations`).
    pub locations: Vec<Location>,
    /// The first location's URL, when the operator shows it (`show_image_direct_url`).
    pub direct_url: Option<String>,
    /// Stores holding the data (multi-store Glance), in server order.
    pub stores: Vec<String>,
    /// Every other property, by name.
    pub properties: BTreeMap<String, String>,
}

/// Where the image data is stored, with the store's metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    /// Location URL, e.g. `file:///var/lib/glance/images/<id>`.
    pub url: String,
    /// Store metadata; a file store configured for it carries `id` and `mountpoint`.
    pub metadata: Map<String, Value>,
}

impl Location {
    /// A string entry of the metadata.
    pub fn metadata_str(&self, key: &str) -> Option<&str> {
        self.metadata.get(key).and_then(Value::as_str)
    }
}

impl Image {
    /// Whether the image is `active` (has data that can be downloaded).
    pub fn is_active(&self) -> bool {
        self.status == "active"
    }
}

/// Keys of the v2 image schema that are never extra properties. `self`,
/// `file` and `schema` are links the server adds; they are dropped.
const LINK_KEYS: [&str; 3] = ["self", "file", "schema"];

impl Image {
    /// Builds an image from a Glance v2 image object.
    pub(crate) fn from_v2_map(mut map: Map<String, Value>) -> Result<Image, String> {
        let id = match map.remove("id") {
            Some(Value::String(s)) if !s.is_empty() => s,
            Some(other) => return Err(format!("image id is not a string: {other}")),
            None => return Err("image has no id".into()),
        };
        let mut image = Image {
            id,
            ..Image::default()
        };
        image.name = opt_string(&mut map, "name")?;
        image.status = opt_string(&mut map, "status")?.unwrap_or_default();
        image.size = opt_u64(&mut map, "size")?;
        image.virtual_size = opt_u64(&mut map, "virtual_size")?;
        image.checksum = opt_string(&mut map, "checksum")?;
        image.os_hash_algo = opt_string(&mut map, "os_hash_algo")?;
        image.os_hash_value = opt_string(&mut map, "os_hash_value")?;
        image.disk_format = opt_string(&mut map, "disk_format")?;
        image.container_format = opt_string(&mut map, "container_format")?;
        image.visibility = opt_string(&mut map, "visibility")?.unwrap_or_default();
        image.protected = opt_bool(&mut map, "protected")?.unwrap_or(false);
        image.os_hidden = opt_bool(&mut map, "os_hidden")?.unwrap_or(false);
        image.min_disk = opt_u64(&mut map, "min_disk")?.unwrap_or(0);
        image.min_ram = opt_u64(&mut map, "min_ram")?.unwrap_or(0);
        image.owner = opt_string(&mut map, "owner")?;
        image.created_at = opt_string(&mut map, "created_at")?;
        image.updated_at = opt_string(&mut map, "updated_at")?;
        image.direct_url = opt_string(&mut map, "direct_url")?;
        image.stores = opt_string(&mut map, "stores")?
            .map(|s| {
                s.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default();
        image.tags = match map.remove("tags") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .into_iter()
                .map(|t| match t {
                    Value::String(s) => Ok(s),
                    other => Err(format!("tag is not a string: {other}")),
                })
                .collect::<Result<_, _>>()?,
            Some(other) => return Err(format!("tags is not a list: {other}")),
        };
        image.locations = match map.remove("locations") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .into_iter()
                .map(location_from_value)
                .collect::<Result<_, _>>()?,
            Some(other) => return Err(format!("locations is not a list: {other}")),
        };
        for key in LINK_KEYS {
            map.remove(key);
        }
        for (key, value) in map {
            let text = match value {
                Value::Null => continue,
                Value::String(s) => s,
                other => other.to_string(),
            };
            image.properties.insert(key, text);
        }
        Ok(image)
    }

    /// The Glance v2 JSON object for this image.
    pub(crate) fn to_v2_map(&self) -> Map<String, Value> {
        let mut m = Map::new();
        // Extra properties first, so a property can never shadow a standard field.
        for (k, v) in &self.properties {
            m.insert(k.clone(), Value::String(v.clone()));
        }
        let s = |v: &Option<String>| v.clone().map_or(Value::Null, Value::String);
        let n = |v: Option<u64>| v.map_or(Value::Null, Value::from);
        m.insert("id".into(), Value::String(self.id.clone()));
        m.insert("name".into(), s(&self.name));
        m.insert("status".into(), Value::String(self.status.clone()));
        m.insert("visibility".into(), Value::String(self.visibility.clone()));
        m.insert("size".into(), n(self.size));
        m.insert("virtual_size".into(), n(self.virtual_size));
        m.insert("checksum".into(), s(&self.checksum));
        m.insert("os_hash_algo".into(), s(&self.os_hash_algo));
        m.insert("os_hash_value".into(), s(&self.os_hash_value));
        m.insert("disk_format".into(), s(&self.disk_format));
        m.insert("container_format".into(), s(&self.container_format));
        m.insert("protected".into(), Value::Bool(self.protected));
        m.insert("os_hidden".into(), Value::Bool(self.os_hidden));
        m.insert("min_disk".into(), Value::from(self.min_disk));
        m.insert("min_ram".into(), Value::from(self.min_ram));
        m.insert("owner".into(), s(&self.owner));
        if let Some(t) = &self.created_at {
            m.insert("created_at".into(), Value::String(t.clone()));
        }
        if let Some(t) = &self.updated_at {
            m.insert("updated_at".into(), Value::String(t.clone()));
        }
        m.insert(
            "tags".into(),
            Value::Array(self.tags.iter().cloned().map(Value::String).collect()),
        );
        m.insert(
            "locations".into(),
            Value::Array(
                self.locations
                    .iter()
                    .map(|l| {
                        let mut o = Map::new();
                        o.insert("url".into(), Value::String(l.url.clone()));
                        o.insert("metadata".into(), Value::Object(l.metadata.clone()));
                        Value::Object(o)
                    })
                    .collect(),
            ),
        );
        if let Some(u) = &self.direct_url {
            m.insert("direct_url".into(), Value::String(u.clone()));
        }
        if !self.stores.is_empty() {
            m.insert("stores".into(), Value::String(self.stores.join(",")));
        }
        m
    }
}

fn location_from_value(v: Value) -> Result<Location, String> {
    let Value::Object(mut o) = v else {
        return Err(format!("location is not an object: {v}"));
    };
    let url = match o.remove("url") {
        Some(Value::String(s)) => s,
        other => return Err(format!("location url is not a string: {other:?}")),
    };
    let metadata = match o.remove("metadata") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m,
        Some(other) => return Err(format!("location metadata is not an object: {other}")),
    };
    Ok(Location { url, metadata })
}

fn opt_string(map: &mut Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match map.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(format!("{key} is not a string: {other}")),
    }
}

fn opt_u64(map: &mut Map<String, Value>, key: &str) -> Result<Option<u64>, String> {
    match map.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| format!("{key} is not a non-negative integer: {n}")),
        Some(other) => Err(format!("{key} is not an integer: {other}")),
    }
}

fn opt_bool(map: &mut Map<String, Value>, key: &str) -> Result<Option<bool>, String> {
    match map.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(b)),
        Some(other) => Err(format!("{key} is not a boolean: {other}")),
    }
}

impl Serialize for Image {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_v2_map().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Image {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Image, D::Error> {
        let map = Map::deserialize(deserializer)?;
        Image::from_v2_map(map).map_err(D::Error::custom)
    }
}

/// What to create: every writable field of a new image.
///
/// Fields left `None` are not sent, so the server's defaults apply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewImage {
    /// A caller-chosen id (UUID). Choosing one makes the create safe to retry.
    pub id: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Disk format (`raw`, `qcow2`, ...).
    pub disk_format: Option<String>,
    /// Container format (`bare`, ...).
    pub container_format: Option<String>,
    /// `public`, `private`, `shared` or `community`.
    pub visibility: Option<String>,
    /// Protect from deletion.
    pub protected: Option<bool>,
    /// Hide from default listings.
    pub os_hidden: Option<bool>,
    /// Minimum disk in GiB.
    pub min_disk: Option<u64>,
    /// Minimum RAM in MiB.
    pub min_ram: Option<u64>,
    /// Owning project (admins only).
    pub owner: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Extra properties. A key named like a standard field (`status`,
    /// `id`, `size`, ...) is refused with
    /// [`Error::InvalidInput`](crate::Error::InvalidInput) in v2, where it
    /// would reach the server as that field.
    pub properties: BTreeMap<String, String>,
}

/// Changes to an image's metadata. Empty fields change nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageUpdate {
    /// New name.
    pub name: Option<String>,
    /// New disk format (only while `queued`).
    pub disk_format: Option<String>,
    /// New container format (only while `queued`).
    pub container_format: Option<String>,
    /// New visibility.
    pub visibility: Option<String>,
    /// Protect or unprotect.
    pub protected: Option<bool>,
    /// Hide or unhide.
    pub os_hidden: Option<bool>,
    /// New minimum disk in GiB.
    pub min_disk: Option<u64>,
    /// New minimum RAM in MiB.
    pub min_ram: Option<u64>,
    /// New owner (admins only).
    pub owner: Option<String>,
    /// Replace the whole tag list with this one.
    pub tags: Option<Vec<String>>,
    /// Extra properties to add or overwrite.
    pub set_properties: BTreeMap<String, String>,
    /// Extra properties to remove (each must exist).
    pub remove_properties: Vec<String>,
}

impl ImageUpdate {
    /// Whether the update changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == ImageUpdate::default()
    }

    /// This update reduced to what would change `image` (the image as just
    /// read): a field or property already at its new value is left out,
    /// and so is the removal of a property the image does not have, or
    /// that this update also sets. Glance refuses (409) a patch removing a
    /// missing property; python-glanceclient's `image-update` sends only
    /// the changes, so removing a missing property is a no-op there. An
    /// empty result means nothing to send.
    pub fn against(&self, image: &Image) -> ImageUpdate {
        fn changed<T: PartialEq + Clone>(new: &Option<T>, current: T) -> Option<T> {
            new.clone().filter(|n| *n != current)
        }
        ImageUpdate {
            name: self.name.clone().filter(|n| image.name.as_ref() != Some(n)),
            disk_format: self
                .disk_format
                .clone()
                .filter(|f| image.disk_format.as_ref() != Some(f)),
            container_format: self
                .container_format
                .clone()
                .filter(|f| image.container_format.as_ref() != Some(f)),
            visibility: changed(&self.visibility, image.visibility.clone()),
            protected: changed(&self.protected, image.protected),
            os_hidden: changed(&self.os_hidden, image.os_hidden),
            min_disk: changed(&self.min_disk, image.min_disk),
            min_ram: changed(&self.min_ram, image.min_ram),
            owner: self
                .owner
                .clone()
                .filter(|o| image.owner.as_ref() != Some(o)),
            tags: changed(&self.tags, image.tags.clone()),
            set_properties: self
                .set_properties
                .iter()
                .filter(|(k, v)| image.properties.get(*k) != Some(*v))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            remove_properties: self
                .remove_properties
                .iter()
                .filter(|k| {
                    image.properties.contains_key(*k) && !self.set_properties.contains_key(*k)
                })
                .cloned()
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHOW: &str = include_str!("../tests/fixtures/v2/show.json");

    #[test]
    fn parses_the_real_show_answer() {
        let image: Image = serde_json::from_str(SHOW).unwrap();
        assert_eq!(image.id, "e54e8577-3aa8-44c2-afc1-6205679c7fba");
        assert_eq!(image.name.as_deref(), Some("cirros-test"));
        assert_eq!(image.size, Some(1048577));
        assert_eq!(image.os_hash_algo.as_deref(), Some("sha512"));
        assert_eq!(image.min_disk, 1);
        assert_eq!(image.owner, None);
        assert_eq!(image.tags, vec!["t1"]);
        assert_eq!(image.stores, vec!["fs"]);
        assert_eq!(image.locations.len(), 1);
        assert_eq!(image.locations[0].metadata_str("store"), Some("fs"));
        assert_eq!(image.properties.len(), 1, "{:?}", image.properties);
        assert_eq!(image.properties["my_prop"], "abc");
        assert!(image.is_active());
    }

    #[test]
    fn serializes_with_v2_names_and_round_trips() {
        let image: Image = serde_json::from_str(SHOW).unwrap();
        let json = serde_json::to_value(&image).unwrap();
        assert_eq!(json["my_prop"], "abc");
        assert_eq!(json["os_hash_algo"], "sha512");
        assert_eq!(json["stores"], "fs");
        assert!(json.get("self").is_none());
        let back: Image = serde_json::from_value(json).unwrap();
        assert_eq!(back, image);
    }

    #[test]
    fn non_string_extra_properties_are_kept_as_text() {
        let image: Image =
            serde_json::from_str(r#"{"id":"x","n":5,"b":true,"o":{"a":1},"z":null}"#).unwrap();
        assert_eq!(image.properties["n"], "5");
        assert_eq!(image.properties["b"], "true");
        assert_eq!(image.properties["o"], r#"{"a":1}"#);
        assert!(!image.properties.contains_key("z"));
    }

    /// Found by the `v2_image` fuzz target: serde_json's fast float parser
    /// read `8.888e78` (this number as serialized) 1 ULP off, so the image
    /// changed when serialized and parsed again (fixed with serde_json's
    /// `float_roundtrip` feature).
    #[test]
    fn large_numbers_in_location_metadata_round_trip() {
        let big = "8888000000000000000000000000000000000000000000000000000000000000000000901329252";
        let json = format!(
            r#"{{"id":"x","big":{big},"locations":[{{"url":"file:///a","metadata":{{"n":{big}}}}}]}}"#
        );
        let image: Image = serde_json::from_str(&json).unwrap();
        let expected: f64 = big.parse().unwrap();
        let n = image.locations[0].metadata["n"].as_f64();
        assert_eq!(n, Some(expected), "metadata number misread");
        assert_eq!(image.properties["big"].parse::<f64>().ok(), Some(expected));
        let again: Image = serde_json::from_str(&serde_json::to_string(&image).unwrap()).unwrap();
        assert_eq!(again, image, "serialized and parsed again");
    }

    #[test]
    fn an_update_against_the_image_keeps_only_the_changes() {
        let image: Image = serde_json::from_str(SHOW).unwrap();
        let update = ImageUpdate {
            name: Some("cirros-test".into()),
            min_disk: Some(1),
            min_ram: Some(64),
            protected: Some(false),
            set_properties: BTreeMap::from([
                ("my_prop".into(), "abc".into()),
                ("new".into(), "v".into()),
            ]),
            remove_properties: vec!["missing".into(), "my_prop".into()],
            ..ImageUpdate::default()
        };
        let expected = ImageUpdate {
            min_ram: Some(64),
            set_properties: BTreeMap::from([("new".into(), "v".into())]),
            ..ImageUpdate::default()
        };
        assert_eq!(update.against(&image), expected);
        let removal = ImageUpdate {
            remove_properties: vec!["my_prop".into(), "missing".into()],
            ..ImageUpdate::default()
        };
        assert_eq!(
            update.against(&image).remove_properties,
            Vec::<String>::new()
        );
        assert_eq!(removal.against(&image).remove_properties, ["my_prop"]);
        assert!(
            ImageUpdate {
                name: Some("cirros-test".into()),
                ..ImageUpdate::default()
            }
            .against(&image)
            .is_empty()
        );
    }

    #[test]
    fn wrong_types_are_errors_naming_the_field() {
        for (json, field) in [
            (r#"{"name":"x"}"#, "id"),
            (r#"{"id":"x","size":"big"}"#, "size"),
            (r#"{"id":"x","size":-1}"#, "size"),
            (r#"{"id":"x","protected":"yes"}"#, "protected"),
            (r#"{"id":"x","tags":"a"}"#, "tags"),
            (r#"{"id":"x","locations":[{"url":1}]}"#, "url"),
        ] {
            let err = serde_json::from_str::<Image>(json).unwrap_err().to_string();
            assert!(err.contains(field), "{json}: {err}");
        }
    }
}
