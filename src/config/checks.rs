//! Settings a client refuses: what this crate does not do yet (so that no
//! security setting is a silent no-op), and identity values that would
//! send a malformed header.

use super::Config;
use super::values::Reader;
use crate::call::check_request_id;
use crate::error::{Error, Result};

/// The options asking for image signature verification, which this crate
/// does not do yet. Lift this (and [`refuse_unsupported`]) when it does.
const SIGNATURE_OPTIONS: &str = "image signature verification";

/// nova.conf's options asking for what this crate does not do: `[glance]
/// verify_glance_signatures = True`, `enable_certificate_validation =
/// True` and a non-empty `default_trusted_certificate_ids`. Each is an
/// error naming the option, its file and line.
pub(super) fn refuse_unsupported_options(r: &mut Reader<'_>) -> Result<()> {
    for key in [
        "verify_glance_signatures",
        "enable_certificate_validation",
        "default_trusted_certificate_ids",
    ] {
        let Some(v) = r.get("glance", key)? else {
            continue;
        };
        let asks = match key {
            "default_trusted_certificate_ids" => !v.list().is_empty(),
            _ => v.boolean()?,
        };
        if asks {
            return Err(v.at.error(format!(
                "{} = {:?} asks for {SIGNATURE_OPTIONS}, which this client does not do: \
                 remove it (or set it to False) to use this client, knowing that images \
                 are not signature-checked",
                v.label(),
                v.text.trim()
            )));
        }
    }
    Ok(())
}

/// A [`Config`] built in code that asks for what this crate does not do
/// ([`Config::verify_glance_signatures`]) is refused at `Client::new`.
pub(crate) fn refuse_unsupported(config: &Config) -> Result<()> {
    if config.verify_glance_signatures {
        return Err(Error::Config {
            file: None,
            line: None,
            message: format!(
                "verify_glance_signatures is true, but this client does not do \
                 {SIGNATURE_OPTIONS}: set it to false to use this client, knowing that \
                 images are not signature-checked"
            ),
        });
    }
    Ok(())
}

/// Checks [`Config::user_agent_prefix`] (printable ASCII, so a valid
/// header) and [`Config::global_request_id`] (`req-` and a lowercase UUID).
pub(crate) fn check_identity(config: &Config) -> Result<()> {
    let error = |message: String| Error::Config {
        file: None,
        line: None,
        message,
    };
    if let Some(prefix) = &config.user_agent_prefix
        && (prefix.trim().is_empty() || !prefix.bytes().all(|b| (b' '..=b'~').contains(&b)))
    {
        return Err(error(format!(
            "user_agent_prefix {prefix:?}: expected product tokens in printable ASCII, \
             e.g. \"my-agent/1.2\""
        )));
    }
    if let Some(id) = &config.global_request_id {
        check_request_id(id).map_err(|why| error(format!("global_request_id {why}")))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_values_must_make_valid_headers() {
        let config = |prefix: &str, id: &str| Config {
            user_agent_prefix: Some(prefix.into()),
            global_request_id: Some(id.into()),
            ..Config::default()
        };
        let id = "req-4a1c7f2e-9a43-4d0b-8a55-2f3c9e1b7d60";
        assert!(check_identity(&config("my-agent/1.2 (linux)", id)).is_ok());
        let e = check_identity(&config("agent\r\nX-Evil: 1", id)).unwrap_err();
        assert!(e.to_string().contains("user_agent_prefix"), "{e}");
        let e = check_identity(&config(" ", id)).unwrap_err();
        assert!(e.to_string().contains("user_agent_prefix"), "{e}");
        let e = check_identity(&config("a/1", "req-1")).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("configuration: global_request_id \"req-1\" is not"),
            "{e}"
        );
    }

    #[test]
    fn a_config_asking_for_signature_checks_is_refused() {
        assert!(refuse_unsupported(&Config::default()).is_ok());
        let e = refuse_unsupported(&Config {
            verify_glance_signatures: true,
            ..Config::default()
        })
        .unwrap_err();
        assert!(e.to_string().contains("verify_glance_signatures"), "{e}");
    }
}
