//! Embedding in long-running agents, against scripted servers: a cancel
//! from another thread (a download stalled mid-body, a retry's pause, an
//! upload that is sending), deadlines that cut off a server that trickles,
//! upload sources that fail, and the caller's identity (global request id,
//! User-Agent) on the wire.

#[path = "download/harness.rs"]
mod harness;

use std::io::{self, Read, Seek, SeekFrom};
use std::ops::ControlFlow;
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

/// `len` zero bytes, read in pieces of at most 64 KiB.
struct Zeros {
    left: u64,
}

impl Read for Zeros {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(64 * 1024).min(self.left as usize);
        buf[..n].fill(0);
        self.left -= n as u64;
        Ok(n)
    }
}

#[test]
fn a_cancel_from_another_thread_stops_an_upload_that_is_sending() {
    // The server takes the body slowly (16 KiB every 20 ms) and never answers.
    let server = Arc::new(Scripted::start(|_, _| Act::Absorb {
        pause: Duration::from_millis(20),
    }));
    let cancel = Cancel::new();
    let watched = server.clone();
    cancel_when(&cancel, "100 KB of the upload", move || {
        watched.absorbed() > 100_000
    });
    let url = server.url.clone();
    let result = within(Duration::from_secs(20), move || {
        let client = client(&[&url], |c| c.io_timeout = Some(Duration::from_secs(5)));
        let view = client.with(CallOptions {
            cancel: Some(cancel),
            ..CallOptions::default()
        });
        let mut source = Zeros { left: 1 << 30 };
        view.upload(ID, ImageData::reader(&mut source, Some(1 << 30)))
    });
    assert!(matches!(result, Err(Error::Cancelled)), "{result:?}");
    let seen = server.seen();
    assert_eq!(seen.len(), 1, "one PUT, no GET after it: {seen:?}");
    assert_eq!(seen[0].method, "PUT");
}

#[test]
fn the_upload_progress_callback_counts_and_can_stop_it() {
    let server = Scripted::start(|_, _| Act::Absorb {
        pause: Duration::ZERO,
    });
    let mut calls = Vec::new();
    let mut source = io::Cursor::new(vec![7u8; 1 << 20]);
    let data = ImageData::seekable(&mut source, Some(1 << 20)).with_progress(|sent, total| {
        calls.push((sent, total));
        if sent >= 200_000 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    let result = client(&[&server.url], |_| {}).upload(ID, data);
    assert!(matches!(result, Err(Error::Cancelled)), "{result:?}");
    assert!(calls.windows(2).all(|w| w[0].0 < w[1].0), "{calls:?}");
    assert!(calls.iter().all(|&(_, total)| total == Some(1 << 20)));
    // The server may read the request's head after the client gave up.
    until("the PUT", || !server.seen().is_empty());
    let seen = server.seen();
    assert_eq!(seen.len(), 1, "not retried, no GET: {seen:?}");
    assert_eq!(seen[0].method, "PUT");
}

/// A source that gives `good` bytes, then fails like a disk.
struct Failing {
    good: u64,
    at: u64,
}

impl Read for Failing {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.at >= self.good {
            return Err(io::Error::other("disk read error at sector 1234"));
        }
        let n = buf.len().min((self.good - self.at) as usize);
        buf[..n].fill(1);
        self.at += n as u64;
        Ok(n)
    }
}

impl Seek for Failing {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        match pos {
            SeekFrom::Start(n) => self.at = n,
            SeekFrom::Current(0) => {}
            _ => return Err(io::Error::other("not that way")),
        }
        Ok(self.at)
    }
}

#[test]
fn an_upload_source_that_fails_mid_stream_is_one_attempt_without_a_get() {
    for seekable in [true, false] {
        let server = Scripted::start(|_, _| Act::Absorb {
            pause: Duration::ZERO,
        });
        // Retries allowed, no pause: only the error's meaning stops them.
        let client = client(&[&server.url], |c| c.num_retries = 3);
        let mut source = Failing {
            good: 300_000,
            at: 0,
        };
        let data = if seekable {
            ImageData::seekable(&mut source, Some(1 << 20))
        } else {
            ImageData::reader(&mut source, Some(1 << 20))
        };
        let err = client.upload(ID, data).unwrap_err();
        match &err {
            Error::Io { context, source } => {
                assert!(
                    context.starts_with("reading the upload source (after "),
                    "{err}"
                );
                assert_eq!(source.to_string(), "disk read error at sector 1234");
            }
            other => panic!("expected an I/O error about the source, got {other:?}"),
        }
        assert!(
            !err.to_string().contains(&server.url),
            "not the server's: {err}"
        );
        // The server reads the PUT's head on its own thread; a GET would have
        // been answered, so recorded, before the upload returned.
        until("the PUT", || !server.seen().is_empty());
        let seen = server.seen();
        assert_eq!(seen.len(), 1, "one attempt, no GET: {seen:?}");
        assert_eq!(seen[0].method, "PUT");
    }
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
