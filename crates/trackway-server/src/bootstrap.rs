//! First start of a data directory: an admin user and entity (named after `$USER`, else
//! `admin`) and an API key, stored as a login for the server's own URLs so the SDK and CLI on
//! this machine work with no setup.
//!
//! The key's plaintext is also kept in `<data dir>/admin-api-key` (mode 0600, like the data
//! itself), so a restart on another port can register the login for the new URL.

use std::path::{Path, PathBuf};

use trackway_config::{Credentials, HostCredentials};

use crate::{AppState, ServerError};

/// File in the data directory holding the admin key.
pub const ADMIN_KEY_FILE: &str = "admin-api-key";

/// What [`ensure_admin`] did.
#[derive(Debug)]
pub struct Bootstrap {
    /// True when the admin user was created now (first start).
    pub created: bool,
    pub username: Option<String>,
    pub key_file: PathBuf,
    /// The credentials file the login was written to, when it was.
    pub credentials: Option<PathBuf>,
}

fn admin_name() -> String {
    let user = std::env::var("USER").unwrap_or_default();
    let valid = !user.is_empty()
        && user.len() <= 64
        && user.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if valid { user } else { "admin".to_owned() }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

/// Creates the admin on first start and stores its key as the login for each of `urls` in the
/// credentials file `credentials` (normally `trackway_config::Credentials::path()`).
///
/// # Errors
/// When the store or the key/credentials files cannot be written.
pub fn ensure_admin(
    state: &AppState,
    data_dir: &Path,
    urls: &[String],
    credentials: &Path,
) -> Result<Bootstrap, ServerError> {
    let key_file = data_dir.join(ADMIN_KEY_FILE);
    let mut created = false;
    let mut username = None;
    if state.store.user_count()? == 0 {
        let name = admin_name();
        // Replicas on one database may start at once: the first creates the admin.
        match state.store.create_user(&name, true) {
            Err(trackway_store::StoreError::AlreadyExists(_)) => {
                return Ok(Bootstrap { created, username, key_file, credentials: None });
            }
            other => other?,
        };
        let key = state.store.create_api_key(&name, Some("admin (created on first start)"))?;
        write_private(&key_file, &key.key)?;
        tracing::info!(user = %name, "created admin user and API key");
        created = true;
    }
    let key = match std::fs::read_to_string(&key_file) {
        Ok(k) => k.trim().to_owned(),
        Err(_) => return Ok(Bootstrap { created, username, key_file, credentials: None }),
    };
    let Some(who) = state.store.authenticate(&key)? else {
        tracing::warn!(file = %key_file.display(), "the stored admin key is no longer valid; not storing a login");
        return Ok(Bootstrap { created, username, key_file, credentials: None });
    };
    username = Some(who.username.clone());
    let mut creds = Credentials::load_from(credentials)?;
    let login = HostCredentials { api_key: key, entity: Some(who.entity.clone()) };
    let mut changed = false;
    for url in urls {
        if creds.for_host(url) != Some(&login) {
            creds.set_host(url, login.clone());
            changed = true;
        }
    }
    if creds.default_host.is_none() {
        creds.default_host = urls.first().cloned();
        changed = true;
    }
    if changed {
        creds.save_to(credentials)?;
    }
    Ok(Bootstrap { created, username, key_file, credentials: Some(credentials.to_owned()) })
}
