//! `trackway server [--data-dir D] [--host H] [--port P]`: parses, binds, wires; the server
//! itself lives in `trackway-server`.

use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where the database and files live (default: TRACKWAY_DATA_DIR, else ~/.local/share/trackway).
    #[arg(long, env = "TRACKWAY_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on (0 picks a free one; the chosen port is printed).
    #[arg(long, default_value_t = trackway_config::DEFAULT_PORT)]
    pub port: u16,
    /// PostgreSQL for metadata and history (`postgres://user:pass@host:port/db`) instead of the
    /// SQLite file in the data directory; replicas on one database share everything.
    #[arg(long, env = "TRACKWAY_DATABASE_URL")]
    pub database_url: Option<String>,
    /// S3-compatible storage for files (`s3://bucket[/prefix]`; endpoint and credentials from
    /// AWS_ENDPOINT, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ALLOW_HTTP).
    #[arg(long, env = "TRACKWAY_BLOB_URL")]
    pub blob_url: Option<String>,
    /// PostgreSQL connections per server process.
    #[arg(long, env = "TRACKWAY_DB_POOL_SIZE", default_value_t = 16)]
    pub db_pool_size: u32,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub auth: AuthArgs,
}

/// How people sign in (docs/teams.md).
#[derive(Debug, clap::Args)]
pub struct AuthArgs {
    /// Let anyone create an account on the sign-in page (off: users come from admins, invites or SSO).
    #[arg(long, env = "TRACKWAY_ALLOW_SIGNUP")]
    pub allow_signup: bool,
    /// OpenID Connect issuer URL: enables "Sign in with SSO".
    #[arg(long, env = "TRACKWAY_OIDC_ISSUER")]
    pub oidc_issuer: Option<String>,
    #[arg(long, env = "TRACKWAY_OIDC_CLIENT_ID", requires = "oidc_issuer")]
    pub oidc_client_id: Option<String>,
    /// Prefer the environment variable: a flag shows in the process list.
    #[arg(long, env = "TRACKWAY_OIDC_CLIENT_SECRET", hide_env_values = true)]
    pub oidc_client_secret: Option<String>,
    /// The ID-token claim listing the user's groups (for --oidc-group-map).
    #[arg(long, env = "TRACKWAY_OIDC_GROUPS_CLAIM")]
    pub oidc_groups_claim: Option<String>,
    /// `group=team[:role]`: members of the provider group get that role in the team at sign-in (repeatable).
    #[arg(long = "oidc-group-map", value_parser = trackway_server::GroupMapping::parse)]
    pub oidc_group_map: Vec<trackway_server::GroupMapping>,
    /// The SSO button's label.
    #[arg(long, env = "TRACKWAY_OIDC_NAME", default_value = "SSO")]
    pub oidc_name: String,
}

impl AuthArgs {
    fn settings(&self) -> anyhow::Result<trackway_server::AuthSettings> {
        let oidc = match &self.oidc_issuer {
            Some(issuer) => Some(trackway_server::OidcSettings {
                issuer: issuer.clone(),
                client_id: self.oidc_client_id.clone().context("--oidc-issuer needs --oidc-client-id")?,
                client_secret: self.oidc_client_secret.clone(),
                groups_claim: self.oidc_groups_claim.clone(),
                group_mappings: self.oidc_group_map.clone(),
                display_name: self.oidc_name.clone(),
            }),
            None => None,
        };
        Ok(trackway_server::AuthSettings {
            allow_signup: self.allow_signup,
            oidc,
            ..trackway_server::AuthSettings::default()
        })
    }
}

/// Resource limits (docs/api.md "Limits"). Ingest memory is bounded by about
/// `ingest-concurrency x 3 x 64 MiB` (each ingest holds its body and one parsed slice).
#[derive(Debug, clap::Args)]
pub struct LimitArgs {
    /// Ingest requests processed at once; more wait up to 30 s (their bodies unread), then get 503 + Retry-After
    /// [default: the number of cores, 2 to 8].
    #[arg(long, env = "TRACKWAY_INGEST_CONCURRENCY")]
    pub ingest_concurrency: Option<usize>,
    /// Open connections at most; more wait in the listen backlog.
    #[arg(long, env = "TRACKWAY_MAX_CONNECTIONS", default_value_t = 4096)]
    pub max_connections: usize,
    /// Seconds a client has to send a request's headers (also the keep-alive idle timeout).
    #[arg(long, env = "TRACKWAY_HEADER_TIMEOUT", default_value_t = 30)]
    pub header_timeout: u64,
    /// Seconds a request body may stall before the request is answered 408 and closed.
    #[arg(long, env = "TRACKWAY_BODY_TIMEOUT", default_value_t = 60)]
    pub body_timeout: u64,
    /// Largest run file in MiB, after decompression.
    #[arg(long, env = "TRACKWAY_MAX_FILE_MIB", default_value_t = 16 * 1024)]
    pub max_file_mib: u64,
    /// Most MiB of run files (all versions) per project.
    #[arg(long, env = "TRACKWAY_PROJECT_QUOTA_MIB", default_value_t = 1024 * 1024)]
    pub project_quota_mib: u64,
    /// Seconds between sweeps that delete artifact versions whose TTL has passed.
    #[arg(long, env = "TRACKWAY_ARTIFACT_EXPIRY_SECS", default_value_t = 60.0)]
    pub artifact_expiry_secs: f64,
}

impl LimitArgs {
    fn limits(&self) -> trackway_server::Limits {
        let d = trackway_server::Limits::default();
        trackway_server::Limits {
            ingest_concurrency: self.ingest_concurrency.unwrap_or(d.ingest_concurrency).max(1),
            max_connections: self.max_connections.max(1),
            header_read_timeout: std::time::Duration::from_secs(self.header_timeout.max(1)),
            body_read_timeout: std::time::Duration::from_secs(self.body_timeout.max(1)),
            max_file_bytes: self.max_file_mib.saturating_mul(1 << 20),
            project_quota_bytes: self.project_quota_mib.saturating_mul(1 << 20),
            artifact_expiry_interval: std::time::Duration::try_from_secs_f64(self.artifact_expiry_secs)
                .unwrap_or(d.artifact_expiry_interval),
            ..d
        }
    }
}

pub(crate) fn default_data_dir() -> PathBuf {
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join(".local/share/trackway")
}

/// The URLs local clients use for this server: loopback names for a loopback or wildcard
/// bind, else the bound address itself.
fn local_urls(host: &str, port: u16) -> Vec<String> {
    let loopback = ["127.0.0.1", "localhost", "0.0.0.0", "::", "::1"].contains(&host)
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if loopback {
        vec![format!("http://127.0.0.1:{port}"), format!("http://localhost:{port}")]
    } else {
        vec![format!("http://{host}:{port}")]
    }
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TRACKWAY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tower_http=warn"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
    let data_dir = args.data_dir.unwrap_or_else(default_data_dir);
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let limits = args.limits.limits();
    let backends = trackway_server::Backends {
        database_url: args.database_url,
        blob_url: args.blob_url,
        db_pool_size: args.db_pool_size.max(1),
    };
    let auth = args.auth.settings()?;
    runtime.block_on(serve(data_dir, &backends, args.host, args.port, limits, auth))
}

async fn serve(
    data_dir: PathBuf,
    backends: &trackway_server::Backends,
    host: String,
    port: u16,
    limits: trackway_server::Limits,
    auth: trackway_server::AuthSettings,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind((host.as_str(), port))
        .await
        .with_context(|| format!("cannot listen on {host}:{port}"))?;
    let port = listener.local_addr()?.port();
    let url_host = if host.contains(':') { format!("[{host}]") } else { host.clone() };
    let url = format!("http://{url_host}:{port}");
    let mut state = tokio::task::block_in_place(|| trackway_server::AppState::open_with(&data_dir, backends))
        .with_context(|| format!("cannot open the stores (data directory {})", data_dir.display()))?
        .with_limits(limits)
        .with_auth(auth);
    let urls = local_urls(&host, port);
    state.public_url = urls.first().cloned();
    // Store calls block (the PostgreSQL client runs its own runtime): never on an async worker.
    let boot = tokio::task::block_in_place(|| {
        trackway_server::bootstrap::ensure_admin(&state, &data_dir, &urls, &trackway_config::Credentials::path())
    })
    .context("first-start setup failed")?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "trackway server listening on {url}")?;
    writeln!(out, "data directory: {}", data_dir.display())?;
    if boot.created {
        writeln!(
            out,
            "created admin user {} and an API key (kept in {})",
            boot.username.as_deref().unwrap_or("?"),
            boot.key_file.display()
        )?;
    }
    if let Some(creds) = &boot.credentials {
        writeln!(out, "API key stored as the login for {} in {}", urls.join(" and "), creds.display())?;
    }
    out.flush()?;
    drop(out);
    trackway_server::run(listener, state, trackway_server::shutdown_signal()).await?;
    Ok(())
}
