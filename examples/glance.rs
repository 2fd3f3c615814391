//! `glance`: a small glanceclient-style command-line tool over the public API
//! of `glance-client`, and the proof that the crate links statically:
//!
//! ```sh
//! cargo run --example glance -- --os-image-url http://127.0.0.1:9292 image-list
//! cargo build --release --example glance --target x86_64-unknown-linux-musl
//! ```
//!
//! `glance help` lists the commands, `glance help COMMAND` a command's
//! arguments. Exit status: 0 success, 1 an API or I/O error, 2 a usage or
//! configuration error; each error is one line on stderr, after the
//! library's warnings (`glance: warning: ...`), if any. No output shows a
//! token, a password or the user information of a URL.

use std::process::ExitCode;

use glance_client::{Client, Error};

#[path = "glance/args.rs"]
mod args;
#[path = "glance/cache.rs"]
mod cache;
#[path = "glance/commands.rs"]
mod commands;
#[path = "glance/download.rs"]
mod download;
#[path = "glance/images.rs"]
mod images;
#[path = "glance/inspect.rs"]
mod inspect;
#[path = "glance/more.rs"]
mod more;
#[path = "glance/progress.rs"]
mod progress;
#[path = "glance/redact.rs"]
mod redact;
#[path = "glance/settings.rs"]
mod settings;
#[path = "glance/specs.rs"]
mod specs;
#[path = "glance/table.rs"]
mod table;
#[path = "glance/views.rs"]
mod views;

/// Why the tool stopped, which decides its exit status.
#[derive(Debug)]
pub enum Failure {
    /// The command line is wrong (exit 2).
    Usage(String),
    /// A configuration file, the environment or a value in them is wrong (exit 2).
    Config(String),
    /// The server refused, the network failed, or a file could not be read
    /// or written (exit 1).
    Api(String),
}

impl Failure {
    fn code(&self) -> u8 {
        match self {
            Failure::Usage(_) | Failure::Config(_) => 2,
            Failure::Api(_) => 1,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            Failure::Usage(m) | Failure::Config(m) | Failure::Api(m) => m,
        }
    }

    /// The same kind of failure with another message.
    pub fn with_message(self, message: String) -> Failure {
        match self {
            Failure::Usage(_) => Failure::Usage(message),
            Failure::Config(_) => Failure::Config(message),
            Failure::Api(_) => Failure::Api(message),
        }
    }
}

/// An error's message on one line (a server's message may hold newlines),
/// without the library's `configuration: ` prefix of a configuration error
/// that names no file: the tool says `configuration error: ` already.
pub fn error_message(e: &Error) -> String {
    let text = match e {
        Error::Config {
            file: None,
            line: None,
            message,
            ..
        } => message.clone(),
        other => other.to_string(),
    };
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        let message = error_message(&e);
        match e {
            Error::Config { .. } => Failure::Config(message),
            // What the caller asked for cannot be expressed (a bad filter,
            // an operation the configured API version lacks).
            Error::InvalidInput(_) | Error::Unsupported { .. } => Failure::Usage(message),
            _ => Failure::Api(message),
        }
    }
}

/// Writes the library's log records to stderr, one line each, URLs without
/// their user information. The library logs no header, so never a token.
struct StderrLogger;

impl log::Log for StderrLogger {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.target().starts_with("glance_client")
    }

    fn log(&self, record: &log::Record) {
        if self.enabled(record.metadata()) {
            let level = match record.level() {
                log::Level::Error => "error",
                log::Level::Warn => "warning",
                log::Level::Info => "note",
                log::Level::Debug | log::Level::Trace => "debug",
            };
            eprintln!(
                "glance: {level}: {}",
                redact::text(&record.args().to_string())
            );
        }
    }

    fn flush(&self) {}
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    match run(&argv) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            let m = redact::text(failure.message());
            match &failure {
                Failure::Usage(_) => eprintln!("glance: {m} (see `glance help`)"),
                Failure::Config(_) => eprintln!("glance: configuration error: {m}"),
                Failure::Api(_) => eprintln!("glance: error: {m}"),
            }
            ExitCode::from(failure.code())
        }
    }
}

fn run(argv: &[String]) -> Result<(), Failure> {
    let inv = args::parse(argv)?;
    if inv.global.flag("--version") {
        return commands::out(&format!(
            "glance (glance-client {})\n",
            env!("CARGO_PKG_VERSION")
        ));
    }
    if inv.wants_help() {
        return help(&inv);
    }
    let Some(spec) = inv.command else {
        return Err(Failure::Usage("no command given".into()));
    };
    let settings = settings::resolve(&inv.global)?;
    // The configuration's warnings, once each (they were logged before the
    // logger below existed, so they are not shown twice).
    for warning in &settings.config.warnings {
        eprintln!("glance: warning: {}", redact::text(warning));
    }
    // The library's warnings (a server URL without a scheme, TLS
    // verification disabled, a failed attempt, an unverified download) always
    // go to stderr; with --debug also each request and login. Never a token:
    // the library logs no header.
    let debug = inv.global.flag("--debug")
        || std::env::var("GLANCECLIENT_DEBUG").is_ok_and(|v| !v.is_empty());
    log::set_max_level(if debug {
        log::LevelFilter::Debug
    } else {
        log::LevelFilter::Warn
    });
    let _ = log::set_logger(&StderrLogger);
    let json = inv.global.flag("--json");
    if spec.name == "config-check" {
        commands::print_json(&settings::to_json(&settings))?;
        // The check proper: a client can be built (server URLs, TLS files).
        if lacks_a_server(&settings.config) {
            return Err(no_server(&settings.config));
        }
        Client::new(settings.config)?;
        return Ok(());
    }
    if let Some(done) = without_server(spec.name, &inv, &settings.config, json) {
        return done;
    }
    if lacks_a_server(&settings.config) {
        return Err(no_server(&settings.config));
    }
    let client = Client::new(settings.config)?;
    commands::run(&client, &inv, json)
}

/// The commands that need no image API: the host cache's upkeep and
/// `image-inspect`; `None` for the others.
fn without_server(
    name: &str,
    inv: &args::Invocation,
    config: &glance_client::Config,
    json: bool,
) -> Option<Result<(), Failure>> {
    let o = &inv.options;
    let dir = || cache::dir(o, config.image_cache_dir.as_ref());
    Some(match name {
        "host-cache-list" => dir().and_then(|d| cache::list(d, json)),
        "host-cache-clean" => {
            dir().and_then(|d| cache::clean(d, o, config.image_cache_max_age, json))
        }
        "host-cache-verify" => dir().and_then(|d| cache::verify(d, json)),
        "image-inspect" => inspect::image_inspect(&inv.positionals[0], o, config, json),
        _ => return None,
    })
}

/// No server configured, and no Keystone login whose catalog could name one.
fn lacks_a_server(config: &glance_client::Config) -> bool {
    use glance_client::Auth;
    config.servers().is_empty() && matches!(config.auth, Auth::None | Auth::Token(_))
}

/// Without a server nor a login. With no credentials at all, glanceclient's
/// words first (it needs a username for a Keystone login, or a token with
/// an image URL); a Glance without Keystone takes an image URL alone.
fn no_server(config: &glance_client::Config) -> Failure {
    let ours = "no image API server: pass --os-image-url, set OS_IMAGE_URL, \
                or set [glance] api_servers in a --config-file";
    if matches!(config.auth, glance_client::Auth::None) {
        return Failure::Config(format!(
            "You must provide a username via either --os-username or env[OS_USERNAME] \
             (or a token, --os-auth-token, with --os-image-url; a Glance without \
             Keystone needs only --os-image-url): {ours}"
        ));
    }
    Failure::Config(ours.into())
}

/// `glance help [COMMAND]`, `glance --help`, `glance COMMAND --help`.
fn help(inv: &args::Invocation) -> Result<(), Failure> {
    let topic = match inv.command {
        Some(spec) if spec.name == "help" => inv.positionals.first().map(String::as_str),
        Some(spec) => Some(spec.name),
        None => None,
    };
    match topic {
        None => commands::out(&args::usage()),
        Some(name) => match args::commands().find(|c| c.name == name) {
            Some(spec) => commands::out(&args::command_usage(spec)),
            None => Err(Failure::Usage(format!("unknown command {name:?}"))),
        },
    }
}
