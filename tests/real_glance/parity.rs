//! The calls added for glanceclient parity (issue 19) against the real
//! Glance: two file stores and a read-only http one, the server's cache,
//! tasks, usage and locations (tests/lab/start-glance.sh).

use std::io::Read;

use glance_client::v2::cache::ClearTarget;
use glance_client::v2::import::{Import, ImportMethod};
use glance_client::v2::locations::ValidationData;
use glance_client::v2::tasks::TaskQuery;
use glance_client::{Client, DownloadOptions, Error, ImageData, ImageUpdate};
use httptest::matchers::request;
use httptest::responders::status_code;
use httptest::{Expectation, ServerBuilder};
use serde_json::{Map, json};

use super::{Scratch, assert_stored, sample, sha512_hex, support, unique};

/// An active image of `data` in store `store`.
fn uploaded_to(client: &Client, name: &str, store: &str, data: &[u8]) -> Scratch {
    let scratch = Scratch::new(client, &unique(name), &[]);
    client
        .upload_to_store(scratch.id(), store, ImageData::reader(&mut &data[..], None))
        .expect("upload into a store");
    scratch
}

/// Polls until `done` says the image is as wanted (at most 20 s).
fn until(
    client: &Client,
    id: &str,
    done: impl Fn(&glance_client::Image) -> bool,
) -> glance_client::Image {
    for _ in 0..200 {
        let image = client.image(id).expect("show");
        if done(&image) {
            return image;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("image {id} never got there: {:?}", client.image(id));
}

/// A server on 127.0.0.1 (the only host the lab's http store and
/// web-download may reach) serving `data` at `/img`, HEAD and GET.
fn serving(data: Vec<u8>) -> httptest::Server {
    let server = ServerBuilder::new()
        .bind_addr(([127, 0, 0, 1], 0).into())
        .run()
        .expect("a server on 127.0.0.1");
    let len = data.len().to_string();
    server.expect(
        Expectation::matching(request::method_path("HEAD", "/img"))
            .times(0..)
            .respond_with(status_code(200).insert_header("content-length", len.as_str())),
    );
    server.expect(
        Expectation::matching(request::method_path("GET", "/img"))
            .times(0..)
            .respond_with(status_code(200).body(data)),
    );
    server
}

#[test]
fn the_stores_in_detail_with_their_type_weight_and_settings() {
    let Some(lab) = support::lab() else { return };
    let stores = lab
        .client()
        .stores_detail()
        .expect("/v2/info/stores/detail");
    let ids: Vec<&str> = stores.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["fs", "fs2", "web"]);
    assert!(stores[0].default && !stores[1].default);
    assert_eq!(stores[1].store_type.as_deref(), Some("file"));
    assert_eq!(stores[1].weight, Some(50));
    assert!(stores[1].properties.contains_key("data_dir"), "{stores:?}");
    assert!(stores[2].read_only);
    assert_eq!(stores[2].store_type.as_deref(), Some("http"));
}

#[test]
fn an_upload_into_a_store_a_copy_a_preferred_download_and_a_delete_from_one_store() {
    let Some(lab) = support::lab() else { return };
    let client = lab.client();
    let data = sample(200_003, 11);
    let scratch = uploaded_to(&client, "store-upload", "fs2", &data);
    let image = client.image(scratch.id()).expect("show");
    assert_stored(&image, &data);
    assert_eq!(image.stores, ["fs2"]);

    let copy = Import {
        stores: vec!["fs".into()],
        all_stores_must_succeed: Some(false),
        ..Import::new(ImportMethod::CopyImage)
    };
    client
        .import_image(scratch.id(), &copy)
        .expect("copy-image");
    until(&client, scratch.id(), |i| i.stores.len() == 2);

    let dir = tempfile::tempdir().expect("a temp dir");
    let dest = dir.path().join("img");
    let options = DownloadOptions {
        prefer: vec!["fs2".into()],
        allow_local: false,
        ..DownloadOptions::default()
    };
    let report = client
        .download(scratch.id(), &dest, options)
        .expect("a download preferring fs2");
    assert_eq!(report.bytes, data.len() as u64);
    assert!(std::fs::read(&dest).expect("the file") == data);
    // A store Glance does not have: its 400, not a silent fallback.
    let options = DownloadOptions {
        prefer: vec!["nowhere".into()],
        allow_local: false,
        ..DownloadOptions::default()
    };
    let refused = client.download(scratch.id(), &dest, options);
    assert!(matches!(refused, Err(Error::BadRequest(_))), "{refused:?}");

    client
        .delete_from_store("fs2", scratch.id())
        .expect("delete from fs2");
    assert_eq!(client.image(scratch.id()).expect("show").stores, ["fs"]);
}

#[test]
fn an_imports_task_is_listed_for_the_image_and_shown() {
    let Some(lab) = support::lab() else { return };
    let client = lab.client();
    let scratch = Scratch::new(&client, &unique("tasks"), &[]);
    let data = sample(1000, 12);
    client
        .stage(scratch.id(), ImageData::reader(&mut &data[..], None))
        .expect("stage");
    client
        .import_image(scratch.id(), &Import::new(ImportMethod::GlanceDirect))
        .expect("import");
    until(&client, scratch.id(), |i| i.status == "active");
    let tasks = client.image_tasks(scratch.id()).expect("the image's tasks");
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(tasks[0].image_id.as_deref(), Some(scratch.id()));
    assert_eq!(tasks[0].task_type, "api_image_import");
    // The image turns active a moment before its task says success.
    let mut task = client.task(&tasks[0].id).expect("task-show");
    for _ in 0..100 {
        if task.status != "processing" && task.status != "pending" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        task = client.task(&tasks[0].id).expect("task-show");
    }
    assert_eq!(task.status, "success", "{task:?}");
    // (Glance's type filter knows only the old task types: `import`.)
    let query = TaskQuery {
        status: Some("success".into()),
        page_size: Some(1),
        ..TaskQuery::default()
    };
    let listed = client.tasks(&query).expect("task-list");
    assert!(listed.iter().any(|t| t.id == task.id), "{listed:?}");
}

#[test]
fn usage_answers_without_quotas_in_the_lab() {
    let Some(lab) = support::lab() else { return };
    // The lab enforces no Keystone limits: an empty usage, but an answer.
    let quotas = lab.client().usage().expect("/v2/info/usage");
    assert!(quotas.iter().all(|q| !q.name.is_empty()), "{quotas:?}");
}

#[test]
fn the_server_cache_queues_caches_deletes_and_clears() {
    let Some(lab) = support::lab() else { return };
    let client = lab.client();
    let data = sample(10_000, 13);
    let scratch = uploaded_to(&client, "server-cache", "fs", &data);
    client
        .queue_in_server_cache(scratch.id())
        .expect("queue for the cache");
    let mut held = false;
    for _ in 0..100 {
        let state = client.server_cache().expect("/v2/cache");
        held = state.queued.iter().any(|q| q == scratch.id())
            || state
                .cached
                .iter()
                .any(|c| c.image_id == scratch.id() && c.size == 10_000);
        if state.cached.iter().any(|c| c.image_id == scratch.id()) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(held, "the image is queued or cached");
    client
        .delete_from_server_cache(scratch.id())
        .expect("delete from the cache");
    let state = client.server_cache().expect("/v2/cache");
    assert!(
        !state.cached.iter().any(|c| c.image_id == scratch.id()),
        "{state:?}"
    );
    client
        .clear_server_cache(ClearTarget::Queue)
        .expect("clear the queue");
    client
        .clear_server_cache(ClearTarget::Both)
        .expect("clear both");
}

#[test]
fn locations_added_updated_and_removed_by_patch() {
    let Some(lab) = support::lab() else { return };
    let client = lab.client();
    let data = sample(5000, 14);
    let source = serving(data.clone());
    let url = source.url_str("/img");
    let scratch = uploaded_to(&client, "locations", "fs", &data);
    let mut metadata = Map::new();
    metadata.insert("store".into(), json!("web"));
    let image = client
        .add_location(scratch.id(), &url, &metadata, &ValidationData::default())
        .expect("add an http location");
    assert!(image.locations.iter().any(|l| l.url == url), "{image:?}");
    metadata.insert("k".into(), json!("v"));
    let image = client
        .update_location(scratch.id(), &url, &metadata)
        .expect("update its metadata");
    let location = image
        .locations
        .iter()
        .find(|l| l.url == url)
        .expect("there");
    assert_eq!(location.metadata_str("k"), Some("v"));
    let image = client
        .remove_locations(scratch.id(), std::slice::from_ref(&url))
        .expect("remove it");
    assert!(!image.locations.iter().any(|l| l.url == url), "{image:?}");
    assert_eq!(image.stores, ["fs"]);
}

#[test]
fn the_217_locations_api_gives_a_queued_image_its_data() {
    let Some(lab) = support::lab() else { return };
    let client = lab.client();
    let data = sample(7000, 15);
    let source = serving(data.clone());
    let url = source.url_str("/img");
    let scratch = Scratch::new(&client, &unique("add-location"), &[]);
    client
        .add_image_location(
            scratch.id(),
            &url,
            &ValidationData::hash("sha512", sha512_hex(&data)),
        )
        .expect("POST /v2/images/{id}/locations");
    let image = until(&client, scratch.id(), |i| i.status == "active");
    assert_eq!(
        image.os_hash_value.as_deref(),
        Some(sha512_hex(&data).as_str())
    );
    let locations = client.image_locations(scratch.id()).expect("GET locations");
    assert!(locations.iter().any(|l| l.url == url), "{locations:?}");
    let mut body = Vec::new();
    client
        .open_download(scratch.id())
        .expect("open")
        .read_to_end(&mut body)
        .expect("read");
    assert!(body == data, "the data at the location");
}

#[test]
fn removing_a_missing_property_is_no_change_against_the_image() {
    let Some(lab) = support::lab() else { return };
    let client = lab.client();
    let scratch = Scratch::new(&client, &unique("against"), &[("keep", "1")]);
    let image = client.image(scratch.id()).expect("show");
    let update = ImageUpdate {
        set_properties: [("foo".to_string(), "bar".to_string())].into(),
        remove_properties: vec!["missing".into()],
        ..ImageUpdate::default()
    };
    // Sent as is, Glance refuses the removal of a property it lacks (409).
    let refused = client.update_image(scratch.id(), &update);
    assert!(matches!(refused, Err(Error::Conflict(_))), "{refused:?}");
    let updated = client
        .update_image(scratch.id(), &update.against(&image))
        .expect("only the change");
    assert_eq!(updated.properties["foo"], "bar");
    assert_eq!(updated.properties["keep"], "1");
}
