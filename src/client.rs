//! [`Client`]: the blocking entry point. It dispatches each operation to the
//! `v1` or `v2` wire code and carries it over the [`Transport`].

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;

use ureq::http::{Request, Response};

use crate::config::{ApiVersion, Config};
use crate::error::{Error, Result};
use crate::image::{Image, ImageUpdate, NewImage};
use crate::query::ListQuery;
use crate::stream::ImageStream;
use crate::transport::{Payload, Retry, Transport};
use crate::v2;

/// A blocking Glance client. Cheap to clone (the state is shared), and
/// `Send + Sync`, so one client can serve many threads.
///
/// ```no_run
/// use glance_client::{Client, Config};
///
/// let client = Client::new(Config::for_server("http://127.0.0.1:9292"))?;
/// for image in client.images(&Default::default()) {
///     let image = image?;
///     println!("{} {}", image.id, image.name.as_deref().unwrap_or(""));
/// }
/// # Ok::<(), glance_client::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: Config,
    transport: Transport,
}

impl Client {
    /// Builds a client. Fails when no server is configured or a server URL is
    /// not an http(s) URL; no request is made.
    pub fn new(config: Config) -> Result<Client> {
        let transport = Transport::new(&config)?;
        Ok(Client {
            inner: Arc::new(Inner { config, transport }),
        })
    }

    /// The configuration the client was built from.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The servers in the order they are tried (after the one-time shuffle).
    pub fn servers(&self) -> &[String] {
        self.inner.transport.servers()
    }

    fn version(&self) -> ApiVersion {
        self.inner.config.api_version
    }

    /// Fails with [`Error::Unsupported`] unless the client speaks v2.
    fn require_v2(&self, operation: &'static str) -> Result<()> {
        match self.version() {
            ApiVersion::V2 => Ok(()),
            v => Err(Error::Unsupported {
                operation,
                api_version: v.number(),
            }),
        }
    }

    /// Sends a request built by the wire code and parses the whole answer.
    pub(crate) fn call<T>(
        &self,
        request: Result<Request<Vec<u8>>>,
        retry: Retry,
        parse: impl FnOnce(&Response<Vec<u8>>) -> Result<T>,
    ) -> Result<T> {
        let response = self.inner.transport.json(&request?, retry)?;
        parse(&response)
    }

    /// Lists images, following `next` links until the last page (or
    /// `query.limit`). Each item is an image or the error that ended the listing.
    pub fn images(&self, query: &ListQuery) -> Images {
        Images {
            client: self.clone(),
            query: query.clone(),
            state: PageState::First,
            page: Vec::new().into_iter(),
            returned: 0,
        }
    }

    /// Shows one image.
    pub fn image(&self, id: &str) -> Result<Image> {
        self.require_v2("show")?;
        self.call(v2::images::show(id), Retry::Safe, v2::images::parse_image)
    }

    /// Creates an image record (no data yet). The create is retried on another
    /// server only when `new.id` is set, so a retry cannot make a second image.
    pub fn create_image(&self, new: &NewImage) -> Result<Image> {
        self.require_v2("create")?;
        let retry = if new.id.is_some() {
            Retry::Safe
        } else {
            Retry::Never
        };
        self.call(v2::images::create(new), retry, v2::images::parse_image)
    }

    /// Changes an image's metadata and returns the updated image.
    pub fn update_image(&self, id: &str, update: &ImageUpdate) -> Result<Image> {
        self.require_v2("update")?;
        if update.is_empty() {
            return self.image(id);
        }
        // A patch replays to the same result (add overwrites, replace sets),
        // except a `remove` whose property is already gone: not retried then.
        let retry = if update.remove_properties.is_empty() {
            Retry::Safe
        } else {
            Retry::Never
        };
        self.call(
            v2::images::update(id, update),
            retry,
            v2::images::parse_image,
        )
    }

    /// Deletes an image.
    pub fn delete_image(&self, id: &str) -> Result<()> {
        self.require_v2("delete")?;
        self.call(v2::images::delete(id), Retry::Safe, v2::parse_empty)
    }

    /// Deactivates an image (its data can no longer be downloaded, except by admins).
    pub fn deactivate_image(&self, id: &str) -> Result<()> {
        self.require_v2("deactivate")?;
        self.call(v2::images::deactivate(id), Retry::Safe, v2::parse_empty)
    }

    /// Reactivates a deactivated image.
    pub fn reactivate_image(&self, id: &str) -> Result<()> {
        self.require_v2("reactivate")?;
        self.call(v2::images::reactivate(id), Retry::Safe, v2::parse_empty)
    }

    /// Uploads image data from a stream, sent once (a stream cannot be
    /// replayed). With `size` the request carries `Content-Length`, without
    /// it the data goes chunked.
    pub fn upload(&self, id: &str, data: &mut dyn Read, size: Option<u64>) -> Result<()> {
        self.require_v2("upload")?;
        let request = v2::images::upload(id, size)?;
        let response =
            self.inner
                .transport
                .send_payload(&request, Payload::Stream(data), Retry::Never)?;
        v2::parse_empty(&response)
    }

    /// Uploads image data from a seekable source (a file), which is rewound
    /// to its current position and sent again if an attempt fails.
    pub fn upload_seekable<R: Read + Seek>(
        &self,
        id: &str,
        data: &mut R,
        size: Option<u64>,
    ) -> Result<()> {
        self.require_v2("upload")?;
        let start = data
            .stream_position()
            .map_err(|e| Error::io("reading the upload source's position", e))?;
        let request = v2::images::upload(id, size)?;
        let payload = Payload::Rewindable {
            reader: data,
            start,
        };
        let response = self
            .inner
            .transport
            .send_payload(&request, payload, Retry::Safe)?;
        v2::parse_empty(&response)
    }

    /// Uploads a local file (its size sent as `Content-Length`; retried like a read).
    pub fn upload_file(&self, id: &str, path: &Path) -> Result<()> {
        let (mut file, size) = open_sized(path)?;
        self.upload_seekable(id, &mut file, Some(size))
    }

    /// Starts a download and returns the image data as a stream, with the
    /// length and `Content-MD5` the server announced. Reading it does not
    /// verify anything; [`Client::download`] does.
    pub fn open_download(&self, id: &str) -> Result<ImageStream> {
        self.require_v2("download")?;
        self.open_range(id, 0)
    }

    /// Opens the data from `offset` on (a `Range` request when not zero).
    pub(crate) fn open_range(&self, id: &str, offset: u64) -> Result<ImageStream> {
        let request = v2::images::download(id, offset)?;
        let opened = self.inner.transport.open(&request, Retry::Safe)?;
        let start = v2::images::parse_download_start(
            id,
            opened.response.status(),
            opened.response.headers(),
            offset,
        )?;
        Ok(ImageStream::new(opened, start))
    }

    /// Adds a tag.
    pub fn add_tag(&self, id: &str, tag: &str) -> Result<()> {
        self.require_v2("tags")?;
        self.call(v2::tags::add(id, tag), Retry::Safe, v2::parse_empty)
    }

    /// Removes a tag.
    pub fn remove_tag(&self, id: &str, tag: &str) -> Result<()> {
        self.require_v2("tags")?;
        self.call(v2::tags::remove(id, tag), Retry::Safe, v2::parse_empty)
    }

    /// Lists the projects an image is shared with.
    pub fn members(&self, id: &str) -> Result<Vec<v2::members::Member>> {
        self.require_v2("members")?;
        self.call(v2::members::list(id), Retry::Safe, v2::members::parse_list)
    }

    /// Shares an image with a project (status `pending` until it accepts).
    pub fn add_member(&self, id: &str, member: &str) -> Result<v2::members::Member> {
        self.require_v2("members")?;
        self.call(
            v2::members::add(id, member),
            Retry::Safe,
            v2::members::parse_member,
        )
    }

    /// Sets a membership's status (`accepted`, `rejected`, `pending`), as the member.
    pub fn update_member(
        &self,
        id: &str,
        member: &str,
        status: &str,
    ) -> Result<v2::members::Member> {
        self.require_v2("members")?;
        self.call(
            v2::members::update(id, member, status),
            Retry::Safe,
            v2::members::parse_member,
        )
    }

    /// Stops sharing an image with a project.
    pub fn remove_member(&self, id: &str, member: &str) -> Result<()> {
        self.require_v2("members")?;
        self.call(
            v2::members::remove(id, member),
            Retry::Safe,
            v2::parse_empty,
        )
    }

    /// Stages data for a `glance-direct` import (sent once, like [`Client::upload`]).
    pub fn stage(&self, id: &str, data: &mut dyn Read, size: Option<u64>) -> Result<()> {
        self.require_v2("stage")?;
        let request = v2::import::stage(id, size)?;
        let response =
            self.inner
                .transport
                .send_payload(&request, Payload::Stream(data), Retry::Never)?;
        v2::parse_empty(&response)
    }

    /// Stages a local file (retried like a read: the file is rewound).
    pub fn stage_file(&self, id: &str, path: &Path) -> Result<()> {
        self.require_v2("stage")?;
        let (mut file, size) = open_sized(path)?;
        let request = v2::import::stage(id, Some(size))?;
        let payload = Payload::Rewindable {
            reader: &mut file,
            start: 0,
        };
        let response = self
            .inner
            .transport
            .send_payload(&request, payload, Retry::Safe)?;
        v2::parse_empty(&response)
    }

    /// Starts an import (`glance-direct`, `web-download` or `copy-image`).
    /// The server answers at once; the image becomes `active` when it is done.
    pub fn import_image(&self, id: &str, import: &v2::import::Import) -> Result<()> {
        self.require_v2("import")?;
        self.call(
            v2::import::import(id, import),
            Retry::Never,
            v2::parse_empty,
        )
    }

    /// The import methods the server offers (`/v2/info/import`).
    pub fn import_methods(&self) -> Result<Vec<String>> {
        self.require_v2("import info")?;
        self.call(
            v2::import::import_info(),
            Retry::Safe,
            v2::import::parse_import_info,
        )
    }

    /// The stores of a multi-store Glance (`/v2/info/stores`).
    pub fn stores(&self) -> Result<Vec<v2::import::Store>> {
        self.require_v2("stores")?;
        self.call(v2::import::stores(), Retry::Safe, v2::import::parse_stores)
    }

    /// The API versions the server offers (`/versions`).
    pub fn versions(&self) -> Result<Vec<v2::versions::Version>> {
        self.call(
            v2::versions::versions(),
            Retry::Safe,
            v2::versions::parse_versions,
        )
    }
}

/// Opens a file for upload and reads its size.
fn open_sized(path: &Path) -> Result<(File, u64)> {
    let mut file =
        File::open(path).map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
    let size = file
        .seek(SeekFrom::End(0))
        .and_then(|n| file.seek(SeekFrom::Start(0)).map(|_| n))
        .map_err(|e| Error::io(format!("reading the size of {}", path.display()), e))?;
    Ok((file, size))
}

/// Iterator over a listing; see [`Client::images`].
#[derive(Debug)]
pub struct Images {
    client: Client,
    query: ListQuery,
    state: PageState,
    page: std::vec::IntoIter<Image>,
    returned: u64,
}

#[derive(Debug)]
enum PageState {
    First,
    Next(String),
    Done,
}

impl Images {
    fn fetch(&mut self) -> Result<()> {
        let page_size = v2::images::page_size_for(&self.query, self.returned);
        let request = match std::mem::replace(&mut self.state, PageState::Done) {
            PageState::First => {
                self.client.require_v2("list")?;
                v2::images::list(&self.query, page_size)
            }
            PageState::Next(next) => v2::images::next_page(&next, page_size),
            PageState::Done => return Ok(()),
        };
        let page = self
            .client
            .call(request, Retry::Safe, v2::images::parse_page)?;
        if let Some(next) = page.next {
            // A next link on an empty page would loop forever.
            if !page.images.is_empty() {
                self.state = PageState::Next(next);
            }
        }
        self.page = page.images.into_iter();
        Ok(())
    }
}

impl Iterator for Images {
    type Item = Result<Image>;

    fn next(&mut self) -> Option<Result<Image>> {
        loop {
            if self.query.limit.is_some_and(|l| self.returned >= l) {
                return None;
            }
            if let Some(image) = self.page.next() {
                self.returned += 1;
                return Some(Ok(image));
            }
            if matches!(self.state, PageState::Done) {
                return None;
            }
            if let Err(e) = self.fetch() {
                self.state = PageState::Done;
                return Some(Err(e));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_is_cheap_to_share() {
        fn assert_traits<T: Clone + Send + Sync + 'static>() {}
        assert_traits::<Client>();
    }

    #[test]
    fn needs_a_server() {
        assert!(matches!(
            Client::new(Config::default()),
            Err(Error::Config { .. })
        ));
    }
}
