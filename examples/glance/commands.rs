//! The commands, each over the crate's public API only: this file
//! dispatches; images.rs, more.rs and download.rs hold the commands, and
//! views.rs prints what glanceclient prints.

use std::io::{self, Write};

use glance_client::{Client, ListQuery};
use serde_json::{Value, json};

use crate::Failure;
use crate::args::{Invocation, Values};
use crate::views;

/// Runs one command with a client built from the resolved configuration.
pub fn run(client: &Client, inv: &Invocation, json: bool) -> Result<(), Failure> {
    let Some(spec) = inv.command else {
        return Err(Failure::Usage("no command given".into()));
    };
    let o = &inv.options;
    let p = &inv.positionals;
    let verbose = inv.global.flag("--verbose");
    let show = |image: &glance_client::Image| views::image(image, json, false, 80);
    match spec.name {
        "image-list" => crate::images::image_list(client, o, json, verbose),
        "image-show" => {
            let image = client.image(&p[0])?;
            let width = o
                .number::<usize>("--max-column-width")?
                .unwrap_or(80)
                .max(1);
            views::image(&image, json, o.flag("--human-readable"), width)
        }
        "image-create" => show(&crate::images::image_create(client, o)?),
        "image-upload" => {
            let source = crate::images::data_for("image-upload", o)?;
            let store = crate::images::store_option(o);
            if let Some(store) = &store {
                crate::images::check_store(client, store)?;
            }
            crate::images::upload(
                client,
                &p[0],
                source,
                store.as_deref(),
                o.flag("--progress"),
            )?;
            if json {
                show(&client.image(&p[0])?)?;
            }
            Ok(())
        }
        "image-update" => show(&crate::images::image_update(client, &p[0], o)?),
        "image-download" => {
            let cache_dir = match o.one("--cache-dir") {
                Some(_) => Some(crate::cache::dir(o, None)?),
                None => None,
            };
            crate::download::image_download(client, &p[0], o, cache_dir, json)
        }
        "image-delete" => image_delete(client, p),
        "image-tag-update" => {
            client.add_tag(&p[0], &p[1])?;
            let image = client.image(&p[0])?;
            if json {
                return show(&image);
            }
            views::tags(&image)
        }
        "image-tag-delete" => Ok(client.remove_tag(&p[0], &p[1])?),
        "image-deactivate" => Ok(client.deactivate_image(&p[0])?),
        "image-reactivate" => Ok(client.reactivate_image(&p[0])?),
        "member-list" => members(&client.members(&p[0])?, json, false),
        "member-create" => members(&[client.add_member(&p[0], &p[1])?], json, true),
        "member-update" => members(&[client.update_member(&p[0], &p[1], &p[2])?], json, true),
        "member-delete" => Ok(client.remove_member(&p[0], &p[1])?),
        "host-cache-fetch" => {
            let dir = crate::cache::dir(o, client.config().image_cache_dir.as_ref())?;
            crate::cache::fetch(client, dir, p, o, json)
        }
        other => crate::more::run(client, other, inv, json),
    }
}

/// Memberships: a JSON object for one (create, update) or a list, or
/// glanceclient's table.
fn members(
    members: &[glance_client::v2::members::Member],
    json: bool,
    one: bool,
) -> Result<(), Failure> {
    if json {
        return match members {
            [member] if one => print_json(&json!(member)),
            all => print_json(&json!(all)),
        };
    }
    views::members(members)
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

/// `--property-filter`s: standard fields by name, anything else an extra
/// property.
pub fn property_filters(o: &Values) -> Result<ListQuery, Failure> {
    let mut q = ListQuery::default();
    for (key, value) in crate::images::pairs("--property-filter", o.all("--property-filter"))? {
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
