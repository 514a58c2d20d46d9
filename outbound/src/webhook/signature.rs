//! `X-Parley-Signature: v1=` + hex HMAC-SHA256(secret, `{timestamp}.{raw body}`).

use std::time::Duration;

use hmac::Mac;

use crate::mac::{HmacSha256, hmac_sha256};

const SCHEME: &str = "v1=";

fn mac(secret: &[u8], timestamp_secs: u64, raw_body: &[u8]) -> HmacSha256 {
    hmac_sha256(secret, &[timestamp_secs.to_string().as_bytes(), b".", raw_body])
}

/// The signature header's value for a body sent at `timestamp_secs`.
pub fn sign(secret: &[u8], timestamp_secs: u64, raw_body: &[u8]) -> String {
    format!("{SCHEME}{}", hex::encode(mac(secret, timestamp_secs, raw_body).finalize().into_bytes()))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the timestamp is not a number of seconds")]
    MalformedTimestamp,
    #[error("the timestamp is outside the tolerance")]
    Stale,
    #[error("the signature is not v1= and 64 hex digits")]
    MalformedSignature,
    #[error("the signature does not match")]
    Mismatch,
}

/// Checks a received request's `X-Parley-Timestamp` and `X-Parley-Signature`
/// against its raw body. The comparison takes the same time however many
/// digits match; a timestamp more than `tolerance` away from `now_secs`
/// (either way) is refused, so a captured request cannot be replayed later.
pub fn verify(
    secret: &[u8],
    timestamp: &str,
    signature: &str,
    raw_body: &[u8],
    now_secs: u64,
    tolerance: Duration,
) -> Result<(), VerifyError> {
    let timestamp_secs: u64 = timestamp.trim().parse().map_err(|_| VerifyError::MalformedTimestamp)?;
    if now_secs.abs_diff(timestamp_secs) > tolerance.as_secs() {
        return Err(VerifyError::Stale);
    }
    let digits = signature.trim().strip_prefix(SCHEME).ok_or(VerifyError::MalformedSignature)?;
    let expected = hex::decode(digits).map_err(|_| VerifyError::MalformedSignature)?;
    if expected.len() != 32 {
        return Err(VerifyError::MalformedSignature);
    }
    mac(secret, timestamp_secs, raw_body).verify_slice(&expected).map_err(|_| VerifyError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec_test";
    const BODY: &[u8] = br#"{"id":"e1","type":"message.new"}"#;
    const FIVE_MIN: Duration = Duration::from_secs(300);

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body_in_hex() {
        // Computed independently: printf '1700000000.{...}' | openssl dgst -sha256 -hmac whsec_test
        assert_eq!(
            sign(SECRET, 1_700_000_000, BODY),
            "v1=d21156e7c627ec101da7fc1a4cfaa0ccf2e67707bfe5bcc02c945696ee34ea37"
        );
    }

    #[test]
    fn a_signature_verifies_against_its_own_body() {
        let signature = sign(SECRET, 1_700_000_000, BODY);
        assert_eq!(verify(SECRET, "1700000000", &signature, BODY, 1_700_000_010, FIVE_MIN), Ok(()));
    }

    #[test]
    fn a_changed_body_secret_or_timestamp_does_not_verify() {
        let signature = sign(SECRET, 1_700_000_000, BODY);
        let now = 1_700_000_000;
        assert_eq!(verify(SECRET, "1700000000", &signature, b"{}", now, FIVE_MIN), Err(VerifyError::Mismatch));
        assert_eq!(verify(b"other", "1700000000", &signature, BODY, now, FIVE_MIN), Err(VerifyError::Mismatch));
        assert_eq!(verify(SECRET, "1700000001", &signature, BODY, now, FIVE_MIN), Err(VerifyError::Mismatch));
    }

    #[test]
    fn a_stale_or_future_timestamp_is_refused() {
        let signature = sign(SECRET, 1_700_000_000, BODY);
        let late = 1_700_000_000 + 301;
        assert_eq!(verify(SECRET, "1700000000", &signature, BODY, late, FIVE_MIN), Err(VerifyError::Stale));
        let early = 1_700_000_000 - 301;
        assert_eq!(verify(SECRET, "1700000000", &signature, BODY, early, FIVE_MIN), Err(VerifyError::Stale));
    }

    #[test]
    fn malformed_headers_are_told_apart() {
        let now = 1_700_000_000;
        let good = sign(SECRET, now, BODY);
        assert_eq!(verify(SECRET, "soon", &good, BODY, now, FIVE_MIN), Err(VerifyError::MalformedTimestamp));
        let bare = good.trim_start_matches("v1=");
        assert_eq!(verify(SECRET, "1700000000", bare, BODY, now, FIVE_MIN), Err(VerifyError::MalformedSignature));
        assert_eq!(verify(SECRET, "1700000000", "v1=zz", BODY, now, FIVE_MIN), Err(VerifyError::MalformedSignature));
        assert_eq!(verify(SECRET, "1700000000", "v1=abcd", BODY, now, FIVE_MIN), Err(VerifyError::MalformedSignature));
    }
}
