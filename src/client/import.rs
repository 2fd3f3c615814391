//! Interoperable import and store discovery: v2 only.

use std::io::Read;
use std::path::Path;

use super::{Client, open_sized};
use crate::error::Result;
use crate::transport::{Payload, Retry};
use crate::v2;
use crate::wire;

impl Client {
    /// Stages data for a `glance-direct` import (sent once, like
    /// [`Client::upload`]). v2 only.
    pub fn stage(&self, id: &str, data: &mut dyn Read, size: Option<u64>) -> Result<()> {
        self.require_v2("stage")?;
        let request = v2::import::stage(id, size)?;
        let response = self.transport().send_payload(
            &request,
            Payload::Stream(data),
            Retry::IfUnsent,
            &|| self.upload_refused(id),
        )?;
        wire::parse_empty(&response)
    }

    /// Stages a local file (retried like a read: the file is rewound). v2 only.
    pub fn stage_file(&self, id: &str, path: &Path) -> Result<()> {
        self.require_v2("stage")?;
        let (mut file, size) = open_sized(path)?;
        let request = v2::import::stage(id, Some(size))?;
        let payload = Payload::Rewindable {
            reader: &mut file,
            start: 0,
        };
        let response = self
            .transport()
            .send_payload(&request, payload, Retry::Safe, &|| self.upload_refused(id))?;
        wire::parse_empty(&response)
    }

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
