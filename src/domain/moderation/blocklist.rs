//! Words and phrases the platform does not accept: matched as whole words,
//! case-insensitively ("scam" matches "SCAM!" but not "scampi").

/// A configured blocklist, its entries lower-cased once.
#[derive(Clone, Debug, Default)]
pub struct Blocklist {
    entries: Vec<Vec<String>>,
}

impl Blocklist {
    /// From `MODERATION_BLOCKLIST`'s entries; blank ones are dropped.
    pub fn new(entries: &[String]) -> Self {
        let entries = entries.iter().map(|e| words(e)).filter(|w| !w.is_empty()).collect();
        Self { entries }
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The first entry `text` contains as whole words, if any.
    pub fn find(&self, text: &str) -> Option<String> {
        if self.entries.is_empty() {
            return None;
        }
        let text = words(text);
        self.entries.iter().find(|entry| text.windows(entry.len()).any(|w| w == entry.as_slice())).map(|e| e.join(" "))
    }
}

/// The words of a text, lower-cased: runs of letters, digits and apostrophes.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\'')).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_words_case_insensitive() {
        let list = Blocklist::new(&["scam".into(), "pay outside".into(), " ".into()]);
        let cases = [
            ("this is a scam", Some("scam")),
            ("SCAM!!!", Some("scam")),
            ("Scam-artist", Some("scam")),
            ("I love scampi", None),
            ("antiscam tools", None),
            ("let's PAY   outside the app", Some("pay outside")),
            ("pay me outside", None),
            ("pay outsider", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(list.find(text).as_deref(), expected, "{text}");
        }
    }

    #[test]
    fn an_empty_list_matches_nothing() {
        assert!(Blocklist::new(&[]).is_empty());
        assert_eq!(Blocklist::new(&[",".into()]).find("anything"), None);
    }
}
