//! The exact v2 wire of the calls added for glanceclient parity (issue 19):
//! tasks, usage, the server's cache, locations, store details and
//! deletion, uploads into a store, `?prefer=` downloads, glance-download
//! imports, and the versions check that refuses a call the server does
//! not offer before any request of its own.

mod common;

use common::wire::*;
use glance_client::v2::cache::ClearTarget;
use glance_client::v2::import::{Import, ImportMethod};
use glance_client::v2::locations::ValidationData;
use glance_client::v2::tasks::TaskQuery;
use glance_client::{ApiVersion, Client, DownloadOptions, Error, ImageData};
use httptest::responders::{Responder, status_code};
use serde_json::{Value, json};

const ID: &str = "e54e8577-3aa8-44c2-afc1-6205679c7fba";

fn client(wire: &Wire) -> Client {
    wire.client_for(ApiVersion::V2)
}

fn boxed(r: impl Responder + 'static) -> Box<dyn Responder> {
    Box::new(r)
}

fn get(target: &str) -> Seen {
    expect("GET", target, &call(&[]))
}

fn sends_json(method: &str, target: &str, content_type: &str, body: Value) -> Seen {
    let text = body.to_string();
    let length = text.len().to_string();
    let mut headers: Vec<(&str, &str)> = call(&[]);
    headers.push(("content-type", content_type));
    headers.push(("content-length", &length));
    expect(method, target, &headers).with_body(text.as_bytes())
}

fn patch(body: Value) -> Seen {
    sends_json(
        "PATCH",
        &format!("/v2/images/{ID}"),
        "application/openstack-images-v2.1-json-patch",
        body,
    )
}

/// A versions document listing exactly these `v2.N`.
fn versions(minors: &[u32]) -> Box<dyn Responder> {
    let versions: Vec<Value> = minors
        .iter()
        .map(|m| json!({"id": format!("v2.{m}"), "status": "SUPPORTED", "links": []}))
        .collect();
    boxed(json(200, json!({ "versions": versions })))
}

/// Glance 33 with its cache on lists these.
const ALL: [u32; 19] = [
    18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0,
];

const TASK: &str = r#"{"id": "t1", "type": "api_image_import", "status": "success", "owner": "p", "input": {"image_id": "i"}, "result": {"image_id": "i"}, "message": "", "expires_at": null, "created_at": "2026-12-07T07:22:14Z", "updated_at": "2026-12-07T07:22:15Z", "image_id": "i", "request_id": "req-1", "user_id": "u"}"#;

#[test]
fn tasks_list_every_page_show_one_and_an_images_tasks_after_the_versions() {
    let task: Value = serde_json::from_str(TASK).unwrap();
    let wire = Wire::new(vec![
        boxed(json(
            200,
            json!({"tasks": [task], "first": "/v2/tasks", "next": "/v2/tasks?marker=t1&limit=1"}),
        )),
        boxed(json(200, json!({"tasks": [task]}))),
        boxed(json(200, task.clone())),
        versions(&ALL),
        boxed(json(200, json!({"tasks": [task]}))),
        boxed(json(200, json!({"tasks": []}))),
    ]);
    let c = client(&wire);
    let query = TaskQuery {
        status: Some("success".into()),
        sort_key: Some("status".into()),
        sort_dir: Some("desc".into()),
        page_size: Some(1),
        ..TaskQuery::default()
    };
    assert_eq!(c.tasks(&query).unwrap().len(), 2);
    assert_eq!(c.task("t1").unwrap().task_type, "api_image_import");
    let tasks = c.image_tasks(ID).unwrap();
    assert_eq!(tasks[0].request_id.as_deref(), Some("req-1"));
    // The versions document is read once per client.
    assert!(c.image_tasks(ID).unwrap().is_empty());
    assert_eq!(
        wire.seen(),
        [
            get("/v2/tasks?limit=1&status=success&sort_key=status&sort_dir=desc"),
            get("/v2/tasks?marker=t1&limit=1"),
            get("/v2/tasks/t1"),
            get("/versions"),
            get(&format!("/v2/images/{ID}/tasks")),
            get(&format!("/v2/images/{ID}/tasks")),
        ]
    );
}

#[test]
fn usage_keeps_the_servers_order() {
    let body = r#"{"usage": {"image_size_total": {"limit": 1024, "usage": 10}, "image_count_total": {"limit": 100, "usage": 3}}}"#;
    let wire = Wire::new(vec![
        versions(&ALL),
        boxed(
            status_code(200)
                .insert_header("content-type", "application/json")
                .body(body),
        ),
    ]);
    let quotas = client(&wire).usage().unwrap();
    assert_eq!(quotas[0].name, "image_size_total");
    assert_eq!((quotas[1].limit, quotas[1].usage), (100, 3));
    assert_eq!(wire.seen(), [get("/versions"), get("/v2/info/usage")]);
}

#[test]
fn the_server_cache_calls() {
    let wire = Wire::new(vec![
        versions(&ALL),
        boxed(json(
            200,
            json!({"cached_images": [{"id": 1, "image_id": ID, "last_accessed": 0,
                "last_modified": 1796628249.5, "size": 1000, "hits": 2, "checksum": null}],
                "queued_images": ["q1"]}),
        )),
        boxed(status_code(202)),
        boxed(status_code(204)),
        boxed(status_code(204)),
        boxed(status_code(204)),
        boxed(status_code(204)),
    ]);
    let c = client(&wire);
    let state = c.server_cache().unwrap();
    assert_eq!(state.cached[0].hits, 2);
    assert_eq!(state.queued, ["q1"]);
    c.queue_in_server_cache(ID).unwrap();
    c.delete_from_server_cache(ID).unwrap();
    c.clear_server_cache(ClearTarget::Both).unwrap();
    c.clear_server_cache(ClearTarget::Cache).unwrap();
    c.clear_server_cache(ClearTarget::Queue).unwrap();
    assert_eq!(
        wire.seen(),
        [
            get("/versions"),
            get("/v2/cache"),
            expect("PUT", &format!("/v2/cache/{ID}"), &empty_body(&[])),
            expect("DELETE", &format!("/v2/cache/{ID}"), &call(&[])),
            expect("DELETE", "/v2/cache", &call(&[])),
            expect(
                "DELETE",
                "/v2/cache",
                &call(&[("x-image-cache-clear-target", "cache")])
            ),
            expect(
                "DELETE",
                "/v2/cache",
                &call(&[("x-image-cache-clear-target", "queue")])
            ),
        ]
    );
}

/// Glance without its cache lists v2.15 and v2.17 but not v2.14: the
/// cache calls are refused after the versions document, with no request
/// of their own; the same client asks nothing again for the next one.
#[test]
fn a_call_the_server_does_not_offer_is_refused_before_any_request_of_its_own() {
    let wire = Wire::new(vec![versions(&[17, 15, 9, 7, 1, 0])]);
    let c = client(&wire);
    for result in [
        c.server_cache().map(|_| ()),
        c.queue_in_server_cache(ID),
        c.clear_server_cache(ClearTarget::Both),
    ] {
        let Err(Error::Unsupported { operation, .. }) = &result else {
            panic!("expected Unsupported, got {result:?}");
        };
        assert!(operation.contains("v2.14"), "{operation}");
    }
    assert_eq!(wire.seen(), [get("/versions")]);

    let old = Wire::new(vec![versions(&[9, 1, 0])]);
    let c = client(&old);
    let refused = c.image_tasks(ID);
    assert!(
        matches!(&refused, Err(Error::Unsupported { operation, .. }) if operation.contains("v2.12")),
        "{refused:?}"
    );
    let refused = c.add_image_location(ID, "file:///a", &ValidationData::default());
    assert!(
        matches!(refused, Err(Error::Unsupported { .. })),
        "{refused:?}"
    );
    assert_eq!(old.seen(), [get("/versions")]);
}

#[test]
fn the_locations_api_of_217() {
    let wire = Wire::new(vec![
        versions(&ALL),
        boxed(status_code(202)),
        boxed(json(
            200,
            json!([{"url": "file:///d/a", "metadata": {"store": "fs"}}]),
        )),
    ]);
    let c = client(&wire);
    c.add_image_location(ID, "file:///d/a", &ValidationData::hash("sha512", "ab12"))
        .unwrap();
    let locations = c.image_locations(ID).unwrap();
    assert_eq!(locations[0].metadata_str("store"), Some("fs"));
    assert_eq!(
        wire.seen(),
        [
            get("/versions"),
            sends_json(
                "POST",
                &format!("/v2/images/{ID}/locations"),
                "application/json",
                json!({"url": "file:///d/a",
                    "validation_data": {"os_hash_algo": "sha512", "os_hash_value": "ab12"}})
            ),
            get(&format!("/v2/images/{ID}/locations")),
        ]
    );
}

#[test]
fn location_edits_by_json_patch() {
    let image = |urls: &[&str]| {
        let locations: Vec<Value> = urls
            .iter()
            .map(|u| json!({"url": u, "metadata": {"k": "v"}}))
            .collect();
        boxed(json(
            200,
            json!({"id": ID, "status": "active", "locations": locations}),
        ))
    };
    let wire = Wire::new(vec![
        image(&["file:///a", "file:///b"]),
        image(&["file:///a", "file:///b"]),
        image(&["file:///a"]),
        image(&["file:///a", "file:///b", "file:///c"]),
        image(&["file:///b"]),
        image(&["file:///b"]),
    ]);
    let c = client(&wire);
    let meta = json!({"store": "fs"}).as_object().unwrap().clone();
    let validation = ValidationData {
        checksum: Some("md5".into()),
        ..ValidationData::default()
    };
    c.add_location(ID, "file:///b", &meta, &validation).unwrap();
    let new_meta = json!({"k": "w"}).as_object().unwrap().clone();
    c.update_location(ID, "file:///b", &new_meta).unwrap();
    let remove = vec!["file:///c".to_string(), "file:///a".to_string()];
    c.remove_locations(ID, &remove).unwrap();
    // An unknown URL: refused after reading the image, nothing patched.
    let unknown = c.remove_locations(ID, &["file:///zzz".to_string()]);
    assert!(
        matches!(unknown, Err(Error::InvalidInput(_))),
        "{unknown:?}"
    );
    let show = get(&format!("/v2/images/{ID}"));
    assert_eq!(
        wire.seen(),
        [
            patch(json!([{"op": "add", "path": "/locations/-", "value":
                {"metadata": {"store": "fs"}, "url": "file:///b",
                 "validation_data": {"checksum": "md5"}}}])),
            show.clone(),
            patch(json!([{"op": "replace", "path": "/locations", "value": [
                {"metadata": {"k": "v"}, "url": "file:///a"},
                {"metadata": {"k": "w"}, "url": "file:///b"}]}])),
            show.clone(),
            patch(json!([{"op": "remove", "path": "/locations/2"},
                {"op": "remove", "path": "/locations/0"}])),
            show,
        ]
    );
}

#[test]
fn store_details_deleting_from_a_store_and_uploading_into_one() {
    let detail = r#"{"stores": [{"id": "fs", "default": "true", "type": "file", "properties": {"data_dir": "/d/", "chunk_size": 65536, "thin_provisioning": false}, "weight": 0}]}"#;
    let wire = Wire::new(vec![
        boxed(
            status_code(200)
                .insert_header("content-type", "application/json")
                .body(detail),
        ),
        versions(&ALL),
        boxed(status_code(204)),
        boxed(status_code(204)),
    ]);
    let c = client(&wire);
    let stores = c.stores_detail().unwrap();
    assert_eq!(stores[0].store_type.as_deref(), Some("file"));
    assert_eq!(stores[0].properties["data_dir"], "/d/");
    c.delete_from_store("fs2", ID).unwrap();
    let mut data = &b"data"[..];
    c.upload_to_store(ID, "fs2", ImageData::reader(&mut data, Some(4)))
        .unwrap();
    let mut upload = call(&[("content-type", "application/octet-stream")]);
    upload.push(("content-length", "4"));
    upload.push(("x-image-meta-store", "fs2"));
    assert_eq!(
        wire.seen(),
        [
            get("/v2/info/stores/detail"),
            get("/versions"),
            expect("DELETE", &format!("/v2/stores/fs2/{ID}"), &call(&[])),
            expect("PUT", &format!("/v2/images/{ID}/file"), &upload).with_body(b"data"),
        ]
    );
}

#[test]
fn a_download_preferring_stores_asks_each_request_with_prefer() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("img.raw");
    let wire = Wire::new(vec![
        boxed(json(
            200,
            json!({"id": ID, "status": "active", "size": 5,
                "checksum": "5d41402abc4b2a76b9719d911017c592"}),
        )),
        boxed(status_code(200).body("hello")),
    ]);
    let options = DownloadOptions {
        prefer: vec!["fs2".into(), "fs".into()],
        ..DownloadOptions::default()
    };
    client(&wire).download(ID, &dest, options).unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), b"hello");
    assert_eq!(
        wire.seen(),
        [
            get(&format!("/v2/images/{ID}")),
            expect(
                "GET",
                &format!("/v2/images/{ID}/file?prefer=fs2%2Cfs"),
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
fn a_glance_download_import_names_the_remote_region_and_image() {
    let wire = Wire::new(vec![boxed(status_code(202))]);
    let import = Import::new(ImportMethod::GlanceDownload {
        image_id: "remote-1".into(),
        region: "RegionTwo".into(),
        service_interface: Some("public".into()),
    });
    client(&wire).import_image(ID, &import).unwrap();
    assert_eq!(
        wire.seen(),
        [sends_json(
            "POST",
            &format!("/v2/images/{ID}/import"),
            "application/json",
            json!({"method": {"glance_image_id": "remote-1", "glance_region": "RegionTwo",
                "glance_service_interface": "public", "name": "glance-download"}})
        )]
    );
}

#[test]
fn v1_refuses_the_v2_only_calls_before_any_request() {
    let wire = Wire::new(vec![]);
    let c = wire.client_for(ApiVersion::V1);
    assert!(matches!(c.usage(), Err(Error::Unsupported { .. })));
    assert!(matches!(c.server_cache(), Err(Error::Unsupported { .. })));
    assert!(matches!(
        c.tasks(&TaskQuery::default()),
        Err(Error::Unsupported { .. })
    ));
    assert!(matches!(c.member(ID, "p"), Err(Error::Unsupported { .. })));
    assert!(wire.seen().is_empty());
}
