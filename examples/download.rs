//! The library's verified download in a few lines, and the benchmark's
//! driver for "our library" (`benches/run.sh`).
//!
//! ```sh
//! cargo run --release --example download -- http://127.0.0.1:9292 IMAGE_ID /tmp/image.raw
//! cargo run --release --example download -- --config-file nova.conf IMAGE_ID /tmp/image.raw
//! cargo run --release --example download -- --no-inspect http://127.0.0.1:9292 IMAGE_ID /tmp/image.raw
//! ```
//!
//! Prints one line: bytes, source, verified algorithms, resumes. Exit status
//! 1 on a failed download, 2 on a usage error.

use std::process::ExitCode;

use glance_client::{Client, Config, DownloadOptions, DownloadSource, Inspect};

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    // --no-inspect (first): the benchmark's download without format inspection.
    let inspect = if args.first().is_some_and(|a| a == "--no-inspect") {
        args.remove(0);
        Inspect::Off
    } else {
        Inspect::AsConfigured
    };
    let (config, id, dest) = match args.as_slice() {
        [flag, file, id, dest] if flag == "--config-file" => match Config::from_file(file) {
            Ok(c) => (c, id, dest),
            Err(e) => {
                eprintln!("download: {e}");
                return ExitCode::from(2);
            }
        },
        [url, id, dest] => (Config::for_server(url.as_str()), id, dest),
        _ => {
            eprintln!("usage: download [--no-inspect] (URL | --config-file FILE) IMAGE_ID DEST");
            return ExitCode::from(2);
        }
    };
    let client = match Client::new(config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("download: {e}");
            return ExitCode::from(2);
        }
    };
    let options = DownloadOptions {
        inspect,
        ..DownloadOptions::default()
    };
    match client.download(id, dest, options) {
        Ok(report) => {
            let source = match &report.source {
                DownloadSource::Http { server } => format!("http {server}"),
                DownloadSource::Local { path } => format!("local {}", path.display()),
                _ => "other".to_string(),
            };
            println!(
                "{} bytes from {source}, verified {:?}, {} resumes, format {:?}",
                report.bytes, report.verified, report.resumes, report.format
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("download: {e}");
            ExitCode::FAILURE
        }
    }
}
