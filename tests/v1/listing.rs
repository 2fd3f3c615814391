//! Listing in v1 mode: `GET /v1/images/detail`, marker paging, filters.

use std::collections::BTreeMap;

use std::future::Future;
use std::pin::Pin;

use glance_client::{ApiVersion, Error, ListQuery, v1};
use httptest::bytes::Bytes;
use httptest::http;
use httptest::responders::Responder;
use serde_json::json;

use super::harness::*;

fn page(ids: &[&str]) -> Box<dyn httptest::responders::Responder> {
    let images: Vec<_> = ids
        .iter()
        .map(|id| json!({"id": id, "status": "active", "is_public": false, "properties": {}}))
        .collect();
    Box::new(json(200, json!({ "images": images })))
}

fn list(query: &ListQuery, wire: &Wire) -> Result<Vec<String>, Error> {
    wire.client()
        .images(query)
        .map(|r| r.map(|i| i.id))
        .collect()
}

fn get(target: &str) -> Seen {
    expect("GET", target, &call(&[]))
}

#[test]
fn pages_follow_the_last_id_until_an_empty_page() {
    let wire = Wire::new(vec![
        page(&["a", "b"]),
        page(&["c", "d"]),
        page(&["e"]),
        page(&[]),
    ]);
    let query = ListQuery {
        page_size: Some(2),
        ..ListQuery::default()
    };
    assert_eq!(list(&query, &wire).unwrap(), ["a", "b", "c", "d", "e"]);
    assert_eq!(
        wire.seen(),
        [
            get("/v1/images/detail?limit=2&is_public=none"),
            get("/v1/images/detail?limit=2&marker=b&is_public=none"),
            get("/v1/images/detail?limit=2&marker=d&is_public=none"),
            get("/v1/images/detail?limit=2&marker=e&is_public=none"),
        ]
    );
}

/// A v1 server with `api_limit_max = cap`: it answers `min(limit, cap)`
/// images after `marker`, from `ids` in order, as Glance's v1 registry did.
struct CappedServer {
    ids: &'static [&'static str],
    cap: usize,
}

impl Responder for CappedServer {
    fn respond<'a>(
        &mut self,
        req: &'a http::Request<Bytes>,
    ) -> Pin<Box<dyn Future<Output = http::Response<Bytes>> + Send + 'a>> {
        let query = req.uri().query().unwrap_or_default();
        let mut limit = usize::MAX;
        let mut start = 0;
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            match &*k {
                "limit" => limit = v.parse().unwrap(),
                "marker" => start = self.ids.iter().position(|id| *id == v).unwrap() + 1,
                _ => {}
            }
        }
        let images: Vec<_> = self.ids[start..]
            .iter()
            .take(limit.min(self.cap))
            .map(|id| json!({"id": id, "status": "active", "is_public": false, "properties": {}}))
            .collect();
        let response = http::Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(Bytes::from(json!({ "images": images }).to_string()))
            .unwrap();
        Box::pin(async move { response })
    }
}

#[test]
fn a_page_size_above_the_servers_api_limit_max_still_lists_everything() {
    const IDS: [&str; 7] = ["a", "b", "c", "d", "e", "f", "g"];
    let capped = || -> Box<dyn Responder> { Box::new(CappedServer { ids: &IDS, cap: 3 }) };
    let wire = Wire::new((0..4).map(|_| capped()).collect());
    let query = ListQuery {
        page_size: Some(5),
        ..ListQuery::default()
    };
    assert_eq!(list(&query, &wire).unwrap(), IDS);
    assert_eq!(
        wire.seen(),
        [
            get("/v1/images/detail?limit=5&is_public=none"),
            get("/v1/images/detail?limit=5&marker=c&is_public=none"),
            get("/v1/images/detail?limit=5&marker=f&is_public=none"),
            get("/v1/images/detail?limit=5&marker=g&is_public=none"),
        ]
    );
}

#[test]
fn a_capped_server_and_a_total_limit_stop_at_the_limit() {
    const IDS: [&str; 7] = ["a", "b", "c", "d", "e", "f", "g"];
    let capped = || -> Box<dyn Responder> { Box::new(CappedServer { ids: &IDS, cap: 3 }) };
    let wire = Wire::new((0..2).map(|_| capped()).collect());
    let query = ListQuery {
        limit: Some(5),
        ..ListQuery::default()
    };
    assert_eq!(list(&query, &wire).unwrap(), ["a", "b", "c", "d", "e"]);
    assert_eq!(
        wire.seen(),
        [
            get("/v1/images/detail?limit=5&is_public=none"),
            get("/v1/images/detail?limit=2&marker=c&is_public=none"),
        ]
    );
}

#[test]
fn changes_since_must_be_a_timestamp_before_any_request() {
    let wire = Wire::new(vec![]);
    for bad in [
        "gte:yesterday",
        "gte:2016-13-01T00:00:00Z",
        "gte:2016-01-01T00:00",
        "gte: 2016-01-01",
    ] {
        let query = ListQuery {
            updated_at: Some(bad.into()),
            ..ListQuery::default()
        };
        let first = wire.client().images(&query).next();
        assert!(
            matches!(&first, Some(Err(Error::InvalidInput(m))) if m.contains("changes-since")),
            "{bad}: {first:?}"
        );
    }
    assert!(wire.seen().is_empty());
    let ok = Wire::new(vec![page(&[]), page(&[])]);
    for good in ["gte:2016-01-01", "gte:2016-01-01T10:00:00.5+02:00"] {
        let query = ListQuery {
            updated_at: Some(good.into()),
            ..ListQuery::default()
        };
        assert!(list(&query, &ok).unwrap().is_empty(), "{good}");
    }
    assert_eq!(
        ok.seen(),
        [
            get("/v1/images/detail?limit=20&is_public=none&changes-since=2016-01-01"),
            get("/v1/images/detail?limit=20&is_public=none\
                 &changes-since=2016-01-01T10%3A00%3A00.5%2B02%3A00"),
        ]
    );
}

#[test]
fn a_full_last_page_is_followed_by_one_empty_page() {
    let wire = Wire::new(vec![page(&["a", "b"]), page(&[])]);
    let query = ListQuery {
        page_size: Some(2),
        ..ListQuery::default()
    };
    assert_eq!(list(&query, &wire).unwrap(), ["a", "b"]);
    assert_eq!(wire.seen().len(), 2);
}

#[test]
fn the_default_page_is_20_and_the_total_limit_shrinks_the_last_one() {
    let ids: Vec<String> = (0..20).map(|i| format!("i{i:02}")).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let wire = Wire::new(vec![page(&refs), page(&["x", "y"])]);
    let query = ListQuery {
        limit: Some(22),
        ..ListQuery::default()
    };
    assert_eq!(list(&query, &wire).unwrap().len(), 22);
    assert_eq!(
        wire.seen(),
        [
            get("/v1/images/detail?limit=20&is_public=none"),
            get("/v1/images/detail?limit=2&marker=i19&is_public=none"),
        ]
    );
}

#[test]
fn every_neutral_filter_v1_has_is_sent() {
    let wire = Wire::new(vec![page(&[])]);
    let query = ListQuery {
        name: Some("a b".into()),
        status: Some("active".into()),
        visibility: Some("public".into()),
        protected: Some(false),
        disk_format: Some("qcow2".into()),
        container_format: Some("bare".into()),
        size_min: Some(1),
        size_max: Some(10),
        updated_at: Some("gte:2016-01-01T00:00:00Z".into()),
        properties: BTreeMap::from([("os_distro".into(), "cirros".into())]),
        sort: vec!["name:asc".into()],
        page_size: Some(50),
        ..ListQuery::default()
    };
    assert!(list(&query, &wire).unwrap().is_empty());
    assert_eq!(
        wire.seen(),
        [get(
            "/v1/images/detail?limit=50&name=a+b&status=active&container_format=bare\
             &disk_format=qcow2&size_min=1&size_max=10&is_public=true\
             &changes-since=2016-01-01T00%3A00%3A00Z&protected=false\
             &property-os_distro=cirros&sort_key=name&sort_dir=asc"
        )]
    );
}

#[test]
fn the_wire_builder_also_filters_on_min_ram_and_min_disk() {
    let filters = v1::images::ListFilters {
        min_ram: Some(512),
        min_disk: Some(2),
        is_public: Some(false),
        ..v1::images::ListFilters::default()
    };
    let request = v1::images::list(&filters, Some("m"), 5).unwrap();
    assert_eq!(
        request.uri(),
        "/v1/images/detail?limit=5&marker=m&min_ram=512&min_disk=2&is_public=false"
    );
    let bad = v1::images::ListFilters {
        sort_key: Some("owner".into()),
        ..v1::images::ListFilters::default()
    };
    assert!(matches!(
        v1::images::list(&bad, None, 5),
        Err(Error::InvalidInput(_))
    ));
}

#[test]
fn a_page_ending_with_its_own_marker_ends_the_listing_with_an_error() {
    let wire = Wire::new(vec![page(&["a", "b"]), page(&["c", "b"])]);
    let query = ListQuery {
        page_size: Some(2),
        ..ListQuery::default()
    };
    let items: Vec<_> = wire.client().images(&query).collect();
    assert_eq!(items.len(), 3, "a, b, then the error: {items:?}");
    assert!(
        matches!(items[2], Err(Error::InvalidResponse(_))),
        "{items:?}"
    );
}

#[test]
fn malformed_pages_are_errors() {
    for body in [
        json!({"images": {}}),
        json!({"images": [1]}),
        json!({"images": [{"name": "no id"}]}),
    ] {
        let wire = Wire::new(vec![Box::new(json(200, body.clone()))]);
        let first = wire.client().images(&ListQuery::default()).next();
        assert!(
            matches!(first, Some(Err(Error::InvalidResponse(_)))),
            "{body}: {first:?}"
        );
    }
}

#[test]
fn filters_v1_cannot_express_fail_before_any_request() {
    let wire = Wire::new(vec![]);
    let client = wire.client();
    let queries = [
        ListQuery {
            owner: Some("p".into()),
            ..ListQuery::default()
        },
        ListQuery {
            member_status: Some("accepted".into()),
            ..ListQuery::default()
        },
        ListQuery {
            tags: vec!["t".into()],
            ..ListQuery::default()
        },
        ListQuery {
            os_hidden: Some(true),
            ..ListQuery::default()
        },
        ListQuery {
            created_at: Some("gte:2016-01-01T00:00:00Z".into()),
            ..ListQuery::default()
        },
        ListQuery {
            updated_at: Some("lt:2016-01-01T00:00:00Z".into()),
            ..ListQuery::default()
        },
        ListQuery {
            visibility: Some("shared".into()),
            ..ListQuery::default()
        },
        ListQuery {
            visibility: Some("community".into()),
            ..ListQuery::default()
        },
        ListQuery {
            sort: vec!["name".into(), "id".into()],
            ..ListQuery::default()
        },
    ];
    for query in &queries {
        let first = client.images(query).next();
        assert!(
            matches!(first, Some(Err(Error::Unsupported { api_version: 1, .. }))),
            "{query:?}: {first:?}"
        );
    }
    let bad_key = ListQuery {
        sort: vec!["owner".into()],
        ..ListQuery::default()
    };
    assert!(matches!(
        client.images(&bad_key).next(),
        Some(Err(Error::InvalidInput(_)))
    ));
    assert!(wire.seen().is_empty());
}

#[test]
fn min_ram_and_min_disk_from_the_query_reach_the_wire() {
    let wire = Wire::new(vec![page(&["a"]), page(&[])]);
    let query = ListQuery {
        min_ram: Some(512),
        min_disk: Some(2),
        ..ListQuery::default()
    };
    let ids: Vec<_> = wire
        .client()
        .images(&query)
        .map(|r| r.unwrap().id)
        .collect();
    assert_eq!(ids, ["a"]);
    assert_eq!(
        wire.seen(),
        [
            get("/v1/images/detail?limit=20&min_ram=512&min_disk=2&is_public=none"),
            get("/v1/images/detail?limit=20&marker=a&min_ram=512&min_disk=2&is_public=none"),
        ]
    );
    // v2 has no such filters: refused before any request.
    let v2 = Wire::new(vec![]);
    let items: Vec<_> = v2.client_for(ApiVersion::V2).images(&query).collect();
    assert!(
        matches!(items[..], [Err(Error::Unsupported { api_version: 2, .. })]),
        "{items:?}"
    );
    assert!(v2.seen().is_empty());
}
