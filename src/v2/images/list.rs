//! `GET /v2/images`: the first page of a listing, the next ones, and their parser.

use http::{Method, Request, Response};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::image::Image;
use crate::query::{ListQuery, check_time_filter, split_sort};
use crate::v2::{json_request, parse_json};

/// One page of a listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImagePage {
    /// The images on this page.
    pub images: Vec<Image>,
    /// Path of the next page (relative to the API root), absent on the last one.
    pub next: Option<String>,
}

/// Query parameters a property filter may not use: they mean something else.
const RESERVED_PARAMS: [&str; 17] = [
    "limit",
    "marker",
    "sort",
    "sort_key",
    "sort_dir",
    "name",
    "status",
    "visibility",
    "owner",
    "member_status",
    "tag",
    "protected",
    "os_hidden",
    "size_min",
    "size_max",
    "created_at",
    "updated_at",
];

/// `GET /v2/images?...`: the first page of a listing.
///
/// `page_size` caps the first page (`Some(0)` is taken as `None`: Glance
/// would answer an empty last page). With a total limit, ask for no more
/// than what is left of it, as [`Client::images`](crate::Client::images)
/// does (`query.limit` itself is not sent).
pub fn list(query: &ListQuery, page_size: Option<u64>) -> Result<Request<Vec<u8>>> {
    for (operation, set) in [
        ("min_ram filter", query.min_ram.is_some()),
        ("min_disk filter", query.min_disk.is_some()),
    ] {
        if set {
            return Err(Error::Unsupported {
                operation,
                api_version: 2,
            });
        }
    }
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    if let Some(n) = page_size.filter(|&n| n > 0) {
        q.append_pair("limit", &n.to_string());
    }
    let text = [
        ("name", &query.name),
        ("status", &query.status),
        ("visibility", &query.visibility),
        ("owner", &query.owner),
        ("member_status", &query.member_status),
        ("disk_format", &query.disk_format),
        ("container_format", &query.container_format),
    ];
    for (key, value) in text {
        if let Some(v) = value {
            q.append_pair(key, v);
        }
    }
    for tag in &query.tags {
        q.append_pair("tag", tag);
    }
    for (key, value) in [
        ("protected", query.protected),
        ("os_hidden", query.os_hidden),
    ] {
        if let Some(v) = value {
            q.append_pair(key, if v { "true" } else { "false" });
        }
    }
    for (key, value) in [("size_min", query.size_min), ("size_max", query.size_max)] {
        if let Some(v) = value {
            q.append_pair(key, &v.to_string());
        }
    }
    for (key, value) in [
        ("created_at", &query.created_at),
        ("updated_at", &query.updated_at),
    ] {
        if let Some(v) = value {
            check_time_filter(key, v)?;
            q.append_pair(key, v);
        }
    }
    properties_and_sort(&mut q, query)?;
    let qs = q.finish();
    let path = if qs.is_empty() {
        "/v2/images".to_string()
    } else {
        format!("/v2/images?{qs}")
    };
    json_request(Method::GET, &path, None)
}

/// The property filters and the sort order of a listing's query.
fn properties_and_sort(
    q: &mut url::form_urlencoded::Serializer<'_, String>,
    query: &ListQuery,
) -> Result<()> {
    for (key, value) in &query.properties {
        if key.is_empty() || RESERVED_PARAMS.contains(&key.as_str()) {
            return Err(Error::InvalidInput(format!(
                "{key:?} cannot be used as a property filter"
            )));
        }
        q.append_pair(key, value);
    }
    if !query.sort.is_empty() {
        let mut keys = Vec::with_capacity(query.sort.len());
        for entry in &query.sort {
            let (key, dir) = split_sort(entry)?;
            keys.push(match dir {
                Some(d) => format!("{key}:{d}"),
                None => key.to_string(),
            });
        }
        q.append_pair("sort", &keys.join(","));
    }
    Ok(())
}

/// The page size to ask for, given the caller's page size, the total limit
/// and how many images were already returned.
///
/// A `page_size` of 0 counts as none (the server's default): sent as
/// `limit=0`, Glance answers an empty page without `next`, and the listing
/// would silently yield nothing.
pub(crate) fn page_size_for(query: &ListQuery, returned: u64) -> Option<u64> {
    let remaining = query.limit.map(|l| l.saturating_sub(returned));
    let page_size = query.page_size.filter(|&p| p > 0).map(u64::from);
    match (page_size, remaining) {
        (Some(p), Some(r)) => Some(p.min(r)),
        (p, r) => p.or(r),
    }
}

/// `GET` of a `next` link from a previous page.
///
/// The link must be the listing path (`/v2/images?...`); an absolute URL is
/// reduced to its path and query, so a listing never leaves the configured
/// servers. `page_size`, when given (and not 0), replaces the link's `limit`. The link
/// is taken apart by hand: it comes from the network, and a URL parser's
/// host handling has nothing to offer for a value whose host is discarded.
pub fn next_page(next: &str, page_size: Option<u64>) -> Result<Request<Vec<u8>>> {
    let bad = |why: &str| Error::invalid_response(format!("next link {next:?} {why}"));
    let link = next.split('#').next().unwrap_or_default().trim();
    let rest = match link.split_once("://") {
        Some((scheme, rest))
            if scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https") =>
        {
            rest.find('/')
                .map(|i| &rest[i..])
                .ok_or_else(|| bad("has no path"))?
        }
        _ => link,
    };
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.trim_end_matches('/') != "/v2/images" {
        return Err(bad("is not the image listing"));
    }
    let page_size = page_size.filter(|&n| n > 0);
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    let mut had_limit = false;
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        if k == "limit" {
            had_limit = true;
            if let Some(n) = page_size {
                q.append_pair("limit", &n.to_string());
                continue;
            }
        }
        q.append_pair(&k, &v);
    }
    if let (false, Some(n)) = (had_limit, page_size) {
        q.append_pair("limit", &n.to_string());
    }
    json_request(Method::GET, &format!("/v2/images?{}", q.finish()), None)
}

/// Parses a listing page: `{"images": [...], "next": "..."}`.
pub fn parse_page<B: AsRef<[u8]>>(response: &Response<B>) -> Result<ImagePage> {
    let mut map: Map<String, Value> = parse_json("image list", response)?;
    let images = match map.remove("images") {
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|item| match item {
                Value::Object(m) => Image::from_v2_map(m).map_err(Error::InvalidResponse),
                other => Err(Error::invalid_response(format!(
                    "image list entry is not an object: {other}"
                ))),
            })
            .collect::<Result<Vec<_>>>()?,
        _ => return Err(Error::invalid_response("image list has no images array")),
    };
    let next = match map.remove("next") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => {
            return Err(Error::invalid_response(format!(
                "next link is not a string: {other}"
            )));
        }
    };
    Ok(ImagePage { images, next })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::test_ok as ok;
    use std::collections::BTreeMap;

    #[test]
    fn list_with_every_filter() {
        let query = ListQuery {
            name: Some("a b".into()),
            status: Some("active".into()),
            visibility: Some("shared".into()),
            owner: Some("p1".into()),
            member_status: Some("accepted".into()),
            tags: vec!["t1".into(), "t2".into()],
            protected: Some(false),
            os_hidden: Some(true),
            size_min: Some(1),
            size_max: Some(10),
            created_at: Some("gte:2026-01-01T00:00:00Z".into()),
            properties: BTreeMap::from([("os_distro".into(), "cirros".into())]),
            sort: vec!["name:asc".into(), "created_at".into()],
            ..ListQuery::default()
        };
        let req = list(&query, Some(20)).unwrap();
        assert_eq!(req.method(), Method::GET);
        assert_eq!(
            req.uri().to_string(),
            "/v2/images?limit=20&name=a+b&status=active&visibility=shared&owner=p1\
             &member_status=accepted&tag=t1&tag=t2&protected=false&os_hidden=true\
             &size_min=1&size_max=10&created_at=gte%3A2026-01-01T00%3A00%3A00Z\
             &os_distro=cirros&sort=name%3Aasc%2Ccreated_at"
        );
        assert_eq!(req.headers()["accept"], "application/json");
    }

    #[test]
    fn list_refuses_bad_filters() {
        let q = ListQuery {
            properties: BTreeMap::from([("limit".into(), "5".into())]),
            ..ListQuery::default()
        };
        assert!(matches!(list(&q, None), Err(Error::InvalidInput(_))));
        let q = ListQuery {
            sort: vec!["name:sideways".into()],
            ..ListQuery::default()
        };
        assert!(matches!(list(&q, None), Err(Error::InvalidInput(_))));
    }

    #[test]
    fn page_size_respects_the_total_limit() {
        let q = ListQuery {
            page_size: Some(10),
            limit: Some(25),
            ..ListQuery::default()
        };
        assert_eq!(page_size_for(&q, 0), Some(10));
        assert_eq!(page_size_for(&q, 20), Some(5));
        assert_eq!(page_size_for(&ListQuery::default(), 7), None);
    }

    #[test]
    fn a_page_size_of_zero_is_the_server_default_not_limit_0() {
        let q = ListQuery {
            page_size: Some(0),
            ..ListQuery::default()
        };
        assert_eq!(page_size_for(&q, 0), None);
        let q = ListQuery {
            page_size: Some(0),
            limit: Some(3),
            ..ListQuery::default()
        };
        assert_eq!(page_size_for(&q, 1), Some(2));
        assert_eq!(
            list(&ListQuery::default(), Some(0)).unwrap().uri(),
            "/v2/images"
        );
        let req = next_page("/v2/images?limit=5&marker=a", Some(0)).unwrap();
        assert_eq!(req.uri(), "/v2/images?limit=5&marker=a");
    }

    #[test]
    fn next_links_stay_on_the_server_and_take_the_page_size() {
        let req = next_page("/v2/images?limit=2&marker=abc", None).unwrap();
        assert_eq!(req.uri(), "/v2/images?limit=2&marker=abc");
        let req = next_page("/v2/images?limit=2&marker=abc", Some(1)).unwrap();
        assert_eq!(req.uri(), "/v2/images?limit=1&marker=abc");
        let req = next_page("http://evil.example/v2/images?marker=x", None).unwrap();
        assert_eq!(req.uri(), "/v2/images?marker=x");
        assert!(next_page("/v2/schemas/image", None).is_err());
        assert!(next_page("/v2/images/../schemas", None).is_err());
        assert!(next_page("http://host-only", None).is_err());
        // A host the `url` crate's IDNA code asserts on in debug builds: never parsed.
        let req = next_page("http://%41%e1/v2/images?marker=a+b", None).unwrap();
        assert_eq!(req.uri(), "/v2/images?marker=a+b");
    }

    #[test]
    fn parses_the_real_list_page() {
        let page = parse_page(&ok(include_str!(
            "../../../tests/fixtures/v2/list-page1.json"
        )))
        .unwrap();
        assert_eq!(page.images.len(), 2);
        assert_eq!(page.images[0].name.as_deref(), Some("img-c"));
        assert_eq!(
            page.next.as_deref(),
            Some("/v2/images?limit=2&marker=b716b7ac-aa4e-41b9-8f33-0a6178d86112")
        );
        let last = parse_page(&ok(r#"{"images": [], "first": "/v2/images"}"#)).unwrap();
        assert!(last.images.is_empty() && last.next.is_none());
    }

    #[test]
    fn malformed_pages_are_errors() {
        for body in [
            "",
            "[]",
            r#"{"images": {}}"#,
            r#"{"images": [1]}"#,
            r#"{"images": [], "next": 5}"#,
            r#"{"images": [{"name": "no id"}]}"#,
        ] {
            assert!(
                matches!(parse_page(&ok(body)), Err(Error::InvalidResponse(_))),
                "{body}"
            );
        }
    }
}
