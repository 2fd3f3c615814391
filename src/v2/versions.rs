//! Version discovery: `GET /versions` (200) and `GET /` (300 Multiple Choices).

use http::{Method, Request, Response};
use serde::Deserialize;

use super::json_request;
use crate::error::{Error, Result};

/// One API version a server offers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Version {
    /// Version id, e.g. `v2.18`.
    pub id: String,
    /// `CURRENT`, `SUPPORTED`, `DEPRECATED` ...
    pub status: String,
    /// The `self` link, when given.
    pub url: Option<String>,
}

impl Version {
    /// The `(major, minor)` numbers of the id (`v2.18` is `(2, 18)`).
    pub fn number(&self) -> Option<(u32, u32)> {
        let rest = self.id.strip_prefix('v')?;
        let (major, minor) = rest.split_once('.').unwrap_or((rest, "0"));
        Some((major.parse().ok()?, minor.parse().ok()?))
    }
}

/// Whether a versions document offers image API v2.`minor`: a v2 version
/// listed as `CURRENT`, `SUPPORTED` or `EXPERIMENTAL` that is that one
/// (`exact`) or at least that one.
///
/// `exact` is for the features Glance switches on by configuration and
/// announces by listing their version: with its cache disabled, Glance
/// lists v2.15 and v2.17 but not v2.14, v2.16 or v2.18, so the cache calls
/// ask whether v2.14 itself is listed.
pub fn offers(versions: &[Version], minor: u32, exact: bool) -> bool {
    versions
        .iter()
        .filter(|v| matches!(v.status.as_str(), "CURRENT" | "SUPPORTED" | "EXPERIMENTAL"))
        .filter_map(Version::number)
        .any(|(major, m)| major == 2 && if exact { m == minor } else { m >= minor })
}

/// `GET /versions`.
pub fn versions() -> Result<Request<Vec<u8>>> {
    json_request(Method::GET, "/versions", None)
}

/// `GET /`: Glance answers `300 Multiple Choices` with the same document
/// (the fallback when `/versions` is not there).
pub fn root() -> Result<Request<Vec<u8>>> {
    json_request(Method::GET, "/", None)
}

/// Parses the versions document; a 300 (the answer of `/` and `/v1/...`)
/// carries the same document and is accepted.
pub fn parse_versions<B: AsRef<[u8]>>(response: &Response<B>) -> Result<Vec<Version>> {
    #[derive(Deserialize)]
    struct Doc {
        versions: Vec<Entry>,
    }
    #[derive(Deserialize)]
    struct Entry {
        id: String,
        #[serde(default)]
        status: String,
        #[serde(default)]
        links: Vec<Link>,
    }
    #[derive(Deserialize)]
    struct Link {
        #[serde(default)]
        rel: String,
        href: String,
    }
    if response.status().as_u16() != 300 {
        crate::wire::check(response)?;
    }
    let doc: Doc = serde_json::from_slice(response.body().as_ref())
        .map_err(|e| Error::invalid_response(format!("versions document: {e}")))?;
    Ok(doc
        .versions
        .into_iter()
        .map(|e| Version {
            url: e
                .links
                .into_iter()
                .find(|l| l.rel == "self")
                .map(|l| l.href),
            id: e.id,
            status: e.status,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"{"versions": [{"id": "v2.18", "status": "CURRENT", "links": [{"rel": "self", "href": "http://127.0.0.1:19292/v2/"}]}, {"id": "v2.1", "status": "SUPPORTED", "links": []}]}"#;

    #[test]
    fn parses_both_answers() {
        for status in [200, 300] {
            let r = Response::builder()
                .status(status)
                .body(DOC.as_bytes())
                .unwrap();
            let v = parse_versions(&r).unwrap();
            assert_eq!(v.len(), 2);
            assert_eq!(v[0].number(), Some((2, 18)));
            assert_eq!(v[0].url.as_deref(), Some("http://127.0.0.1:19292/v2/"));
            assert_eq!(v[1].url, None);
        }
        let r = Response::builder()
            .status(200)
            .body(DOC.as_bytes())
            .unwrap();
        let v = parse_versions(&r).unwrap();
        assert!(offers(&v, 18, true) && offers(&v, 17, false) && offers(&v, 1, true));
        assert!(!offers(&v, 17, true) && !offers(&v, 19, false));
        let r = Response::builder().status(404).body(&b""[..]).unwrap();
        assert!(matches!(parse_versions(&r), Err(Error::NotFound(_))));
        assert_eq!(versions().unwrap().uri(), "/versions");
    }
}
