//! The exact v2 wire of every `Client` operation, against httptest, and the
//! real answers of Glance 33 (tests/fixtures/v2) parsed back.

mod common;

use std::collections::BTreeMap;
use std::io::Read;

use glance_client::v2::import::{Import, ImportMethod};
use glance_client::{Auth, Client, Config, Error, ImageUpdate, ListQuery, NewImage};
use httptest::matchers::{all_of, contains, eq, json_decoded, key, not, request, url_decoded};
use httptest::responders::{json_encoded, status_code};
use httptest::{Expectation, Server};
use serde_json::json;

const ID: &str = "e54e8577-3aa8-44c2-afc1-6205679c7fba";
const SHOW: &str = include_str!("fixtures/v2/show.json");

fn client(server: &Server) -> Client {
    Client::new(Config {
        auth: Auth::Token("tok-123".into()),
        num_retries: 0,
        retry_delay: std::time::Duration::ZERO,
        ..Config::for_server(server.url_str("/"))
    })
    .unwrap()
}

/// Every request carries the token and asks for JSON.
macro_rules! json_call {
    ($method:expr, $path:expr) => {
        all_of![
            request::method_path($method, $path),
            request::headers(contains(("x-auth-token", "tok-123"))),
            request::headers(contains(("accept", "application/json"))),
        ]
    };
}

#[test]
fn show_sends_token_and_parses_the_real_answer() {
    let server = Server::run();
    server.expect(
        Expectation::matching(all_of![
            json_call!("GET", format!("/v2/images/{ID}")),
            request::headers(not(contains(key("content-length")))),
            request::headers(not(contains(key("transfer-encoding")))),
        ])
        .respond_with(status_code(200).body(SHOW)),
    );
    let image = client(&server).image(ID).unwrap();
    assert_eq!(image.name.as_deref(), Some("cirros-test"));
    assert_eq!(
        image.checksum.as_deref(),
        Some("b137587cf064cd81b9f19beee957a763")
    );
    assert_eq!(image.properties["my_prop"], "abc");
}

#[test]
fn list_follows_next_over_three_pages_including_the_empty_last_one() {
    let server = Server::run();
    let page = |ids: &[&str], next: Option<&str>| {
        let images: Vec<_> = ids
            .iter()
            .map(|id| json!({"id": id, "status": "active"}))
            .collect();
        let mut body = json!({"images": images, "first": "/v2/images?limit=2"});
        if let Some(n) = next {
            body["next"] = json!(n);
        }
        body
    };
    server.expect(
        Expectation::matching(all_of![
            json_call!("GET", "/v2/images"),
            request::query("limit=2&status=active&sort=name%3Aasc"),
        ])
        .respond_with(json_encoded(page(
            &["a", "b"],
            Some("/v2/images?limit=2&status=active&sort=name%3Aasc&marker=b"),
        ))),
    );
    server.expect(
        Expectation::matching(all_of![
            json_call!("GET", "/v2/images"),
            request::query(url_decoded(contains(("marker", "b")))),
        ])
        .respond_with(json_encoded(page(
            &["c", "d"],
            Some("/v2/images?limit=2&status=active&sort=name%3Aasc&marker=d"),
        ))),
    );
    server.expect(
        Expectation::matching(all_of![
            json_call!("GET", "/v2/images"),
            request::query(url_decoded(contains(("marker", "d")))),
        ])
        .respond_with(json_encoded(page(&[], None))),
    );
    let query = ListQuery {
        status: Some("active".into()),
        sort: vec!["name:asc".into()],
        page_size: Some(2),
        ..ListQuery::default()
    };
    let ids: Vec<String> = client(&server)
        .images(&query)
        .map(|r| r.map(|i| i.id))
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(ids, ["a", "b", "c", "d"]);
}

#[test]
fn list_stops_at_the_total_limit_and_shrinks_the_last_page() {
    let server = Server::run();
    server.expect(
        Expectation::matching(all_of![
            json_call!("GET", "/v2/images"),
            request::query("limit=2")
        ])
        .respond_with(json_encoded(json!({
                "images": [{"id": "a"}, {"id": "b"}],
                "next": "/v2/images?limit=2&marker=b"}))),
    );
    server.expect(
        Expectation::matching(all_of![
            json_call!("GET", "/v2/images"),
            request::query("limit=1&marker=b")
        ])
        .respond_with(json_encoded(json!({
            "images": [{"id": "c"}],
            "next": "/v2/images?limit=1&marker=c"}))),
    );
    let query = ListQuery {
        page_size: Some(2),
        limit: Some(3),
        ..ListQuery::default()
    };
    let ids: Vec<String> = client(&server)
        .images(&query)
        .map(|r| r.unwrap().id)
        .collect();
    assert_eq!(ids, ["a", "b", "c"]);
}

#[test]
fn a_broken_page_ends_the_listing_with_its_error() {
    let server = Server::run();
    server.expect(
        Expectation::matching(request::method_path("GET", "/v2/images"))
            .respond_with(status_code(200).body(r#"{"images": "nope"}"#)),
    );
    let results: Vec<_> = client(&server).images(&ListQuery::default()).collect();
    assert_eq!(results.len(), 1);
    assert!(
        matches!(results[0], Err(Error::InvalidResponse(_))),
        "{results:?}"
    );
}

#[test]
fn versions_fall_back_to_the_300_of_the_root() {
    let server = Server::run();
    server.expect(
        Expectation::matching(request::method_path("GET", "/versions"))
            .respond_with(status_code(404)),
    );
    server.expect(
        Expectation::matching(request::method_path("GET", "/")).respond_with(
            status_code(300)
                .body(r#"{"versions": [{"id": "v2.18", "status": "CURRENT", "links": []}]}"#),
        ),
    );
    let versions = client(&server).versions().unwrap();
    assert_eq!(versions[0].id, "v2.18");
    assert_eq!(versions[0].number(), Some((2, 18)));
}

#[test]
fn a_next_link_sent_twice_ends_the_listing_instead_of_looping() {
    let server = Server::run();
    // Every page links to the same next page.
    server.expect(
        Expectation::matching(request::method_path("GET", "/v2/images"))
            .times(2..=3)
            .respond_with(json_encoded(json!({
                "images": [{"id": "a", "status": "active", "visibility": "private"}],
                "next": "/v2/images?marker=a"
            }))),
    );
    let results: Vec<_> = client(&server)
        .images(&ListQuery::default())
        .take(10)
        .collect();
    assert!(results.len() < 10, "the listing ended: {results:?}");
    assert!(
        matches!(results.last(), Some(Err(Error::InvalidResponse(m))) if m.contains("second time")),
        "{results:?}"
    );
}

#[test]
fn create_posts_json_with_every_field_set() {
    let server = Server::run();
    server.expect(
        Expectation::matching(all_of![
            json_call!("POST", "/v2/images"),
            request::headers(contains(("content-type", "application/json"))),
            request::body(json_decoded(eq(json!({
                "id": ID, "name": "cirros-test", "disk_format": "raw",
                "container_format": "bare", "min_disk": 1, "tags": ["t1"], "my_prop": "abc"
            })))),
        ])
        .respond_with(
            status_code(201)
                .insert_header("location", format!("http://x/v2/images/{ID}"))
                .body(include_str!("fixtures/v2/create.json")),
        ),
    );
    let new = NewImage {
        id: Some(ID.into()),
        name: Some("cirros-test".into()),
        disk_format: Some("raw".into()),
        container_format: Some("bare".into()),
        min_disk: Some(1),
        tags: vec!["t1".into()],
        properties: BTreeMap::from([("my_prop".into(), "abc".into())]),
        ..NewImage::default()
    };
    let image = client(&server).create_image(&new).unwrap();
    assert_eq!(image.status, "queued");
    assert_eq!(image.tags, ["t1"]);
}

#[test]
fn update_patches_with_the_v21_media_type() {
    let server = Server::run();
    server.expect(
        Expectation::matching(all_of![
            json_call!("PATCH", format!("/v2/images/{ID}")),
            request::headers(contains((
                "content-type",
                "application/openstack-images-v2.1-json-patch"
            ))),
            request::body(json_decoded(eq(json!([
                {"op": "replace", "path": "/name", "value": "renamed"},
                {"op": "replace", "path": "/tags", "value": ["t1", "t2"]},
                {"op": "add", "path": "/os_distro", "value": "cirros"},
            ])))),
        ])
        .respond_with(status_code(200).body(include_str!("fixtures/v2/patch.json"))),
    );
    let update = ImageUpdate {
        name: Some("renamed".into()),
        tags: Some(vec!["t1".into(), "t2".into()]),
        set_properties: BTreeMap::from([("os_distro".into(), "cirros".into())]),
        ..ImageUpdate::default()
    };
    let image = client(&server).update_image(ID, &update).unwrap();
    assert_eq!(image.name.as_deref(), Some("renamed"));
    assert_eq!(image.properties["os_distro"], "cirros");
}

#[test]
fn actions_tags_and_delete_answer_204() {
    let server = Server::run();
    for (method, path) in [
        ("DELETE", format!("/v2/images/{ID}")),
        ("POST", format!("/v2/images/{ID}/actions/deactivate")),
        ("POST", format!("/v2/images/{ID}/actions/reactivate")),
        ("PUT", format!("/v2/images/{ID}/tags/blue%20sky")),
        ("DELETE", format!("/v2/images/{ID}/tags/blue%20sky")),
    ] {
        server
            .expect(Expectation::matching(json_call!(method, path)).respond_with(status_code(204)));
    }
    let c = client(&server);
    c.delete_image(ID).unwrap();
    c.deactivate_image(ID).unwrap();
    c.reactivate_image(ID).unwrap();
    c.add_tag(ID, "blue sky").unwrap();
    c.remove_tag(ID, "blue sky").unwrap();
}

#[test]
fn upload_with_size_sends_content_length_and_never_expect() {
    let server = Server::run();
    server.expect(
        Expectation::matching(all_of![
            request::method_path("PUT", format!("/v2/images/{ID}/file")),
            request::headers(contains(("content-type", "application/octet-stream"))),
            request::headers(contains(("content-length", "11"))),
            request::headers(not(contains(key("expect")))),
            request::headers(not(contains(key("transfer-encoding")))),
            request::body("hello glanc"),
        ])
        .respond_with(status_code(204)),
    );
    let mut data = &b"hello glanc"[..];
    client(&server).upload(ID, &mut data, Some(11)).unwrap();
}

#[test]
fn upload_without_size_goes_chunked() {
    let server = Server::run();
    server.expect(
        Expectation::matching(all_of![
            request::method_path("PUT", format!("/v2/images/{ID}/file")),
            request::headers(contains(("transfer-encoding", "chunked"))),
            request::headers(not(contains(key("content-length")))),
            request::body("streamed bytes"),
        ])
        .respond_with(status_code(204)),
    );
    let mut data = &b"streamed bytes"[..];
    client(&server).upload(ID, &mut data, None).unwrap();
}

#[test]
fn upload_file_sends_the_file_size() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("img.raw");
    std::fs::write(&path, vec![7u8; 4096]).unwrap();
    let server = Server::run();
    server.expect(
        Expectation::matching(all_of![
            request::method_path("PUT", format!("/v2/images/{ID}/file")),
            request::headers(contains(("content-length", "4096"))),
        ])
        .respond_with(status_code(204)),
    );
    client(&server).upload_file(ID, &path).unwrap();
}

#[test]
fn open_download_streams_with_the_announced_md5() {
    let server = Server::run();
    server.expect(
        Expectation::matching(all_of![
            request::method_path("GET", format!("/v2/images/{ID}/file")),
            request::headers(not(contains(key("range")))),
        ])
        .respond_with(
            status_code(200)
                .insert_header("content-md5", "5d41402abc4b2a76b9719d911017c592")
                .body("hello"),
        ),
    );
    let mut stream = client(&server).open_download(ID).unwrap();
    assert_eq!(stream.content_length(), Some(5));
    assert_eq!(
        stream.content_md5(),
        Some("5d41402abc4b2a76b9719d911017c592")
    );
    let mut body = String::new();
    stream.read_to_string(&mut body).unwrap();
    assert_eq!(body, "hello");
}

#[test]
fn a_download_of_an_image_without_data_is_no_data() {
    let server = Server::run();
    server.expect(
        Expectation::matching(request::method_path("GET", format!("/v2/images/{ID}/file")))
            .respond_with(status_code(204)),
    );
    let err = client(&server).open_download(ID).unwrap_err();
    assert!(
        matches!(err, Error::NoData { ref image_id } if image_id == ID),
        "{err:?}"
    );
}

#[test]
fn members_round_trip() {
    let server = Server::run();
    let member = json!({"member_id": "p2", "image_id": ID, "status": "pending",
        "created_at": "2026-11-25T10:25:03Z", "updated_at": "2026-11-25T10:25:03Z",
        "schema": "/v2/schemas/member"});
    server.expect(
        Expectation::matching(all_of![
            json_call!("POST", format!("/v2/images/{ID}/members")),
            request::body(json_decoded(eq(json!({"member": "p2"})))),
        ])
        .respond_with(json_encoded(member.clone())),
    );
    server.expect(
        Expectation::matching(json_call!("GET", format!("/v2/images/{ID}/members"))).respond_with(
            json_encoded(json!({"members": [member.clone()], "schema": "/v2/schemas/members"})),
        ),
    );
    let mut accepted = member.clone();
    accepted["status"] = json!("accepted");
    server.expect(
        Expectation::matching(all_of![
            json_call!("PUT", format!("/v2/images/{ID}/members/p2")),
            request::body(json_decoded(eq(json!({"status": "accepted"})))),
        ])
        .respond_with(json_encoded(accepted)),
    );
    server.expect(
        Expectation::matching(json_call!("DELETE", format!("/v2/images/{ID}/members/p2")))
            .respond_with(status_code(204)),
    );
    let c = client(&server);
    assert_eq!(c.add_member(ID, "p2").unwrap().status, "pending");
    assert_eq!(c.members(ID).unwrap().len(), 1);
    assert_eq!(
        c.update_member(ID, "p2", "accepted").unwrap().status,
        "accepted"
    );
    c.remove_member(ID, "p2").unwrap();
}

#[test]
fn stage_import_and_discovery() {
    let server = Server::run();
    server.expect(
        Expectation::matching(all_of![
            request::method_path("PUT", format!("/v2/images/{ID}/stage")),
            request::headers(contains(("content-type", "application/octet-stream"))),
            request::body("staged"),
        ])
        .respond_with(status_code(204)),
    );
    server.expect(
        Expectation::matching(all_of![
            json_call!("POST", format!("/v2/images/{ID}/import")),
            request::body(json_decoded(eq(
                json!({"method": {"name": "glance-direct"}})
            ))),
        ])
        .respond_with(status_code(202)),
    );
    server.expect(
        Expectation::matching(json_call!("GET", "/v2/info/import")).respond_with(json_encoded(
            json!({"import-methods": {"description": "Import methods available.",
                "type": "array", "value": ["glance-direct", "copy-image"]}}),
        )),
    );
    server.expect(
        Expectation::matching(json_call!("GET", "/v2/info/stores")).respond_with(json_encoded(
            json!({"stores": [{"id": "fs", "default": "true"}]}),
        )),
    );
    server.expect(
        Expectation::matching(json_call!("GET", "/versions")).respond_with(json_encoded(
            json!({"versions": [{"id": "v2.18", "status": "CURRENT",
                "links": [{"rel": "self", "href": "http://127.0.0.1:19292/v2/"}]}]}),
        )),
    );
    let c = client(&server);
    let mut data = &b"staged"[..];
    c.stage(ID, &mut data, Some(6)).unwrap();
    c.import_image(ID, &Import::new(ImportMethod::GlanceDirect))
        .unwrap();
    assert_eq!(c.import_methods().unwrap(), ["glance-direct", "copy-image"]);
    let stores = c.stores().unwrap();
    assert!(stores[0].default);
    assert_eq!(c.versions().unwrap()[0].id, "v2.18");
}

#[test]
fn every_error_status_maps_to_its_meaning() {
    let server = Server::run();
    let statuses = [400, 401, 403, 404, 409, 413, 415, 429, 500, 503, 418];
    for status in statuses {
        server.expect(
            Expectation::matching(request::method_path("GET", format!("/v2/images/s{status}")))
                .respond_with(
                    status_code(status)
                        .insert_header("x-openstack-request-id", format!("req-{status}"))
                        .body(format!(
                            r#"{{"message": "failed with {status}<br /><br />\n", "code": "{status} X", "title": "X"}}"#
                        )),
                ),
        );
    }
    let c = client(&server);
    for status in statuses {
        let err = c.image(&format!("s{status}")).unwrap_err();
        let ok = match status {
            400 => matches!(err, Error::BadRequest(_)),
            401 => matches!(err, Error::Unauthorized(_)),
            403 => matches!(err, Error::Forbidden(_)),
            404 => matches!(err, Error::NotFound(_)),
            409 => matches!(err, Error::Conflict(_)),
            413 | 429 => matches!(err, Error::OverLimit(_)),
            415 => matches!(err, Error::UnsupportedMediaType(_)),
            500 | 503 => matches!(err, Error::Server(_)),
            _ => matches!(err, Error::Api(_)),
        };
        assert!(ok, "status {status} gave {err:?}");
        let api = err.api_error().unwrap();
        assert_eq!(api.status, status);
        assert_eq!(api.message, format!("failed with {status}"));
        assert_eq!(
            api.request_id.as_deref(),
            Some(format!("req-{status}").as_str())
        );
    }
}

#[test]
fn malformed_and_oversized_bodies_are_errors() {
    let server = Server::run();
    server.expect(
        Expectation::matching(request::method_path("GET", "/v2/images/bad"))
            .respond_with(status_code(200).body("{\"id\": ")),
    );
    server.expect(
        Expectation::matching(request::method_path("GET", "/v2/images/huge"))
            .respond_with(status_code(200).body(vec![b' '; 33 * 1024 * 1024])),
    );
    let c = client(&server);
    assert!(matches!(c.image("bad"), Err(Error::InvalidResponse(_))));
    let err = c.image("huge").unwrap_err();
    assert!(
        matches!(err, Error::InvalidResponse(ref m) if m.contains("larger")),
        "{err:?}"
    );
}

#[test]
fn an_error_keeps_its_status_meaning_whatever_its_body() {
    let server = Server::run();
    server.expect(
        Expectation::matching(request::method_path("GET", "/v2/images/huge"))
            .respond_with(status_code(404).body(vec![b'x'; 33 * 1024 * 1024])),
    );
    server.expect(
        Expectation::matching(request::method_path("GET", "/v2/images/garbled"))
            .respond_with(status_code(409).body("{\"message\": \"unterminated")),
    );
    let c = client(&server);
    let err = c.image("huge").unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    let err = c.image("garbled").unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
}

#[test]
fn an_error_whose_body_breaks_off_keeps_its_status_meaning() {
    let server = common::RawServer::answering(
        "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n",
        br#"{"message": "no such"#,
    );
    let client = Client::new(Config {
        auth: Auth::Token("tok-123".into()),
        num_retries: 2,
        retry_delay: std::time::Duration::ZERO,
        ..Config::for_server(&server.url)
    })
    .unwrap();
    let err = client.image(ID).unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    assert_eq!(server.accepted(), 1, "a 404 is not retried");
}
