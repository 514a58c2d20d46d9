//! Push (contract section 12) against local stand-ins of FCM (OAuth2
//! token endpoint and HTTP v1 send) and APNs (HTTP/2, ES256 provider
//! tokens): devices, the payload and badge, gone tokens, retries, and
//! nothing for connected users or who turned push off.

use std::time::{Duration, Instant};

use parley::config::{ApnsSettings, FcmSettings, Secret, Settings};
use parley_standins::{Fault, apns::ApnsStandIn, fcm::FcmStandIn};
use serde_json::{Value, json};

use crate::{
    reach_email::{person, wait_metric},
    support::*,
};

const WAIT: Duration = Duration::from_secs(20);
const APNS_DEVICE: &str = "3f1c5a0e9b7d2c4f6a8e0b1d3c5f7a9e2b4d6f8a0c1e3b5d7f9a2c4e6b8d0f1a";

fn with_push(fcm: &FcmStandIn, apns: &ApnsStandIn) -> impl FnOnce(&mut Settings) + use<> {
    let fcm =
        FcmSettings { service_account: Secret::new(fcm.account().json()), project_id: None, api_base: fcm.api_base() };
    let apns = ApnsSettings {
        key_p8: Secret::new(apns.key().p8_pem.clone()),
        key_id: apns.key().key_id.clone(),
        team_id: apns.key().team_id.clone(),
        topic: apns.topic().into(),
        api_base: apns.api_base(),
    };
    move |s| {
        s.reach.fcm = Some(fcm);
        s.reach.apns = Some(apns);
        s.reach.push_backoff_first = Duration::from_millis(10);
    }
}

async fn register(app: &TestApp, token: &str, platform: &str, device: &str) -> Value {
    let (status, body) = app.post("/api/devices", token, json!({ "platform": platform, "token": device })).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn send(app: &TestApp, token: &str, conversation: &str, text: &str) {
    let (status, body) =
        app.post("/api/messages/send", token, json!({ "conversation_id": conversation, "message": text })).await;
    assert_eq!(status, 201, "{body}");
}

async fn wait_offline(app: &TestApp, user: &str) {
    let deadline = Instant::now() + WAIT;
    while app.state.presence.is_online(user).await {
        assert!(Instant::now() < deadline, "{user} still online");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn an_offline_users_devices_get_the_notification_with_the_unread_total_as_badge() {
    let (fcm, apns) = (FcmStandIn::start().await, ApnsStandIn::start().await);
    let app = spawn_with(with_push(&fcm, &apns)).await;
    let p = pair(&app).await;
    register(&app, &p.b_token, "fcm", "fcm-device-b").await;
    register(&app, &p.b_token, "apns", APNS_DEVICE).await;
    // Registering again changes nothing.
    register(&app, &p.b_token, "fcm", "fcm-device-b").await;

    let sent = Instant::now();
    send(&app, &p.a_token, &p.conversation, "Draft looks great").await;
    fcm.send_arrivals().wait_for(1, WAIT).await;
    apns.arrivals().wait_for(1, WAIT).await;
    eprintln!("push arrived {} ms after the message was stored", sent.elapsed().as_millis());

    assert_eq!(fcm.refusals(), Vec::<String>::new());
    assert_eq!(apns.refusals(), Vec::<String>::new());
    let f = &fcm.sends()[0].body["message"];
    assert_eq!(f["token"], "fcm-device-b");
    assert_eq!(f["notification"]["title"], format!("New message from {} name", p.a));
    assert_eq!(f["notification"]["body"], "Draft looks great");
    assert_eq!(f["data"]["type"], "new_message");
    assert_eq!(f["data"]["conversation_id"], p.conversation.as_str());
    assert_eq!(f["apns"]["payload"]["aps"]["badge"], 1);
    let a = &apns.sends()[0];
    assert_eq!(a.device_token, APNS_DEVICE);
    assert_eq!(a.topic, "com.parley.test");
    assert_eq!(a.body["aps"]["alert"]["body"], "Draft looks great");
    assert_eq!(a.body["aps"]["badge"], 1);
    assert_eq!(a.body["type"], "new_message");
    assert_eq!(a.body["conversation_id"], p.conversation.as_str());

    // Connected: the socket gets the notification, no device is pushed.
    let b = app.socket(&p.b_token).await;
    send(&app, &p.a_token, &p.conversation, "while you are here").await;
    b.wait_for("notification").await.unwrap();
    b.disconnect();
    wait_offline(&app, &p.b).await;

    send(&app, &p.a_token, &p.conversation, "and once more").await;
    fcm.send_arrivals().wait_for(2, WAIT).await;
    apns.arrivals().wait_for(2, WAIT).await;
    let sends = fcm.sends();
    assert_eq!(sends.len(), 2, "nothing while connected");
    assert_eq!(sends[1].body["message"]["notification"]["body"], "and once more");
    assert_eq!(sends[1].body["message"]["apns"]["payload"]["aps"]["badge"], 3, "three unread messages");
    // One access token serves every send.
    assert_eq!(fcm.token_grants(), 1);
}

#[tokio::test]
async fn gone_tokens_are_deleted_and_busy_services_retried() {
    let (fcm, apns) = (FcmStandIn::start().await, ApnsStandIn::start().await);
    let app = spawn_with(with_push(&fcm, &apns)).await;
    let p = pair(&app).await;
    register(&app, &p.b_token, "fcm", "fcm-live").await;
    register(&app, &p.b_token, "fcm", "fcm-dead").await;
    register(&app, &p.b_token, "apns", APNS_DEVICE).await;
    fcm.faults().fail_token("fcm-dead", Fault::Gone);
    fcm.faults().fail_next(1, Fault::ServerError);
    apns.faults().fail_next(1, Fault::TooManyRequests { retry_after_secs: None });

    send(&app, &p.a_token, &p.conversation, "hello").await;
    // Dead once; live 500 then 200 (or the 500 fell on the dead one's turn first).
    fcm.send_arrivals().wait_for(3, WAIT).await;
    apns.arrivals().wait_for(2, WAIT).await;
    let statuses: Vec<u16> = apns.sends().iter().map(|s| s.status).collect();
    assert_eq!(statuses, vec![429, 200]);
    let live: Vec<u16> = fcm.sends().iter().filter(|s| s.device_token() == "fcm-live").map(|s| s.status).collect();
    assert_eq!(live.last(), Some(&200), "{live:?}");

    let deadline = Instant::now() + WAIT;
    loop {
        let (_, body) = app.get("/api/devices", &p.b_token).await;
        let tokens: Vec<&str> =
            body["devices"].as_array().unwrap().iter().map(|d| d["token"].as_str().unwrap()).collect();
        if !tokens.contains(&"fcm-dead") {
            assert_eq!(tokens.len(), 2, "{tokens:?}");
            break;
        }
        assert!(Instant::now() < deadline, "the gone token was not deleted");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    wait_metric(&app, "parley_offline_notifications_total{provider=\"fcm\",result=\"gone\"} 1").await;
    wait_metric(&app, "parley_offline_notifications_total{provider=\"apns\",result=\"sent\"} 1").await;
}

#[tokio::test]
async fn nothing_is_pushed_to_who_turned_push_off() {
    let (fcm, apns) = (FcmStandIn::start().await, ApnsStandIn::start().await);
    let app = spawn_with(with_push(&fcm, &apns)).await;
    let (_, a_token) = person(&app, "brand", "brand_owner", None).await;
    let (quiet, quiet_token) = person(&app, "quiet", "influencer", None).await;
    let (loud, loud_token) = person(&app, "loud", "influencer", None).await;
    register(&app, &quiet_token, "fcm", "fcm-quiet").await;
    register(&app, &loud_token, "fcm", "fcm-loud").await;
    let (status, _) = app.put("/api/me/preferences", &quiet_token, json!({"push_notifications": false})).await;
    assert_eq!(status, 200);
    let to_quiet = app.direct(&a_token, &quiet).await;
    let to_loud = app.direct(&a_token, &loud).await;
    send(&app, &a_token, &to_quiet, "psst").await;
    send(&app, &a_token, &to_loud, "HELLO").await;
    fcm.send_arrivals().wait_for(1, WAIT).await;
    let tokens: Vec<String> = fcm.sends().iter().map(|s| s.device_token().to_string()).collect();
    assert_eq!(tokens, vec!["fcm-loud"]);
}

#[tokio::test]
async fn devices_register_idempotently_at_most_25_the_oldest_dropped() {
    let app = spawn().await;
    let p = pair(&app).await;
    for i in 0..27 {
        register(&app, &p.a_token, "fcm", &format!("device-{i:02}")).await;
        app.state.clock.advance(Duration::from_millis(5));
    }
    // Registering device-00 again would have kept it; it was dropped with device-01.
    let (_, body) = app.get("/api/devices", &p.a_token).await;
    let tokens: Vec<&str> = body["devices"].as_array().unwrap().iter().map(|d| d["token"].as_str().unwrap()).collect();
    assert_eq!(tokens.len(), 25);
    assert!(!tokens.contains(&"device-00") && !tokens.contains(&"device-01"), "{tokens:?}");
    assert!(tokens.contains(&"device-26"));

    // Another user cannot remove it; its owner can.
    let (status, body) = app.delete("/api/devices/device-26", &p.b_token).await;
    assert_eq!((status.as_u16(), body["removed"].clone()), (200, json!(false)));
    let (status, body) = app.delete("/api/devices/device-26", &p.a_token).await;
    assert_eq!((status.as_u16(), body["removed"].clone()), (200, json!(true)));
    let (_, body) = app.get("/api/devices", &p.a_token).await;
    assert_eq!(body["devices"].as_array().unwrap().len(), 24);

    for bad in [json!({"platform": "sms", "token": "x"}), json!({"platform": "apns", "token": "not-hex"})] {
        let (status, body) = app.post("/api/devices", &p.a_token, bad).await;
        assert_eq!(status, 400, "{body}");
    }
    let (status, _) = app.post("/api/devices", "bad-token", json!({"platform": "fcm", "token": "x"})).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn production_refuses_a_malformed_service_account_or_p8_key_naming_the_variable() {
    let base = [
        ("APP_ENV", "production"),
        ("JWT_SECRET", "s"),
        ("RAZORPAY_KEY_ID", "k"),
        ("RAZORPAY_KEY_SECRET", "s"),
        ("RAZORPAY_WEBHOOK_SECRET", "w"),
    ];
    let cases = [
        (vec![("FCM_SERVICE_ACCOUNT_JSON", "{not json")], "FCM_SERVICE_ACCOUNT_JSON"),
        (
            vec![
                ("APNS_KEY_P8", "-----BEGIN PRIVATE KEY-----\\nbm9wZQ==\\n-----END PRIVATE KEY-----"),
                ("APNS_KEY_ID", "K"),
                ("APNS_TEAM_ID", "T"),
                ("APNS_TOPIC", "com.example"),
            ],
            "APNS_KEY_P8",
        ),
    ];
    for (extra, variable) in cases {
        let vars: std::collections::HashMap<&str, &str> = base.iter().copied().chain(extra).collect();
        let settings = Settings::from_map(&vars).unwrap();
        let error = parley::app::reach::Reach::from_settings(&settings).err().expect("refused").to_string();
        assert!(error.starts_with(variable), "{error}");
        assert!(!error.contains("bm9wZQ"), "no key material in the message: {error}");
    }
}
