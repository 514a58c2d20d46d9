//! Small helpers shared by the HTTP clients: short error texts that never
//! carry a URL (it may hold credentials), `Retry-After`, bounded bodies.

use std::time::{Duration, SystemTime};

use reqwest::{Response, header::RETRY_AFTER};

/// The most of a response body any client here reads.
pub(crate) const MAX_BODY: usize = 64 * 1024;

/// A one-line description of a failed request, for logs and for the
/// delivery's `last_error`: the kind of failure and its innermost cause.
pub(crate) fn describe(error: reqwest::Error, timeout: Duration) -> String {
    if error.is_timeout() {
        return format!("timed out after {} ms", timeout.as_millis());
    }
    let kind = if error.is_connect() {
        "connection failed"
    } else if error.is_body() || error.is_decode() {
        "reading the response failed"
    } else if error.is_redirect() {
        "redirect refused"
    } else {
        "request failed"
    };
    let error = error.without_url();
    let mut cause: &dyn std::error::Error = &error;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    let text = short(&cause.to_string(), 160);
    if text.is_empty() { kind.to_owned() } else { format!("{kind}: {text}") }
}

/// `text` cut to at most `max` characters.
pub(crate) fn short(text: &str, max: usize) -> String {
    let text = text.trim();
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// The response's `Retry-After`, in seconds or as an HTTP date.
pub(crate) fn retry_after(response: &Response, now: SystemTime) -> Option<Duration> {
    let value = response.headers().get(RETRY_AFTER)?.to_str().ok()?.trim();
    parse_retry_after(value, now)
}

pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Reads at most [`MAX_BODY`] bytes of the body; a longer body is an error.
pub(crate) async fn read_body(mut response: Response) -> Result<Vec<u8>, BodyError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Read)? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[derive(Debug)]
pub(crate) enum BodyError {
    Read(reqwest::Error),
    TooLarge,
}

impl BodyError {
    pub(crate) fn describe(self, timeout: Duration) -> String {
        match self {
            BodyError::Read(error) => describe(error, timeout),
            BodyError::TooLarge => format!("response body over {} KiB", MAX_BODY / 1024),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds() {
        assert_eq!(parse_retry_after("7", SystemTime::now()), Some(Duration::from_secs(7)));
    }

    #[test]
    fn retry_after_as_a_date() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        let after = parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now);
        assert_eq!(after, Some(Duration::from_secs(30)));
    }

    #[test]
    fn a_retry_after_date_in_the_past_means_now() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now), Some(Duration::ZERO));
    }

    #[test]
    fn an_unreadable_retry_after_is_ignored() {
        assert_eq!(parse_retry_after("soon", SystemTime::now()), None);
        assert_eq!(parse_retry_after("-3", SystemTime::now()), None);
    }

    #[test]
    fn short_cuts_on_a_character_boundary() {
        assert_eq!(short("  héllo  ", 10), "héllo");
        assert_eq!(short("héllo", 2), "hé…");
    }
}
