//! Members against the real Glance: the owner shares, a second project
//! (the lab's `X-Project-Id` header) sees, accepts and loses the image.

use glance_client::{Error, NewImage, http, v2};

use super::{Scratch, new_image, support, unique};

const OTHER: &str = "project-b-of-the-members-test";

#[test]
fn a_member_sees_accepts_and_loses_a_shared_image() {
    let Some(lab) = support::lab() else { return };
    let client = lab.client();
    let scratch = Scratch::with(
        &client,
        NewImage {
            visibility: Some("shared".into()),
            ..new_image(&unique("members"))
        },
    );
    let id = scratch.id();
    let as_other = [("X-Project-Id", OTHER)];
    let shown_to_other = || lab.send(v2::images::show(id).expect("a request"), &as_other);
    assert_eq!(
        shown_to_other().status(),
        http::StatusCode::NOT_FOUND,
        "not shared yet"
    );

    let member = client.add_member(id, OTHER).expect("share the image");
    assert_eq!(
        (member.image_id.as_str(), member.member_id.as_str()),
        (id, OTHER)
    );
    assert_eq!(member.status, "pending");
    assert!(member.created_at.is_some(), "{member:?}");
    let again = client.add_member(id, OTHER);
    assert!(
        matches!(again, Err(Error::Conflict(_))),
        "sharing twice: {again:?}"
    );

    // The member sees a pending image by id, and accepts it.
    assert_eq!(shown_to_other().status(), http::StatusCode::OK);
    let accepted = lab.send(
        v2::members::update(id, OTHER, "accepted").expect("a request"),
        &as_other,
    );
    let accepted = v2::members::parse_member(&accepted).expect("the member's own update");
    assert_eq!(accepted.status, "accepted");

    let members = client.members(id).expect("list members");
    assert_eq!(members.len(), 1, "{members:?}");
    assert_eq!(
        (members[0].member_id.as_str(), members[0].status.as_str()),
        (OTHER, "accepted")
    );

    // The owner (without the admin role) cannot set the status for the member.
    let owner = scratch.image.owner.clone().expect("an owner");
    let by_owner = lab.send(
        v2::members::update(id, OTHER, "rejected").expect("a request"),
        &[("X-Project-Id", owner.as_str()), ("X-Roles", "member")],
    );
    let by_owner = v2::members::parse_member(&by_owner);
    assert!(
        matches!(by_owner, Err(Error::Forbidden(_))),
        "the owner setting a member's status: {by_owner:?}"
    );
    assert_eq!(
        client.members(id).expect("list members")[0].status,
        "accepted"
    );

    client.remove_member(id, OTHER).expect("stop sharing");
    assert!(client.members(id).expect("list members").is_empty());
    assert_eq!(
        shown_to_other().status(),
        http::StatusCode::NOT_FOUND,
        "no longer shared"
    );
    let gone = client.remove_member(id, OTHER);
    assert!(
        matches!(gone, Err(Error::NotFound(_))),
        "removing a member twice: {gone:?}"
    );
}

#[test]
fn a_private_image_cannot_be_shared() {
    let Some(lab) = support::lab() else { return };
    let client = lab.client();
    let scratch = Scratch::with(
        &client,
        NewImage {
            visibility: Some("private".into()),
            ..new_image(&unique("members-private"))
        },
    );
    let refused = client.add_member(scratch.id(), OTHER);
    assert!(
        matches!(refused, Err(Error::Forbidden(_))),
        "sharing a private image: {refused:?}"
    );
}
