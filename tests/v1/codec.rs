//! The `x-image-meta-*` codec on its own: round trips both ways, and a
//! bounded pseudo-random sweep standing in for the fuzz target.

use std::collections::BTreeMap;

use glance_client::http::{HeaderMap, HeaderName, HeaderValue};
use glance_client::v1::{ImageMeta, headers};
use glance_client::{Error, Image};

use super::harness::ID;

fn every_field() -> ImageMeta {
    let mut meta = ImageMeta::default();
    meta.id = Some(ID.into());
    meta.name = Some("niño\tbonito".into());
    meta.disk_format = Some("qcow2".into());
    meta.container_format = Some("bare".into());
    meta.size = Some(u64::MAX);
    meta.virtual_size = Some(0);
    meta.checksum = Some("8a40c862b5735975d82605c1dd395796".into());
    meta.status = Some("pending_delete".into());
    meta.is_public = Some(false);
    meta.protected = Some(true);
    meta.min_ram = Some(64);
    meta.min_disk = Some(1);
    meta.owner = Some("13cc6052265b41529e2fd0fc461fa8ef".into());
    meta.created_at = Some("2016-01-06T03:22:20.000000".into());
    meta.updated_at = Some("2016-02-25 03:02:05".into());
    meta.deleted = Some(true);
    meta.deleted_at = Some("2016-02-25T03:02:05Z".into());
    meta.location = Some("file:///var/lib/glance/images/x".into());
    meta.copy_from = Some("http://example.com/a.img?x=1".into());
    meta.store = Some("file".into());
    meta.properties = BTreeMap::from([
        ("os_distro".into(), "cirros".into()),
        ("kernel-id".into(), "k".into()),
        ("note".into(), "日本語 with \"quotes\" and %20".into()),
    ]);
    meta
}

#[test]
fn every_field_round_trips_through_headers() {
    let meta = every_field();
    let headers = meta.to_headers().unwrap();
    assert_eq!(headers["x-image-meta-is_public"], "false");
    assert_eq!(
        headers["x-glance-api-copy-from"],
        "http://example.com/a.img?x=1"
    );
    assert_eq!(
        headers["x-image-meta-property-note"].as_bytes(),
        "日本語 with \"quotes\" and %20".as_bytes(),
        "text goes raw, never percent-encoded"
    );
    assert_eq!(headers::parse_image_meta(&headers).unwrap(), meta);
}

#[test]
fn an_image_v1_can_express_round_trips_through_v1_headers() {
    let mut image = Image::default();
    image.id = ID.into();
    image.name = Some("cirros".into());
    image.status = "active".into();
    image.size = Some(4979632);
    image.checksum = Some("8a40c862b5735975d82605c1dd395796".into());
    image.disk_format = Some("raw".into());
    image.container_format = Some("bare".into());
    image.visibility = "private".into();
    image.min_disk = 1;
    image.owner = Some("p".into());
    image.created_at = Some("2016-01-06T03:22:20Z".into());
    image.updated_at = Some("2016-02-25T03:02:05Z".into());
    image.direct_url = Some("file:///var/lib/glance/images/x".into());
    image.stores = vec!["file".into()];
    image.properties = BTreeMap::from([("os_distro".into(), "cirros".into())]);
    let headers = ImageMeta::from_image(&image).to_headers().unwrap();
    let back = headers::parse_image_meta(&headers)
        .unwrap()
        .into_image()
        .unwrap();
    assert_eq!(back, image);
}

#[test]
fn none_is_never_sent_as_text() {
    let mut meta = ImageMeta::default();
    meta.name = Some("n".into());
    let headers = meta.to_headers().unwrap();
    assert_eq!(headers.len(), 1, "{headers:?}");
    assert!(headers.values().all(|v| v != "None"));
}

/// xorshift64*: deterministic, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

#[test]
fn arbitrary_headers_parse_or_fail_cleanly_and_what_parses_round_trips() {
    let names = [
        "x-image-meta-size",
        "x-image-meta-virtual_size",
        "x-image-meta-min-ram",
        "x-image-meta-is_public",
        "x-image-meta-deleted",
        "x-image-meta-created_at",
        "x-image-meta-name",
        "x-image-meta-id",
        "x-image-meta-copy_from",
        "x-glance-api-copy-from",
        "x-image-meta-property-",
        "x-image-meta-property-p",
        "x-image-meta-property-x-y",
        "x-image-meta-",
        "x-image-meta-nonsense",
        "etag",
    ];
    let values = [
        "",
        " ",
        "0",
        "18446744073709551615",
        "18446744073709551616",
        "-1",
        "None",
        "True",
        "yes",
        "2016-01-06T03:22:20.000000",
        "2016-02-30 25:00:00",
        "caf\u{e9}",
        "\t x \t",
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut parsed, mut refused) = (0, 0);
    for _ in 0..5000 {
        let mut h = HeaderMap::new();
        for _ in 0..(rng.next() % 6) {
            let name = HeaderName::from_bytes(rng.pick(&names).as_bytes()).unwrap();
            let value = if rng.next().is_multiple_of(4) {
                // Arbitrary bytes a header value may carry, obs-text included.
                let bytes: Vec<u8> = (0..rng.next() % 8)
                    .map(|_| (rng.next() % 256) as u8)
                    .filter(|&b| (b >= 0x20 && b != 0x7f) || b == b'\t')
                    .collect();
                HeaderValue::from_bytes(&bytes).unwrap()
            } else {
                HeaderValue::from_bytes(rng.pick(&values).as_bytes()).unwrap()
            };
            h.append(name, value);
        }
        match headers::parse_image_meta(&h) {
            Ok(meta) => {
                parsed += 1;
                let again = meta
                    .to_headers()
                    .unwrap_or_else(|e| panic!("{h:?} -> {meta:?}: {e}"));
                assert_eq!(headers::parse_image_meta(&again).unwrap(), meta, "{h:?}");
            }
            Err(Error::InvalidResponse(_)) => refused += 1,
            Err(other) => panic!("{h:?}: unexpected error kind {other:?}"),
        }
    }
    assert!(
        parsed > 1000 && refused > 1000,
        "parsed {parsed}, refused {refused}"
    );
}
