//! Sharing: image members in either API version, and v1's own extras.

use super::Client;
use crate::config::ApiVersion;
use crate::error::Result;
use crate::transport::Retry;
use crate::v2::members::Member;
use crate::wire;
use crate::{v1, v2};

/// A v1 membership in the neutral form: v1 has no acceptance step, so every
/// member is `accepted`, and it has no timestamps.
fn from_v1(image_id: &str, member_id: String) -> Member {
    Member {
        image_id: image_id.to_string(),
        member_id,
        status: "accepted".into(),
        created_at: None,
        updated_at: None,
    }
}

impl Client {
    /// Lists the projects an image is shared with. In v1 every member is
    /// `accepted` (see [`V1Client::members`](crate::V1Client::members) for `can_share`).
    pub fn members(&self, id: &str) -> Result<Vec<Member>> {
        match self.version() {
            ApiVersion::V2 => {
                self.call(v2::members::list(id), Retry::Safe, v2::members::parse_list)
            }
            ApiVersion::V1 => Ok(self
                .call(v1::members::list(id), Retry::Safe, v1::members::parse_list)?
                .into_iter()
                .map(|m| from_v1(id, m.member_id))
                .collect()),
        }
    }

    /// Shares an image with a project: status `pending` until it accepts in
    /// v2; in v1 the member sees it at once (an existing member's
    /// `can_share` is kept, a new one gets `false`).
    ///
    /// v2 answers 409 when the project is already a member; that is
    /// [`Error::Conflict`](crate::Error::Conflict), except when it answers a
    /// retry after an attempt whose answer was lost: that attempt most
    /// likely added the member, so the membership is fetched and returned.
    /// (v1's add is a `PUT`, which repeats harmlessly.)
    pub fn add_member(&self, id: &str, member: &str) -> Result<Member> {
        match self.version() {
            ApiVersion::V2 => self.create_named(
                v2::members::add(id, member),
                Retry::Safe,
                v2::members::parse_member,
                &format!("member {member}"),
                || {
                    self.call(
                        v2::members::show(id, member),
                        Retry::Safe,
                        v2::members::parse_member,
                    )
                },
            ),
            ApiVersion::V1 => {
                self.call(
                    v1::members::add(id, member, None),
                    Retry::Safe,
                    wire::parse_empty,
                )?;
                Ok(from_v1(id, member.to_string()))
            }
        }
    }

    /// Shows one membership (`GET /v2/images/{id}/members/{member}`). v2
    /// only: v1 has no such call.
    pub fn member(&self, id: &str, member: &str) -> Result<Member> {
        self.require_v2("member show")?;
        self.call(
            v2::members::show(id, member),
            Retry::Safe,
            v2::members::parse_member,
        )
    }

    /// Sets a membership's status (`accepted`, `rejected`, `pending`), as the
    /// member. v2 only: v1 members have no status.
    pub fn update_member(&self, id: &str, member: &str, status: &str) -> Result<Member> {
        self.require_v2("member status")?;
        self.call(
            v2::members::update(id, member, status),
            Retry::Safe,
            v2::members::parse_member,
        )
    }

    /// Stops sharing an image with a project. A 404 answering a retry after
    /// a lost attempt counts as removed, as in
    /// [`Client::delete_image`](crate::Client::delete_image).
    pub fn remove_member(&self, id: &str, member: &str) -> Result<()> {
        let request = match self.version() {
            ApiVersion::V2 => v2::members::remove(id, member),
            ApiVersion::V1 => v1::members::remove(id, member),
        };
        self.remove(request, &format!("member {member}"))
    }
}
