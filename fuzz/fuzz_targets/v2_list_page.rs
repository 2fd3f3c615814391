//! A v2 listing page: parsing never panics, every image round-trips, and a
//! next link either becomes a request on the same server or an error.
#![no_main]
use glance_client::{Image, http, v2};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let response = http::Response::builder().status(200).body(data).unwrap();
    if let Ok(page) = v2::images::parse_page(&response) {
        for image in &page.images {
            let json = serde_json::to_vec(image).unwrap();
            let again: Image = serde_json::from_slice(&json).unwrap();
            assert_eq!(&again, image);
        }
        if let Some(next) = page.next {
            if let Ok(request) = v2::images::next_page(&next, Some(7)) {
                let uri = request.uri();
                assert!(uri.host().is_none(), "next page left the server: {uri}");
                assert!(uri.path().starts_with("/v2/images"), "{uri}");
            }
        }
    }
});
