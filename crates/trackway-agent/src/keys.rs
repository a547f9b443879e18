//! Which API key to send to a server: the key in the environment the agent inherited from the
//! training process (TRACKWAY_API_KEY, alias WANDB_API_KEY), else the stored login for that host.

/// The API key for `base_url`, or `None` when none is known.
pub fn api_key_for(base_url: &str) -> Option<String> {
    if let Some(k) = trackway_config::env("API_KEY") {
        return Some(k);
    }
    match trackway_config::Credentials::load() {
        Ok(c) => c.for_host(base_url).map(|h| h.api_key.clone()).filter(|k| !k.is_empty()),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read stored credentials");
            None
        }
    }
}

/// The server to use when a run record names none: TRACKWAY_BASE_URL / WANDB_BASE_URL, else the
/// stored default login, else the local default server.
pub fn default_base_url() -> String {
    if let Some(u) = trackway_config::env("BASE_URL") {
        return trackway_config::normalize_base_url(&u);
    }
    if let Ok(c) = trackway_config::Credentials::load()
        && let Some(h) = c.default_host {
            return trackway_config::normalize_base_url(&h);
        }
    format!("http://127.0.0.1:{}", trackway_config::DEFAULT_PORT)
}

/// One client per server, built on first use so a fresh login is picked up after a 401.
#[derive(Debug, Default)]
pub struct ClientPool {
    pub(crate) clients: std::collections::HashMap<String, trackway_client::Client>,
    pub opts: trackway_client::ClientOptions,
    /// A key that wins over the environment and the stored logins (tests, `sync --key`).
    pub key: Option<String>,
}

impl ClientPool {
    pub fn new(opts: trackway_client::ClientOptions) -> Self {
        ClientPool { clients: Default::default(), opts, key: None }
    }

    /// A pool that sends `key` to every server.
    pub fn with_key(key: &str) -> Self {
        ClientPool { key: Some(key.to_string()), ..ClientPool::default() }
    }

    /// The client of `base_url`, creating it with the key known now.
    pub fn get(&mut self, base_url: &str) -> Result<&trackway_client::Client, trackway_client::ClientError> {
        let url = trackway_config::normalize_base_url(base_url);
        if !self.clients.contains_key(&url) {
            let key = self.key.clone().or_else(|| api_key_for(&url));
            let c = trackway_client::Client::new(&url, key.as_deref(), &self.opts)?;
            self.clients.insert(url.clone(), c);
        }
        self.clients.get(&url).ok_or_else(|| trackway_client::ClientError::BadUrl { url, reason: "lost".into() })
    }

    /// Forgets the client of `base_url` (after a 401, so the key is looked up again).
    pub fn forget(&mut self, base_url: &str) {
        self.clients.remove(&trackway_config::normalize_base_url(base_url));
    }
}
