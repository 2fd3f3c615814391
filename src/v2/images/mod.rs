//! `/v2/images`: list, show, create, update, delete, (de)activate, upload, download.
//!
//! The image records are here; the listing's pages are in `list`, the
//! data (upload, download, `Content-Range`) in `data`. Every function is
//! reached as `v2::images::NAME`.

mod data;
mod list;

pub(crate) use data::data_request;
pub use data::{download, upload};
pub(crate) use list::page_size_for;
pub use list::{ImagePage, list, next_page, parse_page};

use http::{Method, Request, Response};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::image::{Image, ImageUpdate, NewImage};
use crate::v2::{PATCH_CONTENT_TYPE, image_path, json_request, parse_json, to_json};

/// `GET /v2/images/{id}`.
pub fn show(id: &str) -> Result<Request<Vec<u8>>> {
    json_request(Method::GET, &image_path(id)?, None)
}

/// Parses one image object (the answer to show, create and update).
pub fn parse_image<B: AsRef<[u8]>>(response: &Response<B>) -> Result<Image> {
    let map: Map<String, Value> = parse_json("image", response)?;
    Image::from_v2_map(map).map_err(Error::InvalidResponse)
}

/// Top-level keys of a v2 image that are not extra properties: the image
/// schema's fields, the links the server adds, and the names Glance
/// reserves (`location`, `deleted`, `deleted_at`).
const CORE_FIELDS: [&str; 28] = [
    "id",
    "name",
    "status",
    "visibility",
    "protected",
    "os_hidden",
    "checksum",
    "os_hash_algo",
    "os_hash_value",
    "owner",
    "size",
    "virtual_size",
    "container_format",
    "disk_format",
    "min_ram",
    "min_disk",
    "created_at",
    "updated_at",
    "tags",
    "direct_url",
    "locations",
    "stores",
    "self",
    "file",
    "schema",
    "location",
    "deleted",
    "deleted_at",
];

/// `POST /v2/images` with every field the caller set.
///
/// An extra property named like a standard field (`status`, `id`,
/// `locations`, ...) is refused with [`Error::InvalidInput`] naming the key:
/// in the flat v2 body it would be sent as that field itself.
pub fn create(new: &NewImage) -> Result<Request<Vec<u8>>> {
    let mut m = Map::new();
    for (k, v) in &new.properties {
        if CORE_FIELDS.contains(&k.as_str()) {
            return Err(Error::InvalidInput(format!(
                "extra property {k:?} is a standard image field, not a property; \
                 set the NewImage field instead (or, for a read-only field, leave it to the server)"
            )));
        }
        m.insert(k.clone(), Value::String(v.clone()));
    }
    let strings = [
        ("id", &new.id),
        ("name", &new.name),
        ("disk_format", &new.disk_format),
        ("container_format", &new.container_format),
        ("visibility", &new.visibility),
        ("owner", &new.owner),
    ];
    for (k, v) in strings {
        if let Some(v) = v {
            m.insert(k.into(), Value::String(v.clone()));
        }
    }
    for (k, v) in [("protected", new.protected), ("os_hidden", new.os_hidden)] {
        if let Some(v) = v {
            m.insert(k.into(), Value::Bool(v));
        }
    }
    for (k, v) in [("min_disk", new.min_disk), ("min_ram", new.min_ram)] {
        if let Some(v) = v {
            m.insert(k.into(), Value::from(v));
        }
    }
    if !new.tags.is_empty() {
        m.insert("tags".into(), Value::from(new.tags.clone()));
    }
    json_request(
        Method::POST,
        "/v2/images",
        Some((super::JSON, to_json(&m)?)),
    )
}

/// The JSON-patch operations of an update: standard fields `replace`, extra
/// properties `add` (which overwrites an existing one), removals `remove`,
/// tags replaced whole (Glance refuses `/tags/-`).
pub fn patch_ops(update: &ImageUpdate) -> Vec<Value> {
    let mut ops = Vec::new();
    let mut op = |op: &str, path: String, value: Option<Value>| {
        let mut o = Map::new();
        o.insert("op".into(), Value::from(op));
        o.insert("path".into(), Value::from(path));
        if let Some(v) = value {
            o.insert("value".into(), v);
        }
        ops.push(Value::Object(o));
    };
    let strings = [
        ("name", &update.name),
        ("disk_format", &update.disk_format),
        ("container_format", &update.container_format),
        ("visibility", &update.visibility),
        ("owner", &update.owner),
    ];
    for (k, v) in strings {
        if let Some(v) = v {
            op("replace", format!("/{k}"), Some(Value::from(v.as_str())));
        }
    }
    for (k, v) in [
        ("protected", update.protected),
        ("os_hidden", update.os_hidden),
    ] {
        if let Some(v) = v {
            op("replace", format!("/{k}"), Some(Value::Bool(v)));
        }
    }
    for (k, v) in [("min_disk", update.min_disk), ("min_ram", update.min_ram)] {
        if let Some(v) = v {
            op("replace", format!("/{k}"), Some(Value::from(v)));
        }
    }
    if let Some(tags) = &update.tags {
        op("replace", "/tags".into(), Some(Value::from(tags.clone())));
    }
    for (k, v) in &update.set_properties {
        op("add", pointer(k), Some(Value::from(v.as_str())));
    }
    for k in &update.remove_properties {
        op("remove", pointer(k), None);
    }
    ops
}

/// A JSON pointer to a top-level key (RFC 6901 escaping).
fn pointer(key: &str) -> String {
    format!("/{}", key.replace('~', "~0").replace('/', "~1"))
}

/// `PATCH /v2/images/{id}` with the v2.1 JSON-patch media type.
pub fn update(id: &str, update: &ImageUpdate) -> Result<Request<Vec<u8>>> {
    let body = to_json(&patch_ops(update))?;
    json_request(
        Method::PATCH,
        &image_path(id)?,
        Some((PATCH_CONTENT_TYPE, body)),
    )
}

/// `DELETE /v2/images/{id}`; parse with [`parse_empty`](crate::wire::parse_empty).
pub fn delete(id: &str) -> Result<Request<Vec<u8>>> {
    json_request(Method::DELETE, &image_path(id)?, None)
}

/// `POST /v2/images/{id}/actions/deactivate`; parse with [`parse_empty`](crate::wire::parse_empty).
pub fn deactivate(id: &str) -> Result<Request<Vec<u8>>> {
    json_request(
        Method::POST,
        &format!("{}/actions/deactivate", image_path(id)?),
        None,
    )
}

/// `POST /v2/images/{id}/actions/reactivate`; parse with [`parse_empty`](crate::wire::parse_empty).
pub fn reactivate(id: &str) -> Result<Request<Vec<u8>>> {
    json_request(
        Method::POST,
        &format!("{}/actions/reactivate", image_path(id)?),
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn create_sends_only_what_was_set() {
        let new = NewImage {
            name: Some("n".into()),
            disk_format: Some("raw".into()),
            min_disk: Some(1),
            protected: Some(false),
            tags: vec!["t".into()],
            properties: BTreeMap::from([("my_prop".into(), "abc".into())]),
            ..NewImage::default()
        };
        let req = create(&new).unwrap();
        assert_eq!(req.method(), Method::POST);
        assert_eq!(req.uri(), "/v2/images");
        assert_eq!(req.headers()["content-type"], "application/json");
        let body: Value = serde_json::from_slice(req.body()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"name": "n", "disk_format": "raw", "min_disk": 1,
                "protected": false, "tags": ["t"], "my_prop": "abc"})
        );
    }

    #[test]
    fn create_refuses_a_property_named_like_a_standard_field() {
        for key in [
            "status",
            "id",
            "size",
            "locations",
            "deleted",
            "os_hash_value",
            "self",
        ] {
            let new = NewImage {
                properties: BTreeMap::from([(key.into(), "x".into())]),
                ..NewImage::default()
            };
            let err = create(&new).unwrap_err();
            assert!(
                matches!(&err, Error::InvalidInput(m) if m.contains(&format!("{key:?}"))),
                "{key}: {err:?}"
            );
        }
        // Also when the field itself is set: the property would be dropped silently.
        let new = NewImage {
            name: Some("n".into()),
            properties: BTreeMap::from([("name".into(), "other".into())]),
            ..NewImage::default()
        };
        assert!(matches!(create(&new), Err(Error::InvalidInput(_))));
    }

    #[test]
    fn update_is_a_v21_json_patch() {
        let u = ImageUpdate {
            name: Some("renamed".into()),
            min_ram: Some(64),
            tags: Some(vec!["t1".into(), "t2".into()]),
            set_properties: BTreeMap::from([("a/b~c".into(), "v".into())]),
            remove_properties: vec!["old".into()],
            ..ImageUpdate::default()
        };
        let req = update("id1", &u).unwrap();
        assert_eq!(req.method(), Method::PATCH);
        assert_eq!(req.uri(), "/v2/images/id1");
        assert_eq!(
            req.headers()["content-type"],
            "application/openstack-images-v2.1-json-patch"
        );
        let body: Value = serde_json::from_slice(req.body()).unwrap();
        assert_eq!(
            body,
            serde_json::json!([
                {"op": "replace", "path": "/name", "value": "renamed"},
                {"op": "replace", "path": "/min_ram", "value": 64},
                {"op": "replace", "path": "/tags", "value": ["t1", "t2"]},
                {"op": "add", "path": "/a~1b~0c", "value": "v"},
                {"op": "remove", "path": "/old"},
            ])
        );
    }

    #[test]
    fn simple_actions() {
        let r = delete("i").unwrap();
        assert_eq!(
            (r.method(), r.uri().to_string()),
            (&Method::DELETE, "/v2/images/i".into())
        );
        let r = deactivate("i").unwrap();
        assert_eq!(r.uri(), "/v2/images/i/actions/deactivate");
        let r = reactivate("i").unwrap();
        assert_eq!(r.uri(), "/v2/images/i/actions/reactivate");
        assert!(show("").is_err());
        assert_eq!(show("a/b").unwrap().uri(), "/v2/images/a%2Fb");
    }
}
