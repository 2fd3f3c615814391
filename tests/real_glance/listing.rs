//! Listings across many pages, with filters and sorting, against the real Glance.

use glance_client::{Client, Error, ListQuery, NewImage};

use super::{Scratch, new_image, support, unique};

/// Seven images of one run: names b a d c g f e, every other one tagged
/// `even` and qcow2, the others raw.
fn seven(client: &Client, run: &str) -> Vec<Scratch> {
    ["b", "a", "d", "c", "g", "f", "e"]
        .iter()
        .enumerate()
        .map(|(i, name)| {
            Scratch::with(
                client,
                NewImage {
                    disk_format: Some(if i % 2 == 0 { "qcow2" } else { "raw" }.into()),
                    tags: if i % 2 == 0 {
                        vec!["even".into()]
                    } else {
                        vec![]
                    },
                    properties: [("test_run".to_string(), run.to_string())].into(),
                    ..new_image(&format!("{run}-{name}"))
                },
            )
        })
        .collect()
}

/// The names, without the run prefix, in listing order.
fn names(client: &Client, query: &ListQuery, run: &str) -> Vec<String> {
    client
        .images(query)
        .map(|image| {
            let image = image.expect("a listed image");
            let name = image.name.unwrap_or_default();
            name.strip_prefix(&format!("{run}-"))
                .map(String::from)
                .unwrap_or(name)
        })
        .collect()
}

fn this_run(run: &str) -> ListQuery {
    let mut query = ListQuery::default();
    query.properties.insert("test_run".into(), run.to_string());
    query
}

#[test]
fn sorted_listing_over_pages_of_two_is_whole_and_in_order() {
    let Some(lab) = support::lab() else { return };
    let client = lab.client();
    let run = unique("pages");
    let _images = seven(&client, &run);

    let mut query = this_run(&run);
    query.page_size = Some(2); // four pages, the last one short
    query.sort = vec!["name:asc".into()];
    assert_eq!(
        names(&client, &query, &run),
        ["a", "b", "c", "d", "e", "f", "g"]
    );

    query.sort = vec!["name:desc".into()];
    assert_eq!(
        names(&client, &query, &run),
        ["g", "f", "e", "d", "c", "b", "a"]
    );

    // Two keys: disk format first (qcow2 < raw), then name descending.
    query.sort = vec!["disk_format:asc".into(), "name:desc".into()];
    assert_eq!(
        names(&client, &query, &run),
        ["g", "e", "d", "b", "f", "c", "a"]
    );

    // A page size that divides the count: the last full page is followed by
    // an empty one, which must end the listing.
    query.page_size = Some(7);
    query.sort = vec!["name:asc".into()];
    assert_eq!(
        names(&client, &query, &run),
        ["a", "b", "c", "d", "e", "f", "g"]
    );
}

#[test]
fn limit_stops_across_pages() {
    let Some(lab) = support::lab() else { return };
    let client = lab.client();
    let run = unique("limit");
    let _images = seven(&client, &run);

    let mut query = this_run(&run);
    query.sort = vec!["name:asc".into()];
    query.page_size = Some(2);
    query.limit = Some(5);
    assert_eq!(names(&client, &query, &run), ["a", "b", "c", "d", "e"]);
    query.limit = Some(0);
    assert!(
        names(&client, &query, &run).is_empty(),
        "a zero limit lists nothing"
    );
}

#[test]
fn filters_combine_over_pages() {
    let Some(lab) = support::lab() else { return };
    let client = lab.client();
    let run = unique("filters");
    let _images = seven(&client, &run);

    let mut query = this_run(&run);
    query.page_size = Some(1);
    query.sort = vec!["name:asc".into()];
    query.tags = vec!["even".into()];
    assert_eq!(names(&client, &query, &run), ["b", "d", "e", "g"], "by tag");

    query.tags.clear();
    query.disk_format = Some("raw".into());
    assert_eq!(
        names(&client, &query, &run),
        ["a", "c", "f"],
        "by disk format"
    );

    query.disk_format = Some("qcow2".into());
    query.tags = vec!["even".into()];
    query.status = Some("queued".into());
    query.visibility = Some("shared".into());
    assert_eq!(
        names(&client, &query, &run),
        ["b", "d", "e", "g"],
        "tag, format, status and visibility together"
    );

    query.status = Some("active".into());
    assert!(names(&client, &query, &run).is_empty(), "none is active");
}

#[test]
fn an_unknown_sort_key_is_the_servers_400() {
    let Some(lab) = support::lab() else { return };
    let query = ListQuery {
        sort: vec!["no_such_key:asc".into()],
        ..ListQuery::default()
    };
    let first = lab.client().images(&query).next();
    assert!(
        matches!(first, Some(Err(Error::BadRequest(_)))),
        "an unknown sort key: {first:?}"
    );
}
