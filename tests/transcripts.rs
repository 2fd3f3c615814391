//! The raw exchanges recorded from a real Glance 33 (status line, headers,
//! body: tests/fixtures/transcript/*.txt, copied from the lab's transcript)
//! fed whole to the sans-IO parsers, headers included.

use glance_client::{Error, http, v2, wire};

/// Parses a recorded answer: `HTTP/1.1 CODE REASON`, headers, blank line, body.
fn answer(name: &str) -> http::Response<Vec<u8>> {
    let path = format!(
        "{}/tests/fixtures/transcript/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    // Recorded with CRLF line ends, as on the wire.
    let (head, body) = text
        .split_once("\r\n\r\n")
        .or_else(|| text.split_once("\n\n"))
        .unwrap_or((text.as_str(), ""));
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("{name}: no status line"));
    let mut builder = http::Response::builder().status(status);
    for line in lines {
        let (k, v) = line
            .split_once(':')
            .unwrap_or_else(|| panic!("{name}: {line:?}"));
        builder = builder.header(k.trim(), v.trim());
    }
    builder.body(body.as_bytes().to_vec()).unwrap()
}

#[test]
fn show_and_patch_answers_parse_into_images() {
    let image = v2::images::parse_image(&answer("show.txt")).unwrap();
    assert_eq!(image.id, "e54e8577-3aa8-44c2-afc1-6205679c7fba");
    assert_eq!(image.os_hash_algo.as_deref(), Some("sha512"));
    assert_eq!(image.size, Some(1048577));
    let patched = v2::images::parse_image(&answer("patch.txt")).unwrap();
    assert_eq!(patched.name.as_deref(), Some("renamed"));
    assert_eq!(
        patched.properties.get("os_distro").map(String::as_str),
        Some("cirros")
    );
}

#[test]
fn the_create_answer_is_a_queued_image() {
    let created = answer("create.txt");
    assert_eq!(created.status(), 201);
    assert!(
        created.headers()["location"]
            .to_str()
            .unwrap()
            .ends_with("/v2/images/e54e8577-3aa8-44c2-afc1-6205679c7fba")
    );
    let image = v2::images::parse_image(&created).unwrap();
    assert_eq!(image.status, "queued");
    assert_eq!(image.checksum, None);
}

#[test]
fn the_list_page_has_images_and_a_next_link() {
    let page = v2::images::parse_page(&answer("list1.txt")).unwrap();
    assert!(!page.images.is_empty());
    assert!(
        page.next.as_deref().is_some_and(|n| n.contains("marker=")),
        "{:?}",
        page.next
    );
}

#[test]
fn the_download_head_gives_length_and_md5() {
    let head = answer("download-headers.txt");
    let start = wire::parse_download_start("i", head.status(), head.headers(), 0).unwrap();
    assert_eq!(
        (start.offset, start.length, start.total),
        (0, Some(1048577), Some(1048577))
    );
    assert_eq!(
        start.content_md5.as_deref(),
        Some("b137587cf064cd81b9f19beee957a763")
    );
}

#[test]
fn bodiless_answers_are_success() {
    for name in ["upload.txt", "stage.txt", "import.txt"] {
        wire::parse_empty(&answer(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn error_answers_keep_meaning_message_and_request_id() {
    let e = wire::parse_error(&answer("404.txt"));
    let Error::NotFound(api) = &e else {
        panic!("404: {e:?}")
    };
    assert_eq!(
        api.message,
        "No image found with ID 00000000-0000-0000-0000-000000000000"
    );
    assert_eq!(
        api.request_id.as_deref(),
        Some("req-14a3d452-05d0-4f58-b811-bcc934564351")
    );
    let e = wire::parse_error(&answer("409.txt"));
    let Error::Conflict(api) = &e else {
        panic!("409: {e:?}")
    };
    assert_eq!(
        api.message,
        "Image status transition from active to saving is not allowed"
    );
}
