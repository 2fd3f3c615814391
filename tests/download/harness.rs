//! A scripted HTTP/1.1 server for fault injection (bodies cut short,
//! stalled, ranges ignored), image fixtures and file-system helpers.
//! Shared by `download.rs` and `agents.rs`, each using a part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use glance_client::{Client, Config};
use md5::Md5;
use sha2::{Digest, Sha256, Sha512};

pub const ID: &str = "e54e8577-3aa8-44c2-afc1-6205679c7fba";

/// Deterministic bytes that do not repeat in short cycles.
pub fn sample(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
pub fn md5_hex(data: &[u8]) -> String {
    hex(&Md5::digest(data))
}
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}
pub fn sha512_hex(data: &[u8]) -> String {
    hex(&Sha512::digest(data))
}

/// The v2 image JSON of an active image holding `data`: size, md5 checksum,
/// sha512 os_hash, and `locations` (each `(url, metadata)`).
pub fn image_json(data: &[u8], locations: &[(String, serde_json::Value)]) -> serde_json::Value {
    let locs: Vec<serde_json::Value> = locations
        .iter()
        .map(|(url, meta)| serde_json::json!({"url": url, "metadata": meta}))
        .collect();
    serde_json::json!({
        "id": ID, "name": "test", "status": "active", "visibility": "private",
        "size": data.len(), "checksum": md5_hex(data),
        "os_hash_algo": "sha512", "os_hash_value": sha512_hex(data),
        "disk_format": "raw", "container_format": "bare",
        "protected": false, "os_hidden": false, "min_disk": 0, "min_ram": 0,
        "tags": [], "locations": locs,
        "direct_url": locations.first().map(|(u, _)| u.clone()),
        "self": format!("/v2/images/{ID}"), "file": format!("/v2/images/{ID}/file"),
        "schema": "/v2/schemas/image"
    })
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    /// Lowercase names.
    pub headers: BTreeMap<String, String>,
}

/// What the server does with a request.
pub enum Act {
    /// A complete answer (Content-Length set from the body).
    Answer {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Headers announcing `announced` bytes, then `body`, then the connection closes.
    Cut {
        status: u16,
        headers: Vec<(String, String)>,
        announced: usize,
        body: Vec<u8>,
    },
    /// Headers announcing `announced` bytes, then `body`, then silence
    /// (the connection is held open, at most 20 s).
    Stall {
        headers: Vec<(String, String)>,
        announced: usize,
        body: Vec<u8>,
    },
    /// A 200 whose `body` comes one byte every `every` (at most 20 s).
    Trickle {
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        every: Duration,
    },
    /// No answer: the request's body is read and dropped, 16 KiB every
    /// `pause`, until the client closes (at most 20 s).
    Absorb { pause: Duration },
}

impl Act {
    pub fn json(value: &serde_json::Value) -> Act {
        Act::Answer {
            status: 200,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: value.to_string().into_bytes(),
        }
    }

    /// A full 200 with the bytes of `data`, `Content-MD5` of the whole image.
    pub fn data(data: &[u8]) -> Act {
        Act::Answer {
            status: 200,
            headers: octet_headers(data),
            body: data.to_vec(),
        }
    }

    /// A 206 with `data[from..]`, as Glance answers `Range: bytes=FROM-`.
    pub fn range(data: &[u8], from: usize) -> Act {
        let mut headers = octet_headers(data);
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

    pub fn status(status: u16, body: &str) -> Act {
        Act::Answer {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.as_bytes().to_vec(),
        }
    }
}

pub fn octet_headers(data: &[u8]) -> Vec<(String, String)> {
    vec![
        ("Content-Type".into(), "application/octet-stream".into()),
        ("Content-MD5".into(), md5_hex(data)),
    ]
}

type Script = Box<dyn FnMut(&Seen, usize) -> Act + Send>;

/// An HTTP server on 127.0.0.1, one thread per connection, whose answers
/// come from a script called with each request and its 0-based index.
pub struct Scripted {
    pub url: String,
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
    absorbed: Arc<AtomicU64>,
}

impl Scripted {
    pub fn start(script: impl FnMut(&Seen, usize) -> Act + Send + 'static) -> Scripted {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let absorbed = Arc::new(AtomicU64::new(0));
        let script: Arc<Mutex<Script>> = Arc::new(Mutex::new(Box::new(script)));
        {
            let (seen, stop, absorbed) = (seen.clone(), stop.clone(), absorbed.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (seen, stop, script) = (seen.clone(), stop.clone(), script.clone());
                    let absorbed = absorbed.clone();
                    std::thread::spawn(move || serve(stream, &seen, &stop, &script, &absorbed));
                }
            });
        }
        Scripted {
            url: format!("http://127.0.0.1:{port}"),
            port,
            seen,
            stop,
            absorbed,
        }
    }

    /// Bytes of request bodies read by [`Act::Absorb`] so far.
    pub fn absorbed(&self) -> u64 {
        self.absorbed.load(Ordering::SeqCst)
    }

    /// Every request so far, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// The requests for the image data.
    pub fn data_requests(&self) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.path.ends_with("/file"))
            .collect()
    }
}

impl Drop for Scripted {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve(
    stream: TcpStream,
    seen: &Mutex<Vec<Seen>>,
    stop: &AtomicBool,
    script: &Mutex<Script>,
    absorbed: &AtomicU64,
) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(20)));
    let Ok(mut out) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, path) = (
            parts.next().unwrap_or("").to_string(),
            parts.next().unwrap_or("").to_string(),
        );
        let mut headers = BTreeMap::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        let request = Seen {
            method,
            path,
            headers,
        };
        let act = {
            let index = {
                let mut seen = seen.lock().unwrap();
                seen.push(request.clone());
                seen.len() - 1
            };
            let mut script = script.lock().unwrap();
            script(&request, index)
        };
        let head = |status: u16, headers: &[(String, String)], length: usize| {
            let mut h = format!("HTTP/1.1 {status} X\r\nContent-Length: {length}\r\n");
            for (k, v) in headers {
                h.push_str(&format!("{k}: {v}\r\n"));
            }
            h.push_str("\r\n");
            h
        };
        match act {
            Act::Answer {
                status,
                headers,
                body,
            } => {
                let length = if status == 204 { 0 } else { body.len() };
                if out
                    .write_all(head(status, &headers, length).as_bytes())
                    .is_err()
                    || out.write_all(&body[..length]).is_err()
                {
                    return;
                }
            }
            Act::Cut {
                status,
                headers,
                announced,
                body,
            } => {
                let _ = out.write_all(head(status, &headers, announced).as_bytes());
                let _ = out.write_all(&body);
                let _ = out.flush();
                let _ = out.shutdown(Shutdown::Both);
                return;
            }
            Act::Stall {
                headers,
                announced,
                body,
            } => {
                let _ = out.write_all(head(200, &headers, announced).as_bytes());
                let _ = out.write_all(&body);
                let _ = out.flush();
                let until = Instant::now() + Duration::from_secs(20);
                while Instant::now() < until && !stop.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(50));
                }
                return;
            }
            Act::Trickle {
                headers,
                body,
                every,
            } => {
                let _ = out.write_all(head(200, &headers, body.len()).as_bytes());
                let until = Instant::now() + Duration::from_secs(20);
                for byte in body {
                    if Instant::now() > until || stop.load(Ordering::SeqCst) {
                        return;
                    }
                    std::thread::sleep(every);
                    if out.write_all(&[byte]).and_then(|()| out.flush()).is_err() {
                        return;
                    }
                }
            }
            Act::Absorb { pause } => {
                let until = Instant::now() + Duration::from_secs(20);
                let mut chunk = vec![0u8; 16 * 1024];
                while Instant::now() < until && !stop.load(Ordering::SeqCst) {
                    match std::io::Read::read(&mut reader, &mut chunk) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => absorbed.fetch_add(n as u64, Ordering::SeqCst),
                    };
                    std::thread::sleep(pause);
                }
                return;
            }
        }
    }
}

/// A client for these servers: in order, no pause, short timeouts.
/// A Glance that answers the image record with `json` and its data
/// endpoint with `data`, whole.
pub fn serving(json: serde_json::Value, data: Vec<u8>) -> Scripted {
    Scripted::start(move |seen, _| {
        if seen.path.ends_with("/file") {
            Act::data(&data)
        } else {
            Act::json(&json)
        }
    })
}

pub fn client(servers: &[&str], tweak: impl FnOnce(&mut Config)) -> Client {
    let mut config = Config {
        api_servers: servers.iter().map(|s| s.to_string()).collect(),
        shuffle_servers: false,
        retry_delay: Duration::ZERO,
        num_retries: 2,
        connect_timeout: Some(Duration::from_secs(5)),
        io_timeout: Some(Duration::from_secs(5)),
        ..Config::default()
    };
    tweak(&mut config);
    Client::new(config).unwrap()
}

/// Names in a directory, sorted.
pub fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Runs `f` on a thread and waits at most `limit`.
pub fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit)
        .unwrap_or_else(|_| panic!("did not finish within {limit:?}"))
}
