//! [`Images`]: a listing, page by page, in either API version.

use super::Client;
use crate::config::ApiVersion;
use crate::error::{Error, Result};
use crate::image::Image;
use crate::query::ListQuery;
use crate::transport::Retry;
use crate::{v1, v2};

impl Client {
    /// Lists images page by page until the last page (or `query.limit`).
    /// Each item is an image or the error that ended the listing.
    ///
    /// v2 follows the server's `next` links. v1 has none: it asks for
    /// `page_size` images at a time (20 by default), continues after the
    /// last id of each page and stops at an empty one. A shorter page does
    /// not end a v1 listing: the server caps every page at its
    /// `api_limit_max`, which may be below the size asked for. A filter the
    /// version cannot express ends the listing at once with
    /// [`Error::Unsupported`], before any request.
    pub fn images(&self, query: &ListQuery) -> Images {
        Images {
            client: self.clone(),
            query: query.clone(),
            v1_filters: None,
            state: PageState::First,
            page: Vec::new().into_iter(),
            returned: 0,
            followed: std::collections::BTreeSet::new(),
        }
    }
}

/// Iterator over a listing; see [`Client::images`].
#[derive(Debug)]
pub struct Images {
    client: Client,
    query: ListQuery,
    /// v1's translation of `query`, made when the first page is fetched.
    v1_filters: Option<v1::images::ListFilters>,
    state: PageState,
    page: std::vec::IntoIter<Image>,
    returned: u64,
    /// Every v2 `next` link or v1 marker followed, so a server that sends
    /// one again (a listing that would never end) is caught.
    followed: std::collections::BTreeSet<String>,
}

#[derive(Debug)]
enum PageState {
    First,
    /// v2: the `next` link of the previous page.
    Next(String),
    /// v1: the last id of the previous page.
    Marker(String),
    Done,
}

impl Images {
    fn fetch(&mut self) -> Result<()> {
        let state = std::mem::replace(&mut self.state, PageState::Done);
        if matches!(state, PageState::Done) {
            return Ok(());
        }
        let images = match self.client.version() {
            ApiVersion::V2 => self.fetch_v2(state)?,
            ApiVersion::V1 => self.fetch_v1(state)?,
        };
        self.page = images.into_iter();
        Ok(())
    }

    fn fetch_v2(&mut self, state: PageState) -> Result<Vec<Image>> {
        let page_size = v2::images::page_size_for(&self.query, self.returned);
        let request = match state {
            PageState::Next(next) => v2::images::next_page(&next, page_size),
            _ => v2::images::list(&self.query, page_size),
        };
        let page = self
            .client
            .call(request, Retry::Safe, v2::images::parse_page)?;
        if let Some(next) = page.next {
            // A next link on an empty page would loop forever.
            if !page.images.is_empty() {
                if !self.followed.insert(next.clone()) {
                    return Err(Error::invalid_response(format!(
                        "the listing links to {next:?} a second time"
                    )));
                }
                self.state = PageState::Next(next);
            }
        }
        Ok(page.images)
    }

    fn fetch_v1(&mut self, state: PageState) -> Result<Vec<Image>> {
        let filters = match self.v1_filters.take() {
            Some(f) => f,
            None => v1::images::ListFilters::from_query(&self.query)?,
        };
        let size = v1_page_size(&self.query, self.returned);
        let marker = match &state {
            PageState::Marker(m) => Some(m.as_str()),
            _ => None,
        };
        let images = self.client.call(
            v1::images::list(&filters, marker, size),
            Retry::Safe,
            v1::images::parse_page,
        )?;
        // Only an empty page ends the listing: the server caps pages at its
        // `api_limit_max`, so a short page may be followed by more.
        if let Some(last) = images.last() {
            if !self.followed.insert(last.id.clone()) {
                return Err(Error::invalid_response(format!(
                    "the page after marker {:?} ends with {:?}, a marker already followed \
                     (the server does not page on the marker)",
                    marker.unwrap_or_default(),
                    last.id
                )));
            }
            self.state = PageState::Marker(last.id.clone());
        }
        self.v1_filters = Some(filters);
        Ok(images)
    }
}

/// v1 pages: the caller's size (or the default), capped by what is left of the limit.
fn v1_page_size(query: &ListQuery, returned: u64) -> u64 {
    let size = query
        .page_size
        .filter(|&p| p > 0)
        .map_or(v1::images::DEFAULT_PAGE_SIZE, u64::from);
    match query.limit {
        Some(limit) => size.min(limit.saturating_sub(returned)).max(1),
        None => size,
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
    fn v1_pages_default_to_20_and_respect_the_limit() {
        let q = ListQuery::default();
        assert_eq!(v1_page_size(&q, 0), 20);
        let q = ListQuery {
            page_size: Some(5),
            limit: Some(12),
            ..ListQuery::default()
        };
        assert_eq!(v1_page_size(&q, 0), 5);
        assert_eq!(v1_page_size(&q, 10), 2);
        let q = ListQuery {
            page_size: Some(0),
            ..ListQuery::default()
        };
        assert_eq!(v1_page_size(&q, 0), 20);
    }
}
