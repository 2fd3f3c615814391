//! Certificate validation: does a certificate chain to trusted ones?
//! cursive's `certificate_utils.verify_certificate`, with its defaults.

use std::time::SystemTime;

use x509_cert::ext::pkix::{BasicConstraints, KeyUsage};

use super::SignatureError;
use super::certificate::Certificate;
use super::verify::issued_by;

/// Checks that `certificate` chains to `trusted`, as cursive does with Nova's
/// `[glance] enable_certificate_validation` (all its checks on):
///
/// 1. A trusted certificate may sign only when `now` is within its dates and
///    it has basicConstraints `CA:TRUE` and a keyUsage with `keyCertSign`;
///    the others are skipped (cursive logs and skips them too).
/// 2. `certificate` itself must be within its dates.
/// 3. From `certificate`, each link's issuer is the first usable trusted
///    certificate whose subject is the link's issuer name and whose key
///    verifies the link's signature, until a self-signed one: the chain must
///    end at a self-signed trusted certificate (a trusted intermediate whose
///    own issuer is not trusted does not do).
/// 4. Each issuer's basicConstraints pathLenConstraint, when set, allows the
///    intermediates below it.
///
/// Where this differs from cursive: a chain that loops (A signed by B signed
/// by A, neither self-signed) fails here, where cursive loops forever; names
/// are compared as encoded (cursive compares decoded attribute values, so an
/// issuer name re-encoded with another string type matches there only); and
/// see [`Certificate::check_key_type`] and the hashes accepted for
/// certificate signatures.
///
/// # Errors
/// [`SignatureError::CertificateExpired`] / [`SignatureError::CertificateNotYetValid`]
/// for `certificate`; [`SignatureError::NotTrusted`] saying where the chain broke.
pub fn verify_chain(
    certificate: &Certificate,
    trusted: &[Certificate],
    now: SystemTime,
) -> Result<(), SignatureError> {
    let signers: Vec<&Certificate> = trusted
        .iter()
        .filter(|c| c.check_dates(now).is_ok() && can_sign_certificates(c))
        .collect();
    certificate.check_dates(now)?;
    let mut chain = vec![certificate];
    loop {
        let Some(last) = chain.last().copied() else {
            return Err(SignatureError::NotTrusted("empty chain".into()));
        };
        let Some(issuer) = signers.iter().copied().find(|s| is_issuer(s, last)) else {
            return Err(SignatureError::NotTrusted(format!(
                "no trusted issuer found for {}",
                last.subject()
            )));
        };
        if issuer == last {
            break;
        }
        if chain.contains(&issuer) {
            return Err(SignatureError::NotTrusted(
                "the certificates form a loop".into(),
            ));
        }
        chain.push(issuer);
    }
    check_path_lengths(&chain)
}

/// cursive's `is_issuer`: the names match and the signature verifies.
fn is_issuer(issuer: &Certificate, certificate: &Certificate) -> bool {
    issuer.x509.tbs_certificate().subject() == certificate.x509.tbs_certificate().issuer()
        && issued_by(certificate, issuer)
}

/// cursive's `can_sign_certificates`: basicConstraints CA and keyUsage
/// keyCertSign, both present (criticality is not looked at).
fn can_sign_certificates(certificate: &Certificate) -> bool {
    let tbs = certificate.x509.tbs_certificate();
    let ca = matches!(tbs.get_extension::<BasicConstraints>(), Ok(Some((_, bc))) if bc.ca);
    let cert_sign =
        matches!(tbs.get_extension::<KeyUsage>(), Ok(Some((_, ku))) if ku.key_cert_sign());
    ca && cert_sign
}

/// cursive's path length check over `chain` (leaf first, root last): every
/// certificate but the leaf needs basicConstraints, and its pathLenConstraint,
/// when set, must be at least the number of intermediates below it.
fn check_path_lengths(chain: &[&Certificate]) -> Result<(), SignatureError> {
    for (below, issuer) in chain.iter().enumerate().skip(1) {
        let constraints = issuer
            .x509
            .tbs_certificate()
            .get_extension::<BasicConstraints>();
        let Ok(Some((_, constraints))) = constraints else {
            return Err(SignatureError::NotTrusted(format!(
                "{} has no basic constraints",
                issuer.subject()
            )));
        };
        // The certificates under this one, less the leaf: intermediates.
        let intermediates = below.saturating_sub(1);
        if let Some(limit) = constraints.path_len_constraint
            && usize::from(limit) < intermediates
        {
            return Err(SignatureError::NotTrusted(format!(
                "{} allows {limit} intermediate certificates, the chain has {intermediates}",
                issuer.subject()
            )));
        }
    }
    Ok(())
}
