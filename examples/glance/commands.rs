//! The commands, each over the crate's public API only.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Seek, SeekFrom, Write};
use std::ops::ControlFlow;

use glance_client::{
    Client, Image, ImageData, ImageUpdate, ListQuery, NewImage, v2::members::Member,
};
use serde_json::{Value, json};

use crate::Failure;
use crate::args::{Invocation, Values};
use crate::progress::Bar;

/// Runs one command with a client built from the resolved configuration.
pub fn run(client: &Client, inv: &Invocation, json: bool) -> Result<(), Failure> {
    let Some(spec) = inv.command else {
        return Err(Failure::Usage("no command given".into()));
    };
    let o = &inv.options;
    let p = &inv.positionals;
    match spec.name {
        "image-list" => image_list(client, o, json),
        "image-show" => {
            let image = client.image(&p[0])?;
            print_image(&image, json)
        }
        "image-create" => image_create(client, o, json),
        "image-upload" => {
            upload(client, &p[0], o)?;
            if json {
                print_image(&client.image(&p[0])?, true)?;
            }
            Ok(())
        }
        "image-update" => image_update(client, &p[0], o, json),
        "image-download" => {
            let cache_dir = match o.one("--cache-dir") {
                Some(_) => Some(crate::cache::dir(o, None)?),
                None => None,
            };
            crate::download::image_download(client, &p[0], o, cache_dir, json)
        }
        "image-delete" => image_delete(client, p),
        "image-tag-update" => Ok(client.add_tag(&p[0], &p[1])?),
        "image-tag-delete" => Ok(client.remove_tag(&p[0], &p[1])?),
        "image-deactivate" => Ok(client.deactivate_image(&p[0])?),
        "image-reactivate" => Ok(client.reactivate_image(&p[0])?),
        "member-list" => print_members(&client.members(&p[0])?, json),
        "member-create" => print_member(&client.add_member(&p[0], &p[1])?, json),
        "member-update" => print_member(&client.update_member(&p[0], &p[1], &p[2])?, json),
        "member-delete" => Ok(client.remove_member(&p[0], &p[1])?),
        "host-cache-fetch" => {
            let dir = crate::cache::dir(o, client.config().image_cache_dir.as_ref())?;
            crate::cache::fetch(client, dir, p, o, json)
        }
        other => Err(Failure::Usage(format!("{other} cannot run here"))),
    }
}

/// Writes `text` to stdout; a closed pipe or full disk is an I/O error.
pub fn out(text: &str) -> Result<(), Failure> {
    let mut stdout = io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| Failure::Api(format!("writing to stdout: {e}")))
}

pub fn print_json(value: &Value) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Failure::Api(format!("encoding JSON: {e}")))?;
    out(&format!("{text}\n"))
}

/// `KEY=VALUE` options as a map; the key must not be empty.
fn pairs(option: &str, values: &[String]) -> Result<BTreeMap<String, String>, Failure> {
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

fn boolean(key: &str, value: &str) -> Result<bool, Failure> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" => Ok(true),
        "false" | "no" | "0" => Ok(false),
        _ => Err(Failure::Usage(format!(
            "--property-filter {key} is true or false, not {value:?}"
        ))),
    }
}

fn size(key: &str, value: &str) -> Result<u64, Failure> {
    value.parse().map_err(|_| {
        Failure::Usage(format!(
            "--property-filter {key} is a size in bytes, not {value:?}"
        ))
    })
}

/// The listing query: standard fields by name, anything else an extra property.
fn list_query(o: &Values) -> Result<ListQuery, Failure> {
    let mut q = ListQuery {
        limit: o.number("--limit")?,
        page_size: o.number("--page-size")?,
        sort: o.all("--sort").to_vec(),
        tags: o.all("--tag").to_vec(),
        ..ListQuery::default()
    };
    if q.page_size == Some(0) {
        return Err(Failure::Usage("--page-size must be at least 1".into()));
    }
    for (key, value) in pairs("--property-filter", o.all("--property-filter"))? {
        match key.as_str() {
            "name" => q.name = Some(value),
            "status" => q.status = Some(value),
            "visibility" => q.visibility = Some(value),
            "owner" => q.owner = Some(value),
            "member_status" => q.member_status = Some(value),
            "disk_format" => q.disk_format = Some(value),
            "container_format" => q.container_format = Some(value),
            "created_at" => q.created_at = Some(value),
            "updated_at" => q.updated_at = Some(value),
            "protected" => q.protected = Some(boolean(&key, &value)?),
            "os_hidden" => q.os_hidden = Some(boolean(&key, &value)?),
            "size_min" => q.size_min = Some(size(&key, &value)?),
            "size_max" => q.size_max = Some(size(&key, &value)?),
            "tag" => q.tags.push(value),
            _ => {
                q.properties.insert(key, value);
            }
        }
    }
    Ok(q)
}

fn image_list(client: &Client, o: &Values, json: bool) -> Result<(), Failure> {
    let query = list_query(o)?;
    if json {
        let images = client.images(&query).collect::<Result<Vec<Image>, _>>()?;
        let value = serde_json::to_value(&images)
            .map_err(|e| Failure::Api(format!("encoding JSON: {e}")))?;
        return print_json(&value);
    }
    // Text streams page by page, so a long listing shows up as it comes; the
    // header waits for the first page, so an error prints nothing on stdout.
    let header = format!("{:36}  {:11}  {:>12}  {}\n", "ID", "Status", "Size", "Name");
    let mut header = Some(header);
    for image in client.images(&query) {
        let image = image?;
        if let Some(h) = header.take() {
            out(&h)?;
        }
        out(&format!(
            "{:36}  {:11}  {:>12}  {}\n",
            image.id,
            image.status,
            image.size.map(|s| s.to_string()).unwrap_or_default(),
            image.name.as_deref().unwrap_or("")
        ))?;
    }
    match header {
        Some(h) => out(&h),
        None => Ok(()),
    }
}

/// An image as JSON (Glance v2 field names), or as aligned `field value` lines.
pub fn print_image(image: &Image, json: bool) -> Result<(), Failure> {
    let value =
        serde_json::to_value(image).map_err(|e| Failure::Api(format!("encoding JSON: {e}")))?;
    if json {
        return print_json(&value);
    }
    let Value::Object(map) = value else {
        return Err(Failure::Api("an image did not encode as an object".into()));
    };
    let width = map.keys().map(String::len).max().unwrap_or(0);
    let mut text = String::new();
    for (key, v) in &map {
        let shown = match v {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        text.push_str(&format!("{key:width$}  {shown}\n"));
    }
    out(&text)
}

/// One membership: a JSON object, or the one-row table.
fn print_member(member: &Member, json: bool) -> Result<(), Failure> {
    if json {
        return print_json(&json!(member));
    }
    print_members(std::slice::from_ref(member), false)
}

fn print_members(members: &[Member], json: bool) -> Result<(), Failure> {
    if json {
        return print_json(&json!(members));
    }
    let mut text = format!("{:36}  {:32}  {}\n", "Image ID", "Member ID", "Status");
    for m in members {
        text.push_str(&format!(
            "{:36}  {:32}  {}\n",
            m.image_id, m.member_id, m.status
        ));
    }
    out(&text)
}

fn image_create(client: &Client, o: &Values, json: bool) -> Result<(), Failure> {
    let new = NewImage {
        name: o.one("--name").map(String::from),
        disk_format: o.one("--disk-format").map(String::from),
        container_format: o.one("--container-format").map(String::from),
        visibility: o.one("--visibility").map(String::from),
        properties: pairs("--property", o.all("--property"))?,
        ..NewImage::default()
    };
    // Open the data first, so a missing file does not leave an empty image behind.
    let source = match o.one("--file") {
        Some(path) => Some(Source::open(path)?),
        None => None,
    };
    let image = client.create_image(&new)?;
    let image = match source {
        None => image,
        Some(source) => {
            source
                .send(client, &image.id, o.flag("--progress"))
                .map_err(|e| {
                    Failure::Api(format!(
                        "image {} was created, but its upload failed: {}",
                        image.id,
                        e.message()
                    ))
                })?;
            client.image(&image.id)?
        }
    };
    print_image(&image, json)
}

fn upload(client: &Client, id: &str, o: &Values) -> Result<(), Failure> {
    let path = o.one("--file").unwrap_or("-");
    Source::open(path)?.send(client, id, o.flag("--progress"))
}

/// Upload data: a file (sent with its size, rewound on a retry) or stdin
/// (streamed chunked, sent once).
enum Source {
    File { file: File, size: u64 },
    Stdin,
}

impl Source {
    fn open(path: &str) -> Result<Source, Failure> {
        if path == "-" {
            return Ok(Source::Stdin);
        }
        let io_error = |e: io::Error| Failure::Api(format!("opening {path}: {e}"));
        let mut file = File::open(path).map_err(io_error)?;
        let size = file.seek(SeekFrom::End(0)).map_err(io_error)?;
        file.seek(SeekFrom::Start(0)).map_err(io_error)?;
        Ok(Source::File { file, size })
    }

    /// Uploads the data, drawing the bar from the upload's progress
    /// callback (the count starts over when a failed attempt is sent again).
    fn send(self, client: &Client, id: &str, progress: bool) -> Result<(), Failure> {
        let (mut file, mut stdin);
        let (data, mut bar) = match self {
            Source::File { file: f, size } => {
                file = f;
                let data = ImageData::seekable(&mut file, Some(size));
                (data, Bar::new(progress, "upload", Some(size)))
            }
            Source::Stdin => {
                stdin = io::stdin().lock();
                let data = ImageData::reader(&mut stdin, None);
                (data, Bar::new(progress, "upload", None))
            }
        };
        let data = data.with_progress(|sent, total| {
            bar.update(sent, total);
            ControlFlow::Continue(())
        });
        client.upload(id, data)?;
        bar.finish();
        Ok(())
    }
}

fn image_update(client: &Client, id: &str, o: &Values, json: bool) -> Result<(), Failure> {
    let update = ImageUpdate {
        name: o.one("--name").map(String::from),
        set_properties: pairs("--property", o.all("--property"))?,
        remove_properties: o.all("--remove-property").to_vec(),
        ..ImageUpdate::default()
    };
    if update.is_empty() {
        return Err(Failure::Usage(
            "image-update needs --name, --property or --remove-property".into(),
        ));
    }
    let image = client.update_image(id, &update)?;
    print_image(&image, json)
}

/// Deletes each image; goes on past a failure and reports every one.
fn image_delete(client: &Client, ids: &[String]) -> Result<(), Failure> {
    let mut failed = Vec::new();
    for id in ids {
        if let Err(e) = client.delete_image(id) {
            failed.push((id, Failure::from(e)));
        }
    }
    match failed.len() {
        0 => Ok(()),
        n => {
            // Every failure but the last on a line of its own; the last one
            // is the command's one-line error, with the count.
            let mut last = None;
            for (i, (id, failure)) in failed.into_iter().enumerate() {
                let line = format!("deleting {id}: {}", failure.message());
                if i + 1 < n {
                    eprintln!("glance: error: {}", crate::redact::text(&line));
                } else {
                    let line = match ids.len() {
                        1 => line,
                        all => format!("{line} ({n} of {all} deletions failed)"),
                    };
                    last = Some(failure.with_message(line));
                }
            }
            Err(last.unwrap_or_else(|| Failure::Api(format!("{n} deletions failed"))))
        }
    }
}
