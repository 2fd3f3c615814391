//! Interoperable import and store discovery: v2 only.

use super::Client;
use crate::error::Result;
use crate::transport::Retry;
use crate::v2;
use crate::wire;

impl Client {
    /// Starts an import (`glance-direct`, `web-download` or `copy-image`).
    /// The server answers at once; the image becomes `active` when it is
    /// done. v2 only.
    pub fn import_image(&self, id: &str, import: &v2::import::Import) -> Result<()> {
        self.require_v2("import")?;
        self.call(
            v2::import::import(id, import),
            Retry::IfUnsent,
            wire::parse_empty,
        )
    }

    /// The import methods the server offers (`/v2/info/import`). v2 only.
    pub fn import_methods(&self) -> Result<Vec<String>> {
        self.require_v2("import info")?;
        self.call(
            v2::import::import_info(),
            Retry::Safe,
            v2::import::parse_import_info,
        )
    }

    /// The stores of a multi-store Glance (`/v2/info/stores`). v2 only.
    pub fn stores(&self) -> Result<Vec<v2::import::Store>> {
        self.require_v2("stores")?;
        self.call(v2::import::stores(), Retry::Safe, v2::import::parse_stores)
    }
}
