//! The VMDK descriptor: ASCII lines of `key=value` header fields (among them
//! `createType`), extent lines (`RW 2048 SPARSE "disk.vmdk"`) and `ddb.`
//! entries. Read cautiously, as oslo.utils does: a line of any other shape
//! makes the descriptor malformed. Nothing here allocates more than the
//! capped strings it keeps.

use super::bytes::text;

/// The longest `createType` kept (oslo.utils keeps fewer than 64 bytes).
pub(super) const CREATE_TYPE_MAX: usize = 64;
/// The longest extent line kept in a fact.
const LINE_MAX: usize = 200;
/// The longest parent name kept (qemu's limit is `PATH_MAX`).
const NAME_MAX: usize = 1023;

/// What a descriptor says, in one pass over its lines.
#[derive(Debug, Default)]
pub(super) struct Descriptor {
    pub(super) create_type: Option<String>,
    /// The first extent line, whatever its type.
    pub(super) first_extent: Option<String>,
    /// The first extent that cannot be the sparse file itself: any type but
    /// `SPARSE` and `ZERO`, a `SPARSE` file name with a `/` (oslo.utils'
    /// test), or a second `SPARSE` file.
    pub(super) outside: Option<String>,
    /// The sum of the extents' sizes in sectors (`None` on overflow).
    pub(super) sectors: Option<u64>,
    pub(super) problem: Option<String>,
}

/// Reads the descriptor text (the bytes before its first NUL).
pub(super) fn parse(bytes: &[u8]) -> Descriptor {
    let mut desc = Descriptor {
        sectors: Some(0),
        ..Descriptor::default()
    };
    let Ok(text) = std::str::from_utf8(bytes)
        .map_err(drop)
        .and_then(|t| if t.is_ascii() { Ok(t) } else { Err(()) })
    else {
        desc.problem = Some("descriptor is not ASCII text".into());
        return desc;
    };
    let mut sparse_files = 0;
    for line in text.lines().map(str::trim) {
        if desc.problem.is_some() {
            break;
        }
        if line.is_empty() || line.starts_with('#') || starts_with_ignore_case(line, "ddb") {
            continue;
        }
        let (first, _) = word(line);
        if ["RW", "RDONLY", "NOACCESS"]
            .iter()
            .any(|a| first.eq_ignore_ascii_case(a))
        {
            extent(line, &mut desc, &mut sparse_files);
        } else if let Some((key, value)) = line.split_once('=').map(|(k, v)| (k.trim(), v.trim())) {
            header_field(key, value, line, &mut desc);
        } else {
            desc.problem = Some(format!("unexpected descriptor line {:?}", text_of(line)));
        }
    }
    desc
}

fn header_field(key: &str, value: &str, line: &str, desc: &mut Descriptor) {
    if key.is_empty() || key.contains(char::is_whitespace) {
        desc.problem = Some(format!("unexpected descriptor line {:?}", text_of(line)));
    } else if key.eq_ignore_ascii_case("createType") && desc.create_type.is_none() {
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        if value.len() > CREATE_TYPE_MAX {
            desc.problem = Some(format!("createType longer than {CREATE_TYPE_MAX} bytes"));
        } else {
            desc.create_type = Some(value.to_string());
        }
    }
}

/// `ACCESS SECTORS TYPE ["FILE" [OFFSET]]`.
fn extent(line: &str, desc: &mut Descriptor, sparse_files: &mut u32) {
    let (_, rest) = word(line);
    let (sectors, rest) = word(rest);
    let (kind, rest) = word(rest);
    let rest = rest.trim();
    let file = match rest.strip_prefix('"') {
        Some(quoted) => quoted.split_once('"').map(|(name, _)| Some(name)),
        None => rest.is_empty().then_some(None),
    };
    let (Ok(sectors), Some(file)) = (sectors.parse::<u64>(), file) else {
        desc.problem = Some(format!("bad extent line {:?}", text_of(line)));
        return;
    };
    desc.sectors = desc.sectors.and_then(|s| s.checked_add(sectors));
    if desc.first_extent.is_none() {
        desc.first_extent = Some(text_of(line));
    }
    let inside = if kind.eq_ignore_ascii_case("ZERO") {
        file.is_none()
    } else if kind.eq_ignore_ascii_case("SPARSE") {
        *sparse_files += 1;
        *sparse_files == 1 && file.is_some_and(|f| !f.contains('/'))
    } else {
        false
    };
    if !inside && desc.outside.is_none() {
        desc.outside = Some(text_of(line));
    }
}

/// The first whitespace-separated word of `s` and the rest after it.
fn word(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    s.split_once(char::is_whitespace).unwrap_or((s, ""))
}

fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
}

fn text_of(line: &str) -> String {
    text(line.as_bytes(), LINE_MAX)
}

/// A parent named the way qemu finds it (`vmdk_parent_open`): the first
/// `parentFileNameHint` anywhere in the text, then the name from two bytes
/// after the key (`="`) to the next `"`. `Some(None)` when the key is there
/// but the name cannot be read.
pub(super) fn parent_hint(bytes: &[u8]) -> Option<Option<String>> {
    const KEY: &[u8] = b"parentFileNameHint";
    let at = bytes.windows(KEY.len()).position(|w| w == KEY)?;
    let name = bytes.get(at + KEY.len() + 2..).and_then(|rest| {
        let end = rest.iter().position(|&c| c == b'"')?;
        let name = rest.get(..end)?;
        (name.len() <= NAME_MAX).then(|| text(name, NAME_MAX))
    });
    Some(name)
}

/// qemu's probe for a text descriptor (`vmdk_probe`): comment lines and
/// lines of spaces, then `version=1`, `2` or `3` ending the line. `buf` is
/// what qemu probes: the first 2048 bytes, or the whole file when shorter.
pub(super) fn probe_text(buf: &[u8]) -> bool {
    let mut p = 0;
    while let Some(&c) = buf.get(p) {
        let rest = buf.get(p..).unwrap_or_default();
        match c {
            b'#' => {
                p += rest
                    .iter()
                    .position(|&c| c == b'\n')
                    .map_or(rest.len(), |n| n + 1)
            }
            b' ' => {
                let spaces = rest.iter().take_while(|&&c| c == b' ').count();
                let mut after = rest.get(spaces..).unwrap_or_default();
                after = after.strip_prefix(b"\r").unwrap_or(after);
                if after.first() != Some(&b'\n') {
                    return false;
                }
                p = buf.len() - after.len() + 1;
            }
            _ => {
                return [b'1', b'2', b'3'].iter().any(|v| {
                    let line = [&b"version="[..], &[*v]].concat();
                    rest.strip_prefix(&line[..])
                        .is_some_and(|r| r.starts_with(b"\n") || r.starts_with(b"\r\n"))
                });
            }
        }
    }
    false
}
