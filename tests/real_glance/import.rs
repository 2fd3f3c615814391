//! Interoperable import against the real Glance: stage + glance-direct, and
//! web-download from a server this test runs.

use std::io::Read;

use glance_client::v2::import::{Import, ImportMethod};
use glance_client::{Client, Error, Image, ImageData};

use super::{Scratch, assert_stored, sample, support, unique};

/// Polls the image until the import has finished: `active`, `killed`, or a
/// store listed in `os_glance_failed_import`. At most 300 polls 100 ms
/// apart (the lab imports in well under a second). A web-download image is
/// still `queued` until the server's task starts, so `queued` is not an end.
fn settled(client: &Client, id: &str) -> Image {
    let mut last = None;
    for _ in 0..300 {
        let image = client.image(id).expect("show while importing");
        let failed = image
            .properties
            .get("os_glance_failed_import")
            .is_some_and(|stores| !stores.is_empty());
        if failed || matches!(image.status.as_str(), "active" | "killed") {
            return image;
        }
        last = Some(image);
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("the import did not finish: {last:?}");
}

fn downloaded(client: &Client, id: &str) -> Vec<u8> {
    let mut data = Vec::new();
    client
        .open_download(id)
        .expect("open the data")
        .read_to_end(&mut data)
        .expect("read the data");
    data
}

#[test]
fn the_lab_offers_its_three_import_methods_and_three_stores() {
    let Some(lab) = support::lab() else { return };
    let client = lab.client();
    let mut methods = client.import_methods().expect("/v2/info/import");
    methods.sort();
    assert_eq!(methods, ["copy-image", "glance-direct", "web-download"]);
    let stores = client.stores().expect("/v2/info/stores");
    let ids: Vec<&str> = stores.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["fs", "fs2", "web"], "{stores:?}");
    assert!(stores[0].default && stores[2].read_only);
}

#[test]
fn staged_data_imported_with_glance_direct_becomes_the_image() {
    let Some(lab) = support::lab() else { return };
    let client = lab.client();
    let scratch = Scratch::new(&client, &unique("stage"), &[]);
    let data = sample(2 * 1024 * 1024 + 3, 6);
    let file = tempfile::NamedTempFile::new().expect("a temp file");
    std::fs::write(file.path(), &data).expect("write the sample");

    client
        .stage(scratch.id(), ImageData::file(file.path()))
        .expect("stage");
    let staged = client.image(scratch.id()).expect("show");
    assert_eq!(staged.status, "uploading", "staged, not yet imported");

    client
        .import_image(scratch.id(), &Import::new(ImportMethod::GlanceDirect))
        .expect("import");
    let image = settled(&client, scratch.id());
    assert_stored(&image, &data);
    assert_eq!(image.stores, ["fs"]);
    assert!(
        downloaded(&client, scratch.id()) == data,
        "imported bytes differ"
    );
}

#[test]
fn importing_with_nothing_staged_conflicts() {
    let Some(lab) = support::lab() else { return };
    let client = lab.client();
    let scratch = Scratch::new(&client, &unique("import-unstaged"), &[]);
    let refused = client.import_image(scratch.id(), &Import::new(ImportMethod::GlanceDirect));
    assert!(
        matches!(refused, Err(Error::Conflict(_))),
        "glance-direct without staged data: {refused:?}"
    );
}

#[test]
fn web_download_fetches_the_data_from_a_local_server() {
    use httptest::{Expectation, ServerBuilder, matchers::request, responders::status_code};
    let Some(lab) = support::lab() else { return };
    let client = lab.client();
    let data = sample(500_000, 7);
    // The lab lets web-download fetch from 127.0.0.1 only (not [::1]).
    let source = ServerBuilder::new()
        .bind_addr(([127, 0, 0, 1], 0).into())
        .run()
        .expect("a source server on 127.0.0.1");
    source.expect(
        Expectation::matching(request::method_path("GET", "/disk.raw"))
            .times(1..)
            .respond_with(status_code(200).body(data.clone())),
    );
    let scratch = Scratch::new(&client, &unique("web-download"), &[]);
    let uri = source.url_str("/disk.raw");

    client
        .import_image(
            scratch.id(),
            &Import::new(ImportMethod::WebDownload { uri }),
        )
        .expect("import");

    let image = settled(&client, scratch.id());
    assert_stored(&image, &data);
    assert!(
        downloaded(&client, scratch.id()) == data,
        "imported bytes differ"
    );
}
