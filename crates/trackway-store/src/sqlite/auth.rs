//! Users, entities, memberships and API keys.

use rusqlite::{OptionalExtension, Transaction, params};
use sha2::{Digest, Sha256};

use super::{SqliteStore, now};
use crate::{NewApiKey, Principal, Result, Role, StoreError};

/// Prefix of every Trackway API key, so leaked keys are recognisable by secret scanners.
pub const KEY_PREFIX: &str = "tw_";

/// SHA-256 of a key, hex. Keys are 160 random bits, so a plain hash (no salt, no KDF) is
/// enough: there is nothing to brute-force.
#[must_use]
pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// The recognisable start of a key, kept for listings.
#[must_use]
pub fn key_prefix(key: &str) -> String {
    key.chars().take(KEY_PREFIX.len() + 6).collect()
}

/// A new random API key (plaintext).
///
/// # Errors
/// When the OS has no randomness.
pub fn generate_key() -> Result<String> {
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::Invalid(format!("no randomness: {e}")))?;
    Ok(format!("{KEY_PREFIX}{}", hex::encode(bytes)))
}

/// Whether a user or team name is allowed.
#[must_use]
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

impl SqliteStore {
    pub(crate) fn user_count_impl(&self) -> Result<u64> {
        self.read(|c| Ok(c.query_row("SELECT count(*) FROM users", [], |r| r.get::<_, i64>(0))? as u64))
    }

    pub(crate) fn create_user_impl(&self, username: &str, admin: bool) -> Result<Principal> {
        if !valid_name(username) {
            return Err(StoreError::Invalid(format!("invalid user name {username:?}")));
        }
        self.write(|tx| {
            let exists: Option<i64> =
                tx.query_row("SELECT id FROM users WHERE username = ?1", [username], |r| r.get(0)).optional()?;
            if exists.is_some() {
                return Err(StoreError::AlreadyExists(format!("user {username}")));
            }
            let entity_id = ensure_entity(tx, username, "user")?;
            tx.execute(
                "INSERT INTO users (username, admin, entity_id, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![username, admin, entity_id, now()],
            )?;
            let user_id = tx.last_insert_rowid();
            tx.execute(
                "INSERT OR REPLACE INTO memberships (user_id, entity_id, role) VALUES (?1, ?2, 'admin')",
                params![user_id, entity_id],
            )?;
            principal(tx, user_id)
        })
    }

    pub(crate) fn create_team_impl(&self, name: &str, owner: &str) -> Result<()> {
        if !valid_name(name) {
            return Err(StoreError::Invalid(format!("invalid team name {name:?}")));
        }
        self.write(|tx| {
            let user_id = user_id(tx, owner)?;
            if tx.query_row("SELECT 1 FROM entities WHERE name = ?1", [name], |_| Ok(())).optional()?.is_some() {
                return Err(StoreError::AlreadyExists(format!("entity {name}")));
            }
            let entity_id = ensure_entity(tx, name, "team")?;
            tx.execute(
                "INSERT OR REPLACE INTO memberships (user_id, entity_id, role) VALUES (?1, ?2, 'admin')",
                params![user_id, entity_id],
            )?;
            Ok(())
        })
    }

    pub(crate) fn add_member_impl(&self, entity: &str, username: &str, role: Role) -> Result<()> {
        self.write(|tx| {
            let user_id = user_id(tx, username)?;
            let entity_id: i64 = tx
                .query_row("SELECT id FROM entities WHERE name = ?1", [entity], |r| r.get(0))
                .optional()?
                .ok_or_else(|| StoreError::NotFound(format!("entity {entity}")))?;
            tx.execute(
                "INSERT OR REPLACE INTO memberships (user_id, entity_id, role) VALUES (?1, ?2, ?3)",
                params![user_id, entity_id, role.as_str()],
            )?;
            Ok(())
        })
    }

    pub(crate) fn create_api_key_impl(&self, username: &str, label: Option<&str>) -> Result<NewApiKey> {
        let key = generate_key()?;
        let prefix = key_prefix(&key);
        let id = self.write(|tx| {
            let user_id = user_id(tx, username)?;
            tx.execute(
                "INSERT INTO api_keys (user_id, hash, prefix, name, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![user_id, hash_key(&key), prefix, label, now()],
            )?;
            Ok(tx.last_insert_rowid())
        })?;
        Ok(NewApiKey { key, prefix, id })
    }

    pub(crate) fn authenticate_impl(&self, api_key: &str) -> Result<Option<Principal>> {
        crate::AccountStore::authenticate_key(self, api_key, now())
    }

    pub(crate) fn list_entities_impl(&self, who: &Principal) -> Result<Vec<String>> {
        if !who.admin {
            return Ok(who.memberships.iter().map(|(e, _)| e.clone()).collect());
        }
        self.read(|c| {
            let mut stmt = c.prepare("SELECT name FROM entities ORDER BY name")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            Ok(rows.collect::<Result<Vec<String>, _>>()?)
        })
    }

    pub(crate) fn entity_exists_impl(&self, name: &str) -> Result<bool> {
        self.read(|c| {
            Ok(c.query_row("SELECT 1 FROM entities WHERE name = ?1", [name], |_| Ok(())).optional()?.is_some())
        })
    }
}

pub(super) fn ensure_entity(tx: &Transaction<'_>, name: &str, kind: &str) -> Result<i64> {
    tx.execute(
        "INSERT OR IGNORE INTO entities (name, kind, created_at) VALUES (?1, ?2, ?3)",
        params![name, kind, now()],
    )?;
    Ok(tx.query_row("SELECT id FROM entities WHERE name = ?1", [name], |r| r.get(0))?)
}

pub(super) fn user_id(c: &rusqlite::Connection, username: &str) -> Result<i64> {
    c.query_row("SELECT id FROM users WHERE username = ?1", [username], |r| r.get(0))
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("user {username}")))
}

pub(super) fn principal(c: &rusqlite::Connection, user_id: i64) -> Result<Principal> {
    // Cached statements: this runs on every authenticated request (docs/teams.md, auth-bench).
    let (username, admin, entity): (String, bool, Option<String>) = c
        .prepare_cached(
            "SELECT u.username, u.admin, e.name FROM users u LEFT JOIN entities e ON e.id = u.entity_id WHERE u.id = ?1",
        )?
        .query_row([user_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    let mut stmt = c.prepare_cached(
        "SELECT e.name, m.role FROM memberships m JOIN entities e ON e.id = m.entity_id WHERE m.user_id = ?1 ORDER BY e.name",
    )?;
    let memberships = stmt
        .query_map([user_id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
        .filter_map(|row| row.ok().and_then(|(e, role)| Role::parse(&role).map(|role| (e, role))))
        .collect();
    Ok(Principal {
        user_id,
        entity: entity.unwrap_or_else(|| username.clone()),
        username,
        admin,
        memberships,
        scope: crate::KeyScope::default(),
    })
}
