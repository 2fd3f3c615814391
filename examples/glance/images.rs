//! The image commands as python-glanceclient has them: `image-list`
//! (sorted by name by default), `image-create` (typed fields, data from
//! `--file` or a piped stdin), `image-update` (only what differs is sent),
//! `image-upload` and `image-stage`.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Seek, SeekFrom};
use std::ops::ControlFlow;

use glance_client::{Client, Image, ImageData, ImageUpdate, ListQuery, NewImage};

use crate::Failure;
use crate::args::Values;
use crate::progress::Bar;

/// `KEY=VALUE` options as a map; the key must not be empty.
pub fn pairs(option: &str, values: &[String]) -> Result<BTreeMap<String, String>, Failure> {
    let mut map = BTreeMap::new();
    for v in values {
        match v.split_once('=') {
            Some((k, val)) if !k.trim().is_empty() => {
                map.insert(k.trim().to_string(), val.to_string());
            }
            _ => {
                return Err(Failure::Usage(format!(
                    "{option} takes KEY=VALUE, not {v:?}"
                )));
            }
        }
    }
    Ok(map)
}

/// oslo's `bool_from_string(strict=True)`: what glanceclient takes for
/// `--protected` and `--hidden`.
pub fn boolean(option: &str, value: &str) -> Result<bool, Failure> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "t" | "yes" | "y" | "on" | "1" => Ok(true),
        "false" | "f" | "no" | "n" | "off" | "0" => Ok(false),
        _ => Err(Failure::Usage(format!(
            "{option} is True or False, not {value:?}"
        ))),
    }
}

fn optional_bool(o: &Values, option: &str) -> Result<Option<bool>, Failure> {
    o.one(option).map(|v| boolean(option, v)).transpose()
}

/// The fields of the image schema that are extra properties to Glance.
const STRING_PROPERTIES: [(&str, &str); 6] = [
    ("--architecture", "architecture"),
    ("--instance-uuid", "instance_uuid"),
    ("--kernel-id", "kernel_id"),
    ("--os-distro", "os_distro"),
    ("--os-version", "os_version"),
    ("--ramdisk-id", "ramdisk_id"),
];

/// The typed fields and properties `image-create` and
/// `image-create-via-import` share.
pub fn new_image(o: &Values) -> Result<NewImage, Failure> {
    let text = |name: &str| o.one(name).map(String::from);
    let mut properties = pairs("--property", o.all("--property"))?;
    for (flag, key) in STRING_PROPERTIES {
        if let Some(v) = o.one(flag) {
            properties.insert(key.to_string(), v.to_string());
        }
    }
    let mut new = NewImage {
        id: text("--id"),
        name: text("--name"),
        disk_format: text("--disk-format"),
        container_format: text("--container-format"),
        visibility: text("--visibility"),
        owner: text("--owner"),
        protected: optional_bool(o, "--protected")?,
        os_hidden: optional_bool(o, "--hidden")?,
        min_disk: o.number("--min-disk")?,
        min_ram: o.number("--min-ram")?,
        tags: o.all("--tags").to_vec(),
        properties,
    };
    standard_fields_by_property(&mut new.properties)?;
    Ok(new)
}

/// `--property min_disk=1` would reach Glance as a string (refused): name
/// the flag that sends it typed.
fn standard_fields_by_property(properties: &mut BTreeMap<String, String>) -> Result<(), Failure> {
    for (key, flag) in [
        ("min_disk", "--min-disk"),
        ("min_ram", "--min-ram"),
        ("protected", "--protected"),
        ("os_hidden", "--hidden"),
        ("tags", "--tags"),
    ] {
        if let Some(v) = properties.get(key) {
            return Err(Failure::Usage(format!(
                "--property {key}={v}: {key} is a typed field, set it with {flag} {v}"
            )));
        }
    }
    Ok(())
}

/// Where upload data comes from.
pub enum Source {
    File { file: File, size: u64 },
    Stdin { size: Option<u64> },
}

/// Whether stdin holds data: a pipe, a file or a socket; not a terminal,
/// not a device such as /dev/null, not closed. (glanceclient reads any
/// stdin that is not a terminal, /dev/null included: an empty upload.)
pub fn stdin_has_data() -> bool {
    use std::io::IsTerminal;
    if io::stdin().is_terminal() {
        return false;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        match std::fs::metadata("/dev/stdin") {
            Ok(m) => {
                let t = m.file_type();
                t.is_fifo() || t.is_file() || t.is_socket()
            }
            Err(_) => false,
        }
    }
    #[cfg(not(unix))]
    true
}

impl Source {
    /// `--file PATH` (`-`: stdin), else stdin when it holds data, else
    /// none; `--size` checked against a file's size.
    pub fn from_options(o: &Values) -> Result<Option<Source>, Failure> {
        let size = o.number::<u64>("--size")?;
        let source = match o.one("--file") {
            Some("-") => Some(Source::Stdin { size }),
            Some(path) => Some(Source::open(path)?),
            None if stdin_has_data() => Some(Source::Stdin { size }),
            None => None,
        };
        if let (Some(Source::File { size: actual, .. }), Some(given)) = (&source, size)
            && *actual != given
        {
            return Err(Failure::Usage(format!(
                "Size mismatch: provided size {given} does not match the size of the image {actual}"
            )));
        }
        Ok(source)
    }

    fn open(path: &str) -> Result<Source, Failure> {
        let io_error = |e: io::Error| {
            Failure::Api(format!(
                "File {path} does not exist or user does not have read privileges to it ({e})"
            ))
        };
        let mut file = File::open(path).map_err(io_error)?;
        let size = file.seek(SeekFrom::End(0)).map_err(io_error)?;
        file.seek(SeekFrom::Start(0)).map_err(io_error)?;
        Ok(Source::File { file, size })
    }

    /// The option that named the data, for messages (`--file` or `stdin`).
    pub fn named(&self) -> &'static str {
        match self {
            Source::File { .. } => "--file",
            Source::Stdin { .. } => "stdin",
        }
    }

    /// Sends the data with `send` (upload, upload to a store, stage): a
    /// file with its size and rewound on a retry, stdin streamed once.
    pub fn send(
        self,
        progress: bool,
        send: impl FnOnce(ImageData<'_>) -> glance_client::Result<()>,
    ) -> Result<(), Failure> {
        // The upload's own progress callback draws the bar (the count
        // starts over when a failed attempt is sent again).
        let (mut file, mut stdin);
        let (data, mut bar) = match self {
            Source::File { file: f, size } => {
                file = f;
                let data = ImageData::seekable(&mut file, Some(size));
                (data, Bar::new(progress, "upload", Some(size)))
            }
            Source::Stdin { size } => {
                stdin = io::stdin().lock();
                let data = ImageData::reader(&mut stdin, size);
                (data, Bar::new(progress, "upload", size))
            }
        };
        let data = data.with_progress(|sent, total| {
            bar.update(sent, total);
            ControlFlow::Continue(())
        });
        send(data)?;
        bar.finish();
        Ok(())
    }
}

/// glanceclient's `_validate_backend`: a store the server does not list
/// is refused before anything is created (a server without multi-store
/// support, 404, is not asked again).
pub fn check_store(client: &Client, store: &str) -> Result<(), Failure> {
    match client.stores() {
        Ok(stores) if !stores.iter().any(|s| s.id == store) => Err(Failure::Usage(format!(
            "Store '{store}' is not valid for this cloud. Valid values can be retrieved \
             with stores-info command."
        ))),
        Ok(_) | Err(glance_client::Error::NotFound(_)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// `--store`, else `OS_IMAGE_STORE`.
pub fn store_option(o: &Values) -> Option<String> {
    o.one("--store").map(String::from).or_else(|| {
        std::env::var("OS_IMAGE_STORE")
            .ok()
            .filter(|s| !s.is_empty())
    })
}

/// Uploads `source` to image `id`, into `store` when given.
pub fn upload(
    client: &Client,
    id: &str,
    source: Source,
    store: Option<&str>,
    progress: bool,
) -> Result<(), Failure> {
    source.send(progress, |data| match store {
        Some(store) => client.upload_to_store(id, store, data),
        None => client.upload(id, data),
    })
}

/// `image-create`: the record, then the data when there is any.
pub fn image_create(client: &Client, o: &Values) -> Result<Image, Failure> {
    let new = new_image(o)?;
    let source = Source::from_options(o)?;
    let store = store_option(o);
    let Some(source) = source else {
        if o.one("--size").is_some() {
            return Err(Failure::Usage(
                "Setting 'size' during image creation is not supported. \
                 Please use --size only when uploading data."
                    .into(),
            ));
        }
        if o.one("--store").is_some() {
            return Err(Failure::Usage(
                "--store option should only be provided with --file option or stdin.".into(),
            ));
        }
        return Ok(client.create_image(&new)?);
    };
    require_formats(&new, source.named())?;
    if let Some(store) = &store {
        check_store(client, store)?;
    }
    let image = client.create_image(&new)?;
    upload(
        client,
        &image.id,
        source,
        store.as_deref(),
        o.flag("--progress"),
    )
    .map_err(|e| {
        Failure::Api(format!(
            "image {} was created, but its upload failed: {}",
            image.id,
            e.message()
        ))
    })?;
    Ok(client.image(&image.id)?)
}

/// glanceclient's `on_data_require_fields`: data needs both formats.
pub fn require_formats(new: &NewImage, named: &str) -> Result<(), Failure> {
    let mut missing = Vec::new();
    if new.container_format.is_none() {
        missing.push("--container-format");
    }
    if new.disk_format.is_none() {
        missing.push("--disk-format");
    }
    if missing.is_empty() {
        return Ok(());
    }
    Err(Failure::Usage(format!(
        "Must provide {} when using {named}.",
        missing.join(", ")
    )))
}

/// `image-update`: reads the image, sends only what differs (removing a
/// property it does not have is no change), returns the image.
pub fn image_update(client: &Client, id: &str, o: &Values) -> Result<Image, Failure> {
    let mut set_properties = pairs("--property", o.all("--property"))?;
    for (flag, key) in STRING_PROPERTIES {
        if let Some(v) = o.one(flag) {
            set_properties.insert(key.to_string(), v.to_string());
        }
    }
    standard_fields_by_property(&mut set_properties)?;
    let text = |name: &str| o.one(name).map(String::from);
    let update = ImageUpdate {
        name: text("--name"),
        disk_format: text("--disk-format"),
        container_format: text("--container-format"),
        visibility: text("--visibility"),
        owner: text("--owner"),
        protected: optional_bool(o, "--protected")?,
        os_hidden: optional_bool(o, "--hidden")?,
        min_disk: o.number("--min-disk")?,
        min_ram: o.number("--min-ram")?,
        tags: None,
        set_properties,
        remove_properties: o.all("--remove-property").to_vec(),
    };
    let image = client.image(id)?;
    let changes = update.against(&image);
    if changes.is_empty() {
        return Ok(image);
    }
    Ok(client.update_image(id, &changes)?)
}

/// `image-upload` and `image-stage`: `--file`, else stdin; a terminal is
/// no data.
pub fn data_for(command: &str, o: &Values) -> Result<Source, Failure> {
    Source::from_options(o)?.ok_or_else(|| {
        Failure::Usage(format!(
            "{command} needs --file, or the data on stdin (not a terminal)"
        ))
    })
}

/// The sort keys glanceclient offers for `--sort-key` and `--sort`.
const SORT_KEYS: [&str; 8] = [
    "name",
    "status",
    "container_format",
    "disk_format",
    "size",
    "id",
    "created_at",
    "updated_at",
];

/// The sort order: `--sort a:desc,b` (repeatable), or `--sort-key` with
/// `--sort-dir` (one direction for all keys, or one each), else `by_name`
/// (`name:asc`, glanceclient's default) or the server's.
fn sort_order(o: &Values, by_name: bool) -> Result<Vec<String>, Failure> {
    let keys = o.all("--sort-key");
    let dirs = o.all("--sort-dir");
    let sort: Vec<String> = o
        .all("--sort")
        .iter()
        .flat_map(|s| s.split(','))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    for key in keys {
        if !SORT_KEYS.contains(&key.as_str()) {
            return Err(Failure::Usage(format!(
                "--sort-key {key:?} is not one of {}",
                SORT_KEYS.join(", ")
            )));
        }
    }
    for dir in dirs {
        if dir != "asc" && dir != "desc" {
            return Err(Failure::Usage(format!(
                "--sort-dir is asc or desc, not {dir:?}"
            )));
        }
    }
    if !sort.is_empty() {
        if !keys.is_empty() || !dirs.is_empty() {
            return Err(Failure::Usage(
                "--sort cannot be used with --sort-key or --sort-dir".into(),
            ));
        }
        return Ok(sort);
    }
    if dirs.len() > 1 && dirs.len() != keys.len() {
        return Err(Failure::Usage(
            "Unexpected number of sort directions: either provide a single sort direction \
             or an equal number of sort keys and sort directions."
                .into(),
        ));
    }
    let keys: Vec<&str> = match (keys.is_empty(), dirs.is_empty()) {
        (true, true) if by_name => return Ok(vec!["name:asc".into()]),
        (true, true) => return Ok(Vec::new()),
        // Glance's default key.
        (true, false) => vec!["created_at"],
        _ => keys.iter().map(String::as_str).collect(),
    };
    Ok(keys
        .iter()
        .enumerate()
        .map(|(i, k)| match dirs.get(i).or(dirs.first()) {
            Some(d) => format!("{k}:{d}"),
            None => k.to_string(),
        })
        .collect())
}

/// The listing query of `image-list`.
pub fn list_query(o: &Values, by_name: bool) -> Result<ListQuery, Failure> {
    let mut q = crate::commands::property_filters(o)?;
    q.limit = o.number("--limit")?;
    q.page_size = o.number("--page-size")?;
    if q.page_size == Some(0) {
        return Err(Failure::Usage("--page-size must be at least 1".into()));
    }
    q.tags.extend(o.all("--tag").iter().cloned());
    for (flag, slot) in [
        ("--visibility", &mut q.visibility),
        ("--member-status", &mut q.member_status),
        ("--owner", &mut q.owner),
    ] {
        if let Some(v) = o.one(flag) {
            *slot = Some(v.to_string());
        }
    }
    for (flag, key) in [("--checksum", "checksum"), ("--hash", "os_hash_value")] {
        if let Some(v) = o.one(flag) {
            q.properties.insert(key.into(), v.into());
        }
    }
    if let Some(v) = optional_bool(o, "--hidden")? {
        q.os_hidden = Some(v);
    }
    q.sort = sort_order(o, by_name)?;
    Ok(q)
}

/// `image-list`: our JSON (in the server's order unless asked), or
/// glanceclient's table (by name unless asked).
pub fn image_list(client: &Client, o: &Values, json: bool, verbose: bool) -> Result<(), Failure> {
    let query = list_query(o, !json)?;
    let images = client.images(&query).collect::<Result<Vec<Image>, _>>()?;
    if json {
        let value = serde_json::to_value(&images)
            .map_err(|e| Failure::Api(format!("encoding JSON: {e}")))?;
        return crate::commands::print_json(&value);
    }
    let stores = optional_bool(o, "--include-stores")?.unwrap_or(false);
    crate::views::image_list(&images, verbose, stores)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(args: &[&str]) -> Values {
        let mut all = vec!["image-list".to_string()];
        all.extend(args.iter().map(|s| s.to_string()));
        crate::args::parse(&all)
            .unwrap_or_else(|f| panic!("{}", f.message()))
            .options
    }

    #[test]
    fn sort_orders_as_glanceclient_sends_them() {
        let order = |args: &[&str], by_name| sort_order(&values(args), by_name);
        assert_eq!(order(&[], true).unwrap(), ["name:asc"]);
        assert!(order(&[], false).unwrap().is_empty());
        assert_eq!(
            order(&["--sort", "name:desc,size:asc", "--sort", "id"], true).unwrap(),
            ["name:desc", "size:asc", "id"]
        );
        assert_eq!(
            order(
                &[
                    "--sort-key",
                    "name",
                    "--sort-key",
                    "size",
                    "--sort-dir",
                    "desc"
                ],
                true
            )
            .unwrap(),
            ["name:desc", "size:desc"]
        );
        assert_eq!(
            order(
                &[
                    "--sort-key",
                    "name",
                    "--sort-key",
                    "size",
                    "--sort-dir",
                    "desc",
                    "--sort-dir",
                    "asc"
                ],
                true
            )
            .unwrap(),
            ["name:desc", "size:asc"]
        );
        assert_eq!(
            order(&["--sort-dir", "asc"], true).unwrap(),
            ["created_at:asc"]
        );
        assert!(order(&["--sort-key", "owner"], true).is_err());
        assert!(order(&["--sort", "name", "--sort-key", "size"], true).is_err());
    }

    #[test]
    fn typed_fields_and_the_properties_that_would_be_strings() {
        let mut all = vec!["image-create".to_string()];
        all.extend(
            [
                "--name",
                "n",
                "--min-disk",
                "2",
                "--protected",
                "yes",
                "--tags",
                "a",
                "b",
                "--os-distro",
                "ubuntu",
                "--hidden",
                "False",
            ]
            .iter()
            .map(|s| s.to_string()),
        );
        let inv = crate::args::parse(&all).unwrap_or_else(|f| panic!("{}", f.message()));
        let new = new_image(&inv.options).unwrap_or_else(|f| panic!("{}", f.message()));
        assert_eq!(new.min_disk, Some(2));
        assert_eq!(new.protected, Some(true));
        assert_eq!(new.os_hidden, Some(false));
        assert_eq!(new.tags, ["a", "b"]);
        assert_eq!(new.properties["os_distro"], "ubuntu");
        let mut props = BTreeMap::from([("min_disk".to_string(), "1".to_string())]);
        let err = standard_fields_by_property(&mut props).unwrap_err();
        assert!(err.message().contains("--min-disk 1"), "{}", err.message());
        assert!(boolean("--protected", "maybe").is_err());
    }
}
