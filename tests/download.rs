//! The verified downloader: checksums, sizes, atomic publication, resume
//! with `Range` after a cut or a stall, restart when the range is ignored,
//! cancellation, destination errors, and the local file-store short-circuit
//! with every refusal it must make.

#[path = "download/harness.rs"]
mod harness;
#[path = "download/http.rs"]
mod http;
#[path = "inspect/images.rs"]
mod images;
#[path = "download/inspection.rs"]
mod inspection;
#[path = "download/local.rs"]
mod local;
