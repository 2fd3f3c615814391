//! Glance image API v1 on the wire: the exact request of every `Client`
//! operation in v1 mode (method, path, query, every header, body), answers
//! shaped like a real v1 server's, the header codec's round trips, and the
//! operations v1 does not have, which must fail before any request.
//!
//! No v1 server exists any more (Glance 33 answers 300 to `/v1`), so the
//! answers follow Glance's v1 API reference and its v1 serializer.

mod common;

#[path = "v1/codec.rs"]
mod codec;
#[path = "v1/harness.rs"]
mod harness;
#[path = "v1/images.rs"]
mod images;
#[path = "v1/listing.rs"]
mod listing;
#[path = "v1/members.rs"]
mod members;
#[path = "v1/transfer.rs"]
mod transfer;
#[path = "v1/unsupported.rs"]
mod unsupported;
