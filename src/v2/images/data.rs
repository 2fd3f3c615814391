//! `/v2/images/{id}/file`: the upload and download requests. The head of a
//! download answer is parsed by [`wire::parse_download_start`], which v1
//! shares.

use http::{Method, Request};

use crate::error::Result;
use crate::v2::image_path;
use crate::wire::{self, JSON, OCTET_STREAM};

/// `PUT /v2/images/{id}/file` headers; the caller streams the data as the body.
///
/// With a known `size` the request carries `Content-Length`, otherwise the
/// data goes chunked. No `Expect: 100-continue` is ever sent.
pub fn upload(id: &str, size: Option<u64>) -> Result<Request<Vec<u8>>> {
    data_request(&format!("{}/file", image_path(id)?), size)
}

/// A `PUT` of octet-stream data to `path`.
pub(crate) fn data_request(path: &str, size: Option<u64>) -> Result<Request<Vec<u8>>> {
    let mut builder = wire::request(Method::PUT, path)
        .header(http::header::ACCEPT, JSON)
        .header(http::header::CONTENT_TYPE, OCTET_STREAM);
    if let Some(n) = size {
        builder = builder.header(http::header::CONTENT_LENGTH, n);
    }
    wire::finish(builder, Vec::new())
}

/// `GET /v2/images/{id}/file`, from byte `offset` on when it is not zero
/// (`Range: bytes=<offset>-`). Parse the head of the answer with
/// [`wire::parse_download_start`].
pub fn download(id: &str, offset: u64) -> Result<Request<Vec<u8>>> {
    wire::download_request(&format!("{}/file", image_path(id)?), offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_headers() {
        let r = upload("i", Some(5)).unwrap();
        assert_eq!(r.method(), Method::PUT);
        assert_eq!(r.uri(), "/v2/images/i/file");
        assert_eq!(r.headers()["content-type"], "application/octet-stream");
        assert_eq!(r.headers()["content-length"], "5");
        assert!(r.headers().get("expect").is_none());
        let r = upload("i", None).unwrap();
        assert!(r.headers().get("content-length").is_none());
    }

    #[test]
    fn download_ranges() {
        assert!(download("i", 0).unwrap().headers().get("range").is_none());
        assert_eq!(download("i", 10).unwrap().headers()["range"], "bytes=10-");
    }
}
