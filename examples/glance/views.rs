//! What python-glanceclient prints for each kind of answer, row for row:
//! `print_image` and `print_dict` (a sorted `Property | Value` table,
//! values wrapped at 80 columns), `print_list` (columns from the object's
//! fields, empty for a value Python finds false), `print_dict_list`
//! (values as Python's `str()`) and `print_cached_images` (centered).
//! `--json` output is ours and lives with each command.

use glance_client::Image;
use glance_client::v2::cache::CacheState;
use glance_client::v2::import::Store;
use glance_client::v2::members::Member;
use glance_client::v2::tasks::Task;
use glance_client::v2::usage::Quota;
use serde_json::{Map, Value, json};

use crate::Failure;
use crate::commands::out;
use crate::table::{Align, Table, py_json, py_object, py_str};

/// `print_dict`: one row per key, sorted, values wrapped at `width`.
pub fn dict(rows: Vec<(String, String)>, width: usize) -> Result<(), Failure> {
    let mut table = Table::new(&["Property", "Value"]).max_width(width);
    for (k, v) in rows {
        table.row(vec![k, v]);
    }
    table.sort_by_first();
    out(&table.render())
}

/// `print_list`: a row per object, the cells as given.
pub fn list(headers: &[&str], rows: Vec<Vec<String>>) -> Result<(), Failure> {
    let mut table = Table::new(headers);
    for row in rows {
        table.row(row);
    }
    out(&table.render())
}

/// An image's rows as `print_image` shows them: every field the image
/// has, lists and objects as JSON, `virtual_size` "Not available" when
/// unknown, `size` as 1.5MB with `human`.
pub fn image_rows(image: &Image, human: bool) -> Result<Vec<(String, String)>, Failure> {
    let value =
        serde_json::to_value(image).map_err(|e| Failure::Api(format!("encoding JSON: {e}")))?;
    let Value::Object(map) = value else {
        return Err(Failure::Api("an image did not encode as an object".into()));
    };
    let mut rows = Vec::new();
    for (key, v) in &map {
        let shown = match key.as_str() {
            "locations" => locations_json(image),
            "virtual_size" if v.is_null() || v.as_u64() == Some(0) => "Not available".into(),
            "size" if human => human_size(image.size.unwrap_or(0)),
            _ => py_str(v),
        };
        rows.push((key.clone(), shown));
    }
    Ok(rows)
}

/// `print_image`, or our JSON.
pub fn image(image: &Image, json: bool, human: bool, width: usize) -> Result<(), Failure> {
    if json {
        let value =
            serde_json::to_value(image).map_err(|e| Failure::Api(format!("encoding JSON: {e}")))?;
        return crate::commands::print_json(&value);
    }
    dict(image_rows(image, human)?, width)
}

/// The locations as Glance lists them: `url` before `metadata`.
fn locations_json(image: &Image) -> String {
    let mut text = String::from("[");
    for (i, l) in image.locations.iter().enumerate() {
        if i > 0 {
            text.push_str(", ");
        }
        let entries = [
            ("url".to_string(), Value::from(l.url.as_str())),
            ("metadata".to_string(), Value::Object(l.metadata.clone())),
        ];
        py_object(entries.iter().map(|(k, v)| (k, v)), &mut text);
    }
    text.push(']');
    text
}

/// glanceclient's `make_size_human_readable`: 1024-based, one decimal at
/// most, `kB`, `MB`, ...
pub fn human_size(size: u64) -> String {
    const SUFFIX: [&str; 8] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB"];
    let mut value = size as f64;
    let mut index = 0;
    while value >= 1024.0 && index + 1 < SUFFIX.len() {
        value /= 1024.0;
        index += 1;
    }
    let padded = format!("{value:.1}");
    let stripped = padded.trim_end_matches('0').trim_end_matches('.');
    format!("{stripped}{}", SUFFIX[index])
}

/// `image-list`: `ID | Name`, with `-v` the formats, size, status and
/// owner, with `--include-stores` the stores.
pub fn image_list(images: &[Image], verbose: bool, stores: bool) -> Result<(), Failure> {
    let mut headers = vec!["ID", "Name"];
    if verbose {
        headers.extend(["Disk_format", "Container_format", "Size", "Status", "Owner"]);
    }
    if stores {
        headers.push("Stores");
    }
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let rows = images
        .iter()
        .map(|i| {
            let mut row = vec![i.id.clone(), text(&i.name)];
            if verbose {
                row.extend([
                    text(&i.disk_format),
                    text(&i.container_format),
                    i.size
                        .filter(|&s| s > 0)
                        .map(|s| s.to_string())
                        .unwrap_or_default(),
                    i.status.clone(),
                    text(&i.owner),
                ]);
            }
            if stores {
                row.push(i.stores.join(","));
            }
            row
        })
        .collect();
    list(&headers, rows)
}

/// `member-list`, `member-create`, `member-update`.
pub fn members(members: &[Member]) -> Result<(), Failure> {
    let rows = members
        .iter()
        .map(|m| vec![m.image_id.clone(), m.member_id.clone(), m.status.clone()])
        .collect();
    list(&["Image ID", "Member ID", "Status"], rows)
}

/// `member-get`: the member object as Glance sends it (with its schema link).
pub fn member(m: &Member) -> Result<(), Failure> {
    let mut rows = vec![
        ("image_id".to_string(), m.image_id.clone()),
        ("member_id".to_string(), m.member_id.clone()),
        ("status".to_string(), m.status.clone()),
        ("schema".to_string(), "/v2/schemas/member".to_string()),
    ];
    for (k, v) in [("created_at", &m.created_at), ("updated_at", &m.updated_at)] {
        rows.push((k.to_string(), v.clone().unwrap_or_else(|| "None".into())));
    }
    dict(rows, 80)
}

/// `image-tag-update`: `ID | Tags`, the tags as Python shows a list.
pub fn tags(image: &Image) -> Result<(), Failure> {
    let tags: Vec<String> = image.tags.iter().map(|t| py_repr_str(t)).collect();
    list(
        &["ID", "Tags"],
        vec![vec![image.id.clone(), format!("[{}]", tags.join(", "))]],
    )
}

/// Python's `repr()` of a string: single quotes unless it holds one and
/// no double quote.
fn py_repr_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::from(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Python's `str()` of a value inside `print_dict_list`: dicts and lists
/// as Python writes them (`{'a': 1}`), text bare, `None`, `True`.
fn py_value_str(value: &Value) -> String {
    fn repr(value: &Value) -> String {
        match value {
            Value::String(s) => py_repr_str(s),
            Value::Array(items) => {
                format!(
                    "[{}]",
                    items.iter().map(repr).collect::<Vec<_>>().join(", ")
                )
            }
            Value::Object(map) => format!(
                "{{{}}}",
                map.iter()
                    .map(|(k, v)| format!("{}: {}", py_repr_str(k), repr(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            other => py_str(other),
        }
    }
    match value {
        Value::String(s) => s.clone(),
        other => repr(other),
    }
}

/// `stores-info [--detail]`: one `stores` row, each store's keys in
/// Glance's order.
pub fn stores(stores: &[Store]) -> Result<(), Failure> {
    let mut text = String::from("[");
    for (i, s) in stores.iter().enumerate() {
        if i > 0 {
            text.push_str(", ");
        }
        // Each entry's value as JSON text, in the order Glance writes them.
        let mut entries: Vec<(&str, String)> = vec![("id", py_json(&json!(s.id)))];
        if let Some(d) = &s.description {
            entries.push(("description", py_json(&json!(d))));
        }
        if s.default {
            entries.push(("default", "\"true\"".into()));
        }
        if s.read_only {
            entries.push(("read-only", "\"true\"".into()));
        }
        if let Some(t) = &s.store_type {
            entries.push(("type", py_json(&json!(t))));
            let mut props = String::new();
            py_object(glance_order(t, &s.properties).into_iter(), &mut props);
            entries.push(("properties", props));
        }
        if let Some(w) = s.weight {
            entries.push(("weight", w.to_string()));
        }
        let fields: Vec<String> = entries
            .into_iter()
            .map(|(k, v)| format!("\"{k}\": {v}"))
            .collect();
        text.push_str(&format!("{{{}}}", fields.join(", ")));
    }
    text.push(']');
    dict(vec![("stores".into(), text)], 80)
}

/// A store driver's settings in the order Glance writes them (its
/// discovery code), any others after them, sorted.
fn glance_order<'a>(
    store_type: &str,
    props: &'a Map<String, Value>,
) -> Vec<(&'a String, &'a Value)> {
    let order: &[&str] = match store_type {
        "file" => &["data_dir", "chunk_size", "thin_provisioning"],
        "rbd" => &["chunk_size", "pool", "thin_provisioning", "fsid"],
        "cinder" => &["volume_type", "use_multipath"],
        "swift" => &["container", "large_object_size", "large_object_chunk_size"],
        "s3" => &[
            "s3_store_large_object_size",
            "s3_store_large_object_chunk_size",
            "s3_store_thread_pools",
        ],
        _ => &[],
    };
    let mut entries: Vec<(&String, &Value)> = order
        .iter()
        .filter_map(|k| props.get_key_value(*k))
        .collect();
    entries.extend(props.iter().filter(|(k, _)| !order.contains(&k.as_str())));
    entries
}

/// `import-info`: the `import-methods` object as Glance writes it.
pub fn import_info(methods: &[String]) -> Result<(), Failure> {
    let value = format!(
        "{{\"description\": \"Import methods available.\", \"type\": \"array\", \"value\": {}}}",
        py_json(&json!(methods))
    );
    dict(vec![("import-methods".into(), value)], 80)
}

/// `task-list`: `ID | Type | Status | Owner`.
pub fn task_list(tasks: &[Task]) -> Result<(), Failure> {
    let rows = tasks
        .iter()
        .map(|t| {
            vec![
                t.id.clone(),
                t.task_type.clone(),
                t.status.clone(),
                t.owner.clone().unwrap_or_default(),
            ]
        })
        .collect();
    list(&["ID", "Type", "Status", "Owner"], rows)
}

/// A task's fields as Glance names them (`type`, not `task_type`).
fn task_fields(task: &Task) -> Map<String, Value> {
    match serde_json::to_value(task) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// `task-show`: every field of the task.
pub fn task(task: &Task) -> Result<(), Failure> {
    let rows = task_fields(task)
        .into_iter()
        .filter(|(k, v)| {
            !(v.is_null() && matches!(k.as_str(), "image_id" | "request_id" | "user_id"))
        })
        .map(|(k, v)| (k, py_str(&v)))
        .collect();
    dict(rows, 80)
}

/// `image-tasks`: `Message | Status | Updated at`; with `-v` the ids
/// before and the rest after.
pub fn image_tasks(tasks: &[Task], verbose: bool) -> Result<(), Failure> {
    let mut columns = vec!["Message", "Status", "Updated at"];
    if verbose {
        columns.splice(0..0, ["Image Id", "Task Id"]);
        columns.extend([
            "User Id",
            "Request Id",
            "Result",
            "Owner",
            "Input",
            "Expires at",
        ]);
    }
    let rows = tasks
        .iter()
        .map(|t| {
            let fields = task_fields(t);
            columns
                .iter()
                .map(|c| {
                    let key = match c.to_lowercase().replace(' ', "_").as_str() {
                        "task_id" => "id".to_string(),
                        other => other.to_string(),
                    };
                    fields.get(&key).map_or_else(String::new, py_value_str)
                })
                .collect::<Vec<String>>()
        })
        .collect::<Vec<_>>();
    let mut table = Table::new(&columns);
    for row in rows {
        table.row(row);
    }
    out(&table.render())
}

/// `usage`: `Quota | Limit | Usage`, in the server's order.
pub fn usage(quotas: &[Quota]) -> Result<(), Failure> {
    let rows = quotas
        .iter()
        .map(|q| vec![q.name.clone(), q.limit.to_string(), q.usage.to_string()])
        .collect();
    list(&["Quota", "Limit", "Usage"], rows)
}

/// `cache-list`: cached images, then queued ones; centered, as
/// glanceclient's own table is.
pub fn cache(state: &CacheState) -> Result<(), Failure> {
    let mut table = Table::new(&[
        "ID",
        "State",
        "Last Accessed (UTC)",
        "Last Modified (UTC)",
        "Size",
        "Hits",
    ])
    .align(Align::Center);
    for c in &state.cached {
        let accessed = if c.last_accessed == 0.0 {
            "N/A".to_string()
        } else {
            iso_utc(c.last_accessed)
        };
        table.row(vec![
            c.image_id.clone(),
            "cached".into(),
            accessed,
            iso_utc(c.last_modified),
            c.size.to_string(),
            c.hits.to_string(),
        ]);
    }
    for id in &state.queued {
        let mut row = vec![id.clone(), "queued".to_string()];
        row.extend(std::iter::repeat_n("N/A".to_string(), 4));
        table.row(row);
    }
    out(&table.render())
}

/// Seconds since the epoch as Python's `datetime.isoformat()` in UTC:
/// microseconds only when there are any.
fn iso_utc(seconds: f64) -> String {
    let whole = seconds.floor();
    let mut micros = ((seconds - whole) * 1e6).round_ties_even() as u64;
    let mut secs = whole.max(0.0) as u64;
    if micros >= 1_000_000 {
        secs += 1;
        micros -= 1_000_000;
    }
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    let text = glance_client::wire::format_utc(time);
    let text = text.trim_end_matches('Z');
    if micros == 0 {
        text.to_string()
    } else {
        format!("{text}.{micros:06}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_times_as_python_writes_them() {
        assert_eq!(human_size(1000), "1000B");
        assert_eq!(human_size(1048577), "1MB");
        assert_eq!(human_size(1536), "1.5kB");
        assert_eq!(human_size(0), "0B");
        assert_eq!(iso_utc(1796628249.547044), "2026-12-07T07:24:09.547044");
        assert_eq!(iso_utc(1796628249.0), "2026-12-07T07:24:09");
    }

    #[test]
    fn python_reprs() {
        assert_eq!(py_repr_str("t1"), "'t1'");
        assert_eq!(py_repr_str("it's"), "\"it's\"");
        assert_eq!(
            py_value_str(&json!({"image_id": "x", "n": 1, "ok": true, "l": [null]})),
            "{'image_id': 'x', 'l': [None], 'n': 1, 'ok': True}"
        );
    }

    #[test]
    fn a_stores_properties_keep_glances_order() {
        let props = json!({"chunk_size": 65536, "data_dir": "/d/", "thin_provisioning": false});
        let mut text = String::new();
        py_object(
            glance_order("file", props.as_object().unwrap()).into_iter(),
            &mut text,
        );
        assert_eq!(
            text,
            r#"{"data_dir": "/d/", "chunk_size": 65536, "thin_provisioning": false}"#
        );
    }
}
