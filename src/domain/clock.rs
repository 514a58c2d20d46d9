//! Time as the server writes it: UTC, truncated to the millisecond so the
//! value emitted live equals the one read back from either database.

use chrono::{DateTime, SubsecRound, Utc};

pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

/// RFC 3339 with milliseconds and a `Z`, the form used on the wire.
pub fn rfc3339(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
