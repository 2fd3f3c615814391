//! `/v2/info/usage`: the caller's quota usage (Keystone unified limits;
//! image API v2.9).

use std::fmt;

use http::{Method, Request, Response};
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::{json_request, parse_json};
use crate::error::Result;

/// One quota: its limit and how much of it is used.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Quota {
    /// The quota's name (`image_size_total`, `image_count_total`, ...).
    pub name: String,
    /// The limit (`-1`: unlimited).
    pub limit: i64,
    /// How much is used.
    pub usage: i64,
}

/// `GET /v2/info/usage`. Parse with [`parse_usage`].
pub fn usage() -> Result<Request<Vec<u8>>> {
    json_request(Method::GET, "/v2/info/usage", None)
}

/// Parses `{"usage": {"NAME": {"limit": N, "usage": M}, ...}}` into the
/// quotas in the server's order (empty when the server enforces none).
pub fn parse_usage<B: AsRef<[u8]>>(response: &Response<B>) -> Result<Vec<Quota>> {
    #[derive(Deserialize)]
    struct Usage {
        usage: Quotas,
    }
    Ok(parse_json::<Usage, _>("usage", response)?.usage.0)
}

/// The quotas of a usage object, in the order the server wrote them.
struct Quotas(Vec<Quota>);

impl<'de> Deserialize<'de> for Quotas {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Quotas, D::Error> {
        struct InOrder;
        impl<'de> Visitor<'de> for InOrder {
            type Value = Quotas;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of quotas")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Quotas, A::Error> {
                #[derive(Deserialize)]
                struct Entry {
                    #[serde(default)]
                    limit: i64,
                    #[serde(default)]
                    usage: i64,
                }
                let mut quotas = Vec::new();
                while let Some((name, entry)) = map.next_entry::<String, Entry>()? {
                    quotas.push(Quota {
                        name,
                        limit: entry.limit,
                        usage: entry.usage,
                    });
                }
                Ok(Quotas(quotas))
            }
        }
        deserializer.deserialize_map(InOrder)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::test_ok as ok;

    #[test]
    fn keeps_the_servers_order() {
        let body = r#"{"usage": {"image_size_total": {"limit": 1024, "usage": 10}, "image_stage_total": {"limit": 512, "usage": 0}, "image_count_total": {"limit": 100, "usage": 3}, "image_count_uploading": {"limit": -1, "usage": 0}}}"#;
        let quotas = parse_usage(&ok(body)).unwrap();
        let names: Vec<&str> = quotas.iter().map(|q| q.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "image_size_total",
                "image_stage_total",
                "image_count_total",
                "image_count_uploading"
            ]
        );
        assert_eq!((quotas[0].limit, quotas[0].usage), (1024, 10));
        assert_eq!(quotas[3].limit, -1);
        assert!(parse_usage(&ok(r#"{"usage": {}}"#)).unwrap().is_empty());
        assert!(parse_usage(&ok(r#"{"usage": {"a": {"limit": "x"}}}"#)).is_err());
        assert_eq!(usage().unwrap().uri(), "/v2/info/usage");
    }
}
