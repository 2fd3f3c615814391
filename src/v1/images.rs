//! `/v1/images`: list, show (`HEAD`), create, update, upload, delete, download.

use std::collections::BTreeMap;

use http::{HeaderMap, Method, Request, Response, StatusCode};
use serde_json::Value;

use super::changes::unsupported;
use super::headers::{self, PURGE_PROPS};
use super::values::{bool_text, parse_u64};
use super::{ImageMeta, image_path};
use crate::error::{Error, Result};
use crate::image::Image;
use crate::query::{ListQuery, split_sort};
use crate::wire::timestamp::Timestamp;
use crate::wire::{self, DownloadStart, OCTET_STREAM, json_request, parse_json};

/// Images per page when the caller does not say: python-glanceclient's
/// default, below the server's own default (25) and any sane `api_limit_max`.
pub(crate) const DEFAULT_PAGE_SIZE: u64 = 20;

/// The keys a v1 listing can be sorted by.
pub(crate) const SORT_KEYS: [&str; 8] = [
    "name",
    "status",
    "container_format",
    "disk_format",
    "size",
    "id",
    "created_at",
    "updated_at",
];

/// The filters and sort order of `GET /v1/images/detail`, one field per
/// query parameter the server understands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilters {
    /// `name`.
    pub name: Option<String>,
    /// `status`.
    pub status: Option<String>,
    /// `container_format`.
    pub container_format: Option<String>,
    /// `disk_format`.
    pub disk_format: Option<String>,
    /// `min_ram`: images needing at least this much RAM (MiB).
    pub min_ram: Option<u64>,
    /// `min_disk`: images needing at least this much disk (GiB).
    pub min_disk: Option<u64>,
    /// `size_min` in bytes.
    pub size_min: Option<u64>,
    /// `size_max` in bytes.
    pub size_max: Option<u64>,
    /// `is_public`; `None` sends `is_public=none`, which lists every image
    /// the caller may see (public, own and shared), as Nova did.
    pub is_public: Option<bool>,
    /// `changes-since`: images updated at or after this time, an ISO 8601
    /// timestamp (`2016-01-01T00:00:00Z`) or date (`2016-01-01`); anything
    /// else is refused by [`list`] before a request. The server then
    /// includes deleted images too.
    pub changes_since: Option<String>,
    /// `protected`.
    pub protected: Option<bool>,
    /// `property-<key>=<value>`, each one exact.
    pub properties: BTreeMap<String, String>,
    /// `sort_key`, one of `name`, `status`, `container_format`,
    /// `disk_format`, `size`, `id`, `created_at` and `updated_at`.
    pub sort_key: Option<String>,
    /// `sort_dir`, `asc` or `desc`.
    pub sort_dir: Option<String>,
}

impl ListFilters {
    /// Translates a neutral query. What v1 cannot filter on is refused with
    /// [`Error::Unsupported`] rather than ignored: `owner`, `member_status`,
    /// `tags`, `os_hidden: true`, `created_at`, an `updated_at` other than
    /// `gte:<time>` (sent as `changes-since`), `shared` or `community`
    /// visibility, and more than one sort key. Visibility `all` lists
    /// everything, like no visibility; `os_hidden: false` is every v1 image.
    pub fn from_query(query: &ListQuery) -> Result<ListFilters> {
        let refused = [
            ("owner filter", query.owner.is_some()),
            ("member status filter", query.member_status.is_some()),
            ("tag filter", !query.tags.is_empty()),
            ("hidden image filter", query.os_hidden == Some(true)),
            ("created_at filter", query.created_at.is_some()),
            ("sorting by several keys", query.sort.len() > 1),
        ];
        if let Some((what, _)) = refused.iter().find(|(_, set)| *set) {
            return Err(unsupported(what));
        }
        let is_public = match query.visibility.as_deref() {
            None | Some("all") => None,
            Some("public") => Some(true),
            Some("private") => Some(false),
            Some("shared") => return Err(unsupported("shared visibility filter")),
            Some("community") => return Err(unsupported("community visibility filter")),
            Some(other) => {
                return Err(Error::InvalidInput(format!("unknown visibility {other:?}")));
            }
        };
        let changes_since = match query.updated_at.as_deref() {
            None => None,
            Some(v) => match v.split_once(':') {
                Some(("gte", time)) if !time.is_empty() => Some(time.to_string()),
                _ => return Err(unsupported("updated_at filter other than gte:")),
            },
        };
        let (sort_key, sort_dir) = match query.sort.first() {
            None => (None, None),
            Some(entry) => {
                let (key, dir) = split_sort(entry)?;
                (Some(key.to_string()), dir.map(String::from))
            }
        };
        Ok(ListFilters {
            name: query.name.clone(),
            status: query.status.clone(),
            container_format: query.container_format.clone(),
            disk_format: query.disk_format.clone(),
            size_min: query.size_min,
            size_max: query.size_max,
            min_ram: query.min_ram,
            min_disk: query.min_disk,
            is_public,
            changes_since,
            protected: query.protected,
            properties: query.properties.clone(),
            sort_key,
            sort_dir,
        })
    }
}

/// `GET /v1/images/detail?...`: one page of a listing, after `marker` (the
/// last id of the previous page) when given, of `limit` images.
pub fn list(filters: &ListFilters, marker: Option<&str>, limit: u64) -> Result<Request<Vec<u8>>> {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("limit", &limit.to_string());
    if let Some(m) = marker {
        q.append_pair("marker", m);
    }
    let texts = [
        ("name", &filters.name),
        ("status", &filters.status),
        ("container_format", &filters.container_format),
        ("disk_format", &filters.disk_format),
    ];
    for (key, value) in texts {
        if let Some(v) = value {
            q.append_pair(key, v);
        }
    }
    let numbers = [
        ("min_ram", filters.min_ram),
        ("min_disk", filters.min_disk),
        ("size_min", filters.size_min),
        ("size_max", filters.size_max),
    ];
    for (key, value) in numbers {
        if let Some(n) = value {
            q.append_pair(key, &n.to_string());
        }
    }
    q.append_pair("is_public", filters.is_public.map_or("none", bool_text));
    if let Some(t) = &filters.changes_since {
        check_changes_since(t)?;
        q.append_pair("changes-since", t);
    }
    if let Some(p) = filters.protected {
        q.append_pair("protected", bool_text(p));
    }
    for (key, value) in &filters.properties {
        if key.is_empty() {
            return Err(Error::InvalidInput(
                "property filter with an empty name".into(),
            ));
        }
        q.append_pair(&format!("property-{key}"), value);
    }
    if let Some(key) = &filters.sort_key {
        if !SORT_KEYS.contains(&key.as_str()) {
            return Err(Error::InvalidInput(format!(
                "v1 cannot sort by {key:?}; it sorts by one of {}",
                SORT_KEYS.join(", ")
            )));
        }
        q.append_pair("sort_key", key);
    }
    if let Some(dir) = &filters.sort_dir {
        if !matches!(dir.as_str(), "asc" | "desc") {
            return Err(Error::InvalidInput(format!(
                "sort direction {dir:?} is neither asc nor desc"
            )));
        }
        q.append_pair("sort_dir", dir);
    }
    let path = format!("/v1/images/detail?{}", q.finish());
    json_request(Method::GET, &path, None)
}

/// Refuses what Glance's `parse_isotime` would answer 400 to: `changes-since`
/// must be a timestamp ([`wire::timestamp`](crate::wire::timestamp)'s rules)
/// or a date (`2016-01-01`, that day's midnight in UTC).
fn check_changes_since(value: &str) -> Result<()> {
    let full = if value.len() == 10 {
        format!("{value}T00:00:00")
    } else {
        value.to_string()
    };
    match Timestamp::parse(&full) {
        Some(_) => Ok(()),
        None => Err(Error::InvalidInput(format!(
            "changes-since {value:?} is not a timestamp: write YYYY-MM-DDTHH:MM:SS, optionally \
             with a fraction and a zone (Z or +HH:MM), or a date YYYY-MM-DD"
        ))),
    }
}

/// Parses a listing page, `{"images": [...]}`. There is no `next` link,
/// and a page may hold fewer images than the `limit` asked for without being
/// the last (the server caps pages at its `api_limit_max`): only an empty
/// page ends a listing.
pub fn parse_page<B: AsRef<[u8]>>(response: &Response<B>) -> Result<Vec<Image>> {
    let images = match parse_json::<Value, _>("image list", response)? {
        Value::Object(mut o) => o.remove("images"),
        _ => None,
    };
    let Some(Value::Array(items)) = images else {
        return Err(Error::invalid_response("image list has no images array"));
    };
    items.into_iter().map(image_from_value).collect()
}

/// `HEAD /v1/images/{id}`: the metadata, in headers.
pub fn show(id: &str) -> Result<Request<Vec<u8>>> {
    json_request(Method::HEAD, &image_path(id)?, None)
}

/// Parses the answer to [`show`]: the status, then the `x-image-meta-*` headers.
pub fn parse_show<B: AsRef<[u8]>>(response: &Response<B>) -> Result<Image> {
    wire::check(response)?;
    headers::parse_image_meta(response.headers())?.into_image()
}

/// Parses the `{"image": {...}}` answer of create and update.
pub fn parse_image<B: AsRef<[u8]>>(response: &Response<B>) -> Result<Image> {
    let image = match parse_json::<Value, _>("image", response)? {
        Value::Object(mut o) => o.remove("image"),
        _ => None,
    };
    match image {
        Some(v) => image_from_value(v),
        None => Err(Error::invalid_response("answer has no image object")),
    }
}

fn image_from_value(value: Value) -> Result<Image> {
    match value {
        Value::Object(o) => ImageMeta::from_json(o)?.into_image(),
        other => Err(Error::invalid_response(format!(
            "image is not an object: {other}"
        ))),
    }
}

/// `POST /v1/images` reserving an image (status `queued`) with `meta` as
/// headers and no data. Parse with [`parse_image`].
pub fn create(meta: &ImageMeta) -> Result<Request<Vec<u8>>> {
    with_meta(Method::POST, "/v1/images", meta, None)
}

/// `POST /v1/images` with `meta` and the image data as the body, which the
/// caller streams (`Content-Length` when `size` is known, chunked otherwise).
pub fn create_with_data(meta: &ImageMeta, size: Option<u64>) -> Result<Request<Vec<u8>>> {
    with_meta(Method::POST, "/v1/images", meta, Some(size))
}

/// `PUT /v1/images/{id}` changing the metadata in `meta`.
///
/// `purge_props` is always sent, because the server's default when it is
/// missing is to drop every property not in the request: `false` keeps the
/// others, `true` makes `meta.properties` the whole new set (see
/// [`ImageMeta::for_update`]). Parse with [`parse_image`].
pub fn update(id: &str, meta: &ImageMeta, purge_props: bool) -> Result<Request<Vec<u8>>> {
    let request = with_meta(Method::PUT, &image_path(id)?, meta, None)?;
    Ok(purging(request, purge_props))
}

/// `PUT /v1/images/{id}` changing the metadata in `meta` (as [`update`])
/// and carrying the image data as the body, which the caller streams (the
/// image must be `queued`).
pub fn update_with_data(
    id: &str,
    meta: &ImageMeta,
    purge_props: bool,
    size: Option<u64>,
) -> Result<Request<Vec<u8>>> {
    let request = with_meta(Method::PUT, &image_path(id)?, meta, Some(size))?;
    Ok(purging(request, purge_props))
}

/// `PUT /v1/images/{id}` with the image data as the body (the image must be
/// `queued`) and no metadata change (`x-glance-registry-purge-props: false`).
/// Parse with [`parse_image`] or [`parse_empty`](crate::wire::parse_empty).
pub fn upload(id: &str, size: Option<u64>) -> Result<Request<Vec<u8>>> {
    let request = with_meta(
        Method::PUT,
        &image_path(id)?,
        &ImageMeta::default(),
        Some(size),
    )?;
    Ok(purging(request, false))
}

/// `request` with `x-glance-registry-purge-props` saying whether the
/// properties it does not carry are dropped: always sent on a `PUT`, since
/// the server purges when it is missing.
fn purging(mut request: Request<Vec<u8>>, purge: bool) -> Request<Vec<u8>> {
    request.headers_mut().insert(
        PURGE_PROPS,
        http::HeaderValue::from_static(bool_text(purge)),
    );
    request
}

/// A request carrying `meta` as headers; `data` is `Some(size)` when the
/// caller streams image data as the body.
fn with_meta(
    method: Method,
    path: &str,
    meta: &ImageMeta,
    data: Option<Option<u64>>,
) -> Result<Request<Vec<u8>>> {
    let mut request = json_request(method, path, None)?;
    let headers = request.headers_mut();
    if let Some(size) = data {
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static(OCTET_STREAM),
        );
        if let Some(n) = size {
            headers.insert(http::header::CONTENT_LENGTH, http::HeaderValue::from(n));
        }
    }
    headers.extend(meta.to_headers()?);
    Ok(request)
}

/// `DELETE /v1/images/{id}`; parse with [`parse_empty`](crate::wire::parse_empty).
pub fn delete(id: &str) -> Result<Request<Vec<u8>>> {
    json_request(Method::DELETE, &image_path(id)?, None)
}

/// `GET /v1/images/{id}`: the data, from byte `offset` on when it is not
/// zero (`Range: bytes=<offset>-`).
///
/// A v1 Glance ignores `Range` and answers 200 with the whole image (a
/// proxy in front may honour it with 206); [`parse_download_start`] tells
/// which happened.
pub fn download(id: &str, offset: u64) -> Result<Request<Vec<u8>>> {
    wire::download_request(&image_path(id)?, offset)
}

/// Parses the status and headers of a download answer, as
/// [`wire::parse_download_start`] does
/// (200 from byte 0, 206 checked against the range asked for, 204 no data),
/// with the MD5 from `x-image-meta-checksum` and the total size from
/// `x-image-meta-size` when the answer does not otherwise say.
pub fn parse_download_start(
    image_id: &str,
    status: StatusCode,
    headers: &HeaderMap,
    requested_offset: u64,
) -> Result<DownloadStart> {
    let mut start = wire::parse_download_start(image_id, status, headers, requested_offset)?;
    if let Some(sum) = wire::header(headers, "x-image-meta-checksum").filter(|s| !s.is_empty()) {
        start.content_md5 = Some(sum.to_ascii_lowercase());
    }
    if start.total.is_none()
        && let Some(size) = wire::header(headers, "x-image-meta-size").filter(|s| !s.is_empty())
    {
        start.total = Some(parse_u64("x-image-meta-size", size)?);
    }
    Ok(start)
}
