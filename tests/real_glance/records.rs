//! Image records against the real Glance: show, update, tags, deactivation.

use std::io::Cursor;

use glance_client::{Error, ImageData, ImageUpdate, NewImage, http, v2, wire};

use super::{Scratch, new_image, sample, support, unique};

#[test]
fn show_returns_what_create_recorded() {
    let Some(lab) = support::lab() else { return };
    let client = lab.client();
    let name = unique("show");
    let scratch = Scratch::with(
        &client,
        NewImage {
            disk_format: Some("qcow2".into()),
            container_format: Some("ovf".into()),
            visibility: Some("private".into()),
            min_disk: Some(2),
            min_ram: Some(512),
            tags: vec!["t-one".into(), "t-two".into()],
            properties: [("os_distro".to_string(), "cirros".to_string())].into(),
            ..new_image(&name)
        },
    );

    let image = client.image(scratch.id()).expect("show");

    // Glance keeps tags in a set: the order of the list differs between
    // answers, so compare the records with their tags sorted.
    let sorted = |image: &glance_client::Image| {
        let mut image = image.clone();
        image.tags.sort();
        image
    };
    assert_eq!(
        sorted(&image),
        sorted(&scratch.image),
        "show gives what create answered"
    );
    assert_eq!(image.name.as_deref(), Some(name.as_str()));
    assert_eq!(image.status, "queued");
    assert_eq!(image.visibility, "private");
    assert_eq!(image.disk_format.as_deref(), Some("qcow2"));
    assert_eq!(image.container_format.as_deref(), Some("ovf"));
    assert_eq!((image.min_disk, image.min_ram), (2, 512));
    let mut tags = image.tags.clone();
    tags.sort();
    assert_eq!(tags, ["t-one", "t-two"]);
    assert_eq!(image.properties["os_distro"], "cirros");
    assert_eq!(image.size, None, "no data yet");
    assert!(
        image.locations.is_empty(),
        "no data, no location: {image:?}"
    );
    assert!(
        image.created_at.is_some() && image.owner.is_some(),
        "{image:?}"
    );
}

#[test]
fn update_sets_renames_and_removes_properties() {
    let Some(lab) = support::lab() else { return };
    let client = lab.client();
    let scratch = Scratch::new(&client, &unique("update"), &[("old", "1"), ("keep", "2")]);

    let update = ImageUpdate {
        name: Some("renamed".into()),
        min_ram: Some(128),
        set_properties: [
            ("keep".to_string(), "changed".to_string()),
            ("new".to_string(), "3".to_string()),
        ]
        .into(),
        remove_properties: vec!["old".into()],
        ..ImageUpdate::default()
    };
    let updated = client.update_image(scratch.id(), &update).expect("update");

    assert_eq!(updated.name.as_deref(), Some("renamed"));
    assert_eq!(updated.min_ram, 128);
    assert_eq!(
        updated.properties.get("keep").map(String::as_str),
        Some("changed")
    );
    assert_eq!(updated.properties.get("new").map(String::as_str), Some("3"));
    assert!(!updated.properties.contains_key("old"), "{updated:?}");
    assert_eq!(
        client.image(scratch.id()).expect("show"),
        updated,
        "the update is stored"
    );

    // Removing a property that is not there is the server's 409.
    let again = ImageUpdate {
        remove_properties: vec!["old".into()],
        ..ImageUpdate::default()
    };
    let refused = client.update_image(scratch.id(), &again);
    assert!(
        matches!(refused, Err(Error::Conflict(_))),
        "removing a missing property: {refused:?}"
    );
}

#[test]
fn tags_are_added_once_and_removed() {
    let Some(lab) = support::lab() else { return };
    let client = lab.client();
    let scratch = Scratch::new(&client, &unique("tags"), &[]);

    client.add_tag(scratch.id(), "gold").expect("add a tag");
    client
        .add_tag(scratch.id(), "gold")
        .expect("adding it again is no error");
    client
        .add_tag(scratch.id(), "with space")
        .expect("a tag with a space");
    let mut tags = client.image(scratch.id()).expect("show").tags;
    tags.sort();
    assert_eq!(tags, ["gold", "with space"]);

    client
        .remove_tag(scratch.id(), "gold")
        .expect("remove a tag");
    assert_eq!(
        client.image(scratch.id()).expect("show").tags,
        ["with space"]
    );
    let missing = client.remove_tag(scratch.id(), "gold");
    assert!(
        matches!(missing, Err(Error::NotFound(_))),
        "removing a tag that is gone: {missing:?}"
    );
}

#[test]
fn a_deactivated_image_cannot_be_downloaded_by_a_member_until_reactivated() {
    let Some(lab) = support::lab() else { return };
    let client = lab.client();
    let scratch = Scratch::new(&client, &unique("deactivate"), &[]);
    let data = sample(4096, 5);
    client
        .upload(
            scratch.id(),
            ImageData::reader(&mut Cursor::new(&data), Some(data.len() as u64)),
        )
        .expect("upload");
    // The owning project without the admin role.
    let project = scratch.image.owner.clone().expect("an owner");
    let as_member = [("X-Project-Id", project.as_str()), ("X-Roles", "member")];
    let download = || {
        lab.send(
            v2::images::download(scratch.id(), 0).expect("a request"),
            &as_member,
        )
    };
    assert_eq!(download().status(), http::StatusCode::OK);

    client.deactivate_image(scratch.id()).expect("deactivate");
    assert_eq!(
        client.image(scratch.id()).expect("show").status,
        "deactivated"
    );
    let refused = download();
    assert_eq!(
        refused.status(),
        http::StatusCode::FORBIDDEN,
        "a deactivated image's data"
    );
    assert!(
        matches!(wire::parse_empty(&refused), Err(Error::Forbidden(_))),
        "403 parses as Forbidden"
    );

    client.reactivate_image(scratch.id()).expect("reactivate");
    assert_eq!(client.image(scratch.id()).expect("show").status, "active");
    let answer = download();
    assert_eq!(answer.status(), http::StatusCode::OK);
    assert!(
        answer.body() == &data,
        "the data is back after reactivation"
    );

    // Reactivating an active image is no error; deactivating a queued one is 403.
    client
        .reactivate_image(scratch.id())
        .expect("reactivate again");
    let queued = Scratch::new(&client, &unique("deactivate-queued"), &[]);
    let refused = client.deactivate_image(queued.id());
    assert!(
        matches!(refused, Err(Error::Forbidden(_))),
        "deactivating a queued image: {refused:?}"
    );
}
