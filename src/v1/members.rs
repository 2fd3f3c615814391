//! `/v1/images/{id}/members`: share an image with other projects.
//!
//! v1 membership has no status to accept or reject: a member sees the
//! image at once. It has `can_share` instead, which lets the member share
//! the image further.

use http::{Method, Request, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::image_path;
use crate::error::{Error, Result};
use crate::wire::{JSON, json_request, parse_json, segment, to_json};

/// One project an image is shared with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Membership {
    /// The project the image is shared with.
    pub member_id: String,
    /// Whether that project may share the image further.
    #[serde(default)]
    pub can_share: bool,
}

impl Membership {
    /// `member_id`'s membership, allowed to share the image further or not.
    pub fn new(member_id: impl Into<String>, can_share: bool) -> Membership {
        Membership {
            member_id: member_id.into(),
            can_share,
        }
    }
}

/// `GET /v1/images/{id}/members`.
pub fn list(image_id: &str) -> Result<Request<Vec<u8>>> {
    json_request(Method::GET, &members_path(image_id)?, None)
}

/// Parses `{"members": [{"member_id": ..., "can_share": ...}, ...]}`.
pub fn parse_list<B: AsRef<[u8]>>(response: &Response<B>) -> Result<Vec<Membership>> {
    let members = match parse_json::<Value, _>("member list", response)? {
        Value::Object(mut o) => o.remove("members"),
        _ => None,
    };
    let members = members.ok_or_else(|| Error::invalid_response("member list has no members"))?;
    serde_json::from_value(members)
        .map_err(|e| Error::invalid_response(format!("member list: {e}")))
}

/// `PUT /v1/images/{id}/members/{member}`: shares the image (204).
///
/// With `can_share` the body `{"member": {"can_share": ...}}` sets it;
/// without, a new member gets `false` and an existing one keeps its value.
pub fn add(image_id: &str, member_id: &str, can_share: Option<bool>) -> Result<Request<Vec<u8>>> {
    let body = match can_share {
        Some(c) => Some(to_json(&serde_json::json!({"member": {"can_share": c}}))?),
        None => None,
    };
    json_request(
        Method::PUT,
        &member_path(image_id, member_id)?,
        body.map(|b| (JSON, b)),
    )
}

/// `PUT /v1/images/{id}/members`: makes `members` the image's whole member
/// list (204); projects not in it lose access.
pub fn replace(image_id: &str, members: &[Membership]) -> Result<Request<Vec<u8>>> {
    for m in members {
        segment("member id", &m.member_id)?;
    }
    #[derive(Serialize)]
    struct Body<'a> {
        memberships: &'a [Membership],
    }
    let body = to_json(&Body {
        memberships: members,
    })?;
    json_request(Method::PUT, &members_path(image_id)?, Some((JSON, body)))
}

/// `DELETE /v1/images/{id}/members/{member}` (204); parse with
/// [`parse_empty`](crate::wire::parse_empty).
pub fn remove(image_id: &str, member_id: &str) -> Result<Request<Vec<u8>>> {
    json_request(Method::DELETE, &member_path(image_id, member_id)?, None)
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
    use crate::wire::test_ok as ok;

    #[test]
    fn member_requests() {
        let r = add("i", "p2", None).unwrap();
        assert_eq!(
            (r.method(), r.uri().path()),
            (&Method::PUT, "/v1/images/i/members/p2")
        );
        assert!(r.body().is_empty() && r.headers().get("content-type").is_none());
        let r = add("i", "p2", Some(true)).unwrap();
        assert_eq!(r.body().as_slice(), br#"{"member":{"can_share":true}}"#);
        assert_eq!(r.headers()["content-type"], "application/json");
        let r = replace(
            "i",
            &[Membership {
                member_id: "p2".into(),
                can_share: false,
            }],
        )
        .unwrap();
        assert_eq!(
            (r.method(), r.uri().path()),
            (&Method::PUT, "/v1/images/i/members")
        );
        assert_eq!(
            r.body().as_slice(),
            br#"{"memberships":[{"member_id":"p2","can_share":false}]}"#
        );
        assert_eq!(remove("i", "p2").unwrap().method(), Method::DELETE);
        assert!(add("i", "", None).is_err());
        assert!(
            replace(
                "i",
                &[Membership {
                    member_id: String::new(),
                    can_share: true
                }]
            )
            .is_err()
        );
    }

    #[test]
    fn parses_member_lists() {
        let list = parse_list(&ok(
            r#"{"members": [{"member_id": "t1", "can_share": true}, {"member_id": "t2"}]}"#,
        ))
        .unwrap();
        assert_eq!(list.len(), 2);
        assert!(list[0].can_share && !list[1].can_share);
        for bad in [
            "",
            "[]",
            r#"{"memberships": []}"#,
            r#"{"members": [{"can_share": true}]}"#,
        ] {
            assert!(
                matches!(parse_list(&ok(bad)), Err(Error::InvalidResponse(_))),
                "{bad}"
            );
        }
    }
}
