//! What to list: filters, sorting and paging for [`Client::images`](crate::Client::images).

use std::collections::BTreeMap;

/// Filters, sort order and paging for an image listing.
///
/// Every field is optional; the default lists every image the caller may see,
/// in the server's default order, in pages of the server's default size.
/// Fields a given API version cannot express are rejected with
/// [`Error::Unsupported`](crate::Error::Unsupported) rather than ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    /// Exact name.
    pub name: Option<String>,
    /// Status (`active`, `queued`, ...).
    pub status: Option<String>,
    /// Visibility (`public`, `private`, `shared`, `community`, or v2's `all`).
    pub visibility: Option<String>,
    /// Owning project.
    pub owner: Option<String>,
    /// Membership status for shared images (`accepted`, `pending`, `rejected`, `all`); v2 only.
    pub member_status: Option<String>,
    /// Images carrying every one of these tags; v2 only.
    pub tags: Vec<String>,
    /// Protected or not.
    pub protected: Option<bool>,
    /// Hidden or not (v2's `os_hidden`; hidden images are left out unless asked for).
    pub os_hidden: Option<bool>,
    /// Disk format.
    pub disk_format: Option<String>,
    /// Container format.
    pub container_format: Option<String>,
    /// Minimum size in bytes.
    pub size_min: Option<u64>,
    /// Maximum size in bytes.
    pub size_max: Option<u64>,
    /// Images needing at least this much RAM (MiB); v1 only.
    pub min_ram: Option<u64>,
    /// Images needing at least this much disk (GiB); v1 only.
    pub min_disk: Option<u64>,
    /// Creation time with an operator, Glance's form: `gte:2026-01-01T00:00:00Z`
    /// (operators `eq`, `neq`, `gt`, `gte`, `lt`, `lte`); v2 only.
    pub created_at: Option<String>,
    /// Update time with an operator, as `created_at`. In v1 only `gte:` is
    /// expressible (as `changes-since`).
    pub updated_at: Option<String>,
    /// Extra properties that must match exactly.
    pub properties: BTreeMap<String, String>,
    /// Sort keys, each `key` or `key:asc` / `key:desc`, most significant first.
    pub sort: Vec<String>,
    /// Images per request; the server's default when `None` (v1: 20).
    /// `Some(0)` means the same as `None`: a page of zero images would end
    /// the listing before it began.
    pub page_size: Option<u32>,
    /// Stop after this many images in total.
    pub limit: Option<u64>,
}

/// The operators Glance accepts in front of a time filter.
pub(crate) const TIME_OPERATORS: [&str; 6] = ["eq", "neq", "gt", "gte", "lt", "lte"];

/// Splits `key:dir` into its parts; the direction is `None` when absent.
pub(crate) fn split_sort(entry: &str) -> crate::Result<(&str, Option<&str>)> {
    let (key, dir) = match entry.split_once(':') {
        Some((k, d)) => (k, Some(d)),
        None => (entry, None),
    };
    if key.is_empty() {
        return Err(crate::Error::InvalidInput(format!(
            "sort entry {entry:?} has no key"
        )));
    }
    match dir {
        None | Some("asc") | Some("desc") => Ok((key, dir)),
        Some(other) => Err(crate::Error::InvalidInput(format!(
            "sort direction {other:?} in {entry:?} is neither asc nor desc"
        ))),
    }
}

/// Checks a time filter's `operator:time` form.
pub(crate) fn check_time_filter(field: &str, value: &str) -> crate::Result<()> {
    let ok = value
        .split_once(':')
        .is_some_and(|(op, time)| TIME_OPERATORS.contains(&op) && !time.is_empty());
    if ok {
        Ok(())
    } else {
        Err(crate::Error::InvalidInput(format!(
            "{field} filter {value:?} must be operator:time with operator one of {}",
            TIME_OPERATORS.join(", ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_entries() {
        assert_eq!(split_sort("name").unwrap(), ("name", None));
        assert_eq!(split_sort("name:desc").unwrap(), ("name", Some("desc")));
        assert!(split_sort("name:up").is_err());
        assert!(split_sort(":asc").is_err());
    }

    #[test]
    fn time_filters() {
        assert!(check_time_filter("created_at", "gte:2026-01-01T00:00:00Z").is_ok());
        assert!(check_time_filter("created_at", "2026-01-01").is_err());
        assert!(check_time_filter("created_at", "after:2026").is_err());
        assert!(check_time_filter("created_at", "lt:").is_err());
    }
}
