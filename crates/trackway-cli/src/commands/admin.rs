//! `trackway admin user|team|key|audit ...`: account administration over the REST API
//! (docs/teams.md), with the login `trackway status` shows (a server admin's key for `user` and
//! `audit`, a team admin's for `team`). Prints the API's JSON answers.

use std::io::Read;

use anyhow::Context;
use serde_json::{Value, json};
use trackway_client::{Client, ClientOptions, encode_segment};
use trackway_types::Map;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub what: What,
}

#[derive(Debug, clap::Subcommand)]
pub enum What {
    /// Users (server admins only).
    #[command(subcommand)]
    User(UserCmd),
    /// Teams, members and invites.
    #[command(subcommand)]
    Team(TeamCmd),
    /// API keys.
    #[command(subcommand)]
    Key(KeyCmd),
    /// The audit log, newest first (server admins only).
    Audit {
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Bring the database schema to this binary's version, on the database itself (no server
    /// needed): PostgreSQL with --database-url, else the SQLite file in the data directory.
    /// Applies only what is missing (a second run changes nothing); refuses a database a newer
    /// binary migrated.
    ///
    /// With --from/--to/--blobs: copy a single-node installation (every store: accounts, keys,
    /// projects, runs, history, console, files, artifacts, views, sweeps, reports, and the
    /// blobs) to PostgreSQL + S3, verified by row counts, checksums and blob hashes. Stop the
    /// source server first. Safe to run again: it continues where an interrupted copy stopped.
    Migrate {
        /// The data directory (default: TRACKWAY_DATA_DIR, else ~/.local/share/trackway).
        #[arg(long, env = "TRACKWAY_DATA_DIR")]
        data_dir: Option<std::path::PathBuf>,
        /// `postgres://user:pass@host:port/db`, as given to `trackway server`.
        #[arg(long, env = "TRACKWAY_DATABASE_URL")]
        database_url: Option<String>,
        /// Copy from this installation: `sqlite://DATA_DIR`.
        #[arg(long, requires_all = ["to", "blobs"])]
        from: Option<String>,
        /// Copy to this database: `postgres://user:pass@host:port/db`.
        #[arg(long, requires = "from")]
        to: Option<String>,
        /// Copy the blobs to this store: `s3://bucket[/prefix]` (endpoint and credentials from
        /// the AWS_* environment, as for `trackway server --blob-url`).
        #[arg(long, requires = "from")]
        blobs: Option<String>,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum UserCmd {
    List,
    /// Create a user (reads a password from stdin with --password-stdin).
    Create {
        username: String,
        #[arg(long)]
        admin: bool,
        /// A service account for automation: API keys only, no sign-in.
        #[arg(long)]
        service: bool,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Deactivate a user: their keys and sessions stop working at once.
    Deactivate {
        username: String,
    },
    Activate {
        username: String,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum TeamCmd {
    List,
    Create {
        name: String,
    },
    Members {
        team: String,
    },
    /// Add a member or change a role (admin, member, viewer).
    Set {
        team: String,
        username: String,
        #[arg(long, default_value = "member")]
        role: String,
    },
    Remove {
        team: String,
        username: String,
    },
    /// Create an invite link.
    Invite {
        team: String,
        #[arg(long, default_value = "member")]
        role: String,
        #[arg(long)]
        expires_in: Option<f64>,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum KeyCmd {
    List,
    /// Create a key (for yourself, or with --user for a service account; admins only).
    Create {
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        user: Option<String>,
        /// Seconds until it expires.
        #[arg(long)]
        expires_in: Option<f64>,
        #[arg(long)]
        read_only: bool,
        #[arg(long)]
        ingest_only: bool,
        /// Only this entity.
        #[arg(long)]
        entity: Option<String>,
    },
    Revoke {
        id: i64,
    },
}

fn client() -> anyhow::Result<Client> {
    let cwd = std::env::current_dir().context("current directory")?;
    let s = trackway_sdk::settings::resolve(&Map::new(), &cwd).context("resolve settings")?;
    let base = s.base_url.clone().unwrap_or_else(trackway_agent::default_base_url);
    let key = s.api_key.context("no API key: run `trackway login` (or set TRACKWAY_API_KEY)")?;
    Ok(Client::new(&base, Some(&key), &ClientOptions::default())?)
}

fn call(c: &Client, method: &str, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
    let bytes = body.map(|b| b.to_string().into_bytes());
    Ok(c.request_json(method, path, bytes.as_deref())?)
}

fn user(c: &Client, cmd: UserCmd) -> anyhow::Result<Value> {
    let patch = |name: &str, active: bool| {
        call(c, "PATCH", &format!("/api/v1/admin/users/{}", encode_segment(name)), Some(json!({"active": active})))
    };
    match cmd {
        UserCmd::List => call(c, "GET", "/api/v1/admin/users", None),
        UserCmd::Create { username, admin, service, password_stdin } => {
            let mut body = json!({"username": username, "admin": admin, "service": service});
            if password_stdin {
                let mut pw = String::new();
                std::io::stdin().read_to_string(&mut pw).context("read the password from stdin")?;
                body["password"] = json!(pw.trim_end_matches(['\r', '\n']));
            }
            call(c, "POST", "/api/v1/admin/users", Some(body))
        }
        UserCmd::Deactivate { username } => patch(&username, false),
        UserCmd::Activate { username } => patch(&username, true),
    }
}

fn team(c: &Client, cmd: TeamCmd) -> anyhow::Result<Value> {
    let t = |team: &str| format!("/api/v1/teams/{}", encode_segment(team));
    match cmd {
        TeamCmd::List => call(c, "GET", "/api/v1/teams", None),
        TeamCmd::Create { name } => call(c, "POST", "/api/v1/teams", Some(json!({"name": name}))),
        TeamCmd::Members { team } => call(c, "GET", &format!("{}/members", t(&team)), None),
        TeamCmd::Set { team, username, role } => {
            call(c, "PUT", &format!("{}/members/{}", t(&team), encode_segment(&username)), Some(json!({"role": role})))
        }
        TeamCmd::Remove { team, username } => {
            call(c, "DELETE", &format!("{}/members/{}", t(&team), encode_segment(&username)), None)
        }
        TeamCmd::Invite { team, role, expires_in } => {
            call(c, "POST", &format!("{}/invites", t(&team)), Some(json!({"role": role, "expires_in": expires_in})))
        }
    }
}

fn key(c: &Client, cmd: KeyCmd) -> anyhow::Result<Value> {
    match cmd {
        KeyCmd::List => call(c, "GET", "/api/v1/keys", None),
        KeyCmd::Create { name, user, expires_in, read_only, ingest_only, entity } => {
            let body = json!({"name": name, "expires_in": expires_in,
                "scope": {"read_only": read_only, "ingest_only": ingest_only, "entity": entity}});
            let path = match user {
                Some(u) => format!("/api/v1/admin/users/{}/keys", encode_segment(&u)),
                None => "/api/v1/keys".to_owned(),
            };
            call(c, "POST", &path, Some(body))
        }
        KeyCmd::Revoke { id } => call(c, "DELETE", &format!("/api/v1/keys/{id}"), None),
    }
}

pub fn run(args: Args) -> anyhow::Result<()> {
    if let What::Migrate { data_dir, database_url, from, to, blobs } = args.what {
        return match (from, to, blobs) {
            (Some(from), Some(to), Some(blobs)) => copy_installation(&from, &to, &blobs),
            _ => migrate(data_dir, database_url.as_deref()),
        };
    }
    let c = client()?;
    let out = match args.what {
        What::User(cmd) => user(&c, cmd)?,
        What::Team(cmd) => team(&c, cmd)?,
        What::Key(cmd) => key(&c, cmd)?,
        What::Audit { limit } => call(&c, "GET", &format!("/api/v1/admin/audit?limit={limit}"), None)?,
        What::Migrate { .. } => Value::Null,
    };
    if !out.is_null() {
        println!("{}", serde_json::to_string_pretty(&out)?);
    }
    Ok(())
}

/// `trackway admin migrate`: prints `<database>: schema <before> -> <after>`.
fn migrate(data_dir: Option<std::path::PathBuf>, database_url: Option<&str>) -> anyhow::Result<()> {
    let data_dir = data_dir.unwrap_or_else(super::server::default_data_dir);
    let change = trackway_server::schema::migrate(&data_dir, database_url)?;
    let what = if change.before == change.after { "up to date" } else { "migrated" };
    println!("{}: schema {} -> {} ({what})", change.database, change.before, change.after);
    Ok(())
}

/// `trackway admin migrate --from sqlite://DIR --to postgres://... --blobs s3://...`: prints a
/// line per step and the verified totals; fails with every difference it found.
fn copy_installation(from: &str, to: &str, blobs: &str) -> anyhow::Result<()> {
    use trackway_server::migrate_copy::{Side, copy, s3_blobs};
    let source = Side::sqlite(from)?;
    let destination = Side::postgres(to, s3_blobs(blobs)?)?;
    let report = copy(&source, &destination, &mut |line| println!("{line}"))?;
    let rows: u64 = report.tables.iter().map(|t| t.rows).sum();
    let new: u64 = report.tables.iter().map(|t| t.new).sum();
    println!(
        "verified: {} tables, {rows} rows ({new} new), checksums equal; {} history series, {} rows; {} blobs copied, {} already there",
        report.tables.len(),
        report.history.series,
        report.history.rows,
        report.blobs.copied,
        report.blobs.present
    );
    Ok(())
}
