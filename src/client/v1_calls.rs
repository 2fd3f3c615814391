//! [`V1Client`]: the calls only image API v1 has, behind [`Client::v1`].

use super::{Client, ImageData};
use crate::error::Result;
use crate::image::{Image, ImageUpdate, NewImage};
use crate::transport::Retry;
use crate::v1::members::Membership;
use crate::{v1, wire};

/// v1's own calls, beyond the ones every version has: creating from v1's
/// extra sources, sending metadata and data in one request, and
/// memberships with `can_share`. From [`Client::v1`].
///
/// Each fails with [`Error::Unsupported`](crate::Error::Unsupported),
/// before any request, unless the client speaks v1.
///
/// ```no_run
/// use glance_client::{ApiVersion, Client, Config, NewImage, v1};
///
/// let config = Config { api_version: ApiVersion::V1, ..Config::for_server("http://127.0.0.1:9292") };
/// let client = Client::new(config)?;
/// let options = v1::CreateOptions {
///     copy_from: Some("http://images.example/cirros.img".into()),
///     ..v1::CreateOptions::default()
/// };
/// let image = client.v1().create_image(&NewImage::default(), &options)?;
/// for member in client.v1().members(&image.id)? {
///     println!("{} (can share: {})", member.member_id, member.can_share);
/// }
/// # Ok::<(), glance_client::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct V1Client<'a> {
    client: &'a Client,
}

impl Client {
    /// The calls only image API v1 has (see [`V1Client`]).
    pub fn v1(&self) -> V1Client<'_> {
        V1Client { client: self }
    }
}

impl V1Client<'_> {
    /// Creates an image with v1's extra sources, e.g. data the server copies
    /// from a URL (`copy_from`) or that already lives at one (`location`);
    /// retried as [`Client::create_image`] is.
    pub fn create_image(&self, new: &NewImage, options: &v1::CreateOptions) -> Result<Image> {
        self.client.require_v1("v1 create options")?;
        self.client.v1_create(new, options)
    }

    /// Creates an image and sends its data in the same request (`POST
    /// /v1/images` with the metadata headers and an octet-stream body).
    /// Sent once, whatever the data: a create whose answer was lost cannot
    /// be told from one that never arrived.
    pub fn create_image_with_data(
        &self,
        new: &NewImage,
        options: &v1::CreateOptions,
        data: ImageData<'_>,
    ) -> Result<Image> {
        self.client.require_v1("v1 create with data")?;
        let meta = v1::ImageMeta::for_create(new, options)?;
        let response = self
            .client
            .send_data(data, Retry::IfUnsent, &|| None, |size| {
                v1::images::create_with_data(&meta, size)
            })?;
        v1::images::parse_image(&response)
    }

    /// Changes a queued image's metadata and sends its data in the same
    /// request (`PUT /v1/images/{id}` with headers and an octet-stream
    /// body), sent as [`Client::upload`] sends data.
    pub fn update_image_with_data(
        &self,
        id: &str,
        update: &ImageUpdate,
        data: ImageData<'_>,
    ) -> Result<Image> {
        self.client.require_v1("v1 update with data")?;
        let (meta, purge) = self.client.v1_update_meta(id, update)?;
        let refused = || self.client.upload_refused(id);
        let response = self.client.send_data(data, Retry::Safe, &refused, |size| {
            v1::images::update_with_data(id, &meta, purge, size)
        })?;
        v1::images::parse_image(&response)
    }

    /// The members of an image with their `can_share` flag.
    pub fn members(&self, id: &str) -> Result<Vec<Membership>> {
        self.client.require_v1("v1 memberships")?;
        self.client
            .call(v1::members::list(id), Retry::Safe, v1::members::parse_list)
    }

    /// Shares an image with a project, setting whether it may share the
    /// image further.
    pub fn add_member(&self, id: &str, member: &str, can_share: bool) -> Result<()> {
        self.client.require_v1("v1 memberships")?;
        self.client.call(
            v1::members::add(id, member, Some(can_share)),
            Retry::Safe,
            wire::parse_empty,
        )
    }

    /// Makes `members` the image's whole member list.
    pub fn replace_members(&self, id: &str, members: &[Membership]) -> Result<()> {
        self.client.require_v1("v1 memberships")?;
        self.client.call(
            v1::members::replace(id, members),
            Retry::Safe,
            wire::parse_empty,
        )
    }
}
