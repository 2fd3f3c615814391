//! What one version lacks fails with `Unsupported` before any request.

use std::path::Path;

use glance_client::v1::members::Membership;
use glance_client::v2::import::{Import, ImportMethod};
use glance_client::{ApiVersion, Error, ImageData, ImageUpdate, NewImage, Result, v1};

use super::harness::*;

#[track_caller]
fn unsupported<T: std::fmt::Debug>(what: &str, result: Result<T>, version: u8) {
    match result {
        Err(Error::Unsupported { api_version, .. }) if api_version == version => {}
        other => panic!("{what}: expected Unsupported in v{version}, got {other:?}"),
    }
}

#[test]
fn every_v2_only_operation_fails_in_v1_mode_without_a_request() {
    let wire = Wire::new(vec![]);
    let c = wire.client();
    unsupported("deactivate", c.deactivate_image(ID), 1);
    unsupported("reactivate", c.reactivate_image(ID), 1);
    unsupported("add tag", c.add_tag(ID, "t"), 1);
    unsupported("remove tag", c.remove_tag(ID, "t"), 1);
    unsupported("member status", c.update_member(ID, "p", "accepted"), 1);
    unsupported(
        "stage",
        c.stage(ID, ImageData::reader(&mut &b"x"[..], Some(1))),
        1,
    );
    unsupported(
        "stage file",
        c.stage(ID, ImageData::file(Path::new("/nonexistent"))),
        1,
    );
    let import = Import::new(ImportMethod::GlanceDirect);
    unsupported("import", c.import_image(ID, &import), 1);
    unsupported("import methods", c.import_methods(), 1);
    unsupported("stores", c.stores(), 1);

    let tagged = NewImage {
        tags: vec!["t".into()],
        ..NewImage::default()
    };
    unsupported("create with tags", c.create_image(&tagged), 1);
    let hidden = NewImage {
        os_hidden: Some(true),
        ..NewImage::default()
    };
    unsupported("create hidden", c.create_image(&hidden), 1);
    let community = NewImage {
        visibility: Some("community".into()),
        ..NewImage::default()
    };
    unsupported("create community", c.create_image(&community), 1);
    let retag = ImageUpdate {
        tags: Some(vec!["t".into()]),
        // With a removal the update would HEAD first: it must not.
        remove_properties: vec!["p".into()],
        ..ImageUpdate::default()
    };
    unsupported("update tags", c.update_image(ID, &retag), 1);
    let unhide = ImageUpdate {
        os_hidden: Some(true),
        ..ImageUpdate::default()
    };
    unsupported("update os_hidden", c.update_image(ID, &unhide), 1);

    let bad_value = ImageUpdate {
        name: Some("two\nlines".into()),
        remove_properties: vec!["p".into()],
        ..ImageUpdate::default()
    };
    let e = c.update_image(ID, &bad_value);
    assert!(matches!(e, Err(Error::InvalidInput(_))), "{e:?}");
    assert!(
        wire.seen().is_empty(),
        "requests were made: {:?}",
        wire.seen()
    );
}

#[test]
fn v1_extras_fail_in_v2_mode_without_a_request() {
    let wire = Wire::new(vec![]);
    let c = wire.client_for(ApiVersion::V2);
    let options = v1::CreateOptions {
        copy_from: Some("http://example.com/a.img".into()),
        ..v1::CreateOptions::default()
    };
    unsupported(
        "v1 create",
        c.v1().create_image(&NewImage::default(), &options),
        2,
    );
    unsupported("v1 members", c.v1().members(ID), 2);
    unsupported("v1 add member", c.v1().add_member(ID, "p", true), 2);
    let all = [Membership::new("p", false)];
    unsupported("v1 replace members", c.v1().replace_members(ID, &all), 2);
    assert!(wire.seen().is_empty());
}
