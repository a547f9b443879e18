//! Artifact time to live over wandb's GraphQL (`Artifact.ttl`): the same TTL as Trackway's own
//! client sets (`ArtifactStore::set_artifact_ttl`, counted from the version's creation; expired
//! versions are deleted with their blobs by the server's expiry task).
//!
//! wandb sends `ttlDurationSeconds`: seconds (> 0) for a TTL, -1 to inherit the team's default
//! (Trackway has no team default: no TTL) and -2 for "no TTL" (`ttl = None`); null leaves it
//! unchanged. `CreateArtifact` carries it for a version being logged, `UpdateArtifact`
//! (`Artifact.save()` after the commit) for a stored one. Versions are described with
//! `ttlDurationSeconds` (-2 when none) and `ttlIsInherited` (true when none: nothing was set).

use serde::Deserialize;
use serde_json::{Value as Json, json};
use trackway_store::artifacts::ArtifactVersion;

use crate::artifacts::{artifact_json, stored};
use crate::graphql::Ctx;
use crate::{Result, WandbError};

/// wandb's "no TTL" (`ArtifactTTL` DISABLED).
const DISABLED: i64 = -2;

/// A TTL as wandb sends it: `Some(change)` where `change` is the new TTL (`None`: none), or
/// `None` when the request leaves it as it is.
#[allow(clippy::option_option)] // "unchanged" and "set to none" are both needed
pub(crate) fn from_wandb(seconds: Option<i64>) -> Option<Option<u64>> {
    seconds.map(|s| u64::try_from(s).ok().filter(|s| *s > 0))
}

/// The version's `ttlDurationSeconds` and `ttlIsInherited`.
#[must_use]
pub fn to_wandb(v: &ArtifactVersion) -> (i64, bool) {
    match v.expires_at {
        // `expires_at` is `created_at + ttl` (whole seconds), so the rounding gives the ttl back.
        Some(at) => (((at - v.created_at).round() as i64).max(1), false),
        None => (DISABLED, true),
    }
}

/// `UpdateArtifact`'s input: wandb sends the version's whole editable state each time.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UpdateInput {
    #[serde(rename = "artifactID", alias = "artifactId")]
    artifact_id: String,
    description: Option<String>,
    metadata: Option<String>,
    ttl_duration_seconds: Option<i64>,
    tags_to_add: Option<Vec<Json>>,
    tags_to_delete: Option<Vec<Json>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct UpdateVars {
    input: UpdateInput,
}

/// `UpdateArtifact` (`Artifact.save()` of a logged version): sets the TTL. Changing the
/// description, metadata or tags of a committed version is refused with a GraphQL error
/// naming it (Trackway versions are immutable apart from aliases and TTL); sending them
/// unchanged, as the SDK does, is fine.
pub(crate) fn update(ctx: &Ctx<'_>, v: UpdateVars) -> Result<Json> {
    let i = v.input;
    let current = stored(ctx, &i.artifact_id)?;
    (ctx.ensure_writable)(&current.entity)?;
    let unchanged = i.description.as_deref().unwrap_or_default() == current.description.as_deref().unwrap_or_default()
        && same_metadata(i.metadata.as_deref(), &current.metadata)
        && i.tags_to_add.is_none_or(|t| t.is_empty())
        && i.tags_to_delete.is_none_or(|t| t.is_empty());
    if !unchanged {
        return Err(WandbError::BadRequest(
            "Trackway keeps a logged artifact version's description, metadata and tags as committed; \
             only its aliases and TTL change"
                .into(),
        ));
    }
    let updated = match from_wandb(i.ttl_duration_seconds) {
        Some(ttl) => {
            ctx.artifacts.set_artifact_ttl(&current.entity, &current.project, &current.name, current.version, ttl)?
        }
        None => current,
    };
    let mut artifact = artifact_json(&updated);
    // The answer names the version by the id the SDK holds (a draft's id stays valid).
    artifact["id"] = json!(i.artifact_id);
    Ok(json!({"result": {"artifact": artifact}}))
}

/// Whether wandb's metadata (a JSON text, absent or `null` for none) is the stored metadata
/// (`{}` or null for none).
fn same_metadata(sent: Option<&str>, stored: &Json) -> bool {
    let none = |m: &Json| m.is_null() || m.as_object().is_some_and(serde_json::Map::is_empty);
    match sent.map(serde_json::from_str::<Json>) {
        None => none(stored),
        Some(Ok(m)) => m == *stored || (none(&m) && none(stored)),
        Some(Err(_)) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wandb_ttl_values_map_onto_trackway_ttls() {
        assert_eq!(from_wandb(None), None, "null: unchanged");
        assert_eq!(from_wandb(Some(3600)), Some(Some(3600)));
        assert_eq!(from_wandb(Some(-1)), Some(None), "inherit: Trackway has no team default");
        assert_eq!(from_wandb(Some(-2)), Some(None), "disabled");
        assert_eq!(from_wandb(Some(0)), Some(None));
    }

    #[test]
    fn metadata_sent_back_unchanged_is_recognised() {
        assert!(same_metadata(Some("{}"), &Json::Null) && same_metadata(None, &json!({})));
        assert!(same_metadata(Some(r#"{"a":1}"#), &json!({"a": 1})));
        assert!(!same_metadata(Some(r#"{"a":2}"#), &json!({"a": 1})) && !same_metadata(Some("{"), &json!({})));
    }
}
