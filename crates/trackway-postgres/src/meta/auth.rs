//! Users, entities, memberships and API keys (rules shared with the SQLite store).

use postgres::GenericClient;
use trackway_store::backend::{generate_key, hash_key, key_prefix, valid_name};
use trackway_store::{NewApiKey, Principal, Result, Role, StoreError};

use super::{PgStore, db, now};

impl PgStore {
    pub(crate) fn user_count_impl(&self) -> Result<u64> {
        self.tx(|tx| {
            let n: i64 = tx.query_one("SELECT count(*) FROM users", &[]).map_err(db)?.get(0);
            Ok(u64::try_from(n).unwrap_or(0))
        })
    }

    pub(crate) fn create_user_impl(&self, username: &str, admin: bool) -> Result<Principal> {
        if !valid_name(username) {
            return Err(StoreError::Invalid(format!("invalid user name {username:?}")));
        }
        self.tx(|tx| {
            if tx.query_opt("SELECT id FROM users WHERE username = $1", &[&username]).map_err(db)?.is_some() {
                return Err(StoreError::AlreadyExists(format!("user {username}")));
            }
            let entity_id = ensure_entity(tx, username, "user")?;
            let user_id: i64 = tx
                .query_one(
                    "INSERT INTO users (username, admin, entity_id, created_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (username) DO NOTHING RETURNING id",
                    &[&username, &admin, &entity_id, &now()],
                )
                .map_err(|_| StoreError::AlreadyExists(format!("user {username}")))?
                .get(0);
            set_member(tx, user_id, entity_id, Role::Admin)?;
            principal(tx, user_id)
        })
    }

    pub(crate) fn create_team_impl(&self, name: &str, owner: &str) -> Result<()> {
        if !valid_name(name) {
            return Err(StoreError::Invalid(format!("invalid team name {name:?}")));
        }
        self.tx(|tx| {
            let user_id = user_id(tx, owner)?;
            if tx.query_opt("SELECT 1 FROM entities WHERE name = $1", &[&name]).map_err(db)?.is_some() {
                return Err(StoreError::AlreadyExists(format!("entity {name}")));
            }
            let entity_id = ensure_entity(tx, name, "team")?;
            set_member(tx, user_id, entity_id, Role::Admin)
        })
    }

    pub(crate) fn add_member_impl(&self, entity: &str, username: &str, role: Role) -> Result<()> {
        self.tx(|tx| {
            let user_id = user_id(tx, username)?;
            let entity_id: i64 = tx
                .query_opt("SELECT id FROM entities WHERE name = $1", &[&entity])
                .map_err(db)?
                .ok_or_else(|| StoreError::NotFound(format!("entity {entity}")))?
                .get(0);
            set_member(tx, user_id, entity_id, role)
        })
    }

    pub(crate) fn create_api_key_impl(&self, username: &str, label: Option<&str>) -> Result<NewApiKey> {
        let key = generate_key()?;
        let prefix = key_prefix(&key);
        let id = self.tx(|tx| {
            let user_id = user_id(tx, username)?;
            let row = tx
                .query_one(
                    "INSERT INTO api_keys (user_id, hash, prefix, name, created_at) VALUES ($1, $2, $3, $4, $5) \
                     RETURNING id",
                    &[&user_id, &hash_key(&key), &prefix, &label, &now()],
                )
                .map_err(db)?;
            Ok(row.get::<_, i64>(0))
        })?;
        Ok(NewApiKey { key, prefix, id })
    }

    /// The plain-key check of `MetadataStore` is the accounts' one (expiry, revocation,
    /// deactivation, scope), as on SQLite.
    pub(crate) fn authenticate_impl(&self, api_key: &str) -> Result<Option<Principal>> {
        trackway_store::AccountStore::authenticate_key(self, api_key, now())
    }

    pub(crate) fn list_entities_impl(&self, who: &Principal) -> Result<Vec<String>> {
        if !who.admin {
            return Ok(who.memberships.iter().map(|(e, _)| e.clone()).collect());
        }
        self.tx(|tx| {
            Ok(tx.query("SELECT name FROM entities ORDER BY name", &[]).map_err(db)?.iter().map(|r| r.get(0)).collect())
        })
    }

    pub(crate) fn entity_exists_impl(&self, name: &str) -> Result<bool> {
        self.tx(|tx| Ok(tx.query_opt("SELECT 1 FROM entities WHERE name = $1", &[&name]).map_err(db)?.is_some()))
    }
}

pub(crate) fn set_member(c: &mut impl GenericClient, user_id: i64, entity_id: i64, role: Role) -> Result<()> {
    c.execute(
        "INSERT INTO memberships (user_id, entity_id, role) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id, entity_id) DO UPDATE SET role = excluded.role",
        &[&user_id, &entity_id, &role.as_str()],
    )
    .map_err(db)?;
    Ok(())
}

pub(crate) fn ensure_entity(c: &mut impl GenericClient, name: &str, kind: &str) -> Result<i64> {
    c.execute(
        "INSERT INTO entities (name, kind, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
        &[&name, &kind, &now()],
    )
    .map_err(db)?;
    Ok(c.query_one("SELECT id FROM entities WHERE name = $1", &[&name]).map_err(db)?.get(0))
}

pub(crate) fn user_id(c: &mut impl GenericClient, username: &str) -> Result<i64> {
    c.query_opt("SELECT id FROM users WHERE username = $1", &[&username])
        .map_err(db)?
        .map(|r| r.get(0))
        .ok_or_else(|| StoreError::NotFound(format!("user {username}")))
}

pub(crate) fn principal(c: &mut impl GenericClient, user_id: i64) -> Result<Principal> {
    let row = c
        .query_one(
            "SELECT u.username, u.admin, e.name FROM users u LEFT JOIN entities e ON e.id = u.entity_id WHERE u.id = $1",
            &[&user_id],
        )
        .map_err(db)?;
    let (username, admin, entity): (String, bool, Option<String>) = (row.get(0), row.get(1), row.get(2));
    let memberships = c
        .query(
            "SELECT e.name, m.role FROM memberships m JOIN entities e ON e.id = m.entity_id \
             WHERE m.user_id = $1 ORDER BY e.name",
            &[&user_id],
        )
        .map_err(db)?
        .iter()
        .filter_map(|r| Role::parse(r.get::<_, &str>(1)).map(|role| (r.get::<_, String>(0), role)))
        .collect();
    Ok(Principal {
        user_id,
        entity: entity.unwrap_or_else(|| username.clone()),
        username,
        admin,
        memberships,
        scope: trackway_store::KeyScope::default(),
    })
}
