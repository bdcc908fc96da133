//! `warren ctl`: rabbitmqctl's everyday commands against a running server,
//! over its management API (so it works wherever the HTTP port reaches, and
//! needs no Erlang cookie). Output mimics rabbitmqctl: info lines, then a
//! tab-separated table under a header row, or `--formatter json`.

pub mod client;
pub mod format;

use client::{seg, Client, CtlError, EX_NOUSER, EX_SOFTWARE, EX_UNAVAILABLE};
use serde_json::{json, Map, Value};
use std::path::PathBuf;
use std::process::ExitCode;

/// Options before the command, as `warren ctl [options] <command>`.
#[derive(clap::Args, Debug)]
pub struct CtlArgs {
    /// Host of the server's management API.
    #[arg(long, default_value = "127.0.0.1", global = true)]
    pub host: String,
    /// Its HTTP port (`warren serve --http-port`).
    #[arg(long, default_value_t = 15672, global = true)]
    pub port: u16,
    /// User to log in as (must be tagged administrator or management).
    #[arg(short = 'u', long, default_value = "guest")]
    pub user: String,
    #[arg(short = 'p', long, default_value = "guest")]
    pub password: String,
    /// "table" (default) or "json".
    #[arg(long, default_value = "table", global = true)]
    pub formatter: String,
    /// Leaves out the informational lines.
    #[arg(short = 'q', long, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: CtlCommand,
}

/// A vhost option, `-p VHOST` as in rabbitmqctl.
#[derive(clap::Args, Debug, Clone)]
pub struct Vhost {
    #[arg(short = 'p', long = "vhost", default_value = "/")]
    pub vhost: String,
}

#[derive(clap::Subcommand, Debug)]
#[command(rename_all = "snake_case")]
pub enum CtlCommand {
    /// Lists queues (columns: name messages messages_ready
    /// messages_unacknowledged consumers durable auto_delete exclusive type ...).
    ListQueues {
        #[command(flatten)]
        vhost: Vhost,
        columns: Vec<String>,
    },
    ListExchanges {
        #[command(flatten)]
        vhost: Vhost,
        columns: Vec<String>,
    },
    ListBindings {
        #[command(flatten)]
        vhost: Vhost,
        columns: Vec<String>,
    },
    ListConnections {
        columns: Vec<String>,
    },
    ListChannels {
        columns: Vec<String>,
    },
    ListConsumers {
        #[command(flatten)]
        vhost: Vhost,
        columns: Vec<String>,
    },
    ListUsers,
    ListVhosts,
    ListPermissions {
        #[command(flatten)]
        vhost: Vhost,
    },
    AddUser {
        user: String,
        password: String,
    },
    DeleteUser {
        user: String,
    },
    ChangePassword {
        user: String,
        password: String,
    },
    SetUserTags {
        user: String,
        tags: Vec<String>,
    },
    SetPermissions {
        #[command(flatten)]
        vhost: Vhost,
        user: String,
        configure: String,
        write: String,
        read: String,
    },
    AddVhost {
        vhost: String,
    },
    DeleteVhost {
        vhost: String,
    },
    PurgeQueue {
        #[command(flatten)]
        vhost: Vhost,
        queue: String,
    },
    DeleteQueue {
        #[command(flatten)]
        vhost: Vhost,
        queue: String,
    },
    /// Writes the definitions to FILE ("-" for standard output).
    ExportDefinitions {
        file: PathBuf,
    },
    ImportDefinitions {
        file: PathBuf,
    },
    /// The node's status: versions, listeners, object totals.
    Status,
}

/// Runs a ctl command; errors are one line on stderr and a rabbitmqctl exit code.
pub fn run(args: CtlArgs) -> ExitCode {
    let client = Client::new(&args.host, args.port, &args.user, &args.password);
    let json = args.formatter == "json";
    if !json && args.formatter != "table" {
        eprintln!(
            "Error: unknown formatter '{}' (table or json)",
            args.formatter
        );
        return ExitCode::from(client::EX_USAGE);
    }
    let out = Out {
        json,
        quiet: args.quiet || json,
    };
    match command(&client, &out, args.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {}", e.message);
            ExitCode::from(e.code)
        }
    }
}

/// How to print.
struct Out {
    json: bool,
    quiet: bool,
}

impl Out {
    fn info(&self, line: &str) {
        if !self.quiet {
            println!("{line}");
        }
    }

    /// A listing: the timeout line, what is listed, then the table.
    fn list(&self, what: &str, rows: &[Value], columns: &[String]) {
        self.info("Timeout: 60.0 seconds ...");
        self.info(what);
        print!(
            "{}",
            format::render(&format::select(rows, columns), columns, self.json)
        );
    }
}

fn columns(given: Vec<String>, default: &[&str]) -> Vec<String> {
    if given.is_empty() {
        default.iter().map(|c| c.to_string()).collect()
    } else {
        given
    }
}

fn array(v: Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a,
        _ => Vec::new(),
    }
}

/// Renames and derives fields so rows carry rabbitmqctl's column names.
fn with(mut row: Value, extra: impl FnOnce(&Value) -> Vec<(&'static str, Value)>) -> Value {
    let add = extra(&row);
    if let Value::Object(m) = &mut row {
        for (k, v) in add {
            m.insert(k.to_string(), v);
        }
    }
    row
}

fn command(c: &Client, out: &Out, cmd: CtlCommand) -> Result<(), CtlError> {
    use CtlCommand::*;
    match cmd {
        ListQueues {
            vhost,
            columns: cols,
        } => {
            let rows = array(c.get(&format!("/api/queues/{}", seg(&vhost.vhost)))?);
            let cols = columns(cols, &["name", "messages"]);
            out.list(
                &format!("Listing queues for vhost {} ...", vhost.vhost),
                &rows,
                &cols,
            );
        }
        ListExchanges {
            vhost,
            columns: cols,
        } => {
            let rows = array(c.get(&format!("/api/exchanges/{}", seg(&vhost.vhost)))?);
            let cols = columns(cols, &["name", "type"]);
            out.list(
                &format!("Listing exchanges for vhost {} ...", vhost.vhost),
                &rows,
                &cols,
            );
        }
        ListBindings {
            vhost,
            columns: cols,
        } => {
            let rows: Vec<Value> = array(c.get(&format!("/api/bindings/{}", seg(&vhost.vhost)))?)
                .into_iter()
                .map(|r| {
                    with(r, |r| {
                        vec![
                            ("source_name", r["source"].clone()),
                            ("source_kind", json!("exchange")),
                            ("destination_name", r["destination"].clone()),
                            ("destination_kind", r["destination_type"].clone()),
                        ]
                    })
                })
                .collect();
            let cols = columns(
                cols,
                &[
                    "source_name",
                    "source_kind",
                    "destination_name",
                    "destination_kind",
                    "routing_key",
                    "arguments",
                ],
            );
            out.list(
                &format!("Listing bindings for vhost {}...", vhost.vhost),
                &rows,
                &cols,
            );
        }
        ListConnections { columns: cols } => {
            let rows = array(c.get("/api/connections")?);
            let cols = columns(cols, &["user", "peer_host", "peer_port", "state"]);
            out.list("Listing connections ...", &rows, &cols);
        }
        ListChannels { columns: cols } => {
            let rows = array(c.get("/api/channels")?);
            let cols = columns(
                cols,
                &["name", "user", "consumer_count", "messages_unacknowledged"],
            );
            out.list("Listing channels ...", &rows, &cols);
        }
        ListConsumers {
            vhost,
            columns: cols,
        } => {
            let rows: Vec<Value> = array(c.get(&format!("/api/consumers/{}", seg(&vhost.vhost)))?)
                .into_iter()
                .map(|r| {
                    with(r, |r| {
                        vec![
                            ("queue_name", r["queue"]["name"].clone()),
                            ("channel_name", r["channel_details"]["name"].clone()),
                        ]
                    })
                })
                .collect();
            let cols = columns(
                cols,
                &[
                    "queue_name",
                    "channel_name",
                    "consumer_tag",
                    "ack_required",
                    "prefetch_count",
                    "active",
                    "arguments",
                ],
            );
            out.list(
                &format!("Listing consumers in vhost {} ...", vhost.vhost),
                &rows,
                &cols,
            );
        }
        ListUsers => {
            let rows: Vec<Value> = array(c.get("/api/users")?)
                .into_iter()
                .map(|r| with(r, |r| vec![("user", r["name"].clone())]))
                .collect();
            out.info("Listing users ...");
            let cols = columns(Vec::new(), &["user", "tags"]);
            print!(
                "{}",
                format::render(&format::select(&rows, &cols), &cols, out.json)
            );
        }
        ListVhosts => {
            let rows = array(c.get("/api/vhosts")?);
            out.info("Listing vhosts ...");
            let cols = columns(Vec::new(), &["name"]);
            print!(
                "{}",
                format::render(&format::select(&rows, &cols), &cols, out.json)
            );
        }
        ListPermissions { vhost } => {
            let rows: Vec<Value> = array(c.get("/api/permissions")?)
                .into_iter()
                .filter(|p| p["vhost"] == vhost.vhost.as_str())
                .collect();
            out.info(&format!(
                "Listing permissions for vhost \"{}\" ...",
                vhost.vhost
            ));
            let cols = columns(Vec::new(), &["user", "configure", "write", "read"]);
            print!(
                "{}",
                format::render(&format::select(&rows, &cols), &cols, out.json)
            );
        }
        AddUser { user, password } => {
            out.info(&format!("Adding user \"{user}\" ..."));
            if user_exists(c, &user)? {
                return Err(CtlError {
                    message: format!("User \"{user}\" already exists"),
                    code: EX_SOFTWARE,
                });
            }
            c.request(
                "PUT",
                &format!("/api/users/{}", seg(&user)),
                Some(&json!({"password": password, "tags": ""})),
            )?;
            out.info("Done. Don't forget to grant the user permissions to some virtual hosts! See 'rabbitmqctl help set_permissions' to learn more.");
        }
        DeleteUser { user } => {
            out.info(&format!("Deleting user \"{user}\" ..."));
            c.request("DELETE", &format!("/api/users/{}", seg(&user)), None)
                .map_err(|e| no_user(e, &user))?;
        }
        ChangePassword { user, password } => {
            out.info(&format!("Changing password for user \"{user}\" ..."));
            let tags = existing_user(c, &user)?["tags"].clone();
            c.request(
                "PUT",
                &format!("/api/users/{}", seg(&user)),
                Some(&json!({"password": password, "tags": tags})),
            )?;
        }
        SetUserTags { user, tags } => {
            out.info(&format!(
                "Setting tags for user \"{user}\" to [{}] ...",
                tags.join(", ")
            ));
            let hash = existing_user(c, &user)?["password_hash"].clone();
            c.request(
                "PUT",
                &format!("/api/users/{}", seg(&user)),
                Some(&json!({"password_hash": hash, "tags": tags.join(",")})),
            )?;
        }
        SetPermissions {
            vhost,
            user,
            configure,
            write,
            read,
        } => {
            out.info(&format!(
                "Setting permissions for user \"{user}\" in vhost \"{}\" ...",
                vhost.vhost
            ));
            c.request(
                "PUT",
                &format!("/api/permissions/{}/{}", seg(&vhost.vhost), seg(&user)),
                Some(&json!({"configure": configure, "write": write, "read": read})),
            )?;
        }
        AddVhost { vhost } => {
            out.info(&format!("Adding vhost \"{vhost}\" ..."));
            c.request("PUT", &format!("/api/vhosts/{}", seg(&vhost)), None)?;
        }
        DeleteVhost { vhost } => {
            out.info(&format!("Deleting vhost \"{vhost}\" ..."));
            c.request("DELETE", &format!("/api/vhosts/{}", seg(&vhost)), None)
                .map_err(|e| not_found(e, "Virtual host not found"))?;
        }
        PurgeQueue { vhost, queue } => {
            out.info(&format!(
                "Purging queue '{queue}' in vhost '{}' ...",
                vhost.vhost
            ));
            c.request(
                "DELETE",
                &format!("/api/queues/{}/{}/contents", seg(&vhost.vhost), seg(&queue)),
                None,
            )
            .map_err(|e| not_found(e, "not_found"))?;
        }
        DeleteQueue { vhost, queue } => {
            out.info(&format!(
                "Deleting queue '{queue}' on vhost '{}' ...",
                vhost.vhost
            ));
            c.request(
                "DELETE",
                &format!("/api/queues/{}/{}", seg(&vhost.vhost), seg(&queue)),
                None,
            )
            .map_err(|e| not_found(e, "Queue not found"))?;
        }
        ExportDefinitions { file } => {
            let defs = c.get("/api/definitions")?;
            let text = serde_json::to_string_pretty(&defs).unwrap_or_default();
            if file.as_os_str() == "-" {
                println!("{text}");
            } else {
                out.info(&format!(
                    "Exporting definitions in JSON to a file at \"{}\" ...",
                    file.display()
                ));
                std::fs::write(&file, text + "\n").map_err(|e| CtlError {
                    message: format!("cannot write {}: {e}", file.display()),
                    code: EX_SOFTWARE,
                })?;
            }
        }
        ImportDefinitions { file } => {
            out.info(&format!(
                "Importing definitions in JSON from a file at \"{}\" ...",
                file.display()
            ));
            let text = std::fs::read_to_string(&file).map_err(|e| CtlError {
                message: format!("cannot read {}: {e}", file.display()),
                code: EX_SOFTWARE,
            })?;
            let defs: Value = serde_json::from_str(&text).map_err(|e| CtlError {
                message: format!("{} is not JSON: {e}", file.display()),
                code: client::EX_USAGE,
            })?;
            c.request("POST", "/api/definitions", Some(&defs))?;
            out.info("Successfully imported definitions.");
        }
        Status => {
            let o = c.get("/api/overview")?;
            if out.json {
                println!("{o}");
                return Ok(());
            }
            println!("Status of node {} ...", cell(&o["node"]));
            println!("Runtime\n");
            println!("Product name: Warren");
            println!("Warren version: {}", cell(&o["warren_version"]));
            println!("RabbitMQ version: {}", cell(&o["rabbitmq_version"]));
            println!("Node name: {}", cell(&o["node"]));
            println!("\nListeners\n");
            for l in array(o["listeners"].clone()) {
                println!(
                    "Interface: [::], port: {}, protocol: {}",
                    cell(&l["port"]),
                    cell(&l["protocol"])
                );
            }
            println!("\nTotals\n");
            let t = &o["object_totals"];
            for k in [
                "connections",
                "channels",
                "consumers",
                "exchanges",
                "queues",
            ] {
                println!("{k}: {}", cell(&t[k]));
            }
            let q = &o["queue_totals"];
            for k in ["messages", "messages_ready", "messages_unacknowledged"] {
                println!("{k}: {}", cell(&q[k]));
            }
        }
    }
    Ok(())
}

fn cell(v: &Value) -> String {
    format::cell(v)
}

fn user_exists(c: &Client, user: &str) -> Result<bool, CtlError> {
    match c.get(&format!("/api/users/{}", seg(user))) {
        Ok(_) => Ok(true),
        Err(e) if e.message.ends_with("(HTTP 404)") => Ok(false),
        Err(e) => Err(e),
    }
}

fn existing_user(c: &Client, user: &str) -> Result<Map<String, Value>, CtlError> {
    match c.get(&format!("/api/users/{}", seg(user))) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(no_user_error(user)),
        Err(e) => Err(no_user(e, user)),
    }
}

fn no_user_error(user: &str) -> CtlError {
    CtlError {
        message: format!("User \"{user}\" does not exist"),
        code: EX_NOUSER,
    }
}

/// A 404 for a user is rabbitmqctl's "does not exist".
fn no_user(e: CtlError, user: &str) -> CtlError {
    if e.message.ends_with("(HTTP 404)") {
        no_user_error(user)
    } else {
        e
    }
}

fn not_found(e: CtlError, text: &str) -> CtlError {
    if e.message.ends_with("(HTTP 404)") {
        CtlError {
            message: text.to_string(),
            code: EX_UNAVAILABLE,
        }
    } else {
        e
    }
}
