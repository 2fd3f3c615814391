//! glanceclient's other commands: members, stores, import, tasks, usage,
//! the server's cache and locations. Each prints glanceclient's table, or
//! JSON with `--json`.

use glance_client::v2::cache::ClearTarget;
use glance_client::v2::import::{Import, ImportMethod};
use glance_client::v2::locations::ValidationData;
use glance_client::v2::tasks::TaskQuery;
use glance_client::{Client, Image};
use serde_json::{Map, Value, json};

use crate::Failure;
use crate::args::{Invocation, Values};
use crate::commands::print_json;
use crate::images::{Source, check_store, new_image, require_formats, store_option};
use crate::views;

pub fn run(client: &Client, name: &str, inv: &Invocation, json: bool) -> Result<(), Failure> {
    let o = &inv.options;
    let p = &inv.positionals;
    let verbose = inv.global.flag("--verbose");
    let show = |image: &Image| views::image(image, json, false, 80);
    let as_json = |value: Value| print_json(&value);
    match name {
        "member-get" => {
            let member = client.member(&p[0], &p[1])?;
            if json {
                return as_json(json!(member));
            }
            views::member(&member)
        }
        "import-info" => {
            let methods = client.import_methods()?;
            if json {
                return as_json(json!({ "import-methods": methods }));
            }
            views::import_info(&methods)
        }
        "stores-info" => {
            let stores = if o.flag("--detail") {
                client.stores_detail()?
            } else {
                client.stores()?
            };
            if json {
                return as_json(stores_json(&stores));
            }
            views::stores(&stores)
        }
        "stores-delete" => Ok(client.delete_from_store(o.one("--store").unwrap_or(""), &p[0])?),
        "image-stage" => {
            let source = crate::images::data_for("image-stage", o)?;
            source.send(o.flag("--progress"), |data| client.stage(&p[0], data))
        }
        "image-import" => show(&image_import(client, &p[0], o)?),
        "image-create-via-import" => show(&create_via_import(client, o)?),
        "image-tasks" => {
            let tasks = client.image_tasks(&p[0])?;
            if json {
                return as_json(json!(tasks));
            }
            views::image_tasks(&tasks, verbose)
        }
        "task-list" => {
            let tasks = client.tasks(&task_query(o)?)?;
            if json {
                return as_json(json!(tasks));
            }
            views::task_list(&tasks)
        }
        "task-show" => {
            let task = client.task(&p[0])?;
            if json {
                return as_json(json!(task));
            }
            views::task(&task)
        }
        "usage" => {
            let quotas = client.usage()?;
            if json {
                return as_json(json!(quotas));
            }
            views::usage(&quotas)
        }
        "cache-list" | "cache-queue" | "cache-delete" | "cache-clear" => {
            server_cache(client, name, inv, json)
        }
        "location-add" | "location-delete" | "location-update" | "add-location" => {
            locations(client, name, &p[0], o, json)
        }
        other => Err(Failure::Usage(format!("{other} cannot run here"))),
    }
}

/// The stores as JSON, with only the keys each has.
fn stores_json(stores: &[glance_client::v2::import::Store]) -> Value {
    Value::Array(
        stores
            .iter()
            .map(|s| {
                let mut o = Map::new();
                o.insert("id".into(), json!(s.id));
                if let Some(d) = &s.description {
                    o.insert("description".into(), json!(d));
                }
                o.insert("default".into(), json!(s.default));
                o.insert("read-only".into(), json!(s.read_only));
                if let Some(t) = &s.store_type {
                    o.insert("type".into(), json!(t));
                    o.insert("properties".into(), Value::Object(s.properties.clone()));
                }
                if let Some(w) = s.weight {
                    o.insert("weight".into(), json!(w));
                }
                Value::Object(o)
            })
            .collect(),
    )
}

fn task_query(o: &Values) -> Result<TaskQuery, Failure> {
    let sort_key = o.one("--sort-key").unwrap_or("status");
    if !["id", "type", "status"].contains(&sort_key) {
        return Err(Failure::Usage(format!(
            "--sort-key is id, type or status, not {sort_key:?}"
        )));
    }
    let sort_dir = o.one("--sort-dir").unwrap_or("desc");
    if !["asc", "desc"].contains(&sort_dir) {
        return Err(Failure::Usage(format!(
            "--sort-dir is asc or desc, not {sort_dir:?}"
        )));
    }
    Ok(TaskQuery {
        sort_key: Some(sort_key.into()),
        sort_dir: Some(sort_dir.into()),
        page_size: o.number("--page-size")?,
        task_type: o.one("--type").map(String::from),
        status: o.one("--status").map(String::from),
    })
}

/// The cache commands need one node's own endpoint: the cache is per node.
fn server_cache(client: &Client, name: &str, inv: &Invocation, json: bool) -> Result<(), Failure> {
    if client.config().servers().len() != 1 {
        return Err(Failure::Usage(
            "Direct server endpoint needs to be provided. Do not use loadbalanced or \
             catalog endpoints."
                .into(),
        ));
    }
    let p = &inv.positionals;
    match name {
        "cache-list" => {
            let state = client.server_cache()?;
            if json {
                return print_json(&json!(state));
            }
            views::cache(&state)
        }
        "cache-queue" => each(p, "queueing", |id| client.queue_in_server_cache(id)),
        "cache-delete" => each(p, "deleting from the cache", |id| {
            client.delete_from_server_cache(id)
        }),
        _ => {
            let target = match inv.options.one("--target").unwrap_or("both") {
                "both" => ClearTarget::Both,
                "cache" => ClearTarget::Cache,
                "queue" => ClearTarget::Queue,
                other => {
                    return Err(Failure::Usage(format!(
                        "--target is both, cache or queue, not {other:?}"
                    )));
                }
            };
            Ok(client.clear_server_cache(target)?)
        }
    }
}

/// Does `call` for each id, past failures; each failure on stderr, the
/// last one the command's error.
fn each(
    ids: &[String],
    what: &str,
    call: impl Fn(&str) -> glance_client::Result<()>,
) -> Result<(), Failure> {
    let mut last: Option<Failure> = None;
    let mut failed = 0;
    for id in ids {
        if let Err(e) = call(id) {
            failed += 1;
            let failure = Failure::from(e);
            let message = format!("{what} {id}: {}", failure.message());
            if let Some(previous) = last.replace(failure.with_message(message)) {
                eprintln!("glance: error: {}", crate::redact::text(previous.message()));
            }
        }
    }
    match last {
        None => Ok(()),
        Some(f) if ids.len() > 1 => {
            let m = format!("{} ({failed} of {} failed)", f.message(), ids.len());
            Err(f.with_message(m))
        }
        Some(f) => Err(f),
    }
}

/// `--metadata` / `--validation-data`: a JSON object.
fn json_object(option: &str, text: Option<&str>) -> Result<Map<String, Value>, Failure> {
    match serde_json::from_str::<Value>(text.unwrap_or("{}")) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(Failure::Usage(format!(
            "{option} is not a valid JSON object"
        ))),
    }
}

fn locations(client: &Client, name: &str, id: &str, o: &Values, json: bool) -> Result<(), Failure> {
    let url = o.one("--url").unwrap_or_default();
    let image = match name {
        "location-add" => {
            let metadata = json_object("--metadata", o.one("--metadata"))?;
            let validation = ValidationData {
                checksum: o.one("--checksum").map(String::from),
                os_hash_algo: o.one("--hash-algo").map(String::from),
                os_hash_value: o.one("--hash-value").map(String::from),
            };
            client.add_location(id, url, &metadata, &validation)?
        }
        "location-delete" => {
            client.remove_locations(id, o.all("--url"))?;
            return Ok(());
        }
        "location-update" => {
            let metadata = json_object("--metadata", o.one("--metadata"))?;
            if metadata.is_empty() && !json {
                crate::commands::out(
                    "WARNING -- The location's metadata will be updated to an empty JSON object.\n",
                )?;
            }
            client.update_location(id, url, &metadata)?
        }
        _ => {
            let data = json_object("--validation-data", o.one("--validation-data"))?;
            let validation = add_location_validation(&data)?;
            client.add_image_location(id, url, &validation)?;
            return views::image(&client.image(id)?, json, false, 80);
        }
    };
    views::image(&image, json, false, 80)
}

/// `add-location --validation-data`: only `os_hash_algo` and
/// `os_hash_value`, the algorithm one Glance knows.
fn add_location_validation(data: &Map<String, Value>) -> Result<ValidationData, Failure> {
    let mut validation = ValidationData::default();
    for (key, value) in data {
        let text = value.as_str().map(String::from);
        match key.as_str() {
            "os_hash_algo" => validation.os_hash_algo = text,
            "os_hash_value" => validation.os_hash_value = text,
            other => {
                return Err(Failure::Usage(format!(
                    "Validation Data should contain only os_hash_algo and os_hash_value. \
                     `{other}` is not allowed"
                )));
            }
        }
    }
    const ALGOS: [&str; 4] = ["sha512", "sha256", "sha1", "md5"];
    if !data.is_empty()
        && !validation
            .os_hash_algo
            .as_deref()
            .is_some_and(|a| ALGOS.contains(&a))
    {
        return Err(Failure::Usage(format!(
            "os_hash_algo: `{}` is incorrect, allowed hashing algorithms: {}",
            validation.os_hash_algo.unwrap_or_default(),
            ALGOS.join(", ")
        )));
    }
    Ok(validation)
}

/// What an import is asked to do, from the import flags.
struct ImportArgs {
    method: Option<String>,
    uri: Option<String>,
    region: Option<String>,
    remote_id: Option<String>,
    interface: String,
    store: Option<String>,
    stores: Vec<String>,
    all_stores: bool,
    allow_failure: bool,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl ImportArgs {
    fn from(o: &Values, method: Option<String>) -> Result<ImportArgs, Failure> {
        let boolean = |flag: &str, var: &str, default: bool| -> Result<bool, Failure> {
            match o.one(flag).map(String::from).or_else(|| env(var)) {
                Some(v) => crate::images::boolean(flag, &v),
                None => Ok(default),
            }
        };
        let args = ImportArgs {
            method,
            uri: o.one("--uri").map(String::from),
            region: o.one("--remote-region").map(String::from),
            remote_id: o.one("--remote-image-id").map(String::from),
            interface: o
                .one("--remote-service-interface")
                .unwrap_or("public")
                .into(),
            store: store_option(o),
            stores: o
                .one("--stores")
                .map(String::from)
                .or_else(|| env("OS_IMAGE_STORES"))
                .map(|s| {
                    s.split(',')
                        .map(|x| x.trim().to_string())
                        .filter(|x| !x.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            all_stores: boolean("--all-stores", "", false)?,
            allow_failure: boolean("--allow-failure", "OS_IMAGE_ALLOW_FAILURE", true)?,
        };
        let several = [
            args.store.is_some(),
            !args.stores.is_empty(),
            args.all_stores,
        ];
        if several.iter().filter(|&&b| b).count() > 1 {
            return Err(Failure::Usage(
                "Only one of --store, --stores and --all-stores can be provided".into(),
            ));
        }
        Ok(args)
    }

    /// Refuses a store the server does not list.
    fn check_stores(&self, client: &Client) -> Result<(), Failure> {
        for store in self.store.iter().chain(&self.stores) {
            check_store(client, store)?;
        }
        Ok(())
    }

    /// The method's own flags, each only with its method.
    fn check_method_flags(&self) -> Result<(), Failure> {
        let method = self.method.as_deref();
        if method == Some("web-download") && self.uri.is_none() {
            return Err(Failure::Usage(
                "Provide URI for web-download import method.".into(),
            ));
        }
        if self.uri.is_some() && method != Some("web-download") {
            return Err(Failure::Usage(
                "Import method should be 'web-download' if URI is provided.".into(),
            ));
        }
        if method == Some("glance-download") && (self.region.is_none() || self.remote_id.is_none())
        {
            return Err(Failure::Usage(
                "Provide REMOTE_IMAGE_ID and remote-region for 'glance-download' import method."
                    .into(),
            ));
        }
        if (self.region.is_some() || self.remote_id.is_some()) && method != Some("glance-download")
        {
            return Err(Failure::Usage(
                "Import method should be 'glance-download' if REMOTE REGION or REMOTE IMAGE ID \
                 is provided."
                    .into(),
            ));
        }
        Ok(())
    }

    /// The import request.
    fn import(&self) -> Result<Import, Failure> {
        let method = match self.method.as_deref().unwrap_or("glance-direct") {
            "glance-direct" => ImportMethod::GlanceDirect,
            "web-download" => ImportMethod::WebDownload {
                uri: self.uri.clone().unwrap_or_default(),
            },
            "copy-image" => ImportMethod::CopyImage,
            "glance-download" => ImportMethod::GlanceDownload {
                image_id: self.remote_id.clone().unwrap_or_default(),
                region: self.region.clone().unwrap_or_default(),
                service_interface: Some(self.interface.clone()),
            },
            other => {
                return Err(Failure::Usage(format!(
                    "Import method '{other}' is not known to this tool"
                )));
            }
        };
        let mut import = Import::new(method);
        if let Some(store) = &self.store {
            import.stores = vec![store.clone()];
        } else if !self.stores.is_empty() || self.all_stores {
            import.stores = self.stores.clone();
            if self.all_stores {
                import.all_stores = Some(true);
            }
            if self.allow_failure {
                import.all_stores_must_succeed = Some(false);
            }
        }
        Ok(import)
    }
}

/// The method must be one the server offers.
fn check_offered(client: &Client, method: &str) -> Result<(), Failure> {
    let methods = match client.import_methods() {
        Ok(m) => m,
        Err(glance_client::Error::NotFound(_)) => {
            return Err(Failure::Api(
                "Target Glance does not support Image Import workflow".into(),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    if methods.iter().any(|m| m == method) {
        return Ok(());
    }
    Err(Failure::Usage(format!(
        "Import method '{method}' is not valid for this cloud. Valid values can be retrieved \
         with import-info command."
    )))
}

/// `image-import`: glanceclient's checks, the import, the image.
fn image_import(client: &Client, id: &str, o: &Values) -> Result<Image, Failure> {
    let method = o
        .one("--import-method")
        .unwrap_or("glance-direct")
        .to_string();
    let args = ImportArgs::from(o, Some(method.clone()))?;
    args.check_stores(client)?;
    check_offered(client, &method)?;
    args.check_method_flags()?;
    if method == "copy-image" && args.stores.is_empty() && !args.all_stores && args.store.is_none()
    {
        return Err(Failure::Usage(
            "Provide either --stores or --all-stores for 'copy-image' import method.".into(),
        ));
    }
    let image = client.image(id)?;
    if image.container_format.is_none() || image.disk_format.is_none() {
        return Err(Failure::Usage(
            "The 'container_format' and 'disk_format' properties must be set on an image \
             before it can be imported."
                .into(),
        ));
    }
    let needed = match method.as_str() {
        "glance-direct" => Some(("uploading", "can only be applied to an image in status")),
        "web-download" => Some(("queued", "can only be applied to an image in status")),
        "copy-image" => Some(("active", "can only be used on an image with status")),
        _ => None,
    };
    if let Some((status, words)) = needed
        && image.status != status
    {
        return Err(Failure::Usage(format!(
            "The '{method}' import method {words} '{status}'"
        )));
    }
    client.import_image(id, &args.import()?)?;
    Ok(client.image(id)?)
}

/// `image-create-via-import`: the record, then (with a method) the data
/// staged and imported.
fn create_via_import(client: &Client, o: &Values) -> Result<Image, Failure> {
    let new = new_image(o)?;
    let source = Source::from_options(o)?;
    let method = o
        .one("--import-method")
        .map(String::from)
        .or_else(|| env("OS_IMAGE_IMPORT_METHOD"))
        .or_else(|| source.as_ref().map(|_| "glance-direct".to_string()));
    if method.as_deref() == Some("copy-image") {
        return Err(Failure::Usage(
            "Import method 'copy-image' cannot be used while creating the image.".into(),
        ));
    }
    if let Some(source) = &source {
        require_formats(&new, source.named())?;
    } else if o.one("--uri").is_some() {
        require_formats(&new, "--uri")?;
    }
    if let Some(method) = &method {
        check_offered(client, method)?;
    }
    let args = ImportArgs::from(o, method.clone())?;
    args.check_stores(client)?;
    check_data_for_method(&args, source.is_some())?;
    let image = client.create_image(&new)?;
    if method.is_some() {
        if let Some(source) = source {
            source.send(o.flag("--progress"), |data| client.stage(&image.id, data))?;
        }
        client.import_image(&image.id, &args.import()?)?;
    }
    Ok(client.image(&image.id)?)
}

/// glanceclient's checks of `image-create-via-import`: each method with
/// the data it takes, and nothing else.
fn check_data_for_method(args: &ImportArgs, data: bool) -> Result<(), Failure> {
    let stores = args.store.is_some() || !args.stores.is_empty() || args.all_stores;
    let refuse = |m: &str| Err(Failure::Usage(m.to_string()));
    match args.method.as_deref() {
        None if args.uri.is_some() => {
            refuse("You cannot use --uri without specifying an import method.")
        }
        Some("glance-direct") if args.uri.is_some() => {
            refuse("You cannot specify a --uri with the glance-direct import method.")
        }
        Some("glance-direct") if !data => refuse(
            "You must specify a --file or provide data via stdin for the glance-direct \
             import method.",
        ),
        Some("web-download") if args.uri.is_none() => {
            refuse("URI is required for web-download import method. Please use '--uri <uri>'.")
        }
        Some("web-download") if data => {
            refuse("You cannot pass data (--file or stdin) with the web-download import method.")
        }
        Some("glance-download") if args.region.is_none() || args.remote_id.is_none() => refuse(
            "REMOTE GlANCE REGION and REMOTE IMAGE ID are required for glance-download import \
             method. Please use --remote-region <region> and --remote-image-id \
             <remote-image-id>.",
        ),
        Some("glance-download") if data || args.uri.is_some() => refuse(
            "You cannot pass data (--uri, --file or stdin) with the glance-download import \
             method.",
        ),
        None if stores && !data => {
            refuse("--store option should only be provided with --file option or stdin.")
        }
        _ => Ok(()),
    }
}
