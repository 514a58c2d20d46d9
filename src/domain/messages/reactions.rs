//! Reactions on a message: who reacted with which emoji, in the order they
//! reacted. Stored on the message row as `[[emoji, [user_id, ...]], ...]` so
//! every reader renders a message from its row alone.

use serde::{Serialize, Serializer, ser::SerializeMap};
use serde_json::{Value, json};

use crate::error::{AppError, AppResult};

/// Distinct emoji a message may carry.
pub const MAX_DISTINCT: usize = 20;
/// Bytes an emoji (or short reaction code) may take.
pub const MAX_EMOJI_BYTES: usize = 32;

/// A reaction's emoji: 1..32 bytes, no whitespace.
pub fn emoji(raw: &str) -> AppResult<String> {
    if raw.is_empty() || raw.len() > MAX_EMOJI_BYTES {
        return Err(AppError::invalid_field("emoji", format!("must be 1..{MAX_EMOJI_BYTES} bytes")));
    }
    if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(AppError::invalid_field("emoji", "must not contain whitespace"));
    }
    Ok(raw.to_string())
}

/// The reactions of one message, in the order first reacted.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Reactions(Vec<(String, Vec<String>)>);

impl Reactions {
    pub fn from_stored(stored: Option<&Value>) -> Self {
        let Some(items) = stored.and_then(Value::as_array) else { return Self::default() };
        let entries = items
            .iter()
            .filter_map(|item| {
                let pair = item.as_array()?;
                let emoji = pair.first()?.as_str()?.to_string();
                let users: Vec<String> =
                    pair.get(1)?.as_array()?.iter().filter_map(|u| u.as_str().map(str::to_owned)).collect();
                (!users.is_empty()).then_some((emoji, users))
            })
            .collect();
        Self(entries)
    }

    /// The stored form; none when there are no reactions.
    pub fn to_stored(&self) -> Option<Value> {
        (!self.0.is_empty()).then(|| Value::Array(self.0.iter().map(|(e, users)| json!([e, users])).collect()))
    }

    /// Adds `user_id`'s `emoji`; false when it was already there.
    pub fn add(&mut self, emoji: &str, user_id: &str) -> AppResult<bool> {
        if let Some((_, users)) = self.0.iter_mut().find(|(e, _)| e == emoji) {
            if users.iter().any(|u| u == user_id) {
                return Ok(false);
            }
            users.push(user_id.to_string());
            return Ok(true);
        }
        if self.0.len() >= MAX_DISTINCT {
            return Err(AppError::invalid_field(
                "emoji",
                format!("a message has at most {MAX_DISTINCT} distinct emoji"),
            ));
        }
        self.0.push((emoji.to_string(), vec![user_id.to_string()]));
        Ok(true)
    }

    /// Removes `user_id`'s `emoji`; false when it was not there.
    pub fn remove(&mut self, emoji: &str, user_id: &str) -> bool {
        let Some(i) = self.0.iter().position(|(e, _)| e == emoji) else { return false };
        let users = &mut self.0[i].1;
        let before = users.len();
        users.retain(|u| u != user_id);
        let removed = users.len() != before;
        if users.is_empty() {
            self.0.remove(i);
        }
        removed
    }
}

impl Serialize for Reactions {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (emoji, users) in &self.0 {
            map.serialize_entry(emoji, users)?;
        }
        map.end()
    }
}

/// The stored reactions written as `{emoji: [user_id, ...]}` straight from
/// the row, in the order reacted.
pub struct StoredView<'a>(pub Option<&'a Value>);

impl Serialize for StoredView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let items = self.0.and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        let mut map = s.serialize_map(None)?;
        for item in items {
            if let Some([Value::String(emoji), users @ Value::Array(_)]) = item.as_array().map(Vec::as_slice) {
                map.serialize_entry(emoji, users)?;
            }
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reactions_keep_their_order_and_limits() {
        let mut r = Reactions::default();
        assert!(r.add("👍", "a").unwrap());
        assert!(r.add("🎉", "b").unwrap());
        assert!(r.add("👍", "b").unwrap());
        assert!(!r.add("👍", "a").unwrap(), "a repeated add changes nothing");
        let stored = r.to_stored();
        assert_eq!(stored, Some(json!([["👍", ["a", "b"]], ["🎉", ["b"]]])));
        assert_eq!(Reactions::from_stored(stored.as_ref()), r);
        assert!(r.remove("🎉", "b"));
        assert!(!r.remove("🎉", "b"));
        for i in 0..19 {
            r.add(&format!("e{i}"), "a").unwrap();
        }
        assert!(r.add("one-more", "a").is_err(), "the 21st distinct emoji is refused");
        assert!(r.add("👍", "c").unwrap(), "an existing emoji still takes more users");
        assert!(emoji("a b").is_err());
        assert!(emoji("").is_err());
        assert!(emoji(&"x".repeat(33)).is_err());
    }
}
