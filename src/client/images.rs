//! Image records and data: show, create, update, delete, upload, download, tags.

use std::collections::BTreeMap;

use super::Client;
use super::ImageStream;
use crate::config::ApiVersion;
use crate::error::{Error, Result};
use crate::image::{Image, ImageUpdate, NewImage};
use crate::transport::Retry;
use crate::wire;
use crate::{v1, v2};

impl Client {
    /// Shows one image (v1: `HEAD /v1/images/{id}`).
    pub fn image(&self, id: &str) -> Result<Image> {
        match self.version() {
            ApiVersion::V2 => self.call(v2::images::show(id), Retry::Safe, v2::images::parse_image),
            ApiVersion::V1 => self.call(v1::images::show(id), Retry::Safe, v1::images::parse_show),
        }
    }

    /// Creates an image record (no data yet). The create is retried on another
    /// server only when `new.id` is set, so a retry cannot make a second image.
    /// When such a retry follows an attempt whose answer was lost and the
    /// server answers 409 (the id exists), the lost attempt most likely
    /// created the image: it is fetched and returned instead of
    /// [`Error::Conflict`].
    ///
    /// In v1 the image is reserved (`queued`); what v1 cannot express (tags,
    /// a hidden or `community` image) is [`Error::Unsupported`].
    pub fn create_image(&self, new: &NewImage) -> Result<Image> {
        match self.version() {
            ApiVersion::V2 => self.create_named(
                v2::images::create(new),
                create_retry(new),
                v2::images::parse_image,
                "the image",
                || self.created(new),
            ),
            ApiVersion::V1 => self.v1_create(new, &v1::CreateOptions::default()),
        }
    }

    /// A v1 create (`POST /v1/images` with the metadata as headers).
    pub(super) fn v1_create(&self, new: &NewImage, options: &v1::CreateOptions) -> Result<Image> {
        let meta = v1::ImageMeta::for_create(new, options)?;
        self.create_named(
            v1::images::create(&meta),
            create_retry(new),
            v1::images::parse_image,
            "the image",
            || self.created(new),
        )
    }

    /// The image a lost create attempt made: the one with `new.id`, if it
    /// has the name and formats asked for (else someone else's image holds
    /// the id and the caller gets the 409).
    fn created(&self, new: &NewImage) -> Result<Image> {
        let Some(id) = &new.id else {
            return Err(Error::InvalidInput(
                "a create without an id is never retried".into(),
            ));
        };
        let image = self.image(id)?;
        let differs =
            |asked: &Option<String>, found: &Option<String>| asked.is_some() && asked != found;
        if differs(&new.name, &image.name)
            || differs(&new.disk_format, &image.disk_format)
            || differs(&new.container_format, &image.container_format)
        {
            return Err(Error::InvalidInput(format!(
                "image {id} exists but is not the one asked for"
            )));
        }
        Ok(image)
    }

    /// Changes an image's metadata and returns the updated image.
    ///
    /// In v1, removing properties costs a `HEAD` first: v1 can only drop
    /// properties by sending the whole remaining set (a change another
    /// client makes in between is overwritten).
    pub fn update_image(&self, id: &str, update: &ImageUpdate) -> Result<Image> {
        if update.is_empty() {
            return self.image(id);
        }
        match self.version() {
            ApiVersion::V2 => {
                // A patch replays to the same result (add overwrites, replace sets),
                // except a `remove` whose property is already gone: not retried then.
                let retry = if update.remove_properties.is_empty() {
                    Retry::Safe
                } else {
                    Retry::IfUnsent
                };
                self.call(
                    v2::images::update(id, update),
                    retry,
                    v2::images::parse_image,
                )
            }
            ApiVersion::V1 => {
                let (meta, purge) = self.v1_update_meta(id, update)?;
                // Headers set absolute values, so a repeat gives the same image.
                self.call(
                    v1::images::update(id, &meta, purge),
                    Retry::Safe,
                    v1::images::parse_image,
                )
            }
        }
    }

    /// The v1 headers of `update` and whether to purge the properties not
    /// in them. Removing properties costs a `HEAD` first: v1 can only drop
    /// them by sending the whole remaining set.
    pub(super) fn v1_update_meta(
        &self,
        id: &str,
        update: &ImageUpdate,
    ) -> Result<(v1::ImageMeta, bool)> {
        let current = if update.remove_properties.is_empty() {
            None
        } else {
            // Refuse what cannot be sent before making any request.
            v1::ImageMeta::for_update(update, Some(&BTreeMap::new()))?
                .0
                .to_headers()?;
            Some(self.image(id)?.properties)
        };
        v1::ImageMeta::for_update(update, current.as_ref())
    }

    /// Deletes an image.
    ///
    /// Retried like a read. When an attempt's answer is lost (the
    /// connection broke after the request was sent) and the retry answers
    /// 404, the lost attempt most likely deleted the image: that counts as
    /// success (logged as a warning), not [`Error::NotFound`]. Without a
    /// lost attempt a 404 is [`Error::NotFound`].
    pub fn delete_image(&self, id: &str) -> Result<()> {
        let request = match self.version() {
            ApiVersion::V2 => v2::images::delete(id),
            ApiVersion::V1 => v1::images::delete(id),
        };
        self.remove(request, &format!("image {id}"))
    }

    /// Deactivates an image (its data can no longer be downloaded, except by
    /// admins). v2 only.
    pub fn deactivate_image(&self, id: &str) -> Result<()> {
        self.require_v2("deactivate")?;
        self.call(v2::images::deactivate(id), Retry::Safe, wire::parse_empty)
    }

    /// Reactivates a deactivated image. v2 only.
    pub fn reactivate_image(&self, id: &str) -> Result<()> {
        self.require_v2("reactivate")?;
        self.call(v2::images::reactivate(id), Retry::Safe, wire::parse_empty)
    }

    /// Starts a download and returns the image data as a stream, with the
    /// length and MD5 the server announced. Reading it does not verify
    /// anything; the verifying downloader ([`Client::download`]) does.
    pub fn open_download(&self, id: &str) -> Result<ImageStream> {
        self.open_range(id, 0)
    }

    /// Opens the data from `offset` on (a `Range` request when not zero).
    ///
    /// A v1 Glance ignores `Range` and sends the whole image; the stream's
    /// [`ImageStream::offset`] is then 0 and the caller starts over.
    pub(crate) fn open_range(&self, id: &str, offset: u64) -> Result<ImageStream> {
        self.open_preferring(id, offset, &[])
    }

    /// [`Client::open_range`] asking a v2 server to read from the `prefer`
    /// stores first (`?prefer=`; v1 has no such thing and ignores it).
    pub(crate) fn open_preferring(
        &self,
        id: &str,
        offset: u64,
        prefer: &[String],
    ) -> Result<ImageStream> {
        let version = self.version();
        let request = match version {
            ApiVersion::V2 => v2::stores::download_preferring(id, offset, prefer)?,
            ApiVersion::V1 => v1::images::download(id, offset)?,
        };
        let opened = self
            .transport()
            .open(&self.ctx(true)?, &request, Retry::Safe)?;
        let (status, headers) = (opened.response.status(), opened.response.headers());
        let start = match version {
            ApiVersion::V2 => wire::parse_download_start(id, status, headers, offset)?,
            ApiVersion::V1 => v1::images::parse_download_start(id, status, headers, offset)?,
        };
        Ok(ImageStream::new(opened, start))
    }

    /// Adds a tag. v2 only.
    pub fn add_tag(&self, id: &str, tag: &str) -> Result<()> {
        self.require_v2("tags")?;
        self.call(v2::tags::add(id, tag), Retry::Safe, wire::parse_empty)
    }

    /// Removes a tag. v2 only. A 404 answering a retry after a lost attempt
    /// counts as removed, as in [`Client::delete_image`].
    pub fn remove_tag(&self, id: &str, tag: &str) -> Result<()> {
        self.require_v2("tags")?;
        self.remove(v2::tags::remove(id, tag), &format!("tag {tag:?}"))
    }
}

/// A create is safe to repeat only with a caller-chosen id.
fn create_retry(new: &NewImage) -> Retry {
    if new.id.is_some() {
        Retry::Safe
    } else {
        Retry::IfUnsent
    }
}
