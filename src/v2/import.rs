//! Interoperable image import: stage data, import it, and the discovery
//! calls `/v2/info/import` and `/v2/info/stores`.

use http::{Method, Request, Response};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use super::{JSON, image_path, json_request, parse_json, to_json};
use crate::error::{Error, Result};

/// `PUT /v2/images/{id}/stage` headers: the caller streams the data as the
/// body (for the `glance-direct` method). Answers 204.
pub fn stage(id: &str, size: Option<u64>) -> Result<Request<Vec<u8>>> {
    super::images::data_request(&format!("{}/stage", image_path(id)?), size)
}

/// How an image's data gets into Glance.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImportMethod {
    /// Data staged earlier with [`stage`].
    GlanceDirect,
    /// Glance downloads the data from a URL.
    WebDownload {
        /// Where Glance fetches the data.
        uri: String,
    },
    /// Copy an active image's data into more stores.
    CopyImage,
    /// Glance downloads the data of an image of another Glance region
    /// (`glance-download`, image API v2.16 on the importing side).
    GlanceDownload {
        /// The image's id in the other region.
        image_id: String,
        /// The other region, as the Keystone catalog names it.
        region: String,
        /// The catalog interface of the other region's image API
        /// (`public` when `None`).
        service_interface: Option<String>,
    },
}

/// An import request: the method and, on multi-store Glance, the target stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    /// The import method.
    pub method: ImportMethod,
    /// Target stores (empty: the default store, or all with `all_stores`).
    pub stores: Vec<String>,
    /// Import into every store.
    pub all_stores: Option<bool>,
    /// Fail the import when any store fails.
    pub all_stores_must_succeed: Option<bool>,
}

impl Import {
    /// An import with `method` into the default store.
    pub fn new(method: ImportMethod) -> Import {
        Import {
            method,
            stores: Vec::new(),
            all_stores: None,
            all_stores_must_succeed: None,
        }
    }
}

/// `POST /v2/images/{id}/import`. Answers 202; parse with [`parse_empty`](crate::wire::parse_empty).
pub fn import(id: &str, import: &Import) -> Result<Request<Vec<u8>>> {
    let mut method = Map::new();
    match &import.method {
        ImportMethod::GlanceDirect => {
            method.insert("name".into(), Value::from("glance-direct"));
        }
        ImportMethod::WebDownload { uri } => {
            method.insert("name".into(), Value::from("web-download"));
            method.insert("uri".into(), Value::from(uri.as_str()));
        }
        ImportMethod::CopyImage => {
            method.insert("name".into(), Value::from("copy-image"));
        }
        ImportMethod::GlanceDownload {
            image_id,
            region,
            service_interface,
        } => {
            method.insert("name".into(), Value::from("glance-download"));
            method.insert("glance_image_id".into(), Value::from(image_id.as_str()));
            method.insert("glance_region".into(), Value::from(region.as_str()));
            if let Some(interface) = service_interface {
                method.insert(
                    "glance_service_interface".into(),
                    Value::from(interface.as_str()),
                );
            }
        }
    }
    let mut body = Map::new();
    body.insert("method".into(), Value::Object(method));
    if !import.stores.is_empty() {
        body.insert("stores".into(), Value::from(import.stores.clone()));
    }
    if let Some(v) = import.all_stores {
        body.insert("all_stores".into(), Value::Bool(v));
    }
    if let Some(v) = import.all_stores_must_succeed {
        body.insert("all_stores_must_succeed".into(), Value::Bool(v));
    }
    json_request(
        Method::POST,
        &format!("{}/import", image_path(id)?),
        Some((JSON, to_json(&body)?)),
    )
}

/// `GET /v2/info/import`.
pub fn import_info() -> Result<Request<Vec<u8>>> {
    json_request(Method::GET, "/v2/info/import", None)
}

/// Parses `{"import-methods": {"value": [...]}}` into the method names.
pub fn parse_import_info<B: AsRef<[u8]>>(response: &Response<B>) -> Result<Vec<String>> {
    #[derive(Deserialize)]
    struct Info {
        #[serde(rename = "import-methods")]
        methods: Methods,
    }
    #[derive(Deserialize)]
    struct Methods {
        value: Vec<String>,
    }
    Ok(parse_json::<Info, _>("import info", response)?
        .methods
        .value)
}

/// One backing store of a multi-store Glance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Store {
    /// Store id, as used in `stores` lists.
    pub id: String,
    /// Operator's description.
    #[serde(default)]
    pub description: Option<String>,
    /// Whether new images go here by default.
    #[serde(default, deserialize_with = "loose_bool")]
    pub default: bool,
    /// Whether the store refuses new data.
    #[serde(default, rename = "read-only", deserialize_with = "loose_bool")]
    pub read_only: bool,
    /// The store's driver (`file`, `rbd`, `swift`, ...): only in the
    /// details ([`stores_detail`](super::stores::stores_detail), admins).
    #[serde(default, rename = "type")]
    pub store_type: Option<String>,
    /// The store's weight when Glance orders locations: only in the details.
    #[serde(default)]
    pub weight: Option<i64>,
    /// The driver's settings (a file store's `data_dir`, `chunk_size`,
    /// ...): only in the details; empty otherwise.
    #[serde(default)]
    pub properties: Map<String, Value>,
}

/// Glance 33 writes `"default": "true"` (a string); accept both forms.
fn loose_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    match Value::deserialize(d)? {
        Value::Bool(b) => Ok(b),
        Value::String(s) => Ok(s.eq_ignore_ascii_case("true")),
        Value::Null => Ok(false),
        other => Err(serde::de::Error::custom(format!("not a boolean: {other}"))),
    }
}

/// `GET /v2/info/stores`.
pub fn stores() -> Result<Request<Vec<u8>>> {
    json_request(Method::GET, "/v2/info/stores", None)
}

/// Parses `{"stores": [...]}`.
pub fn parse_stores<B: AsRef<[u8]>>(response: &Response<B>) -> Result<Vec<Store>> {
    #[derive(Deserialize)]
    struct Stores {
        stores: Vec<Store>,
    }
    let stores: Stores = parse_json("store list", response)?;
    if stores.stores.iter().any(|s| s.id.is_empty()) {
        return Err(Error::invalid_response("store with an empty id"));
    }
    Ok(stores.stores)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::test_ok as ok;

    #[test]
    fn stage_and_import_requests() {
        let r = stage("i", Some(3)).unwrap();
        assert_eq!(
            (r.method(), r.uri().to_string()),
            (&Method::PUT, "/v2/images/i/stage".into())
        );
        assert_eq!(r.headers()["content-type"], "application/octet-stream");
        assert_eq!(r.headers()["content-length"], "3");

        let r = import("i", &Import::new(ImportMethod::GlanceDirect)).unwrap();
        assert_eq!(
            (r.method(), r.uri().to_string()),
            (&Method::POST, "/v2/images/i/import".into())
        );
        let body: Value = serde_json::from_slice(r.body()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"method": {"name": "glance-direct"}})
        );

        let mut web = Import::new(ImportMethod::WebDownload {
            uri: "http://x/img".into(),
        });
        web.stores = vec!["fs".into()];
        web.all_stores_must_succeed = Some(false);
        let body: Value = serde_json::from_slice(import("i", &web).unwrap().body()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"method": {"name": "web-download", "uri": "http://x/img"},
                "stores": ["fs"], "all_stores_must_succeed": false})
        );
    }

    #[test]
    fn glance_download_names_the_remote_image_and_region() {
        let method = ImportMethod::GlanceDownload {
            image_id: "remote-id".into(),
            region: "RegionTwo".into(),
            service_interface: Some("public".into()),
        };
        let body: Value =
            serde_json::from_slice(import("i", &Import::new(method)).unwrap().body()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"method": {"name": "glance-download",
                "glance_image_id": "remote-id", "glance_region": "RegionTwo",
                "glance_service_interface": "public"}})
        );
    }

    #[test]
    fn parses_real_info_answers() {
        let methods = parse_import_info(&ok(r#"{"import-methods": {"description": "Import methods available.", "type": "array", "value": ["glance-direct", "copy-image"]}}"#)).unwrap();
        assert_eq!(methods, vec!["glance-direct", "copy-image"]);
        let stores = parse_stores(&ok(r#"{"stores": [{"id": "fs", "default": "true"}, {"id": "b", "default": false, "read-only": true}]}"#)).unwrap();
        assert_eq!(stores.len(), 2);
        assert!(stores[0].default && !stores[0].read_only);
        assert!(!stores[1].default && stores[1].read_only);
        assert!(parse_stores(&ok(r#"{"stores": [{"id": 1}]}"#)).is_err());
    }
}
