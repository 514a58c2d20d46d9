//! The words search sees: lower case, accents stripped (so "Café" and
//! "cafe" match), split at anything that is not a letter, digit or mark
//! (marks stay: Devanagari vowel signs are part of their word). The same
//! function prepares the stored text, the query and the highlight, so the
//! three always agree.

use unicode_normalization::{UnicodeNormalization, char::is_combining_mark};

/// Characters of a word that count; longer words are cut (an index lexeme
/// has a size limit, and nobody searches for a 200-letter word).
const MAX_WORD_CHARS: usize = 64;

/// Accents of Latin, Greek and Cyrillic letters, which decompose into a
/// base letter and one of these marks. Marks of other scripts (Devanagari
/// vowel signs, viramas) carry meaning and stay.
fn is_accent(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || is_combining_mark(c)
}

/// One word as search compares it.
pub fn fold(word: &str) -> String {
    // Lower case, with the one common full case folding lower case lacks
    // ("Straße" is found as "strasse").
    let lower: String = word.chars().flat_map(char::to_lowercase).collect::<String>().replace('ß', "ss");
    let stripped: String = lower.nfd().filter(|c| !is_accent(*c)).collect();
    stripped.nfc().filter(|c| is_word_char(*c)).take(MAX_WORD_CHARS).collect()
}

/// The words of `text`, each folded.
pub fn words(text: &str) -> Vec<String> {
    segments(text).filter(|(is_word, _)| *is_word).map(|(_, w)| fold(w)).filter(|w| !w.is_empty()).collect()
}

/// What a message stores for search; none when it has no words.
pub fn stored(text: &str) -> Option<String> {
    let words = words(text);
    (!words.is_empty()).then(|| words.join(" "))
}

/// `text` cut into runs of word characters and runs of anything else.
fn segments(text: &str) -> impl Iterator<Item = (bool, &str)> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let first = rest.chars().next()?;
        let word = is_word_char(first);
        let end = rest.char_indices().find(|(_, c)| is_word_char(*c) != word).map_or(rest.len(), |(i, _)| i);
        let (run, tail) = rest.split_at(end);
        rest = tail;
        Some((word, run))
    })
}

/// A query: every word must match; the last one may be the start of a word.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Terms {
    pub whole: Vec<String>,
    pub prefix: String,
}

impl Terms {
    pub fn parse(q: &str) -> Option<Self> {
        let mut words = words(q);
        let prefix = words.pop()?;
        Some(Self { whole: words, prefix })
    }

    fn matches(&self, folded: &str) -> bool {
        folded.starts_with(self.prefix.as_str()) || self.whole.iter().any(|w| w == folded)
    }

    /// FTS5: `"a" "b"*` (every phrase must match).
    pub fn fts5(&self) -> String {
        let mut out: Vec<String> = self.whole.iter().map(|w| format!("\"{w}\"")).collect();
        out.push(format!("\"{}\"*", self.prefix));
        out.join(" ")
    }

    /// PostgreSQL `tsquery` text: `'a' & 'b':*`. Words hold no quotes or
    /// backslashes (only letters, digits and marks), so nothing needs escaping.
    pub fn tsquery(&self) -> String {
        let mut out: Vec<String> = self.whole.iter().map(|w| format!("'{w}'")).collect();
        out.push(format!("'{}':*", self.prefix));
        out.join(" & ")
    }
}

fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// `text` HTML-escaped, with the words the query matched in `<mark>`.
pub fn highlight(text: &str, terms: &Terms) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for (is_word, run) in segments(text) {
        if is_word && terms.matches(&fold(run)) {
            out.push_str("<mark>");
            escape_into(&mut out, run);
            out.push_str("</mark>");
        } else {
            escape_into(&mut out, run);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_fold_case_and_accents_but_keep_other_scripts_marks() {
        assert_eq!(words("Café CRÈME, naïve—Ångström!"), ["cafe", "creme", "naive", "angstrom"]);
        assert_eq!(words("Straße GRÖẞE"), ["strasse", "grosse"]);
        assert_eq!(words("नमस्ते दुनिया"), ["नमस्ते", "दुनिया"]);
        assert_eq!(words("pizza 🍕 tonight? 🎉"), ["pizza", "tonight"]);
        assert_eq!(stored("🎉 !!"), None);
    }

    #[test]
    fn queries_match_whole_words_and_a_prefix_and_highlights_are_escaped() {
        let t = Terms::parse("Invoi").unwrap();
        assert_eq!(t.fts5(), "\"invoi\"*");
        assert_eq!(t.tsquery(), "'invoi':*");
        let t = Terms::parse("the café invoi").unwrap();
        assert_eq!(t.tsquery(), "'the' & 'cafe' & 'invoi':*");
        assert_eq!(
            highlight("<b>Cafe</b> & the Invoice's total", &t),
            "&lt;b&gt;<mark>Cafe</mark>&lt;/b&gt; &amp; <mark>the</mark> <mark>Invoice</mark>&#39;s total"
        );
        assert_eq!(Terms::parse("🎉 ..."), None);
    }
}
