//! The example tool `glance` (examples/glance.rs) run as a child process:
//! exit statuses, `--json` shapes, usage and configuration errors, and the
//! exact requests each command sends (httptest), then its main flow against
//! a real Glance (tests/support).

mod cli;
mod support;

use cli::{glance, glance_with};
use httptest::matchers::{all_of, contains, eq, json_decoded, key, not, request, url_decoded};
use httptest::responders::{json_encoded, status_code};
use httptest::{Expectation, Server};
use serde_json::{Value, json};

const ID: &str = "e54e8577-3aa8-44c2-afc1-6205679c7fba";
const SHOW: &str = include_str!("fixtures/v2/show.json");

/// The server's URL as the tool takes it.
fn url(server: &Server) -> String {
    server.url_str("")
}

/// A config file in a fresh directory (kept alive by the returned guard).
fn config_file(text: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nova.conf");
    std::fs::write(&path, text).unwrap();
    (dir, path.display().to_string())
}

fn image_json(id: &str, name: &str, status: &str) -> Value {
    json!({"id": id, "name": name, "status": status, "visibility": "private",
           "self": format!("/v2/images/{id}"), "schema": "/v2/schemas/image"})
}

// --- usage and configuration errors: exit 2, one line, no request ----------

#[test]
fn usage_errors_exit_2_with_one_line_naming_the_problem() {
    let u = "--os-image-url=http://127.0.0.1:9";
    for (args, words) in [
        (vec![], vec!["no command"]),
        (vec!["image-fly"], vec!["unknown command", "image-fly"]),
        (vec!["--bogus"], vec!["unknown option --bogus"]),
        (
            vec![u, "image-list", "--name=x"],
            vec!["image-list", "--name"],
        ),
        (vec![u, "image-show"], vec!["image-show needs ID"]),
        (
            vec![u, "image-show", "a", "b"],
            vec!["one argument", "not 2"],
        ),
        (vec![u, "member-update", "a", "b"], vec!["STATUS"]),
        (
            vec![
                u,
                "image-create",
                "--name",
                "n",
                "--disk-format",
                "raw",
                "--file",
                "/dev/null",
            ],
            vec!["--container-format", "--file"],
        ),
        (
            vec![u, "image-create", "--name", "n", "--size", "3"],
            vec!["--size only when uploading data"],
        ),
        (
            vec![u, "image-create", "--property", "min_disk=1"],
            vec!["--min-disk 1"],
        ),
        (
            vec![u, "image-create", "--protected", "maybe"],
            vec!["--protected", "\"maybe\""],
        ),
        (
            vec![u, "image-list", "--sort-key", "owner"],
            vec!["--sort-key", "\"owner\""],
        ),
        (
            vec![u, "image-list", "--sort", "name", "--sort-dir", "asc"],
            vec!["--sort", "--sort-dir"],
        ),
        (vec![u, "member-list"], vec!["member-list needs ID"]),
        (
            vec![u, "cache-clear", "--target", "all"],
            vec!["--target", "\"all\""],
        ),
        (
            vec![
                u,
                "location-add",
                "x",
                "--url",
                "file:///a",
                "--metadata",
                "[1]",
            ],
            vec!["--metadata", "JSON object"],
        ),
        (
            vec![u, "image-show", "x", "--json=yes"],
            vec!["--json takes no value"],
        ),
        (
            vec![u, "image-upload", "x", "--file"],
            vec!["--file needs a value"],
        ),
        (
            vec![u, "image-list", "--limit", "1", "--limit", "2"],
            vec!["--limit given more than once"],
        ),
        (
            vec![u, "image-list", "--limit", "-1"],
            vec!["--limit", "\"-1\""],
        ),
        (
            vec![u, "image-list", "--page-size", "0"],
            vec!["--page-size"],
        ),
        (
            vec![u, "image-list", "--property-filter", "novalue"],
            vec!["KEY=VALUE", "novalue"],
        ),
        (
            vec![u, "image-list", "--property-filter", "protected=maybe"],
            vec!["protected", "maybe"],
        ),
        (
            vec![u, "image-list", "--sort", "name:up"],
            vec!["sort", "up"],
        ),
        (
            vec![u, "--os-image-api-version", "3", "image-list"],
            vec!["1 or 2", "\"3\""],
        ),
        (
            vec!["--os-image-url", ",", "image-list"],
            vec!["--os-image-url is empty"],
        ),
        (
            vec![u, "--os-auth-token=", "image-list"],
            vec!["--os-auth-token is empty"],
        ),
    ] {
        let run = glance(&args);
        eprintln!("{args:?}");
        run.fails(2, &words);
    }
}

#[test]
fn configuration_errors_exit_2_naming_the_file_and_line() {
    let (_dir, bad) = config_file("[glance]\napi_servers = http://127.0.0.1:9\nnum_retries = x\n");
    glance(&["--config-file", &bad, "image-list"]).fails(2, &[&bad, ":3", "num_retries"]);
    glance(&["--config-file", "/nonexistent/nova.conf", "image-list"])
        .fails(2, &["/nonexistent/nova.conf"]);
    glance(&["image-list"]).fails(2, &["no image API server", "--os-image-url"]);
    glance(&["--os-image-url", "ftp://127.0.0.1", "image-list"]).fails(2, &["ftp://127.0.0.1"]);
    glance_with(&["image-list"], &[("OS_IMAGE_API_VERSION", "v2")], None)
        .fails(2, &["OS_IMAGE_API_VERSION", "\"v2\""]);
    // What this build does not do is not silently ignored.
    let (_dir, signatures) = config_file(
        "[glance]\napi_servers = http://127.0.0.1:9\nverify_glance_signatures = True\n",
    );
    if cfg!(feature = "signatures") {
        // It does: the configuration is fine, the server is not there.
        glance(&["--config-file", &signatures, "image-list"]).fails(1, &["127.0.0.1:9"]);
    } else {
        glance(&["--config-file", &signatures, "image-list"]).fails(
            2,
            &[
                &signatures,
                ":3",
                "verify_glance_signatures",
                "signature verification",
                "`signatures`",
            ],
        );
        let id = "0c6a0b7e-1d1e-4f0e-9d8b-0e2b1c3d4e5f";
        let url = "http://127.0.0.1:9";
        for flag in [
            &["--verify-signature"][..],
            &["--trusted-cert-dir", "/tmp"][..],
        ] {
            let mut args = vec!["--os-image-url", url, "image-download", id, "--file", "x"];
            args.extend_from_slice(flag);
            glance(&args).fails(2, &[flag[0], "cargo feature `signatures`"]);
        }
    }
}

#[test]
fn the_global_request_id_is_sent_and_a_malformed_one_exits_2() {
    const REQ: &str = "req-4a1c7f2e-9a43-4d0b-8a55-2f3c9e1b7d60";
    let server = Server::run();
    server.expect(
        Expectation::matching(all_of![
            request::method_path("GET", format!("/v2/images/{ID}")),
            request::headers(contains(("x-openstack-request-id", REQ))),
        ])
        .times(2)
        .respond_with(status_code(200).body(SHOW)),
    );
    let u = url(&server);
    glance(&[
        "--os-image-url",
        &u,
        "--os-global-request-id",
        REQ,
        "image-show",
        ID,
    ])
    .ok();
    glance_with(
        &["--os-image-url", &u, "image-show", ID],
        &[("OS_GLOBAL_REQUEST_ID", REQ)],
        None,
    )
    .ok();
    // Refused before any request (any further one would fail the test).
    glance(&[
        "--os-image-url",
        &u,
        "--os-global-request-id",
        "req-1",
        "image-show",
        ID,
    ])
    .fails(
        2,
        &["--os-global-request-id", "\"req-1\"", "lowercase UUID"],
    );
    glance_with(
        &["--os-image-url", &u, "image-show", ID],
        &[(
            "OS_GLOBAL_REQUEST_ID",
            "REQ-4A1C7F2E-9A43-4D0B-8A55-2F3C9E1B7D60",
        )],
        None,
    )
    .fails(2, &["OS_GLOBAL_REQUEST_ID"]);
}

#[test]
fn what_v1_cannot_do_exits_2_before_any_request() {
    let server = Server::run(); // any request would fail the test
    let u = url(&server);
    for args in [
        vec!["image-tag-update", ID, "t"],
        vec!["image-deactivate", ID],
        vec!["member-update", ID, "p", "accepted"],
        vec!["image-list", "--tag", "t"],
    ] {
        let mut all = vec!["--os-image-url", u.as_str(), "--os-image-api-version", "1"];
        all.extend(args);
        glance(&all).fails(2, &["not supported by image API v1"]);
    }
}

#[test]
fn help_lists_every_command_and_a_commands_options() {
    let run = glance(&["help"]).ok();
    for command in [
        "image-list",
        "image-show",
        "image-create",
        "image-upload",
        "image-update",
        "image-delete",
        "image-tag-update",
        "image-tag-delete",
        "image-deactivate",
        "image-reactivate",
        "member-list",
        "member-create",
        "member-update",
        "member-delete",
        "config-check",
    ] {
        assert!(
            run.stdout.contains(command),
            "help lists {command}: {run:#?}"
        );
    }
    assert_eq!(glance(&["--help"]).ok().stdout, run.stdout);
    let run = glance(&["image-create", "--help"]).ok();
    for option in [
        "--name NAME",
        "--disk-format",
        "--property KEY=VALUE...",
        "--progress",
    ] {
        assert!(run.stdout.contains(option), "{option}: {run:#?}");
    }
    assert_eq!(glance(&["help", "image-create"]).ok().stdout, run.stdout);
    glance(&["help", "image-fly"]).fails(2, &["image-fly"]);
}

// --- config-check -----------------------------------------------------------

#[test]
fn config_check_prints_the_file_with_warnings_on_stderr() {
    let (_dir, path) = config_file(
        "[DEFAULT]\nmy_ip = 127.0.0.1\n\
         [glance]\nhost = $my_ip\nport = 9393\napi_insecure = true\nnum_retries = 1\n\
         allowed_direct_url_schemes = file\n\
         [image_file_url]\nfilesystems = lab\n\
         [image_file_url:lab]\nid = fs-1\nmountpoint = /srv/images\n",
    );
    let run = glance(&["config-check", "--config-file", &path]).ok();
    let c = run.json();
    assert_eq!(c["servers"], json!(["http://127.0.0.1:9393"]));
    assert_eq!(c["servers_from"], "config file");
    assert_eq!(c["config_files"], json!([path]));
    assert_eq!(c["insecure"], true);
    assert_eq!(c["num_retries"], 1);
    assert_eq!(c["api_version"], 2);
    assert_eq!(c["auth"], "none");
    assert_eq!(c["allowed_direct_url_schemes"], json!(["file"]));
    assert_eq!(
        c["filesystems"],
        json!([{"name": "lab", "id": "fs-1", "mountpoint": "/srv/images"}])
    );
    let warnings: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(
        warnings.len(),
        3,
        "one line per deprecation, then the library's TLS warning: {run:#?}"
    );
    assert!(warnings[0].starts_with("glance: warning: ") && warnings[0].contains(":4:"));
    assert!(
        warnings[0].contains("api_servers = http://127.0.0.1:9393"),
        "{run:#?}"
    );
    assert!(warnings[1].contains("api_insecure") && warnings[1].contains("insecure = true"));
    assert!(
        warnings[2].starts_with("glance: warning: ") && warnings[2].contains("DISABLED"),
        "building the client warns that TLS is not verified: {run:#?}"
    );
    assert_eq!(c["warnings"].as_array().map(Vec::len), Some(2));
}

#[test]
fn library_warnings_show_without_debug() {
    let run = glance(&["--os-image-url", "127.0.0.1:9292", "config-check"]).ok();
    assert_eq!(run.json()["servers"], json!(["127.0.0.1:9292"]));
    let warnings = run.warnings();
    assert_eq!(warnings.len(), 1, "{run:#?}");
    assert!(
        warnings[0].contains("has no scheme") && warnings[0].contains("http://127.0.0.1:9292"),
        "{run:#?}"
    );
}

#[test]
fn a_password_in_a_server_url_is_never_printed() {
    for url in [
        "http://demo:pw-s3cr3t@127.0.0.1:9292",
        "demo:pw-s3cr3t@127.0.0.1:9292",
    ] {
        // The library refuses it when the client is built (exit 2), after
        // config-check has printed the configuration.
        let run = glance(&["--os-image-url", url, "config-check"]);
        assert_eq!(run.code, 2, "{run:#?}");
        let c = run.json();
        let shown = url.replace("demo:pw-s3cr3t", "***");
        assert_eq!(c["servers"], json!([shown]), "{run:#?}");
        assert_eq!(c["api_servers"], json!([shown]), "{run:#?}");
        assert!(run.stderr.contains("credentials"), "{run:#?}");
        assert!(
            !run.stdout.contains("s3cr3t") && !run.stderr.contains("s3cr3t"),
            "{run:#?}"
        );
        let run = glance(&["--os-image-url", url, "--debug", "image-list"]);
        assert_eq!(run.code, 2, "{run:#?}");
        assert!(!run.stderr.contains("s3cr3t"), "{run:#?}");
    }
    // A file's server URL is refused as the file is read, the error quoting it.
    let (_dir, path) =
        config_file("[glance]\napi_servers = http://demo:pw-s3cr3t@127.0.0.1:9292\n");
    let run = glance(&["--config-file", &path, "config-check"])
        .fails(2, &[":2:", "api_servers", "http://***@127.0.0.1:9292"]);
    assert!(!run.stderr.contains("s3cr3t"), "{run:#?}");
}

#[test]
fn command_line_overrides_the_environment_which_overrides_the_file() {
    let (_dir, path) = config_file(
        "[glance]\napi_servers = http://file:1\nendpoint_override = http://file:2\napi_version = 1\n",
    );
    let check = |args: &[&str], env: &[(&str, &str)]| {
        let mut all = vec!["config-check", "--config-file", path.as_str()];
        all.extend(args);
        glance_with(&all, env, None).ok().json()
    };
    let c = check(&[], &[]);
    assert_eq!(
        c["servers"],
        json!(["http://file:2"]),
        "endpoint_override wins in a file"
    );
    assert_eq!(c["api_version"], 1);

    let env = [
        ("OS_IMAGE_URL", "http://env:1, http://env:2"),
        ("OS_IMAGE_API_VERSION", "2"),
        ("OS_AUTH_TOKEN", "env-s3cr3t"),
    ];
    let c = check(&[], &env);
    assert_eq!(c["servers"], json!(["http://env:1", "http://env:2"]));
    assert_eq!(c["servers_from"], "OS_IMAGE_URL");
    assert_eq!(c["endpoint_override"], Value::Null);
    assert_eq!(c["api_version"], 2);
    assert_eq!(c["auth"], "token");

    let args = [
        "--os-image-url",
        "http://cli:1,http://cli:2",
        "--os-image-url=http://cli:3",
        "--os-image-api-version",
        "1",
        "--os-auth-token",
        "cli-s3cr3t",
    ];
    let mut all = vec!["--config-file", path.as_str(), "config-check"];
    all.extend(args);
    let run = glance_with(&all, &env, None).ok();
    let c = run.json();
    assert_eq!(
        c["servers"],
        json!(["http://cli:1", "http://cli:2", "http://cli:3"])
    );
    assert_eq!(c["servers_from"], "command line");
    assert_eq!(c["api_version"], 1);
    assert_eq!(c["auth"], "token");
    assert!(
        !run.stdout.contains("s3cr3t") && !run.stderr.contains("s3cr3t"),
        "the token is never printed: {run:#?}"
    );
}

#[test]
fn config_check_without_a_server_prints_the_config_and_exits_2() {
    let run = glance(&["config-check"]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert_eq!(run.json()["servers"], json!([]));
    assert_eq!(run.stderr.lines().count(), 1, "{run:#?}");
    assert!(run.stderr.contains("no image API server"), "{run:#?}");
}

// --- commands against httptest ---------------------------------------------

#[test]
fn image_show_json_is_the_image_with_v2_names_and_sends_the_token() {
    let server = Server::run();
    server.expect(
        Expectation::matching(all_of![
            request::method_path("GET", format!("/v2/images/{ID}")),
            request::headers(contains(("x-auth-token", "tok-1"))),
        ])
        .respond_with(status_code(200).body(SHOW)),
    );
    let run = glance(&[
        "--os-image-url",
        &url(&server),
        "--os-auth-token",
        "tok-1",
        "--json",
        "image-show",
        ID,
    ])
    .ok();
    let image = run.json();
    let mut expected: Value = serde_json::from_str(SHOW).unwrap();
    for link in ["self", "file", "schema"] {
        expected.as_object_mut().unwrap().remove(link);
    }
    assert_eq!(image, expected, "the show answer, links dropped");
    assert_eq!(run.stderr, "");
}

/// What `awk '/ FIELD / {print $4}'` prints from a glanceclient table.
fn awk4(text: &str, field: &str) -> Option<String> {
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|w| w.get(1) == Some(&field))
        .and_then(|w| w.get(3).map(|v| v.to_string()))
}

#[test]
fn image_show_text_is_glanceclients_property_table() {
    let server = Server::run();
    server.expect(
        Expectation::matching(request::method_path("GET", format!("/v2/images/{ID}")))
            .respond_with(status_code(200).body(SHOW)),
    );
    let run = glance(&["--os-image-url", &url(&server), "image-show", ID]).ok();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines[1],
        "| Property         | Value                                                                            |"
    );
    assert!(lines[0].starts_with("+------------------+----"), "{run:#?}");
    assert_eq!(awk4(&run.stdout, "id").as_deref(), Some(ID));
    assert_eq!(awk4(&run.stdout, "name").as_deref(), Some("cirros-test"));
    assert_eq!(awk4(&run.stdout, "my_prop").as_deref(), Some("abc"));
    assert_eq!(awk4(&run.stdout, "size").as_deref(), Some("1048577"));
    assert_eq!(awk4(&run.stdout, "status").as_deref(), Some("active"));
    assert_eq!(awk4(&run.stdout, "protected").as_deref(), Some("False"));
    assert_eq!(awk4(&run.stdout, "tags").as_deref(), Some(r#"["t1"]"#));
    let keys: Vec<&str> = run
        .stdout
        .lines()
        .skip(3)
        .filter_map(|l| l.split_whitespace().nth(1))
        .filter(|k| *k != "|")
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "rows sorted by property");
    assert!(
        lines.iter().all(|l| l.len() == lines[0].len()),
        "one width: {run:#?}"
    );
}

#[test]
fn api_errors_exit_1_with_the_servers_message() {
    let server = Server::run();
    server.expect(
        Expectation::matching(request::method_path("GET", "/v2/images/nope")).respond_with(
            status_code(404)
                .insert_header("x-openstack-request-id", "req-42")
                .body(r#"{"message": "No image found with ID nope", "code": "404 Not Found"}"#),
        ),
    );
    server.expect(
        Expectation::matching(request::method_path("DELETE", "/v2/images/busy")).respond_with(
            status_code(409).body(r#"{"message": "Image busy is protected", "code": "409"}"#),
        ),
    );
    let u = url(&server);
    glance(&["--os-image-url", &u, "image-show", "nope", "--json"])
        .fails(1, &["not found", "No image found with ID nope", "req-42"]);
    glance(&["--os-image-url", &u, "image-delete", "busy"])
        .fails(1, &["deleting busy", "conflict", "protected"]);
}

#[test]
fn unreachable_server_exits_1_after_the_configured_retries() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let refused = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let (_dir, conf) = config_file("[glance]\nnum_retries = 1\n");
    let run = glance(&[
        "--config-file",
        &conf,
        "--os-image-url",
        &refused,
        "--os-auth-token",
        "tok-s3cr3t",
        "image-show",
        ID,
    ])
    .fails(1, &["all 2 attempts", &refused, "refused"]);
    // Without --debug: the library's warning for each failed attempt, then the error.
    let warnings = run.warnings();
    assert_eq!(warnings.len(), 2, "{run:#?}");
    assert!(warnings[0].contains("attempt 1 of 2 failed"), "{run:#?}");
    assert!(warnings[1].contains("no attempts left"), "{run:#?}");
    assert!(!run.stderr.contains("s3cr3t"), "{run:#?}");
}

#[test]
fn image_list_json_follows_pages_with_filters_sort_and_tags() {
    let server = Server::run();
    let page = |ids: &[&str], next: Option<&str>| {
        let images: Vec<Value> = ids.iter().map(|id| image_json(id, id, "active")).collect();
        let mut body = json!({"images": images});
        if let Some(n) = next {
            body["next"] = json!(n);
        }
        body
    };
    let first = all_of![
        request::method_path("GET", "/v2/images"),
        request::query(url_decoded(contains(("limit", "2")))),
        request::query(url_decoded(contains(("status", "active")))),
        request::query(url_decoded(contains(("os_distro", "cirros")))),
        request::query(url_decoded(contains(("protected", "false")))),
        request::query(url_decoded(contains(("tag", "gold")))),
        request::query(url_decoded(contains(("sort", "name:desc,created_at")))),
        request::query(url_decoded(not(contains(key("marker"))))),
    ];
    server.expect(Expectation::matching(first).respond_with(json_encoded(page(
        &["c", "b"],
        Some("/v2/images?limit=2&status=active&marker=b"),
    ))));
    server.expect(
        Expectation::matching(all_of![
            request::method_path("GET", "/v2/images"),
            request::query(url_decoded(contains(("marker", "b")))),
            // The whole limit of 3 leaves one for the second page.
            request::query(url_decoded(contains(("limit", "1")))),
        ])
        .respond_with(json_encoded(page(&["a"], Some("/v2/images?marker=a")))),
    );
    let run = glance(&[
        "--os-image-url",
        &url(&server),
        "image-list",
        "--json",
        "--limit=3",
        "--page-size",
        "2",
        "--property-filter",
        "status=active",
        "--property-filter",
        "os_distro=cirros",
        "--property-filter",
        "protected=false",
        "--tag",
        "gold",
        "--sort",
        "name:desc",
        "--sort",
        "created_at",
    ])
    .ok();
    let images = run.json();
    let ids: Vec<&str> = images
        .as_array()
        .expect("a JSON array")
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["c", "b", "a"],
        "three images over two pages, stopped at --limit"
    );
    assert_eq!(images[0]["visibility"], "private", "v2 field names");
    assert!(images[0].get("self").is_none(), "links dropped");
}

#[test]
fn image_list_text_is_glanceclients_id_name_table_sorted_by_name() {
    let server = Server::run();
    let mut img = image_json(ID, "cirros test", "active");
    img["size"] = json!(1048577);
    server.expect(
        Expectation::matching(all_of![
            request::method_path("GET", "/v2/images"),
            request::query(url_decoded(contains(("sort", "name:asc")))),
        ])
        .respond_with(json_encoded(json!({"images": [img]}))),
    );
    let run = glance(&["--os-image-url", &url(&server), "image-list"]).ok();
    assert_eq!(
        run.stdout,
        format!(
            "+--------------------------------------+-------------+\n\
             | ID                                   | Name        |\n\
             +--------------------------------------+-------------+\n\
             | {ID} | cirros test |\n\
             +--------------------------------------+-------------+\n"
        )
    );
    // glance image-list | awk '/ cirros / {print $2}'
    let id = run
        .stdout
        .lines()
        .find(|l| l.contains(" cirros "))
        .and_then(|l| l.split_whitespace().nth(1));
    assert_eq!(id, Some(ID));
}

#[test]
fn image_create_with_a_file_uploads_it_with_its_size_and_shows_the_result() {
    let server = Server::run();
    let data = b"0123456789abcdef".repeat(4096);
    server.expect(
        Expectation::matching(all_of![
            request::method_path("POST", "/v2/images"),
            request::body(json_decoded(eq(json!({
                "name": "demo", "disk_format": "raw", "container_format": "bare",
                "visibility": "shared", "os_distro": "cirros", "note": "a=b"
            })))),
        ])
        .respond_with(status_code(201).body(image_json(ID, "demo", "queued").to_string())),
    );
    server.expect(
        Expectation::matching(all_of![
            request::method_path("PUT", format!("/v2/images/{ID}/file")),
            request::headers(contains(("content-type", "application/octet-stream"))),
            request::headers(contains(("content-length", data.len().to_string()))),
            request::body(data.clone()),
        ])
        .respond_with(status_code(204)),
    );
    let mut active = image_json(ID, "demo", "active");
    active["size"] = json!(data.len());
    server.expect(
        Expectation::matching(request::method_path("GET", format!("/v2/images/{ID}")))
            .respond_with(json_encoded(active.clone())),
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("disk.raw");
    std::fs::write(&file, &data).unwrap();

    let run = glance(&[
        "--os-image-url",
        &url(&server),
        "--json",
        "image-create",
        "--name",
        "demo",
        "--disk-format",
        "raw",
        "--container-format=bare",
        "--visibility",
        "shared",
        "--property",
        "os_distro=cirros",
        "--property",
        "note=a=b",
        "--file",
        file.to_str().unwrap(),
        "--progress",
    ])
    .ok();

    assert_eq!(run.json()["status"], "active", "the image after the upload");
    assert_eq!(run.json()["size"], data.len());
    let bar = run.stderr.rsplit('\r').next().unwrap_or_default();
    assert!(
        bar.contains("upload [") && bar.contains("100%") && bar.contains("64.0 KiB / 64.0 KiB"),
        "the last state of the progress bar on stderr: {run:#?}"
    );
}

#[test]
fn image_create_with_a_missing_file_creates_nothing() {
    let server = Server::run(); // any request would fail the test
    glance(&[
        "--os-image-url",
        &url(&server),
        "image-create",
        "--name=x",
        "--disk-format=raw",
        "--container-format=bare",
        "--file=/nonexistent/disk.raw",
    ])
    .fails(1, &["/nonexistent/disk.raw"]);
}

#[test]
fn image_upload_from_stdin_is_streamed_chunked() {
    let server = Server::run();
    let data = b"streamed from stdin".repeat(1000);
    server.expect(
        Expectation::matching(all_of![
            request::method_path("PUT", format!("/v2/images/{ID}/file")),
            request::headers(contains(("transfer-encoding", "chunked"))),
            request::headers(not(contains(key("content-length")))),
            request::body(data.clone()),
        ])
        .respond_with(status_code(204)),
    );
    let run = glance_with(
        &[
            "--os-image-url",
            &url(&server),
            "image-upload",
            ID,
            "--file",
            "-",
        ],
        &[],
        Some(&data),
    )
    .ok();
    assert_eq!(run.stdout, "", "a text-mode upload prints nothing");
}

#[test]
fn image_upload_to_an_active_image_exits_1_with_the_conflict() {
    let server = Server::run();
    server.expect(
        Expectation::matching(request::method_path("PUT", format!("/v2/images/{ID}/file")))
            .respond_with(status_code(409).body(
                r#"{"message": "Image status transition from active to saving is not allowed"}"#,
            )),
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("d");
    std::fs::write(&file, b"abc").unwrap();
    glance(&[
        "--os-image-url",
        &url(&server),
        "image-upload",
        ID,
        "--file",
        file.to_str().unwrap(),
    ])
    .fails(1, &["conflict", "not allowed"]);
}

#[test]
fn image_update_sends_only_what_changes_and_prints_the_result() {
    let server = Server::run();
    let mut current = image_json(ID, "old-name", "active");
    current["old"] = json!("x");
    current["min_disk"] = json!(1);
    server.expect(
        Expectation::matching(request::method_path("GET", format!("/v2/images/{ID}")))
            .respond_with(json_encoded(current)),
    );
    server.expect(
        Expectation::matching(all_of![
            request::method_path("PATCH", format!("/v2/images/{ID}")),
            request::headers(contains((
                "content-type",
                "application/openstack-images-v2.1-json-patch"
            ))),
            request::body(json_decoded(eq(json!([
                {"op": "replace", "path": "/name", "value": "renamed"},
                {"op": "replace", "path": "/min_ram", "value": 64},
                {"op": "add", "path": "/os_distro", "value": "debian"},
                {"op": "remove", "path": "/old"},
            ])))),
        ])
        .respond_with(json_encoded(image_json(ID, "renamed", "active"))),
    );
    let run = glance(&[
        "--os-image-url",
        &url(&server),
        "image-update",
        ID,
        "--name",
        "renamed",
        "--min-disk",
        "1",
        "--min-ram",
        "64",
        "--os-distro",
        "debian",
        "--remove-property",
        "old",
        "--remove-property",
        "missing",
        "--json",
    ])
    .ok();
    assert_eq!(run.json()["name"], "renamed");
}

#[test]
fn image_update_that_changes_nothing_sends_no_patch_and_shows_the_image() {
    let server = Server::run(); // a PATCH would fail the test
    server.expect(
        Expectation::matching(request::method_path("GET", format!("/v2/images/{ID}")))
            .respond_with(json_encoded(image_json(ID, "same", "active"))),
    );
    let run = glance(&[
        "--os-image-url",
        &url(&server),
        "image-update",
        ID,
        "--name",
        "same",
        "--remove-property",
        "missing",
    ])
    .ok();
    assert_eq!(awk4(&run.stdout, "name").as_deref(), Some("same"));
}

#[test]
fn image_delete_goes_on_past_a_failure_and_reports_each() {
    let server = Server::run();
    for id in ["a", "c"] {
        server.expect(
            Expectation::matching(request::method_path("DELETE", format!("/v2/images/{id}")))
                .respond_with(status_code(204)),
        );
    }
    for id in ["b", "d"] {
        server.expect(
            Expectation::matching(request::method_path("DELETE", format!("/v2/images/{id}")))
                .respond_with(status_code(404).body(format!(r#"{{"message": "No image {id}"}}"#))),
        );
    }
    let run = glance(&[
        "--os-image-url",
        &url(&server),
        "image-delete",
        "a",
        "b",
        "c",
        "d",
    ]);
    assert_eq!(run.code, 1, "{run:#?}");
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{run:#?}");
    assert!(lines[0].contains("deleting b") && lines[0].contains("No image b"));
    assert!(lines[1].contains("deleting d") && lines[1].contains("2 of 4 deletions failed"));
}

#[test]
fn tags_and_activation_commands_send_their_request_and_print_nothing() {
    let server = Server::run();
    for (method, path) in [
        ("DELETE", format!("/v2/images/{ID}/tags/gold")),
        ("POST", format!("/v2/images/{ID}/actions/deactivate")),
        ("POST", format!("/v2/images/{ID}/actions/reactivate")),
        ("DELETE", format!("/v2/images/{ID}/members/proj-b")),
    ] {
        server.expect(
            Expectation::matching(request::method_path(method, path))
                .respond_with(status_code(204)),
        );
    }
    let u = url(&server);
    for args in [
        vec!["image-tag-delete", ID, "gold"],
        vec!["image-deactivate", ID],
        vec!["image-reactivate", ID],
        vec!["member-delete", ID, "proj-b"],
    ] {
        let mut all = vec!["--os-image-url", u.as_str()];
        all.extend(&args);
        let run = glance(&all).ok();
        assert_eq!(
            (run.stdout.as_str(), run.stderr.as_str()),
            ("", ""),
            "{args:?}"
        );
    }
}

#[test]
fn image_tag_update_prints_glanceclients_id_tags_table() {
    let server = Server::run();
    server.expect(
        Expectation::matching(request::method_path(
            "PUT",
            format!("/v2/images/{ID}/tags/gold"),
        ))
        .respond_with(status_code(204)),
    );
    let mut image = image_json(ID, "n", "active");
    image["tags"] = json!(["gold", "it's"]);
    server.expect(
        Expectation::matching(request::method_path("GET", format!("/v2/images/{ID}")))
            .respond_with(json_encoded(image)),
    );
    let run = glance(&[
        "--os-image-url",
        &url(&server),
        "image-tag-update",
        ID,
        "gold",
    ])
    .ok();
    assert_eq!(
        run.stdout.lines().nth(3),
        Some(format!("| {ID} | ['gold', \"it's\"] |").as_str())
    );
}

#[test]
fn member_commands_print_members_as_json() {
    let server = Server::run();
    let member = |status: &str| {
        json!({"image_id": ID, "member_id": "proj-b", "status": status,
               "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
               "schema": "/v2/schemas/member"})
    };
    server.expect(
        Expectation::matching(all_of![
            request::method_path("POST", format!("/v2/images/{ID}/members")),
            request::body(json_decoded(eq(json!({"member": "proj-b"})))),
        ])
        .respond_with(json_encoded(member("pending"))),
    );
    server.expect(
        Expectation::matching(all_of![
            request::method_path("PUT", format!("/v2/images/{ID}/members/proj-b")),
            request::body(json_decoded(eq(json!({"status": "accepted"})))),
        ])
        .respond_with(json_encoded(member("accepted"))),
    );
    server.expect(
        Expectation::matching(request::method_path(
            "GET",
            format!("/v2/images/{ID}/members"),
        ))
        .respond_with(json_encoded(json!({"members": [member("accepted")]}))),
    );
    let u = url(&server);
    let created = glance(&[
        "--os-image-url",
        &u,
        "--json",
        "member-create",
        ID,
        "proj-b",
    ])
    .ok()
    .json();
    assert_eq!(created["status"], "pending");
    assert_eq!(created["member_id"], "proj-b");
    let updated = glance(&[
        "--os-image-url",
        &u,
        "--json",
        "member-update",
        ID,
        "proj-b",
        "accepted",
    ])
    .ok()
    .json();
    assert_eq!(updated["status"], "accepted");
    let listed = glance(&["--os-image-url", &u, "--json", "member-list", ID])
        .ok()
        .json();
    assert_eq!(
        listed[0]["member_id"], "proj-b",
        "an array of members: {listed}"
    );
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
}

#[test]
fn several_servers_fail_over_to_the_next() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let refused = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let server = Server::run();
    server.expect(
        Expectation::matching(request::method_path("GET", format!("/v2/images/{ID}")))
            .respond_with(status_code(200).body(SHOW)),
    );
    // Nova shuffles the servers once: whichever comes first, the command
    // succeeds within its two attempts.
    let (_dir, conf) = config_file("[glance]\nnum_retries = 1\n");
    let servers = format!("{refused},{}", url(&server));
    let run = glance_with(
        &["--config-file", &conf, "--json", "image-show", ID],
        &[("OS_IMAGE_URL", &servers)],
        None,
    )
    .ok();
    assert_eq!(run.json()["id"], ID);
}

// --- image-download ---------------------------------------------------------

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A server holding one active image with `data` (its record advertising
/// the hashes of `advertised`).
fn serving(data: &[u8], advertised: &[u8]) -> Server {
    use sha2::Digest;
    let server = Server::run();
    let mut image = image_json(ID, "served", "active");
    image["size"] = json!(advertised.len());
    image["checksum"] = json!(hex(&md5::Md5::digest(advertised)));
    image["os_hash_algo"] = json!("sha512");
    image["os_hash_value"] = json!(hex(&sha2::Sha512::digest(advertised)));
    server.expect(
        Expectation::matching(request::method_path("GET", format!("/v2/images/{ID}")))
            .respond_with(json_encoded(image)),
    );
    server.expect(
        Expectation::matching(request::method_path("GET", format!("/v2/images/{ID}/file")))
            .respond_with(
                status_code(200)
                    .insert_header("content-type", "application/octet-stream")
                    .body(data.to_vec()),
            ),
    );
    server
}

#[test]
fn image_download_json_is_the_summary_and_the_file_the_data() {
    let data = b"image bytes ".repeat(10_000);
    let server = serving(&data, &data);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("out.raw");
    let dest_str = dest.to_str().unwrap();

    let run = glance(&[
        "--os-image-url",
        &url(&server),
        "--json",
        "image-download",
        ID,
        "--file",
        dest_str,
        "--progress",
    ])
    .ok();

    assert_eq!(
        run.json(),
        json!({"path": dest_str, "bytes": data.len(), "source": "http", "verified": "sha512",
               "format": "raw", "virtual_size": data.len(), "signature": null})
    );
    assert!(
        std::fs::read(&dest).unwrap() == data,
        "the file holds the data"
    );
    let bar = run.stderr.rsplit('\r').next().unwrap_or_default();
    assert!(
        bar.contains("download [") && bar.contains("100%"),
        "the last state of the progress bar: {run:#?}"
    );
}

#[test]
fn image_download_text_says_where_from_and_how_verified() {
    let data = b"abc".repeat(1000);
    let server = serving(&data, &data);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("out.raw");
    let u = url(&server);
    let run = glance(&[
        "--os-image-url",
        &u,
        "image-download",
        ID,
        "--file",
        dest.to_str().unwrap(),
    ])
    .ok();
    assert_eq!(
        run.stdout,
        format!(
            "downloaded 3000 bytes (2.9 KiB) to {} over HTTP from {}, verified with sha512, raw\n",
            dest.display(),
            u.trim_end_matches('/')
        )
    );
}

#[test]
fn a_corrupt_download_exits_1_and_publishes_nothing() {
    let data = b"image bytes ".repeat(1000);
    let mut corrupt = data.clone();
    corrupt[100] ^= 1;
    let server = serving(&corrupt, &data);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("out.raw");
    glance(&[
        "--os-image-url",
        &url(&server),
        "--json",
        "image-download",
        ID,
        "--file",
        dest.to_str().unwrap(),
    ])
    .fails(1, &["sha512 mismatch"]);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "neither the file nor a temporary one"
    );
}

// --- the main flow against a real Glance ------------------------------------

#[test]
fn main_flow_against_a_real_glance() {
    let Some(lab) = support::lab() else { return };
    let run_id = format!("tool-{}", std::process::id());
    let dir = tempfile::tempdir().unwrap();
    let sample: Vec<u8> = (0..700_001u32).map(|i| (i * 7 % 251) as u8).collect();
    let source = dir.path().join("sample.raw");
    std::fs::write(&source, &sample).unwrap();
    let u = lab.endpoint.as_str();
    let g = |args: &[&str]| {
        let mut all = vec!["--os-image-url", u];
        all.extend(args);
        glance(&all)
    };

    let created = g(&[
        "--json",
        "image-create",
        "--name",
        "tool-sample",
        "--disk-format",
        "raw",
        "--container-format",
        "bare",
        "--property",
        &format!("test_run={run_id}"),
        "--file",
        source.to_str().unwrap(),
    ])
    .ok()
    .json();
    let id = created["id"].as_str().expect("an id").to_string();
    assert_eq!(created["status"], "active", "{created}");
    assert_eq!(created["size"], sample.len());

    let shown = g(&["--json", "image-show", &id]).ok().json();
    assert_eq!(shown, created, "image-show gives what image-create printed");

    let filter = format!("test_run={run_id}");
    let listed = g(&["--json", "image-list", "--property-filter", &filter])
        .ok()
        .json();
    assert_eq!(listed, json!([created]), "listed by its property");

    let dest = dir.path().join("over-http.raw");
    let report = g(&[
        "--json",
        "image-download",
        &id,
        "--file",
        dest.to_str().unwrap(),
        "--no-local",
    ])
    .ok()
    .json();
    assert_eq!(
        report,
        json!({"path": dest.to_str().unwrap(), "bytes": sample.len(),
               "source": "http", "verified": "sha512", "format": "raw",
               "virtual_size": sample.len(), "signature": null})
    );
    assert!(std::fs::read(&dest).unwrap() == sample, "HTTP copy differs");

    if let (Some(store), Some(fs_id)) = (&lab.store_dir, &lab.fs_id) {
        let (_conf_dir, conf) = config_file(&format!(
            "[glance]\nallowed_direct_url_schemes = file\n\
             [image_file_url]\nfilesystems = lab\n\
             [image_file_url:lab]\nid = {fs_id}\nmountpoint = {}\n",
            store.display()
        ));
        let dest = dir.path().join("local.raw");
        let report = g(&[
            "--config-file",
            &conf,
            "--json",
            "image-download",
            &id,
            "--file",
            dest.to_str().unwrap(),
        ])
        .ok()
        .json();
        assert_eq!(report["source"], "local", "{report}");
        assert_eq!(report["verified"], "sha512");
        assert!(
            std::fs::read(&dest).unwrap() == sample,
            "local copy differs"
        );
    }

    g(&["image-tag-update", &id, "tool-tag"]).ok();
    let updated = g(&["--json", "image-update", &id, "--name", "tool-renamed"])
        .ok()
        .json();
    assert_eq!(updated["name"], "tool-renamed");
    assert_eq!(updated["tags"], json!(["tool-tag"]));

    g(&["image-delete", &id]).ok();
    g(&["image-show", &id]).fails(1, &["not found", &id]);
}

// --- Keystone: OS_* variables and --os-* flags -------------------------------

/// A Keystone (httptest) whose token's catalog names `glance` as the image service.
fn keystone(glance: &str) -> Server {
    let server = Server::run();
    let body = json!({"token": {
        "methods": ["password"],
        "issued_at": "2026-01-01T00:00:00.000000Z",
        "expires_at": "2026-01-01T01:00:00.000000Z",
        "project": {"id": "p1", "name": "demo", "domain": {"id": "default"}},
        "catalog": [{"type": "image", "name": "glance", "endpoints": [
            {"interface": "public", "region_id": "RegionOne", "region": "RegionOne", "url": glance}
        ]}],
    }});
    server.expect(
        Expectation::matching(all_of![
            request::method_path("POST", "/v3/auth/tokens"),
            request::body(json_decoded(eq(json!({"auth": {
                "identity": {"methods": ["password"], "password": {"user": {
                    "name": "demo", "domain": {"name": "Default"}, "password": "pw-s3cr3t"
                }}},
                "scope": {"project": {"name": "demo", "domain": {"name": "Default"}}}
            }})))),
        ])
        .times(1)
        .respond_with(
            status_code(201)
                .insert_header("x-subject-token", "tok-from-keystone")
                .insert_header("content-type", "application/json")
                .body(body.to_string()),
        ),
    );
    server
}

/// A Glance that answers `image-show ID` only with Keystone's token, and the
/// Keystone that hands it out: (glance, keystone, Keystone's `/v3` URL).
fn glance_behind_keystone() -> (Server, Server, String) {
    let glance_server = Server::run();
    glance_server.expect(
        Expectation::matching(all_of![
            request::method_path("GET", format!("/v2/images/{ID}")),
            request::headers(contains(("x-auth-token", "tok-from-keystone"))),
        ])
        .respond_with(status_code(200).body(SHOW)),
    );
    let ks = keystone(&glance_server.url_str("/v2"));
    let auth_url = ks.url_str("/v3");
    (glance_server, ks, auth_url)
}

/// `--os-*` flags of demo's password login, then `--json image-show ID`.
fn password_login_show(auth_url: &str) -> Vec<&str> {
    vec![
        "--os-auth-url",
        auth_url,
        "--os-username",
        "demo",
        "--os-password",
        "pw-s3cr3t",
        "--os-user-domain-name",
        "Default",
        "--os-project-name",
        "demo",
        "--os-project-domain-name",
        "Default",
        "--os-interface",
        "public",
        "--json",
        "image-show",
        ID,
    ]
}

#[test]
fn a_password_login_from_flags_finds_the_image_service_in_the_catalog() {
    let (_glance, _keystone, auth_url) = glance_behind_keystone();
    let run = glance_with(&password_login_show(&auth_url), &[], None).ok();
    assert_eq!(run.json()["id"], ID);
    assert!(
        !run.stderr.contains("s3cr3t") && !run.stdout.contains("s3cr3t"),
        "{run:#?}"
    );
}

#[test]
fn the_same_login_from_os_variables_and_config_check_hides_the_secrets() {
    let glance_server = Server::run();
    glance_server.expect(
        Expectation::matching(request::method_path("GET", format!("/v2/images/{ID}")))
            .respond_with(status_code(200).body(SHOW)),
    );
    let ks = keystone(&glance_server.url_str("/v2"));
    let auth_url = ks.url_str("/v3");
    let env = [
        ("OS_AUTH_URL", auth_url.as_str()),
        ("OS_USERNAME", "demo"),
        ("OS_PASSWORD", "pw-s3cr3t"),
        ("OS_USER_DOMAIN_NAME", "Default"),
        ("OS_PROJECT_NAME", "demo"),
        ("OS_PROJECT_DOMAIN_NAME", "Default"),
        ("OS_INTERFACE", "public"),
    ];
    let run = glance_with(&["--json", "image-show", ID], &env, None).ok();
    assert_eq!(run.json()["id"], ID);
    let run = glance_with(
        &["config-check"],
        &[
            ("OS_AUTH_URL", "http://127.0.0.1:1/v3"),
            ("OS_APPLICATION_CREDENTIAL_ID", "ac1"),
            ("OS_APPLICATION_CREDENTIAL_SECRET", "ac-s3cr3t"),
        ],
        None,
    )
    .ok();
    assert_eq!(run.json()["auth"], "application_credential");
    assert!(!run.stdout.contains("s3cr3t"), "{run:#?}");
    // A password login without its password is a configuration error naming
    // the variable, said once ("configuration error: ", not "...: configuration: ").
    let run = glance_with(
        &["config-check"],
        &[
            ("OS_AUTH_URL", "http://127.0.0.1:1/v3"),
            ("OS_USERNAME", "demo"),
            ("OS_AUTH_TYPE", "password"),
        ],
        None,
    )
    .fails(2, &["glance: configuration error: OS_PASSWORD is not set"]);
    assert!(!run.stderr.contains("configuration: "), "{run:#?}");
}

/// The login settings of a Keystone user, as OS_* variables.
const ENV_LOGIN: [(&str, &str); 5] = [
    ("OS_AUTH_URL", "http://127.0.0.1:1/v3"),
    ("OS_USERNAME", "env-user"),
    ("OS_PASSWORD", "env-pw-s3cr3t"),
    ("OS_PROJECT_NAME", "env-project"),
    ("OS_USER_DOMAIN_NAME", "Default"),
];

/// `config-check` with `args` and `env`; its JSON, after checking that no
/// secret was printed.
fn checked(args: &[&str], env: &[(&str, &str)]) -> Value {
    let mut all = vec!["--os-image-url", "http://127.0.0.1:9292", "config-check"];
    all.extend(args);
    let run = glance_with(&all, env, None).ok();
    assert!(
        !run.stdout.contains("s3cr3t") && !run.stderr.contains("s3cr3t"),
        "{run:#?}"
    );
    run.json()
}

#[test]
fn a_login_on_the_command_line_beats_a_token_in_the_environment() {
    let cli_password = [
        "--os-auth-url",
        "http://127.0.0.1:2/v3",
        "--os-username",
        "cli-user",
        "--os-password",
        "cli-pw-s3cr3t",
    ];
    for token in ["OS_AUTH_TOKEN", "OS_TOKEN"] {
        let c = checked(&cli_password, &[(token, "env-tok-s3cr3t")]);
        assert_eq!(c["auth"], "password", "{token}: {c:#}");
        assert_eq!(c["auth_url"], "http://127.0.0.1:2/v3");
        assert_eq!(c["username"], "cli-user");
    }
    // The environment fills in what the flags leave open.
    let c = checked(
        &["--os-password", "cli-pw-s3cr3t"],
        &[
            ("OS_AUTH_TOKEN", "env-tok-s3cr3t"),
            ("OS_AUTH_URL", "http://127.0.0.1:1/v3"),
            ("OS_USERNAME", "env-user"),
        ],
    );
    assert_eq!(c["auth"], "password", "{c:#}");
    assert_eq!(c["username"], "env-user");
    // Flags that choose no login leave OS_AUTH_TOKEN in charge, as before.
    let c = checked(
        &["--os-region-name", "R2"],
        &[("OS_AUTH_TOKEN", "env-tok-s3cr3t")],
    );
    assert_eq!(c["auth"], "token", "{c:#}");
    assert_eq!(c["region_name"], "R2");
}

#[test]
fn a_token_on_the_command_line_beats_a_login_type_in_the_environment() {
    let mut env = ENV_LOGIN.to_vec();
    env.push(("OS_AUTH_TYPE", "password"));
    assert_eq!(checked(&[], &env)["auth"], "password");
    for flag in ["--os-token", "--os-auth-token"] {
        let c = checked(&[flag, "cli-tok-s3cr3t"], &env);
        assert_eq!(c["auth"], "token", "{flag}: {c:#}");
        assert_eq!(c["auth_type"], "token");
        assert_eq!(c["auth_url"], Value::Null);
    }
    // And --os-auth-type on the command line is the login type.
    let c = checked(&["--os-auth-type", "none"], &env);
    assert_eq!(c["auth"], "none", "{c:#}");
}

#[test]
fn a_command_line_password_login_is_used_despite_os_auth_token() {
    let (_glance, _keystone, auth_url) = glance_behind_keystone();
    let run = glance_with(
        &password_login_show(&auth_url),
        &[
            ("OS_AUTH_TOKEN", "env-tok-s3cr3t"),
            ("OS_TOKEN", "env-tok-s3cr3t"),
        ],
        None,
    )
    .ok();
    assert_eq!(run.json()["id"], ID);
    assert!(!run.stderr.contains("s3cr3t"), "{run:#?}");
}

#[test]
fn config_check_shows_the_keystone_settings_but_no_secret() {
    let mut env = ENV_LOGIN.to_vec();
    env.extend([
        ("OS_PROJECT_DOMAIN_ID", "default"),
        ("OS_REGION_NAME", "RegionTwo"),
        ("OS_INTERFACE", "public"),
    ]);
    let c = checked(&[], &env);
    for (key, value) in [
        ("auth", json!("password")),
        ("auth_type", json!("password")),
        ("auth_url", json!("http://127.0.0.1:1/v3")),
        ("username", json!("env-user")),
        ("user_id", Value::Null),
        ("user_domain_name", json!("Default")),
        ("user_domain_id", Value::Null),
        ("project_name", json!("env-project")),
        ("project_id", Value::Null),
        ("project_domain_id", json!("default")),
        ("project_domain_name", Value::Null),
        ("application_credential_id", Value::Null),
        ("region_name", json!("RegionTwo")),
        ("valid_interfaces", json!(["public"])),
    ] {
        assert_eq!(c[key], value, "{key}: {c:#}");
    }
    let c = checked(
        &[
            "--os-auth-url",
            "http://ks:5000/v3",
            "--os-application-credential-name",
            "lab",
            "--os-user-id",
            "u1",
            "--os-application-credential-secret",
            "ac-s3cr3t",
        ],
        &[],
    );
    assert_eq!(c["auth_type"], "v3applicationcredential", "{c:#}");
    assert_eq!(c["application_credential_name"], "lab");
    assert_eq!(c["user_id"], "u1");
    assert_eq!(c["project_name"], Value::Null);
    assert_eq!(c["region_name"], Value::Null);
    assert_eq!(c["valid_interfaces"], json!(["internal", "public"]));
    let c = checked(&[], &[]);
    assert_eq!(c["auth_type"], "none");
    assert_eq!(c["auth_url"], Value::Null);
}

#[test]
fn debug_logs_each_request_and_attempt_without_the_token() {
    let server = Server::run();
    server.expect(
        Expectation::matching(request::method_path("GET", format!("/v2/images/{ID}")))
            .respond_with(status_code(200).body(SHOW)),
    );
    let run = glance(&[
        "--os-image-url",
        &url(&server),
        "--os-auth-token",
        "tok-s3cr3t",
        "--debug",
        "image-show",
        ID,
    ])
    .ok();
    assert!(
        run.stderr
            .contains(&format!("GET {}v2/images/{ID} -> 200", url(&server)))
            || run.stderr.contains(&format!("/v2/images/{ID} -> 200")),
        "{run:#?}"
    );
    assert!(!run.stderr.contains("s3cr3t"), "{run:#?}");
}
