//! Smoke suite against a real Glance 33 (started by tests/lab/start-glance.sh
//! through `support::lab`), through the public API only: what the wire code
//! was written from transcripts for, checked against the server itself.

mod support;

// More of the suite, in this binary so it shares its one Glance.
#[path = "real_glance/download.rs"]
mod download;
#[path = "real_glance/identity.rs"]
mod identity;
#[path = "real_glance/import.rs"]
mod import;
#[path = "real_glance/listing.rs"]
mod listing;
#[path = "real_glance/parity.rs"]
mod parity;
#[path = "real_glance/records.rs"]
mod records;
#[path = "real_glance/sharing.rs"]
mod sharing;

use std::io::{Cursor, Read};

use glance_client::{Client, Error, Image, ImageData, ListQuery, NewImage, http, v2, wire};
use md5::Md5;
use sha2::{Digest, Sha512};

/// Deterministic bytes that do not compress or repeat in short cycles.
fn sample(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn md5_hex(data: &[u8]) -> String {
    hex(&Md5::digest(data))
}

fn sha512_hex(data: &[u8]) -> String {
    hex(&Sha512::digest(data))
}

/// A value no other test run shares, to find this run's images in listings.
fn unique(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{tag}-{}-{nanos}", std::process::id())
}

/// What to create: a raw, bare image called `name`.
fn new_image(name: &str) -> NewImage {
    NewImage {
        name: Some(name.to_string()),
        disk_format: Some("raw".into()),
        container_format: Some("bare".into()),
        ..NewImage::default()
    }
}

/// Creates an image record and deletes it again when dropped, so a test
/// against a shared Glance (GLANCE_ENDPOINT) leaves nothing behind.
struct Scratch {
    client: Client,
    image: Image,
}

impl Scratch {
    fn new(client: &Client, name: &str, properties: &[(&str, &str)]) -> Scratch {
        Scratch::with(
            client,
            NewImage {
                properties: properties
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                ..new_image(name)
            },
        )
    }

    /// Creates `new` (a raw, bare image unless it says otherwise).
    fn with(client: &Client, new: NewImage) -> Scratch {
        let image = client.create_image(&new).expect("create an image");
        assert_eq!(image.status, "queued", "a new image is queued: {image:?}");
        Scratch {
            client: client.clone(),
            image,
        }
    }

    fn id(&self) -> &str {
        &self.image.id
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = self.client.delete_image(&self.image.id);
    }
}

/// Checks what the server recorded about uploaded `data`.
fn assert_stored(image: &Image, data: &[u8]) {
    assert_eq!(
        image.status, "active",
        "uploaded image is active: {image:?}"
    );
    assert_eq!(image.size, Some(data.len() as u64), "size of {}", image.id);
    assert_eq!(
        image.checksum.as_deref(),
        Some(md5_hex(data).as_str()),
        "checksum (md5) of {}",
        image.id
    );
    assert_eq!(image.os_hash_algo.as_deref(), Some("sha512"));
    assert_eq!(
        image.os_hash_value.as_deref(),
        Some(sha512_hex(data).as_str()),
        "os_hash_value (sha512) of {}",
        image.id
    );
}

#[test]
fn versions_offer_a_current_v2() {
    let Some(lab) = support::lab() else { return };
    let versions = lab.client().versions().expect("GET /versions");
    let current: Vec<_> = versions.iter().filter(|v| v.status == "CURRENT").collect();
    assert_eq!(
        current.len(),
        1,
        "exactly one CURRENT version in {versions:?}"
    );
    let (major, minor) = current[0].number().expect("a numbered version id");
    assert_eq!(major, 2, "the current version is a v2: {current:?}");
    assert!(minor >= 16, "glance 33 offers v2.16 or later: {current:?}");
}

#[test]
fn uploaded_file_is_active_with_size_hashes_and_file_location() {
    let Some(lab) = support::lab() else { return };
    let client = lab.client();
    let scratch = Scratch::new(&client, &unique("upload-file"), &[]);
    let data = sample(300_001, 1);
    let file = tempfile::NamedTempFile::new().expect("a temp file");
    std::fs::write(file.path(), &data).expect("write the sample");

    client
        .upload(scratch.id(), ImageData::file(file.path()))
        .expect("upload a file");

    let image = client.image(scratch.id()).expect("show the image");
    assert_stored(&image, &data);
    let location = image.locations.first().expect("the lab shows locations");
    if let (Some(store), Some(fs_id)) = (&lab.store_dir, &lab.fs_id) {
        let path = store.join(&image.id);
        assert_eq!(location.url, format!("file://{}", path.display()));
        assert_eq!(image.direct_url.as_deref(), Some(location.url.as_str()));
        assert_eq!(location.metadata_str("id"), Some(fs_id.as_str()));
        assert_eq!(
            location.metadata_str("mountpoint"),
            store.to_str(),
            "the store's mountpoint in the location metadata"
        );
        assert_eq!(std::fs::read(&path).expect("the stored file"), data);
    }
}

#[test]
fn streamed_upload_without_size_is_stored_whole() {
    let Some(lab) = support::lab() else { return };
    let client = lab.client();
    let scratch = Scratch::new(&client, &unique("upload-stream"), &[]);
    // Several of uWSGI's and ureq's chunk sizes, and not a multiple of any.
    let data = sample(3 * 1024 * 1024 + 7, 2);

    client
        .upload(
            scratch.id(),
            ImageData::reader(&mut Cursor::new(&data), None),
        )
        .expect("upload a stream of unknown size (chunked)");

    assert_stored(&client.image(scratch.id()).expect("show"), &data);
}

#[test]
fn download_gives_back_the_uploaded_bytes_with_length_and_md5() {
    let Some(lab) = support::lab() else { return };
    let client = lab.client();
    let scratch = Scratch::new(&client, &unique("download"), &[]);
    let data = sample(1024 * 1024 + 13, 3);
    client
        .upload(
            scratch.id(),
            ImageData::reader(&mut Cursor::new(&data), Some(data.len() as u64)),
        )
        .expect("upload with a size");

    let mut stream = client.open_download(scratch.id()).expect("open the data");
    assert_eq!(stream.content_length(), Some(data.len() as u64));
    assert_eq!(stream.content_md5(), Some(md5_hex(&data).as_str()));
    assert_eq!(stream.offset(), 0);
    let mut received = Vec::new();
    stream.read_to_end(&mut received).expect("read the data");
    assert!(received == data, "downloaded bytes differ from the upload");
}

#[test]
fn list_filters_by_name_and_property() {
    let Some(lab) = support::lab() else { return };
    let client = lab.client();
    let run = unique("list");
    let a1 = Scratch::new(&client, "list-a", &[("test_run", &run), ("kind", "a")]);
    let a2 = Scratch::new(&client, "list-a", &[("test_run", &run), ("kind", "a")]);
    let b = Scratch::new(&client, "list-b", &[("test_run", &run), ("kind", "b")]);
    let ids = |query: &ListQuery| -> Vec<String> {
        let mut ids: Vec<String> = client
            .images(query)
            .map(|image| image.expect("a listed image").id)
            .collect();
        ids.sort();
        ids
    };
    let sorted = |scratches: &[&Scratch]| -> Vec<String> {
        let mut ids: Vec<String> = scratches.iter().map(|s| s.id().to_string()).collect();
        ids.sort();
        ids
    };
    let mut query = ListQuery::default();
    query.properties.insert("test_run".into(), run.clone());
    query.page_size = Some(2); // three images: two pages
    assert_eq!(ids(&query), sorted(&[&a1, &a2, &b]), "by property");

    query.properties.insert("kind".into(), "a".into());
    assert_eq!(ids(&query), sorted(&[&a1, &a2]), "by two properties");

    query.properties.remove("kind");
    query.name = Some("list-b".into());
    assert_eq!(ids(&query), sorted(&[&b]), "by property and name");
}

#[test]
fn deleted_image_is_not_found() {
    let Some(lab) = support::lab() else { return };
    let client = lab.client();
    let image = Scratch::new(&client, &unique("delete"), &[]);

    client.delete_image(image.id()).expect("delete");

    let shown = client.image(image.id());
    assert!(
        matches!(shown, Err(Error::NotFound(_))),
        "show after delete: {shown:?}"
    );
    let again = client.delete_image(image.id());
    assert!(
        matches!(again, Err(Error::NotFound(_))),
        "delete twice: {again:?}"
    );
}

#[test]
fn unknown_image_is_not_found_with_the_servers_message() {
    let Some(lab) = support::lab() else { return };
    let shown = lab.client().image("00000000-0000-4000-8000-000000000000");
    match shown {
        Err(Error::NotFound(api)) => {
            assert_eq!(api.status, 404);
            assert!(
                api.message.contains("00000000-0000-4000-8000-000000000000"),
                "the message names the image: {api:?}"
            );
            assert!(api.request_id.is_some(), "a request id: {api:?}");
        }
        other => panic!("expected NotFound, got {other:?}"),
    }
}

#[test]
fn upload_to_an_active_image_conflicts() {
    let Some(lab) = support::lab() else { return };
    let client = lab.client();
    let scratch = Scratch::new(&client, &unique("conflict"), &[]);
    let data = sample(10_000, 4);
    client
        .upload(
            scratch.id(),
            ImageData::reader(&mut Cursor::new(&data), Some(data.len() as u64)),
        )
        .expect("first upload");

    let again = client.upload(
        scratch.id(),
        ImageData::reader(&mut Cursor::new(&data), Some(data.len() as u64)),
    );

    assert!(
        matches!(again, Err(Error::Conflict(_))),
        "a second upload to an active image: {again:?}"
    );
    assert_stored(&client.image(scratch.id()).expect("show"), &data);
}

#[test]
fn upload_with_a_json_content_type_is_refused_with_415() {
    let Some(lab) = support::lab() else { return };
    let client = lab.client();
    let scratch = Scratch::new(&client, &unique("media-type"), &[]);
    let mut request = v2::images::upload(scratch.id(), Some(2)).expect("an upload request");
    *request.body_mut() = b"{}".to_vec();

    let response = lab.send(request, &[("content-type", "application/json")]);

    assert_eq!(response.status(), http::StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let parsed = wire::parse_empty(&response);
    assert!(
        matches!(parsed, Err(Error::UnsupportedMediaType(_))),
        "415 parses as UnsupportedMediaType: {parsed:?}"
    );
    let image = client.image(scratch.id()).expect("show");
    assert_eq!(image.status, "queued", "the refused upload stored nothing");
}
