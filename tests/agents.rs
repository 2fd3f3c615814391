//! Embedding in long-running agents, against scripted servers: a cancel
//! from another thread (a download stalled mid-body, a retry's pause),
//! deadlines that cut off a server that trickles, and the caller's
//! identity (global request id, User-Agent) on the wire.

#[path = "download/harness.rs"]
mod harness;

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use glance_client::{CallOptions, Cancel, DownloadOptions, Error, ImageData, ListQuery};

use harness::*;

const REQUEST_ID: &str = "req-4a1c7f2e-9a43-4d0b-8a55-2f3c9e1b7d60";
const OTHER_ID: &str = "req-0e2b1c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";

/// A Glance that answers the image record with `data`'s and its data
/// endpoint as `file` says (called with the data request's index).
fn show_then(
    data: &[u8],
    mut file: impl FnMut(&Seen, usize) -> Act + Send + 'static,
) -> Arc<Scripted> {
    let json = image_json(data, &[]);
    let mut n = 0;
    Arc::new(Scripted::start(move |seen, _| {
        if seen.path.ends_with("/file") {
            n += 1;
            file(seen, n - 1)
        } else {
            Act::json(&json)
        }
    }))
}

/// Waits (bounded, 20 s) until `ready` holds.
fn until(what: &str, ready: impl Fn() -> bool) {
    let limit = Instant::now() + Duration::from_secs(20);
    while !ready() {
        assert!(Instant::now() < limit, "{what} did not happen within 20 s");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Triggers `cancel` from another thread once `ready` holds.
fn cancel_when(cancel: &Cancel, what: &'static str, ready: impl Fn() -> bool + Send + 'static) {
    let cancel = cancel.clone();
    std::thread::spawn(move || {
        until(what, ready);
        cancel.cancel();
    });
}

#[test]
fn a_cancel_from_another_thread_stops_a_download_stalled_mid_body() {
    let data = sample(400_000, 21);
    let server = show_then(&data, {
        let data = data.clone();
        move |_, _| Act::Stall {
            headers: octet_headers(&data),
            announced: data.len(),
            body: data[..150_000].to_vec(),
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("image.raw");
    let cancel = Cancel::new();
    let (watched, stopper) = (server.clone(), cancel.clone());
    std::thread::spawn(move || {
        until("the data request", || !watched.data_requests().is_empty());
        // Most likely blocked in the stall by now; earlier gives the same result.
        std::thread::sleep(Duration::from_millis(300));
        stopper.cancel();
    });
    let url = server.url.clone();
    let result = within(Duration::from_secs(20), move || {
        let options = DownloadOptions {
            cancel: Some(cancel),
            ..DownloadOptions::default()
        };
        // The read blocked in the stall ends at the latest at the I/O timeout.
        client(&[&url], |c| c.io_timeout = Some(Duration::from_secs(5)))
            .download(ID, &dest, options)
    });
    assert!(matches!(result, Err(Error::Cancelled)), "{result:?}");
    assert!(
        entries(dir.path()).is_empty(),
        "nothing published, nothing left"
    );
    assert_eq!(
        server.data_requests().len(),
        1,
        "no resume after the cancel"
    );
    assert_eq!(
        server.seen().len(),
        2,
        "the record and the data, nothing else"
    );
}

#[test]
fn a_cancel_ends_a_retry_pause_at_once() {
    let data = sample(1_000, 22);
    let server = show_then(&data, |_, _| Act::status(503, "{}"));
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("image.raw");
    let cancel = Cancel::new();
    let watched = server.clone();
    cancel_when(&cancel, "the first data request", move || {
        !watched.data_requests().is_empty()
    });
    let url = server.url.clone();
    // A 60 s pause between attempts; the watchdog gives the whole call 10 s.
    let result = within(Duration::from_secs(10), move || {
        let options = DownloadOptions {
            cancel: Some(cancel),
            ..DownloadOptions::default()
        };
        client(&[&url], |c| c.retry_delay = Duration::from_secs(60)).download(ID, &dest, options)
    });
    assert!(matches!(result, Err(Error::Cancelled)), "{result:?}");
    assert!(entries(dir.path()).is_empty());
    assert_eq!(
        server.data_requests().len(),
        1,
        "no attempt after the cancel"
    );
}

#[test]
fn a_cancelled_view_stops_a_listing_in_its_retry_pause() {
    let server = Arc::new(Scripted::start(|_, _| Act::status(503, "{}")));
    let cancel = Cancel::new();
    let watched = server.clone();
    cancel_when(&cancel, "the first page request", move || {
        !watched.seen().is_empty()
    });
    let url = server.url.clone();
    let first = within(Duration::from_secs(10), move || {
        let client = client(&[&url], |c| c.retry_delay = Duration::from_secs(60));
        let view = client.with(CallOptions {
            cancel: Some(cancel),
            ..CallOptions::default()
        });
        let mut images = view.images(&ListQuery::default());
        (images.next(), images.next())
    });
    assert!(matches!(first.0, Some(Err(Error::Cancelled))), "{first:?}");
    assert!(first.1.is_none(), "the listing ends");
    assert_eq!(server.seen().len(), 1);
}

#[test]
fn a_cancelled_handle_stops_every_call_before_any_request() {
    let server = serving(image_json(b"x", &[]), b"x".to_vec());
    let cancel = Cancel::new();
    cancel.cancel();
    let view = client(&[&server.url], |_| {}).with(CallOptions {
        cancel: Some(cancel.clone()),
        ..CallOptions::default()
    });
    assert!(matches!(view.image(ID), Err(Error::Cancelled)));
    assert!(matches!(view.auth_token(), Err(Error::Cancelled)));
    let mut data = io::Cursor::new(vec![0u8; 10]);
    let upload = view.upload(ID, ImageData::seekable(&mut data, Some(10)));
    assert!(matches!(upload, Err(Error::Cancelled)), "{upload:?}");
    let dir = tempfile::tempdir().unwrap();
    let options = DownloadOptions {
        cancel: Some(cancel),
        ..DownloadOptions::default()
    };
    let download = client(&[&server.url], |_| {}).download(ID, dir.path().join("x"), options);
    assert!(matches!(download, Err(Error::Cancelled)), "{download:?}");
    assert!(server.seen().is_empty(), "{:?}", server.seen());
}

#[test]
fn a_deadline_cuts_off_a_download_that_trickles_a_byte_per_second() {
    let data = sample(100, 23);
    let server = show_then(&data, {
        let data = data.clone();
        move |_, _| Act::Trickle {
            headers: octet_headers(&data),
            body: data.clone(),
            every: Duration::from_secs(1),
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("image.raw");
    let url = server.url.clone();
    let result = within(Duration::from_secs(20), move || {
        let options = DownloadOptions {
            deadline: Some(Instant::now() + Duration::from_secs(3)),
            ..DownloadOptions::default()
        };
        // Every byte comes well within the I/O timeout: only the deadline ends it.
        client(&[&url], |c| c.io_timeout = Some(Duration::from_secs(5)))
            .download(ID, &dest, options)
    });
    match &result {
        Err(e @ Error::DeadlineExceeded { deadline, during }) => {
            assert!(deadline.contains("DownloadOptions::deadline"), "{e}");
            assert!(during.contains("image"), "{e}");
        }
        other => panic!("expected the download's deadline, got {other:?}"),
    }
    assert!(entries(dir.path()).is_empty());
    assert_eq!(server.data_requests().len(), 1, "a deadline is not resumed");
}

#[test]
fn a_call_timeout_cuts_off_an_answer_that_trickles() {
    let json = image_json(b"x", &[]).to_string().into_bytes();
    let server = Scripted::start(move |_, _| Act::Trickle {
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: json.clone(),
        every: Duration::from_secs(1),
    });
    let url = server.url.clone();
    let result = within(Duration::from_secs(20), move || {
        client(&[&url], |c| c.call_timeout = Some(Duration::from_secs(2))).image(ID)
    });
    match &result {
        Err(e @ Error::DeadlineExceeded { deadline, .. }) => {
            assert!(deadline.contains("Config::call_timeout"), "{e}");
        }
        other => panic!("expected the call timeout, got {other:?}"),
    }
    assert_eq!(server.seen().len(), 1, "not retried");
}

#[test]
fn the_global_request_id_and_user_agent_reach_the_server() {
    let data = sample(10_000, 24);
    let server = show_then(&data, {
        let data = data.clone();
        move |_, _| Act::data(&data)
    });
    let client = client(&[&server.url], |c| {
        c.global_request_id = Some(REQUEST_ID.into());
        c.user_agent_prefix = Some("test-agent/1.0".into());
    });
    let dir = tempfile::tempdir().unwrap();
    client
        .download(ID, dir.path().join("a"), DownloadOptions::default())
        .unwrap();
    let view = client.with(CallOptions {
        request_id: Some(OTHER_ID.into()),
        ..CallOptions::default()
    });
    view.image(ID).unwrap();
    let seen = server.seen();
    assert_eq!(seen.len(), 3, "{seen:?}");
    let ids: Vec<&str> = seen
        .iter()
        .map(|s| s.headers["x-openstack-request-id"].as_str())
        .collect();
    assert_eq!(ids, [REQUEST_ID, REQUEST_ID, OTHER_ID]);
    for s in &seen {
        let agent = &s.headers["user-agent"];
        assert!(
            agent.starts_with("test-agent/1.0 glance-client-rust/"),
            "{agent}"
        );
    }
}

#[test]
fn an_invalid_request_id_is_refused_before_any_request() {
    let server = serving(image_json(b"x", &[]), b"x".to_vec());
    let view = client(&[&server.url], |_| {}).with(CallOptions {
        request_id: Some("req-1".into()),
        ..CallOptions::default()
    });
    let err = view.image(ID).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidInput(m) if m.starts_with("CallOptions::request_id \"req-1\"")),
        "{err:?}"
    );
    let dir = tempfile::tempdir().unwrap();
    let err = view
        .download(ID, dir.path().join("x"), DownloadOptions::default())
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err:?}");
    assert!(entries(dir.path()).is_empty());
    assert!(server.seen().is_empty(), "{:?}", server.seen());
    let config = glance_client::Config {
        global_request_id: Some("req-4A1C7F2E-9A43-4D0B-8A55-2F3C9E1B7D60".into()),
        ..glance_client::Config::for_server(&server.url)
    };
    let err = glance_client::Client::new(config).unwrap_err();
    assert!(
        matches!(&err, Error::Config { message, .. } if message.starts_with("global_request_id")),
        "{err:?}"
    );
}
