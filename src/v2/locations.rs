//! An image's locations: the 2.17 calls (`POST` and `GET
//! /v2/images/{id}/locations`) and the older JSON-patch edits of
//! `/locations` (`add`, `remove`, `replace`), which need the operator's
//! `show_multiple_locations`.

use http::{Method, Request, Response};
use serde_json::{Map, Value};

use super::{JSON, PATCH_CONTENT_TYPE, image_path, json_request, parse_json, to_json};
use crate::error::{Error, Result};
use crate::image::Location;

/// What Glance checks the data at a new location against.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationData {
    /// The data's MD5 (only in the JSON-patch form).
    pub checksum: Option<String>,
    /// The secure hash's algorithm (`sha512`, `sha256`, `sha1`, `md5`).
    pub os_hash_algo: Option<String>,
    /// The data's hex digest under `os_hash_algo`.
    pub os_hash_value: Option<String>,
}

impl ValidationData {
    /// Validation by a secure hash (`algo` is e.g. `sha512`).
    pub fn hash(algo: impl Into<String>, value: impl Into<String>) -> ValidationData {
        ValidationData {
            checksum: None,
            os_hash_algo: Some(algo.into()),
            os_hash_value: Some(value.into()),
        }
    }

    fn to_map(&self) -> Map<String, Value> {
        let mut m = Map::new();
        for (k, v) in [
            ("checksum", &self.checksum),
            ("os_hash_algo", &self.os_hash_algo),
            ("os_hash_value", &self.os_hash_value),
        ] {
            if let Some(v) = v {
                m.insert(k.into(), Value::from(v.as_str()));
            }
        }
        m
    }
}

/// `POST /v2/images/{id}/locations` (image API v2.17): gives a `queued`
/// image its data at `url` (a service's call: Glance's policy lets only
/// the service user do it); Glance hashes it and checks `validation`'s
/// `os_hash_algo` and `os_hash_value` when given. Answers 202; parse with
/// [`parse_empty`](crate::wire::parse_empty).
pub fn add(id: &str, url: &str, validation: &ValidationData) -> Result<Request<Vec<u8>>> {
    if validation.checksum.is_some() {
        return Err(Error::InvalidInput(
            "the locations API takes os_hash_algo and os_hash_value, not checksum".into(),
        ));
    }
    let mut body = Map::new();
    body.insert("url".into(), Value::from(url));
    body.insert("validation_data".into(), Value::Object(validation.to_map()));
    json_request(
        Method::POST,
        &locations_path(id)?,
        Some((JSON, to_json(&body)?)),
    )
}

/// `GET /v2/images/{id}/locations` (image API v2.17; a service's call).
/// Parse with [`parse_locations`].
pub fn list(id: &str) -> Result<Request<Vec<u8>>> {
    json_request(Method::GET, &locations_path(id)?, None)
}

/// Parses `[{"url": ..., "metadata": {...}}, ...]`.
pub fn parse_locations<B: AsRef<[u8]>>(response: &Response<B>) -> Result<Vec<Location>> {
    let items: Vec<Map<String, Value>> = parse_json("location list", response)?;
    items
        .into_iter()
        .map(|mut o| {
            let url = match o.remove("url") {
                Some(Value::String(s)) => s,
                other => {
                    return Err(Error::invalid_response(format!(
                        "location url is not a string: {other:?}"
                    )));
                }
            };
            let metadata = match o.remove("metadata") {
                None | Some(Value::Null) => Map::new(),
                Some(Value::Object(m)) => m,
                Some(other) => {
                    return Err(Error::invalid_response(format!(
                        "location metadata is not an object: {other}"
                    )));
                }
            };
            Ok(Location { url, metadata })
        })
        .collect()
}

/// `PATCH /v2/images/{id}` adding a location at the end of the list
/// (`/locations/-`), with its metadata and, when not empty, the data's
/// validation (`checksum`, `os_hash_algo`, `os_hash_value`). Answers the
/// image: parse with [`images::parse_image`](super::images::parse_image).
pub fn add_by_patch(
    id: &str,
    url: &str,
    metadata: &Map<String, Value>,
    validation: &ValidationData,
) -> Result<Request<Vec<u8>>> {
    let mut value = location_value(url, metadata);
    let validation = validation.to_map();
    if !validation.is_empty() {
        value.insert("validation_data".into(), Value::Object(validation));
    }
    patch(
        id,
        vec![op("add", "/locations/-".into(), Some(Value::Object(value)))],
    )
}

/// `PATCH /v2/images/{id}` removing the locations at these positions of
/// the image's list, highest first so each index still means what it
/// meant (Glance refuses to remove an active image's last location).
pub fn remove_by_patch(id: &str, indices: &[usize]) -> Result<Request<Vec<u8>>> {
    if indices.is_empty() {
        return Err(Error::InvalidInput("no location to remove".into()));
    }
    let mut sorted = indices.to_vec();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    sorted.dedup();
    let ops = sorted
        .into_iter()
        .map(|i| op("remove", format!("/locations/{i}"), None))
        .collect();
    patch(id, ops)
}

/// `PATCH /v2/images/{id}` replacing the whole location list (how a
/// location's metadata is changed).
pub fn replace_by_patch(id: &str, locations: &[Location]) -> Result<Request<Vec<u8>>> {
    let list = locations
        .iter()
        .map(|l| Value::Object(location_value(&l.url, &l.metadata)))
        .collect();
    patch(
        id,
        vec![op("replace", "/locations".into(), Some(Value::Array(list)))],
    )
}

fn location_value(url: &str, metadata: &Map<String, Value>) -> Map<String, Value> {
    let mut value = Map::new();
    value.insert("url".into(), Value::from(url));
    value.insert("metadata".into(), Value::Object(metadata.clone()));
    value
}

fn op(op: &str, path: String, value: Option<Value>) -> Value {
    let mut o = Map::new();
    o.insert("op".into(), Value::from(op));
    o.insert("path".into(), Value::from(path));
    if let Some(v) = value {
        o.insert("value".into(), v);
    }
    Value::Object(o)
}

fn patch(id: &str, ops: Vec<Value>) -> Result<Request<Vec<u8>>> {
    json_request(
        Method::PATCH,
        &image_path(id)?,
        Some((PATCH_CONTENT_TYPE, to_json(&ops)?)),
    )
}

fn locations_path(id: &str) -> Result<String> {
    Ok(format!("{}/locations", image_path(id)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::test_ok as ok;
    use serde_json::json;

    fn body(r: &Request<Vec<u8>>) -> Value {
        serde_json::from_slice(r.body()).unwrap()
    }

    #[test]
    fn the_217_calls() {
        let r = add("i", "file:///d/i", &ValidationData::hash("sha512", "ab")).unwrap();
        assert_eq!(
            (r.method(), r.uri().to_string()),
            (&Method::POST, "/v2/images/i/locations".into())
        );
        assert_eq!(
            body(&r),
            json!({"url": "file:///d/i", "validation_data": {"os_hash_algo": "sha512", "os_hash_value": "ab"}})
        );
        let r = add("i", "file:///d/i", &ValidationData::default()).unwrap();
        assert_eq!(
            body(&r),
            json!({"url": "file:///d/i", "validation_data": {}})
        );
        let md5 = ValidationData {
            checksum: Some("x".into()),
            ..ValidationData::default()
        };
        assert!(add("i", "u", &md5).is_err());
        assert_eq!(list("i").unwrap().uri(), "/v2/images/i/locations");
        let locations = parse_locations(&ok(
            r#"[{"url": "file:///a", "metadata": {"store": "fs"}}, {"url": "file:///b"}]"#,
        ))
        .unwrap();
        assert_eq!(locations[0].metadata_str("store"), Some("fs"));
        assert!(locations[1].metadata.is_empty());
        assert!(parse_locations(&ok(r#"[{"url": 1}]"#)).is_err());
    }

    #[test]
    fn the_patch_edits() {
        let meta = json!({"store": "fs"}).as_object().unwrap().clone();
        let r = add_by_patch("i", "file:///a", &meta, &ValidationData::default()).unwrap();
        assert_eq!(r.method(), Method::PATCH);
        assert_eq!(r.headers()["content-type"], PATCH_CONTENT_TYPE);
        assert_eq!(
            body(&r),
            json!([{"op": "add", "path": "/locations/-", "value": {"url": "file:///a", "metadata": {"store": "fs"}}}])
        );
        let v = ValidationData {
            checksum: Some("c".into()),
            ..ValidationData::default()
        };
        let r = add_by_patch("i", "file:///a", &Map::new(), &v).unwrap();
        assert_eq!(
            body(&r)[0]["value"]["validation_data"],
            json!({"checksum": "c"})
        );
        let r = remove_by_patch("i", &[0, 2, 2]).unwrap();
        assert_eq!(
            body(&r),
            json!([{"op": "remove", "path": "/locations/2"}, {"op": "remove", "path": "/locations/0"}])
        );
        assert!(remove_by_patch("i", &[]).is_err());
        let loc = Location {
            url: "file:///a".into(),
            metadata: meta,
        };
        let r = replace_by_patch("i", &[loc]).unwrap();
        assert_eq!(
            body(&r),
            json!([{"op": "replace", "path": "/locations", "value": [{"url": "file:///a", "metadata": {"store": "fs"}}]}])
        );
    }
}
