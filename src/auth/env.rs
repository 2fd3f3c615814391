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
    let options = Options { get, label };
    Ok(Some(match options.kind(infer)? {
        None => return Ok(None),
        Some(Kind::None) => Auth::None,
        Some(Kind::Token) => Auth::Token(
            options
                .secret("token")
                .ok_or_else(|| options.needed("token", "token authentication"))?,
        ),
        Some(Kind::Password) => options.password()?,
        Some(Kind::ApplicationCredential) => options.application_credential()?,
    }))
}

enum Kind {
    None,
    Token,
    Password,
    ApplicationCredential,
}

/// The options, read through `get` and named in errors by `label`.
struct Options<'a> {
    get: &'a dyn Fn(&str) -> Option<String>,
    label: &'a dyn Fn(&str) -> String,
}

impl Options<'_> {
    /// An option's value, trimmed; empty or blank counts as unset.
    fn value(&self, option: &str) -> Option<String> {
        (self.get)(option)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    /// A password or secret, used as given: spaces may be part of it.
    fn secret(&self, option: &str) -> Option<String> {
        (self.get)(option).filter(|v| !v.is_empty())
    }

    fn needed(&self, option: &str, why: &str) -> Error {
        config(format!(
            "{} is not set: {why} needs it",
            (self.label)(option)
        ))
    }

    /// Which authentication the options choose (see [`auth_from_vars`]).
    fn kind(&self, infer: bool) -> Result<Option<Kind>> {
        let Some(t) = self.value("auth_type") else {
            if !infer {
                return Ok(None);
            }
            let set = |options: &[&str]| options.iter().any(|o| self.value(o).is_some());
            return Ok(if set(&["token"]) {
                Some(Kind::Token)
            } else if set(&["application_credential_id", "application_credential_name"]) {
                Some(Kind::ApplicationCredential)
            } else if set(&["password", "username", "user_id"]) {
                Some(Kind::Password)
            } else {
                None
            });
        };
        Ok(Some(
            match t.to_ascii_lowercase().replace('-', "_").as_str() {
                "password" | "v3password" => Kind::Password,
                "v3applicationcredential"
                | "applicationcredential"
                | "v3_application_credential" => Kind::ApplicationCredential,
                "token" | "v3token" | "admin_token" => Kind::Token,
                "none" | "noauth" => Kind::None,
                _ => {
                    return Err(config(format!(
                        "{} = {t:?} is not supported: expected password, v3password, \
                     v3applicationcredential, token or none",
                        (self.label)("auth_type")
                    )));
                }
            },
        ))
    }

    /// `{prefix}_domain_id` or `_name`, else the default domain:
    /// `default_domain_id` or `_name`, else the domain with id `default`.
    fn domain(&self, prefix: &str) -> Domain {
        self.value(&format!("{prefix}_domain_id"))
            .map(Domain::Id)
            .or_else(|| {
                self.value(&format!("{prefix}_domain_name"))
                    .map(Domain::Name)
            })
            .or_else(|| self.value("default_domain_id").map(Domain::Id))
            .or_else(|| self.value("default_domain_name").map(Domain::Name))
            .unwrap_or_else(|| Domain::id("default"))
    }

    fn user(&self, why: &str) -> Result<User> {
        match (self.value("user_id"), self.value("username")) {
            (Some(id), _) => Ok(User::Id(id)),
            (None, Some(name)) => Ok(User::name(name, self.domain("user"))),
            (None, None) => Err(config(format!(
                "neither {} nor {} is set: {why} needs the user",
                (self.label)("username"),
                (self.label)("user_id")
            ))),
        }
    }

    fn auth_url(&self, why: &str) -> Result<String> {
        self.value("auth_url")
            .ok_or_else(|| self.needed("auth_url", why))
    }

    fn password(&self) -> Result<Auth> {
        let why = "a Keystone password login";
        let project = match (
            self.value("project_id").or_else(|| self.value("tenant_id")),
            self.value("project_name")
                .or_else(|| self.value("tenant_name")),
        ) {
            (Some(id), _) => Some(Project::Id(id)),
            (None, Some(name)) => Some(Project::name(name, self.domain("project"))),
            (None, None) => None,
        };
        Ok(Auth::Password(Password {
            auth_url: self.auth_url(why)?,
            user: self.user(why)?,
            password: self
                .secret("password")
                .ok_or_else(|| self.needed("password", why))?,
            project,
        }))
    }

    fn application_credential(&self) -> Result<Auth> {
        let why = "an application credential login";
        let credential = match (
            self.value("application_credential_id"),
            self.value("application_credential_name"),
        ) {
            (Some(id), _) => Credential::Id(id),
            (None, Some(name)) => Credential::Name {
                name,
                user: self.user("an application credential given by name")?,
            },
            (None, None) => {
                return Err(config(format!(
                    "neither {} nor {} is set: {why} needs one",
                    (self.label)("application_credential_id"),
                    (self.label)("application_credential_name")
                )));
            }
        };
        Ok(Auth::ApplicationCredential(ApplicationCredential {
            auth_url: self.auth_url(why)?,
            credential,
            secret: self
                .secret("application_credential_secret")
                .ok_or_else(|| self.needed("application_credential_secret", why))?,
        }))
    }
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
