//! The offline digest: one email per (user, conversation) listing the unread
//! messages. Askama renders both parts from one view; the HTML template
//! escapes every value, so user text arrives as text.

use askama::Template;
use chrono::{DateTime, Utc};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::mailer::Email;

/// Everything but RFC 3986's unreserved characters is encoded, so an id or
/// token can stand in a path segment or a query value.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// At most this many messages are listed; the rest are "and N more".
pub const MAX_LISTED: usize = 10;

/// Where the unsubscribe link points, under `APP_URL`; `?token=` follows.
pub const UNSUBSCRIBE_PATH: &str = "/unsubscribe";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recipient {
    pub name: String,
    pub email: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DigestConversation {
    pub id: String,
    /// The name of the person the recipient talks to.
    pub other_party: String,
    /// What the conversation is about (a campaign, a listing), when it is about something.
    pub about: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DigestMessage {
    pub sender_name: String,
    pub sent_at: DateTime<Utc>,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfflineDigest {
    pub recipient: Recipient,
    pub conversation: DigestConversation,
    /// In the order to list them; only the first [`MAX_LISTED`] are.
    pub messages: Vec<DigestMessage>,
    /// All unread messages of the conversation, listed or not.
    pub unread_total: u64,
    /// From [`super::unsubscribe::token`] or the server's own scheme.
    pub unsubscribe_token: String,
}

/// The web app the links lead to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    /// Shown in the footer ("on {name}").
    pub name: String,
    /// `APP_URL`.
    pub url: String,
}

struct Listed {
    sender: String,
    time: String,
    text: String,
}

struct View {
    subject: String,
    recipient_name: String,
    intro: String,
    about: Option<String>,
    messages: Vec<Listed>,
    more: u64,
    conversation_url: String,
    unsubscribe_url: String,
    site_name: String,
}

#[derive(Template)]
#[template(path = "digest.html")]
struct HtmlPart<'a> {
    v: &'a View,
}

#[derive(Template)]
#[template(path = "digest.txt")]
struct TextPart<'a> {
    v: &'a View,
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 { format!("1 {one}") } else { format!("{n} {many}") }
}

/// Subject, both parts and the unsubscribe link of one digest.
pub fn render_digest(digest: &OfflineDigest, site: &Site) -> Result<Email, askama::Error> {
    let base = site.url.trim_end_matches('/');
    let listed: Vec<Listed> = digest
        .messages
        .iter()
        .take(MAX_LISTED)
        .map(|m| Listed {
            sender: m.sender_name.clone(),
            time: m.sent_at.format("%-d %b %Y, %H:%M UTC").to_string(),
            text: m.text.clone(),
        })
        .collect();
    let unread = digest.unread_total.max(listed.len() as u64);
    let other = one_line(&digest.conversation.other_party);
    let view = View {
        subject: format!("{} from {other}", plural(unread, "unread message", "unread messages")),
        recipient_name: digest.recipient.name.clone(),
        intro: format!("{other} sent you {}", plural(unread, "message", "messages")),
        about: digest.conversation.about.as_deref().map(one_line).filter(|about| !about.is_empty()),
        more: unread - listed.len() as u64,
        messages: listed,
        conversation_url: format!("{base}/conversations/{}", utf8_percent_encode(&digest.conversation.id, UNRESERVED)),
        unsubscribe_url: format!(
            "{base}{UNSUBSCRIBE_PATH}?token={}",
            utf8_percent_encode(&digest.unsubscribe_token, UNRESERVED)
        ),
        site_name: site.name.clone(),
    };
    Ok(Email {
        to: digest.recipient.clone(),
        html: HtmlPart { v: &view }.render()?,
        text: TextPart { v: &view }.render()?,
        unsubscribe_url: Some(view.unsubscribe_url.clone()),
        subject: view.subject,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn digest(messages: usize, unread_total: u64) -> OfflineDigest {
        let at = Utc.with_ymd_and_hms(2025, 12, 1, 9, 5, 0).unwrap();
        OfflineDigest {
            recipient: Recipient { name: "Asha".into(), email: "asha@example.com".into() },
            conversation: DigestConversation {
                id: "0190c2a4-7e1b-7000-8000-000000000001".into(),
                other_party: "Bloom Cosmetics".into(),
                about: Some("Summer glow campaign".into()),
            },
            messages: (1..=messages)
                .map(|i| DigestMessage {
                    sender_name: "Bloom Cosmetics".into(),
                    sent_at: at,
                    text: format!("message number {i}"),
                })
                .collect(),
            unread_total,
            unsubscribe_token: "tok.en/=".into(),
        }
    }

    fn site() -> Site {
        Site { name: "Parley".into(), url: "https://app.example.com/".into() }
    }

    #[test]
    fn both_parts_list_sender_time_and_text() {
        let email = render_digest(&digest(2, 2), &site()).unwrap();
        assert_eq!(email.subject, "2 unread messages from Bloom Cosmetics");
        for part in [&email.text, &email.html] {
            assert!(part.contains("Hi Asha,"), "{part}");
            assert!(part.contains("Bloom Cosmetics"), "{part}");
            assert!(part.contains("1 Dec 2025, 09:05 UTC"), "{part}");
            assert!(part.contains("message number 1") && part.contains("message number 2"), "{part}");
            assert!(part.contains("Summer glow campaign"), "{part}");
            assert!(!part.contains("more"), "{part}");
        }
    }

    #[test]
    fn one_message_reads_in_the_singular() {
        let email = render_digest(&digest(1, 1), &site()).unwrap();
        assert_eq!(email.subject, "1 unread message from Bloom Cosmetics");
        assert!(email.text.contains("Bloom Cosmetics sent you 1 message about"), "{}", email.text);
    }

    #[test]
    fn at_most_ten_are_listed_then_and_n_more() {
        let email = render_digest(&digest(12, 15), &site()).unwrap();
        for part in [&email.text, &email.html] {
            assert!(part.contains("message number 10"), "{part}");
            assert!(!part.contains("message number 11"), "{part}");
            assert!(part.contains("and 5 more"), "{part}");
        }
        assert_eq!(email.subject, "15 unread messages from Bloom Cosmetics");
    }

    #[test]
    fn user_text_is_escaped_in_html_and_kept_in_text() {
        let mut d = digest(1, 1);
        d.messages[0].text = "<script>alert('x')</script> & <b>bold</b>".into();
        d.conversation.other_party = "<img src=x onerror=alert(1)>".into();
        d.recipient.name = "\"Asha\" <asha>".into();
        let email = render_digest(&d, &site()).unwrap();
        assert!(!email.html.contains("<script>") && !email.html.contains("<img") && !email.html.contains("<b>"));
        assert!(email.html.contains("&#60;script&#62;") || email.html.contains("&lt;script&gt;"), "{}", email.html);
        assert!(email.text.contains("<script>alert('x')</script> & <b>bold</b>"), "{}", email.text);
    }

    #[test]
    fn links_lead_under_app_url() {
        let email = render_digest(&digest(1, 1), &site()).unwrap();
        let link = "https://app.example.com/conversations/0190c2a4-7e1b-7000-8000-000000000001";
        assert!(email.text.contains(link), "{}", email.text);
        assert!(email.html.contains(&format!("href=\"{link}\"")), "{}", email.html);
        assert_eq!(email.unsubscribe_url.as_deref(), Some("https://app.example.com/unsubscribe?token=tok.en%2F%3D"));
        assert!(email.html.contains("https://app.example.com/unsubscribe?token=tok.en%2F%3D"));
    }

    #[test]
    fn names_with_line_breaks_stay_on_one_subject_line() {
        let mut d = digest(1, 1);
        d.conversation.other_party = "Bloom\r\nBcc: victim@example.com".into();
        let email = render_digest(&d, &site()).unwrap();
        assert_eq!(email.subject, "1 unread message from Bloom Bcc: victim@example.com");
    }
}
