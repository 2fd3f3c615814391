//! Barbican's two requests for a certificate, sans-IO, as castellan makes
//! them (checked against Barbican 23): `GET /v1/secrets/{uuid}` for the
//! secret's metadata, which must say `"secret_type": "certificate"`, then
//! `GET /v1/secrets/{uuid}/payload` with the payload's content type as
//! `Accept`, whose body is the certificate as it was stored. The paths are
//! relative to the key manager's base URL (without `/v1`).

use http::{Request, Response, header};
use serde::Deserialize;

use super::SignatureError;
use super::source::is_uuid;

/// The metadata fields this crate reads.
#[derive(Debug, Deserialize)]
struct Secret {
    #[serde(default)]
    secret_type: Option<String>,
    #[serde(default)]
    content_types: Option<ContentTypes>,
}

#[derive(Debug, Deserialize)]
struct ContentTypes {
    #[serde(default)]
    default: Option<String>,
}

/// `GET /v1/secrets/{uuid}` with `Accept: application/json`.
///
/// # Errors
/// [`SignatureError::InvalidCertificateUuid`] when `uuid` is not a UUID (so
/// nothing else can reach the path).
pub(crate) fn secret_request(uuid: &str) -> Result<Request<Vec<u8>>, SignatureError> {
    get(uuid, "", "application/json")
}

/// The payload's content type, from the answer to [`secret_request`].
///
/// # Errors
/// [`SignatureError::CertificateNotFound`] for a 404;
/// [`SignatureError::CertificateUnreadable`] for a secret that is not a
/// certificate (as cursive refuses it: "Invalid certificate format") or has
/// no payload; [`SignatureError::CertificateUnavailable`] for any other
/// answer.
pub(crate) fn parse_secret(
    uuid: &str,
    response: &Response<Vec<u8>>,
) -> Result<String, SignatureError> {
    let body = ok_body(uuid, "", response)?;
    let secret: Secret =
        serde_json::from_slice(body).map_err(|e| SignatureError::CertificateUnavailable {
            uuid: uuid.to_string(),
            reason: format!("Barbican's secret metadata is not JSON: {e}"),
        })?;
    match secret.secret_type.as_deref() {
        Some("certificate") => {}
        other => {
            return Err(SignatureError::CertificateUnreadable(format!(
                "Barbican secret {uuid} is of type {}, not certificate",
                other.unwrap_or("(none)")
            )));
        }
    }
    secret
        .content_types
        .and_then(|c| c.default)
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| {
            SignatureError::CertificateUnreadable(format!("Barbican secret {uuid} has no payload"))
        })
}

/// `GET /v1/secrets/{uuid}/payload` with `Accept: content_type`.
///
/// # Errors
/// As [`secret_request`]; a content type that cannot be a header value is
/// [`SignatureError::CertificateUnavailable`].
pub(crate) fn payload_request(
    uuid: &str,
    content_type: &str,
) -> Result<Request<Vec<u8>>, SignatureError> {
    get(uuid, "/payload", content_type)
}

/// The certificate's bytes, from the answer to [`payload_request`].
///
/// # Errors
/// As [`parse_secret`] for the status.
pub(crate) fn parse_payload(
    uuid: &str,
    response: &Response<Vec<u8>>,
) -> Result<Vec<u8>, SignatureError> {
    ok_body(uuid, "/payload", response).map(<[u8]>::to_vec)
}

fn get(uuid: &str, tail: &str, accept: &str) -> Result<Request<Vec<u8>>, SignatureError> {
    if !is_uuid(uuid) {
        return Err(SignatureError::InvalidCertificateUuid(uuid.to_string()));
    }
    Request::get(format!("/v1/secrets/{uuid}{tail}"))
        .header(header::ACCEPT, accept)
        .body(Vec::new())
        .map_err(|e| SignatureError::CertificateUnavailable {
            uuid: uuid.to_string(),
            reason: format!("cannot build the Barbican request: {e}"),
        })
}

/// The body of a 200; a 404 is [`SignatureError::CertificateNotFound`],
/// anything else [`SignatureError::CertificateUnavailable`] with its status
/// and the start of its body.
fn ok_body<'r>(
    uuid: &str,
    tail: &str,
    response: &'r Response<Vec<u8>>,
) -> Result<&'r [u8], SignatureError> {
    match response.status().as_u16() {
        200 => Ok(response.body()),
        404 => Err(SignatureError::CertificateNotFound(uuid.to_string())),
        status => {
            let text = String::from_utf8_lossy(response.body());
            let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
            let text: String = text.chars().take(200).collect();
            Err(SignatureError::CertificateUnavailable {
                uuid: uuid.to_string(),
                reason: format!(
                    "Barbican answered GET /v1/secrets/{uuid}{tail} with {status}: {text}"
                )
                .trim_end_matches([':', ' '])
                .to_string(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UUID: &str = "0c6a0b7e-1d1e-4f0e-9d8b-0e2b1c3d4e5f";

    fn answer(status: u16, body: &str) -> Response<Vec<u8>> {
        Response::builder()
            .status(status)
            .body(body.as_bytes().to_vec())
            .unwrap_or_default()
    }

    #[test]
    fn the_requests_are_castellans() {
        let r = secret_request(UUID).unwrap_or_default();
        assert_eq!(r.uri().to_string(), format!("/v1/secrets/{UUID}"));
        assert_eq!(r.headers()["accept"], "application/json");
        let r = payload_request(UUID, "application/octet-stream").unwrap_or_default();
        assert_eq!(r.uri().to_string(), format!("/v1/secrets/{UUID}/payload"));
        assert_eq!(r.headers()["accept"], "application/octet-stream");
        assert_eq!(
            secret_request("../secrets").err(),
            Some(SignatureError::InvalidCertificateUuid("../secrets".into()))
        );
    }

    #[test]
    fn only_a_certificate_secret_with_a_payload_is_read() {
        let certificate = r#"{"secret_type": "certificate", "status": "ACTIVE",
            "content_types": {"default": "application/octet-stream"}}"#;
        assert_eq!(
            parse_secret(UUID, &answer(200, certificate)).as_deref(),
            Ok("application/octet-stream")
        );
        let opaque = r#"{"secret_type": "opaque", "content_types": {"default": "text/plain"}}"#;
        assert!(matches!(
            parse_secret(UUID, &answer(200, opaque)),
            Err(SignatureError::CertificateUnreadable(m)) if m.contains("of type opaque")
        ));
        let empty = r#"{"secret_type": "certificate"}"#;
        assert!(matches!(
            parse_secret(UUID, &answer(200, empty)),
            Err(SignatureError::CertificateUnreadable(m)) if m.contains("no payload")
        ));
    }

    #[test]
    fn statuses_say_not_found_or_unavailable() {
        assert_eq!(
            parse_payload(UUID, &answer(404, "{}")),
            Err(SignatureError::CertificateNotFound(UUID.into()))
        );
        let forbidden = r#"{"code": 403, "title": "Forbidden"}"#;
        match parse_secret(UUID, &answer(403, forbidden)) {
            Err(SignatureError::CertificateUnavailable { reason, .. }) => {
                assert!(reason.contains("with 403: {\"code\": 403"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_secret(UUID, &answer(200, "<html>")),
            Err(SignatureError::CertificateUnavailable { .. })
        ));
        assert_eq!(
            parse_payload(UUID, &answer(200, "PEM")).as_deref(),
            Ok(&b"PEM"[..])
        );
    }
}
