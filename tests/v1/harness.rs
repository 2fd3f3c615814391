//! The v1 side of the recording harness (tests/common/wire.rs): a v1
//! client, and answers shaped like a v1 server's.

use glance_client::{ApiVersion, Client};
use httptest::responders::{ResponseBuilder, status_code};

pub use crate::common::wire::*;

pub const ID: &str = "03bc0a8b-659c-4de9-b6bd-13c6e86e6455";

/// A v1 client of the recording server.
pub trait V1Client {
    /// A v1 client with a token, one server, no retries.
    fn client(&self) -> Client;
}

impl V1Client for Wire {
    fn client(&self) -> Client {
        self.client_for(ApiVersion::V1)
    }
}

/// A HEAD answer as a v1 server sends it: metadata headers, ETag, request id.
pub fn head_answer(meta: &[(&str, &str)]) -> ResponseBuilder<&'static str> {
    let mut r = status_code(200)
        .insert_header("content-type", "text/html; charset=UTF-8")
        .insert_header("x-openstack-request-id", "req-d5208320");
    for (k, v) in meta {
        r = r.append_header(*k, *v);
    }
    if let Some((_, sum)) = meta
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("x-image-meta-checksum"))
    {
        r = r.insert_header("etag", *sum);
    }
    r
}

/// The metadata of one image as a v1 server shows it in headers.
pub const HEAD_META: [(&str, &str); 17] = [
    ("X-Image-Meta-Checksum", "8a40c862b5735975d82605c1dd395796"),
    ("X-Image-Meta-Container_format", "bare"),
    ("X-Image-Meta-Created_at", "2016-01-06T03:22:20.000000"),
    ("X-Image-Meta-Deleted", "False"),
    ("X-Image-Meta-Disk_format", "qcow2"),
    ("X-Image-Meta-Id", ID),
    ("X-Image-Meta-Is_public", "True"),
    ("X-Image-Meta-Min_disk", "1"),
    ("X-Image-Meta-Min_ram", "64"),
    ("X-Image-Meta-Name", "cirros-0.3.4"),
    ("X-Image-Meta-Owner", "13cc6052265b41529e2fd0fc461fa8ef"),
    ("X-Image-Meta-Protected", "False"),
    ("X-Image-Meta-Size", "4979632"),
    ("X-Image-Meta-Status", "active"),
    ("X-Image-Meta-Updated_at", "2016-02-25T03:02:05.000000"),
    ("X-Image-Meta-Virtual_size", "None"),
    ("X-Image-Meta-Property-Os_distro", "cirros"),
];
