//! The caller's global request id at a real Glance 33.
//!
//! Glance's stock pipeline has no oslo.middleware `request_id` filter; its
//! own `context` middleware takes a valid inbound `X-OpenStack-Request-ID`
//! as the request's id instead. Either way the id the client sends is the
//! one Glance logs and answers with, so its log lines and the caller's
//! meet on it.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use glance_client::{Client, Config, Error};

use crate::support;

/// A lowercase UUID (version 4 form) no other run shares.
fn fresh_uuid(salt: u64) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let n = nanos ^ u128::from(salt) << 64;
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        std::process::id(),
        (n >> 48) & 0xffff,
        (n >> 36) & 0xfff,
        (n >> 64) & 0xfff,
        n & 0xffff_ffff_ffff
    )
}

#[test]
fn glance_answers_and_logs_with_the_callers_request_id() {
    let Some(lab) = support::lab() else { return };
    let id = format!("req-{}", fresh_uuid(1));
    let client = Client::new(Config {
        global_request_id: Some(id.clone()),
        ..lab.config()
    })
    .unwrap();
    let missing = fresh_uuid(2);
    let err = client.delete_image(&missing).unwrap_err();
    let Error::NotFound(api) = &err else {
        panic!("expected NotFound, got {err:?}")
    };
    assert_eq!(
        api.request_id.as_deref(),
        Some(id.as_str()),
        "Glance took the caller's id as its own"
    );
    let Some(dir) = &lab.dir else {
        support::say("glance-api.log not checked: the lab's directory is not known");
        return;
    };
    // Glance logs the failed delete at WARNING, with the request's ids.
    let log = dir.join("log/glance-api.log");
    let limit = Instant::now() + Duration::from_secs(20);
    loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(line) = text
            .lines()
            .find(|l| l.contains(&missing) && l.contains("WARNING"))
        {
            assert!(line.contains(&id), "the log line carries the id: {line}");
            break;
        }
        assert!(
            Instant::now() < limit,
            "no log line for image {missing} in {}",
            log.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
