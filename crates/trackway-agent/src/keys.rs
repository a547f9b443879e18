//! Which API key to send to a server: the key in the environment the agent inherited from the
//! training process (TRACKWAY_API_KEY, alias WANDB_API_KEY), else the stored login for that host.
//! One agent serves every run of a root, possibly for several servers, so when a server refuses
//! the inherited key the next candidate (the stored login for that host) is tried.

/// The API key for `base_url`, or `None` when none is known.
pub fn api_key_for(base_url: &str) -> Option<String> {
    key_candidates(base_url).into_iter().next()
}

/// Every key we could send to `base_url`, best first, without repeats.
fn key_candidates(base_url: &str) -> Vec<String> {
    let mut keys: Vec<String> = trackway_config::env("API_KEY").into_iter().collect();
    match trackway_config::Credentials::load() {
        Ok(c) => {
            if let Some(h) = c.for_host(base_url).filter(|h| !h.api_key.is_empty() && !keys.contains(&h.api_key)) {
                keys.push(h.api_key.clone());
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot read stored credentials"),
    }
    keys
}

/// The server to use when a run record names none: TRACKWAY_BASE_URL / WANDB_BASE_URL, else the
/// stored default login, else the local default server.
pub fn default_base_url() -> String {
    if let Some(u) = trackway_config::env("BASE_URL") {
        return trackway_config::normalize_base_url(&u);
    }
    if let Ok(c) = trackway_config::Credentials::load()
        && let Some(h) = c.default_host
    {
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
    /// Per server, how many keys it refused (picks the next candidate).
    pub(crate) refused: std::collections::HashMap<String, usize>,
}

impl ClientPool {
    pub fn new(opts: trackway_client::ClientOptions) -> Self {
        ClientPool { opts, ..ClientPool::default() }
    }

    /// A pool that sends `key` to every server.
    pub fn with_key(key: &str) -> Self {
        ClientPool { key: Some(key.to_string()), ..ClientPool::default() }
    }

    /// The client of `base_url`, creating it with the key known now.
    pub fn get(&mut self, base_url: &str) -> Result<&trackway_client::Client, trackway_client::ClientError> {
        let url = trackway_config::normalize_base_url(base_url);
        if !self.clients.contains_key(&url) {
            let key = match &self.key {
                Some(k) => Some(k.clone()),
                None => {
                    let keys = key_candidates(&url);
                    let n = self.refused.get(&url).copied().unwrap_or(0);
                    (!keys.is_empty()).then(|| keys[n % keys.len()].clone())
                }
            };
            let c = trackway_client::Client::new(&url, key.as_deref(), &self.opts)?;
            self.clients.insert(url.clone(), c);
        }
        self.clients.get(&url).ok_or_else(|| trackway_client::ClientError::BadUrl { url, reason: "lost".into() })
    }

    /// Forgets the client of `base_url` after a 401: the next one uses the next candidate key
    /// (and re-reads the stored logins, so a fresh `trackway login` is picked up).
    /// Returns whether a key not yet refused in this round remains to try.
    pub fn forget(&mut self, base_url: &str) -> bool {
        let url = trackway_config::normalize_base_url(base_url);
        self.clients.remove(&url);
        let n = self.refused.entry(url.clone()).or_insert(0);
        *n += 1;
        self.key.is_none() && !(*n).is_multiple_of(key_candidates(&url).len().max(1))
    }
}
