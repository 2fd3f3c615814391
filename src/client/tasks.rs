//! Tasks and quota usage: v2 only.

use super::Client;
use crate::error::{Error, Result};
use crate::transport::Retry;
use crate::v2;
use crate::v2::tasks::{Task, TaskQuery};
use crate::v2::usage::Quota;

/// Most pages a task listing follows before it is taken for a loop.
const MAX_TASK_PAGES: usize = 10_000;

impl Client {
    /// Lists the tasks the caller may see (`GET /v2/tasks`), every page. v2 only.
    pub fn tasks(&self, query: &TaskQuery) -> Result<Vec<Task>> {
        self.require_v2("tasks")?;
        let mut page = self.call(v2::tasks::list(query), Retry::Safe, v2::tasks::parse_page)?;
        let mut tasks = std::mem::take(&mut page.tasks);
        let mut pages = 1;
        while let Some(next) = page.next.take() {
            pages += 1;
            if pages > MAX_TASK_PAGES {
                return Err(Error::invalid_response(format!(
                    "the task listing goes on past {MAX_TASK_PAGES} pages (last link {next:?})"
                )));
            }
            page = self.call(
                v2::tasks::next_page(&next),
                Retry::Safe,
                v2::tasks::parse_page,
            )?;
            if page.tasks.is_empty() {
                break;
            }
            tasks.append(&mut page.tasks);
        }
        Ok(tasks)
    }

    /// Shows one task. v2 only.
    pub fn task(&self, id: &str) -> Result<Task> {
        self.require_v2("tasks")?;
        self.call(v2::tasks::show(id), Retry::Safe, v2::tasks::parse_task)
    }

    /// The tasks that worked on an image (`GET /v2/images/{id}/tasks`),
    /// e.g. its import. Needs image API v2.12: fails with
    /// [`Error::Unsupported`] before asking when the server does not offer it.
    pub fn image_tasks(&self, image_id: &str) -> Result<Vec<Task>> {
        self.require_minor(
            12,
            false,
            "image tasks (image API v2.12, which the server does not offer)",
        )?;
        self.call(
            v2::tasks::image_tasks(image_id),
            Retry::Safe,
            v2::tasks::parse_tasks,
        )
    }

    /// The caller's quota usage (`GET /v2/info/usage`), in the server's
    /// order; empty when the server enforces no quota. Needs image API
    /// v2.9 (see [`Client::image_tasks`] for the check).
    pub fn usage(&self) -> Result<Vec<Quota>> {
        self.require_minor(
            9,
            false,
            "quota usage (image API v2.9, which the server does not offer)",
        )?;
        self.call(v2::usage::usage(), Retry::Safe, v2::usage::parse_usage)
    }
}
