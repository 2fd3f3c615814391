//! The token's service catalog, and the image endpoint (or another
//! service's: the key manager's) chosen from it. Pure.

use serde::Deserialize;

use crate::error::{Error, Result};

/// The service type the image API is listed under.
const IMAGE: &str = "image";

/// Nova's default `valid_interfaces`.
pub(crate) const DEFAULT_INTERFACES: [&str; 2] = ["internal", "public"];

/// One service of a v3 catalog.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Service {
    #[serde(rename = "type", default)]
    pub(crate) kind: String,
    #[serde(default)]
    pub(crate) endpoints: Vec<Endpoint>,
}

/// One endpoint of a service.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Endpoint {
    #[serde(default)]
    pub(crate) interface: String,
    #[serde(default)]
    pub(crate) region_id: Option<String>,
    #[serde(default)]
    pub(crate) region: Option<String>,
    #[serde(default)]
    pub(crate) url: String,
}

impl Endpoint {
    fn region(&self) -> Option<&str> {
        self.region_id.as_deref().or(self.region.as_deref())
    }

    fn in_region(&self, region: &str) -> bool {
        self.region_id.as_deref() == Some(region) || self.region.as_deref() == Some(region)
    }
}

/// `public`, `publicURL` and ` Public ` all mean `public`.
fn interface_name(text: &str) -> String {
    let t = text.trim();
    let t = t.strip_suffix("URL").unwrap_or(t);
    t.to_ascii_lowercase()
}

/// A service to find in the catalog, and how its messages name it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Wanted<'a> {
    /// The catalog's service type, e.g. `key-manager`.
    pub(crate) kind: &'a str,
    /// What its endpoint serves, e.g. `key manager`.
    pub(crate) api: &'a str,
    /// The settings that choose among its endpoints.
    pub(crate) choosers: &'a str,
    /// How to do without the catalog, starting with `set `.
    pub(crate) hint: &'a str,
}

/// The image API, as Nova finds it.
const IMAGE_API: Wanted<'static> = Wanted {
    kind: IMAGE,
    api: "image API",
    choosers: "valid_interfaces or region_name",
    hint: "set api_servers or endpoint_override to use an image API anyway",
};

/// The URL of the image endpoint to use: the first of `interfaces` (Nova's
/// `valid_interfaces`; empty means internal, then public) that the image
/// service has an endpoint for, in `region` when given. Among several
/// matching endpoints the first listed wins, as in keystoneauth.
///
/// `scope` names the token's project in error messages.
pub(crate) fn select_endpoint(
    catalog: &[Service],
    interfaces: &[String],
    region: Option<&str>,
    scope: Option<&str>,
) -> Result<String> {
    select_service_endpoint(catalog, IMAGE_API, interfaces, region, scope)
}

/// [`select_endpoint`] for any service: the `wanted.kind` service's
/// endpoint.
pub(crate) fn select_service_endpoint(
    catalog: &[Service],
    wanted: Wanted<'_>,
    interfaces: &[String],
    region: Option<&str>,
    scope: Option<&str>,
) -> Result<String> {
    let hint = wanted.hint;
    let token = match scope {
        Some(project) => format!("the token (project {project})"),
        None => "the token".to_string(),
    };
    if catalog.is_empty() {
        return Err(Error::Catalog(format!(
            "{token} has an empty catalog (a token not scoped to a project has none: \
             name a project to log in to), so there is no {} endpoint; {hint}",
            wanted.api
        )));
    }
    let found: Vec<&Endpoint> = catalog
        .iter()
        .filter(|s| s.kind.eq_ignore_ascii_case(wanted.kind))
        .flat_map(|s| &s.endpoints)
        .filter(|e| !e.url.trim().is_empty())
        .collect();
    if found.is_empty() {
        let mut kinds: Vec<&str> = catalog.iter().map(|s| s.kind.as_str()).collect();
        kinds.sort_unstable();
        kinds.dedup();
        return Err(Error::Catalog(format!(
            "no {} service in the catalog of {token} (it lists: {}); {hint}",
            wanted.kind,
            kinds.join(", ")
        )));
    }
    let interfaces: Vec<String> = if interfaces.iter().all(|i| i.trim().is_empty()) {
        DEFAULT_INTERFACES.iter().map(|i| i.to_string()).collect()
    } else {
        interfaces
            .iter()
            .map(|i| interface_name(i))
            .filter(|i| !i.is_empty())
            .collect()
    };
    for interface in &interfaces {
        if let Some(endpoint) = found.iter().find(|e| {
            interface_name(&e.interface) == *interface && region.is_none_or(|r| e.in_region(r))
        }) {
            return Ok(endpoint.url.trim().to_string());
        }
    }
    let mut offered: Vec<String> = found
        .iter()
        .map(|e| match e.region() {
            Some(r) => format!("{} in {r}", interface_name(&e.interface)),
            None => interface_name(&e.interface),
        })
        .collect();
    offered.dedup();
    let region_text = region.map_or(String::new(), |r| format!(" in region {r}"));
    Err(Error::Catalog(format!(
        "no {} endpoint with interface {}{region_text} in the catalog of {token} \
         (it has: {}); set {} to one of those, or {}",
        wanted.kind,
        interfaces.join(" or "),
        offered.join(", "),
        wanted.choosers,
        hint.trim_start_matches("set ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(interface: &str, region: &str, url: &str) -> Endpoint {
        Endpoint {
            interface: interface.into(),
            region_id: Some(region.into()),
            region: Some(region.into()),
            url: url.into(),
        }
    }

    fn catalog() -> Vec<Service> {
        vec![
            Service {
                kind: "identity".into(),
                endpoints: vec![endpoint("public", "R1", "http://ks/v3")],
            },
            Service {
                kind: "image".into(),
                endpoints: vec![
                    endpoint("public", "R1", "http://public-r1:9292"),
                    endpoint("internal", "R1", "http://internal-r1:9292/v2"),
                    endpoint("public", "R2", "http://public-r2:9292"),
                ],
            },
        ]
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn internal_comes_before_public_by_default() {
        let url = select_endpoint(&catalog(), &[], None, None).unwrap();
        assert_eq!(url, "http://internal-r1:9292/v2");
    }

    #[test]
    fn the_interface_order_is_the_configured_one() {
        let url = select_endpoint(&catalog(), &strings(&["public", "internal"]), None, None);
        assert_eq!(url.unwrap(), "http://public-r1:9292");
        let url = select_endpoint(&catalog(), &strings(&["publicURL"]), Some("R2"), None);
        assert_eq!(url.unwrap(), "http://public-r2:9292");
    }

    #[test]
    fn the_region_narrows_the_choice() {
        let url = select_endpoint(&catalog(), &[], Some("R2"), None).unwrap();
        assert_eq!(url, "http://public-r2:9292", "R2 has no internal endpoint");
    }

    #[test]
    fn no_matching_endpoint_names_what_there_is() {
        let err = select_endpoint(&catalog(), &strings(&["admin"]), Some("R1"), None).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, Error::Catalog(_)), "{err:?}");
        assert!(
            text.contains("interface admin in region R1")
                && text.contains("public in R1, internal in R1, public in R2"),
            "{text}"
        );
        let err = select_endpoint(&catalog(), &[], Some("R3"), None).unwrap_err();
        assert!(
            err.to_string()
                .contains("interface internal or public in region R3"),
            "{err}"
        );
    }

    #[test]
    fn another_service_is_found_and_named_in_errors() {
        let mut with_barbican = catalog();
        with_barbican.push(Service {
            kind: "key-manager".into(),
            endpoints: vec![
                endpoint("internal", "R1", "http://barbican-int:9311"),
                endpoint("public", "R1", "http://barbican:9311/"),
            ],
        });
        let wanted = Wanted {
            kind: "key-manager",
            api: "key manager",
            choosers: "barbican_endpoint_type or barbican_region_name",
            hint: "set barbican_endpoint to use a key manager anyway",
        };
        let url =
            select_service_endpoint(&with_barbican, wanted, &strings(&["public"]), None, None);
        assert_eq!(url.unwrap(), "http://barbican:9311/");
        let err = select_service_endpoint(&catalog(), wanted, &strings(&["public"]), None, None)
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("no key-manager service in the catalog of the token (it lists: identity, image); set barbican_endpoint"),
            "{err}"
        );
        let err = select_service_endpoint(&with_barbican, wanted, &strings(&["admin"]), None, None)
            .unwrap_err();
        assert!(
            err.to_string().contains(
                "no key-manager endpoint with interface admin in the catalog of the token \
                 (it has: internal in R1, public in R1); set barbican_endpoint_type or \
                 barbican_region_name to one of those, or barbican_endpoint"
            ),
            "{err}"
        );
    }

    #[test]
    fn a_catalog_without_image_service_says_so() {
        let only_identity = &catalog()[..1];
        let err = select_endpoint(only_identity, &[], None, Some("p1")).unwrap_err();
        assert!(matches!(err, Error::Catalog(_)), "{err:?}");
        let text = err.to_string();
        assert!(
            text.contains(
                "no image service in the catalog of the token (project p1) (it lists: identity)"
            ),
            "{text}"
        );
        let err = select_endpoint(&[], &[], None, None).unwrap_err();
        assert!(
            err.to_string().contains("the token has an empty catalog"),
            "{err}"
        );
    }
}
