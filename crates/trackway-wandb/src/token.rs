//! Signed upload URLs: `CreateRunFiles` answers each file with a URL on this server that the
//! SDK `PUT`s to without credentials (it treats them like presigned object-store URLs). The
//! signature is a keyed BLAKE3 hash of the run, path and expiry under the server's secret
//! (kept in the data directory, so URLs survive a restart), compared in constant time.

use std::time::{SystemTime, UNIX_EPOCH};

use trackway_store::RunKey;

/// How long an upload URL stays valid: the SDK retries a transfer for about 20 minutes.
pub const URL_LIFETIME_SECS: u64 = 24 * 3600;

/// The server's URL-signing key.
#[derive(Clone)]
pub struct UrlSigner {
    key: [u8; 32],
}

impl std::fmt::Debug for UrlSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UrlSigner(..)")
    }
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl UrlSigner {
    #[must_use]
    pub fn new(key: [u8; 32]) -> UrlSigner {
        UrlSigner { key }
    }

    fn mac(&self, parts: &[&str], expires: u64) -> String {
        let mut h = blake3::Hasher::new_keyed(&self.key);
        for part in parts {
            h.update(part.as_bytes());
            h.update(&[0]);
        }
        h.update(&expires.to_le_bytes());
        h.finalize().to_hex().to_string()
    }

    /// The query string (`expires=..&sig=..`) that authorises one upload of `path`.
    #[must_use]
    pub fn sign(&self, key: &RunKey, path: &str) -> String {
        self.sign_parts(&[&key.entity, &key.project, &key.run_id, path])
    }

    /// Whether `sig` authorises `path` of `key` until `expires`, which has not passed.
    #[must_use]
    pub fn verify(&self, key: &RunKey, path: &str, expires: u64, sig: &str) -> bool {
        self.verify_parts(&[&key.entity, &key.project, &key.run_id, path], expires, sig)
    }

    /// The query string authorising one request on the URL named by `parts` (a purpose first,
    /// e.g. `artifact-file`, so a URL signed for one route is refused by every other).
    #[must_use]
    pub fn sign_parts(&self, parts: &[&str]) -> String {
        let expires = now_secs() + URL_LIFETIME_SECS;
        format!("expires={expires}&sig={}", self.mac(parts, expires))
    }

    /// Whether `sig` authorises the URL named by `parts` until `expires`, which has not passed.
    #[must_use]
    pub fn verify_parts(&self, parts: &[&str], expires: u64, sig: &str) -> bool {
        let want = self.mac(parts, expires);
        // Constant-time comparison: blake3's Hash equality is constant-time.
        let ok = blake3::Hash::from_hex(sig).is_ok_and(|got| blake3::Hash::from_hex(&want).is_ok_and(|w| w == got));
        ok && expires >= now_secs()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> RunKey {
        RunKey { entity: "e".into(), project: "p".into(), run_id: "r".into() }
    }

    #[test]
    fn a_signature_holds_for_its_path_only() {
        let s = UrlSigner::new([7; 32]);
        let q = s.sign(&key(), "a.txt");
        let (exp, sig) = q.split_once("&sig=").expect("shape");
        let exp: u64 = exp.trim_start_matches("expires=").parse().expect("number");
        assert!(s.verify(&key(), "a.txt", exp, sig));
        assert!(!s.verify(&key(), "b.txt", exp, sig));
        assert!(!s.verify(&key(), "a.txt", exp + 1, sig));
        assert!(!UrlSigner::new([8; 32]).verify(&key(), "a.txt", exp, sig));
        let past = 1;
        assert!(!s.verify(&key(), "a.txt", past, &s.mac(&["e", "p", "r", "a.txt"], past)));
        let other = s.sign_parts(&["artifact-file", "e", "p", "r"]);
        let (exp, sig) = other.split_once("&sig=").expect("shape");
        let exp: u64 = exp.trim_start_matches("expires=").parse().expect("number");
        assert!(s.verify_parts(&["artifact-file", "e", "p", "r"], exp, sig));
        assert!(!s.verify_parts(&["artifact-upload", "e", "p", "r"], exp, sig), "signed for another route");
    }
}
