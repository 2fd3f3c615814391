//! `POST /v3/auth/tokens`, sans-IO: the request of a login and the parser of
//! its answer. The request body holds the password or secret, so neither the
//! request nor its body is ever logged or shown.

use std::fmt;
use std::time::Duration;

use http::{Request, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::catalog::Service;
use super::{ApplicationCredential, Credential, Domain, Password, Project, User};
use crate::error::{ApiError, Error, Result};
use crate::urls::{check_http, redact_url};
use crate::wire::{self, timestamp::parse_millis};

/// The tokens are sent as a header: a longer one is not Keystone's.
const MAX_TOKEN: usize = 16 * 1024;

/// A login, either kind.
#[derive(Clone)]
pub(crate) enum Login {
    Password(Password),
    ApplicationCredential(ApplicationCredential),
}

impl fmt::Debug for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Login::Password(p) => p.fmt(f),
            Login::ApplicationCredential(a) => a.fmt(f),
        }
    }
}

impl Login {
    pub(crate) fn auth_url(&self) -> &str {
        match self {
            Login::Password(p) => &p.auth_url,
            Login::ApplicationCredential(a) => &a.auth_url,
        }
    }

    /// "password login of user demo (domain Default)": for messages; no secret.
    pub(crate) fn describe(&self) -> String {
        match self {
            Login::Password(p) => format!("password login of user {}", show_user(&p.user)),
            Login::ApplicationCredential(a) => match &a.credential {
                Credential::Id(id) => format!("login with application credential {id}"),
                Credential::Name { name, user } => format!(
                    "login with application credential {name} of user {}",
                    show_user(user)
                ),
            },
        }
    }

    /// Refuses what Keystone would refuse less clearly: empty names, ids and secrets.
    pub(crate) fn check(&self) -> Result<()> {
        let bad = |what: &str| Error::Config {
            file: None,
            line: None,
            message: format!("Keystone {}: {what} is empty", self.describe()),
        };
        let user = |u: &User| match u {
            User::Id(id) if id.trim().is_empty() => Err(bad("the user id")),
            User::Name { name, .. } if name.trim().is_empty() => Err(bad("the user name")),
            User::Name { domain, .. } => domain_ok(domain).map_err(|_| bad("the user's domain")),
            User::Id(_) => Ok(()),
        };
        match self {
            Login::Password(p) => {
                user(&p.user)?;
                if p.password.is_empty() {
                    return Err(bad("the password"));
                }
                match &p.project {
                    Some(Project::Id(id)) if id.trim().is_empty() => Err(bad("the project id")),
                    Some(Project::Name { name, .. }) if name.trim().is_empty() => {
                        Err(bad("the project name"))
                    }
                    Some(Project::Name { domain, .. }) => {
                        domain_ok(domain).map_err(|_| bad("the project's domain"))
                    }
                    _ => Ok(()),
                }
            }
            Login::ApplicationCredential(a) => {
                match &a.credential {
                    Credential::Id(id) if id.trim().is_empty() => {
                        return Err(bad("the application credential id"));
                    }
                    Credential::Name { name, .. } if name.trim().is_empty() => {
                        return Err(bad("the application credential name"));
                    }
                    Credential::Name { user: u, .. } => user(u)?,
                    Credential::Id(_) => {}
                }
                if a.secret.is_empty() {
                    return Err(bad("the application credential secret"));
                }
                Ok(())
            }
        }
    }
}

fn domain_ok(domain: &Domain) -> std::result::Result<(), ()> {
    match domain {
        Domain::Id(s) | Domain::Name(s) if s.trim().is_empty() => Err(()),
        _ => Ok(()),
    }
}

fn show_user(user: &User) -> String {
    match user {
        User::Id(id) => format!("id {id}"),
        User::Name { name, domain } => match domain {
            Domain::Id(d) => format!("{name} (domain id {d})"),
            Domain::Name(d) => format!("{name} (domain {d})"),
        },
    }
}

/// The token URL of an identity API URL: `…/v3` gets `/auth/tokens`, a URL
/// without a version gets `/v3/auth/tokens`; v2.0 is refused.
pub(crate) fn tokens_url(auth_url: &str) -> Result<String> {
    let text = auth_url.trim();
    let bad = |why: &str| Error::Config {
        file: None,
        line: None,
        message: format!("auth_url {why}"),
    };
    if text.is_empty() {
        return Err(bad(
            "is empty: the Keystone identity API URL is needed to log in",
        ));
    }
    let url = check_http(text).map_err(|why| bad(&format!("{:?} {why}", redact_url(text))))?;
    let base = url.as_str().trim_end_matches('/');
    let last = base.rsplit('/').next().unwrap_or("");
    match last {
        "v3" => Ok(format!("{base}/auth/tokens")),
        v if v.starts_with("v2") => Err(bad(&format!(
            "{text:?} is identity API {v}; only v3 is supported (use the .../v3 URL)"
        ))),
        _ => Ok(format!("{base}/v3/auth/tokens")),
    }
}

fn domain_json(domain: &Domain) -> Value {
    match domain {
        Domain::Id(id) => json!({ "id": id }),
        Domain::Name(name) => json!({ "name": name }),
    }
}

fn user_json(user: &User) -> Value {
    match user {
        User::Id(id) => json!({ "id": id }),
        User::Name { name, domain } => json!({ "name": name, "domain": domain_json(domain) }),
    }
}

/// The login request, to `url` (from [`tokens_url`]). Its body holds the secret.
pub(crate) fn login_request(url: &str, login: &Login) -> Result<Request<Vec<u8>>> {
    let auth = match login {
        Login::Password(p) => {
            let mut user = user_json(&p.user);
            user["password"] = Value::String(p.password.clone());
            let mut auth = json!({
                "identity": { "methods": ["password"], "password": { "user": user } }
            });
            if let Some(project) = &p.project {
                auth["scope"] = json!({ "project": match project {
                    Project::Id(id) => json!({ "id": id }),
                    Project::Name { name, domain } =>
                        json!({ "name": name, "domain": domain_json(domain) }),
                }});
            }
            auth
        }
        Login::ApplicationCredential(a) => {
            let mut cred = match &a.credential {
                Credential::Id(id) => json!({ "id": id }),
                Credential::Name { name, user } => json!({ "name": name, "user": user_json(user) }),
            };
            cred["secret"] = Value::String(a.secret.clone());
            json!({ "identity": {
                "methods": ["application_credential"],
                "application_credential": cred,
            }})
        }
    };
    let body = serde_json::to_vec(&json!({ "auth": auth }))
        .map_err(|e| Error::Internal(format!("cannot encode the Keystone login: {e}")))?;
    let builder = http::Request::builder()
        .method(http::Method::POST)
        .uri(url)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::ACCEPT, "application/json");
    wire::finish(builder, body)
}

/// What a login gave.
pub(crate) struct Issued {
    /// The token (secret).
    pub(crate) token: String,
    /// How long it is valid from when it was issued, when Keystone says.
    pub(crate) lifetime: Option<Duration>,
    pub(crate) catalog: Vec<Service>,
    /// The project the token is scoped to (name, else id), for messages.
    pub(crate) project: Option<String>,
}

impl fmt::Debug for Issued {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Issued")
            .field("token", &"<redacted>")
            .field("lifetime", &self.lifetime)
            .field("project", &self.project)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Body {
    token: TokenBody,
}

#[derive(Deserialize)]
struct TokenBody {
    #[serde(default)]
    expires_at: Option<String>,
    #[serde(default)]
    issued_at: Option<String>,
    #[serde(default)]
    catalog: Vec<Service>,
    #[serde(default)]
    project: Option<Named>,
}

#[derive(Deserialize)]
struct Named {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

/// Parses the answer to [`login_request`]. `now_ms` (milliseconds since the
/// epoch, this host's clock) is used only when Keystone gives `expires_at`
/// without `issued_at`. `login` names the attempt in an error.
pub(crate) fn parse_login<B: AsRef<[u8]>>(
    response: &Response<B>,
    login: &str,
    now_ms: i64,
) -> Result<Issued> {
    let status = response.status();
    if !status.is_success() {
        let err = wire::parse_error(response);
        let api = err.api_error().cloned().unwrap_or(ApiError {
            status: status.as_u16(),
            message: String::new(),
            request_id: wire::request_id(response.headers()),
        });
        let verb = match status.as_u16() {
            401 => "refused the",
            _ => "failed the",
        };
        return Err(Error::from_status(ApiError {
            message: format!("Keystone {verb} {login}: {}", api.message),
            ..api
        }));
    }
    let bad =
        |why: String| Error::invalid_response(format!("Keystone's answer to the {login}: {why}"));
    let token = wire::header(response.headers(), "x-subject-token")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| bad("no X-Subject-Token header".into()))?;
    if token.len() > MAX_TOKEN || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad("the X-Subject-Token header is not a token".into()));
    }
    let body: Body = serde_json::from_slice(response.body().as_ref())
        .map_err(|e| bad(format!("not a token document ({e})")))?;
    let t = body.token;
    let time = |field: &str, text: &Option<String>| -> Result<Option<i64>> {
        match text {
            None => Ok(None),
            Some(text) => parse_millis(text)
                .map(Some)
                .ok_or_else(|| bad(format!("{field} {text:?} is not a timestamp"))),
        }
    };
    let expires = time("expires_at", &t.expires_at)?;
    let issued = time("issued_at", &t.issued_at)?;
    let lifetime = expires.map(|e| {
        let from = issued.unwrap_or(now_ms);
        Duration::from_millis(u64::try_from(e.saturating_sub(from)).unwrap_or(0))
    });
    Ok(Issued {
        token: token.to_string(),
        lifetime,
        catalog: t.catalog,
        project: t.project.and_then(|p| p.name.or(p.id)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_json(request: &Request<Vec<u8>>) -> Value {
        serde_json::from_slice(request.body()).unwrap()
    }

    #[test]
    fn token_urls() {
        let t = |u| tokens_url(u).unwrap();
        assert_eq!(t("http://ks:5000/v3"), "http://ks:5000/v3/auth/tokens");
        assert_eq!(t("http://ks:5000/v3/"), "http://ks:5000/v3/auth/tokens");
        assert_eq!(t("http://ks:5000"), "http://ks:5000/v3/auth/tokens");
        assert_eq!(t("https://h/identity"), "https://h/identity/v3/auth/tokens");
        for bad in [
            "",
            "ks:5000",
            "ftp://ks/v3",
            "http://ks:5000/v2.0",
            "http://u:pw@ks/v3",
            "http://ks/v3?x=1",
        ] {
            let err = tokens_url(bad).unwrap_err();
            assert!(matches!(err, Error::Config { .. }), "{bad:?}: {err:?}");
            assert!(!err.to_string().contains("pw@"), "{err}");
        }
    }

    #[test]
    fn password_login_by_names() {
        let login = Login::Password(
            Password::new("u", User::name("demo", Domain::name("Default")), "pw")
                .with_project(Project::name("demo", Domain::id("default"))),
        );
        let request = login_request("http://ks/v3/auth/tokens", &login).unwrap();
        assert_eq!(request.method(), http::Method::POST);
        assert_eq!(
            request.headers()["content-type"],
            "application/json",
            "Keystone needs the content type"
        );
        assert_eq!(
            body_json(&request),
            json!({"auth": {
                "identity": {"methods": ["password"], "password": {"user": {
                    "name": "demo", "domain": {"name": "Default"}, "password": "pw"}}},
                "scope": {"project": {"name": "demo", "domain": {"id": "default"}}}
            }})
        );
    }

    #[test]
    fn password_login_by_ids_and_unscoped() {
        let login = Login::Password(Password::new("u", User::id("u1"), "pw"));
        let request = login_request("http://ks/v3/auth/tokens", &login).unwrap();
        assert_eq!(
            body_json(&request),
            json!({"auth": {"identity": {"methods": ["password"],
                "password": {"user": {"id": "u1", "password": "pw"}}}}})
        );
    }

    #[test]
    fn application_credential_logins() {
        let by_id = Login::ApplicationCredential(ApplicationCredential::new("u", "ac1", "s"));
        let request = login_request("http://ks/v3/auth/tokens", &by_id).unwrap();
        assert_eq!(
            body_json(&request),
            json!({"auth": {"identity": {"methods": ["application_credential"],
                "application_credential": {"id": "ac1", "secret": "s"}}}})
        );
        let by_name = Login::ApplicationCredential(ApplicationCredential::by_name(
            "u",
            "lab",
            User::name("demo", Domain::id("default")),
            "s",
        ));
        let request = login_request("http://ks/v3/auth/tokens", &by_name).unwrap();
        assert_eq!(
            body_json(&request),
            json!({"auth": {"identity": {"methods": ["application_credential"],
                "application_credential": {"name": "lab", "secret": "s",
                    "user": {"name": "demo", "domain": {"id": "default"}}}}}})
        );
    }

    #[test]
    fn empty_parts_are_refused_before_any_request() {
        let cases = [
            Login::Password(Password::new("u", User::id(""), "pw")),
            Login::Password(Password::new("u", User::name("d", Domain::name(" ")), "pw")),
            Login::Password(Password::new("u", User::id("u1"), "")),
            Login::Password(Password::new("u", User::id("u1"), "pw").with_project(Project::id(""))),
            Login::ApplicationCredential(ApplicationCredential::new("u", "", "s")),
            Login::ApplicationCredential(ApplicationCredential::new("u", "id", "")),
        ];
        for login in cases {
            let err = login.check().unwrap_err();
            assert!(
                matches!(err, Error::Config { .. }) && err.to_string().contains("is empty"),
                "{login:?}: {err}"
            );
        }
        assert!(
            Login::Password(Password::new("u", User::id("u1"), "pw"))
                .check()
                .is_ok()
        );
    }

    fn answer(status: u16, token: Option<&str>, body: &str) -> Response<Vec<u8>> {
        let mut b = Response::builder()
            .status(status)
            .header("x-openstack-request-id", "req-ks");
        if let Some(t) = token {
            b = b.header("X-Subject-Token", t);
        }
        b.body(body.as_bytes().to_vec()).unwrap()
    }

    const TOKEN: &str = r#"{"token": {"methods": ["password"],
        "expires_at": "2026-12-02T11:00:14.000000Z", "issued_at": "2026-12-02T10:00:14.000000Z",
        "project": {"id": "p1", "name": "demo", "domain": {"id": "default"}},
        "catalog": [{"type": "image", "name": "glance", "endpoints": [
            {"interface": "public", "region_id": "R1", "region": "R1", "url": "http://g:9292"}]}]}}"#;

    #[test]
    fn a_token_answer_gives_token_lifetime_and_catalog() {
        let issued = parse_login(&answer(201, Some("gAAAA-tok"), TOKEN), "login", 0).unwrap();
        assert_eq!(issued.token, "gAAAA-tok");
        assert_eq!(issued.lifetime, Some(Duration::from_secs(3600)));
        assert_eq!(issued.project.as_deref(), Some("demo"));
        assert_eq!(issued.catalog.len(), 1);
        assert_eq!(issued.catalog[0].endpoints[0].url, "http://g:9292");
        assert!(!format!("{issued:?}").contains("gAAAA"));
    }

    #[test]
    fn without_issued_at_the_lifetime_counts_from_now() {
        let body = r#"{"token": {"expires_at": "1970-01-01T00:01:40Z"}}"#;
        let issued = parse_login(&answer(201, Some("t"), body), "login", 40_000).unwrap();
        assert_eq!(issued.lifetime, Some(Duration::from_secs(60)));
        assert!(issued.catalog.is_empty());
        let issued = parse_login(&answer(201, Some("t"), body), "login", 500_000).unwrap();
        assert_eq!(issued.lifetime, Some(Duration::ZERO), "already expired");
        let body = r#"{"token": {}}"#;
        let issued = parse_login(&answer(201, Some("t"), body), "login", 0).unwrap();
        assert_eq!(issued.lifetime, None, "no expiry given");
    }

    #[test]
    fn a_refused_login_is_unauthorized_and_says_which_login() {
        let body = r#"{"error": {"code": 401, "message": "The request you have made requires authentication.", "title": "Unauthorized"}}"#;
        let err = parse_login(
            &answer(401, None, body),
            "password login of user demo (domain Default)",
            0,
        )
        .unwrap_err();
        let Error::Unauthorized(api) = &err else {
            panic!("expected Unauthorized, got {err:?}")
        };
        assert_eq!(
            api.message,
            "Keystone refused the password login of user demo (domain Default): \
             The request you have made requires authentication."
        );
        assert_eq!(api.request_id.as_deref(), Some("req-ks"));
        let err = parse_login(&answer(400, None, "{}"), "login", 0).unwrap_err();
        assert!(matches!(err, Error::BadRequest(_)), "{err:?}");
    }

    #[test]
    fn malformed_answers_are_invalid_responses() {
        for (token, body) in [
            (None, TOKEN),
            (Some(""), TOKEN),
            (Some("t"), "not json"),
            (Some("t"), r#"{"token": {"expires_at": "soon"}}"#),
            (Some("t"), r#"{"token": {"catalog": {}}}"#),
        ] {
            let err = parse_login(&answer(201, token, body), "login", 0).unwrap_err();
            assert!(
                matches!(err, Error::InvalidResponse(_)),
                "{token:?} {body}: {err:?}"
            );
        }
    }
}
