//! Sharing in v1 mode: the neutral member calls and v1's own extras.

use glance_client::v1::members::Membership;
use httptest::responders::status_code;
use serde_json::json;

use super::harness::*;

#[test]
fn neutral_member_calls_speak_v1() {
    let wire = Wire::new(vec![
        Box::new(json(
            200,
            json!({"members": [{"member_id": "t1", "can_share": true}]}),
        )),
        Box::new(status_code(204)),
        Box::new(status_code(204)),
    ]);
    let client = wire.client();
    let members = client.members(ID).unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(
        (members[0].member_id.as_str(), members[0].image_id.as_str()),
        ("t1", ID)
    );
    assert_eq!(
        members[0].status, "accepted",
        "v1 members need no acceptance"
    );
    let added = client.add_member(ID, "t2").unwrap();
    assert_eq!(
        (added.member_id.as_str(), added.status.as_str()),
        ("t2", "accepted")
    );
    client.remove_member(ID, "t2").unwrap();
    let members = format!("/v1/images/{ID}/members");
    assert_eq!(
        wire.seen(),
        [
            expect("GET", &members, &call(&[])),
            expect("PUT", &format!("{members}/t2"), &empty_body(&[])),
            expect("DELETE", &format!("{members}/t2"), &call(&[])),
        ]
    );
}

#[test]
fn v1_extras_set_can_share_and_replace_the_whole_list() {
    let wire = Wire::new(vec![
        Box::new(json(
            200,
            json!({"members": [{"member_id": "t1", "can_share": false}]}),
        )),
        Box::new(status_code(204)),
        Box::new(status_code(204)),
    ]);
    let client = wire.client();
    assert_eq!(
        client.v1().members(ID).unwrap(),
        [Membership::new("t1", false)]
    );
    client.v1().add_member(ID, "t2", true).unwrap();
    let all = [Membership::new("t1", false), Membership::new("t2", true)];
    client.v1().replace_members(ID, &all).unwrap();
    let members = format!("/v1/images/{ID}/members");
    let with_json = |len: &'static str| {
        vec![
            ("accept", "application/json"),
            ("content-length", len),
            ("content-type", "application/json"),
            ("user-agent", USER_AGENT),
            ("x-auth-token", TOKEN),
        ]
    };
    assert_eq!(
        wire.seen(),
        [
            expect("GET", &members, &call(&[])),
            expect("PUT", &format!("{members}/t2"), &with_json("29"))
                .with_body(br#"{"member":{"can_share":true}}"#),
            expect("PUT", &members, &with_json("90")).with_body(
                br#"{"memberships":[{"member_id":"t1","can_share":false},{"member_id":"t2","can_share":true}]}"#
            ),
        ]
    );
}
