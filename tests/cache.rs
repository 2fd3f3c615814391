//! The host image cache (`ImageCache`) against scripted Glance servers:
//! one download per image however many fetch it, reuse only while the
//! record matches, checkouts that pin an entry, eviction, verification and
//! the leftovers of killed fetches.

#[path = "download/harness.rs"]
mod harness;

use std::fs;
use std::ops::ControlFlow;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use glance_client::cache::{CacheStatus, CleanPolicy};
use glance_client::{DownloadOptions, Error, ImageCache};
use harness::{Act, ID, Scripted, client, entries, image_json, sample, serving, within};

/// A cache in a fresh temporary directory.
fn cache() -> (tempfile::TempDir, ImageCache) {
    let dir = tempfile::tempdir().unwrap();
    let cache = ImageCache::new(dir.path().join("cache")).unwrap();
    (dir, cache)
}

/// The image's JSON under another id (for caches holding several images).
fn image_json_as(id: &str, data: &[u8]) -> serde_json::Value {
    let mut json = image_json(data, &[]);
    json["id"] = id.into();
    json
}

/// Rewrites a field of an entry's record (the format is documented).
fn set_record(cache: &ImageCache, id: &str, key: &str, value: serde_json::Value) {
    let path = cache.dir().join(format!("{id}.json"));
    let mut record: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    record[key] = value;
    fs::write(&path, record.to_string()).unwrap();
}

#[test]
fn a_fetch_downloads_once_and_a_hit_costs_one_record_request() {
    let data = sample(300_000, 1);
    let glance = serving(image_json(&data, &[]), data.clone());
    let client = client(&[&glance.url], |_| {});
    let (_tmp, cache) = cache();

    let first = cache
        .fetch(&client, ID, DownloadOptions::default())
        .unwrap();
    assert_eq!(first.status, CacheStatus::Fetched);
    assert_eq!(first.bytes, data.len() as u64);
    assert_eq!(first.path, cache.dir().join(ID));
    assert_eq!(fs::read(&first.path).unwrap(), data);
    let mode = fs::metadata(&first.path).unwrap().permissions().mode();
    assert_eq!(mode & 0o222, 0, "cached data is read-only: {mode:o}");
    assert_eq!(
        entries(cache.dir()),
        [ID.to_string(), format!("{ID}.json"), format!("{ID}.lock")]
    );
    let requests = glance.seen().len();

    let second = cache
        .fetch(&client, ID, DownloadOptions::default())
        .unwrap();
    assert_eq!(second.status, CacheStatus::Existing);
    assert_eq!(second.path, first.path);
    assert!(second.download.is_none());
    let hit: Vec<String> = glance.seen()[requests..]
        .iter()
        .map(|s| format!("{} {}", s.method, s.path))
        .collect();
    assert_eq!(
        hit,
        [format!("GET /v2/images/{ID}")],
        "a hit reads the record only"
    );
}

#[test]
fn eight_threads_fetching_one_image_download_it_once() {
    let data = sample(2_000_000, 2);
    let glance = serving(image_json(&data, &[]), data.clone());
    let client = client(&[&glance.url], |_| {});
    let (_tmp, cache) = cache();
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| s.spawn(|| cache.fetch(&client, ID, DownloadOptions::default())))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut fetched = 0;
    for result in results {
        let cached = result.unwrap();
        fetched += usize::from(cached.status == CacheStatus::Fetched);
        assert_eq!(cached.path, cache.dir().join(ID));
    }
    assert_eq!(fetched, 1, "exactly one thread downloaded");
    assert_eq!(glance.data_requests().len(), 1, "one GET of the data");
    assert_eq!(fs::read(cache.dir().join(ID)).unwrap(), data);
}

#[test]
fn an_entry_whose_record_no_longer_matches_is_replaced_and_checkouts_keep_theirs() {
    let old = sample(100_000, 3);
    let new = sample(120_000, 4);
    let current = Arc::new(Mutex::new((image_json(&old, &[]), old.clone())));
    let served = current.clone();
    let glance = Scripted::start(move |seen, _| {
        let (json, data) = &*served.lock().unwrap();
        if seen.path.ends_with("/file") {
            Act::data(data)
        } else {
            Act::json(json)
        }
    });
    let client = client(&[&glance.url], |_| {});
    let (tmp, cache) = cache();
    cache
        .fetch(&client, ID, DownloadOptions::default())
        .unwrap();
    let pinned = tmp.path().join("vm-disk");
    assert!(cache.checkout(ID, &pinned).unwrap().linked);

    *current.lock().unwrap() = (image_json(&new, &[]), new.clone());
    let again = cache
        .fetch(&client, ID, DownloadOptions::default())
        .unwrap();
    assert_eq!(again.status, CacheStatus::Fetched, "the image changed");
    assert_eq!(fs::read(cache.dir().join(ID)).unwrap(), new);
    assert_eq!(
        fs::read(&pinned).unwrap(),
        old,
        "the checkout keeps its data"
    );

    // A record edited behind the cache's back no longer matches either.
    set_record(&cache, ID, "os_hash_value", "0".repeat(128).into());
    let replaced = cache
        .fetch(&client, ID, DownloadOptions::default())
        .unwrap();
    assert_eq!(replaced.status, CacheStatus::Fetched);
    assert_eq!(glance.data_requests().len(), 3);
}

#[test]
fn a_checked_out_entry_is_in_use_and_survives_any_age_until_its_link_goes() {
    let data = sample(50_000, 5);
    let glance = serving(image_json(&data, &[]), data.clone());
    let client = client(&[&glance.url], |_| {});
    let (tmp, cache) = cache();
    cache
        .fetch(&client, ID, DownloadOptions::default())
        .unwrap();
    let dest = tmp.path().join("disk");
    fs::write(&dest, b"an older file at the destination").unwrap();
    let checkout = cache.checkout(ID, &dest).unwrap();
    assert!(checkout.linked);
    assert_eq!(fs::read(&dest).unwrap(), data);
    assert_eq!(fs::metadata(&dest).unwrap().nlink(), 2);
    assert_eq!(entries(tmp.path()), ["cache", "disk"], "no temporary left");
    // Checked out again onto its own link: nothing changes, nothing is left.
    assert!(cache.checkout(ID, &dest).unwrap().linked);
    assert_eq!(fs::metadata(&dest).unwrap().nlink(), 2);
    assert_eq!(entries(tmp.path()), ["cache", "disk"]);

    let listed = cache.entries().unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].in_use);
    assert_eq!(listed[0].bytes, data.len() as u64);

    let report = cache
        .clean(&CleanPolicy::new().max_age(Duration::ZERO))
        .unwrap();
    assert!(report.removed.is_empty(), "{report:?}");
    assert!(cache.dir().join(ID).exists());

    fs::remove_file(&dest).unwrap();
    assert!(!cache.entries().unwrap()[0].in_use);
    let report = cache
        .clean(&CleanPolicy::new().max_age(Duration::ZERO))
        .unwrap();
    assert_eq!(report.removed, [ID]);
    assert_eq!(report.freed, data.len() as u64);
    assert!(
        entries(cache.dir()).is_empty(),
        "{:?}",
        entries(cache.dir())
    );
}

#[test]
fn a_size_budget_removes_the_least_recently_used_first() {
    let ids = [
        "00000000-0000-0000-0000-00000000000a",
        "00000000-0000-0000-0000-00000000000b",
        "00000000-0000-0000-0000-00000000000c",
    ];
    let images: Vec<(String, Vec<u8>)> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.to_string(), sample(10_000, 10 + i as u64)))
        .collect();
    let served = images.clone();
    let glance = Scripted::start(move |seen, _| {
        let (id, data) = served
            .iter()
            .find(|(id, _)| seen.path.contains(id.as_str()))
            .unwrap();
        if seen.path.ends_with("/file") {
            Act::data(data)
        } else {
            Act::json(&image_json_as(id, data))
        }
    });
    let client = client(&[&glance.url], |_| {});
    let (_tmp, cache) = cache();
    for id in ids {
        cache
            .fetch(&client, id, DownloadOptions::default())
            .unwrap();
    }
    // b was used longest ago, then c, then a.
    set_record(&cache, ids[1], "last_used", 1_000.into());
    set_record(&cache, ids[2], "last_used", 2_000.into());
    set_record(&cache, ids[0], "last_used", 3_000.into());
    let listed: Vec<String> = cache.entries().unwrap().into_iter().map(|e| e.id).collect();
    assert_eq!(listed, [ids[1], ids[2], ids[0]], "oldest use first");

    let report = cache.clean(&CleanPolicy::new().max_size(15_000)).unwrap();
    assert_eq!(report.removed, [ids[1], ids[2]]);
    assert_eq!(report.freed, 20_000);
    let left: Vec<String> = cache.entries().unwrap().into_iter().map(|e| e.id).collect();
    assert_eq!(left, [ids[0]]);
}

#[test]
fn verify_removes_an_entry_with_a_flipped_byte() {
    let data = sample(70_000, 6);
    let glance = serving(image_json(&data, &[]), data.clone());
    let client = client(&[&glance.url], |_| {});
    let (_tmp, cache) = cache();
    cache
        .fetch(&client, ID, DownloadOptions::default())
        .unwrap();
    let report = cache.verify().unwrap();
    assert_eq!((report.checked, report.removed.len()), (1, 0));

    let path = cache.dir().join(ID);
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    let mut bytes = fs::read(&path).unwrap();
    bytes[1234] ^= 0x01;
    fs::write(&path, bytes).unwrap();
    let report = cache.verify().unwrap();
    assert_eq!(report.checked, 1);
    assert_eq!(report.removed, [ID]);
    assert!(
        entries(cache.dir()).is_empty(),
        "{:?}",
        entries(cache.dir())
    );
}

#[test]
fn an_image_that_is_not_active_is_refused_and_leaves_nothing() {
    let mut json = image_json(b"", &[]);
    json["status"] = "queued".into();
    json["size"] = serde_json::Value::Null;
    let glance = serving(json, Vec::new());
    let client = client(&[&glance.url], |_| {});
    let (_tmp, cache) = cache();
    match cache.fetch(&client, ID, DownloadOptions::default()) {
        Err(Error::ImageNotActive { image_id, status }) => {
            assert_eq!((image_id.as_str(), status.as_str()), (ID, "queued"));
        }
        other => panic!("expected ImageNotActive, got {other:?}"),
    }
    assert!(entries(cache.dir()).is_empty());
    assert!(glance.data_requests().is_empty());
}

#[test]
fn an_id_that_is_not_a_glance_id_never_reaches_the_server_or_the_disk() {
    let glance = serving(image_json(b"x", &[]), b"x".to_vec());
    let client = client(&[&glance.url], |_| {});
    let (tmp, cache) = cache();
    for bad in ["../escape", "/etc/passwd", "a/b", "..", "x.json", ""] {
        let e = cache
            .fetch(&client, bad, DownloadOptions::default())
            .unwrap_err();
        assert!(
            e.to_string().contains("not a Glance image id"),
            "{bad:?}: {e}"
        );
        let e = cache.checkout(bad, tmp.path().join("out")).unwrap_err();
        assert!(
            e.to_string().contains("not a Glance image id"),
            "{bad:?}: {e}"
        );
    }
    assert!(glance.seen().is_empty());
    assert!(entries(cache.dir()).is_empty());
    assert_eq!(entries(tmp.path()), ["cache"]);
}

#[test]
fn a_checkout_of_an_image_not_in_the_cache_says_so() {
    let (tmp, cache) = cache();
    match cache.checkout(ID, tmp.path().join("out")) {
        Err(e @ Error::NotCached { .. }) => {
            assert!(e.to_string().contains("not in the cache"), "{e}")
        }
        other => panic!("expected NotCached, got {other:?}"),
    }
    assert_eq!(entries(tmp.path()), ["cache"], "no file at the destination");
}

#[test]
fn a_cache_directory_that_is_a_file_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("plain");
    fs::write(&file, b"").unwrap();
    let e = ImageCache::new(&file).unwrap_err();
    assert!(e.to_string().contains("plain"), "{e}");
    let e = ImageCache::new(file.join("below")).unwrap_err();
    assert!(
        e.to_string().contains("creating the cache directory"),
        "{e}"
    );
}

/// A Glance whose first data request sends `half` of the bytes and stalls;
/// later ones send everything.
fn stalling_once(data: &[u8], half: usize) -> Scripted {
    let data = data.to_vec();
    let json = image_json(&data, &[]);
    Scripted::start(move |seen, _| {
        if !seen.path.ends_with("/file") {
            return Act::json(&json);
        }
        match !seen.headers.contains_key("range") {
            true => Act::Stall {
                headers: harness::octet_headers(&data),
                announced: data.len(),
                body: data[..half].to_vec(),
            },
            false => Act::data(&data),
        }
    })
}

#[test]
fn a_fetch_waiting_for_another_reports_its_progress_and_can_be_cancelled() {
    let data = sample(1_000_000, 7);
    let glance = stalling_once(&data, 400_000);
    let (_tmp, cache) = cache();
    let slow = client(&[&glance.url], |c| {
        c.io_timeout = Some(Duration::from_secs(3));
        c.num_retries = 0;
    });
    std::thread::scope(|s| {
        // The first fetch takes the lock and stalls mid-body.
        let first = s.spawn(|| cache.fetch(&slow, ID, DownloadOptions::default()));
        let waiter = cache.clone();
        let client = slow.clone();
        let seen = within(Duration::from_secs(20), move || {
            let mut seen = Vec::new();
            let options = DownloadOptions {
                progress: Some(Box::new(|done, total| {
                    seen.push((done, total));
                    if done > 0 {
                        ControlFlow::Break(())
                    } else {
                        ControlFlow::Continue(())
                    }
                })),
                ..DownloadOptions::default()
            };
            let result = waiter.fetch(&client, ID, options);
            (result.map(|c| c.status), seen)
        });
        let (result, progress) = seen;
        assert!(matches!(result, Err(Error::Cancelled)), "{result:?}");
        let (done, total) = progress.last().copied().unwrap();
        assert!(done > 0, "the other fetch's bytes: {progress:?}");
        assert_eq!(total, Some(data.len() as u64));
        // The first one resumes after its read timeout and completes.
        let done = first.join().unwrap().unwrap();
        assert_eq!(done.status, CacheStatus::Fetched);
    });
    assert_eq!(fs::read(cache.dir().join(ID)).unwrap(), data);
}

#[test]
fn clean_removes_leftovers_of_dead_fetches_but_not_of_running_ones() {
    let data = sample(500_000, 8);
    let glance = stalling_once(&data, 100_000);
    let (_tmp, cache) = cache();
    // What a fetch killed with SIGKILL leaves: its temporary file, a lock
    // file nobody holds, data without a record.
    let other = "11111111-2222-3333-4444-555555555555";
    fs::write(
        cache.dir().join(format!(".{other}.4242-0.part")),
        vec![1; 1000],
    )
    .unwrap();
    fs::write(cache.dir().join(format!("{other}.lock")), b"").unwrap();
    fs::write(cache.dir().join(other), vec![2; 500]).unwrap();
    // Someone else's file (Nova's own _base image) is never touched.
    let nova = "5d7d3d2e3c1a5b0e8f1f7e2b9a0c4d6e8f0a1b2c";
    fs::write(cache.dir().join(nova), b"nova's").unwrap();

    let slow = client(&[&glance.url], |c| {
        c.io_timeout = Some(Duration::from_secs(3));
        c.num_retries = 0;
    });
    std::thread::scope(|s| {
        let fetch = s.spawn(|| cache.fetch(&slow, ID, DownloadOptions::default()));
        // Wait (bounded) until the running fetch has its temporary file.
        let running = format!(".{ID}.");
        for _ in 0..200 {
            if entries(cache.dir()).iter().any(|n| n.starts_with(&running)) {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let report = cache.clean(&CleanPolicy::new()).unwrap();
        let mut removed: Vec<String> = report
            .leftovers
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        removed.sort();
        assert_eq!(
            removed,
            [format!(".{other}.4242-0.part"), other.to_string()]
        );
        assert_eq!(report.freed, 1500);
        assert!(
            entries(cache.dir()).iter().any(|n| n.starts_with(&running)),
            "the running fetch keeps its file: {:?}",
            entries(cache.dir())
        );
        assert_eq!(fetch.join().unwrap().unwrap().status, CacheStatus::Fetched);
    });
    assert_eq!(
        entries(cache.dir()),
        [
            nova.to_string(),
            ID.to_string(),
            format!("{ID}.json"),
            format!("{ID}.lock"),
        ]
    );
}

#[test]
fn precache_reports_each_image_in_order() {
    let data = sample(10_000, 9);
    let json = image_json(&data, &[]);
    let glance = Scripted::start(move |seen, _| {
        if seen.path.contains("missing") {
            Act::status(404, "{\"message\": \"no such image\"}")
        } else if seen.path.ends_with("/file") {
            Act::data(&data)
        } else {
            Act::json(&json)
        }
    });
    let client = client(&[&glance.url], |_| {});
    let (_tmp, cache) = cache();
    let first = cache.precache(&client, &[ID], 1);
    assert_eq!(
        first[0].result.as_ref().unwrap().status,
        CacheStatus::Fetched
    );
    let all = cache.precache(&client, &[ID, "missing", ID], 2);
    let ids: Vec<&str> = all.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, [ID, "missing", ID]);
    assert_eq!(
        all[0].result.as_ref().unwrap().status,
        CacheStatus::Existing
    );
    assert!(
        matches!(all[1].result, Err(Error::NotFound(_))),
        "{:?}",
        all[1].result
    );
    assert_eq!(
        all[2].result.as_ref().unwrap().status,
        CacheStatus::Existing
    );
}

#[test]
fn a_checkout_to_another_filesystem_is_a_copy() {
    let shm = Path::new("/dev/shm");
    let (_tmp, cache) = cache();
    let same_fs = fs::metadata(shm)
        .map(|m| m.dev() == fs::metadata(cache.dir()).unwrap().dev())
        .unwrap_or(true);
    if same_fs {
        eprintln!("SKIPPED: /dev/shm is missing or on the cache's filesystem");
        return;
    }
    let data = sample(30_000, 11);
    let glance = serving(image_json(&data, &[]), data.clone());
    let client = client(&[&glance.url], |_| {});
    cache
        .fetch(&client, ID, DownloadOptions::default())
        .unwrap();
    let dest_dir = tempfile::tempdir_in(shm).unwrap();
    let dest = dest_dir.path().join("copy");
    let checkout = cache.checkout(ID, &dest).unwrap();
    assert!(!checkout.linked);
    assert_eq!(fs::read(&dest).unwrap(), data);
    assert_eq!(fs::metadata(cache.dir().join(ID)).unwrap().nlink(), 1);
    assert_eq!(entries(dest_dir.path()), ["copy"]);
}

#[test]
fn a_fetch_waiting_for_another_stops_at_its_cancel_handle_or_deadline() {
    let data = sample(800_000, 12);
    let glance = stalling_once(&data, 300_000);
    let (_tmp, cache) = cache();
    let slow = client(&[&glance.url], |c| {
        c.io_timeout = Some(Duration::from_secs(3));
        c.num_retries = 0;
    });
    std::thread::scope(|s| {
        let first = s.spawn(|| cache.fetch(&slow, ID, DownloadOptions::default()));
        // Cancelled from another thread once it is waiting (it has seen the
        // other fetch's bytes).
        let cancel = glance_client::Cancel::new();
        let (waiting_tx, waiting_rx) = std::sync::mpsc::channel();
        let canceller = cancel.clone();
        s.spawn(move || {
            if waiting_rx.recv().is_ok() {
                canceller.cancel();
            }
        });
        let waiter = cache.clone();
        let client = slow.clone();
        let handle = cancel.clone();
        let result = within(Duration::from_secs(20), move || {
            let options = DownloadOptions {
                cancel: Some(handle),
                progress: Some(Box::new(move |done, _| {
                    if done > 0 {
                        let _ = waiting_tx.send(());
                    }
                    ControlFlow::Continue(())
                })),
                ..DownloadOptions::default()
            };
            waiter.fetch(&client, ID, options).map(|c| c.status)
        });
        assert!(matches!(result, Err(Error::Cancelled)), "{result:?}");

        // A deadline passes while waiting: it says which deadline.
        let waiter = cache.clone();
        let client = slow.clone();
        let result = within(Duration::from_secs(20), move || {
            let options = DownloadOptions {
                deadline: Some(std::time::Instant::now() + Duration::from_millis(300)),
                ..DownloadOptions::default()
            };
            waiter.fetch(&client, ID, options).map(|c| c.status)
        });
        match result {
            Err(e @ Error::DeadlineExceeded { .. }) => {
                assert!(e.to_string().contains("DownloadOptions::deadline"), "{e}")
            }
            other => panic!("expected DeadlineExceeded, got {other:?}"),
        }
        assert_eq!(first.join().unwrap().unwrap().status, CacheStatus::Fetched);
    });
}
