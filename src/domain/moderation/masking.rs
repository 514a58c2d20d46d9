//! Contact details taken out of a message before payment, so a deal is not
//! moved off the platform: phone numbers, email addresses and UPI ids are
//! replaced by `•••`. Prices, dates and order ids stay as written. Numbers
//! spelled out in words ("nine eight seven…") are out of scope.

use std::sync::LazyLock;

use regex::Regex;

/// What replaces a contact detail.
pub const MASK: &str = "•••";

/// A kind of contact detail, as the message's `moderation.masked` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Contact {
    Phone,
    Email,
    Upi,
}

impl Contact {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Phone => "phone",
            Self::Email => "email",
            Self::Upi => "upi",
        }
    }
}

/// The text with its contact details masked, and which kinds were found
/// (each once, in the order first met).
#[derive(Debug, PartialEq, Eq)]
pub struct Masked {
    pub text: String,
    pub found: Vec<Contact>,
}

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b[a-z0-9][a-z0-9._%+-]*@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b").unwrap_or_else(|_| never())
});
/// `name@bank`: a handle with no dot after the `@` (an email has one).
static UPI: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b[a-z0-9][a-z0-9._-]+@[a-z]{2,}\b").unwrap_or_else(|_| never()));

/// The patterns above are constants that compile; this is never reached.
fn never() -> Regex {
    unreachable!("a constant pattern failed to compile")
}

/// Masks every contact detail in `text`.
pub fn mask(text: &str) -> Masked {
    let mut found = Vec::new();
    let mut note = |c: Contact| {
        if !found.contains(&c) {
            found.push(c);
        }
    };
    let mut out = text.to_string();
    if EMAIL.is_match(&out) {
        out = EMAIL.replace_all(&out, MASK).into_owned();
        note(Contact::Email);
    }
    if UPI.find_iter(&out).any(|m| !followed_by_dot_word(&out, m.end())) {
        out = replace_upi(&out);
        note(Contact::Upi);
    }
    let phones = phone_spans(&out);
    if !phones.is_empty() {
        let mut masked = String::with_capacity(out.len());
        let mut at = 0;
        for (start, end) in phones {
            masked.push_str(&out[at..start]);
            masked.push_str(MASK);
            at = end;
        }
        masked.push_str(&out[at..]);
        out = masked;
        note(Contact::Phone);
    }
    Masked { text: out, found }
}

fn replace_upi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for m in UPI.find_iter(text) {
        if followed_by_dot_word(text, m.end()) {
            continue;
        }
        out.push_str(&text[at..m.start()]);
        out.push_str(MASK);
        at = m.end();
    }
    out.push_str(&text[at..]);
    out
}

/// `a@b.c`: the part after the `@` goes on as a domain, so it is not a UPI id.
fn followed_by_dot_word(text: &str, end: usize) -> bool {
    let rest = &text[end..];
    rest.starts_with('.') && rest[1..].chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
}

/// Byte ranges of phone numbers: digit groups joined by single spaces,
/// dashes or parentheses, with 10 or more digits, or a leading `+` and 8
/// or more (a country code and 7 or more). A run glued to a word (an order
/// id like `ORD-2026-000123`), after a currency sign or before a currency
/// word (a price), or followed by `:`, `/`, `,` or `.` and a digit (a time,
/// a date, an amount with separators) is left alone.
fn phone_spans(text: &str) -> Vec<(usize, usize)> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (start, c) = chars[i];
        let plus = c == '+' && chars.get(i + 1).is_some_and(|(_, n)| n.is_ascii_digit() || *n == '(');
        if !(c.is_ascii_digit() || plus || (c == '(' && next_is_digit_or_plus(&chars, i))) {
            i += 1;
            continue;
        }
        if glued_before(&chars, i) {
            // Skip the rest of this word.
            while i < chars.len() && !chars[i].1.is_whitespace() {
                i += 1;
            }
            continue;
        }
        let (end_idx, digits, has_plus) = run(&chars, i);
        let end = chars.get(end_idx).map_or(text.len(), |(b, _)| *b);
        let long_enough = digits >= 10 || (has_plus && digits >= 8);
        if long_enough && !glued_after(&chars, end_idx) && !price_context(text, start, end) {
            spans.push((start, end));
        }
        i = end_idx.max(i + 1);
    }
    spans
}

fn next_is_digit_or_plus(chars: &[(usize, char)], i: usize) -> bool {
    chars.get(i + 1).is_some_and(|(_, n)| n.is_ascii_digit() || *n == '+')
}

/// Reads a run from `i`: returns the index after its last digit (or `)`),
/// how many digits it holds, and whether it starts with `+`.
fn run(chars: &[(usize, char)], i: usize) -> (usize, usize, bool) {
    let mut j = i;
    let mut digits = 0;
    let mut has_plus = false;
    let mut end = i;
    let mut gap = 0;
    while j < chars.len() {
        let c = chars[j].1;
        if c.is_ascii_digit() {
            digits += 1;
            gap = 0;
            end = j + 1;
        } else if c == '+' && (j == i || (chars[i].1 == '(' && j == i + 1)) {
            has_plus = true;
        } else if c == '(' || c == ')' {
            if c == ')' && digits > 0 {
                end = j + 1;
            }
        } else if (c == ' ' || c == '-') && gap < 3 && digits > 0 {
            gap += 1;
        } else {
            break;
        }
        j += 1;
    }
    (end, digits, has_plus)
}

/// A run that continues a word: `ORD-2026…`, `#1234…`, `id_98…`, `x9876…`.
fn glued_before(chars: &[(usize, char)], i: usize) -> bool {
    let Some(&(_, prev)) = i.checked_sub(1).and_then(|p| chars.get(p)) else { return false };
    if prev.is_alphanumeric() || matches!(prev, '_' | '#' | '/' | ':' | '.' | ',' | '₹' | '$' | '€' | '£') {
        return true;
    }
    if prev == '-' {
        // `ORD-2026…` is glued; a lone dash before a number is not.
        return i.checked_sub(2).and_then(|p| chars.get(p)).is_some_and(|(_, c)| c.is_alphanumeric());
    }
    false
}

/// A run that goes on as a word or a number in another notation.
fn glued_after(chars: &[(usize, char)], end: usize) -> bool {
    let Some(&(_, next)) = chars.get(end) else { return false };
    if next.is_alphanumeric() || next == '_' {
        return true;
    }
    matches!(next, ':' | '/' | ',' | '.') && chars.get(end + 1).is_some_and(|(_, c)| c.is_ascii_digit())
}

/// A number written as money: after `₹`, `Rs`, `INR`, or before `rupees`, `rs`, `inr`.
fn price_context(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].trim_end().to_lowercase();
    let after = text[end..].trim_start().to_lowercase();
    let sign_before = ["₹", "$", "€", "£"].iter().any(|c| before.ends_with(c));
    let word_before = ["rs", "rs.", "inr"].iter().any(|w| {
        before.strip_suffix(w).is_some_and(|rest| rest.chars().next_back().is_none_or(|c| !c.is_alphanumeric()))
    });
    let word_after = ["rupees", "rupee", "rs", "inr", "/-"]
        .iter()
        .any(|w| after.strip_prefix(w).is_some_and(|rest| rest.chars().next().is_none_or(|c| !c.is_alphanumeric())));
    sign_before || word_before || word_after
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> (String, Vec<&'static str>) {
        let m = mask(text);
        (m.text, m.found.iter().map(|c| c.as_str()).collect())
    }

    #[test]
    fn contact_details_are_masked() {
        let cases: &[(&str, &str, &[&str])] = &[
            ("call me 9876543210", "call me •••", &["phone"]),
            ("call me on +91 98765 43210 now", "call me on ••• now", &["phone"]),
            ("+91-98765-43210", "•••", &["phone"]),
            ("my number: 098765 43210", "my number: •••", &["phone"]),
            ("ring 98765-43210.", "ring •••.", &["phone"]),
            ("US: +1 (415) 555-1234", "US: •••", &["phone"]),
            ("UK +44 20 7946 0958", "UK •••", &["phone"]),
            ("(+91) 9876543210", "•••", &["phone"]),
            ("+4915123456", "•••", &["phone"]),
            ("mail me at Priya.K@example.co.in!", "mail me at •••!", &["email"]),
            ("pay to priya@okhdfcbank please", "pay to ••• please", &["upi"]),
            ("9876543210@ybl", "•••", &["upi"]),
            ("a@b.com or 9876543210", "••• or •••", &["email", "phone"]),
            ("two: 9876543210 and 9123456780", "two: ••• and •••", &["phone"]),
            ("after 5 hours 9876543210", "after 5 hours •••", &["phone"]),
        ];
        for (input, text, found) in cases {
            assert_eq!(kinds(input), (text.to_string(), found.to_vec()), "{input}");
        }
    }

    #[test]
    fn prices_dates_and_ids_are_left_alone() {
        let cases = [
            "The budget is ₹5,000",
            "I want 5000 rupees",
            "₹ 1,00,00,000 is too much",
            "₹10000000000 total",
            "Rs. 2500000000 for the year",
            "10000000000 rupees",
            "INR 12345678901",
            "deliver by 2026-12-02",
            "on 02/12/2026 at 10:30",
            "2026-12-02 10:30",
            "order ORD-2026-000123 is late",
            "order #1234567890 shipped",
            "tracking id AWB1234567890",
            "invoice_9876543210",
            "call at 5 or 6",
            "123 456 789",
            "+91 12345",
            "reach me @priya on the app",
            "version 1.2.3",
            "1,234,567,890 views",
        ];
        for input in cases {
            assert_eq!(kinds(input), (input.to_string(), vec![]), "{input}");
        }
    }
}
