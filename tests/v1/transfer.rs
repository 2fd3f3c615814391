//! Upload, download, delete and error mapping in v1 mode.

use std::io::Read;

use glance_client::{DownloadOptions, Error, ImageData, http, v1};
use httptest::responders::{ResponseBuilder, status_code};
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
    client
        .upload(ID, ImageData::reader(&mut &b"hello"[..], Some(5)))
        .unwrap();
    client
        .upload(ID, ImageData::reader(&mut &b"chunked"[..], None))
        .unwrap();
    let path = format!("/v1/images/{ID}");
    let data = |extra: &[(&'static str, &'static str)]| {
        let mut h = vec![
            ("accept", "application/json"),
            ("content-type", "application/octet-stream"),
            ("user-agent", USER_AGENT),
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
                ("user-agent", USER_AGENT),
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
    let e = client
        .upload(ID, ImageData::reader(&mut &b"x"[..], Some(1)))
        .unwrap_err();
    assert!(
        matches!(&e, Error::Conflict(a) if a.message.contains("unqueued")),
        "{e:?}"
    );
    let e = client.delete_image(ID).unwrap_err();
    assert_eq!(e.status(), Some(300), "a server without v1: {e:?}");
}

/// HEAD metadata of an image holding `data`, as a v1 server sends it.
fn meta_for(data: &[u8]) -> Vec<(&'static str, String)> {
    use md5::{Digest, Md5};
    let sum: String = Md5::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    HEAD_META
        .iter()
        .map(|(k, v)| match *k {
            "X-Image-Meta-Checksum" => (*k, sum.clone()),
            "X-Image-Meta-Size" => (*k, data.len().to_string()),
            // The bytes served are plain data: a raw image (a qcow2 claim
            // would be refused by the format inspection).
            "X-Image-Meta-Disk_format" => (*k, "raw".to_string()),
            _ => (*k, v.to_string()),
        })
        .collect()
}

fn data_answer(
    data: &'static [u8],
    meta: &[(&'static str, String)],
) -> ResponseBuilder<&'static [u8]> {
    let mut answer = status_code(200).insert_header("content-type", "application/octet-stream");
    for (k, v) in meta {
        answer = answer.insert_header(*k, v.as_str());
    }
    answer.body(data)
}

#[test]
fn a_verified_download_checks_the_v1_checksum() {
    static DATA: &[u8] = b"v1 image bytes, verified with md5";
    let meta = meta_for(DATA);
    let borrowed: Vec<(&str, &str)> = meta.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let wire = Wire::new(vec![
        Box::new(head_answer(&borrowed)),
        Box::new(data_answer(DATA, &meta)),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("image");
    let report = wire
        .client()
        .download(ID, &dest, DownloadOptions::default())
        .unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), DATA);
    assert_eq!(report.verified, ["md5"]);
    assert_eq!(report.bytes, DATA.len() as u64);
    let seen = wire.seen();
    assert_eq!(
        seen.iter()
            .map(|s| (s.method.as_str(), s.target.as_str()))
            .collect::<Vec<_>>(),
        [
            ("HEAD", format!("/v1/images/{ID}").as_str()),
            ("GET", format!("/v1/images/{ID}").as_str())
        ]
    );
}

#[test]
fn a_corrupt_v1_download_is_refused_and_leaves_no_file() {
    static DATA: &[u8] = b"the real bytes";
    static CORRUPT: &[u8] = b"the r3al bytes";
    let meta = meta_for(DATA);
    let borrowed: Vec<(&str, &str)> = meta.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let wire = Wire::new(vec![
        Box::new(head_answer(&borrowed)),
        Box::new(data_answer(CORRUPT, &meta)),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let err = wire
        .client()
        .download(ID, dir.path().join("image"), DownloadOptions::default())
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::ChecksumMismatch {
                algorithm: "md5",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn a_v1_image_whose_bytes_are_not_its_disk_format_is_refused() {
    // The same format inspection as v2: plain bytes under a qcow2 claim.
    static DATA: &[u8] = b"plain bytes, not a qcow2 image";
    let meta: Vec<(&str, String)> = meta_for(DATA)
        .into_iter()
        .map(|(k, v)| match k {
            "X-Image-Meta-Disk_format" => (k, "qcow2".to_string()),
            _ => (k, v),
        })
        .collect();
    let borrowed: Vec<(&str, &str)> = meta.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let wire = Wire::new(vec![
        Box::new(head_answer(&borrowed)),
        Box::new(data_answer(DATA, &meta)),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let err = wire
        .client()
        .download(ID, dir.path().join("image"), DownloadOptions::default())
        .unwrap_err();
    match &err {
        Error::UnsafeImage {
            image_id, format, ..
        } => {
            assert_eq!(image_id, ID);
            assert_eq!(format.map(|f| f.name()), Some("raw"));
        }
        other => panic!("expected UnsafeImage, got {other:?}"),
    }
    assert!(
        err.to_string()
            .contains("detected raw but the image says qcow2"),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
