//! Multi-store calls: the stores' details, an image's data in one store,
//! an upload into a chosen store. v2 only.

use super::{Client, ImageData};
use crate::error::Result;
use crate::transport::Retry;
use crate::v2;
use crate::v2::import::Store;
use crate::wire;

impl Client {
    /// The stores with their driver, weight and settings
    /// (`/v2/info/stores/detail`; admins only). v2 only.
    pub fn stores_detail(&self) -> Result<Vec<Store>> {
        self.require_v2("stores")?;
        self.call(
            v2::stores::stores_detail(),
            Retry::Safe,
            v2::stores::parse_stores_detail,
        )
    }

    /// Removes an image's data from one store (`DELETE
    /// /v2/stores/{store}/{id}`), keeping it in the others. Needs image API
    /// v2.10 (checked first, as for [`Client::image_tasks`]). A 404 answering
    /// a retry after a lost attempt counts as removed, as in
    /// [`Client::delete_image`].
    pub fn delete_from_store(&self, store: &str, id: &str) -> Result<()> {
        self.require_minor(
            10,
            false,
            "deleting from a store (image API v2.10, which the server does not offer)",
        )?;
        self.remove(
            v2::stores::delete_from_store(store, id),
            &format!("image {id} in store {store}"),
        )
    }

    /// Uploads an image's data into one store of a multi-store Glance
    /// (`X-Image-Meta-Store`), as [`Client::upload`] does otherwise. v2 only.
    pub fn upload_to_store(&self, id: &str, store: &str, data: ImageData<'_>) -> Result<()> {
        self.require_v2("uploading into a store")?;
        let refused = || self.upload_refused(id);
        let response = self.send_data(data, Retry::Safe, &refused, |size| {
            v2::stores::upload_to_store(id, store, size)
        })?;
        wire::check(&response)
    }
}
