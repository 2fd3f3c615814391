//! The `x-image-meta-*` header codec, both ways.
//!
//! # Names
//!
//! A standard field travels as `x-image-meta-<field>` (`x-image-meta-disk_format`,
//! the server's own spelling; `-` and `_` are the same on the way in), a
//! custom property as `x-image-meta-property-<key>`, and `copy_from` as
//! `x-glance-api-copy-from`, the header the server acts on (the older
//! `x-image-meta-copy_from` is read too). Header names are case-insensitive,
//! so property keys come back lowercase, as the v1 server stores them; a
//! key that is not an HTTP token (a space, `:`, `/`, non-ASCII) cannot be
//! sent and is refused. The v1 server also stores `-` in a property key as
//! `_`; that renaming is the server's and is not undone here.
//!
//! # Values
//!
//! - Integers are decimal; booleans are read as oslo's `bool_from_string`
//!   does (`1`, `t`, `true`, `on`, `y`, `yes` in any case are true, anything
//!   else false) and sent as `true`/`false`.
//! - Timestamps must look like ISO 8601 (`2016-01-06T03:22:20.000000`,
//!   optionally with `Z` or an offset); anything else is an error.
//! - An empty value means "none" both ways: reading one gives `None`, and
//!   `Some("")` is sent as an empty header, which the server stores as none.
//!   A missing value is never sent, and never as the text `None`.
//! - Text is sent as raw UTF-8 bytes, as python-glanceclient did for v1 and
//!   as the v1 server reads and writes it (it never percent-decodes, so
//!   percent-encoding would change the stored value). Characters that
//!   cannot appear in a header value at all (CR, LF, NUL and the other
//!   control characters except tab) and leading or trailing whitespace
//!   (which HTTP strips) are refused with [`Error::InvalidInput`] rather than
//!   altered. Received values are decoded as UTF-8, invalid sequences
//!   replaced by U+FFFD; surrounding spaces are trimmed.
//! - Unknown `x-image-meta-*` names are ignored, so a newer server's extra
//!   fields do not break parsing.

use std::collections::BTreeMap;

use http::{HeaderMap, HeaderName, HeaderValue};

use super::ImageMeta;
use super::values::{bool_text, check_timestamp, parse_bool, parse_u64};
use crate::error::{Error, Result};

/// Prefix of a standard field's header.
pub(crate) const META_PREFIX: &str = "x-image-meta-";
/// Prefix of a custom property's header.
pub(crate) const PROPERTY_PREFIX: &str = "x-image-meta-property-";
/// The header naming a URL the server copies the image data from.
pub(crate) const COPY_FROM: &str = "x-glance-api-copy-from";
/// The header saying whether an update replaces the whole property set.
pub(crate) const PURGE_PROPS: &str = "x-glance-registry-purge-props";

/// Parses the image metadata of a `HEAD` or `GET /v1/images/{id}` answer.
///
/// Pure and total: any header map gives an [`ImageMeta`] or an error naming
/// the bad header, never a panic, which makes it the fuzz entry point. The
/// image id is not required here ([`ImageMeta::into_image`] requires it).
pub fn parse_image_meta(headers: &HeaderMap) -> Result<ImageMeta> {
    let mut meta = ImageMeta::default();
    for (name, value) in headers {
        let name = name.as_str();
        let text = decode(value);
        if let Some(key) = name.strip_prefix(PROPERTY_PREFIX) {
            if !key.is_empty() && !text.is_empty() {
                meta.properties.entry(key.to_string()).or_insert(text);
            }
            continue;
        }
        let field = match name.strip_prefix(META_PREFIX) {
            Some(field) => field.replace('-', "_"),
            None if name == COPY_FROM => "copy_from".to_string(),
            None => continue,
        };
        if text.is_empty() {
            continue;
        }
        meta.set_text(&field, text, TextSource::Header)?;
    }
    Ok(meta)
}

/// Where a field's text came from, for error messages.
#[derive(Clone, Copy)]
pub(crate) enum TextSource {
    Header,
    Json,
}

impl ImageMeta {
    /// Sets one field from its text form, first value wins; unknown fields
    /// are ignored. Returns an error naming the field when the text does
    /// not parse.
    pub(crate) fn set_text(&mut self, field: &str, text: String, from: TextSource) -> Result<()> {
        let what = || match from {
            TextSource::Header => format!("{META_PREFIX}{field}"),
            TextSource::Json => format!("image {field}"),
        };
        let slot_text = |slot: &mut Option<String>, text: String| {
            slot.get_or_insert(text);
        };
        match field {
            "id" => slot_text(&mut self.id, text),
            "name" => slot_text(&mut self.name, text),
            "disk_format" => slot_text(&mut self.disk_format, text),
            "container_format" => slot_text(&mut self.container_format, text),
            "checksum" => slot_text(&mut self.checksum, text),
            "status" => slot_text(&mut self.status, text),
            "owner" => slot_text(&mut self.owner, text),
            "location" => slot_text(&mut self.location, text),
            "copy_from" => slot_text(&mut self.copy_from, text),
            "store" => slot_text(&mut self.store, text),
            "size" | "virtual_size" | "min_ram" | "min_disk" => {
                // The server itself lets virtual_size be the text "None".
                if field == "virtual_size" && text == "None" {
                    return Ok(());
                }
                let n = parse_u64(&what(), &text)?;
                let slot = match field {
                    "size" => &mut self.size,
                    "virtual_size" => &mut self.virtual_size,
                    "min_ram" => &mut self.min_ram,
                    _ => &mut self.min_disk,
                };
                slot.get_or_insert(n);
            }
            "is_public" | "protected" | "deleted" => {
                let slot = match field {
                    "is_public" => &mut self.is_public,
                    "protected" => &mut self.protected,
                    _ => &mut self.deleted,
                };
                slot.get_or_insert(parse_bool(&text));
            }
            "created_at" | "updated_at" | "deleted_at" => {
                check_timestamp(&what(), &text)?;
                let slot = match field {
                    "created_at" => &mut self.created_at,
                    "updated_at" => &mut self.updated_at,
                    _ => &mut self.deleted_at,
                };
                slot.get_or_insert(text);
            }
            _ => {}
        }
        Ok(())
    }

    /// Encodes every field that is set as request (or response) headers.
    ///
    /// Fails with [`Error::InvalidInput`] when a value cannot be a header
    /// value or a property key cannot be a header name (see the module docs);
    /// nothing is silently altered.
    pub fn to_headers(&self) -> Result<HeaderMap> {
        let mut h = HeaderMap::new();
        let texts: [(&'static str, &Option<String>); 13] = [
            ("x-image-meta-id", &self.id),
            ("x-image-meta-name", &self.name),
            ("x-image-meta-disk_format", &self.disk_format),
            ("x-image-meta-container_format", &self.container_format),
            ("x-image-meta-checksum", &self.checksum),
            ("x-image-meta-status", &self.status),
            ("x-image-meta-owner", &self.owner),
            ("x-image-meta-created_at", &self.created_at),
            ("x-image-meta-updated_at", &self.updated_at),
            ("x-image-meta-deleted_at", &self.deleted_at),
            ("x-image-meta-location", &self.location),
            ("x-image-meta-store", &self.store),
            (COPY_FROM, &self.copy_from),
        ];
        for (name, value) in texts {
            if let Some(v) = value {
                h.insert(name, text_value(name, v)?);
            }
        }
        let numbers = [
            ("x-image-meta-size", self.size),
            ("x-image-meta-virtual_size", self.virtual_size),
            ("x-image-meta-min_ram", self.min_ram),
            ("x-image-meta-min_disk", self.min_disk),
        ];
        for (name, value) in numbers {
            if let Some(n) = value {
                h.insert(name, HeaderValue::from(n));
            }
        }
        let bools = [
            ("x-image-meta-is_public", self.is_public),
            ("x-image-meta-protected", self.protected),
            ("x-image-meta-deleted", self.deleted),
        ];
        for (name, value) in bools {
            if let Some(b) = value {
                h.insert(name, HeaderValue::from_static(bool_text(b)));
            }
        }
        insert_properties(&mut h, &self.properties)?;
        Ok(h)
    }
}

/// Adds one `x-image-meta-property-<key>` header per property.
pub(crate) fn insert_properties(
    h: &mut HeaderMap,
    properties: &BTreeMap<String, String>,
) -> Result<()> {
    for (key, value) in properties {
        let name = property_header(key)?;
        if h.contains_key(&name) {
            return Err(Error::InvalidInput(format!(
                "property {key:?} collides with another one differing only in case \
                 (v1 property names are case-insensitive)"
            )));
        }
        let value = text_value(name.as_str(), value)?;
        h.insert(name, value);
    }
    Ok(())
}

/// The header name of a property, refused when the key is not an HTTP token.
pub(crate) fn property_header(key: &str) -> Result<HeaderName> {
    if key.is_empty() {
        return Err(Error::InvalidInput(
            "property name must not be empty".into(),
        ));
    }
    HeaderName::from_bytes(format!("{PROPERTY_PREFIX}{key}").as_bytes()).map_err(|_| {
        Error::InvalidInput(format!(
            "property name {key:?} cannot be sent in a v1 header (it must be an HTTP token)"
        ))
    })
}

/// A text value as a header value: raw UTF-8, refused (never altered) when
/// it holds a control character or surrounding whitespace.
pub(crate) fn text_value(what: &str, text: &str) -> Result<HeaderValue> {
    let bad = |why: &str| {
        Error::InvalidInput(format!(
            "{what} value {text:?} cannot be sent in a v1 header: {why}"
        ))
    };
    if text.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        return Err(bad("it holds a control character such as a newline"));
    }
    if text.starts_with([' ', '\t']) || text.ends_with([' ', '\t']) {
        return Err(bad("HTTP would strip its leading or trailing whitespace"));
    }
    HeaderValue::from_bytes(text.as_bytes()).map_err(|_| bad("not a valid header value"))
}

/// A received header value as text: UTF-8 (invalid bytes replaced), trimmed.
fn decode(value: &HeaderValue) -> String {
    String::from_utf8_lossy(value.as_bytes())
        .trim_matches([' ', '\t'])
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &[u8])]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_bytes(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn names_are_case_insensitive_and_dashes_are_underscores() {
        let h = headers(&[
            ("X-Image-Meta-Disk-Format", b"qcow2"),
            ("x-image-meta-MIN_RAM", b"64"),
            ("X-Image-Meta-Property-OS_Distro", b"cirros"),
        ]);
        let meta = parse_image_meta(&h).unwrap();
        assert_eq!(meta.disk_format.as_deref(), Some("qcow2"));
        assert_eq!(meta.min_ram, Some(64));
        assert_eq!(meta.properties["os_distro"], "cirros");
    }

    #[test]
    fn empty_values_mean_none_and_unknown_fields_are_ignored() {
        let h = headers(&[
            ("x-image-meta-name", b""),
            ("x-image-meta-size", b""),
            ("x-image-meta-property-p", b""),
            ("x-image-meta-uri", b"whatever"),
            ("x-image-meta-virtual_size", b"None"),
            ("etag", b"abc"),
        ]);
        assert_eq!(parse_image_meta(&h).unwrap(), ImageMeta::default());
    }

    #[test]
    fn bad_numbers_and_dates_are_errors_naming_the_header() {
        for (name, value) in [
            ("x-image-meta-size", "big"),
            ("x-image-meta-min_disk", "-1"),
            ("x-image-meta-created_at", "yesterday"),
        ] {
            let err = parse_image_meta(&headers(&[(name, value.as_bytes())])).unwrap_err();
            assert!(
                matches!(&err, Error::InvalidResponse(m) if m.contains(name)),
                "{name}: {err:?}"
            );
        }
    }

    #[test]
    fn non_utf8_values_do_not_panic() {
        let h = headers(&[("x-image-meta-name", b"caf\xe9 \xff")]);
        assert_eq!(
            parse_image_meta(&h).unwrap().name.as_deref(),
            Some("caf\u{fffd} \u{fffd}")
        );
    }

    #[test]
    fn values_that_cannot_be_headers_are_refused_not_altered() {
        assert_eq!(
            text_value("n", "niño").unwrap().as_bytes(),
            "niño".as_bytes()
        );
        assert_eq!(text_value("n", "a\tb").unwrap(), "a\tb");
        for bad in [
            "a\nb",
            "a\r\nx-auth-token: t",
            "nul\0",
            "del\x7f",
            " lead",
            "trail ",
        ] {
            assert!(
                matches!(text_value("n", bad), Err(Error::InvalidInput(_))),
                "{bad:?}"
            );
        }
        for bad in ["", "a b", "a:b", "ü", "a/b"] {
            assert!(property_header(bad).is_err(), "{bad:?}");
        }
        let props = BTreeMap::from([("A".to_string(), "1".to_string()), ("a".into(), "2".into())]);
        assert!(insert_properties(&mut HeaderMap::new(), &props).is_err());
    }
}
