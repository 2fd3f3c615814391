//! Multi-store Glance: the stores' details, an image's data in one store,
//! and the store preference of an upload or a download.
//!
//! The short store list (`/v2/info/stores`) and its [`Store`] type are in
//! [`import`](super::import), beside the import that names stores.

use http::{Method, Request, Response};

use super::import::{Store, parse_stores};
use super::{image_path, json_request};
use crate::error::{Error, Result};
use crate::wire::{self, segment};

/// The header that names the store an upload (or a single-store import)
/// goes to.
pub const STORE_HEADER: &str = "x-image-meta-store";

/// `GET /v2/info/stores/detail`: every store with its driver, weight and
/// settings (admins only; others get 403). Parse with [`parse_stores_detail`].
pub fn stores_detail() -> Result<Request<Vec<u8>>> {
    json_request(Method::GET, "/v2/info/stores/detail", None)
}

/// Parses `{"stores": [...]}` with each store's `type`, `weight` and
/// `properties`.
pub fn parse_stores_detail<B: AsRef<[u8]>>(response: &Response<B>) -> Result<Vec<Store>> {
    parse_stores(response)
}

/// `DELETE /v2/stores/{store}/{id}`: removes the image's data from one
/// store (the image keeps its other locations). Answers 204; parse with
/// [`parse_empty`](crate::wire::parse_empty).
pub fn delete_from_store(store: &str, id: &str) -> Result<Request<Vec<u8>>> {
    json_request(
        Method::DELETE,
        &format!(
            "/v2/stores/{}/{}",
            segment("store id", store)?,
            segment("image id", id)?
        ),
        None,
    )
}

/// `PUT /v2/images/{id}/file` into one store: the upload headers of
/// [`images::upload`](super::images::upload) plus `X-Image-Meta-Store`.
pub fn upload_to_store(id: &str, store: &str, size: Option<u64>) -> Result<Request<Vec<u8>>> {
    let mut request = super::images::upload(id, size)?;
    request
        .headers_mut()
        .insert(STORE_HEADER, store_value(store)?);
    Ok(request)
}

/// `GET /v2/images/{id}/file?prefer=a,b` from byte `offset` on: the
/// download of [`images::download`](super::images::download), asking Glance
/// to try these stores first, in this order (Glance 2026.1; it falls back
/// to the others, and an older Glance ignores the parameter). An empty
/// `prefer` is the plain download.
pub fn download_preferring(id: &str, offset: u64, prefer: &[String]) -> Result<Request<Vec<u8>>> {
    let path = format!("{}/file", image_path(id)?);
    if prefer.is_empty() {
        return wire::download_request(&path, offset);
    }
    for store in prefer {
        if store.is_empty() || store.contains(',') {
            return Err(Error::InvalidInput(format!(
                "store id {store:?} cannot be a download preference (empty, or with a comma)"
            )));
        }
    }
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("prefer", &prefer.join(","))
        .finish();
    wire::download_request(&format!("{path}?{query}"), offset)
}

fn store_value(store: &str) -> Result<http::HeaderValue> {
    if store.is_empty() {
        return Err(Error::InvalidInput("store id must not be empty".into()));
    }
    http::HeaderValue::from_str(store)
        .map_err(|_| Error::InvalidInput(format!("store id {store:?} is not a header value")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::test_ok as ok;

    #[test]
    fn requests() {
        let r = stores_detail().unwrap();
        assert_eq!(
            (r.method(), r.uri().to_string()),
            (&Method::GET, "/v2/info/stores/detail".into())
        );
        let r = delete_from_store("fast", "i d").unwrap();
        assert_eq!(
            (r.method(), r.uri().to_string()),
            (&Method::DELETE, "/v2/stores/fast/i%20d".into())
        );
        assert!(delete_from_store("", "i").is_err());
        let r = upload_to_store("i", "fast", Some(3)).unwrap();
        assert_eq!(r.uri(), "/v2/images/i/file");
        assert_eq!(r.headers()[STORE_HEADER], "fast");
        assert_eq!(r.headers()["content-length"], "3");
        assert!(upload_to_store("i", "a\nb", None).is_err());
    }

    #[test]
    fn download_preference_is_one_comma_list() {
        let prefer = vec!["fast".to_string(), "cheap store".to_string()];
        let r = download_preferring("i", 0, &prefer).unwrap();
        assert_eq!(r.uri(), "/v2/images/i/file?prefer=fast%2Ccheap+store");
        let r = download_preferring("i", 7, &[]).unwrap();
        assert_eq!(r.uri(), "/v2/images/i/file");
        assert_eq!(r.headers()["range"], "bytes=7-");
        assert!(download_preferring("i", 0, &["a,b".to_string()]).is_err());
    }

    #[test]
    fn parses_the_real_detail_answer() {
        let body = r#"{"stores": [{"id": "fs", "default": "true", "type": "file", "properties": {"data_dir": "/var/lib/glance/images/", "chunk_size": 65536, "thin_provisioning": false}, "weight": 0}, {"id": "cheap", "type": "file", "properties": {}, "weight": 50}]}"#;
        let stores = parse_stores_detail(&ok(body)).unwrap();
        assert_eq!(stores[0].store_type.as_deref(), Some("file"));
        assert_eq!(stores[0].weight, Some(0));
        assert_eq!(stores[0].properties["chunk_size"], 65536);
        assert!(stores[0].default && !stores[1].default);
        assert_eq!(stores[1].weight, Some(50));
    }
}
