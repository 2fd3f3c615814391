//! An image's locations: the 2.17 calls and the JSON-patch edits. v2 only.

use serde_json::{Map, Value};

use super::Client;
use crate::error::{Error, Result};
use crate::image::{Image, Location};
use crate::transport::Retry;
use crate::v2;
use crate::v2::locations::ValidationData;
use crate::wire;

impl Client {
    /// Gives a `queued` image its data at `url` (`POST
    /// /v2/images/{id}/locations`, image API v2.17, checked first as for
    /// [`Client::image_tasks`]); Glance hashes the data in the background
    /// and checks it against `validation`'s hash when given. Glance's
    /// policy lets only a service user (e.g. Nova's or Cinder's) do this.
    pub fn add_image_location(
        &self,
        id: &str,
        url: &str,
        validation: &ValidationData,
    ) -> Result<()> {
        self.require_minor(
            17,
            false,
            "the locations API (image API v2.17, which the server does not offer)",
        )?;
        self.call(
            v2::locations::add(id, url, validation),
            Retry::IfUnsent,
            wire::parse_empty,
        )
    }

    /// An image's locations (`GET /v2/images/{id}/locations`, image API
    /// v2.17; a service user's call, see [`Client::add_image_location`]).
    pub fn image_locations(&self, id: &str) -> Result<Vec<Location>> {
        self.require_minor(
            17,
            false,
            "the locations API (image API v2.17, which the server does not offer)",
        )?;
        self.call(
            v2::locations::list(id),
            Retry::Safe,
            v2::locations::parse_locations,
        )
    }

    /// Adds a location at the end of an image's list by JSON patch (the
    /// operator must show multiple locations) and returns the image.
    pub fn add_location(
        &self,
        id: &str,
        url: &str,
        metadata: &Map<String, Value>,
        validation: &ValidationData,
    ) -> Result<Image> {
        self.require_v2("locations")?;
        self.call(
            v2::locations::add_by_patch(id, url, metadata, validation),
            Retry::IfUnsent,
            v2::images::parse_image,
        )
    }

    /// Removes the locations with these URLs by JSON patch. Reads the image
    /// first, to find their places in its list; a URL it does not have is
    /// [`Error::InvalidInput`] and nothing is removed.
    pub fn remove_locations(&self, id: &str, urls: &[String]) -> Result<Image> {
        self.require_v2("locations")?;
        let image = self.image(id)?;
        let mut indices = Vec::with_capacity(urls.len());
        let mut unknown = Vec::new();
        for url in urls {
            match image.locations.iter().position(|l| &l.url == url) {
                Some(i) => indices.push(i),
                None => unknown.push(url.as_str()),
            }
        }
        if !unknown.is_empty() {
            return Err(Error::InvalidInput(format!(
                "image {id} has no location {}",
                unknown.join(", ")
            )));
        }
        self.call(
            v2::locations::remove_by_patch(id, &indices),
            Retry::IfUnsent,
            v2::images::parse_image,
        )
    }

    /// Sets the metadata of the location with this URL by JSON patch
    /// (replacing the whole list, the others as they were) and returns the
    /// image; unchanged metadata sends nothing. A URL the image does not
    /// have is [`Error::InvalidInput`].
    pub fn update_location(
        &self,
        id: &str,
        url: &str,
        metadata: &Map<String, Value>,
    ) -> Result<Image> {
        self.require_v2("locations")?;
        let mut image = self.image(id)?;
        let Some(location) = image.locations.iter_mut().find(|l| l.url == url) else {
            return Err(Error::InvalidInput(format!(
                "image {id} has no location {url}"
            )));
        };
        if &location.metadata == metadata {
            return Ok(image);
        }
        location.metadata = metadata.clone();
        self.call(
            v2::locations::replace_by_patch(id, &image.locations),
            Retry::Safe,
            v2::images::parse_image,
        )
    }
}
