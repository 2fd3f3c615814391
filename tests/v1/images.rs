//! Show, create, update, upload, download and delete in v1 mode.

use std::collections::BTreeMap;

use glance_client::{ApiVersion, Error, ImageData, ImageUpdate, NewImage, v1};
use serde_json::json;

use super::harness::*;

/// The v1 JSON object of the image `HEAD_META` describes.
pub fn image_json() -> serde_json::Value {
    json!({
        "checksum": "8a40c862b5735975d82605c1dd395796",
        "container_format": "bare",
        "created_at": "2016-01-06T03:22:20.000000",
        "deleted": false,
        "deleted_at": null,
        "disk_format": "qcow2",
        "id": ID,
        "is_public": true,
        "min_disk": 1,
        "min_ram": 64,
        "name": "cirros-0.3.4",
        "owner": "13cc6052265b41529e2fd0fc461fa8ef",
        "properties": {"os_distro": "cirros"},
        "protected": false,
        "size": 4979632,
        "status": "active",
        "updated_at": "2016-02-25T03:02:05.000000",
        "virtual_size": null
    })
}

#[test]
fn show_is_a_head_and_reads_the_metadata_headers() {
    let wire = Wire::new(vec![Box::new(head_answer(&HEAD_META))]);
    let image = wire.client().image(ID).unwrap();
    assert_eq!(
        wire.seen(),
        [expect("HEAD", &format!("/v1/images/{ID}"), &call(&[]))]
    );
    assert_eq!(image.id, ID);
    assert_eq!(image.name.as_deref(), Some("cirros-0.3.4"));
    assert_eq!(image.status, "active");
    assert_eq!(image.visibility, "public", "is_public True is public");
    assert_eq!((image.size, image.virtual_size), (Some(4979632), None));
    assert_eq!((image.min_disk, image.min_ram), (1, 64));
    assert!(!image.protected);
    assert_eq!(
        image.created_at.as_deref(),
        Some("2016-01-06T03:22:20Z"),
        "v1 timestamps take v2's form"
    );
    assert_eq!(
        image.properties,
        BTreeMap::from([("os_distro".into(), "cirros".into())])
    );
}

#[test]
fn the_same_image_comes_out_of_head_a_list_page_and_v2() {
    let wire = Wire::new(vec![
        Box::new(head_answer(&HEAD_META)),
        Box::new(json(200, json!({ "images": [image_json()] }))),
        Box::new(json(200, json!({ "images": [] }))),
    ]);
    let from_head = wire.client().image(ID).unwrap();
    let from_list: Vec<_> = wire
        .client()
        .images(&Default::default())
        .collect::<Result<_, _>>()
        .unwrap();

    let v2 = Wire::new(vec![Box::new(json(
        200,
        json!({
            "id": ID, "name": "cirros-0.3.4", "status": "active", "visibility": "public",
            "size": 4979632, "virtual_size": null,
            "checksum": "8a40c862b5735975d82605c1dd395796",
            "os_hash_algo": null, "os_hash_value": null,
            "disk_format": "qcow2", "container_format": "bare",
            "protected": false, "os_hidden": false, "min_disk": 1, "min_ram": 64,
            "owner": "13cc6052265b41529e2fd0fc461fa8ef",
            "created_at": "2016-01-06T03:22:20Z", "updated_at": "2016-02-25T03:02:05Z",
            "tags": [], "os_distro": "cirros",
            "self": format!("/v2/images/{ID}"), "file": format!("/v2/images/{ID}/file"),
            "schema": "/v2/schemas/image"
        }),
    ))]);
    let from_v2 = v2.client_for(ApiVersion::V2).image(ID).unwrap();
    assert_eq!(from_head, from_v2, "HEAD (v1) and GET (v2) disagree");
    assert_eq!(from_list, [from_v2], "a v1 list entry and v2 disagree");
}

#[test]
fn a_head_with_a_bad_size_or_date_is_an_error_not_a_panic() {
    let wire = Wire::new(vec![
        Box::new(head_answer(&[
            ("x-image-meta-id", ID),
            ("x-image-meta-size", "big"),
        ])),
        Box::new(head_answer(&[
            ("x-image-meta-id", ID),
            ("x-image-meta-created_at", "last tuesday"),
        ])),
        Box::new(head_answer(&[("x-image-meta-name", "no id")])),
    ]);
    let client = wire.client();
    for expected in ["x-image-meta-size", "x-image-meta-created_at", "no id"] {
        match client.image(ID) {
            Err(Error::InvalidResponse(m)) => assert!(m.contains(expected), "{m}"),
            other => panic!("expected an invalid response naming {expected}, got {other:?}"),
        }
    }
}

#[test]
fn create_reserves_an_image_with_every_field_as_a_header() {
    let mut answer = image_json();
    answer["status"] = json!("queued");
    answer["size"] = json!(0);
    answer["checksum"] = json!(null);
    answer["properties"] = json!({"os_distro": "cirros", "hw_disk_bus": "virtio"});
    let wire = Wire::new(vec![Box::new(
        json(201, json!({ "image": answer })).insert_header(
            "location",
            format!("http://glance.example.com/v1/images/{ID}"),
        ),
    )]);
    let new = NewImage {
        id: Some(ID.into()),
        name: Some("cirros-0.3.4".into()),
        disk_format: Some("qcow2".into()),
        container_format: Some("bare".into()),
        visibility: Some("public".into()),
        protected: Some(false),
        min_disk: Some(1),
        min_ram: Some(64),
        owner: Some("13cc6052265b41529e2fd0fc461fa8ef".into()),
        properties: BTreeMap::from([
            ("os_distro".into(), "cirros".into()),
            ("hw_disk_bus".into(), "virtio".into()),
        ]),
        ..NewImage::default()
    };
    let image = wire.client().create_image(&new).unwrap();
    assert_eq!(
        wire.seen(),
        [expect(
            "POST",
            "/v1/images",
            &empty_body(&[
                ("x-image-meta-id", ID),
                ("x-image-meta-name", "cirros-0.3.4"),
                ("x-image-meta-disk_format", "qcow2"),
                ("x-image-meta-container_format", "bare"),
                ("x-image-meta-is_public", "true"),
                ("x-image-meta-protected", "false"),
                ("x-image-meta-min_ram", "64"),
                ("x-image-meta-min_disk", "1"),
                ("x-image-meta-owner", "13cc6052265b41529e2fd0fc461fa8ef"),
                ("x-image-meta-property-hw_disk_bus", "virtio"),
                ("x-image-meta-property-os_distro", "cirros"),
            ])
        )]
    );
    assert_eq!((image.status.as_str(), image.size), ("queued", Some(0)));
    assert_eq!(image.properties.len(), 2);
}

#[test]
fn v1_create_sends_copy_from_location_store_size_and_checksum() {
    let wire = Wire::new(vec![
        Box::new(json(201, json!({ "image": image_json() }))),
        Box::new(json(201, json!({ "image": image_json() }))),
    ]);
    let client = wire.client();
    let new = NewImage {
        name: Some("copied".into()),
        ..NewImage::default()
    };
    let copy = v1::CreateOptions {
        copy_from: Some("http://example.com/cirros.img".into()),
        store: Some("file".into()),
        ..v1::CreateOptions::default()
    };
    client.v1().create_image(&new, &copy).unwrap();
    let located = v1::CreateOptions {
        location: Some("http://example.com/cirros.img".into()),
        size: Some(4979632),
        checksum: Some("8a40c862b5735975d82605c1dd395796".into()),
        ..v1::CreateOptions::default()
    };
    client.v1().create_image(&new, &located).unwrap();
    assert_eq!(
        wire.seen(),
        [
            expect(
                "POST",
                "/v1/images",
                &empty_body(&[
                    ("x-image-meta-name", "copied"),
                    ("x-image-meta-store", "file"),
                    ("x-glance-api-copy-from", "http://example.com/cirros.img"),
                ])
            ),
            expect(
                "POST",
                "/v1/images",
                &empty_body(&[
                    ("x-image-meta-name", "copied"),
                    ("x-image-meta-checksum", "8a40c862b5735975d82605c1dd395796"),
                    ("x-image-meta-location", "http://example.com/cirros.img"),
                    ("x-image-meta-size", "4979632"),
                ])
            ),
        ]
    );
}

#[test]
fn non_ascii_goes_raw_and_a_newline_is_refused_before_sending() {
    let mut answer = image_json();
    answer["name"] = json!("niño");
    let wire = Wire::new(vec![Box::new(json(201, json!({ "image": answer })))]);
    let client = wire.client();
    let named = |name: &str| NewImage {
        name: Some(name.into()),
        ..NewImage::default()
    };
    let image = client.create_image(&named("niño")).unwrap();
    assert_eq!(image.name.as_deref(), Some("niño"));
    let injected = client.create_image(&named("a\r\nx-auth-token: stolen"));
    assert!(
        matches!(injected, Err(Error::InvalidInput(_))),
        "{injected:?}"
    );
    assert_eq!(
        wire.seen(),
        [expect(
            "POST",
            "/v1/images",
            &empty_body(&[("x-image-meta-name", "niño")])
        )],
        "the name goes as raw UTF-8, and the refused create sends nothing"
    );
}

#[test]
fn update_changes_fields_and_keeps_the_other_properties() {
    let wire = Wire::new(vec![Box::new(json(200, json!({ "image": image_json() })))]);
    let update = ImageUpdate {
        name: Some("renamed".into()),
        visibility: Some("private".into()),
        min_ram: Some(128),
        set_properties: BTreeMap::from([("a".into(), "1".into())]),
        ..ImageUpdate::default()
    };
    wire.client().update_image(ID, &update).unwrap();
    assert_eq!(
        wire.seen(),
        [expect(
            "PUT",
            &format!("/v1/images/{ID}"),
            &empty_body(&[
                ("x-image-meta-name", "renamed"),
                ("x-image-meta-is_public", "false"),
                ("x-image-meta-min_ram", "128"),
                ("x-image-meta-property-a", "1"),
                ("x-glance-registry-purge-props", "false"),
            ])
        )]
    );
}

#[test]
fn removing_a_property_reads_the_image_then_purges_with_the_rest() {
    let mut meta = HEAD_META.to_vec();
    meta.push(("x-image-meta-property-a", "old"));
    meta.push(("x-image-meta-property-b", "gone soon"));
    let wire = Wire::new(vec![
        Box::new(head_answer(&meta)),
        Box::new(json(200, json!({ "image": image_json() }))),
    ]);
    let update = ImageUpdate {
        set_properties: BTreeMap::from([("a".into(), "new".into())]),
        remove_properties: vec!["b".into()],
        ..ImageUpdate::default()
    };
    wire.client().update_image(ID, &update).unwrap();
    let path = format!("/v1/images/{ID}");
    assert_eq!(
        wire.seen(),
        [
            expect("HEAD", &path, &call(&[])),
            expect(
                "PUT",
                &path,
                &empty_body(&[
                    ("x-image-meta-property-a", "new"),
                    ("x-image-meta-property-os_distro", "cirros"),
                    ("x-glance-registry-purge-props", "true"),
                ])
            ),
        ]
    );
}

#[test]
fn create_with_data_posts_the_headers_and_the_bytes_in_one_request() {
    let wire = Wire::new(vec![Box::new(json(201, json!({ "image": image_json() })))]);
    let new = NewImage {
        name: Some("cirros-0.3.4".into()),
        disk_format: Some("qcow2".into()),
        container_format: Some("bare".into()),
        ..NewImage::default()
    };
    let image = wire
        .client()
        .v1()
        .create_image_with_data(
            &new,
            &v1::CreateOptions::default(),
            ImageData::reader(&mut &b"bytes"[..], Some(5)),
        )
        .unwrap();
    assert_eq!(image.id, ID);
    assert_eq!(
        wire.seen(),
        [expect(
            "POST",
            "/v1/images",
            &call(&[
                ("content-type", "application/octet-stream"),
                ("content-length", "5"),
                ("x-image-meta-name", "cirros-0.3.4"),
                ("x-image-meta-disk_format", "qcow2"),
                ("x-image-meta-container_format", "bare"),
            ])
        )
        .with_body(b"bytes")]
    );
}

#[test]
fn update_with_data_puts_the_headers_purge_flag_and_the_bytes() {
    let wire = Wire::new(vec![Box::new(json(200, json!({ "image": image_json() })))]);
    let update = ImageUpdate {
        name: Some("renamed".into()),
        ..ImageUpdate::default()
    };
    wire.client()
        .v1()
        .update_image_with_data(ID, &update, ImageData::reader(&mut &b"data"[..], None))
        .unwrap();
    assert_eq!(
        wire.seen(),
        [expect(
            "PUT",
            &format!("/v1/images/{ID}"),
            &call(&[
                ("content-type", "application/octet-stream"),
                ("transfer-encoding", "chunked"),
                ("x-image-meta-name", "renamed"),
                ("x-glance-registry-purge-props", "false"),
            ])
        )
        .with_body(b"data")]
    );
}

#[test]
fn the_with_data_calls_are_v1_only() {
    let wire = Wire::new(vec![]);
    let client = wire.client_for(ApiVersion::V2);
    let e = client
        .v1()
        .create_image_with_data(
            &NewImage::default(),
            &v1::CreateOptions::default(),
            ImageData::reader(&mut &b""[..], None),
        )
        .unwrap_err();
    assert!(
        matches!(e, Error::Unsupported { api_version: 2, .. }),
        "{e:?}"
    );
    let e = client
        .v1()
        .update_image_with_data(
            ID,
            &ImageUpdate::default(),
            ImageData::reader(&mut &b""[..], None),
        )
        .unwrap_err();
    assert!(
        matches!(e, Error::Unsupported { api_version: 2, .. }),
        "{e:?}"
    );
    assert!(wire.seen().is_empty());
}
