//! [`BarbicanSource`]: signing certificates from Barbican, through the
//! client's own session (cargo feature `signatures`).

use std::fmt;

use super::Client;
use crate::error::Error;
use crate::signature::{CertificateSource, SignatureError, barbican};

/// Certificates from Barbican (the OpenStack key manager) by UUID, as
/// castellan fetches them for Nova and cursive: the secret's metadata
/// (`GET /v1/secrets/{uuid}`: it must be a `certificate` secret), then its
/// payload (`GET /v1/secrets/{uuid}/payload`), the certificate as stored.
///
/// The requests go through the client that made it ([`Client::barbican`]):
/// its token (a Keystone login included, renewed as for Glance, never
/// logged), TLS settings, proxies, timeouts and attempt loop, and its view's
/// cancel handle and deadline. Barbican's URL is
/// [`Config::barbican_endpoint`](crate::Config::barbican_endpoint), else
/// the token's catalog's `key-manager` endpoint
/// ([`Config::barbican_endpoint_type`](crate::Config::barbican_endpoint_type),
/// [`Config::barbican_region_name`](crate::Config::barbican_region_name)).
///
/// ```no_run
/// use glance_client::{Client, Config};
/// use glance_client::signature::CertificateSource;
///
/// let client = Client::new(Config::from_file("/etc/nova/nova.conf")?)?;
/// let certificate = client.barbican().certificate("0c6a0b7e-1d1e-4f0e-9d8b-0e2b1c3d4e5f");
/// # let _ = certificate;
/// # Ok::<(), glance_client::Error>(())
/// ```
#[derive(Clone)]
pub struct BarbicanSource {
    client: Client,
}

impl fmt::Debug for BarbicanSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BarbicanSource").finish_non_exhaustive()
    }
}

impl Client {
    /// Barbican, as a [`CertificateSource`] reached through this client
    /// (see [`BarbicanSource`]): what a download that requires signatures
    /// uses unless its [`Policy`](crate::signature::Policy) names another
    /// source. Nothing is sent until a certificate is asked for.
    pub fn barbican(&self) -> BarbicanSource {
        BarbicanSource {
            client: self.clone(),
        }
    }
}

impl BarbicanSource {
    /// One request to Barbican, its answer whatever the status.
    fn get(
        &self,
        uuid: &str,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, SignatureError> {
        let unavailable = |e: Error| SignatureError::CertificateUnavailable {
            uuid: uuid.to_string(),
            reason: e.to_string(),
        };
        let ctx = self.client.ctx(false).map_err(unavailable)?;
        self.client
            .transport()
            .key_manager_json(&ctx, &request)
            .map_err(unavailable)
    }
}

impl CertificateSource for BarbicanSource {
    fn certificate_bytes(&self, uuid: &str) -> Result<Vec<u8>, SignatureError> {
        let secret = self.get(uuid, barbican::secret_request(uuid)?)?;
        let content_type = barbican::parse_secret(uuid, &secret)?;
        let payload = self.get(uuid, barbican::payload_request(uuid, &content_type)?)?;
        barbican::parse_payload(uuid, &payload)
    }
}
