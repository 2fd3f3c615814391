//! Authentication from keystoneauth's option names, the same for the
//! `OS_*` environment (`OS_AUTH_URL` is option `auth_url`) and for Nova's
//! `[glance]` section.

use super::{ApplicationCredential, Auth, Credential, Domain, Password, Project, User};
use crate::error::{Error, Result};

/// Builds the authentication the options describe.
///
/// - `get(option)` gives an option's value (empty or blank counts as unset);
///   `label(option)` names it in errors (`OS_AUTH_URL`, `[glance] auth_url`).
/// - `auth_type` chooses: `password`/`v3password`,
///   `v3applicationcredential`/`applicationcredential`, `token`/`v3token`/
///   `admin_token` (a given token), `none`/`noauth`. Without it, and with
///   `infer`, a set `token` means a token, a set application credential id
///   or name an application credential, a set `password` (or user) a
///   password login; otherwise (or without `infer`) `Ok(None)`: nothing to
///   change.
/// - A user or project by name without its domain is in the domain
///   `default_domain_id` / `default_domain_name`, else in the domain with id
///   `default` (as the `openstack` command assumes).
pub(crate) fn auth_from_vars(
    get: &dyn Fn(&str) -> Option<String>,
    label: &dyn Fn(&str) -> String,
    infer: bool,
) -> Result<Option<Auth>> {
    let value = |option: &str| {
        get(option)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let kind = match value("auth_type") {
        Some(t) => match t.to_ascii_lowercase().replace('-', "_").as_str() {
            "password" | "v3password" => Kind::Password,
            "v3applicationcredential" | "applicationcredential" | "v3_application_credential" => {
                Kind::ApplicationCredential
            }
            "token" | "v3token" | "admin_token" => Kind::Token,
            "none" | "noauth" => return Ok(Some(Auth::None)),
            _ => {
                return Err(config(format!(
                    "{} = {t:?} is not supported: expected password, v3password, \
                     v3applicationcredential, token or none",
                    label("auth_type")
                )));
            }
        },
        None if !infer => return Ok(None),
        None if value("token").is_some() => Kind::Token,
        None if value("application_credential_id").is_some()
            || value("application_credential_name").is_some() =>
        {
            Kind::ApplicationCredential
        }
        None if ["password", "username", "user_id"]
            .iter()
            .any(|o| value(o).is_some()) =>
        {
            Kind::Password
        }
        None => return Ok(None),
    };
    // Passwords and secrets are used as given: spaces may be part of them.
    let secret = |option: &str| get(option).filter(|v| !v.is_empty());
    let needed =
        |option: &str, why: &str| config(format!("{} is not set: {why} needs it", label(option)));
    let default_domain = || {
        value("default_domain_id")
            .map(Domain::Id)
            .or_else(|| value("default_domain_name").map(Domain::Name))
            .unwrap_or_else(|| Domain::id("default"))
    };
    let domain = |prefix: &str| {
        value(&format!("{prefix}_domain_id"))
            .map(Domain::Id)
            .or_else(|| value(&format!("{prefix}_domain_name")).map(Domain::Name))
            .unwrap_or_else(default_domain)
    };
    let user = |why: &str| -> Result<User> {
        match (value("user_id"), value("username")) {
            (Some(id), _) => Ok(User::Id(id)),
            (None, Some(name)) => Ok(User::name(name, domain("user"))),
            (None, None) => Err(config(format!(
                "neither {} nor {} is set: {why} needs the user",
                label("username"),
                label("user_id")
            ))),
        }
    };
    let auth_url = |why: &str| value("auth_url").ok_or_else(|| needed("auth_url", why));
    Ok(Some(match kind {
        Kind::Token => {
            Auth::Token(secret("token").ok_or_else(|| needed("token", "token authentication"))?)
        }
        Kind::Password => {
            let why = "a Keystone password login";
            let project = match (
                value("project_id").or_else(|| value("tenant_id")),
                value("project_name").or_else(|| value("tenant_name")),
            ) {
                (Some(id), _) => Some(Project::Id(id)),
                (None, Some(name)) => Some(Project::name(name, domain("project"))),
                (None, None) => None,
            };
            Auth::Password(Password {
                auth_url: auth_url(why)?,
                user: user(why)?,
                password: secret("password").ok_or_else(|| needed("password", why))?,
                project,
            })
        }
        Kind::ApplicationCredential => {
            let why = "an application credential login";
            let credential = match (
                value("application_credential_id"),
                value("application_credential_name"),
            ) {
                (Some(id), _) => Credential::Id(id),
                (None, Some(name)) => Credential::Name {
                    name,
                    user: user("an application credential given by name")?,
                },
                (None, None) => {
                    return Err(config(format!(
                        "neither {} nor {} is set: {why} needs one",
                        label("application_credential_id"),
                        label("application_credential_name")
                    )));
                }
            };
            Auth::ApplicationCredential(ApplicationCredential {
                auth_url: auth_url(why)?,
                credential,
                secret: secret("application_credential_secret")
                    .ok_or_else(|| needed("application_credential_secret", why))?,
            })
        }
    }))
}

enum Kind {
    Token,
    Password,
    ApplicationCredential,
}

fn config(message: String) -> Error {
    Error::Config {
        file: None,
        line: None,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn read(pairs: &[(&str, &str)], infer: bool) -> Result<Option<Auth>> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        auth_from_vars(
            &|o| map.get(o).cloned(),
            &|o| format!("OS_{}", o.to_ascii_uppercase()),
            infer,
        )
    }

    #[test]
    fn a_password_login_by_names() {
        let auth = read(
            &[
                ("auth_url", "http://ks:5000/v3"),
                ("username", "demo"),
                ("password", " pw with spaces "),
                ("project_name", "demo"),
                ("user_domain_name", "Default"),
                ("project_domain_id", "default"),
            ],
            true,
        )
        .unwrap();
        let expected = Password::new(
            "http://ks:5000/v3",
            User::name("demo", Domain::name("Default")),
            " pw with spaces ",
        )
        .with_project(Project::name("demo", Domain::id("default")));
        assert_eq!(auth, Some(Auth::Password(expected)));
    }

    #[test]
    fn ids_win_over_names_and_domains_default() {
        let auth = read(
            &[
                ("auth_url", "http://ks"),
                ("user_id", "u1"),
                ("username", "ignored"),
                ("password", "pw"),
                ("project_id", "p1"),
                ("project_name", "ignored"),
            ],
            true,
        )
        .unwrap();
        let expected =
            Password::new("http://ks", User::id("u1"), "pw").with_project(Project::id("p1"));
        assert_eq!(auth, Some(Auth::Password(expected)));
        let auth = read(
            &[
                ("auth_url", "http://ks"),
                ("username", "demo"),
                ("password", "pw"),
                ("tenant_name", "old"),
                ("default_domain_name", "Lab"),
            ],
            true,
        )
        .unwrap();
        let expected = Password::new("http://ks", User::name("demo", Domain::name("Lab")), "pw")
            .with_project(Project::name("old", Domain::name("Lab")));
        assert_eq!(auth, Some(Auth::Password(expected)));
        let auth = read(
            &[
                ("auth_url", "http://ks"),
                ("username", "demo"),
                ("password", "pw"),
            ],
            true,
        )
        .unwrap();
        let expected = Password::new("http://ks", User::name("demo", Domain::id("default")), "pw");
        assert_eq!(auth, Some(Auth::Password(expected)));
    }

    #[test]
    fn application_credentials_by_id_or_name() {
        let auth = read(
            &[
                ("auth_url", "http://ks"),
                ("application_credential_id", "ac1"),
                ("application_credential_secret", "s"),
                ("password", "not used"),
            ],
            true,
        )
        .unwrap();
        assert_eq!(
            auth,
            Some(Auth::ApplicationCredential(ApplicationCredential::new(
                "http://ks",
                "ac1",
                "s"
            )))
        );
        let auth = read(
            &[
                ("auth_type", "v3applicationcredential"),
                ("auth_url", "http://ks"),
                ("application_credential_name", "lab"),
                ("username", "demo"),
                ("user_domain_name", "Default"),
                ("application_credential_secret", "s"),
            ],
            true,
        )
        .unwrap();
        assert_eq!(
            auth,
            Some(Auth::ApplicationCredential(ApplicationCredential::by_name(
                "http://ks",
                "lab",
                User::name("demo", Domain::name("Default")),
                "s"
            )))
        );
    }

    #[test]
    fn a_token_wins_unless_auth_type_says_otherwise() {
        let pairs = [
            ("token", "tok"),
            ("auth_url", "http://ks"),
            ("username", "demo"),
            ("password", "pw"),
        ];
        assert_eq!(read(&pairs, true).unwrap(), Some(Auth::Token("tok".into())));
        let mut typed = pairs.to_vec();
        typed.push(("auth_type", "password"));
        assert!(matches!(
            read(&typed, true).unwrap(),
            Some(Auth::Password(_))
        ));
        assert_eq!(
            read(&[("auth_type", "none"), ("token", "t")], true).unwrap(),
            Some(Auth::None)
        );
    }

    #[test]
    fn nothing_set_changes_nothing() {
        assert_eq!(read(&[], true).unwrap(), None);
        assert_eq!(
            read(&[("region_name", "R1"), ("username", " ")], true).unwrap(),
            None
        );
        assert_eq!(
            read(&[("username", "demo"), ("password", "pw")], false).unwrap(),
            None,
            "without inference, only auth_type chooses"
        );
    }

    #[test]
    fn missing_parts_are_named_without_secrets() {
        let cases: [(&[(&str, &str)], &str); 6] = [
            (
                &[("username", "demo"), ("password", "pw-s3cr3t")],
                "OS_AUTH_URL is not set",
            ),
            (
                &[("auth_url", "http://ks"), ("password", "pw-s3cr3t")],
                "OS_USERNAME nor OS_USER_ID",
            ),
            (
                &[("auth_url", "http://ks"), ("username", "demo")],
                "OS_PASSWORD is not set",
            ),
            (
                &[
                    ("auth_url", "http://ks"),
                    ("application_credential_id", "a"),
                ],
                "OS_APPLICATION_CREDENTIAL_SECRET is not set",
            ),
            (
                &[
                    ("auth_type", "v3applicationcredential"),
                    ("auth_url", "http://ks"),
                ],
                "neither OS_APPLICATION_CREDENTIAL_ID nor OS_APPLICATION_CREDENTIAL_NAME",
            ),
            (
                &[("auth_type", "kerberos")],
                "OS_AUTH_TYPE = \"kerberos\" is not supported",
            ),
        ];
        for (pairs, expected) in cases {
            let err = read(pairs, true).unwrap_err();
            let text = err.to_string();
            assert!(matches!(err, Error::Config { .. }), "{pairs:?}: {err:?}");
            assert!(text.contains(expected), "{pairs:?}: {text}");
            assert!(!text.contains("s3cr3t"), "{text}");
        }
    }
}
