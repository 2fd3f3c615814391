//! Timeouts: a stalled server is detected by the per-read timeout and the
//! next one answers; a body that stalls midway fails its read; a slow body
//! that keeps moving is never cut off (no overall deadline).

mod common;

use std::io::Read;
use std::time::Duration;

use common::{RawServer, config, url, versions_ok, within};
use glance_client::{Client, Config, Error};
use httptest::Server;

#[test]
fn a_stalled_server_times_out_and_the_next_one_answers() {
    let stalled = RawServer::stalled();
    let good = Server::run();
    versions_ok(&good, 1);
    let config = Config {
        io_timeout: Some(Duration::from_millis(300)),
        ..config(&[&stalled.url, &url(&good)])
    };
    let client = Client::new(config).unwrap();
    let result = within(
        Duration::from_secs(20),
        "failover from a stalled server",
        move || client.versions(),
    );
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(stalled.accepted(), 1, "the stalled server was tried first");
}

#[test]
fn a_server_that_stalls_everywhere_gives_timeout_errors() {
    let stalled = RawServer::stalled();
    let config = Config {
        num_retries: 1,
        io_timeout: Some(Duration::from_millis(200)),
        ..config(&[&stalled.url])
    };
    let client = Client::new(config).unwrap();
    let err = within(
        Duration::from_secs(20),
        "two timed-out attempts",
        move || client.versions().unwrap_err(),
    );
    let Error::AllServersFailed(attempts) = &err else {
        panic!("expected AllServersFailed, got {err:?}");
    };
    assert!(
        attempts
            .iter()
            .all(|(_, e)| matches!(e, Error::Transport { timeout: true, .. })),
        "every attempt is a timeout: {err}"
    );
}

#[test]
fn a_slow_body_is_never_cut_while_data_keeps_coming() {
    // 30 chunks 50 ms apart: 1.5 s in all, three times the per-read timeout.
    let trickle = RawServer::start(|mut stream| {
        use std::io::Write;
        let _ = common::read_head(&mut stream);
        let _ = stream.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 30\r\n\r\n",
        );
        for _ in 0..30 {
            let _ = stream.write_all(b"x");
            let _ = stream.flush();
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    let client = Client::new(Config {
        io_timeout: Some(Duration::from_millis(500)),
        ..config(&[&trickle.url])
    })
    .unwrap();
    let data = within(Duration::from_secs(30), "a trickling download", move || {
        let mut stream = client.open_download("img").expect("download starts");
        let mut data = Vec::new();
        stream.read_to_end(&mut data).map(|_| data)
    });
    assert_eq!(data.expect("the whole body arrives").len(), 30);
}

#[test]
fn a_body_that_stalls_midway_is_detected() {
    let stalling = RawServer::start(|mut stream| {
        use std::io::Write;
        let _ = common::read_head(&mut stream);
        let _ = stream.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 100\r\n\r\nfirst bytes",
        );
        let _ = stream.flush();
        // Keep the connection open, silent, until the client gives up.
        let _ = stream.set_read_timeout(Some(Duration::from_secs(20)));
        let _ = stream.read(&mut [0u8; 1]);
    });
    let client = Client::new(Config {
        io_timeout: Some(Duration::from_millis(300)),
        ..config(&[&stalling.url])
    })
    .unwrap();
    let result = within(
        Duration::from_secs(20),
        "reading a stalled body",
        move || {
            let mut stream = client.open_download("img").expect("download starts");
            let mut data = Vec::new();
            stream
                .read_to_end(&mut data)
                .map_err(|e| (e.kind(), e.to_string()))
        },
    );
    let (kind, message) = result.expect_err("the read fails");
    assert_eq!(kind, std::io::ErrorKind::TimedOut, "{message}");
    assert_eq!(
        message,
        format!("{}: timed out waiting for the answer", stalling.url)
    );
}
