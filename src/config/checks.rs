//! Settings a client refuses: what this build does not do (so that no
//! security setting is a silent no-op), and identity values that would
//! send a malformed header.

use super::Config;
use super::values::Reader;
use crate::call::check_request_id;
use crate::error::{Error, Result};

/// What this build lacks when the three signature options are refused.
#[cfg_attr(feature = "signatures", allow(dead_code))]
const NEEDS_FEATURE: &str = "image signature verification, which needs glance-client \
    built with its cargo feature `signatures`";

/// nova.conf's options asking for what this build does not do: without the
/// `signatures` feature, `[glance] verify_glance_signatures = True`,
/// `enable_certificate_validation = True` and a non-empty
/// `default_trusted_certificate_ids`. Each is an error naming the option,
/// its file and line. With the feature they are read (see `nova.rs`).
pub(super) fn refuse_unsupported_options(r: &mut Reader<'_>) -> Result<()> {
    if cfg!(feature = "signatures") {
        return Ok(());
    }
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
                "{} = {:?} asks for {NEEDS_FEATURE}: remove it (or set it to False) to use \
                 this build, knowing that images are not signature-checked",
                v.label(),
                v.text.trim()
            )));
        }
    }
    Ok(())
}

/// A [`Config`] built in code that asks for what this build does not do
/// (without the `signatures` feature: [`Config::verify_glance_signatures`],
/// [`Config::enable_certificate_validation`] or
/// [`Config::default_trusted_certificate_ids`]) is refused at `Client::new`.
pub(crate) fn refuse_unsupported(config: &Config) -> Result<()> {
    if cfg!(feature = "signatures") {
        return Ok(());
    }
    let asking = [
        (
            "verify_glance_signatures is true",
            config.verify_glance_signatures,
        ),
        (
            "enable_certificate_validation is true",
            config.enable_certificate_validation,
        ),
        (
            "default_trusted_certificate_ids is not empty",
            !config.default_trusted_certificate_ids.is_empty(),
        ),
    ];
    match asking.iter().find(|(_, asks)| *asks) {
        Some((what, _)) => Err(Error::Config {
            file: None,
            line: None,
            message: format!(
                "{what}, asking for {NEEDS_FEATURE}: unset it to use this build, knowing \
                 that images are not signature-checked"
            ),
        }),
        None => Ok(()),
    }
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
    fn a_config_asking_for_signature_checks_needs_the_feature() {
        assert!(refuse_unsupported(&Config::default()).is_ok());
        let asking = [
            Config {
                verify_glance_signatures: true,
                ..Config::default()
            },
            Config {
                enable_certificate_validation: true,
                ..Config::default()
            },
            Config {
                default_trusted_certificate_ids: vec!["x".into()],
                ..Config::default()
            },
        ];
        for (config, name) in asking.iter().zip([
            "verify_glance_signatures",
            "enable_certificate_validation",
            "default_trusted_certificate_ids",
        ]) {
            match refuse_unsupported(config) {
                Err(e) if cfg!(not(feature = "signatures")) => {
                    let text = e.to_string();
                    assert!(
                        text.contains(name) && text.contains("`signatures`"),
                        "{text}"
                    );
                }
                Ok(()) if cfg!(feature = "signatures") => {}
                other => panic!("{name}: {other:?}"),
            }
        }
    }
}
