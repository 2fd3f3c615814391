//! Several servers: failover, retries, what is never retried, rotation,
//! shuffle, logging. httptest servers answer; raw listeners inject faults.
//! Timeouts are in `timeouts.rs`.

mod common;

use std::collections::BTreeSet;
use std::io::{Cursor, Read};

use common::{RawServer, VERSIONS, config, refused_url, url, versions_ok};
use glance_client::{Auth, Client, Config, Error, ImageData, NewImage};
use httptest::matchers::request;
use httptest::responders::status_code;
use httptest::{Expectation, Server, cycle};

const CREATED: &str = include_str!("fixtures/v2/create.json");

#[test]
fn a_refused_connection_fails_over_to_the_next_server() {
    let good = Server::run();
    versions_ok(&good, 1);
    let client = Client::new(config(&[&refused_url(), &url(&good)])).unwrap();
    let versions = client.versions().expect("the second server answers");
    assert_eq!(versions[0].id, "v2.18");
}

#[test]
fn a_503_then_a_200_from_the_same_server_succeeds() {
    let server = Server::run();
    server.expect(
        Expectation::matching(request::method_path("GET", "/versions"))
            .times(2)
            .respond_with(cycle![status_code(503), status_code(200).body(VERSIONS)]),
    );
    let client = Client::new(Config {
        num_retries: 1,
        ..config(&[&url(&server)])
    })
    .unwrap();
    assert!(
        client.versions().is_ok(),
        "the retry after the 503 succeeds"
    );
}

#[test]
fn gateway_errors_fail_over_to_the_next_server() {
    let (a, b, c, d) = (Server::run(), Server::run(), Server::run(), Server::run());
    for (server, status) in [(&a, 502), (&b, 503), (&c, 504)] {
        server.expect(
            Expectation::matching(request::method_path("GET", "/versions"))
                .times(1)
                .respond_with(status_code(status)),
        );
    }
    versions_ok(&d, 1);
    let client = Client::new(config(&[&url(&a), &url(&b), &url(&c), &url(&d)])).unwrap();
    assert!(client.versions().is_ok(), "the fourth server answers");
}

#[test]
fn when_every_server_is_down_the_error_lists_each_attempt() {
    let (one, two) = (refused_url(), refused_url());
    let client = Client::new(config(&[&one, &two])).unwrap();
    let err = client.versions().unwrap_err();
    let Error::AllServersFailed(attempts) = &err else {
        panic!("expected AllServersFailed, got {err:?}");
    };
    let tried: Vec<&str> = attempts.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(
        tried,
        [&one, &two, &one, &two],
        "1 + num_retries attempts, rotating"
    );
    assert!(
        attempts
            .iter()
            .all(|(_, e)| matches!(e, Error::Transport { timeout: false, .. })),
        "{attempts:?}"
    );
    let text = err.to_string();
    assert_eq!(
        text,
        format!(
            "all 4 attempts on 2 servers failed: {one}: connection refused (2 times); \
             {two}: connection refused (2 times)"
        )
    );
}

#[test]
fn retries_stop_after_num_retries() {
    let server = Server::run();
    server.expect(
        Expectation::matching(request::method_path("GET", "/versions"))
            .times(3)
            .respond_with(status_code(503)),
    );
    let client = Client::new(Config {
        num_retries: 2,
        ..config(&[&url(&server)])
    })
    .unwrap();
    let err = client.versions().unwrap_err();
    assert!(
        err.to_string()
            .starts_with("all 3 attempts on one server failed: "),
        "{err}"
    );
}

#[test]
fn a_404_is_returned_at_once() {
    let (a, b) = (Server::run(), Server::run());
    a.expect(
        Expectation::matching(request::method_path("GET", "/v2/images/nope"))
            .times(1)
            .respond_with(status_code(404)),
    );
    let client = Client::new(config(&[&url(&a), &url(&b)])).unwrap();
    let err = client.image("nope").unwrap_err();
    assert!(
        matches!(err, Error::NotFound(_)),
        "expected NotFound, got {err:?}"
    );
}

#[test]
fn a_500_is_returned_at_once() {
    let (a, b) = (Server::run(), Server::run());
    a.expect(
        Expectation::matching(request::method_path("GET", "/v2/images/x"))
            .times(1)
            .respond_with(status_code(500)),
    );
    let client = Client::new(config(&[&url(&a), &url(&b)])).unwrap();
    let err = client.image("x").unwrap_err();
    assert_eq!(err.status(), Some(500), "{err:?}");
}

#[test]
fn a_create_without_an_id_is_not_retried() {
    let (a, b) = (Server::run(), Server::run());
    a.expect(
        Expectation::matching(request::method_path("POST", "/v2/images"))
            .times(1)
            .respond_with(status_code(503)),
    );
    let client = Client::new(config(&[&url(&a), &url(&b)])).unwrap();
    let err = client.create_image(&NewImage::default()).unwrap_err();
    assert_eq!(err.status(), Some(503), "the 503 comes back as is: {err:?}");
}

#[test]
fn a_create_with_an_id_is_retried() {
    let (a, b) = (Server::run(), Server::run());
    for (server, status, body) in [(&a, 503, ""), (&b, 201, CREATED)] {
        server.expect(
            Expectation::matching(request::method_path("POST", "/v2/images"))
                .times(1)
                .respond_with(status_code(status).body(body)),
        );
    }
    let client = Client::new(config(&[&url(&a), &url(&b)])).unwrap();
    let new = NewImage {
        id: Some("e54e8577-3aa8-44c2-afc1-6205679c7fba".into()),
        ..NewImage::default()
    };
    let image = client
        .create_image(&new)
        .expect("created on the second server");
    assert_eq!(image.id, "e54e8577-3aa8-44c2-afc1-6205679c7fba");
}

#[test]
fn a_create_without_an_id_fails_over_when_nothing_was_sent() {
    let good = Server::run();
    good.expect(
        Expectation::matching(request::method_path("POST", "/v2/images"))
            .times(1)
            .respond_with(status_code(201).body(CREATED)),
    );
    let client = Client::new(config(&[&refused_url(), &url(&good)])).unwrap();
    assert!(
        client.create_image(&NewImage::default()).is_ok(),
        "a refused connection sent nothing, so the create may go to the next server"
    );
}

#[test]
fn an_upload_from_a_stream_is_sent_once() {
    let (a, b) = (Server::run(), Server::run());
    a.expect(
        Expectation::matching(request::method_path("PUT", "/v2/images/i/file"))
            .times(1)
            .respond_with(status_code(503)),
    );
    let client = Client::new(config(&[&url(&a), &url(&b)])).unwrap();
    let mut data = &b"image bytes"[..];
    let err = client
        .upload("i", ImageData::reader(&mut data, Some(11)))
        .unwrap_err();
    assert_eq!(err.status(), Some(503), "{err:?}");
}

#[test]
fn an_upload_from_a_stream_fails_over_when_nothing_was_sent() {
    let good = Server::run();
    good.expect(
        Expectation::matching(httptest::all_of![
            request::method_path("PUT", "/v2/images/i/file"),
            request::body("image bytes"),
        ])
        .times(1)
        .respond_with(status_code(204)),
    );
    let client = Client::new(config(&[&refused_url(), &url(&good)])).unwrap();
    let mut data = &b"image bytes"[..];
    client
        .upload("i", ImageData::reader(&mut data, Some(11)))
        .expect("the stream was not read yet, so the next server gets all of it");
}

#[test]
fn an_upload_from_a_seekable_source_is_resent_from_its_start() {
    let (a, b) = (Server::run(), Server::run());
    a.expect(
        Expectation::matching(request::method_path("PUT", "/v2/images/i/file"))
            .times(1)
            .respond_with(status_code(503)),
    );
    b.expect(
        Expectation::matching(httptest::all_of![
            request::method_path("PUT", "/v2/images/i/file"),
            request::body("image bytes"),
        ])
        .times(1)
        .respond_with(status_code(204)),
    );
    let client = Client::new(config(&[&url(&a), &url(&b)])).unwrap();
    let mut source = Cursor::new(b"skip:image bytes".to_vec());
    source.set_position(5);
    client
        .upload("i", ImageData::seekable(&mut source, Some(11)))
        .expect("the second server gets the whole body again");
}

#[test]
fn a_body_that_breaks_off_is_retried_on_the_next_server() {
    let broken = RawServer::answering(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n",
        br#"{"versions": ["#,
    );
    let good = Server::run();
    versions_ok(&good, 1);
    let client = Client::new(config(&[&broken.url, &url(&good)])).unwrap();
    assert!(
        client.versions().is_ok(),
        "the second server's answer is used"
    );
    assert_eq!(broken.accepted(), 1);
}

#[test]
fn a_connection_closed_without_an_answer_is_retried() {
    let closing = RawServer::start(drop);
    let good = Server::run();
    versions_ok(&good, 1);
    let client = Client::new(config(&[&closing.url, &url(&good)])).unwrap();
    assert!(
        client.versions().is_ok(),
        "the second server's answer is used"
    );
}

#[test]
fn the_rotation_visits_every_server_in_turn() {
    let servers = [Server::run(), Server::run(), Server::run()];
    for server in &servers {
        versions_ok(server, 2);
    }
    let urls: Vec<String> = servers.iter().map(url).collect();
    let client = Client::new(Config {
        shuffle_servers: true,
        ..config(&urls.iter().map(String::as_str).collect::<Vec<_>>())
    })
    .unwrap();
    for _ in 0..6 {
        client.versions().expect("every server answers");
    }
    // Each server verifies on drop that it saw exactly two of the six calls.
}

#[test]
fn shuffle_off_keeps_the_configured_order() {
    let mut servers = [Server::run(), Server::run(), Server::run()];
    for server in &servers {
        versions_ok(server, 1);
    }
    let urls: Vec<String> = servers.iter().map(url).collect();
    let client = Client::new(config(&urls.iter().map(String::as_str).collect::<Vec<_>>())).unwrap();
    let expected: Vec<String> = urls
        .iter()
        .map(|u| u.trim_end_matches('/').into())
        .collect();
    assert_eq!(client.servers(), expected.as_slice());
    for server in &mut servers {
        client.versions().unwrap();
        // Panics unless this very server took the call just made.
        server.verify_and_clear();
    }
}

#[test]
fn shuffle_on_changes_the_order_between_clients() {
    let urls: Vec<String> = (1..=6).map(|i| format!("http://10.0.0.{i}:9292")).collect();
    let orders: BTreeSet<Vec<String>> = (0..20)
        .map(|_| {
            let client = Client::new(Config {
                shuffle_servers: true,
                ..config(&urls.iter().map(String::as_str).collect::<Vec<_>>())
            })
            .unwrap();
            let mut order = client.servers().to_vec();
            let shown = order.clone();
            order.sort();
            assert_eq!(order, urls, "a shuffle keeps every server once");
            shown
        })
        .collect();
    assert!(
        orders.len() > 1,
        "20 clients all got the same order: {orders:?}"
    );
}

#[test]
fn failed_attempts_are_logged_with_server_and_reason_never_the_token() {
    common::record_logs();
    let refused = refused_url();
    let good = Server::run();
    versions_ok(&good, 1);
    let client = Client::new(Config {
        auth: Auth::Token("tok-s3cret-123".into()),
        ..config(&[&refused, &url(&good)])
    })
    .unwrap();
    client.versions().unwrap();
    let logs = common::logs();
    assert!(
        logs.iter().any(|l| l.starts_with("WARN")
            && l.contains(&format!("{refused}/versions"))
            && l.contains("connection refused")),
        "a warning names the server and the reason: {logs:#?}"
    );
    assert!(
        logs.iter().all(|l| !l.contains("s3cret")),
        "the token never reaches a log: {logs:#?}"
    );
}

/// A server that reads each whole request, then closes the connection
/// without answering: the request arrived, its answer is lost.
fn answer_lost() -> RawServer {
    RawServer::start(|mut stream| {
        let head = common::read_head(&mut stream).unwrap_or_default();
        let length = head
            .lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.trim().parse::<u64>().ok())
            .unwrap_or(0);
        let _ = std::io::copy(&mut (&mut stream).take(length), &mut std::io::sink());
        let _ = stream.shutdown(std::net::Shutdown::Both);
    })
}

const IMAGE: &str = "e54e8577-3aa8-44c2-afc1-6205679c7fba";

#[test]
fn a_delete_answered_404_after_a_lost_answer_is_done() {
    common::record_logs();
    let lost = answer_lost();
    let good = Server::run();
    good.expect(
        Expectation::matching(request::method_path(
            "DELETE",
            format!("/v2/images/{IMAGE}"),
        ))
        .times(1)
        .respond_with(status_code(404)),
    );
    let client = Client::new(config(&[&lost.url, &url(&good)])).unwrap();
    client
        .delete_image(IMAGE)
        .expect("the lost attempt deleted it; the 404 of the retry says so");
    assert_eq!(lost.accepted(), 1);
    assert!(
        common::logs().iter().any(|l| l.starts_with("WARN")
            && l.contains(&format!("DELETE /v2/images/{IMAGE}: 404 after an attempt"))),
        "{:#?}",
        common::logs()
    );
}

#[test]
fn a_delete_answered_404_without_a_lost_answer_is_not_found() {
    // A refused connection sent nothing: the 404 that follows is the truth.
    let good = Server::run();
    good.expect(
        Expectation::matching(request::method_path(
            "DELETE",
            format!("/v2/images/{IMAGE}"),
        ))
        .times(2)
        .respond_with(status_code(404)),
    );
    let client = Client::new(config(&[&refused_url(), &url(&good)])).unwrap();
    let err = client.delete_image(IMAGE).unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    let client = Client::new(config(&[&url(&good)])).unwrap();
    let err = client.delete_image(IMAGE).unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
}

#[test]
fn member_and_tag_removals_answered_404_after_a_lost_answer_are_done() {
    let lost = answer_lost();
    let good = Server::run();
    for path in [
        format!("/v2/images/{IMAGE}/members/p2"),
        format!("/v2/images/{IMAGE}/tags/t1"),
    ] {
        good.expect(
            Expectation::matching(request::method_path("DELETE", path))
                .times(1)
                .respond_with(status_code(404)),
        );
    }
    let client = Client::new(config(&[&lost.url, &url(&good)])).unwrap();
    // Each call starts after the last server the previous one tried: on
    // `lost` again, then its retry on `good`.
    client.remove_member(IMAGE, "p2").expect("member removed");
    client.remove_tag(IMAGE, "t1").expect("tag removed");
    assert_eq!(lost.accepted(), 2);
}

#[test]
fn a_member_add_answered_409_after_a_lost_answer_returns_the_member() {
    let lost = answer_lost();
    let good = Server::run();
    let member = format!(
        r#"{{"member_id": "p2", "image_id": "{IMAGE}", "status": "pending",
            "created_at": "2026-11-25T10:25:03Z", "updated_at": "2026-11-25T10:25:03Z",
            "schema": "/v2/schemas/member"}}"#
    );
    good.expect(
        Expectation::matching(request::method_path(
            "POST",
            format!("/v2/images/{IMAGE}/members"),
        ))
        .times(1)
        .respond_with(status_code(409).body(r#"{"message": "Member p2 already exists"}"#)),
    );
    good.expect(
        Expectation::matching(request::method_path(
            "GET",
            format!("/v2/images/{IMAGE}/members/p2"),
        ))
        .times(1)
        .respond_with(status_code(200).body(member)),
    );
    let client = Client::new(config(&[&lost.url, &url(&good)])).unwrap();
    let added = client
        .add_member(IMAGE, "p2")
        .expect("the lost attempt added the member");
    assert_eq!(
        (added.member_id.as_str(), added.status.as_str()),
        ("p2", "pending")
    );
    // The POST, then the GET of the member (a read, retried on `good` too).
    assert_eq!(lost.accepted(), 2);
}

#[test]
fn a_member_add_answered_409_without_a_lost_answer_is_a_conflict() {
    let good = Server::run();
    good.expect(
        Expectation::matching(request::method_path(
            "POST",
            format!("/v2/images/{IMAGE}/members"),
        ))
        .times(1)
        .respond_with(status_code(409)),
    );
    let client = Client::new(config(&[&url(&good)])).unwrap();
    let err = client.add_member(IMAGE, "p2").unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
}

#[test]
fn a_create_with_an_id_answered_409_after_a_lost_answer_returns_the_image() {
    let lost = answer_lost();
    let good = Server::run();
    good.expect(
        Expectation::matching(request::method_path("POST", "/v2/images"))
            .times(1)
            .respond_with(status_code(409)),
    );
    good.expect(
        Expectation::matching(request::method_path("GET", format!("/v2/images/{IMAGE}")))
            .times(1)
            .respond_with(status_code(200).body(CREATED)),
    );
    let client = Client::new(config(&[&lost.url, &url(&good)])).unwrap();
    let new = NewImage {
        id: Some(IMAGE.into()),
        ..NewImage::default()
    };
    let image = client
        .create_image(&new)
        .expect("the lost attempt created it");
    assert_eq!(image.id, IMAGE);
}

#[test]
fn a_create_answered_409_after_a_lost_answer_is_a_conflict_when_the_id_holds_another_image() {
    let lost = answer_lost();
    let good = Server::run();
    good.expect(
        Expectation::matching(request::method_path("POST", "/v2/images"))
            .times(1)
            .respond_with(status_code(409).body(r#"{"message": "Image ID already exists"}"#)),
    );
    good.expect(
        Expectation::matching(request::method_path("GET", format!("/v2/images/{IMAGE}")))
            .times(1)
            .respond_with(status_code(200).body(CREATED)),
    );
    let client = Client::new(config(&[&lost.url, &url(&good)])).unwrap();
    let new = NewImage {
        id: Some(IMAGE.into()),
        name: Some("not-the-name-the-server-has".into()),
        ..NewImage::default()
    };
    let err = client.create_image(&new).unwrap_err();
    assert!(
        matches!(&err, Error::Conflict(e) if e.message.contains("already exists")),
        "someone else's image under the id must stay a conflict, got {err:?}"
    );
}

#[test]
fn a_v1_delete_answered_404_after_a_lost_answer_is_done() {
    let lost = answer_lost();
    let good = Server::run();
    good.expect(
        Expectation::matching(request::method_path(
            "DELETE",
            format!("/v1/images/{IMAGE}"),
        ))
        .times(1)
        .respond_with(status_code(404)),
    );
    let client = Client::new(Config {
        api_version: glance_client::ApiVersion::V1,
        ..config(&[&lost.url, &url(&good)])
    })
    .unwrap();
    client
        .delete_image(IMAGE)
        .expect("deleted by the lost attempt");
}

#[test]
fn a_server_url_with_a_password_is_refused_before_any_log_line_shows_it() {
    common::record_logs();
    for entry in [
        "admin:pw-Hunter2@127.0.0.1:9292",
        "http://admin:pw-Hunter2@127.0.0.1:9292",
        "admin:pw//Hunter2@127.0.0.1",
    ] {
        let err = Client::new(config(&[entry])).unwrap_err();
        assert!(matches!(err, Error::Config { .. }), "{entry}: {err:?}");
        assert!(!err.to_string().contains("Hunter2"), "{entry}: {err}");
        assert!(!format!("{err:?}").contains("Hunter2"), "{entry}: {err:?}");
    }
    let logs = common::logs();
    assert!(
        logs.iter().all(|l| !l.contains("Hunter2")),
        "the password never reaches a log: {logs:#?}"
    );
    // A plain entry without a scheme still gets its warning.
    Client::new(config(&["127.0.0.1:9"])).unwrap();
    assert!(
        common::logs()
            .iter()
            .any(|l| l.starts_with("WARN") && l.contains("\"127.0.0.1:9\" has no scheme")),
        "{:#?}",
        common::logs()
    );
}

/// A Glance that answers an upload at once with 409 and closes the
/// connection without reading the data (as Glance does when the image
/// already has data), and shows the image as `status`.
fn early_409_server(status: &'static str) -> RawServer {
    use std::io::Write;
    RawServer::start(move |mut stream| {
        let head = common::read_head(&mut stream).unwrap_or_default();
        let answer = if head.starts_with("PUT ") {
            "HTTP/1.1 409 Conflict\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}".to_string()
        } else {
            let body = format!(r#"{{"id": "img", "status": "{status}", "visibility": "private"}}"#);
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
        };
        let _ = stream.write_all(answer.as_bytes());
        let _ = stream.shutdown(std::net::Shutdown::Both);
    })
}

#[test]
fn an_upload_refused_early_is_a_conflict_not_a_retried_transport_error() {
    let server = early_409_server("active");
    let client = Client::new(config(&[&server.url])).unwrap();
    // Far more than the socket buffers, so the client is still sending
    // when the server has answered and closed.
    let data = vec![7u8; 64 * 1024 * 1024];
    let err = client
        .upload(
            "img",
            ImageData::seekable(&mut Cursor::new(&data), Some(data.len() as u64)),
        )
        .unwrap_err();
    assert!(
        matches!(err, Error::Conflict(_)),
        "expected Conflict, got {err:?}"
    );
    assert!(err.to_string().contains("active"), "{err}");
    // One upload attempt and one look at the image, not a retry per server.
    assert_eq!(server.accepted(), 2);
    let err = client
        .upload(
            "img",
            ImageData::reader(&mut &data[..], Some(data.len() as u64)),
        )
        .unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "stream upload: {err:?}");
}

#[test]
fn an_upload_broken_off_while_the_image_is_still_queued_stays_a_transport_failure() {
    let server = early_409_server("queued");
    let client = Client::new(Config {
        num_retries: 1,
        ..config(&[&server.url])
    })
    .unwrap();
    let data = vec![7u8; 64 * 1024 * 1024];
    let err = client
        .upload(
            "img",
            ImageData::seekable(&mut Cursor::new(&data), Some(data.len() as u64)),
        )
        .unwrap_err();
    assert!(
        matches!(err, Error::AllServersFailed(_)),
        "retried, then given up: {err:?}"
    );
}
