//! The exact v2 wire of every `Client` operation (method, path, full query
//! string, every header, body), recorded by the shared harness in
//! tests/common/wire.rs, and the real answers of Glance 33
//! (tests/fixtures/v2) parsed back.

mod common;

use std::collections::BTreeMap;
use std::io::Read;

use common::wire::*;
use glance_client::v2::import::{Import, ImportMethod};
use glance_client::{
    ApiVersion, Auth, Client, Config, DownloadOptions, Error, ImageData, ImageUpdate, ListQuery,
    NewImage,
};
use httptest::responders::{Responder, status_code};
use serde_json::{Value, json};

const ID: &str = "e54e8577-3aa8-44c2-afc1-6205679c7fba";
const SHOW: &str = include_str!("fixtures/v2/show.json");

fn client(wire: &Wire) -> Client {
    wire.client_for(ApiVersion::V2)
}

fn get(target: &str) -> Seen {
    expect("GET", target, &call(&[]))
}

/// A request with a JSON body of `content_type`: the usual headers, the
/// body's length, and the body as exact text.
fn sends_json(method: &str, target: &str, content_type: &str, body: Value) -> Seen {
    let text = body.to_string();
    let length = text.len().to_string();
    let mut headers: Vec<(&str, &str)> = call(&[]);
    headers.push(("content-type", content_type));
    headers.push(("content-length", &length));
    expect(method, target, &headers).with_body(text.as_bytes())
}

/// A `PUT` of octet-stream data: the usual headers plus `extra` (the
/// length, or chunked).
fn sends_data(target: &str, extra: (&str, &str), data: &[u8]) -> Seen {
    let mut headers = call(&[("content-type", "application/octet-stream")]);
    headers.push(extra);
    expect("PUT", target, &headers).with_body(data)
}

fn boxed(r: impl Responder + 'static) -> Box<dyn Responder> {
    Box::new(r)
}

fn images_page(ids: &[&str], next: Option<&str>) -> Box<dyn Responder> {
    let images: Vec<_> = ids
        .iter()
        .map(|id| json!({"id": id, "status": "active"}))
        .collect();
    let mut body = json!({"images": images, "first": "/v2/images?limit=2"});
    if let Some(n) = next {
        body["next"] = json!(n);
    }
    boxed(json(200, body))
}

fn ids(client: &Client, query: &ListQuery) -> Vec<String> {
    client
        .images(query)
        .map(|r| r.map(|i| i.id))
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn show_sends_token_and_parses_the_real_answer() {
    let wire = Wire::new(vec![boxed(status_code(200).body(SHOW))]);
    let image = client(&wire).image(ID).unwrap();
    assert_eq!(image.name.as_deref(), Some("cirros-test"));
    assert_eq!(
        image.checksum.as_deref(),
        Some("b137587cf064cd81b9f19beee957a763")
    );
    assert_eq!(image.properties["my_prop"], "abc");
    assert_eq!(wire.seen(), [get(&format!("/v2/images/{ID}"))]);
}

#[test]
fn list_follows_next_over_three_pages_including_the_empty_last_one() {
    let wire = Wire::new(vec![
        images_page(
            &["a", "b"],
            Some("/v2/images?limit=2&status=active&sort=name%3Aasc&marker=b"),
        ),
        images_page(
            &["c", "d"],
            Some("/v2/images?limit=2&status=active&sort=name%3Aasc&marker=d"),
        ),
        images_page(&[], None),
    ]);
    let query = ListQuery {
        status: Some("active".into()),
        sort: vec!["name:asc".into()],
        page_size: Some(2),
        ..ListQuery::default()
    };
    assert_eq!(ids(&client(&wire), &query), ["a", "b", "c", "d"]);
    assert_eq!(
        wire.seen(),
        [
            get("/v2/images?limit=2&status=active&sort=name%3Aasc"),
            get("/v2/images?limit=2&status=active&sort=name%3Aasc&marker=b"),
            get("/v2/images?limit=2&status=active&sort=name%3Aasc&marker=d"),
        ]
    );
}

#[test]
fn list_stops_at_the_total_limit_and_shrinks_the_last_page() {
    let wire = Wire::new(vec![
        images_page(&["a", "b"], Some("/v2/images?limit=2&marker=b")),
        images_page(&["c"], Some("/v2/images?limit=1&marker=c")),
    ]);
    let query = ListQuery {
        page_size: Some(2),
        limit: Some(3),
        ..ListQuery::default()
    };
    assert_eq!(ids(&client(&wire), &query), ["a", "b", "c"]);
    assert_eq!(
        wire.seen(),
        [
            get("/v2/images?limit=2"),
            get("/v2/images?limit=1&marker=b")
        ]
    );
}

#[test]
fn a_page_size_of_zero_lists_with_the_servers_default_page() {
    let wire = Wire::new(vec![
        images_page(&["a", "b"], Some("/v2/images?marker=b")),
        images_page(&[], None),
    ]);
    let query = ListQuery {
        page_size: Some(0),
        ..ListQuery::default()
    };
    assert_eq!(ids(&client(&wire), &query), ["a", "b"]);
    assert_eq!(
        wire.seen(),
        [get("/v2/images"), get("/v2/images?marker=b")],
        "no limit=0, which Glance answers with an empty page"
    );
}

#[test]
fn a_broken_page_ends_the_listing_with_its_error() {
    let wire = Wire::new(vec![boxed(status_code(200).body(r#"{"images": "nope"}"#))]);
    let results: Vec<_> = client(&wire).images(&ListQuery::default()).collect();
    assert_eq!(results.len(), 1);
    assert!(
        matches!(results[0], Err(Error::InvalidResponse(_))),
        "{results:?}"
    );
    assert_eq!(wire.seen(), [get("/v2/images")]);
}

#[test]
fn a_next_link_sent_twice_ends_the_listing_instead_of_looping() {
    // Every page links to the same next page.
    let looping = || {
        boxed(json(
            200,
            json!({
                "images": [{"id": "a", "status": "active", "visibility": "private"}],
                "next": "/v2/images?marker=a"
            }),
        ))
    };
    let wire = Wire::new(vec![looping(), looping()]);
    let results: Vec<_> = client(&wire)
        .images(&ListQuery::default())
        .take(10)
        .collect();
    assert!(
        matches!(results.last(), Some(Err(Error::InvalidResponse(m))) if m.contains("second time")),
        "{results:?}"
    );
    assert_eq!(wire.seen(), [get("/v2/images"), get("/v2/images?marker=a")]);
}

#[test]
fn versions_fall_back_to_the_300_of_the_root() {
    let wire = Wire::new(vec![
        boxed(status_code(404)),
        boxed(
            status_code(300)
                .body(r#"{"versions": [{"id": "v2.18", "status": "CURRENT", "links": []}]}"#),
        ),
    ]);
    let versions = client(&wire).versions().unwrap();
    assert_eq!(versions[0].id, "v2.18");
    assert_eq!(versions[0].number(), Some((2, 18)));
    assert_eq!(wire.seen(), [get("/versions"), get("/")]);
}

#[test]
fn create_posts_json_with_every_field_set() {
    let wire = Wire::new(vec![boxed(
        status_code(201)
            .insert_header("location", format!("http://x/v2/images/{ID}"))
            .body(include_str!("fixtures/v2/create.json")),
    )]);
    let new = NewImage {
        id: Some(ID.into()),
        name: Some("cirros-test".into()),
        disk_format: Some("raw".into()),
        container_format: Some("bare".into()),
        visibility: Some("private".into()),
        protected: Some(false),
        min_disk: Some(1),
        min_ram: Some(64),
        tags: vec!["t1".into()],
        properties: BTreeMap::from([("my_prop".into(), "abc".into())]),
        ..NewImage::default()
    };
    let image = client(&wire).create_image(&new).unwrap();
    assert_eq!(image.status, "queued");
    assert_eq!(image.tags, ["t1"]);
    assert_eq!(
        wire.seen(),
        [sends_json(
            "POST",
            "/v2/images",
            "application/json",
            json!({
                "id": ID, "name": "cirros-test", "disk_format": "raw",
                "container_format": "bare", "visibility": "private", "protected": false,
                "min_disk": 1, "min_ram": 64, "tags": ["t1"], "my_prop": "abc"
            })
        )]
    );
}

#[test]
fn create_refuses_a_property_named_like_a_standard_field_before_any_request() {
    let wire = Wire::new(vec![]);
    for key in ["status", "id", "size", "locations"] {
        let new = NewImage {
            name: Some("n".into()),
            properties: BTreeMap::from([(key.into(), "x".into())]),
            ..NewImage::default()
        };
        let err = client(&wire).create_image(&new).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidInput(m) if m.contains(&format!("{key:?}"))),
            "{key}: {err:?}"
        );
    }
    assert_eq!(wire.seen(), []);
}

#[test]
fn update_patches_with_the_v21_media_type() {
    let wire = Wire::new(vec![boxed(
        status_code(200).body(include_str!("fixtures/v2/patch.json")),
    )]);
    let update = ImageUpdate {
        name: Some("renamed".into()),
        tags: Some(vec!["t1".into(), "t2".into()]),
        set_properties: BTreeMap::from([("os_distro".into(), "cirros".into())]),
        remove_properties: vec!["old".into()],
        ..ImageUpdate::default()
    };
    let image = client(&wire).update_image(ID, &update).unwrap();
    assert_eq!(image.name.as_deref(), Some("renamed"));
    assert_eq!(image.properties["os_distro"], "cirros");
    assert_eq!(
        wire.seen(),
        [sends_json(
            "PATCH",
            &format!("/v2/images/{ID}"),
            "application/openstack-images-v2.1-json-patch",
            json!([
                {"op": "replace", "path": "/name", "value": "renamed"},
                {"op": "replace", "path": "/tags", "value": ["t1", "t2"]},
                {"op": "add", "path": "/os_distro", "value": "cirros"},
                {"op": "remove", "path": "/old"},
            ])
        )]
    );
}

#[test]
fn an_empty_update_only_shows_the_image() {
    let wire = Wire::new(vec![boxed(status_code(200).body(SHOW))]);
    client(&wire)
        .update_image(ID, &ImageUpdate::default())
        .unwrap();
    assert_eq!(wire.seen(), [get(&format!("/v2/images/{ID}"))]);
}

#[test]
fn actions_tags_and_delete_answer_204() {
    let wire = Wire::new((0..5).map(|_| boxed(status_code(204))).collect());
    let c = client(&wire);
    c.delete_image(ID).unwrap();
    c.deactivate_image(ID).unwrap();
    c.reactivate_image(ID).unwrap();
    c.add_tag(ID, "blue sky").unwrap();
    c.remove_tag(ID, "blue sky").unwrap();
    assert_eq!(
        wire.seen(),
        [
            expect("DELETE", &format!("/v2/images/{ID}"), &call(&[])),
            expect(
                "POST",
                &format!("/v2/images/{ID}/actions/deactivate"),
                &empty_body(&[])
            ),
            expect(
                "POST",
                &format!("/v2/images/{ID}/actions/reactivate"),
                &empty_body(&[])
            ),
            expect(
                "PUT",
                &format!("/v2/images/{ID}/tags/blue%20sky"),
                &empty_body(&[])
            ),
            expect(
                "DELETE",
                &format!("/v2/images/{ID}/tags/blue%20sky"),
                &call(&[])
            ),
        ]
    );
}

#[test]
fn upload_with_size_sends_content_length_and_never_expect() {
    let wire = Wire::new(vec![boxed(status_code(204))]);
    let mut data = &b"hello glanc"[..];
    client(&wire)
        .upload(ID, ImageData::reader(&mut data, Some(11)))
        .unwrap();
    assert_eq!(
        wire.seen(),
        [sends_data(
            &format!("/v2/images/{ID}/file"),
            ("content-length", "11"),
            b"hello glanc"
        )]
    );
}

#[test]
fn upload_without_size_goes_chunked() {
    let wire = Wire::new(vec![boxed(status_code(204))]);
    let mut data = &b"streamed bytes"[..];
    client(&wire)
        .upload(ID, ImageData::reader(&mut data, None))
        .unwrap();
    assert_eq!(
        wire.seen(),
        [sends_data(
            &format!("/v2/images/{ID}/file"),
            ("transfer-encoding", "chunked"),
            b"streamed bytes"
        )]
    );
}

#[test]
fn a_file_and_a_seekable_reader_send_the_size_and_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("img.raw");
    std::fs::write(&path, vec![7u8; 4096]).unwrap();
    let wire = Wire::new(vec![boxed(status_code(204)), boxed(status_code(204))]);
    let c = client(&wire);
    c.upload(ID, ImageData::file(&path)).unwrap();
    let mut source = std::io::Cursor::new(b"skip:data".to_vec());
    source.set_position(5);
    c.upload(ID, ImageData::seekable(&mut source, Some(4)))
        .unwrap();
    assert_eq!(
        wire.seen(),
        [
            sends_data(
                &format!("/v2/images/{ID}/file"),
                ("content-length", "4096"),
                &[7u8; 4096]
            ),
            sends_data(
                &format!("/v2/images/{ID}/file"),
                ("content-length", "4"),
                b"data"
            ),
        ]
    );
}

#[test]
fn open_download_streams_with_the_announced_md5() {
    let wire = Wire::new(vec![boxed(
        status_code(200)
            .insert_header("content-md5", "5d41402abc4b2a76b9719d911017c592")
            .body("hello"),
    )]);
    let mut stream = client(&wire).open_download(ID).unwrap();
    assert_eq!(stream.content_length(), Some(5));
    assert_eq!(
        stream.content_md5(),
        Some("5d41402abc4b2a76b9719d911017c592")
    );
    let mut body = String::new();
    stream.read_to_string(&mut body).unwrap();
    assert_eq!(body, "hello");
    assert_eq!(
        wire.seen(),
        [expect(
            "GET",
            &format!("/v2/images/{ID}/file"),
            &[
                ("accept", "application/octet-stream, application/json"),
                ("user-agent", USER_AGENT),
                ("x-auth-token", TOKEN),
            ]
        )]
    );
}

#[test]
fn download_shows_the_image_then_gets_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("img.raw");
    let wire = Wire::new(vec![
        boxed(json(
            200,
            json!({"id": ID, "status": "active", "size": 5,
                "checksum": "5d41402abc4b2a76b9719d911017c592"}),
        )),
        boxed(
            status_code(200)
                .insert_header("content-md5", "5d41402abc4b2a76b9719d911017c592")
                .body("hello"),
        ),
    ]);
    let report = client(&wire)
        .download(ID, &dest, DownloadOptions::default())
        .unwrap();
    assert_eq!(report.bytes, 5);
    assert_eq!(std::fs::read(&dest).unwrap(), b"hello");
    assert_eq!(
        wire.seen(),
        [
            get(&format!("/v2/images/{ID}")),
            expect(
                "GET",
                &format!("/v2/images/{ID}/file"),
                &[
                    ("accept", "application/octet-stream, application/json"),
                    ("user-agent", USER_AGENT),
                    ("x-auth-token", TOKEN),
                ]
            ),
        ]
    );
}

#[test]
fn a_download_of_an_image_without_data_is_no_data() {
    let wire = Wire::new(vec![boxed(status_code(204))]);
    let err = client(&wire).open_download(ID).unwrap_err();
    assert!(
        matches!(err, Error::NoData { ref image_id } if image_id == ID),
        "{err:?}"
    );
    assert_eq!(wire.seen().len(), 1);
}

#[test]
fn members_round_trip() {
    let member = json!({"member_id": "p2", "image_id": ID, "status": "pending",
        "created_at": "2026-11-25T10:25:03Z", "updated_at": "2026-11-25T10:25:03Z",
        "schema": "/v2/schemas/member"});
    let mut accepted = member.clone();
    accepted["status"] = json!("accepted");
    let wire = Wire::new(vec![
        boxed(json(200, member.clone())),
        boxed(json(
            200,
            json!({"members": [member.clone()], "schema": "/v2/schemas/members"}),
        )),
        boxed(json(200, accepted)),
        boxed(status_code(204)),
    ]);
    let c = client(&wire);
    assert_eq!(c.add_member(ID, "p2").unwrap().status, "pending");
    assert_eq!(c.members(ID).unwrap().len(), 1);
    assert_eq!(
        c.update_member(ID, "p2", "accepted").unwrap().status,
        "accepted"
    );
    c.remove_member(ID, "p2").unwrap();
    let members = format!("/v2/images/{ID}/members");
    assert_eq!(
        wire.seen(),
        [
            sends_json(
                "POST",
                &members,
                "application/json",
                json!({"member": "p2"})
            ),
            get(&members),
            sends_json(
                "PUT",
                &format!("{members}/p2"),
                "application/json",
                json!({"status": "accepted"})
            ),
            expect("DELETE", &format!("{members}/p2"), &call(&[])),
        ]
    );
}

#[test]
fn stage_import_and_discovery() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("img.raw");
    std::fs::write(&path, b"from a file").unwrap();
    let wire = Wire::new(vec![
        boxed(status_code(204)),
        boxed(status_code(204)),
        boxed(status_code(202)),
        boxed(json(
            200,
            json!({"import-methods": {"description": "Import methods available.",
                "type": "array", "value": ["glance-direct", "copy-image"]}}),
        )),
        boxed(json(
            200,
            json!({"stores": [{"id": "fs", "default": "true"}]}),
        )),
        boxed(json(
            200,
            json!({"versions": [{"id": "v2.18", "status": "CURRENT",
                "links": [{"rel": "self", "href": "http://127.0.0.1:19292/v2/"}]}]}),
        )),
    ]);
    let c = client(&wire);
    let mut data = &b"staged"[..];
    c.stage(ID, ImageData::reader(&mut data, Some(6))).unwrap();
    c.stage(ID, ImageData::file(&path)).unwrap();
    c.import_image(ID, &Import::new(ImportMethod::GlanceDirect))
        .unwrap();
    assert_eq!(c.import_methods().unwrap(), ["glance-direct", "copy-image"]);
    let stores = c.stores().unwrap();
    assert!(stores[0].default);
    assert_eq!(c.versions().unwrap()[0].id, "v2.18");
    assert_eq!(
        wire.seen(),
        [
            sends_data(
                &format!("/v2/images/{ID}/stage"),
                ("content-length", "6"),
                b"staged"
            ),
            sends_data(
                &format!("/v2/images/{ID}/stage"),
                ("content-length", "11"),
                b"from a file"
            ),
            sends_json(
                "POST",
                &format!("/v2/images/{ID}/import"),
                "application/json",
                json!({"method": {"name": "glance-direct"}})
            ),
            get("/v2/info/import"),
            get("/v2/info/stores"),
            get("/versions"),
        ]
    );
}

#[test]
fn copy_image_and_web_download_imports_send_the_api_reference_bodies() {
    let wire = Wire::new((0..3).map(|_| boxed(status_code(202))).collect());
    let c = client(&wire);
    // Glance API reference, "Import an image", copy-image request example.
    let copy = Import {
        stores: vec!["fast".into(), "cheap".into()],
        all_stores_must_succeed: Some(false),
        ..Import::new(ImportMethod::CopyImage)
    };
    c.import_image(ID, &copy).unwrap();
    let everywhere = Import {
        all_stores: Some(true),
        all_stores_must_succeed: Some(true),
        ..Import::new(ImportMethod::CopyImage)
    };
    c.import_image(ID, &everywhere).unwrap();
    let web = Import::new(ImportMethod::WebDownload {
        uri: "https://example.com/cirros.img".into(),
    });
    c.import_image(ID, &web).unwrap();
    let import = format!("/v2/images/{ID}/import");
    let with_body = |body: &str| {
        let length = body.len().to_string();
        let mut headers: Vec<(&str, &str)> = call(&[("content-type", "application/json")]);
        headers.push(("content-length", &length));
        expect("POST", &import, &headers).with_body(body.as_bytes())
    };
    assert_eq!(
        wire.seen(),
        [
            with_body(
                r#"{"all_stores_must_succeed":false,"method":{"name":"copy-image"},"stores":["fast","cheap"]}"#
            ),
            with_body(
                r#"{"all_stores":true,"all_stores_must_succeed":true,"method":{"name":"copy-image"}}"#
            ),
            with_body(
                r#"{"method":{"name":"web-download","uri":"https://example.com/cirros.img"}}"#
            ),
        ]
    );
}

#[test]
fn every_error_status_maps_to_its_meaning() {
    let statuses = [400, 401, 403, 404, 409, 413, 415, 429, 500, 503, 418];
    let wire = Wire::new(
        statuses
            .iter()
            .map(|status| {
                boxed(
                    status_code(*status)
                        .insert_header("x-openstack-request-id", format!("req-{status}"))
                        .body(format!(
                            r#"{{"message": "failed with {status}<br /><br />\n", "code": "{status} X", "title": "X"}}"#
                        )),
                )
            })
            .collect(),
    );
    let c = client(&wire);
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
    let expected: Vec<Seen> = statuses
        .iter()
        .map(|s| get(&format!("/v2/images/s{s}")))
        .collect();
    assert_eq!(wire.seen(), expected);
}

#[test]
fn malformed_and_oversized_bodies_are_errors() {
    let wire = Wire::new(vec![
        boxed(status_code(200).body("{\"id\": ")),
        boxed(status_code(200).body(vec![b' '; 33 * 1024 * 1024])),
    ]);
    let c = client(&wire);
    assert!(matches!(c.image("bad"), Err(Error::InvalidResponse(_))));
    let err = c.image("huge").unwrap_err();
    assert!(
        matches!(err, Error::InvalidResponse(ref m) if m.contains("larger")),
        "{err:?}"
    );
    assert_eq!(wire.seen(), [get("/v2/images/bad"), get("/v2/images/huge")]);
}

#[test]
fn an_error_keeps_its_status_meaning_whatever_its_body() {
    let wire = Wire::new(vec![
        boxed(status_code(404).body(vec![b'x'; 33 * 1024 * 1024])),
        boxed(status_code(409).body("{\"message\": \"unterminated")),
    ]);
    let c = client(&wire);
    let err = c.image("huge").unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    let err = c.image("garbled").unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    assert_eq!(
        wire.seen(),
        [get("/v2/images/huge"), get("/v2/images/garbled")]
    );
}

#[test]
fn an_error_whose_body_breaks_off_keeps_its_status_meaning() {
    let server = common::RawServer::answering(
        "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n",
        br#"{"message": "no such"#,
    );
    let client = Client::new(Config {
        auth: Auth::Token(TOKEN.into()),
        num_retries: 2,
        retry_delay: std::time::Duration::ZERO,
        ..Config::for_server(&server.url)
    })
    .unwrap();
    let err = client.image(ID).unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    assert_eq!(server.accepted(), 1, "a 404 is not retried");
}
