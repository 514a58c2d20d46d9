//! Checks on client input shared by REST and socket entry points.

use super::users::is_valid_user_id;
use crate::error::{AppError, AppResult};

pub const MAX_MESSAGE_CHARS: usize = 5000;
pub const MAX_MEDIA_URL_LEN: usize = 2048;
pub const MAX_CLIENT_MESSAGE_ID_LEN: usize = 128;

/// A message body: 1..5000 characters after trimming, or empty when there
/// is media. Returns the trimmed text.
pub fn message_text(raw: &str, has_media: bool) -> AppResult<String> {
    let text = raw.trim();
    let chars = text.chars().count();
    if chars == 0 && !has_media {
        return Err(AppError::invalid_field("message", "must not be empty"));
    }
    if chars > MAX_MESSAGE_CHARS {
        return Err(AppError::invalid_field(
            "message",
            format!("must be at most {MAX_MESSAGE_CHARS} characters (got {chars})"),
        ));
    }
    Ok(text.to_string())
}

/// An `http`/`https` URL of at most 2048 characters.
pub fn media_url(field: &str, raw: &str) -> AppResult<String> {
    let url = raw.trim();
    if url.len() > MAX_MEDIA_URL_LEN {
        return Err(AppError::invalid_field(field, format!("must be at most {MAX_MEDIA_URL_LEN} characters")));
    }
    let lower = url.to_ascii_lowercase();
    let rest = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.starts_with('/') && !url.chars().any(char::is_whitespace) => {
            Ok(url.to_string())
        }
        _ => Err(AppError::invalid_field(field, "must be an http or https URL")),
    }
}

pub fn client_message_id(field: &str, raw: &str) -> AppResult<String> {
    let id = raw.trim();
    if id.is_empty() || id.len() > MAX_CLIENT_MESSAGE_ID_LEN {
        return Err(AppError::invalid_field(field, format!("must be 1..{MAX_CLIENT_MESSAGE_ID_LEN} characters")));
    }
    Ok(id.to_string())
}

pub fn user_id(field: &str, raw: &str) -> AppResult<String> {
    if is_valid_user_id(raw) {
        Ok(raw.to_string())
    } else {
        Err(AppError::invalid_field(field, "must be 1..64 characters from [A-Za-z0-9_.:-]"))
    }
}

/// An optional free-text field: trimmed, empty becomes `None`, bounded length.
pub fn optional_text(field: &str, raw: Option<&str>, max_chars: usize) -> AppResult<Option<String>> {
    let Some(text) = raw.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > max_chars {
        return Err(AppError::invalid_field(field, format!("must be at most {max_chars} characters")));
    }
    Ok(Some(text.to_string()))
}

/// A required free-text field.
pub fn required_text(field: &str, raw: Option<&str>, max_chars: usize) -> AppResult<String> {
    optional_text(field, raw, max_chars)?.ok_or_else(|| AppError::invalid_field(field, "is required"))
}

/// The text of an input: a string, or a number written as one.
pub fn scalar_text(v: &serde_json::Value) -> AppResult<String> {
    match v {
        serde_json::Value::String(s) => Ok(s.clone()),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        _ => Err(AppError::invalid_field("text", "must be a string")),
    }
}

/// Whether JSON text holds an escaped NUL (`\u0000`: JSON has no other way
/// to write one). PostgreSQL cannot store NUL in text, so such input is
/// refused on every database alike.
pub fn has_nul_escape(json: &[u8]) -> bool {
    let mut from = 0;
    while let Some(at) = json[from..].windows(6).position(|w| w == b"\\u0000") {
        let start = from + at;
        // The backslash opens an escape only after an even run of backslashes.
        let run = json[..start].iter().rev().take_while(|b| **b == b'\\').count();
        if run % 2 == 0 {
            return true;
        }
        from = start + 1;
    }
    false
}

/// The path of the first string (or key) in `v` that holds a NUL.
pub fn nul_path(v: &serde_json::Value) -> Option<String> {
    fn walk(v: &serde_json::Value, path: &str) -> Option<String> {
        let join = |key: &str| if path.is_empty() { key.to_string() } else { format!("{path}.{key}") };
        match v {
            serde_json::Value::String(s) => s.contains('\0').then(|| path.to_string()),
            serde_json::Value::Array(items) => {
                items.iter().enumerate().find_map(|(i, x)| walk(x, &join(&i.to_string())))
            }
            serde_json::Value::Object(map) => map
                .iter()
                .find_map(|(k, x)| if k.contains('\0') { Some(join(&k.replace('\0', ""))) } else { walk(x, &join(k)) }),
            _ => None,
        }
    }
    walk(v, "").map(|p| if p.is_empty() { "payload".to_string() } else { p })
}

/// Refuses a payload holding a NUL anywhere, naming the field.
pub fn no_nul(v: &serde_json::Value) -> AppResult<()> {
    match nul_path(v) {
        Some(field) => Err(AppError::invalid_field(&field, "must not contain the NUL character (U+0000)")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_characters_are_found_by_escape_and_by_path() {
        assert!(has_nul_escape(br#"{"message":"a\u0000b"}"#));
        assert!(has_nul_escape(br#"{"message":"\\\u0000"}"#), "an escaped backslash, then NUL");
        assert!(!has_nul_escape(br#"{"message":"\\u0000"}"#), "the six characters \\u0000, not NUL");
        assert!(!has_nul_escape(br#"{"message":"u0000"}"#));
        let v: serde_json::Value = serde_json::from_slice(br#"{"a":{"b":["x","y\u0000"]}}"#).unwrap();
        assert_eq!(nul_path(&v).as_deref(), Some("a.b.1"));
        assert_eq!(nul_path(&serde_json::json!("\u{0}")).as_deref(), Some("payload"));
        assert!(no_nul(&serde_json::json!({"message": "fine"})).is_ok());
    }

    #[test]
    fn message_limits() {
        assert_eq!(message_text("  hi  ", false).unwrap(), "hi");
        assert!(message_text("   ", false).is_err());
        assert_eq!(message_text("", true).unwrap(), "");
        assert!(message_text(&"é".repeat(5000), false).is_ok());
        assert!(message_text(&"é".repeat(5001), false).is_err());
    }

    #[test]
    fn media_urls() {
        assert!(media_url("mediaUrl", "https://cdn.example.com/a.png").is_ok());
        assert!(media_url("mediaUrl", "http://x.y/z").is_ok());
        for bad in ["javascript:alert(1)", "ftp://x/y", "https://", "https:///x", "data:image/png;base64,AA"] {
            assert!(media_url("mediaUrl", bad).is_err(), "{bad}");
        }
        assert!(media_url("mediaUrl", &format!("https://x.com/{}", "a".repeat(2040))).is_err());
    }
}
