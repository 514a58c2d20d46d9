//! Offline email (contract section 12) against a real SMTP server
//! (MailDev, `npm ci --prefix tests/smtp`): after EMAIL_DELAY_MS one email
//! per (user, conversation) for a user who has had no socket since, once
//! per burst; nobody who read, connected, turned it off or has no address.

use std::time::{Duration, Instant};

use parley::{config::Secret, domain::users};
use parley_standins::maildev::MailDev;
use serde_json::{Value, json};

use crate::support::*;

pub const DELAY: Duration = Duration::from_secs(600);
const WAIT: Duration = Duration::from_secs(20);

pub fn with_email(maildev: &MailDev) -> impl FnOnce(&mut parley::config::Settings) + use<> {
    let url = maildev.smtp_plain_url();
    move |s| {
        s.reach.smtp_url = Some(Secret::new(url));
        s.reach.email_from = Some("Parley <notify@parley.test>".into());
        s.reach.email_delay = DELAY;
        s.reach.app_url = "https://app.parley.test".into();
    }
}

/// A token with an `email` claim, presented once so the server knows the address.
pub async fn person(app: &TestApp, prefix: &str, role: &str, email: Option<&str>) -> (String, String) {
    let id = uid(prefix);
    let mut claims = json!({ "id": id, "role": role, "name": format!("{prefix} person"), "exp": exp_in(3600) });
    if let Some(email) = email {
        claims["email"] = json!(email);
    }
    let token = sign(claims, SECRET);
    let (status, body) = app.get("/api/messages/unread-count", &token).await;
    assert_eq!(status, 200, "{body}");
    (id, token)
}

pub async fn say(app: &TestApp, token: &str, conversation: &str, text: &str) {
    let (status, body) =
        app.post("/api/messages/send", token, json!({ "conversation_id": conversation, "message": text })).await;
    assert_eq!(status, 201, "{body}");
}

/// Waits until no notification waits for an email any more (the scheduler
/// has handled every due burst, sent or not).
pub async fn schedule_drained(app: &TestApp) {
    let deadline = Instant::now() + WAIT;
    while parley::domain::reach::email::earliest(&app.state.db).await.unwrap().is_some() {
        assert!(Instant::now() < deadline, "the email schedule still waits after {WAIT:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits for a line of `/metrics` (the server counts just after the send returns).
pub async fn wait_metric(app: &TestApp, line: &str) {
    let deadline = Instant::now() + WAIT;
    loop {
        let metrics = app.http.get(format!("{}/metrics", app.base)).send().await.unwrap().text().await.unwrap();
        if metrics.lines().any(|l| l == line) {
            return;
        }
        assert!(Instant::now() < deadline, "no {line:?} in {metrics}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn header<'a>(email: &'a parley_standins::maildev::ReceivedEmail, name: &str) -> &'a str {
    email.header(name).unwrap_or_default()
}

#[tokio::test]
async fn an_offline_user_gets_one_email_listing_the_unread_messages_escaped_with_the_link() {
    let maildev = MailDev::start().await.unwrap();
    let app = spawn_with(with_email(&maildev)).await;
    let (_a, a_token) = person(&app, "brand", "brand_owner", Some("brand@parley.test")).await;
    let (b, b_token) = person(&app, "asha", "influencer", Some("asha@parley.test")).await;
    let _ = b_token;
    let conversation = app.direct(&a_token, &b).await;
    say(&app, &a_token, &conversation, "Hello Asha").await;
    say(&app, &a_token, &conversation, "<script>alert('x')</script> & <b>bold</b>").await;

    app.state.clock.advance(DELAY / 2);
    say(&app, &a_token, &conversation, "third, within the burst").await;
    app.state.clock.advance(DELAY / 2 + Duration::from_secs(1));
    let passed = Instant::now();
    let emails = maildev.wait_for_emails(1, WAIT).await;
    let arrived = passed.elapsed();
    eprintln!("offline email arrived {} ms after the clock passed EMAIL_DELAY_MS", arrived.as_millis());

    let got = &emails[0];
    assert_eq!(got.to[0].address, "asha@parley.test");
    assert_eq!(got.from[0].address, "notify@parley.test");
    assert_eq!(got.subject, "3 unread messages from brand person");
    let text = got.text.as_deref().unwrap();
    let html = got.html.as_deref().unwrap();
    let link = format!("https://app.parley.test/conversations/{conversation}");
    for part in [text, html] {
        assert!(part.contains(&link), "{part}");
        assert!(part.contains("Hello Asha") && part.contains("third, within the burst"), "{part}");
        assert!(part.contains("brand person"), "{part}");
    }
    assert!(text.contains("<script>alert('x')</script> & <b>bold</b>"), "{text}");
    assert!(!html.contains("<script") && !html.contains("<b>bold"), "{html}");
    assert!(html.contains("&#60;script&#62;") || html.contains("&lt;script&gt;"), "{html}");
    let unsubscribe = header(got, "List-Unsubscribe");
    assert!(unsubscribe.starts_with("<https://app.parley.test/unsubscribe?token="), "{unsubscribe}");
    assert_eq!(header(got, "List-Unsubscribe-Post"), "List-Unsubscribe=One-Click");

    // Once per burst: another delay brings nothing; a new message starts a new burst.
    app.state.clock.advance(DELAY + Duration::from_secs(1));
    schedule_drained(&app).await;
    say(&app, &a_token, &conversation, "are you there?").await;
    app.state.clock.advance(DELAY + Duration::from_secs(1));
    let emails = maildev.wait_for_emails(2, WAIT).await;
    assert_eq!(emails.len(), 2);
    assert_eq!(emails[1].subject, "4 unread messages from brand person");
    assert!(emails[1].text.as_deref().unwrap().contains("are you there?"));

    wait_metric(&app, "parley_offline_notifications_total{provider=\"smtp\",result=\"sent\"} 2").await;
    wait_metric(&app, "parley_email_delay_seconds_count 2").await;

    // The link's one-click POST turns email off.
    let url = unsubscribe.trim_matches(|c| c == '<' || c == '>').replace("https://app.parley.test", &app.base);
    let res = app.http.post(&url).body("List-Unsubscribe=One-Click").send().await.unwrap();
    assert_eq!(res.status(), 200);
    let (_, prefs) = app.get("/api/me/preferences", &b_token).await;
    assert_eq!(prefs["preferences"], json!({"email_notifications": false, "push_notifications": true}));
    let forged = app.http.post(format!("{}/unsubscribe?token=00.00", app.base)).send().await.unwrap();
    assert_eq!(forged.status(), 404);
}

#[tokio::test]
async fn no_email_for_who_read_connected_opted_out_or_has_no_address() {
    let maildev = MailDev::start().await.unwrap();
    let app = spawn_with(with_email(&maildev)).await;
    let (_a, a_token) = person(&app, "brand", "brand_owner", None).await;
    let (reader, reader_token) = person(&app, "reader", "influencer", Some("reader@parley.test")).await;
    let (visitor, visitor_token) = person(&app, "visitor", "influencer", Some("visitor@parley.test")).await;
    let (optout, optout_token) = person(&app, "optout", "influencer", Some("optout@parley.test")).await;
    let (nomail, _) = person(&app, "nomail", "influencer", None).await;
    let (offline, _) = person(&app, "offline", "influencer", Some("offline@parley.test")).await;
    let mut convs = vec![];
    for user in [&reader, &visitor, &optout, &nomail, &offline] {
        let c = app.direct(&a_token, user).await;
        say(&app, &a_token, &c, "news for you").await;
        convs.push(c);
    }
    // The reader reads the conversation before the delay.
    let res = app.post(&format!("/api/messages/conversations/{}/seen", convs[0]), &reader_token, json!({})).await;
    assert_eq!(res.0, 200, "{}", res.1);
    // The visitor connects and leaves again.
    let socket = app.socket(&visitor_token).await;
    socket.disconnect();
    let deadline = Instant::now() + WAIT;
    while users::find(&app.state.db, &visitor).await.unwrap().and_then(|u| u.last_seen_at).is_none() {
        assert!(Instant::now() < deadline, "the visitor's disconnect was not recorded");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (status, prefs) = app.put("/api/me/preferences", &optout_token, json!({"email_notifications": false})).await;
    assert_eq!(status, 200, "{prefs}");
    assert_eq!(prefs["email_notifications"], false);
    assert_eq!(prefs["push_notifications"], true);

    app.state.clock.advance(DELAY + Duration::from_secs(1));
    maildev.wait_for_emails(1, WAIT).await;
    schedule_drained(&app).await;
    let emails = maildev.emails().await;
    let to: Vec<&str> = emails.iter().map(|e| e.to[0].address.as_str()).collect();
    assert_eq!(to, vec!["offline@parley.test"]);
}

#[tokio::test]
async fn preferences_default_on_and_change_field_by_field() {
    let app = spawn().await;
    let p = pair(&app).await;
    let (status, body) = app.get("/api/me/preferences", &p.a_token).await;
    assert_eq!(status, 200);
    assert_eq!(body["preferences"], json!({"email_notifications": true, "push_notifications": true}));
    let (_, body) = app.put("/api/me/preferences", &p.a_token, json!({"push_notifications": false})).await;
    assert_eq!(body["preferences"], json!({"email_notifications": true, "push_notifications": false}));
    let (_, body) = app.put("/api/me/preferences", &p.a_token, json!({"email_notifications": false})).await;
    assert_eq!(body["preferences"], json!({"email_notifications": false, "push_notifications": false}));
    let (_, other) = app.get("/api/me/preferences", &p.b_token).await;
    assert_eq!(other["email_notifications"], true);
    let (status, bad) = app.put("/api/me/preferences", &p.a_token, json!({"push_notifications": "yes"})).await;
    assert_eq!(status, 400, "{bad}");
    let (status, _) = app.get("/api/me/preferences", "not-a-token").await;
    assert_eq!(status, 401);
    let _: Value = bad;
}

#[tokio::test]
async fn a_burst_waiting_before_a_restart_is_emailed_after_it() {
    let maildev = MailDev::start().await.unwrap();
    let (first, stop, running) = spawn_stoppable(with_email(&maildev)).await;
    let (_, a_token) = person(&first, "brand", "brand_owner", None).await;
    let (b, _) = person(&first, "asha", "influencer", Some("asha@parley.test")).await;
    let conversation = first.direct(&a_token, &b).await;
    say(&first, &a_token, &conversation, "before the restart").await;
    let database = first.state.settings.database_url.clone();
    stop.send(()).unwrap();
    running.await.unwrap();
    // The schedule is in the database: a new server finds the burst and sends it.
    let second = spawn_with(|s| {
        with_email(&maildev)(s);
        s.database_url = database;
    })
    .await;
    second.state.clock.advance(DELAY + Duration::from_secs(1));
    let emails = maildev.wait_for_emails(1, WAIT).await;
    assert_eq!(emails[0].to[0].address, "asha@parley.test");
    assert!(emails[0].text.as_deref().unwrap().contains("before the restart"));
    drop(first);
}
