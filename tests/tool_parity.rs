//! The tool's glanceclient behaviour against a scripted server (httptest):
//! stdin uploads, stdout downloads (and a failed check after data went
//! out), store uploads, image-list's filters and sort, the global TLS,
//! timeout and endpoint flags and their variables, the credentials
//! message, member-list's two forms and the server cache's endpoint rule.
//! tests/glanceclient_diff.rs compares the tool with glanceclient itself.

mod cli;

use cli::{glance, glance_with};
use httptest::matchers::{all_of, contains, eq, key, not, request, url_decoded};
use httptest::responders::{json_encoded, status_code};
use httptest::{Expectation, Server};
use serde_json::{Value, json};

const ID: &str = "e54e8577-3aa8-44c2-afc1-6205679c7fba";

fn url(server: &Server) -> String {
    server.url_str("")
}

fn image(status: &str, extra: Value) -> Value {
    let mut v = json!({"id": ID, "name": "n", "status": status, "visibility": "private",
        "disk_format": "raw", "container_format": "bare"});
    if let (Value::Object(o), Value::Object(e)) = (&mut v, extra) {
        o.extend(e);
    }
    v
}

#[test]
fn image_create_uploads_a_piped_stdin_and_prints_the_table() {
    let server = Server::run();
    server.expect(
        Expectation::matching(request::method_path("POST", "/v2/images"))
            .respond_with(status_code(201).body(image("queued", json!({})).to_string())),
    );
    server.expect(
        Expectation::matching(all_of![
            request::method_path("PUT", format!("/v2/images/{ID}/file")),
            request::headers(contains(("transfer-encoding", "chunked"))),
            request::body("piped data"),
        ])
        .respond_with(status_code(204)),
    );
    server.expect(
        Expectation::matching(request::method_path("GET", format!("/v2/images/{ID}")))
            .respond_with(json_encoded(image("active", json!({"size": 10})))),
    );
    let run = glance_with(
        &[
            "--os-image-url",
            &url(&server),
            "image-create",
            "--name",
            "n",
            "--disk-format",
            "raw",
            "--container-format",
            "bare",
        ],
        &[],
        Some(b"piped data"),
    )
    .ok();
    let status: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.contains(" status "))
        .filter_map(|l| l.split_whitespace().nth(3))
        .collect();
    assert_eq!(status, ["active"], "{run:#?}");
}

#[test]
fn image_create_without_data_makes_a_queued_record_only() {
    let server = Server::run(); // an upload would fail the test
    server.expect(
        Expectation::matching(all_of![
            request::method_path("POST", "/v2/images"),
            request::body(httptest::matchers::json_decoded(eq(
                json!({"name": "only"})
            ))),
        ])
        .respond_with(status_code(201).body(image("queued", json!({})).to_string())),
    );
    // The harness gives /dev/null as stdin: a device, not data.
    glance(&[
        "--os-image-url",
        &url(&server),
        "image-create",
        "--name",
        "only",
    ])
    .ok();
}

#[test]
fn a_store_is_checked_then_named_on_the_upload() {
    let server = Server::run();
    server.expect(
        Expectation::matching(request::method_path("GET", "/v2/info/stores"))
            .times(2)
            .respond_with(json_encoded(
                json!({"stores": [{"id": "fs", "default": "true"}, {"id": "fs2"}]}),
            )),
    );
    server.expect(
        Expectation::matching(all_of![
            request::method_path("PUT", format!("/v2/images/{ID}/file")),
            request::headers(contains(("x-image-meta-store", "fs2"))),
        ])
        .respond_with(status_code(204)),
    );
    let u = url(&server);
    glance_with(
        &["--os-image-url", &u, "image-upload", ID, "--store", "fs2"],
        &[],
        Some(b"abc"),
    )
    .ok();
    glance_with(
        &["--os-image-url", &u, "image-upload", ID, "--store", "nope"],
        &[],
        Some(b"abc"),
    )
    .fails(2, &["Store 'nope' is not valid for this cloud"]);
}

fn serving(data: &[u8], advertised_md5: &str) -> Server {
    let server = Server::run();
    server.expect(
        Expectation::matching(request::method_path("GET", format!("/v2/images/{ID}")))
            .respond_with(json_encoded(image(
                "active",
                json!({"size": data.len(), "checksum": advertised_md5}),
            ))),
    );
    server.expect(
        Expectation::matching(request::method_path("GET", format!("/v2/images/{ID}/file")))
            .respond_with(status_code(200).body(data.to_vec())),
    );
    server
}

#[test]
fn image_download_without_file_writes_stdout_verified() {
    // md5("hello")
    let server = serving(b"hello", "5d41402abc4b2a76b9719d911017c592");
    let run = glance(&["--os-image-url", &url(&server), "image-download", ID]).ok();
    assert_eq!(run.stdout, "hello");
    let server = serving(b"hello", "5d41402abc4b2a76b9719d911017c592");
    let run = glance(&[
        "--os-image-url",
        &url(&server),
        "image-download",
        ID,
        "--file",
        "-",
    ])
    .ok();
    assert_eq!(run.stdout, "hello");
    assert!(!std::path::Path::new("-").exists(), "never a file named -");
}

#[test]
fn a_stdout_download_that_fails_its_check_says_to_discard_what_was_written() {
    let server = serving(b"hellO", "5d41402abc4b2a76b9719d911017c592");
    let run = glance(&["--os-image-url", &url(&server), "image-download", ID]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert_eq!(run.stdout, "hellO", "the bytes went out as they came");
    assert!(run.stderr.contains("NOT the verified image"), "{run:#?}");
    assert!(run.stderr.contains("discard"), "{run:#?}");
}

#[test]
fn image_download_json_needs_a_file() {
    let server = Server::run();
    glance(&[
        "--os-image-url",
        &url(&server),
        "image-download",
        ID,
        "--json",
    ])
    .fails(2, &["--json needs --file"]);
}

#[test]
fn image_list_sends_glanceclients_filters_and_sort() {
    let server = Server::run();
    server.expect(
        Expectation::matching(all_of![
            request::method_path("GET", "/v2/images"),
            request::query(url_decoded(contains(("visibility", "shared")))),
            request::query(url_decoded(contains(("member_status", "accepted")))),
            request::query(url_decoded(contains(("owner", "p1")))),
            request::query(url_decoded(contains(("checksum", "abc")))),
            request::query(url_decoded(contains(("os_hash_value", "def")))),
            request::query(url_decoded(contains(("os_hidden", "true")))),
            request::query(url_decoded(contains(("tag", "t1")))),
            request::query(url_decoded(contains(("limit", "3")))),
            request::query(url_decoded(contains(("sort", "name:desc,size:asc")))),
        ])
        .respond_with(json_encoded(json!({"images": []}))),
    );
    server.expect(
        Expectation::matching(all_of![
            request::method_path("GET", "/v2/images"),
            request::query(url_decoded(contains(("sort", "name:desc,size:desc")))),
            request::query(url_decoded(not(contains(key("os_hidden"))))),
        ])
        .respond_with(json_encoded(json!({"images": []}))),
    );
    let u = url(&server);
    let run = glance(&[
        "--os-image-url",
        &u,
        "image-list",
        "--visibility",
        "shared",
        "--member-status",
        "accepted",
        "--owner",
        "p1",
        "--checksum",
        "abc",
        "--hash",
        "def",
        "--hidden",
        "--tag",
        "t1",
        "--limit",
        "3",
        "--sort",
        "name:desc,size:asc",
    ])
    .ok();
    assert_eq!(
        run.stdout,
        "+----+------+\n| ID | Name |\n+----+------+\n+----+------+\n"
    );
    glance(&[
        "--os-image-url",
        &u,
        "image-list",
        "--sort-key",
        "name",
        "--sort-key",
        "size",
        "--sort-dir",
        "desc",
    ])
    .ok();
}

fn checked(args: &[&str], env: &[(&str, &str)]) -> Value {
    let mut all = vec!["--os-image-url", "https://127.0.0.1:1"];
    all.extend(args);
    all.push("config-check");
    // Printed before the check (which then refuses the made-up TLS files).
    glance_with(&all, env, None).json()
}

#[test]
fn glanceclients_tls_timeout_and_endpoint_flags_and_variables() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, "").unwrap();
    let ca = ca.display().to_string();
    let c = checked(
        &[
            "--insecure",
            "--timeout",
            "2.5",
            "--os-endpoint-type",
            "internalURL",
        ],
        &[],
    );
    assert_eq!(c["insecure"], true);
    assert_eq!(c["connect_timeout"], 2.5);
    assert_eq!(c["io_timeout"], 2.5);
    assert_eq!(c["valid_interfaces"], json!(["internal"]));
    let c = checked(
        &[],
        &[
            ("OS_CACERT", &ca),
            ("OS_CERT", "/c.pem"),
            ("OS_KEY", "/k.pem"),
            ("OS_ENDPOINT_TYPE", "publicURL"),
        ],
    );
    assert_eq!(c["cafile"], ca);
    assert_eq!(c["certfile"], "/c.pem");
    assert_eq!(c["keyfile"], "/k.pem");
    assert_eq!(c["valid_interfaces"], json!(["public"]));
    let c = checked(&["--os-cacert", "/flag.pem"], &[("OS_CACERT", &ca)]);
    assert_eq!(c["cafile"], "/flag.pem", "the flag over the variable");
    glance(&[
        "--os-image-url",
        "http://127.0.0.1:1",
        "--timeout",
        "soon",
        "image-list",
    ])
    .fails(2, &["--timeout", "\"soon\""]);
    glance(&[
        "--os-image-url",
        "https://127.0.0.1:1",
        "--os-cacert",
        "/missing/ca.pem",
        "image-list",
    ])
    .fails(2, &["/missing/ca.pem"]);
}

#[test]
fn debug_from_glanceclient_debug_and_the_short_flags() {
    let server = Server::run();
    server.expect(
        Expectation::matching(request::method_path("GET", format!("/v2/images/{ID}")))
            .times(2)
            .respond_with(json_encoded(image("active", json!({})))),
    );
    let u = url(&server);
    let run = glance_with(
        &["--os-image-url", &u, "image-show", ID],
        &[("GLANCECLIENT_DEBUG", "1")],
        None,
    )
    .ok();
    assert!(run.stderr.contains("glance: debug: "), "{run:#?}");
    let run = glance(&["-d", "--os-image-url", &u, "image-show", ID]).ok();
    assert!(run.stderr.contains("glance: debug: "), "{run:#?}");
}

#[test]
fn without_any_credentials_glanceclients_words() {
    glance(&["image-list"]).fails(
        2,
        &[
            "You must provide a username via either --os-username or env[OS_USERNAME]",
            "--os-image-url",
        ],
    );
}

#[test]
fn member_list_takes_the_image_either_way() {
    let server = Server::run();
    server.expect(
        Expectation::matching(request::method_path(
            "GET",
            format!("/v2/images/{ID}/members"),
        ))
        .times(2)
        .respond_with(json_encoded(json!({"members": [
                {"image_id": ID, "member_id": "p2", "status": "pending"}]}))),
    );
    let u = url(&server);
    let a = glance(&["--os-image-url", &u, "member-list", "--image-id", ID]).ok();
    let b = glance(&["--os-image-url", &u, "member-list", ID]).ok();
    assert_eq!(a.stdout, b.stdout);
    assert!(
        a.stdout
            .contains(&format!("| {ID} | p2        | pending |")),
        "{a:#?}"
    );
}

#[test]
fn the_server_cache_needs_one_direct_endpoint_and_a_server_that_offers_it() {
    glance(&[
        "--os-image-url",
        "http://127.0.0.1:1,http://127.0.0.1:2",
        "cache-list",
    ])
    .fails(2, &["Direct server endpoint needs to be provided"]);
    let server = Server::run();
    server.expect(
        Expectation::matching(request::method_path("GET", "/versions")).respond_with(json_encoded(
            json!({"versions": [{"id": "v2.17", "status": "CURRENT", "links": []}]}),
        )),
    );
    glance(&["--os-image-url", &url(&server), "cache-list"]).fails(2, &["v2.14", "cache"]);
}

/// On a terminal the data is refused, as glanceclient refuses it (run in a
/// pseudo-terminal with util-linux `script`; skipped where there is none).
#[test]
fn image_download_to_a_terminal_is_refused() {
    let Ok(script) = which("script") else {
        eprintln!("SKIPPED: no `script` to make a terminal");
        return;
    };
    let command = format!(
        "{} --os-image-url http://127.0.0.1:1 image-download {ID}",
        cli::binary().display()
    );
    let out = std::process::Command::new(script)
        .args(["-qec", &command, "/dev/null"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("running script");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("No redirection or local file specified"),
        "{text}"
    );
    assert_eq!(out.status.code(), Some(2), "{text}");
}

fn which(name: &str) -> Result<std::path::PathBuf, ()> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .ok_or(())
}
