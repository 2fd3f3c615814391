//! Against a real Keystone 30 and a Glance 33 behind keystonemiddleware's
//! auth_token (both started by `support::keystone_lab`): password and
//! application-credential logins, the image API found in the catalog, a
//! wrong password, a revoked token renewed once, a project whose catalog has
//! no image service. Token expiry is in `keystone_expiry.rs` (a Keystone of
//! short-lived tokens) and `keystone_wire.rs` (with the exact exchanges).

mod support;

use glance_client::auth::{ApplicationCredential, Domain, Password, Project, User};
use glance_client::{Auth, Client, Config, Error, NewImage, http};
use support::KeystoneLab;

fn lab() -> Option<&'static KeystoneLab> {
    support::keystone_lab()
}

/// Creates an image with `client`, checks its owner is project demo, and
/// deletes it again.
fn create_and_delete(lab: &KeystoneLab, client: &Client, tag: &str) {
    let name = format!("keystone-{tag}-{}", std::process::id());
    let image = client
        .create_image(&NewImage {
            name: Some(name.clone()),
            disk_format: Some("raw".into()),
            container_format: Some("bare".into()),
            ..NewImage::default()
        })
        .expect("create an image with the Keystone token");
    let shown = client.image(&image.id);
    let deleted = client.delete_image(&image.id);
    let shown = shown.expect("show the new image");
    assert_eq!(shown.name.as_deref(), Some(name.as_str()));
    assert_eq!(
        shown.owner.as_deref(),
        Some(lab.var("KEYSTONE_DEMO_PROJECT_ID").as_str()),
        "the image belongs to the token's project"
    );
    deleted.expect("delete the image");
}

#[test]
fn a_password_login_by_names_finds_glance_in_the_catalog() {
    let Some(lab) = lab() else { return };
    let client = Client::new(lab.config(Auth::Password(lab.demo_password()))).unwrap();
    create_and_delete(lab, &client, "password");
    assert_eq!(
        client.servers(),
        [lab.glance.endpoint.as_str()],
        "the catalog's image endpoint is the Keystone-backed Glance"
    );
}

#[test]
fn a_password_login_by_ids() {
    let Some(lab) = lab() else { return };
    let login = Password::new(
        lab.var("OS_AUTH_URL"),
        User::id(lab.var("KEYSTONE_DEMO_USER_ID")),
        lab.var("OS_PASSWORD"),
    )
    .with_project(Project::id(lab.var("KEYSTONE_DEMO_PROJECT_ID")));
    let client = Client::new(lab.config(Auth::Password(login))).unwrap();
    support::list_one(&client).expect("list images as demo, logged in by ids");
}

#[test]
fn application_credential_logins_by_id_and_by_name() {
    let Some(lab) = lab() else { return };
    let auth_url = lab.var("OS_AUTH_URL");
    let secret = lab.var("KEYSTONE_APP_CRED_SECRET");
    let by_id = ApplicationCredential::new(&auth_url, lab.var("KEYSTONE_APP_CRED_ID"), &secret);
    let client = Client::new(lab.config(Auth::ApplicationCredential(by_id))).unwrap();
    create_and_delete(lab, &client, "appcred");
    let by_name = ApplicationCredential::by_name(
        &auth_url,
        lab.var("KEYSTONE_APP_CRED_NAME"),
        User::name(lab.var("OS_USERNAME"), Domain::id("default")),
        &secret,
    );
    let client = Client::new(lab.config(Auth::ApplicationCredential(by_name))).unwrap();
    support::list_one(&client).expect("list images with the credential named by its user");
}

#[test]
fn the_os_variables_are_enough() {
    let Some(lab) = lab() else { return };
    let mut config = Config::default();
    config.apply_os_vars(lab.os_vars()).unwrap();
    assert!(
        matches!(config.auth, Auth::Password(_)),
        "{:?}",
        config.auth
    );
    let client = Client::new(config).unwrap();
    support::list_one(&client).expect("list images from OS_* alone");
    assert_eq!(client.servers(), [lab.glance.endpoint.as_str()]);
}

#[test]
fn a_wrong_password_is_a_clear_unauthorized() {
    let Some(lab) = lab() else { return };
    let wrong = Password {
        password: "not-the-password".into(),
        ..lab.demo_password()
    };
    let client = Client::new(lab.config(Auth::Password(wrong))).unwrap();
    let err = support::list_one(&client).unwrap_err();
    let Error::Unauthorized(api) = &err else {
        panic!("expected Unauthorized, got {err:?}")
    };
    assert!(
        api.message
            .starts_with("Keystone refused the password login of user demo (domain Default): "),
        "{}",
        api.message
    );
    assert!(
        api.request_id.is_some(),
        "Keystone's request id is kept: {api:?}"
    );
    assert!(!format!("{err} {err:?}").contains("not-the-password"));
}

#[test]
fn a_revoked_token_is_renewed_once() {
    let Some(lab) = lab() else { return };
    let client = Client::new(lab.config(Auth::Password(lab.demo_password()))).unwrap();
    // Log in without Glance seeing the token (it would cache it as valid).
    let first = client.auth_token().unwrap().expect("a Keystone token");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let revoked = agent
        .delete(format!("{}/auth/tokens", lab.var("OS_AUTH_URL")))
        .header("X-Auth-Token", &first)
        .header("X-Subject-Token", &first)
        .call()
        .expect("an answer from Keystone");
    assert_eq!(revoked.status(), 204, "Keystone revoked the token");
    let request = http::Request::get("/v2/images?limit=1")
        .body(Vec::new())
        .unwrap();
    let refused = lab.glance.send(request, &[("X-Auth-Token", &first)]);
    assert_eq!(refused.status(), 401, "Glance refuses the revoked token");

    support::list_one(&client).expect("the client logs in again and repeats the request");
    let second = client.auth_token().unwrap().expect("a Keystone token");
    assert_ne!(first, second, "a new token replaced the revoked one");
    support::list_one(&client).expect("and keeps using it");
    assert_eq!(
        client.auth_token().unwrap().as_deref(),
        Some(second.as_str())
    );
}

/// Runs `call` on 8 threads released together; their results in order.
fn on_eight_threads<T: Send + 'static>(
    client: &Client,
    call: impl Fn(&Client) -> T + Send + Sync + 'static,
) -> Vec<T> {
    let call = std::sync::Arc::new(call);
    let start = std::sync::Arc::new(std::sync::Barrier::new(8));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (client, call, start) = (client.clone(), call.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                call(&client)
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

#[test]
fn eight_threads_share_one_login_and_one_renewal() {
    let Some(lab) = lab() else { return };
    let client = Client::new(lab.config(Auth::Password(lab.demo_password()))).unwrap();
    // Eight threads without a token: one logs in, the others wait for it
    // (two logins would give two different tokens).
    let tokens = on_eight_threads(&client, |c| c.auth_token().unwrap().unwrap());
    assert!(tokens.iter().all(|t| *t == tokens[0]), "one login");
    let first = tokens[0].clone();
    // Keystone revokes it before Glance has seen it (Glance caches tokens).
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let revoked = agent
        .delete(format!("{}/auth/tokens", lab.var("OS_AUTH_URL")))
        .header("X-Auth-Token", &first)
        .header("X-Subject-Token", &first)
        .call()
        .expect("an answer from Keystone");
    assert_eq!(revoked.status(), 204, "Keystone revoked the token");
    // Each thread's request is refused (401); one renews, every request is
    // repeated with the same new token.
    let after = on_eight_threads(&client, |c| {
        support::list_one(c).expect("the request repeated with a new token");
        c.auth_token().unwrap().unwrap()
    });
    assert!(after.iter().all(|t| *t == after[0]), "one renewal");
    assert_ne!(after[0], first);
}

#[test]
fn a_project_without_the_image_service_gives_a_clear_error() {
    let Some(lab) = lab() else { return };
    let login = Password {
        project: Some(Project::name(
            lab.var("KEYSTONE_NO_IMAGE_PROJECT_NAME"),
            Domain::name("Default"),
        )),
        ..lab.demo_password()
    };
    let client = Client::new(lab.config(Auth::Password(login.clone()))).unwrap();
    let err = support::list_one(&client).unwrap_err();
    assert!(
        matches!(err, Error::Catalog(_)),
        "expected a catalog error, got {err:?}"
    );
    assert!(
        err.to_string().contains(
            "no image service in the catalog of the token (project no-image) (it lists: identity)"
        ),
        "{err}"
    );
    // A configured endpoint needs no catalog: the token itself is valid.
    let client = Client::new(Config {
        endpoint_override: Some(lab.glance.endpoint.clone()),
        ..lab.config(Auth::Password(login))
    })
    .unwrap();
    support::list_one(&client).expect("endpoint_override wins over the catalog");
}

#[test]
fn the_catalog_choice_follows_interface_and_region() {
    let Some(lab) = lab() else { return };
    let login = Auth::Password(lab.demo_password());
    let internal = Client::new(Config {
        valid_interfaces: vec!["internal".into()],
        ..lab.config(login.clone())
    })
    .unwrap();
    support::list_one(&internal).expect("the lab lists Glance as internal too");
    let elsewhere = Client::new(Config {
        region_name: Some("RegionTwo".into()),
        ..lab.config(login.clone())
    })
    .unwrap();
    let err = support::list_one(&elsewhere).unwrap_err();
    assert!(
        matches!(err, Error::Catalog(_)) && err.to_string().contains("in region RegionTwo"),
        "{err:?}"
    );
    let admin = Client::new(Config {
        valid_interfaces: vec!["admin".into()],
        ..lab.config(login)
    })
    .unwrap();
    let err = support::list_one(&admin).unwrap_err();
    assert!(
        err.to_string()
            .contains("(it has: public in RegionOne, internal in RegionOne)"),
        "{err}"
    );
}

#[test]
fn glance_refuses_a_request_without_a_token() {
    let Some(lab) = lab() else { return };
    let client = Client::new(Config {
        api_servers: vec![lab.glance.endpoint.clone()],
        ..Config::default()
    })
    .unwrap();
    let err = support::list_one(&client).unwrap_err();
    assert!(matches!(err, Error::Unauthorized(_)), "{err:?}");
}
