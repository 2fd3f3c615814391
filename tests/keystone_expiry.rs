//! Token expiry against a real Keystone 30 whose tokens live a few seconds
//! (`KEYSTONE_TOKEN_EXPIRATION`, see `support::keystone_lab_expiring`) and a
//! Glance 33 validating them with keystonemiddleware: the client logs in
//! again halfway through a short lifetime, before the token expires, and
//! goes on working after the first token has expired. A test binary of its
//! own, because its lab differs from `keystone.rs`'s; about 20 s once the lab
//! is up. The exact exchanges are in `keystone_wire.rs`.

mod support;

use std::time::{Duration, Instant};

use glance_client::{Auth, Client, Config, http};
use support::KeystoneLab;

/// The tokens' lifetime in seconds. Each new token costs Glance's
/// auth_token a few seconds here (with tokens this short its own service
/// token is always "about to expire", so it logs in again, a bcrypt hash
/// each time, for every validation): long enough for a login and one such
/// request before half of it has passed, short enough to keep the test near
/// 20 s.
const LIFETIME: u32 = 12;

/// Glance's status for `GET /v2/images?limit=1` with `token`, sent as is.
fn glance_status(lab: &KeystoneLab, token: &str) -> u16 {
    let request = http::Request::get("/v2/images?limit=1")
        .body(Vec::new())
        .expect("a request");
    lab.glance
        .send(request, &[("X-Auth-Token", token)])
        .status()
        .as_u16()
}

/// Keystone's status for validating `subject` with `token` (a user may
/// validate their own tokens): 200 while it is valid.
fn keystone_status(lab: &KeystoneLab, token: &str, subject: &str) -> u16 {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    agent
        .get(format!("{}/auth/tokens", lab.var("OS_AUTH_URL")))
        .header("X-Auth-Token", token)
        .header("X-Subject-Token", subject)
        .call()
        .expect("an answer from Keystone")
        .status()
        .as_u16()
}

fn sleep_until(deadline: Instant) {
    if let Some(left) = deadline.checked_duration_since(Instant::now()) {
        std::thread::sleep(left);
    }
}

fn token(client: &Client) -> String {
    client
        .auth_token()
        .expect("a login")
        .expect("a Keystone token")
}

#[test]
fn a_short_lived_token_is_renewed_before_it_expires_and_requests_keep_working() {
    let Some(lab) = support::keystone_lab_expiring(LIFETIME) else {
        return;
    };
    let lifetime = Duration::from_secs(LIFETIME.into());
    // Bounded: a stuck server fails the test within a minute, not two.
    let config = Config {
        io_timeout: Some(Duration::from_secs(30)),
        num_retries: 1,
        ..lab.config(Auth::Password(lab.demo_password()))
    };
    let client = Client::new(config).expect("a client with a password login");
    let first = token(&client);
    // The first token's lifetime started before this instant.
    let logged_in = Instant::now();
    support::list_one(&client).expect("a request with the first token");

    // Half the lifetime later the client logs in again before using the
    // token, while the first one is still valid.
    sleep_until(logged_in + lifetime / 2 + Duration::from_millis(200));
    let second = token(&client);
    assert_ne!(first, second, "a new login at half-life");
    assert_eq!(
        keystone_status(lab, &second, &first),
        200,
        "the first token was still valid when the client replaced it \
         ({:?} after the login)",
        logged_in.elapsed()
    );
    support::list_one(&client).expect("a request with the renewed token");

    // Once the first token has expired (a second more for rounding), Glance
    // refuses it, and the client, renewing as needed, goes on working.
    sleep_until(logged_in + lifetime + Duration::from_secs(1));
    assert_eq!(
        glance_status(lab, &first),
        401,
        "Glance refuses the expired first token"
    );
    support::list_one(&client).expect("a request after the first token expired");
    assert_ne!(token(&client), first);
}
