//! `/v2/images/{id}/members`: share an image with other projects.

use http::{Method, Request, Response};
use serde::{Deserialize, Serialize};

use super::{JSON, image_path, json_request, parse_json, to_json};
use crate::error::Result;
use crate::wire::segment;

/// One project an image is shared with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Member {
    /// The shared image.
    pub image_id: String,
    /// The project it is shared with.
    pub member_id: String,
    /// `pending`, `accepted` or `rejected`.
    pub status: String,
    /// When the membership was created.
    #[serde(default)]
    pub created_at: Option<String>,
    /// When its status last changed.
    #[serde(default)]
    pub updated_at: Option<String>,
}

#[derive(Deserialize)]
struct MemberList {
    members: Vec<Member>,
}

/// `GET /v2/images/{id}/members`.
pub fn list(image_id: &str) -> Result<Request<Vec<u8>>> {
    json_request(Method::GET, &members_path(image_id)?, None)
}

/// Parses `{"members": [...]}`.
pub fn parse_list<B: AsRef<[u8]>>(response: &Response<B>) -> Result<Vec<Member>> {
    Ok(parse_json::<MemberList, _>("member list", response)?.members)
}

/// `POST /v2/images/{id}/members` sharing the image with `member_id`.
pub fn add(image_id: &str, member_id: &str) -> Result<Request<Vec<u8>>> {
    segment("member id", member_id)?;
    let body = to_json(&serde_json::json!({ "member": member_id }))?;
    json_request(Method::POST, &members_path(image_id)?, Some((JSON, body)))
}

/// `PUT /v2/images/{id}/members/{member}` setting the status (`accepted`,
/// `rejected`, `pending`); done by the member project itself.
pub fn update(image_id: &str, member_id: &str, status: &str) -> Result<Request<Vec<u8>>> {
    let body = to_json(&serde_json::json!({ "status": status }))?;
    json_request(
        Method::PUT,
        &member_path(image_id, member_id)?,
        Some((JSON, body)),
    )
}

/// `GET /v2/images/{id}/members/{member}`.
pub fn show(image_id: &str, member_id: &str) -> Result<Request<Vec<u8>>> {
    json_request(Method::GET, &member_path(image_id, member_id)?, None)
}

/// `DELETE /v2/images/{id}/members/{member}`; parse with [`parse_empty`](crate::wire::parse_empty).
pub fn remove(image_id: &str, member_id: &str) -> Result<Request<Vec<u8>>> {
    json_request(Method::DELETE, &member_path(image_id, member_id)?, None)
}

/// Parses one member object (the answer to add, update and show).
pub fn parse_member<B: AsRef<[u8]>>(response: &Response<B>) -> Result<Member> {
    parse_json("member", response)
}

fn members_path(image_id: &str) -> Result<String> {
    Ok(format!("{}/members", image_path(image_id)?))
}

fn member_path(image_id: &str, member_id: &str) -> Result<String> {
    Ok(format!(
        "{}/{}",
        members_path(image_id)?,
        segment("member id", member_id)?
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;
    use crate::wire::test_ok as ok;

    const MEMBER: &str = r#"{"member_id": "other-proj", "image_id": "ba84d968-7129-4f43-b46a-59020cff8cb9", "status": "pending", "created_at": "2026-11-25T10:25:03Z", "updated_at": "2026-11-25T10:25:03Z", "schema": "/v2/schemas/member"}"#;

    #[test]
    fn member_requests() {
        let r = add("i", "p2").unwrap();
        assert_eq!(
            (r.method(), r.uri().to_string()),
            (&Method::POST, "/v2/images/i/members".into())
        );
        assert_eq!(r.body().as_slice(), br#"{"member":"p2"}"#);
        let r = update("i", "p2", "accepted").unwrap();
        assert_eq!(
            (r.method(), r.uri().to_string()),
            (&Method::PUT, "/v2/images/i/members/p2".into())
        );
        assert_eq!(r.body().as_slice(), br#"{"status":"accepted"}"#);
        let r = remove("i", "p2").unwrap();
        assert_eq!(r.method(), Method::DELETE);
        assert_eq!(list("i").unwrap().uri(), "/v2/images/i/members");
        assert!(add("i", "").is_err());
    }

    #[test]
    fn parses_real_member_answers() {
        let m = parse_member(&ok(MEMBER)).unwrap();
        assert_eq!(m.member_id, "other-proj");
        assert_eq!(m.status, "pending");
        let list = parse_list(&ok(&format!(
            r#"{{"members": [{MEMBER}], "schema": "/v2/schemas/members"}}"#
        )))
        .unwrap();
        assert_eq!(list, vec![m]);
        assert!(matches!(
            parse_list(&ok(r#"{"members": 1}"#)),
            Err(Error::InvalidResponse(_))
        ));
    }
}
