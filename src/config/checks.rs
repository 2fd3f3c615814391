//! Settings a client refuses: what this crate does not do yet, so that no
//! security setting is a silent no-op.

use super::Config;
use super::values::Reader;
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

#[cfg(test)]
mod tests {
    use super::*;

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
