//! Random identifiers.

const ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    if getrandom::fill(&mut b).is_err() {
        // No OS randomness (should not happen on Linux): fall back to time and pid, which is
        // unique enough for ids that are checked against existing runs anyway.
        let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos())
            ^ u128::from(std::process::id()) << 64;
        for (i, x) in b.iter_mut().enumerate() {
            *x = (seed >> ((i % 16) * 8)) as u8 ^ (i as u8).wrapping_mul(151);
        }
    }
    b
}

/// A new run id: 8 characters of `[a-z0-9]`.
#[must_use]
pub fn new_run_id() -> String {
    random_bytes::<8>().iter().map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char).collect()
}

/// A new log id: 16 hex characters.
#[must_use]
pub fn new_log_id() -> String {
    random_bytes::<8>().iter().map(|b| format!("{b:02x}")).collect()
}
