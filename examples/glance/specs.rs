//! The commands python-glanceclient has beyond the first table of
//! args.rs: members, stores, import, tasks, usage, the server's cache and
//! locations, with glanceclient's names, arguments and flags.

use crate::args::{Opt, maybe};
use crate::args::{PROGRESS, Spec, flag, image_fields, many, repeated, required, value};

const STORE: Opt = value(
    "--store",
    "STORE",
    "store to import into (env OS_IMAGE_STORE)",
);
const STORES: Opt = value(
    "--stores",
    "STORES",
    "stores to import into, comma-separated (env OS_IMAGE_STORES)",
);
const ALL_STORES: Opt = maybe("--all-stores", "[True|False]", "import into every store");
const ALLOW_FAILURE: Opt = value(
    "--allow-failure",
    "[True|False]",
    "whether some stores may fail (default True; env OS_IMAGE_ALLOW_FAILURE)",
);
const URI: Opt = value("--uri", "URL", "where web-download fetches the data");
const REMOTE_REGION: Opt = value(
    "--remote-region",
    "REGION",
    "the other region of a glance-download",
);
const REMOTE_IMAGE_ID: Opt = value(
    "--remote-image-id",
    "ID",
    "the image in the other region of a glance-download",
);
const REMOTE_INTERFACE: Opt = value(
    "--remote-service-interface",
    "INTERFACE",
    "the other region's catalog interface (default public)",
);

pub const MORE: &[Spec] = &[
    Spec {
        name: "member-get",
        summary: "show one membership of an image",
        positionals: &["IMAGE_ID", "MEMBER_ID"],
        variadic: false,
        options: &[],
    },
    Spec {
        name: "import-info",
        summary: "show the import methods the server offers",
        positionals: &[],
        variadic: false,
        options: &[],
    },
    Spec {
        name: "stores-info",
        summary: "show the stores of a multi-store Glance",
        positionals: &[],
        variadic: false,
        options: &[flag(
            "--detail",
            "with each store's type, weight and settings (admins only)",
        )],
    },
    Spec {
        name: "stores-delete",
        summary: "delete an image's data from one store",
        positionals: &["ID"],
        variadic: false,
        options: &[required("--store", "STORE", "the store to delete it from")],
    },
    Spec {
        name: "image-stage",
        summary: "upload data to an image's staging area (--file, or stdin), for image-import",
        positionals: &["ID"],
        variadic: false,
        options: &[
            value(
                "--file",
                "PATH",
                "data to stage (default, or -: stdin, streamed)",
            ),
            value(
                "--size",
                "BYTES",
                "size of the data when it cannot be found out (stdin)",
            ),
            PROGRESS,
        ],
    },
    Spec {
        name: "image-import",
        summary: "start an import: glance-direct, web-download, copy-image or glance-download",
        positionals: &["ID"],
        variadic: false,
        options: &[
            value(
                "--import-method",
                "METHOD",
                "the method (default glance-direct; see import-info)",
            ),
            URI,
            REMOTE_REGION,
            REMOTE_IMAGE_ID,
            REMOTE_INTERFACE,
            STORE,
            STORES,
            ALL_STORES,
            ALLOW_FAILURE,
        ],
    },
    Spec {
        name: "image-create-via-import",
        summary: "create an image and import its data (--file or stdin: glance-direct)",
        positionals: &[],
        variadic: false,
        options: image_fields![
            value("--id", "UUID", "the image's id"),
            many("--tags", "TAG", "tags (one or more)"),
            value("--file", "PATH", "data to stage and import (glance-direct)"),
            value(
                "--size",
                "BYTES",
                "size of the data when it cannot be found out (stdin)",
            ),
            PROGRESS,
            value(
                "--import-method",
                "METHOD",
                "the method (env OS_IMAGE_IMPORT_METHOD; glance-direct with data, \
                 else only the record is created)",
            ),
            URI,
            REMOTE_REGION,
            REMOTE_IMAGE_ID,
            REMOTE_INTERFACE,
            STORE,
            STORES,
            ALL_STORES,
            ALLOW_FAILURE,
        ],
    },
    Spec {
        name: "image-tasks",
        summary: "show the tasks that worked on an image (image API v2.12)",
        positionals: &["ID"],
        variadic: false,
        options: &[],
    },
    Spec {
        name: "task-list",
        summary: "list tasks",
        positionals: &[],
        variadic: false,
        options: &[
            value(
                "--sort-key",
                "KEY",
                "id, type, status, updated_at or created_at (default status)",
            ),
            value("--sort-dir", "asc|desc", "sort direction (default desc)"),
            value("--page-size", "N", "tasks per request"),
            value("--type", "TYPE", "only tasks of this type"),
            value("--status", "STATUS", "only tasks in this status"),
        ],
    },
    Spec {
        name: "task-show",
        summary: "show one task",
        positionals: &["ID"],
        variadic: false,
        options: &[],
    },
    Spec {
        name: "usage",
        summary: "show the project's quota usage",
        positionals: &[],
        variadic: false,
        options: &[],
    },
    Spec {
        name: "cache-list",
        summary: "list the server's cached and queued images (a node's own endpoint; API v2.14)",
        positionals: &[],
        variadic: false,
        options: &[],
    },
    Spec {
        name: "cache-queue",
        summary: "queue images for the server's cache",
        positionals: &["ID"],
        variadic: true,
        options: &[],
    },
    Spec {
        name: "cache-delete",
        summary: "remove images from the server's cache or its queue",
        positionals: &["ID"],
        variadic: true,
        options: &[],
    },
    Spec {
        name: "cache-clear",
        summary: "empty the server's cache, its queue, or both",
        positionals: &[],
        variadic: false,
        options: &[value(
            "--target",
            "both|cache|queue",
            "what to empty (default both)",
        )],
    },
    Spec {
        name: "location-add",
        summary: "add a location to an image (JSON patch)",
        positionals: &["ID"],
        variadic: false,
        options: &[
            required("--url", "URL", "the location"),
            value(
                "--metadata",
                "JSON",
                "its metadata, a JSON object (default {})",
            ),
            value("--checksum", "MD5", "the data's MD5"),
            value("--hash-algo", "ALGO", "the data's secure hash algorithm"),
            value("--hash-value", "HEX", "the data's secure hash"),
        ],
    },
    Spec {
        name: "location-delete",
        summary: "remove locations from an image",
        positionals: &["ID"],
        variadic: false,
        options: &[Opt {
            required: true,
            ..repeated("--url", "URL", "a location to remove; may be repeated")
        }],
    },
    Spec {
        name: "location-update",
        summary: "set the metadata of an image's location",
        positionals: &["ID"],
        variadic: false,
        options: &[
            required("--url", "URL", "the location"),
            value(
                "--metadata",
                "JSON",
                "its metadata, a JSON object (default {})",
            ),
        ],
    },
    Spec {
        name: "add-location",
        summary: "give a queued image its data at a URL (image API v2.17; service users)",
        positionals: &["ID"],
        variadic: false,
        options: &[
            required("--url", "URL", "the location"),
            value(
                "--validation-data",
                "JSON",
                "{\"os_hash_algo\": ..., \"os_hash_value\": ...} (default {})",
            ),
        ],
    },
];
