//! `/v2/images/{id}/tags/{tag}`: add and remove one tag.
//!
//! Both answer 204; parse with [`parse_empty`](crate::wire::parse_empty). To
//! replace every tag at once, update the image with
//! [`ImageUpdate::tags`](crate::ImageUpdate::tags).

use http::{Method, Request};

use super::{image_path, json_request};
use crate::error::Result;
use crate::wire::segment;

/// `PUT /v2/images/{id}/tags/{tag}` (adding a tag that exists is not an error).
pub fn add(id: &str, tag: &str) -> Result<Request<Vec<u8>>> {
    json_request(Method::PUT, &tag_path(id, tag)?, None)
}

/// `DELETE /v2/images/{id}/tags/{tag}`.
pub fn remove(id: &str, tag: &str) -> Result<Request<Vec<u8>>> {
    json_request(Method::DELETE, &tag_path(id, tag)?, None)
}

fn tag_path(id: &str, tag: &str) -> Result<String> {
    Ok(format!("{}/tags/{}", image_path(id)?, segment("tag", tag)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_requests() {
        let r = add("i", "with space").unwrap();
        assert_eq!(r.method(), Method::PUT);
        assert_eq!(r.uri(), "/v2/images/i/tags/with%20space");
        let r = remove("i", "t").unwrap();
        assert_eq!(r.method(), Method::DELETE);
        assert_eq!(r.uri(), "/v2/images/i/tags/t");
        assert!(add("i", "").is_err());
    }
}
