//! Offline email with several nodes: both nodes' schedulers see the same
//! due bursts in PostgreSQL, and each (user, conversation) is emailed by
//! exactly one of them.

use std::time::{Duration, Instant};

use parley_standins::maildev::MailDev;
use serde_json::json;

use crate::{
    procs::SECRET,
    tests::{cluster, post, token},
    tokens::{exp_in, sign, uid},
};

const DELAY_MS: &str = "1500";

#[tokio::test]
async fn two_nodes_send_each_offline_email_exactly_once() {
    let maildev = MailDev::start().await.unwrap();
    let smtp = maildev.smtp_plain_url();
    let c = cluster(
        2,
        &[
            ("SMTP_URL", smtp.as_str()),
            ("EMAIL_FROM", "Parley <notify@parley.test>"),
            ("EMAIL_DELAY_MS", DELAY_MS),
            ("APP_URL", "https://app.parley.test"),
            ("RATE_LIMIT_ENABLED", "false"),
        ],
    )
    .await;
    let sender = uid("brand");
    let sender_token = token(&sender, "brand_owner");
    let reader = |id: &str| {
        sign(
            json!({"id": id, "role": "influencer", "name": "Asha", "email": format!("{id}@parley.test"), "exp": exp_in(3600)}),
            SECRET,
        )
    };
    const CONVERSATIONS: usize = 6;
    let mut recipients = vec![];
    for i in 0..CONVERSATIONS {
        let user = uid("asha");
        let node = &c.nodes[i % 2];
        // The recipient presents a token once (its email claim is remembered), then goes away.
        let (status, _) =
            post(&c.http, node, "/api/messages/direct-connect", &reader(&user), json!({"target_user_id": sender}))
                .await;
        assert!(status == 200 || status == 201, "{status}");
        let (status, body) =
            post(&c.http, node, "/api/messages/direct-connect", &sender_token, json!({"target_user_id": user})).await;
        assert!(status == 200 || status == 201, "{body}");
        let conversation = body["conversation"]["id"].as_str().unwrap().to_string();
        for n in 0..2 {
            let (status, body) = post(
                &c.http,
                &c.nodes[(i + n) % 2],
                "/api/messages/send",
                &sender_token,
                json!({"conversation_id": conversation, "message": format!("message {n}")}),
            )
            .await;
            assert_eq!(status, 201, "{body}");
        }
        recipients.push(format!("{user}@parley.test"));
    }
    let stored = Instant::now();
    maildev.wait_for_emails(CONVERSATIONS, Duration::from_secs(30)).await;
    eprintln!(
        "{CONVERSATIONS} offline emails arrived {} ms after the last message (EMAIL_DELAY_MS={DELAY_MS})",
        stored.elapsed().as_millis()
    );

    // A later burst, emailed a delay later: any second email of the first
    // ones would have been sent long before it.
    let control = uid("late");
    post(&c.http, &c.nodes[1], "/api/messages/direct-connect", &reader(&control), json!({"target_user_id": sender}))
        .await;
    let (_, body) =
        post(&c.http, &c.nodes[0], "/api/messages/direct-connect", &sender_token, json!({"target_user_id": control}))
            .await;
    let conversation = body["conversation"]["id"].as_str().unwrap().to_string();
    let (status, _) = post(
        &c.http,
        &c.nodes[0],
        "/api/messages/send",
        &sender_token,
        json!({"conversation_id": conversation, "message": "late"}),
    )
    .await;
    assert_eq!(status, 201);
    let emails = maildev.wait_for_emails(CONVERSATIONS + 1, Duration::from_secs(30)).await;
    let mut to: Vec<String> = emails.iter().map(|e| e.to[0].address.clone()).collect();
    assert_eq!(to.pop().as_deref(), Some(format!("{control}@parley.test").as_str()), "the control email comes last");
    to.sort();
    recipients.sort();
    assert_eq!(to, recipients, "one email per conversation, none twice");
    for email in &emails[..CONVERSATIONS] {
        assert_eq!(email.subject, format!("2 unread messages from {sender} name"));
    }
}
