//! Keystone logins on the wire, against httptest servers standing in for
//! Keystone and Glance: the exact login bodies, one login per client,
//! renewal of an expired token, one renewal and one repeat after a 401,
//! catalog lookup, and secrets kept out of errors and logs. The real
//! Keystone is in `keystone.rs`.

mod common;

use std::io::Cursor;
use std::time::Duration;

use common::{VERSIONS, logs, record_logs, refused_url, url};
use glance_client::auth::{ApplicationCredential, Domain, Password, Project, User};
use glance_client::{Auth, Client, Config, Error, ImageData};
use httptest::matchers::{all_of, contains, eq, json_decoded, key, not, request};
use httptest::responders::{Responder, status_code};
use httptest::{Expectation, Server, cycle};
use serde_json::{Value, json};

const PASSWORD: &str = "pw-s3cr3t-value";
const SECRET: &str = "ac-s3cr3t-value";

/// A catalog endpoint: (interface, region, url).
type Endpoint<'a> = (&'a str, &'a str, &'a str);

/// A token document whose catalog lists `services` (`(type, endpoints)`)
/// and which is valid for `lifetime` seconds.
fn token_body(services: &[(&str, &[Endpoint<'_>])], lifetime: u64) -> String {
    let catalog: Vec<Value> = services
        .iter()
        .map(|(kind, endpoints)| {
            json!({
                "type": kind,
                "name": kind,
                "endpoints": endpoints.iter().map(|(interface, region, url)| json!({
                    "interface": interface, "region_id": region, "region": region, "url": url
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let issued = 1_900_000_000u64;
    let stamp = |secs: u64| {
        // Seconds to an ISO 8601 UTC timestamp (days from 1970-01-01).
        let (days, rest) = (secs / 86_400, secs % 86_400);
        let (y, m, d) = civil(days as i64);
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.000000Z",
            rest / 3600,
            rest % 3600 / 60,
            rest % 60
        )
    };
    json!({"token": {
        "methods": ["password"],
        "issued_at": stamp(issued),
        "expires_at": stamp(issued + lifetime),
        "project": {"id": "p-demo", "name": "demo", "domain": {"id": "default"}},
        "catalog": catalog,
    }})
    .to_string()
}

/// Days since the epoch to (year, month, day) (H. Hinnant's algorithm).
fn civil(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// A catalog whose image service is `glance` (public and internal).
fn image_catalog(glance: &str, lifetime: u64) -> String {
    let ks = "http://127.0.0.1:1/v3";
    token_body(
        &[
            ("identity", &[("public", "RegionOne", ks)]),
            (
                "image",
                &[
                    ("public", "RegionOne", glance),
                    ("internal", "RegionOne", glance),
                ],
            ),
        ],
        lifetime,
    )
}

fn issued(token: &'static str, body: String) -> impl Responder {
    status_code(201)
        .insert_header("X-Subject-Token", token)
        .insert_header("Content-Type", "application/json")
        .body(body)
}

fn password_login(server: &Server) -> Password {
    Password::new(
        server.url_str("/v3"),
        User::name("demo", Domain::name("Default")),
        PASSWORD,
    )
    .with_project(Project::name("demo", Domain::id("default")))
}

/// A client of `auth` with no configured server, no pause between attempts.
fn config(auth: Auth) -> Config {
    Config {
        auth,
        retry_delay: Duration::ZERO,
        num_retries: 1,
        connect_timeout: Some(Duration::from_secs(5)),
        io_timeout: Some(Duration::from_secs(5)),
        ..Config::default()
    }
}

fn versions_with(server: &Server, token: &'static str, times: usize) {
    server.expect(
        Expectation::matching(all_of![
            request::method_path("GET", "/versions"),
            request::headers(contains(("x-auth-token", token))),
        ])
        .times(times)
        .respond_with(status_code(200).body(VERSIONS)),
    );
}

fn logins(server: &Server, times: usize, responder: impl Responder + 'static) {
    server.expect(
        Expectation::matching(request::method_path("POST", "/v3/auth/tokens"))
            .times(times)
            .respond_with(responder),
    );
}

#[test]
fn a_password_login_happens_once_and_finds_the_image_api_in_the_catalog() {
    let server = Server::run();
    // The catalog URL carries a version suffix; the client strips it.
    let glance = server.url_str("/v2");
    server.expect(
        Expectation::matching(all_of![
            request::method_path("POST", "/v3/auth/tokens"),
            request::headers(contains(("content-type", "application/json"))),
            request::body(json_decoded(eq(json!({"auth": {
                "identity": {"methods": ["password"], "password": {"user": {
                    "name": "demo", "domain": {"name": "Default"}, "password": PASSWORD}}},
                "scope": {"project": {"name": "demo", "domain": {"id": "default"}}},
            }})))),
        ])
        .times(1)
        .respond_with(issued("tok-1", image_catalog(&glance, 3600))),
    );
    versions_with(&server, "tok-1", 2);
    let client = Client::new(config(Auth::Password(password_login(&server)))).unwrap();
    assert!(
        client.servers().is_empty(),
        "no request yet, so no server known: {:?}",
        client.servers()
    );
    client
        .versions()
        .expect("the first call logs in and asks Glance");
    client.versions().expect("the second call reuses the token");
    assert_eq!(client.servers(), [url(&server).trim_end_matches('/')]);
}

#[test]
fn an_application_credential_login_by_id_and_by_name() {
    let server = Server::run();
    let glance = url(&server);
    server.expect(
        Expectation::matching(all_of![
            request::method_path("POST", "/v3/auth/tokens"),
            request::body(json_decoded(eq(json!({"auth": {"identity": {
                "methods": ["application_credential"],
                "application_credential": {"id": "ac-1", "secret": SECRET},
            }}})))),
        ])
        .times(1)
        .respond_with(issued("tok-id", image_catalog(&glance, 3600))),
    );
    server.expect(
        Expectation::matching(all_of![
            request::method_path("POST", "/v3/auth/tokens"),
            request::body(json_decoded(eq(json!({"auth": {"identity": {
                "methods": ["application_credential"],
                "application_credential": {"name": "lab", "secret": SECRET,
                    "user": {"id": "u-1"}},
            }}})))),
        ])
        .times(1)
        .respond_with(issued("tok-name", image_catalog(&glance, 3600))),
    );
    versions_with(&server, "tok-id", 1);
    versions_with(&server, "tok-name", 1);
    let auth_url = server.url_str("/v3");
    let by_id = ApplicationCredential::new(&auth_url, "ac-1", SECRET);
    let by_name = ApplicationCredential::by_name(&auth_url, "lab", User::id("u-1"), SECRET);
    for cred in [by_id, by_name] {
        let client = Client::new(config(Auth::ApplicationCredential(cred))).unwrap();
        client
            .versions()
            .expect("logged in with the application credential");
    }
}

#[test]
fn clones_and_threads_share_one_login() {
    let server = Server::run();
    logins(
        &server,
        1,
        issued("tok-1", image_catalog(&url(&server), 3600)),
    );
    versions_with(&server, "tok-1", 8);
    let client = Client::new(config(Auth::Password(password_login(&server)))).unwrap();
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let client = client.clone();
            std::thread::spawn(move || client.versions().map(|_| ()))
        })
        .collect();
    for t in threads {
        t.join().unwrap().expect("every thread's call succeeds");
    }
}

/// Runs `call` on 8 threads at once (released together) and returns
/// their results in order.
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
fn eight_threads_refused_the_same_token_renew_it_once_with_the_request_id() {
    let server = Server::run();
    let body = image_catalog(&url(&server), 3600);
    let id = "req-0e2b1c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
    server.expect(
        Expectation::matching(all_of![
            request::method_path("POST", "/v3/auth/tokens"),
            // Keystone's log ties each login to the call that needed it.
            request::headers(contains(("x-openstack-request-id", id))),
        ])
        .times(2)
        .respond_with(cycle![
            issued("tok-revoked", body.clone()),
            issued("tok-2", body)
        ]),
    );
    server.expect(
        Expectation::matching(all_of![
            request::method_path("GET", "/versions"),
            request::headers(contains(("x-auth-token", "tok-revoked"))),
        ])
        .times(1..=8)
        .respond_with(status_code(401)),
    );
    versions_with(&server, "tok-2", 8);
    let client = Client::new(Config {
        global_request_id: Some(id.into()),
        ..config(Auth::Password(password_login(&server)))
    })
    .unwrap();
    assert_eq!(client.auth_token().unwrap().as_deref(), Some("tok-revoked"));
    for result in on_eight_threads(&client, |c| c.versions().map(|_| ())) {
        result.expect("every thread's repeat with the one new token succeeds");
    }
    assert_eq!(client.auth_token().unwrap().as_deref(), Some("tok-2"));
}

#[test]
fn a_failed_login_reaches_every_waiting_thread_at_once() {
    let server = Server::run();
    // One login, slow to fail: the eight threads all wait for it.
    logins(
        &server,
        1,
        httptest::responders::delay_and_then(
            Duration::from_secs(2),
            status_code(401).body(
                r#"{"error": {"message": "The request you have made requires authentication."}}"#,
            ),
        ),
    );
    let client = Client::new(config(Auth::Password(password_login(&server)))).unwrap();
    let errors = on_eight_threads(&client, |c| c.versions().map(|_| ()));
    let messages: Vec<String> = errors
        .into_iter()
        .map(|r| match r {
            Err(e @ Error::Unauthorized(_)) => e.to_string(),
            other => panic!("expected Unauthorized, got {other:?}"),
        })
        .collect();
    assert!(messages.iter().all(|m| *m == messages[0]), "{messages:?}");
    assert!(
        messages[0].contains("Keystone refused the password login"),
        "{}",
        messages[0]
    );
}

#[test]
fn a_login_that_stalls_does_not_delay_requests_whose_token_is_valid() {
    let server = Server::run();
    // Valid for 10 s, due for renewal after 5 s; the renewal then hangs 60 s.
    let body = image_catalog(&url(&server), 10);
    logins(
        &server,
        2,
        cycle![
            issued("tok-1", body.clone()),
            httptest::responders::delay_and_then(Duration::from_secs(60), issued("tok-2", body))
        ],
    );
    server.expect(
        Expectation::matching(all_of![
            request::method_path("GET", "/versions"),
            request::headers(contains(("x-auth-token", "tok-1"))),
        ])
        .times(8)
        .respond_with(status_code(200).body(VERSIONS)),
    );
    let client = Client::new(Config {
        // The stalled login is not cut short while the test runs.
        io_timeout: Some(Duration::from_secs(120)),
        ..config(Auth::Password(password_login(&server)))
    })
    .unwrap();
    assert_eq!(client.auth_token().unwrap().as_deref(), Some("tok-1"));
    std::thread::sleep(Duration::from_millis(5_300));
    // This caller finds tok-1 due and renews it: its login hangs.
    let renewer = client.clone();
    std::thread::spawn(move || renewer.auth_token());
    let limit = std::time::Instant::now() + Duration::from_secs(5);
    while !format!("{client:?}").contains("renewing: true") {
        assert!(std::time::Instant::now() < limit, "no renewal started");
        std::thread::sleep(Duration::from_millis(10));
    }
    // Eight requests meanwhile: tok-1 is still valid, none waits for the login.
    let done = common::within(Duration::from_secs(30), "eight requests with tok-1", {
        let client = client.clone();
        move || on_eight_threads(&client, |c| c.versions().map(|_| ()))
    });
    for result in done {
        result.expect("a request with the still-valid token");
    }
    assert!(
        format!("{client:?}").contains("renewing: true"),
        "the login is still hanging: the requests did not wait for it"
    );
}

#[test]
fn an_expired_token_is_renewed_before_the_next_request() {
    let server = Server::run();
    // Lifetime 0: expired as it arrives, so each use needs a new login.
    let body = image_catalog(&url(&server), 0);
    logins(
        &server,
        2,
        cycle![issued("tok-1", body.clone()), issued("tok-2", body)],
    );
    versions_with(&server, "tok-1", 1);
    versions_with(&server, "tok-2", 1);
    let client = Client::new(config(Auth::Password(password_login(&server)))).unwrap();
    client.versions().expect("first call with tok-1");
    client.versions().expect("second call with tok-2");
}

#[test]
fn a_401_renews_the_token_once_and_repeats_the_request_once() {
    let server = Server::run();
    let body = image_catalog(&url(&server), 3600);
    logins(
        &server,
        2,
        cycle![issued("tok-revoked", body.clone()), issued("tok-2", body)],
    );
    server.expect(
        Expectation::matching(all_of![
            request::method_path("GET", "/versions"),
            request::headers(contains(("x-auth-token", "tok-revoked"))),
        ])
        .times(1)
        .respond_with(status_code(401)),
    );
    versions_with(&server, "tok-2", 2);
    let client = Client::new(config(Auth::Password(password_login(&server)))).unwrap();
    client
        .versions()
        .expect("the repeat with the new token succeeds");
    client.versions().expect("and the new token stays in use");
    assert_eq!(client.auth_token().unwrap().as_deref(), Some("tok-2"));
}

#[test]
fn a_second_401_is_returned_as_unauthorized() {
    let server = Server::run();
    let body = image_catalog(&url(&server), 3600);
    logins(
        &server,
        2,
        cycle![issued("tok-1", body.clone()), issued("tok-2", body)],
    );
    server.expect(
        Expectation::matching(request::method_path("GET", "/versions"))
            .times(2)
            .respond_with(status_code(401).body(r#"{"message": "no entry"}"#)),
    );
    let client = Client::new(config(Auth::Password(password_login(&server)))).unwrap();
    let err = client.versions().unwrap_err();
    assert!(
        matches!(err, Error::Unauthorized(ref api) if api.message == "no entry"),
        "expected Glance's Unauthorized after one renewal, got {err:?}"
    );
}

#[test]
fn a_given_token_is_not_renewed_on_a_401() {
    let server = Server::run();
    server.expect(
        Expectation::matching(request::method_path("POST", "/v3/auth/tokens"))
            .times(0)
            .respond_with(status_code(500)),
    );
    server.expect(
        Expectation::matching(request::method_path("GET", "/versions"))
            .times(1)
            .respond_with(status_code(401)),
    );
    let client = Client::new(Config {
        api_servers: vec![url(&server)],
        ..config(Auth::Token("static-token".into()))
    })
    .unwrap();
    let err = client.versions().unwrap_err();
    assert!(matches!(err, Error::Unauthorized(_)), "{err:?}");
}

#[test]
fn a_streamed_upload_is_not_sent_twice_after_a_401_but_the_next_call_has_a_new_token() {
    let server = Server::run();
    let body = image_catalog(&url(&server), 3600);
    logins(
        &server,
        2,
        cycle![issued("tok-revoked", body.clone()), issued("tok-2", body)],
    );
    server.expect(
        Expectation::matching(request::method_path("PUT", "/v2/images/i-1/file"))
            .times(1)
            .respond_with(status_code(401)),
    );
    versions_with(&server, "tok-2", 1);
    let client = Client::new(config(Auth::Password(password_login(&server)))).unwrap();
    let mut data = Cursor::new(vec![7u8; 1000]);
    let err = client
        .upload(
            "i-1",
            ImageData::reader(&mut std::io::Read::by_ref(&mut data), Some(1000)),
        )
        .unwrap_err();
    assert!(matches!(err, Error::Unauthorized(_)), "{err:?}");
    client
        .versions()
        .expect("the next call uses the renewed token");
}

#[test]
fn a_wrong_password_is_a_clear_unauthorized_without_the_password() {
    let server = Server::run();
    logins(
        &server,
        1,
        status_code(401)
            .insert_header("x-openstack-request-id", "req-ks-1")
            .body(
                r#"{"error": {"code": 401, "title": "Unauthorized",
                "message": "The request you have made requires authentication."}}"#,
            ),
    );
    let client = Client::new(config(Auth::Password(password_login(&server)))).unwrap();
    let err = client.versions().unwrap_err();
    let Error::Unauthorized(api) = &err else {
        panic!("expected Unauthorized, got {err:?}")
    };
    assert_eq!(
        api.message,
        "Keystone refused the password login of user demo (domain Default): \
         The request you have made requires authentication."
    );
    assert_eq!(api.request_id.as_deref(), Some("req-ks-1"));
    for shown in [err.to_string(), format!("{err:?}"), format!("{client:?}")] {
        assert!(!shown.contains(PASSWORD), "the password leaked: {shown}");
    }
}

#[test]
fn keystone_is_retried_after_a_503_and_named_when_unreachable() {
    let server = Server::run();
    logins(
        &server,
        2,
        cycle![
            status_code(503),
            issued("tok-1", image_catalog(&url(&server), 3600))
        ],
    );
    versions_with(&server, "tok-1", 1);
    let client = Client::new(config(Auth::Password(password_login(&server)))).unwrap();
    client
        .versions()
        .expect("the second login attempt succeeds");

    let down = refused_url();
    let login = Password::new(format!("{down}/v3"), User::id("u"), PASSWORD);
    let client = Client::new(Config {
        num_retries: 0,
        ..config(Auth::Password(login))
    })
    .unwrap();
    let err = client.versions().unwrap_err();
    assert!(
        matches!(err, Error::Transport { ref server, .. } if server.starts_with(&down)),
        "expected a transport error naming Keystone, got {err:?}"
    );
}

#[test]
fn configured_servers_win_over_the_catalog() {
    let server = Server::run();
    // The catalog names a server that refuses connections.
    logins(
        &server,
        2,
        issued("tok-1", image_catalog(&refused_url(), 3600)),
    );
    versions_with(&server, "tok-1", 2);
    let login = Auth::Password(password_login(&server));
    let by_servers = Client::new(Config {
        api_servers: vec![url(&server)],
        ..config(login.clone())
    })
    .unwrap();
    by_servers.versions().expect("api_servers is used");
    let by_override = Client::new(Config {
        endpoint_override: Some(server.url_str("/v2")),
        ..config(login)
    })
    .unwrap();
    by_override.versions().expect("endpoint_override is used");
}

#[test]
fn interface_and_region_choose_the_catalog_endpoint() {
    let (keystone, internal, public_r2) = (Server::run(), Server::run(), Server::run());
    let body = token_body(
        &[(
            "image",
            &[
                ("internal", "RegionOne", &url(&internal)),
                ("public", "RegionOne", "http://127.0.0.1:1"),
                ("public", "RegionTwo", &url(&public_r2)),
            ],
        )],
        3600,
    );
    logins(&keystone, 2, issued("tok-1", body));
    versions_with(&internal, "tok-1", 1);
    versions_with(&public_r2, "tok-1", 1);
    let login = Auth::Password(password_login(&keystone));
    let default = Client::new(config(login.clone())).unwrap();
    default.versions().expect("internal comes first by default");
    let chosen = Client::new(Config {
        valid_interfaces: vec!["public".into()],
        region_name: Some("RegionTwo".into()),
        ..config(login)
    })
    .unwrap();
    chosen.versions().expect("public in RegionTwo");
    assert_eq!(chosen.servers(), [url(&public_r2).trim_end_matches('/')]);
}

#[test]
fn a_catalog_without_the_image_service_is_a_clear_error() {
    let server = Server::run();
    let body = token_body(
        &[(
            "identity",
            &[("public", "RegionOne", "http://127.0.0.1:1/v3")],
        )],
        3600,
    );
    logins(&server, 1, issued("tok-1", body));
    server.expect(
        Expectation::matching(request::method_path("GET", "/versions"))
            .times(0)
            .respond_with(status_code(200)),
    );
    let client = Client::new(config(Auth::Password(password_login(&server)))).unwrap();
    let err = client.versions().unwrap_err();
    assert!(
        matches!(err, Error::Catalog(_)),
        "expected a catalog error, got {err:?}"
    );
    assert!(
        err.to_string()
            .contains("no image service in the catalog of the token (project demo)"),
        "{err}"
    );
}

#[test]
fn a_given_token_without_servers_is_refused_at_new() {
    let err = Client::new(config(Auth::Token("t".into()))).unwrap_err();
    assert!(
        matches!(err, Error::Config { .. }) && err.to_string().contains("api_servers is empty"),
        "{err:?}"
    );
    let bad = Password::new("http://127.0.0.1:1/v2.0", User::id("u"), PASSWORD);
    let err = Client::new(config(Auth::Password(bad))).unwrap_err();
    assert!(
        matches!(err, Error::Config { .. }) && err.to_string().contains("only v3"),
        "{err:?}"
    );
}

#[test]
fn secrets_and_tokens_never_reach_the_logs() {
    record_logs();
    let server = Server::run();
    let body = image_catalog(&url(&server), 3600);
    logins(
        &server,
        2,
        cycle![
            issued("tok-first-3x4mple", body.clone()),
            issued("tok-second-3x4mple", body)
        ],
    );
    server.expect(
        Expectation::matching(request::method_path("GET", "/versions"))
            .times(2)
            .respond_with(cycle![status_code(401), status_code(200).body(VERSIONS)]),
    );
    let refusing = Server::run();
    refusing.expect(
        Expectation::matching(all_of![
            request::method_path("POST", "/v3/auth/tokens"),
            request::headers(not(contains(key("x-auth-token")))),
        ])
        .times(1)
        .respond_with(status_code(401)),
    );
    let client = Client::new(config(Auth::Password(password_login(&server)))).unwrap();
    client.versions().expect("renewed after the 401");
    let cred = ApplicationCredential::new(refusing.url_str("/v3"), "ac-1", SECRET);
    let failing = Client::new(config(Auth::ApplicationCredential(cred))).unwrap();
    assert!(failing.versions().is_err());
    let logged = logs();
    assert!(
        logged
            .iter()
            .any(|l| l.contains("refused the Keystone token")),
        "the renewal is logged: {logged:#?}"
    );
    for line in &logged {
        for secret in [PASSWORD, SECRET, "3x4mple"] {
            assert!(
                !line.contains(secret),
                "{secret} leaked into the log: {line}"
            );
        }
    }
}
