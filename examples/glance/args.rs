//! Command-line parsing by hand: a table of commands and options, one pass
//! over the arguments, and usage text generated from the same table.
//!
//! Options are `--name VALUE` or `--name=VALUE`; global options may come
//! before or after the command. `--` ends the options.

use std::collections::BTreeMap;

use crate::Failure;

/// One option a command (or the tool as a whole) accepts.
pub struct Opt {
    pub name: &'static str,
    /// The value's placeholder in the usage text; `None` for a flag.
    pub value: Option<&'static str>,
    pub repeatable: bool,
    pub required: bool,
    pub help: &'static str,
    /// How many arguments the value takes (argparse's `nargs`).
    pub arity: Arity,
}

/// argparse's `nargs`, as glanceclient uses it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Arity {
    /// One value (`--name NAME` or `--name=NAME`).
    One,
    /// `nargs='+'`: every following argument up to the next option
    /// (`--tags a b c`), each its own value.
    Many,
    /// `nargs='?'`: the next argument when it is not an option, else
    /// `True` (`--hidden`, `--hidden False`).
    Maybe,
}

pub const fn flag(name: &'static str, help: &'static str) -> Opt {
    Opt {
        name,
        value: None,
        repeatable: false,
        required: false,
        help,
        arity: Arity::One,
    }
}

pub const fn value(name: &'static str, value: &'static str, help: &'static str) -> Opt {
    Opt {
        name,
        value: Some(value),
        repeatable: false,
        required: false,
        help,
        arity: Arity::One,
    }
}

pub const fn required(name: &'static str, value: &'static str, help: &'static str) -> Opt {
    Opt {
        name,
        value: Some(value),
        repeatable: false,
        required: true,
        help,
        arity: Arity::One,
    }
}

pub const fn repeated(name: &'static str, value: &'static str, help: &'static str) -> Opt {
    Opt {
        name,
        value: Some(value),
        repeatable: true,
        required: false,
        help,
        arity: Arity::One,
    }
}

/// `--tags a b c`: one or more values.
pub const fn many(name: &'static str, value: &'static str, help: &'static str) -> Opt {
    Opt {
        name,
        value: Some(value),
        repeatable: true,
        required: false,
        help,
        arity: Arity::Many,
    }
}

/// `--hidden [True|False]`: a value, or `True` when none follows.
pub const fn maybe(name: &'static str, value: &'static str, help: &'static str) -> Opt {
    Opt {
        name,
        value: Some(value),
        repeatable: false,
        required: false,
        help,
        arity: Arity::Maybe,
    }
}

/// The options every command accepts.
pub const GLOBAL: &[Opt] = &[
    repeated(
        "--os-image-url",
        "URL",
        "image API server; repeat or separate with commas for several (env OS_IMAGE_URL)",
    ),
    value(
        "--os-auth-token",
        "TOKEN",
        "Keystone token sent as X-Auth-Token (env OS_AUTH_TOKEN)",
    ),
    value(
        "--os-image-api-version",
        "1|2",
        "image API version (env OS_IMAGE_API_VERSION; default 2)",
    ),
    repeated(
        "--config-file",
        "PATH",
        "nova.conf-style file ([glance], [image_file_url]); later files override earlier ones",
    ),
    value(
        "--os-auth-type",
        "TYPE",
        "Keystone login: password, v3applicationcredential, token or none (env OS_AUTH_TYPE)",
    ),
    value(
        "--os-auth-url",
        "URL",
        "Keystone identity API, e.g. http://127.0.0.1:5000/v3 (env OS_AUTH_URL)",
    ),
    value(
        "--os-username",
        "NAME",
        "user to log in as (env OS_USERNAME)",
    ),
    value(
        "--os-user-id",
        "ID",
        "user to log in as, by id (env OS_USER_ID)",
    ),
    value(
        "--os-password",
        "PASSWORD",
        "the user's password (env OS_PASSWORD)",
    ),
    value(
        "--os-user-domain-name",
        "NAME",
        "the user's domain (env OS_USER_DOMAIN_NAME)",
    ),
    value(
        "--os-user-domain-id",
        "ID",
        "the user's domain, by id (env OS_USER_DOMAIN_ID)",
    ),
    value(
        "--os-project-name",
        "NAME",
        "project to scope the token to (env OS_PROJECT_NAME)",
    ),
    value(
        "--os-project-id",
        "ID",
        "project to scope the token to, by id (env OS_PROJECT_ID)",
    ),
    value(
        "--os-project-domain-name",
        "NAME",
        "the project's domain (env OS_PROJECT_DOMAIN_NAME)",
    ),
    value(
        "--os-project-domain-id",
        "ID",
        "the project's domain, by id (env OS_PROJECT_DOMAIN_ID)",
    ),
    value(
        "--os-application-credential-id",
        "ID",
        "application credential to log in with (env OS_APPLICATION_CREDENTIAL_ID)",
    ),
    value(
        "--os-application-credential-name",
        "NAME",
        "application credential by name, with the user (env OS_APPLICATION_CREDENTIAL_NAME)",
    ),
    value(
        "--os-application-credential-secret",
        "SECRET",
        "the application credential's secret (env OS_APPLICATION_CREDENTIAL_SECRET)",
    ),
    value(
        "--os-token",
        "TOKEN",
        "a Keystone token, as --os-auth-token (env OS_TOKEN)",
    ),
    value(
        "--os-region-name",
        "REGION",
        "catalog region of the image service (env OS_REGION_NAME)",
    ),
    value(
        "--os-interface",
        "INTERFACE",
        "catalog interface: internal, public or admin (env OS_INTERFACE; default internal, then public)",
    ),
    value(
        "--os-global-request-id",
        "ID",
        "global request id (req-<uuid>) sent with every request, for Glance's logs \
         (env OS_GLOBAL_REQUEST_ID)",
    ),
    value(
        "--os-endpoint-type",
        "INTERFACE",
        "glanceclient's name of --os-interface (env OS_ENDPOINT_TYPE; publicURL is public)",
    ),
    flag(
        "--insecure",
        "do not verify the server's TLS certificate (a warning says so)",
    ),
    value(
        "--os-cacert",
        "FILE",
        "CA certificates to verify the server with (env OS_CACERT)",
    ),
    value("--os-cert", "FILE", "client certificate, PEM (env OS_CERT)"),
    value(
        "--os-key",
        "FILE",
        "the client certificate's key, PEM (env OS_KEY)",
    ),
    value(
        "--timeout",
        "SECONDS",
        "give up on a connection or a read after this long",
    ),
    value(
        "--os-service-type",
        "TYPE",
        "accepted for glanceclient; the catalog's image service is used",
    ),
    flag(
        "--debug",
        "log each request (method, URL, status, request id; never a token) on stderr \
         (-d; env GLANCECLIENT_DEBUG)",
    ),
    flag(
        "--verbose",
        "more columns in image-list and image-tasks (-v)",
    ),
    flag(
        "--force",
        "accepted for glanceclient (-f); nothing here asks",
    ),
    flag(
        "--get-schema",
        "accepted for glanceclient; no schema is cached",
    ),
    flag("--json", "print results as JSON"),
    flag("--help", "show this help, or a command's"),
    flag("--version", "show the version"),
];

/// A command: its name, positional arguments and options.
pub struct Spec {
    pub name: &'static str,
    pub summary: &'static str,
    /// Positional argument names; the last one takes any number (at least
    /// one) when `variadic`.
    pub positionals: &'static [&'static str],
    pub variadic: bool,
    pub options: &'static [Opt],
}

/// The image fields image-create, image-update and image-create-via-import
/// share (glanceclient's names), followed by the command's own options.
macro_rules! image_fields {
    ($($own:expr),* $(,)?) => {
        &[
            value(
                "--architecture",
                "ARCH",
                "operating system architecture (x86_64, ...)",
            ),
            value(
                "--container-format",
                "FORMAT",
                "bare, ovf, ova, ami, ari, aki, docker",
            ),
            value(
                "--disk-format",
                "FORMAT",
                "raw, qcow2, vmdk, vhd, vhdx, vdi, iso, ploop, ami, ari, aki",
            ),
            value(
                "--instance-uuid",
                "UUID",
                "the server whose snapshot this is",
            ),
            value("--kernel-id", "ID", "image to use as the kernel"),
            value("--min-disk", "GB", "disk space needed to boot, in GiB"),
            value("--min-ram", "MB", "RAM needed to boot, in MiB"),
            value("--name", "NAME", "image name"),
            value(
                "--os-distro",
                "DISTRO",
                "the operating system's distribution",
            ),
            value("--os-version", "VERSION", "the distribution's version"),
            value("--owner", "OWNER", "owning project (admins only)"),
            value(
                "--protected",
                "[True|False]",
                "whether the image may not be deleted",
            ),
            value("--ramdisk-id", "ID", "image to use as the ramdisk"),
            value(
                "--visibility",
                "VISIBILITY",
                "public, private, shared or community",
            ),
            value(
                "--hidden",
                "[True|False]",
                "hide the image from default listings",
            ),
            repeated("--property", "KEY=VALUE", "extra property"),
            $($own,)*
        ]
    };
}
pub(crate) use image_fields;

pub const PROGRESS: Opt = flag("--progress", "draw a progress bar on stderr");
const CACHE_DIR: Opt = value(
    "--cache-dir",
    "DIR",
    "the host image cache directory (default: nova.conf's instances_path/_base)",
);

const COMMANDS: &[Spec] = &[
    Spec {
        name: "image-list",
        summary: "list images (sorted by name unless --sort, --sort-key or --sort-dir say otherwise)",
        positionals: &[],
        variadic: false,
        options: &[
            value("--limit", "N", "stop after N images"),
            value("--page-size", "N", "images per request"),
            value(
                "--visibility",
                "VISIBILITY",
                "only images of this visibility (or all)",
            ),
            value(
                "--member-status",
                "STATUS",
                "only shared images whose membership is this (accepted, pending, rejected, all)",
            ),
            value("--owner", "OWNER", "only images of this project"),
            repeated(
                "--property-filter",
                "KEY=VALUE",
                "only images whose field (name, status, visibility, owner, size_min, ...) \
                 or extra property KEY is VALUE",
            ),
            value("--checksum", "MD5", "only images with this MD5 checksum"),
            value(
                "--hash",
                "HASH_VALUE",
                "only images with this os_hash_value",
            ),
            repeated("--tag", "TAG", "only images with this tag"),
            repeated(
                "--sort-key",
                "KEY",
                "sort key: name, status, container_format, disk_format, size, id, \
                 created_at or updated_at; may be repeated",
            ),
            repeated(
                "--sort-dir",
                "asc|desc",
                "sort direction, one for all keys or one each",
            ),
            repeated(
                "--sort",
                "KEY[:asc|desc],...",
                "sort keys and directions, most significant first",
            ),
            maybe(
                "--hidden",
                "[True|False]",
                "only hidden images (or only visible ones)",
            ),
            maybe("--include-stores", "[True|False]", "add a Stores column"),
        ],
    },
    Spec {
        name: "image-show",
        summary: "show one image",
        positionals: &["ID"],
        variadic: false,
        options: &[
            flag("--human-readable", "show the size as 1.5MB"),
            value(
                "--max-column-width",
                "N",
                "wrap values wider than this (default 80)",
            ),
        ],
    },
    Spec {
        name: "image-create",
        summary: "create an image, with the data of --file or stdin (when it is not a terminal)",
        positionals: &[],
        variadic: false,
        options: image_fields![
            value("--id", "UUID", "the image's id"),
            many("--tags", "TAG", "tags (one or more)"),
            value(
                "--file",
                "PATH",
                "data to upload (- for stdin); without it, stdin when it is a pipe or file",
            ),
            value(
                "--size",
                "BYTES",
                "size of the data when it cannot be found out (stdin)",
            ),
            PROGRESS,
            value(
                "--store",
                "STORE",
                "store to upload into (env OS_IMAGE_STORE)",
            ),
        ],
    },
    Spec {
        name: "image-upload",
        summary: "upload data to a queued image (--file, or stdin)",
        positionals: &["ID"],
        variadic: false,
        options: &[
            value(
                "--file",
                "PATH",
                "data to upload (default, or -: stdin, streamed)",
            ),
            value(
                "--size",
                "BYTES",
                "size of the data when it cannot be found out (stdin)",
            ),
            PROGRESS,
            value(
                "--store",
                "STORE",
                "store to upload into (env OS_IMAGE_STORE)",
            ),
        ],
    },
    Spec {
        name: "image-update",
        summary: "change an image's fields and properties (only what differs is sent)",
        positionals: &["ID"],
        variadic: false,
        options: image_fields![repeated(
            "--remove-property",
            "KEY",
            "remove an extra property (if it is there)",
        ),],
    },
    Spec {
        name: "image-download",
        summary: "download an image, verified against its checksums (to stdout without --file)",
        positionals: &["ID"],
        variadic: false,
        options: &[
            value(
                "--file",
                "PATH",
                "where to write the data (written atomically; - or none: stdout, not a terminal)",
            ),
            PROGRESS,
            flag(
                "--allow-md5-fallback",
                "verify the MD5 checksum when the image's hash algorithm is unknown \
                 (env OS_IMAGE_ALLOW_MD5_FALLBACK)",
            ),
            value(
                "--prefer",
                "STORES",
                "stores for Glance to try first, comma-separated",
            ),
            flag(
                "--no-local",
                "always download over HTTP, never copy from a local file store",
            ),
            value(
                "--cache-dir",
                "DIR",
                "fetch through this host image cache and check the image out to --file",
            ),
            flag(
                "--no-inspect",
                "do not inspect the image's format (nothing then refuses an unsafe or mislabelled image)",
            ),
            flag(
                "--verify-signature",
                "require a valid image signature (img_signature*), as [glance] \
                 verify_glance_signatures does; needs the signatures feature",
            ),
            value(
                "--trusted-cert-dir",
                "DIR",
                "signing and trusted certificates from DIR (<uuid>.pem or <uuid>.der) \
                 instead of Barbican",
            ),
        ],
    },
    Spec {
        name: "image-inspect",
        summary: "inspect a local image file's format (exit 1 when it is not safe)",
        positionals: &["FILE"],
        variadic: false,
        options: &[value(
            "--disk-format",
            "FORMAT",
            "the format the file must be (raw, qcow2, vmdk, vhd, vhdx, vdi, iso, ...)",
        )],
    },
    Spec {
        name: "image-delete",
        summary: "delete images",
        positionals: &["ID"],
        variadic: true,
        options: &[],
    },
    Spec {
        name: "image-tag-update",
        summary: "add a tag",
        positionals: &["ID", "TAG"],
        variadic: false,
        options: &[],
    },
    Spec {
        name: "image-tag-delete",
        summary: "remove a tag",
        positionals: &["ID", "TAG"],
        variadic: false,
        options: &[],
    },
    Spec {
        name: "image-deactivate",
        summary: "deactivate an image (its data can no longer be downloaded)",
        positionals: &["ID"],
        variadic: false,
        options: &[],
    },
    Spec {
        name: "image-reactivate",
        summary: "reactivate a deactivated image",
        positionals: &["ID"],
        variadic: false,
        options: &[],
    },
    Spec {
        name: "member-list",
        summary: "list the projects an image is shared with (ID or --image-id ID)",
        positionals: &["ID"],
        variadic: false,
        options: &[value("--image-id", "ID", "the image (glanceclient's form)")],
    },
    Spec {
        name: "member-create",
        summary: "share an image with a project",
        positionals: &["ID", "MEMBER"],
        variadic: false,
        options: &[],
    },
    Spec {
        name: "member-update",
        summary: "set a membership's status: accepted, rejected or pending (as the member)",
        positionals: &["ID", "MEMBER", "STATUS"],
        variadic: false,
        options: &[],
    },
    Spec {
        name: "member-delete",
        summary: "stop sharing an image with a project",
        positionals: &["ID", "MEMBER"],
        variadic: false,
        options: &[],
    },
    Spec {
        name: "host-cache-fetch",
        summary: "put images in this host's image cache (one download per image across processes)",
        positionals: &["ID"],
        variadic: true,
        options: &[CACHE_DIR, PROGRESS],
    },
    Spec {
        name: "host-cache-list",
        summary: "list this host's cached images",
        positionals: &[],
        variadic: false,
        options: &[CACHE_DIR],
    },
    Spec {
        name: "host-cache-clean",
        summary: "evict unused cached images by age, then by size; remove leftovers of killed fetches",
        positionals: &[],
        variadic: false,
        options: &[
            CACHE_DIR,
            value(
                "--max-age",
                "SECONDS",
                "remove entries unused for this long (default: nova.conf's \
                 remove_unused_original_minimum_age_seconds, else none)",
            ),
            value(
                "--max-size",
                "BYTES",
                "then remove the least recently used until the cache is this small",
            ),
        ],
    },
    Spec {
        name: "host-cache-verify",
        summary: "re-hash every cached image; remove those that no longer match (exit 1 if any)",
        positionals: &[],
        variadic: false,
        options: &[CACHE_DIR],
    },
    Spec {
        name: "config-check",
        summary: "print the resolved configuration as JSON (warnings on stderr)",
        positionals: &[],
        variadic: false,
        options: &[],
    },
    Spec {
        name: "help",
        summary: "show this help, or a command's",
        positionals: &[],
        variadic: true,
        options: &[],
    },
];

/// Option values as given, by option name.
#[derive(Default)]
pub struct Values {
    values: BTreeMap<&'static str, Vec<String>>,
}

impl Values {
    /// Every value of a repeatable option, in order; comma-separated lists
    /// are not split here.
    pub fn all(&self, name: &str) -> &[String] {
        self.values.get(name).map_or(&[], Vec::as_slice)
    }

    /// The value of a single-valued option.
    pub fn one(&self, name: &str) -> Option<&str> {
        self.all(name).first().map(String::as_str)
    }

    /// Whether a flag was given.
    pub fn flag(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    /// A single-valued option that must be a non-negative number.
    pub fn number<T: std::str::FromStr>(&self, name: &str) -> Result<Option<T>, Failure> {
        self.one(name)
            .map(|v| {
                v.parse().map_err(|_| {
                    Failure::Usage(format!("{name} takes a non-negative number, not {v:?}"))
                })
            })
            .transpose()
    }
}

/// A parsed command line.
pub struct Invocation {
    /// The command, `None` when only global options (e.g. `--help`) were given.
    pub command: Option<&'static Spec>,
    pub positionals: Vec<String>,
    /// The command's options.
    pub options: Values,
    /// The global options.
    pub global: Values,
}

/// Parses the arguments after the program name.
pub fn parse(args: &[String]) -> Result<Invocation, Failure> {
    let mut command: Option<&'static Spec> = None;
    let mut positionals = Vec::new();
    let mut options = Values::default();
    let mut global = Values::default();
    let mut args = args.iter();
    let mut only_positionals = false;
    while let Some(arg) = args.next() {
        if only_positionals || !arg.starts_with('-') || arg == "-" {
            match command {
                None if !only_positionals => command = Some(find_command(arg)?),
                _ => positionals.push(arg.clone()),
            }
            continue;
        }
        if arg == "--" {
            only_positionals = true;
            continue;
        }
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) => (name, Some(value.to_string())),
            None => (arg.as_str(), None),
        };
        let name = match name {
            "-h" => "--help",
            "-d" => "--debug",
            "-v" => "--verbose",
            "-f" => "--force",
            other => other,
        };
        let (opt, into) = if let Some(opt) = GLOBAL.iter().find(|o| o.name == name) {
            (opt, &mut global)
        } else if let Some(opt) = command.and_then(|c| c.options.iter().find(|o| o.name == name)) {
            (opt, &mut options)
        } else {
            return Err(match command {
                Some(c) => Failure::Usage(format!("{} has no option {name}", c.name)),
                None => Failure::Usage(format!("unknown option {name}")),
            });
        };
        let mut values = match (opt.value, inline) {
            (None, None) => vec![String::new()],
            (None, Some(_)) => return Err(Failure::Usage(format!("{name} takes no value"))),
            (Some(_), Some(v)) => vec![v],
            (Some(_), None) if opt.arity == Arity::Maybe => {
                match args.clone().next().filter(|v| !v.starts_with('-')) {
                    Some(v) => {
                        args.next();
                        vec![v.clone()]
                    }
                    None => vec!["True".to_string()],
                }
            }
            (Some(placeholder), None) => match args.next() {
                Some(v) => vec![v.clone()],
                None => {
                    return Err(Failure::Usage(format!(
                        "{name} needs a value ({placeholder})"
                    )));
                }
            },
        };
        if opt.arity == Arity::Many {
            while let Some(v) = args.clone().next().filter(|v| !v.starts_with('-')) {
                args.next();
                values.push(v.clone());
            }
        }
        let slot = into.values.entry(opt.name).or_default();
        if !slot.is_empty() && !opt.repeatable {
            return Err(Failure::Usage(format!("{name} given more than once")));
        }
        slot.extend(values);
    }
    // glanceclient's `member-list --image-id ID`, and ours, `member-list ID`.
    if let Some(id) = options.one("--image-id")
        && command.is_some_and(|c| c.name == "member-list")
    {
        positionals.insert(0, id.to_string());
    }
    let invocation = Invocation {
        command,
        positionals,
        options,
        global,
    };
    if let Some(spec) = command
        && !invocation.wants_help()
    {
        check_arity(spec, &invocation)?;
    }
    Ok(invocation)
}

impl Invocation {
    /// Whether help was asked for (`--help`, `-h`, `help`, or nothing at all).
    pub fn wants_help(&self) -> bool {
        self.global.flag("--help") || self.command.is_some_and(|c| c.name == "help")
    }
}

/// Every command: the table above, then glanceclient's others (specs.rs).
pub fn commands() -> impl Iterator<Item = &'static Spec> {
    COMMANDS.iter().chain(crate::specs::MORE)
}

fn find_command(name: &str) -> Result<&'static Spec, Failure> {
    commands()
        .find(|c| c.name == name)
        .ok_or_else(|| Failure::Usage(format!("unknown command {name:?}")))
}

fn check_arity(spec: &Spec, invocation: &Invocation) -> Result<(), Failure> {
    let given = invocation.positionals.len();
    let wanted = spec.positionals.len();
    if given < wanted {
        return Err(Failure::Usage(format!(
            "{} needs {}",
            spec.name,
            spec.positionals[given..].join(" ")
        )));
    }
    if given > wanted && !spec.variadic {
        return Err(Failure::Usage(format!(
            "{} takes {}, not {given} argument{}",
            spec.name,
            match wanted {
                0 => "no arguments".to_string(),
                1 => "one argument".to_string(),
                n => format!("{n} arguments"),
            },
            if given == 1 { "" } else { "s" }
        )));
    }
    for opt in spec.options.iter().filter(|o| o.required) {
        if !invocation.options.flag(opt.name) {
            return Err(Failure::Usage(format!("{} needs {}", spec.name, opt.name)));
        }
    }
    Ok(())
}

/// The usage text of the whole tool.
pub fn usage() -> String {
    let mut text = String::from(
        "usage: glance [GLOBAL OPTIONS] COMMAND [ARGS]\n\
         \n\
         A small glanceclient-style tool over the glance-client crate.\n\
         \n\
         Global options (before or after the command):\n",
    );
    push_options(&mut text, GLOBAL);
    text.push_str("\nCommands:\n");
    let width = commands().map(|c| c.name.len()).max().unwrap_or(0);
    for c in commands() {
        text.push_str(&format!("  {:width$}  {}\n", c.name, c.summary));
    }
    text.push_str(
        "\nCommand line values override the environment, which overrides --config-file.\n\
         Exit status: 0 success, 1 API or I/O error, 2 usage or configuration error.\n\
         `glance help COMMAND` shows a command's arguments.\n",
    );
    text
}

/// The usage text of one command.
pub fn command_usage(spec: &Spec) -> String {
    let mut line = format!("usage: glance {}", spec.name);
    for opt in spec.options {
        let shown = match opt.value {
            Some(v) => format!("{} {v}", opt.name),
            None => opt.name.to_string(),
        };
        let shown = if opt.repeatable {
            format!("{shown}...")
        } else {
            shown
        };
        if opt.required {
            line.push_str(&format!(" {shown}"));
        } else {
            line.push_str(&format!(" [{shown}]"));
        }
    }
    for (i, p) in spec.positionals.iter().enumerate() {
        line.push(' ');
        line.push_str(p);
        if spec.variadic && i + 1 == spec.positionals.len() {
            line.push_str("...");
        }
    }
    let mut text = format!("{line}\n\n{}\n", spec.summary);
    if !spec.options.is_empty() {
        text.push_str("\nOptions:\n");
        push_options(&mut text, spec.options);
    }
    text
}

fn push_options(text: &mut String, options: &[Opt]) {
    let shown: Vec<String> = options
        .iter()
        .map(|o| match o.value {
            Some(v) => format!("{} {v}", o.name),
            None => o.name.to_string(),
        })
        .collect();
    let width = shown.iter().map(String::len).max().unwrap_or(0);
    for (opt, shown) in options.iter().zip(&shown) {
        text.push_str(&format!("  {shown:width$}  {}\n", opt.help));
    }
}
