use chrono::{TimeZone, Utc};
use parley_outbound::mail::{
    DigestConversation, DigestMessage, Mailer, OfflineDigest, Recipient, Site, render_digest, unsubscribe,
};
use parley_standins::maildev::MailDev;

use crate::WAIT;

fn digest(listed: usize, unread_total: u64) -> OfflineDigest {
    let at = |minute| Utc.with_ymd_and_hms(2025, 12, 1, 14, minute, 0).unwrap();
    let mut messages: Vec<DigestMessage> = (1..=listed)
        .map(|i| DigestMessage {
            sender_name: "Bloom Cosmetics".into(),
            sent_at: at(i as u32),
            text: format!("Update number {i}"),
        })
        .collect();
    messages[0].text = "<script>alert('owned')</script> & see <b>this</b>".into();
    OfflineDigest {
        recipient: Recipient { name: "Asha Rao".into(), email: "asha@parley.test".into() },
        conversation: DigestConversation {
            id: "0190c2a4-7e1b-7000-8000-00000000002a".into(),
            other_party: "Bloom Cosmetics".into(),
            about: Some("Summer glow campaign".into()),
        },
        messages,
        unread_total,
        unsubscribe_token: unsubscribe::token(b"unsubscribe-secret", "asha"),
    }
}

fn site() -> Site {
    Site { name: "Parley".into(), url: "https://app.parley.test".into() }
}

#[tokio::test]
async fn the_digest_arrives_with_both_parts_the_link_and_one_click_unsubscribe() {
    let maildev = MailDev::start().await.unwrap();
    let mailer = Mailer::new(&maildev.smtp_plain_url(), "Parley <notifications@parley.test>").unwrap();
    let email = render_digest(&digest(12, 15), &site()).unwrap();

    mailer.send(&email).await.unwrap();

    let received = maildev.wait_for_emails(1, WAIT).await;
    let got = &received[0];
    assert_eq!(got.subject, "15 unread messages from Bloom Cosmetics");
    assert_eq!(got.from[0].address, "notifications@parley.test");
    assert_eq!(got.from[0].name, "Parley");
    assert_eq!(got.to[0].address, "asha@parley.test");
    assert_eq!(got.to[0].name, "Asha Rao");

    let text = got.text.as_deref().expect("a plain-text part");
    let html = got.html.as_deref().expect("an HTML part");
    let link = "https://app.parley.test/conversations/0190c2a4-7e1b-7000-8000-00000000002a";
    for part in [text, html] {
        assert!(part.contains(link), "{part}");
        assert!(part.contains("Update number 10"), "{part}");
        assert!(!part.contains("Update number 11"), "at most ten are listed: {part}");
        assert!(part.contains("and 5 more"), "{part}");
        assert!(part.contains("1 Dec 2025, 14:02 UTC"), "{part}");
        assert!(part.contains("Summer glow campaign"), "{part}");
    }
    // The plain part carries the text as written; the HTML part escapes it.
    assert!(text.contains("<script>alert('owned')</script> & see <b>this</b>"), "{text}");
    assert!(!html.contains("<script") && !html.contains("<b>this"), "{html}");
    assert!(html.contains("&#60;script&#62;") || html.contains("&lt;script&gt;"), "{html}");
    assert!(html.contains(&format!("href=\"{link}\"")), "{html}");

    let unsubscribe_url = email.unsubscribe_url.as_deref().unwrap();
    assert!(unsubscribe_url.starts_with("https://app.parley.test/unsubscribe?token="), "{unsubscribe_url}");
    assert_eq!(got.header("List-Unsubscribe"), Some(format!("<{unsubscribe_url}>").as_str()));
    assert_eq!(got.header("List-Unsubscribe-Post"), Some("List-Unsubscribe=One-Click"));
    let token = unsubscribe_url.split("token=").nth(1).unwrap();
    assert_eq!(unsubscribe::verify(b"unsubscribe-secret", token).as_deref(), Some("asha"));

    let source = maildev.source(&got.id).await;
    assert!(source.contains("multipart/alternative"), "{source}");
    assert!(source.contains("text/plain") && source.contains("text/html"), "{source}");
}

#[tokio::test]
async fn smtp_with_url_encoded_credentials_authenticates_without_starttls() {
    let maildev = MailDev::start_with_auth("parley@parley.test", "p@ss:w/rd").await.unwrap();
    let url = maildev.smtp_url(Some("parley%40parley.test:p%40ss%3Aw%2Frd"));
    let mailer = Mailer::new(&url, "notifications@parley.test").unwrap();

    mailer.send(&render_digest(&digest(1, 1), &site()).unwrap()).await.unwrap();

    let received = maildev.wait_for_emails(1, WAIT).await;
    assert_eq!(received[0].subject, "1 unread message from Bloom Cosmetics");
}

#[tokio::test]
async fn a_wrong_password_is_a_permanent_error() {
    let maildev = MailDev::start_with_auth("parley", "right").await.unwrap();
    let mailer = Mailer::new(&maildev.smtp_url(Some("parley:wrong")), "notifications@parley.test").unwrap();

    let error = mailer.send(&render_digest(&digest(1, 1), &site()).unwrap()).await.unwrap_err();

    assert!(!error.is_transient(), "{error}");
    assert!(maildev.emails().await.is_empty());
}

#[tokio::test]
async fn a_server_that_is_not_there_is_a_transient_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mailer = Mailer::new(&format!("smtp+plain://127.0.0.1:{port}"), "notifications@parley.test").unwrap();
    let error = mailer.send(&render_digest(&digest(1, 1), &site()).unwrap()).await.unwrap_err();
    assert!(error.is_transient(), "{error}");
}
