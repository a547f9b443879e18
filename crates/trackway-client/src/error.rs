//! Typed errors: the agent's retry policy is decided from the variant alone, so every failure
//! the server or the network can produce maps to exactly one of them.

/// An error of one API call.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server could not be reached at all (refused, DNS, timeout, reset). Retry later.
    #[error("server {url} unreachable: {reason}")]
    Unreachable { url: String, reason: String },
    /// Missing or wrong API key (401). Retrying with the same key will not help.
    #[error("unauthorized: {message}")]
    Unauthorized { message: String },
    /// Ingest `from` lies above the server's high-water mark for this log: resend from `expected`.
    #[error("offset gap: server expects position {expected}")]
    OffsetGap { expected: u64 },
    /// A 4xx other than 401/408/429 and offset gaps: the request itself is wrong.
    /// `position` is set when the server refused one record of an ingest batch
    /// (`invalid_record`): that record alone is at fault.
    #[error("HTTP {status} {code}: {message}")]
    Permanent { status: u16, code: String, message: String, position: Option<u64> },
    /// A 5xx, 408 or 429: the server may succeed later, and not before `retry_after` when it
    /// said so (`Retry-After`, e.g. `503 server_busy` from a full ingest queue).
    #[error("HTTP {status} {code}: {message} (will retry)")]
    Retryable { status: u16, code: String, message: String, retry_after: Option<std::time::Duration> },
    /// The server answered 2xx with a body we could not understand.
    #[error("unexpected response from {url}: {reason}")]
    Decode { url: String, reason: String },
    /// A base URL that cannot be used.
    #[error("invalid server URL {url:?}: {reason}")]
    BadUrl { url: String, reason: String },
}

impl ClientError {
    /// Whether the same request may succeed later without any change (network, 5xx, 429).
    pub fn is_retryable(&self) -> bool {
        matches!(self, ClientError::Unreachable { .. } | ClientError::Retryable { .. })
    }

    /// The API error code, when the server sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ClientError::Unauthorized { .. } => Some("unauthorized"),
            ClientError::OffsetGap { .. } => Some("offset_gap"),
            ClientError::Permanent { code, .. } | ClientError::Retryable { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The wait the server asked for before a retry, if any.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            ClientError::Retryable { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Like [`Self::from_status`], with the response's `Retry-After` header (delay-seconds;
    /// an HTTP date is not used by Trackway servers and is ignored).
    pub fn from_response(status: u16, retry_after: Option<&str>, body: &[u8]) -> ClientError {
        let mut e = ClientError::from_status(status, body);
        if let ClientError::Retryable { retry_after: slot, .. } = &mut e {
            *slot = retry_after
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(|s| std::time::Duration::from_secs(s.min(3600)));
        }
        e
    }

    /// Maps a non-2xx answer to its variant. `body` is the raw response body, which is
    /// `{"error":{"code","message"},...}` from a Trackway server but may be anything from a proxy.
    pub fn from_status(status: u16, body: &[u8]) -> ClientError {
        let parsed: Option<serde_json::Value> = serde_json::from_slice(body).ok();
        let err = parsed.as_ref().and_then(|v| v.get("error"));
        let code = err.and_then(|e| e.get("code")).and_then(|c| c.as_str()).unwrap_or("").to_string();
        let message = err
            .and_then(|e| e.get("message"))
            .and_then(|m| m.as_str())
            .map(str::to_string)
            .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned());
        if status == 401 {
            return ClientError::Unauthorized { message };
        }
        if status == 409 && code == "offset_gap" {
            // `expected` may sit at the top level or inside `error` depending on the server version.
            let expected = parsed
                .as_ref()
                .and_then(|v| v.get("expected").or_else(|| err.and_then(|e| e.get("expected"))))
                .and_then(|x| x.as_u64());
            if let Some(expected) = expected {
                return ClientError::OffsetGap { expected };
            }
        }
        if status >= 500 || status == 408 || status == 429 {
            ClientError::Retryable { status, code, message, retry_after: None }
        } else {
            let position = err
                .and_then(|e| e.get("position"))
                .and_then(serde_json::Value::as_u64)
                .filter(|_| code == "invalid_record");
            ClientError::Permanent { status, code, message, position }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_statuses() {
        let gap = br#"{"error":{"code":"offset_gap","message":"gap"},"expected":512}"#;
        assert!(matches!(ClientError::from_status(409, gap), ClientError::OffsetGap { expected: 512 }));
        let nested = br#"{"error":{"code":"offset_gap","message":"gap","expected":7}}"#;
        assert!(matches!(ClientError::from_status(409, nested), ClientError::OffsetGap { expected: 7 }));
        let exists = br#"{"error":{"code":"run_exists","message":"x"}}"#;
        assert!(matches!(ClientError::from_status(409, exists), ClientError::Permanent { status: 409, .. }));
        assert!(matches!(ClientError::from_status(401, b""), ClientError::Unauthorized { .. }));
        assert!(ClientError::from_status(503, b"<html>").is_retryable());
        assert!(ClientError::from_status(429, b"").is_retryable());
        let bad = ClientError::from_status(400, br#"{"error":{"code":"invalid_record","message":"m"}}"#);
        assert_eq!(bad.code(), Some("invalid_record"));
        assert!(!bad.is_retryable());
        assert!(matches!(bad, ClientError::Permanent { position: None, .. }));
    }

    #[test]
    fn reads_the_refused_position_and_retry_after() {
        let body = br#"{"error":{"code":"invalid_record","message":"m","position":4096}}"#;
        assert!(matches!(
            ClientError::from_response(400, None, body),
            ClientError::Permanent { position: Some(4096), .. }
        ));
        // Only `invalid_record` names a record; another code with a position is not one.
        let other = br#"{"error":{"code":"bad_request","message":"m","position":1}}"#;
        assert!(matches!(ClientError::from_response(400, None, other), ClientError::Permanent { position: None, .. }));
        let busy = br#"{"error":{"code":"server_busy","message":"m"}}"#;
        let e = ClientError::from_response(503, Some("7"), busy);
        assert!(e.is_retryable());
        assert_eq!(e.retry_after(), Some(std::time::Duration::from_secs(7)));
        assert_eq!(ClientError::from_response(503, Some("soon"), busy).retry_after(), None);
    }
}
