//! What a failed attempt means: ureq's errors mapped to [`Error::Transport`]
//! with a short reason, which failures another attempt may cure, and which
//! ones provably sent nothing.

use std::io::{self, Read};

use http::Response;

use crate::call::Ctx;
use crate::error::{Error, Result};
use crate::wire;

/// How much of an error answer's body is read: enough for any message
/// Glance writes; the status alone carries the meaning.
pub(crate) const MAX_ERROR_BODY: u64 = 64 * 1024;

/// Reads a whole answer, capped at [`wire::MAX_JSON_BODY`]; a body that
/// breaks off is a (retryable) transport error. The call's `ctx` is
/// checked between reads: a cancel or a deadline ends the read.
///
/// A non-2xx answer's body is read only up to [`MAX_ERROR_BODY`] (see
/// [`read_error_body`]), so an error keeps the meaning of its status
/// however large or broken its body is.
pub(crate) fn read_capped(
    server: &str,
    ctx: &Ctx,
    response: Response<ureq::Body>,
) -> Result<Response<Vec<u8>>> {
    let during = || format!("reading the answer from {server}");
    if !response.status().is_success() {
        let (parts, body) = response.into_parts();
        let response = Response::from_parts(parts, read_error_body(ctx, body));
        ctx.check(during)?;
        retryable_status(&response)?;
        return Ok(response);
    }
    let (parts, body) = response.into_parts();
    let mut reader = body.into_with_config().limit(wire::MAX_JSON_BODY).reader();
    let mut bytes = Vec::new();
    read_checked(ctx, &mut reader, &mut bytes, u64::MAX).map_err(|e| {
        // A cancel stops the read as a deadline does: say which it was.
        if let Err(own) = ctx.check(during) {
            return own;
        }
        match e {
            ureq::Error::BodyExceedsLimit(n) => {
                Error::invalid_response(format!("answer larger than {n} bytes"))
            }
            other => call_error(server, ctx, other, during),
        }
    })?;
    let response = Response::from_parts(parts, bytes);
    retryable_status(&response)?;
    Ok(response)
}

/// Appends what `reader` gives to `bytes`, at most `cap` bytes, checking
/// the call's `ctx` before each read: a cancel or a passed deadline stops
/// it with ureq's global timeout (the caller asks `ctx` which it was).
fn read_checked(
    ctx: &Ctx,
    reader: &mut impl Read,
    bytes: &mut Vec<u8>,
    cap: u64,
) -> std::result::Result<(), ureq::Error> {
    let mut buf = [0u8; 16 * 1024];
    while (bytes.len() as u64) < cap {
        if ctx.check(String::new).is_err() {
            return Err(ureq::Error::Timeout(ureq::Timeout::Global));
        }
        let want = buf
            .len()
            .min(usize::try_from(cap - bytes.len() as u64).unwrap_or(usize::MAX));
        match reader.read(&mut buf[..want]) {
            Ok(0) => break,
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(ureq::Error::from(e)),
        }
    }
    Ok(())
}

/// The first [`MAX_ERROR_BODY`] bytes of an error answer's body: what
/// was read when the body is longer, breaks off or the call is cancelled
/// (the rest is left unread, and the connection is not reused). Never an
/// error: the status is the answer, the body only its explanation.
pub(crate) fn read_error_body(ctx: &Ctx, body: ureq::Body) -> Vec<u8> {
    let mut bytes = Vec::new();
    // On a failure what was read is kept, which is what we want.
    let _ = read_checked(ctx, &mut body.into_reader(), &mut bytes, MAX_ERROR_BODY);
    bytes
}

/// 502, 503 and 504 become errors here so the attempt loop can retry them.
fn retryable_status(response: &Response<Vec<u8>>) -> Result<()> {
    match response.status().as_u16() {
        502..=504 => Err(wire::parse_error(response)),
        _ => Ok(()),
    }
}

/// Whether another attempt (on the next server) may succeed.
pub(crate) fn is_retryable(err: &Error) -> bool {
    match err {
        Error::Transport { .. } => true,
        Error::Server(api) => matches!(api.status, 502..=504),
        _ => false,
    }
}

/// Whether a ureq failure happened before any byte of the request left:
/// nothing reached the server, so even a create may be sent again.
pub(super) fn never_sent(err: &ureq::Error) -> bool {
    match err {
        ureq::Error::HostNotFound | ureq::Error::ConnectProxyFailed(_) => true,
        ureq::Error::Timeout(t) => matches!(t, ureq::Timeout::Connect | ureq::Timeout::Resolve),
        ureq::Error::Io(e) => matches!(
            e.kind(),
            io::ErrorKind::ConnectionRefused
                | io::ErrorKind::HostUnreachable
                | io::ErrorKind::NetworkUnreachable
                | io::ErrorKind::AddrNotAvailable
        ),
        _ => false,
    }
}

/// Maps a failure while reading a response body as `io::Read` (where ureq
/// hands its errors over as `io::Error`) to [`Error::Transport`] (or, when
/// the call's deadline cut it, [`Error::DeadlineExceeded`]) carried in an
/// `io::Error`: [`Error::from_io`] recovers it, and a timeout keeps the
/// kind `TimedOut`.
pub(crate) fn body_error(server: &str, ctx: &Ctx, err: io::Error) -> io::Error {
    let during = || format!("reading the image from {server}");
    call_error(server, ctx, ureq::Error::from(err), during).into_io()
}

/// Maps a ureq failure of a call: the timeout of the call's deadline
/// (ureq's global timeout, which only a deadline sets) to
/// [`Error::DeadlineExceeded`] saying it happened `during` something, any
/// other as [`transport_error`].
pub(super) fn call_error(
    server: &str,
    ctx: &Ctx,
    err: ureq::Error,
    during: impl FnOnce() -> String,
) -> Error {
    match err {
        ureq::Error::Timeout(ureq::Timeout::Global) => ctx.deadline_passed(during()),
        other => transport_error(server, other),
    }
}

/// Maps a ureq failure to [`Error::Transport`] naming the server, with a
/// short reason.
pub(super) fn transport_error(server: &str, err: ureq::Error) -> Error {
    use ureq::Timeout as T;
    if let Some(refused) = certificate_refused(server, &err) {
        return refused;
    }
    let (message, timeout) = match err {
        ureq::Error::Http(e) => return Error::InvalidInput(format!("{server}: {e}")),
        ureq::Error::BadUri(e) => return Error::InvalidInput(format!("{server}: bad URL {e}")),
        ureq::Error::Timeout(T::Connect | T::Resolve) => ("timed out connecting".into(), true),
        ureq::Error::Timeout(T::PerWrite | T::SendRequest | T::SendBody) => {
            ("timed out sending the request".into(), true)
        }
        ureq::Error::Timeout(_) => ("timed out waiting for the answer".into(), true),
        ureq::Error::Io(e) => match e.kind() {
            io::ErrorKind::ConnectionRefused => ("connection refused".into(), false),
            io::ErrorKind::ConnectionReset => ("connection reset".into(), false),
            io::ErrorKind::ConnectionAborted => ("connection aborted".into(), false),
            io::ErrorKind::BrokenPipe => ("connection closed while sending".into(), false),
            io::ErrorKind::UnexpectedEof => (
                "connection closed before the answer was complete".into(),
                false,
            ),
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => {
                ("timed out waiting for the answer".into(), true)
            }
            _ => (e.to_string(), false),
        },
        ureq::Error::HostNotFound => ("host not found".into(), false),
        ureq::Error::Rustls(e) => (format!("TLS: {e}"), false),
        ureq::Error::Protocol(e) => (format!("malformed HTTP answer: {e}"), false),
        ureq::Error::ConnectProxyFailed(why) => (format!("proxy refused the tunnel: {why}"), false),
        other => (other.to_string(), false),
    };
    Error::Transport {
        server: server.to_string(),
        message,
        timeout,
    }
}

/// A server certificate the TLS handshake refused, in plain words and as
/// [`Error::Config`]: no retry, on this server or another, can cure it
/// (the certificate or the client's CA file must change). rustls hands it
/// over directly, or inside the `io::Error` of the handshake.
fn certificate_refused(server: &str, err: &ureq::Error) -> Option<Error> {
    use rustls::CertificateError as C;
    let tls = match err {
        ureq::Error::Rustls(e) => e,
        ureq::Error::Io(e) => e.get_ref()?.downcast_ref::<rustls::Error>()?,
        _ => return None,
    };
    let rustls::Error::InvalidCertificate(why) = tls else {
        return None;
    };
    let detail = format!("{why:?}");
    let plain = if detail.contains("CaUsedAsEndEntity") {
        "is a CA certificate (basicConstraints CA:TRUE, as `openssl req -x509` makes by \
         default) used as the server's own certificate, which TLS clients such as this one \
         refuse. Fix the server: issue it a certificate signed by that CA (keep the CA as \
         the client's CA file), or a self-signed one with CA:FALSE"
            .to_string()
    } else {
        match why {
            C::UnknownIssuer => "is not signed by a CA this client trusts: give the CA \
                                 certificate that signed it as the CA file (cafile, \
                                 --os-cacert)"
                .to_string(),
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                "does not name the host of the URL: use a URL with a name the \
                 certificate lists (subjectAltName), or reissue the certificate"
                    .to_string()
            }
            C::Expired | C::ExpiredContext { .. } => "has expired: renew it".to_string(),
            C::NotValidYet | C::NotValidYetContext { .. } => {
                "is not valid yet (check the clocks)".to_string()
            }
            other => format!("is refused ({other:?})"),
        }
    };
    Some(Error::Config {
        file: None,
        line: None,
        message: format!("TLS: the certificate of {server} {plain} [{detail}]"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_errors() {
        let t = Error::Transport {
            server: "s".into(),
            message: "refused".into(),
            timeout: false,
        };
        assert!(is_retryable(&t));
        let api = |status| crate::error::ApiError {
            status,
            message: String::new(),
            request_id: None,
        };
        for status in [502, 503, 504] {
            assert!(is_retryable(&Error::from_status(api(status))), "{status}");
        }
        for status in [400, 401, 403, 404, 409, 413, 500, 501] {
            assert!(!is_retryable(&Error::from_status(api(status))), "{status}");
        }
    }

    #[test]
    fn only_connect_failures_count_as_never_sent() {
        let io = |kind| ureq::Error::Io(io::Error::from(kind));
        assert!(never_sent(&io(io::ErrorKind::ConnectionRefused)));
        assert!(never_sent(&ureq::Error::HostNotFound));
        assert!(never_sent(&ureq::Error::Timeout(ureq::Timeout::Connect)));
        assert!(!never_sent(&io(io::ErrorKind::ConnectionReset)));
        assert!(!never_sent(&io(io::ErrorKind::UnexpectedEof)));
        assert!(!never_sent(&ureq::Error::Timeout(ureq::Timeout::PerRead)));
    }

    #[test]
    fn transport_errors_read_well_and_flag_timeouts() {
        let e = transport_error(
            "http://a:1",
            ureq::Error::Io(io::Error::from(io::ErrorKind::ConnectionRefused)),
        );
        assert_eq!(e.to_string(), "http://a:1: connection refused");
        let e = transport_error("http://a:1", ureq::Error::Timeout(ureq::Timeout::PerRead));
        assert!(matches!(e, Error::Transport { timeout: true, .. }), "{e:?}");
    }
}
