//! Downloads over HTTP, against a scripted server.

use std::ops::ControlFlow;
use std::time::Duration;

use glance_client::{DownloadOptions, DownloadSource, Error};

use crate::harness::*;

fn show_then(
    data: Vec<u8>,
    mut file: impl FnMut(&Seen, usize) -> Act + Send + 'static,
) -> Scripted {
    let json = image_json(&data, &[]);
    let mut n = 0;
    Scripted::start(move |seen, _| {
        if seen.path.ends_with("/file") {
            n += 1;
            file(seen, n - 1)
        } else if seen.path == format!("/v2/images/{ID}") {
            Act::json(&json)
        } else {
            Act::status(404, "{}")
        }
    })
}

#[test]
fn verified_download_publishes_the_exact_bytes() {
    let data = sample(300_000, 1);
    let server = show_then(data.clone(), {
        let data = data.clone();
        move |_, _| Act::data(&data)
    });
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("image.raw");
    let report = client(&[&server.url], |_| {})
        .download(ID, &dest, DownloadOptions::default())
        .unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), data);
    assert_eq!(report.bytes, data.len() as u64);
    assert_eq!(
        report.verified,
        ["sha512"],
        "only the strongest hash by default"
    );
    assert_eq!(
        report.source,
        DownloadSource::Http {
            server: server.url.clone()
        }
    );
    assert_eq!(report.path.as_deref(), Some(dest.as_path()));
    assert_eq!(report.resumes, 0);
    assert_eq!(entries(dir.path()), ["image.raw"], "no temporary file left");
    let get = &server.data_requests()[0];
    assert_eq!(get.method, "GET");
    assert!(
        !get.headers.contains_key("range"),
        "first request asks for all: {get:?}"
    );
}

#[test]
fn verify_all_checks_sha512_and_md5() {
    let data = sample(50_000, 2);
    let server = show_then(data.clone(), {
        let data = data.clone();
        move |_, _| Act::data(&data)
    });
    let dir = tempfile::tempdir().unwrap();
    let options = DownloadOptions {
        verify_all: true,
        ..DownloadOptions::default()
    };
    let report = client(&[&server.url], |_| {})
        .download(ID, dir.path().join("x"), options)
        .unwrap();
    assert_eq!(report.verified, ["sha512", "md5"]);
}

#[test]
fn checksum_mismatch_leaves_no_file_and_keeps_the_old_one() {
    let data = sample(200_000, 3);
    let mut corrupt = data.clone();
    corrupt[123_456] ^= 1;
    let server = show_then(data.clone(), move |_, _| Act::Answer {
        status: 200,
        headers: vec![("Content-Type".into(), "application/octet-stream".into())],
        body: corrupt.clone(),
    });
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("image.raw");
    std::fs::write(&dest, b"previous image").unwrap();
    let err = client(&[&server.url], |_| {})
        .download(ID, &dest, DownloadOptions::default())
        .unwrap_err();
    match &err {
        Error::ChecksumMismatch {
            algorithm,
            expected,
            ..
        } => {
            assert_eq!(*algorithm, "sha512");
            assert_eq!(*expected, sha512_hex(&data));
        }
        other => panic!("expected a sha512 mismatch, got {other:?}"),
    }
    assert_eq!(entries(dir.path()), ["image.raw"]);
    assert_eq!(std::fs::read(&dest).unwrap(), b"previous image");
}

#[test]
fn a_body_cut_short_is_resumed_with_range_and_verifies() {
    let data = sample(1_000_000, 4);
    let cut = 400_000;
    let server = show_then(data.clone(), {
        let data = data.clone();
        move |seen, n| match n {
            0 => Act::Cut {
                status: 200,
                headers: octet_headers(&data),
                announced: data.len(),
                body: data[..cut].to_vec(),
            },
            _ => {
                let from: usize = seen.headers["range"]
                    .trim_start_matches("bytes=")
                    .trim_end_matches('-')
                    .parse()
                    .unwrap();
                Act::range(&data, from)
            }
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("image.raw");
    let report = client(&[&server.url], |_| {})
        .download(ID, &dest, DownloadOptions::default())
        .unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), data);
    assert_eq!(report.resumes, 1);
    assert_eq!(report.verified, ["sha512"]);
    let gets = server.data_requests();
    assert_eq!(gets.len(), 2, "{gets:?}");
    let range = &gets[1].headers["range"];
    let from: usize = range
        .trim_start_matches("bytes=")
        .trim_end_matches('-')
        .parse()
        .unwrap();
    assert!(
        from > 0 && from <= cut,
        "resumed from the bytes received, asked {range}"
    );
}

#[test]
fn resume_goes_to_the_next_server() {
    let data = sample(600_000, 5);
    // Each server cuts a full request short and serves ranges whole.
    let server = || {
        show_then(data.clone(), {
            let data = data.clone();
            move |seen, _| match seen.headers.get("range") {
                None => Act::Cut {
                    status: 200,
                    headers: octet_headers(&data),
                    announced: data.len(),
                    body: data[..250_000].to_vec(),
                },
                Some(range) => {
                    let from = range.trim_start_matches("bytes=").trim_end_matches('-');
                    Act::range(&data, from.parse().unwrap())
                }
            }
        })
    };
    let (a, b) = (server(), server());
    let dir = tempfile::tempdir().unwrap();
    let report = client(&[&a.url, &b.url], |_| {})
        .download(ID, dir.path().join("x"), DownloadOptions::default())
        .unwrap();
    assert_eq!(std::fs::read(dir.path().join("x")).unwrap(), data);
    assert_eq!(report.resumes, 1);
    let (cut, resumed) = match (&a.data_requests()[..], &b.data_requests()[..]) {
        ([x], [y]) if !x.headers.contains_key("range") => (&a, (&b, y.clone())),
        ([x], [y]) if !y.headers.contains_key("range") => (&b, (&a, x.clone())),
        other => panic!("one full request on one server, one range on the other: {other:?}"),
    };
    assert!(resumed.1.headers.contains_key("range"));
    assert_ne!(cut.url, resumed.0.url);
    assert_eq!(
        report.source,
        DownloadSource::Http {
            server: resumed.0.url.clone()
        }
    );
}

#[test]
fn a_server_that_ignores_range_restarts_cleanly() {
    let data = sample(700_000, 6);
    let server = show_then(data.clone(), {
        let data = data.clone();
        move |_, n| match n {
            0 => Act::Cut {
                status: 200,
                headers: octet_headers(&data),
                announced: data.len(),
                body: data[..300_000].to_vec(),
            },
            // Range ignored: the whole image again, with 200.
            _ => Act::data(&data),
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("image.raw");
    let report = client(&[&server.url], |_| {})
        .download(ID, &dest, DownloadOptions::default())
        .unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), data, "no duplicated prefix");
    assert_eq!(report.bytes, data.len() as u64);
    assert_eq!(report.resumes, 1);
    assert!(server.data_requests()[1].headers.contains_key("range"));
}

#[test]
fn a_writer_gets_the_rest_when_range_is_ignored() {
    let data = sample(500_000, 7);
    let server = show_then(data.clone(), {
        let data = data.clone();
        move |_, n| match n {
            0 => Act::Cut {
                status: 200,
                headers: octet_headers(&data),
                announced: data.len(),
                body: data[..200_000].to_vec(),
            },
            _ => Act::data(&data),
        }
    });
    let mut out = Vec::new();
    let report = client(&[&server.url], |_| {})
        .download_to(ID, &mut out, DownloadOptions::default())
        .unwrap();
    assert_eq!(out, data);
    assert_eq!(report.path, None);
    assert_eq!(report.verified, ["sha512"]);
}

#[test]
fn a_stalled_body_times_out_and_is_resumed() {
    let data = sample(400_000, 8);
    let server = show_then(data.clone(), {
        let data = data.clone();
        move |seen, n| match n {
            0 => Act::Stall {
                headers: octet_headers(&data),
                announced: data.len(),
                body: data[..150_000].to_vec(),
            },
            _ => {
                let from: usize = seen.headers["range"]
                    .trim_start_matches("bytes=")
                    .trim_end_matches('-')
                    .parse()
                    .unwrap();
                Act::range(&data, from)
            }
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("image.raw");
    let url = server.url.clone();
    let report = within(Duration::from_secs(30), move || {
        client(&[&url], |c| c.io_timeout = Some(Duration::from_millis(300))).download(
            ID,
            &dest,
            DownloadOptions::default(),
        )
    })
    .unwrap();
    assert_eq!(report.resumes, 1);
    assert_eq!(std::fs::read(dir.path().join("image.raw")).unwrap(), data);
}

#[test]
fn resumes_are_bounded_and_keep_the_old_file() {
    let data = sample(300_000, 9);
    let server = show_then(data.clone(), {
        let data = data.clone();
        move |seen, _| {
            let from: usize = seen
                .headers
                .get("range")
                .map(|r| {
                    r.trim_start_matches("bytes=")
                        .trim_end_matches('-')
                        .parse()
                        .unwrap()
                })
                .unwrap_or(0);
            // Every answer breaks off after 1000 more bytes.
            let mut headers = octet_headers(&data);
            let status = if from > 0 {
                headers.push((
                    "Content-Range".into(),
                    format!("bytes {from}-{}/{}", data.len() - 1, data.len()),
                ));
                206
            } else {
                200
            };
            Act::Cut {
                status,
                headers,
                announced: data.len() - from,
                body: data[from..from + 1000].to_vec(),
            }
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("image.raw");
    std::fs::write(&dest, b"previous image").unwrap();
    let options = DownloadOptions {
        max_resumes: 3,
        ..DownloadOptions::default()
    };
    let err = client(&[&server.url], |_| {})
        .download(ID, &dest, options)
        .unwrap_err();
    assert!(
        matches!(err, Error::Transport { .. } | Error::AllServersFailed(_)),
        "{err:?}"
    );
    assert_eq!(
        server.data_requests().len(),
        4,
        "the first request and 3 resumes"
    );
    assert_eq!(entries(dir.path()), ["image.raw"], "no temporary file left");
    assert_eq!(std::fs::read(&dest).unwrap(), b"previous image");
}

#[test]
fn an_inconsistent_content_range_is_retried_then_refused_and_the_old_file_kept() {
    let data = sample(300_000, 10);
    let server = show_then(data.clone(), {
        let data = data.clone();
        move |_, n| match n {
            0 => Act::Cut {
                status: 200,
                headers: octet_headers(&data),
                announced: data.len(),
                body: data[..100_000].to_vec(),
            },
            // Starts elsewhere than asked.
            _ => Act::range(&data, 5),
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("image.raw");
    std::fs::write(&dest, b"previous image").unwrap();
    let options = DownloadOptions {
        max_resumes: 3,
        ..DownloadOptions::default()
    };
    let err = client(&[&server.url], |_| {})
        .download(ID, &dest, options)
        .unwrap_err();
    assert!(matches!(err, Error::InvalidResponse(_)), "{err:?}");
    assert_eq!(
        server.data_requests().len(),
        4,
        "the first request and 3 resume attempts"
    );
    assert_eq!(entries(dir.path()), ["image.raw"]);
    assert_eq!(std::fs::read(&dest).unwrap(), b"previous image");
}

#[test]
fn a_bad_content_range_counts_as_a_resume_and_the_next_server_serves() {
    let data = sample(600_000, 20);
    // Both servers cut a full request short; `a` answers ranges with an
    // unparsable Content-Range, `b` properly.
    let server = |good: bool| {
        show_then(data.clone(), {
            let data = data.clone();
            move |seen, _| match seen.headers.get("range") {
                None => Act::Cut {
                    status: 200,
                    headers: octet_headers(&data),
                    announced: data.len(),
                    body: data[..250_000].to_vec(),
                },
                Some(_) if good => Act::range(&data, range_from(seen)),
                Some(_) => {
                    let mut headers = octet_headers(&data);
                    headers.push(("Content-Range".into(), "bytes garbage".into()));
                    Act::Answer {
                        status: 206,
                        headers,
                        body: data[range_from(seen)..].to_vec(),
                    }
                }
            }
        })
    };
    let (a, b) = (server(false), server(true));
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("image.raw");
    let report = client(&[&a.url, &b.url], |_| {})
        .download(ID, &dest, DownloadOptions::default())
        .unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), data);
    assert_eq!(report.verified, ["sha512"]);
    // The image record from a, the data from b (cut), a bad resume on a,
    // a good one on b.
    let ranges =
        |s: &Scripted| -> Vec<usize> { s.data_requests().iter().map(range_from).collect() };
    assert_eq!(ranges(&a), [250_000], "a was asked to resume");
    assert_eq!(ranges(&b), [0, 250_000]);
    assert_eq!(report.resumes, 2, "the refused answer counts");
    assert_eq!(
        report.source,
        DownloadSource::Http {
            server: b.url.clone()
        }
    );
    assert_eq!(entries(dir.path()), ["image.raw"]);
}

#[test]
fn no_data_is_its_own_error_and_leaves_no_file() {
    let data = sample(10, 11);
    let server = show_then(data, |_, _| Act::Answer {
        status: 204,
        headers: vec![],
        body: vec![],
    });
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("image.raw");
    std::fs::write(&dest, b"keep").unwrap();
    let err = client(&[&server.url], |_| {})
        .download(ID, &dest, DownloadOptions::default())
        .unwrap_err();
    assert!(matches!(err, Error::NoData { .. }), "{err:?}");
    assert_eq!(entries(dir.path()), ["image.raw"]);
    assert_eq!(std::fs::read(&dest).unwrap(), b"keep");
}

#[test]
fn cancel_from_the_progress_callback() {
    let data = sample(1_000_000, 12);
    let server = show_then(data.clone(), move |_, _| Act::data(&data));
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("image.raw");
    std::fs::write(&dest, b"keep").unwrap();
    let mut calls = Vec::new();
    let options = DownloadOptions {
        progress: Some(Box::new(|done, total| {
            calls.push((done, total));
            if done >= 200_000 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })),
        ..DownloadOptions::default()
    };
    let err = client(&[&server.url], |_| {})
        .download(ID, &dest, options)
        .unwrap_err();
    assert!(matches!(err, Error::Cancelled), "{err:?}");
    assert_eq!(std::fs::read(&dest).unwrap(), b"keep");
    assert_eq!(entries(dir.path()), ["image.raw"]);
    assert!(
        calls.windows(2).all(|w| w[0].0 < w[1].0),
        "progress only grows: {calls:?}"
    );
    assert!(
        calls.iter().all(|c| c.1 == Some(1_000_000)),
        "total known: {calls:?}"
    );
}

#[test]
fn a_content_length_that_disagrees_with_the_image_size_is_refused() {
    // Content-Length says 90 000, the image record 100 000.
    let data = sample(100_000, 13);
    let short = data[..90_000].to_vec();
    let server = show_then(data, move |_, _| Act::data(&short));
    let dir = tempfile::tempdir().unwrap();
    let err = client(&[&server.url], |_| {})
        .download(ID, dir.path().join("x"), DownloadOptions::default())
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidResponse(_)),
        "size disagreement: {err:?}"
    );
    assert!(entries(dir.path()).is_empty());
}

#[test]
fn missing_or_unwritable_destination_directory_is_named() {
    let server = show_then(sample(10, 14), |_, _| Act::data(b"unused"));
    let client = client(&[&server.url], |_| {});
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere/image.raw");
    let err = client
        .download(ID, &missing, DownloadOptions::default())
        .unwrap_err();
    assert!(err.to_string().contains("nowhere"), "{err}");
    assert!(server.seen().is_empty(), "checked before any request");
    // /proc refuses new files even to root (permission bits would not).
    let err = client
        .download(
            ID,
            "/proc/glance-client-test.raw",
            DownloadOptions::default(),
        )
        .unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("temporary file in /proc"), "{err}");
}

#[test]
fn without_a_checksum_the_download_is_unverified_or_refused() {
    let data = sample(40_000, 15);
    let mut json = image_json(&data, &[]);
    for k in ["checksum", "os_hash_algo", "os_hash_value"] {
        json[k] = serde_json::Value::Null;
    }
    let bare = {
        let data = data.clone();
        move || Act::Answer {
            status: 200,
            headers: vec![("Content-Type".into(), "application/octet-stream".into())],
            body: data.clone(),
        }
    };
    let server = Scripted::start({
        let json = json.clone();
        move |seen, _| {
            if seen.path.ends_with("/file") {
                bare()
            } else {
                Act::json(&json)
            }
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let c = client(&[&server.url], |_| {});
    let report = c
        .download(ID, dir.path().join("a"), DownloadOptions::default())
        .unwrap();
    assert!(
        report.verified.is_empty(),
        "reported unverified: {report:?}"
    );
    let required = DownloadOptions {
        require_checksum: true,
        ..DownloadOptions::default()
    };
    let err = c.download(ID, dir.path().join("b"), required).unwrap_err();
    assert!(matches!(err, Error::NoChecksum { .. }), "{err:?}");
    assert_eq!(entries(dir.path()), ["a"]);
}

#[test]
fn content_md5_verifies_an_image_without_checksums() {
    let data = sample(40_000, 16);
    let mut json = image_json(&data, &[]);
    for k in ["checksum", "os_hash_algo", "os_hash_value"] {
        json[k] = serde_json::Value::Null;
    }
    let mut corrupt = data.clone();
    corrupt[0] ^= 0xff;
    let server = Scripted::start(move |seen, i| {
        if !seen.path.ends_with("/file") {
            return Act::json(&json);
        }
        // The first download is good, the second corrupt: both announce the good MD5.
        Act::Answer {
            status: 200,
            headers: octet_headers(&data),
            body: if i < 2 { data.clone() } else { corrupt.clone() },
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let c = client(&[&server.url], |_| {});
    let report = c
        .download(ID, dir.path().join("a"), DownloadOptions::default())
        .unwrap();
    assert_eq!(report.verified, ["md5"]);
    let err = c
        .download(ID, dir.path().join("b"), DownloadOptions::default())
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
}

#[test]
fn unknown_hash_algorithm_fails_unless_md5_may_stand_in() {
    let data = sample(40_000, 17);
    let mut json = image_json(&data, &[]);
    json["os_hash_algo"] = "sha3_512".into();
    let server = serving(json, data.clone());
    let dir = tempfile::tempdir().unwrap();
    let c = client(&[&server.url], |_| {});
    let err = c
        .download(ID, dir.path().join("a"), DownloadOptions::default())
        .unwrap_err();
    assert!(
        matches!(&err, Error::UnsupportedChecksum { algorithm } if algorithm == "sha3_512"),
        "{err:?}"
    );
    assert!(
        server.data_requests().is_empty(),
        "refused before downloading"
    );
    let fallback = DownloadOptions {
        allow_md5_fallback: true,
        ..DownloadOptions::default()
    };
    let report = c.download(ID, dir.path().join("a"), fallback).unwrap();
    assert_eq!(report.verified, ["md5"]);
    assert_eq!(std::fs::read(dir.path().join("a")).unwrap(), data);
}

#[test]
fn sha256_images_verify_with_sha256() {
    let data = sample(70_000, 18);
    let mut json = image_json(&data, &[]);
    json["os_hash_algo"] = "sha256".into();
    json["os_hash_value"] = sha256_hex(&data).into();
    let server = serving(json, data.clone());
    let dir = tempfile::tempdir().unwrap();
    let report = client(&[&server.url], |_| {})
        .download(ID, dir.path().join("a"), DownloadOptions::default())
        .unwrap();
    assert_eq!(report.verified, ["sha256"]);
}

/// The byte offset a ranged request asks for (0 without `Range`).
fn range_from(seen: &Seen) -> usize {
    seen.headers
        .get("range")
        .map(|r| {
            r.trim_start_matches("bytes=")
                .trim_end_matches('-')
                .parse()
                .unwrap()
        })
        .unwrap_or(0)
}

#[test]
fn a_writer_gets_the_exact_bytes_after_an_ignored_range_then_an_honoured_one() {
    // A body cut at 300 000; a server that ignores the range and is cut at
    // 100 000 (before catching up); then a proper 206 from 300 000. The
    // writer must get the image exactly, with or without a checksum to
    // catch a mistake.
    let data = sample(700_000, 19);
    for with_checksum in [false, true] {
        let mut json = image_json(&data, &[]);
        let mut headers = octet_headers(&data);
        if !with_checksum {
            for k in ["checksum", "os_hash_algo", "os_hash_value"] {
                json[k] = serde_json::Value::Null;
            }
            headers.retain(|(k, _)| k != "Content-MD5");
        }
        let server = Scripted::start({
            let data = data.clone();
            let mut n = 0;
            move |seen, _| {
                if !seen.path.ends_with("/file") {
                    return Act::json(&json);
                }
                n += 1;
                match n {
                    1 => Act::Cut {
                        status: 200,
                        headers: headers.clone(),
                        announced: data.len(),
                        body: data[..300_000].to_vec(),
                    },
                    // Range ignored, and cut before reaching byte 300 000.
                    2 => Act::Cut {
                        status: 200,
                        headers: headers.clone(),
                        announced: data.len(),
                        body: data[..100_000].to_vec(),
                    },
                    _ => {
                        let from = range_from(seen);
                        let mut headers = headers.clone();
                        headers.push((
                            "Content-Range".into(),
                            format!("bytes {from}-{}/{}", data.len() - 1, data.len()),
                        ));
                        Act::Answer {
                            status: 206,
                            headers,
                            body: data[from..].to_vec(),
                        }
                    }
                }
            }
        });
        let mut out = Vec::new();
        let result =
            client(&[&server.url], |_| {}).download_to(ID, &mut out, DownloadOptions::default());
        let report = result.unwrap_or_else(|e| panic!("checksum {with_checksum}: {e:?}"));
        assert!(out == data, "checksum {with_checksum}: the bytes differ");
        assert_eq!(report.bytes, data.len() as u64);
        assert_eq!(report.resumes, 2);
        let ranges: Vec<usize> = server.data_requests().iter().map(range_from).collect();
        assert_eq!(ranges, [0, 300_000, 300_000], "checksum {with_checksum}");
    }
}
