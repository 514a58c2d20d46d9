//! `List-Unsubscribe` (RFC 2369) and `List-Unsubscribe-Post` (RFC 8058), so
//! mail clients can offer a one-click unsubscribe.

use lettre::message::header::{Header, HeaderName, HeaderValue};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// `List-Unsubscribe: <https://…>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListUnsubscribe(pub String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(s: &str) -> Result<Self, BoxError> {
        let url = s.trim().strip_prefix('<').and_then(|s| s.strip_suffix('>')).ok_or("expected <url>")?;
        Ok(Self(url.to_owned()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), format!("<{}>", self.0))
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click`: a POST to the
/// `List-Unsubscribe` URL unsubscribes without a page to confirm on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListUnsubscribePost;

const ONE_CLICK: &str = "List-Unsubscribe=One-Click";

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(s: &str) -> Result<Self, BoxError> {
        if s.trim() == ONE_CLICK { Ok(Self) } else { Err("expected List-Unsubscribe=One-Click".into()) }
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), ONE_CLICK.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lettre::message::header::Headers;

    #[test]
    fn the_headers_read_back_what_they_write() {
        let header = ListUnsubscribe("https://app.example.com/unsubscribe?token=abc".into());
        let mut headers = Headers::new();
        headers.set(header.clone());
        headers.set(ListUnsubscribePost);
        let raw = headers.get_raw("List-Unsubscribe").unwrap();
        assert_eq!(raw, "<https://app.example.com/unsubscribe?token=abc>");
        assert_eq!(ListUnsubscribe::parse(raw).unwrap(), header);
        assert_eq!(headers.get_raw("List-Unsubscribe-Post"), Some("List-Unsubscribe=One-Click"));
        assert!(ListUnsubscribePost::parse("yes").is_err());
    }
}
