//! `/v2/tasks` and `/v2/images/{id}/tasks`: the server's asynchronous
//! tasks (imports, conversions), as records to read.

use http::{Method, Request, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{image_path, json_request, parse_json};
use crate::error::{Error, Result};
use crate::wire::segment;

/// One task.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Task {
    /// Task id (a UUID).
    pub id: String,
    /// `import`, `api_image_import`, ...
    #[serde(rename = "type", default)]
    pub task_type: String,
    /// `pending`, `processing`, `success` or `failure`.
    #[serde(default)]
    pub status: String,
    /// The owning project.
    #[serde(default)]
    pub owner: Option<String>,
    /// What the task was given (any JSON).
    #[serde(default)]
    pub input: Option<Value>,
    /// What it produced, when done (any JSON).
    #[serde(default)]
    pub result: Option<Value>,
    /// Why it failed, or an empty text.
    #[serde(default)]
    pub message: Option<String>,
    /// When the record goes away.
    #[serde(default)]
    pub expires_at: Option<String>,
    /// Creation time, as the server wrote it.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Last update time, as the server wrote it.
    #[serde(default)]
    pub updated_at: Option<String>,
    /// The image, in an image's task list.
    #[serde(default)]
    pub image_id: Option<String>,
    /// The request that started it, in an image's task list.
    #[serde(default)]
    pub request_id: Option<String>,
    /// The user who started it, in an image's task list.
    #[serde(default)]
    pub user_id: Option<String>,
}

/// Filters, sort order and paging of a task listing. The default lists
/// every task the caller may see, in the server's order and page size.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskQuery {
    /// Only tasks of this type.
    pub task_type: Option<String>,
    /// Only tasks in this status.
    pub status: Option<String>,
    /// Sort key (`id`, `type`, `status`, `created_at`, `updated_at`).
    pub sort_key: Option<String>,
    /// Sort direction, `asc` or `desc`.
    pub sort_dir: Option<String>,
    /// Tasks per request.
    pub page_size: Option<u32>,
}

/// One page of tasks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TaskPage {
    /// The tasks on this page.
    pub tasks: Vec<Task>,
    /// Path of the next page (relative to the API root), absent on the last one.
    pub next: Option<String>,
}

/// `GET /v2/tasks?...`: the first page.
pub fn list(query: &TaskQuery) -> Result<Request<Vec<u8>>> {
    if let Some(dir) = query
        .sort_dir
        .as_deref()
        .filter(|d| !["asc", "desc"].contains(d))
    {
        return Err(Error::InvalidInput(format!(
            "sort direction {dir:?} is neither asc nor desc"
        )));
    }
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    if let Some(n) = query.page_size.filter(|&n| n > 0) {
        q.append_pair("limit", &n.to_string());
    }
    for (key, value) in [
        ("type", &query.task_type),
        ("status", &query.status),
        ("sort_key", &query.sort_key),
        ("sort_dir", &query.sort_dir),
    ] {
        if let Some(v) = value {
            q.append_pair(key, v);
        }
    }
    let qs = q.finish();
    let path = if qs.is_empty() {
        "/v2/tasks".to_string()
    } else {
        format!("/v2/tasks?{qs}")
    };
    json_request(Method::GET, &path, None)
}

/// `GET` of a `next` link of a task listing: only a `/v2/tasks` path (an
/// absolute URL is reduced to its path and query, so a listing never
/// leaves the configured servers).
pub fn next_page(next: &str) -> Result<Request<Vec<u8>>> {
    let bad = || Error::invalid_response(format!("next link {next:?} is not the task listing"));
    let link = next.split('#').next().unwrap_or_default().trim();
    let rest = match link.split_once("://") {
        Some((_, rest)) => rest.find('/').map(|i| &rest[i..]).ok_or_else(bad)?,
        None => link,
    };
    let path = rest.split_once('?').map_or(rest, |(p, _)| p);
    if path.trim_end_matches('/') != "/v2/tasks" || rest.contains(char::is_whitespace) {
        return Err(bad());
    }
    json_request(Method::GET, rest, None)
}

/// Parses a page: `{"tasks": [...], "next": "..."}`.
pub fn parse_page<B: AsRef<[u8]>>(response: &Response<B>) -> Result<TaskPage> {
    #[derive(Deserialize)]
    struct Page {
        tasks: Vec<Task>,
        #[serde(default)]
        next: Option<String>,
    }
    let page: Page = parse_json("task list", response)?;
    Ok(TaskPage {
        tasks: page.tasks,
        next: page.next,
    })
}

/// `GET /v2/tasks/{id}`.
pub fn show(id: &str) -> Result<Request<Vec<u8>>> {
    json_request(
        Method::GET,
        &format!("/v2/tasks/{}", segment("task id", id)?),
        None,
    )
}

/// Parses one task.
pub fn parse_task<B: AsRef<[u8]>>(response: &Response<B>) -> Result<Task> {
    parse_json("task", response)
}

/// `GET /v2/images/{id}/tasks` (image API v2.12): the tasks that worked on
/// an image, e.g. its import. Parse with [`parse_tasks`].
pub fn image_tasks(image_id: &str) -> Result<Request<Vec<u8>>> {
    json_request(
        Method::GET,
        &format!("{}/tasks", image_path(image_id)?),
        None,
    )
}

/// Parses `{"tasks": [...]}` (an image's tasks: one page, no `next`).
pub fn parse_tasks<B: AsRef<[u8]>>(response: &Response<B>) -> Result<Vec<Task>> {
    Ok(parse_page(response)?.tasks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::test_ok as ok;

    const TASK: &str = r#"{"id": "t1", "type": "api_image_import", "status": "success", "owner": "p", "input": {"image_id": "i", "import_req": {"method": {"name": "glance-direct"}}}, "result": {"image_id": "i"}, "message": "", "expires_at": "2026-12-09T07:22:14Z", "created_at": "2026-12-07T07:22:14Z", "updated_at": "2026-12-07T07:22:15Z", "image_id": "i", "request_id": "req-1", "user_id": "u", "self": "/v2/tasks/t1", "schema": "/v2/schemas/task"}"#;

    #[test]
    fn list_query_and_next_link() {
        assert_eq!(list(&TaskQuery::default()).unwrap().uri(), "/v2/tasks");
        let q = TaskQuery {
            task_type: Some("import".into()),
            status: Some("success".into()),
            sort_key: Some("status".into()),
            sort_dir: Some("desc".into()),
            page_size: Some(5),
        };
        assert_eq!(
            list(&q).unwrap().uri(),
            "/v2/tasks?limit=5&type=import&status=success&sort_key=status&sort_dir=desc"
        );
        let bad = TaskQuery {
            sort_dir: Some("up".into()),
            ..TaskQuery::default()
        };
        assert!(list(&bad).is_err());
        assert_eq!(
            next_page("http://x:9292/v2/tasks?marker=t1").unwrap().uri(),
            "/v2/tasks?marker=t1"
        );
        assert!(next_page("/v2/images?marker=t1").is_err());
    }

    #[test]
    fn parses_tasks() {
        let task = parse_task(&ok(TASK)).unwrap();
        assert_eq!(task.task_type, "api_image_import");
        assert_eq!(task.result.unwrap()["image_id"], "i");
        assert_eq!(task.user_id.as_deref(), Some("u"));
        let page = parse_page(&ok(&format!(
            r#"{{"tasks": [{TASK}], "next": "/v2/tasks?marker=t1", "first": "/v2/tasks"}}"#
        )))
        .unwrap();
        assert_eq!(page.tasks.len(), 1);
        assert_eq!(page.next.as_deref(), Some("/v2/tasks?marker=t1"));
        assert_eq!(image_tasks("i").unwrap().uri(), "/v2/images/i/tasks");
        assert_eq!(show("t 1").unwrap().uri(), "/v2/tasks/t%201");
        assert!(parse_tasks(&ok(r#"{"tasks": [{"type": "x"}]}"#)).is_err());
    }
}
