//! Helpers shared by the integration suites: a log recorder, fault-injecting
//! raw TCP servers on 127.0.0.1, and canned answers.
#![allow(dead_code)] // each suite uses a different subset

pub mod wire;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::Duration;

use glance_client::Config;
use httptest::matchers::request;
use httptest::responders::status_code;
use httptest::{Expectation, Server};

/// The versions document, as `GET /versions` answers it.
pub const VERSIONS: &str = r#"{"versions": [{"id": "v2.18", "status": "CURRENT",
  "links": [{"rel": "self", "href": "http://127.0.0.1/v2/"}]}]}"#;

/// Every log record of this test process, as `LEVEL message`.
pub fn logs() -> Vec<String> {
    recorder()
        .records
        .lock()
        .map(|r| r.clone())
        .unwrap_or_default()
}

/// Installs the recording logger (idempotent).
pub fn record_logs() {
    let _ = log::set_logger(recorder());
    log::set_max_level(log::LevelFilter::Debug);
}

struct Recorder {
    records: Mutex<Vec<String>>,
}

fn recorder() -> &'static Recorder {
    static RECORDER: OnceLock<Recorder> = OnceLock::new();
    RECORDER.get_or_init(|| Recorder {
        records: Mutex::new(Vec::new()),
    })
}

impl log::Log for Recorder {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, record: &log::Record) {
        // Only this crate's records: ureq's and rustls's are not under test.
        if record.target().starts_with("glance_client")
            && let Ok(mut records) = self.records.lock()
        {
            records.push(format!("{} {}", record.level(), record.args()));
        }
    }
    fn flush(&self) {}
}

/// A URL on 127.0.0.1 where nothing listens: connections are refused.
pub fn refused_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// A raw TCP server on 127.0.0.1 that hands each connection to `handler`, in
/// turn, until dropped.
pub struct RawServer {
    pub url: String,
    port: u16,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl RawServer {
    pub fn start(mut handler: impl FnMut(TcpStream) + Send + 'static) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (accepted, stop) = (accepted.clone(), stop.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    accepted.fetch_add(1, Ordering::SeqCst);
                    handler(stream);
                }
            })
        };
        RawServer {
            url: format!("http://127.0.0.1:{port}"),
            port,
            accepted,
            stop,
            thread: Some(thread),
        }
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Accepts connections and never answers (they stay open until the
    /// server is dropped).
    pub fn stalled() -> RawServer {
        let held = Mutex::new(Vec::new());
        RawServer::start(move |stream| {
            if let Ok(mut held) = held.lock() {
                held.push(stream);
            }
        })
    }

    /// Reads the request head, then answers with `head` and `body`, then
    /// closes the connection.
    pub fn answering(head: &'static str, body: &'static [u8]) -> RawServer {
        RawServer::start(move |mut stream| {
            let _ = read_head(&mut stream);
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(body);
            let _ = stream.flush();
            let _ = stream.shutdown(Shutdown::Both);
        })
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads an HTTP request head (up to the blank line), bounded in time and size.
pub fn read_head(stream: &mut TcpStream) -> std::io::Result<String> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 64 * 1024 {
        if stream.read(&mut byte)? == 0 {
            break;
        }
        head.push(byte[0]);
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

/// Runs `f` on a thread and waits at most `limit` for it: a client that
/// hangs fails the test instead of hanging it.
pub fn within<T: Send + 'static>(
    limit: Duration,
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit)
        .unwrap_or_else(|_| panic!("{what} did not finish within {limit:?}"))
}

/// Servers in the given order, no pause between attempts, 3 retries.
pub fn config(servers: &[&str]) -> Config {
    Config {
        api_servers: servers.iter().map(|s| s.to_string()).collect(),
        shuffle_servers: false,
        retry_delay: Duration::ZERO,
        num_retries: 3,
        connect_timeout: Some(Duration::from_secs(5)),
        io_timeout: Some(Duration::from_secs(5)),
        ..Config::default()
    }
}

pub fn url(server: &Server) -> String {
    server.url_str("")
}

pub fn versions_ok(server: &Server, times: usize) {
    server.expect(
        Expectation::matching(request::method_path("GET", "/versions"))
            .times(times)
            .respond_with(status_code(200).body(VERSIONS)),
    );
}
