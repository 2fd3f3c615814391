//! Who the client is: [`Auth`], and the Keystone (identity API v3) logins
//! of [`Auth::Password`] and [`Auth::ApplicationCredential`].
//!
//! With either, the client logs in with `POST /v3/auth/tokens` when it first
//! needs a token (not in [`Client::new`](crate::Client::new)), sends the
//! token from `X-Subject-Token` as `X-Auth-Token`, and logs in again shortly
//! before the token's `expires_at` (two minutes before, or halfway through a
//! shorter lifetime, measured on this host's monotonic clock, so clock skew
//! between the hosts does not matter). When the image API answers 401 anyway
//! (the token was revoked), the client logs in once more and repeats that
//! request once. All clones of a [`Client`](crate::Client) share one token,
//! and one login at a time renews it (a password login costs the server a
//! bcrypt hash, about 0.3 s), without holding a lock across the network: a
//! request whose token is still valid (only due for renewal) goes on with
//! it; threads wait only when no valid token exists, each within its own
//! call's cancel handle and deadline, and a failed login is the error of
//! every thread that waited for it, at once. The login carries the calling
//! request's global request id, if any.
//!
//! When neither `api_servers` nor `endpoint_override` is configured, the
//! image API's URL comes from the token's service catalog: service type
//! `image`, the first of [`Config::valid_interfaces`](crate::Config::valid_interfaces)
//! that has an endpoint (in [`Config::region_name`](crate::Config::region_name)
//! when set), its version suffix (`/v2`) removed.
//!
//! Keystone requests use the client's TLS, proxy and timeout settings, and
//! are retried like image API reads (`num_retries`, `retry_delay`) after a
//! connection failure or a 502/503/504. Passwords, secrets and tokens appear
//! in no log line, error message or `Debug` output.
//!
//! ```no_run
//! use glance_client::auth::{Domain, Password, Project, User};
//! use glance_client::{Auth, Client, Config};
//!
//! let login = Password::new(
//!     "https://keystone.example:5000/v3",
//!     User::name("nova", Domain::name("Default")),
//!     "secret",
//! )
//! .with_project(Project::name("service", Domain::name("Default")));
//! let client = Client::new(Config { auth: Auth::Password(login), ..Config::default() })?;
//! let image = client.image("8a1c0c3e-2f08-4d5c-9a59-1d6a3b6a8f5e")?;
//! # Ok::<(), glance_client::Error>(())
//! ```

mod catalog;
mod env;
mod login;
mod session;

use std::fmt;

pub(crate) use catalog::{DEFAULT_INTERFACES, Wanted, select_endpoint, select_service_endpoint};
pub(crate) use env::auth_from_vars;
pub(crate) use login::{Login, login_request, parse_login, tokens_url};
pub(crate) use session::{Held, Session};

/// How requests are authenticated.
///
/// `Debug` never shows a secret.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Auth {
    /// No authentication header (a Glance with `noauth`, or behind a proxy that adds it).
    #[default]
    None,
    /// A Keystone token, sent as `X-Auth-Token` on every request. It is
    /// used as given: when it expires or is revoked, requests fail with
    /// [`Error::Unauthorized`](crate::Error::Unauthorized).
    Token(String),
    /// A Keystone v3 password login; the client logs in itself, renews the
    /// token and can find the image API in the catalog (see the [`auth`](crate::auth) module).
    Password(Password),
    /// A Keystone v3 application credential login (see the [`auth`](crate::auth) module).
    ApplicationCredential(ApplicationCredential),
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Token(_) => f.write_str("Token(<redacted>)"),
            Auth::Password(p) => f.debug_tuple("Password").field(p).finish(),
            Auth::ApplicationCredential(a) => {
                f.debug_tuple("ApplicationCredential").field(a).finish()
            }
        }
    }
}

/// A Keystone domain, by id or by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Domain {
    /// The domain's id, e.g. `default`.
    Id(String),
    /// The domain's name, e.g. `Default`.
    Name(String),
}

impl Domain {
    /// A domain by id.
    pub fn id(id: impl Into<String>) -> Domain {
        Domain::Id(id.into())
    }

    /// A domain by name.
    pub fn name(name: impl Into<String>) -> Domain {
        Domain::Name(name.into())
    }
}

/// A Keystone user: by id, or by name within a domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum User {
    /// The user's id (unique across domains).
    Id(String),
    /// The user's name and the domain it belongs to.
    Name {
        /// The user name.
        name: String,
        /// The user's domain.
        domain: Domain,
    },
}

impl User {
    /// A user by id.
    pub fn id(id: impl Into<String>) -> User {
        User::Id(id.into())
    }

    /// A user by name within `domain`.
    pub fn name(name: impl Into<String>, domain: Domain) -> User {
        User::Name {
            name: name.into(),
            domain,
        }
    }
}

/// A Keystone project: by id, or by name within a domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Project {
    /// The project's id (unique across domains).
    Id(String),
    /// The project's name and the domain it belongs to.
    Name {
        /// The project name.
        name: String,
        /// The project's domain.
        domain: Domain,
    },
}

impl Project {
    /// A project by id.
    pub fn id(id: impl Into<String>) -> Project {
        Project::Id(id.into())
    }

    /// A project by name within `domain`.
    pub fn name(name: impl Into<String>, domain: Domain) -> Project {
        Project::Name {
            name: name.into(),
            domain,
        }
    }
}

/// A Keystone v3 password login (`"methods": ["password"]`).
///
/// `Debug` shows everything but the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Password {
    /// The identity API, e.g. `https://keystone.example:5000/v3`; a URL
    /// without a version gets `/v3` (`http://h:5000` means `http://h:5000/v3`).
    pub auth_url: String,
    /// Who logs in.
    pub user: User,
    /// The user's password.
    pub password: String,
    /// The project the token is scoped to; `None` lets Keystone use the
    /// user's default project (without one, the token has no catalog and
    /// Glance refuses it).
    pub project: Option<Project>,
}

impl Password {
    /// A login of `user` with `password`, not scoped to a named project.
    pub fn new(auth_url: impl Into<String>, user: User, password: impl Into<String>) -> Password {
        Password {
            auth_url: auth_url.into(),
            user,
            password: password.into(),
            project: None,
        }
    }

    /// The same login, scoped to `project`.
    pub fn with_project(self, project: Project) -> Password {
        Password {
            project: Some(project),
            ..self
        }
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Password")
            .field("auth_url", &self.auth_url)
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .field("project", &self.project)
            .finish()
    }
}

/// Which application credential: by id, or by name with its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// The application credential's id.
    Id(String),
    /// Its name, which is unique per user, and the user owning it.
    Name {
        /// The application credential's name.
        name: String,
        /// The user it belongs to.
        user: User,
    },
}

/// A Keystone v3 application credential login
/// (`"methods": ["application_credential"]`). The token is scoped to the
/// project the credential was made in.
///
/// `Debug` shows everything but the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct ApplicationCredential {
    /// The identity API, as in [`Password::auth_url`].
    pub auth_url: String,
    /// Which credential.
    pub credential: Credential,
    /// Its secret.
    pub secret: String,
}

impl ApplicationCredential {
    /// A login with the application credential `id` and its `secret`.
    pub fn new(
        auth_url: impl Into<String>,
        id: impl Into<String>,
        secret: impl Into<String>,
    ) -> ApplicationCredential {
        ApplicationCredential {
            auth_url: auth_url.into(),
            credential: Credential::Id(id.into()),
            secret: secret.into(),
        }
    }

    /// A login with the application credential `name` of `user`, and its `secret`.
    pub fn by_name(
        auth_url: impl Into<String>,
        name: impl Into<String>,
        user: User,
        secret: impl Into<String>,
    ) -> ApplicationCredential {
        ApplicationCredential {
            auth_url: auth_url.into(),
            credential: Credential::Name {
                name: name.into(),
                user,
            },
            secret: secret.into(),
        }
    }
}

impl fmt::Debug for ApplicationCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApplicationCredential")
            .field("auth_url", &self.auth_url)
            .field("credential", &self.credential)
            .field("secret", &"<redacted>")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_a_password_or_secret() {
        let password = Password::new(
            "http://127.0.0.1:5000/v3",
            User::name("demo", Domain::name("Default")),
            "pw-s3cr3t",
        )
        .with_project(Project::id("p1"));
        let shown = format!("{password:?}");
        assert!(!shown.contains("pw-s3cr3t"), "{shown}");
        assert!(
            shown.contains("demo") && shown.contains("redacted"),
            "{shown}"
        );
        let cred = ApplicationCredential::new("http://127.0.0.1:5000", "ac-id", "ac-s3cr3t");
        let shown = format!("{cred:?}");
        assert!(!shown.contains("ac-s3cr3t"), "{shown}");
        assert!(
            shown.contains("ac-id") && shown.contains("redacted"),
            "{shown}"
        );
    }
}
