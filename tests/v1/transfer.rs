//! Upload, download, delete and error mapping in v1 mode.

use std::io::Read;

use glance_client::{Error, http, v1};
use httptest::responders::status_code;
use serde_json::json;

use super::harness::*;
use super::images::image_json;

#[test]
fn upload_puts_octet_stream_data_without_purging() {
    let wire = Wire::new(vec![
        Box::new(json(200, json!({ "image": image_json() }))),
        Box::new(json(200, json!({ "image": image_json() }))),
    ]);
    let client = wire.client();
    client.upload(ID, &mut &b"hello"[..], Some(5)).unwrap();
    client.upload(ID, &mut &b"chunked"[..], None).unwrap();
    let path = format!("/v1/images/{ID}");
    let data = |extra: &[(&'static str, &'static str)]| {
        let mut h = vec![
            ("accept", "application/json"),
            ("content-type", "application/octet-stream"),
            ("x-auth-token", TOKEN),
            ("x-glance-registry-purge-props", "false"),
        ];
        h.extend_from_slice(extra);
        h
    };
    assert_eq!(
        wire.seen(),
        [
            expect("PUT", &path, &data(&[("content-length", "5")])).with_body(b"hello"),
            expect("PUT", &path, &data(&[("transfer-encoding", "chunked")])).with_body(b"chunked"),
        ]
    );
}

#[test]
fn download_streams_the_data_with_the_checksum_of_the_metadata() {
    let data = b"0123456789";
    let mut answer = status_code(200)
        .insert_header("content-type", "application/octet-stream")
        .insert_header("etag", "781e5e245d69b566979b86e28d23f2c7");
    for (k, v) in HEAD_META {
        if k != "X-Image-Meta-Checksum" && k != "X-Image-Meta-Size" {
            answer = answer.insert_header(k, v);
        }
    }
    let answer = answer
        .insert_header("x-image-meta-checksum", "781E5E245D69B566979B86E28D23F2C7")
        .insert_header("x-image-meta-size", "10")
        .body(&data[..]);
    let wire = Wire::new(vec![Box::new(answer)]);
    let mut stream = wire.client().open_download(ID).unwrap();
    assert_eq!(
        stream.content_md5(),
        Some("781e5e245d69b566979b86e28d23f2c7")
    );
    assert_eq!((stream.offset(), stream.total_size()), (0, Some(10)));
    let mut got = Vec::new();
    stream.read_to_end(&mut got).unwrap();
    assert_eq!(got, data);
    assert_eq!(
        wire.seen(),
        [expect(
            "GET",
            &format!("/v1/images/{ID}"),
            &[
                ("accept", "application/octet-stream, application/json"),
                ("x-auth-token", TOKEN),
            ]
        )]
    );
}

#[test]
fn a_ranged_download_accepts_the_whole_image_v1_sends() {
    let request = v1::images::download(ID, 1000).unwrap();
    assert_eq!(request.headers()["range"], "bytes=1000-");
    let mut h = http::HeaderMap::new();
    h.insert("content-length", "4979632".parse().unwrap());
    h.insert(
        "x-image-meta-checksum",
        "8a40c862b5735975d82605c1dd395796".parse().unwrap(),
    );
    let start = v1::images::parse_download_start(ID, http::StatusCode::OK, &h, 1000).unwrap();
    assert_eq!(start.offset, 0, "a v1 server ignores Range: start over");
    assert_eq!(
        start.content_md5.as_deref(),
        Some("8a40c862b5735975d82605c1dd395796")
    );
    // A proxy that honours the range: the total comes from the metadata.
    h.insert("content-length", "1000".parse().unwrap());
    h.insert("content-range", "bytes 1000-1999/*".parse().unwrap());
    h.insert("x-image-meta-size", "2000".parse().unwrap());
    let start =
        v1::images::parse_download_start(ID, http::StatusCode::PARTIAL_CONTENT, &h, 1000).unwrap();
    assert_eq!((start.offset, start.total), (1000, Some(2000)));
    h.insert("x-image-meta-size", "lots".parse().unwrap());
    assert!(
        v1::images::parse_download_start(ID, http::StatusCode::PARTIAL_CONTENT, &h, 1000).is_err()
    );
}

#[test]
fn delete_is_a_delete_answered_200() {
    let wire = Wire::new(vec![Box::new(status_code(200))]);
    wire.client().delete_image(ID).unwrap();
    assert_eq!(
        wire.seen(),
        [expect("DELETE", &format!("/v1/images/{ID}"), &call(&[]))]
    );
}

#[test]
fn errors_keep_their_meaning() {
    let wire = Wire::new(vec![
        Box::new(status_code(404)),
        Box::new(
            status_code(409)
                .insert_header("content-type", "text/plain")
                .body("409 Conflict\n\nCannot upload to an unqueued image"),
        ),
        Box::new(status_code(300).body(r#"{"versions": []}"#)),
    ]);
    let client = wire.client();
    let e = client.image(ID).unwrap_err();
    assert!(matches!(e, Error::NotFound(_)), "HEAD 404: {e:?}");
    let e = client.upload(ID, &mut &b"x"[..], Some(1)).unwrap_err();
    assert!(
        matches!(&e, Error::Conflict(a) if a.message.contains("unqueued")),
        "{e:?}"
    );
    let e = client.delete_image(ID).unwrap_err();
    assert_eq!(e.status(), Some(300), "a server without v1: {e:?}");
}
