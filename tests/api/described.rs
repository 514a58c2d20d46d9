//! The machine-readable descriptions (OpenAPI, AsyncAPI) against the running
//! server, and a fuzzer of socket payloads for every documented event.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn the_documents_are_served_and_name_every_socket_event_the_server_takes() {
    let app = spawn().await;
    let openapi: Value = reqwest::get(format!("{}/api/openapi.json", app.base)).await.unwrap().json().await.unwrap();
    assert_eq!(openapi["openapi"], "3.1.0");
    assert!(openapi["paths"]["/api/messages/send"]["post"].is_object());
    let asyncapi: Value = reqwest::get(format!("{}/api/asyncapi.json", app.base)).await.unwrap().json().await.unwrap();
    assert_eq!(asyncapi["asyncapi"], "3.0.0");
    let client_events: Vec<String> = asyncapi["operations"]
        .as_object()
        .unwrap()
        .values()
        .filter(|op| op["action"] == "send")
        .map(|op| {
            let channel = op["channel"]["$ref"].as_str().unwrap().trim_start_matches("#/channels/");
            asyncapi["channels"][channel]["address"].as_str().unwrap().to_string()
        })
        .collect();
    assert!(client_events.len() >= 15, "{client_events:?}");

    // Every documented event is handled: none is answered as unknown.
    let s = app.socket(&token(&uid("doc"), "influencer")).await;
    // `authenticate` with a bad token ends the socket (the older protocol's rule), so it is
    // tried last.
    let mut ordered: Vec<&String> = client_events.iter().filter(|e| *e != "authenticate").collect();
    ordered.extend(client_events.iter().filter(|e| *e == "authenticate"));
    let ack = s.ack("not_in_the_document", json!({})).await.unwrap();
    assert_eq!(ack["message"], "Unknown event");
    for event in ordered {
        let ack = s.ack_within(event, json!({}), Duration::from_secs(10)).await.unwrap();
        assert_ne!(ack["message"], "Unknown event", "{event} is documented but not handled: {ack}");
    }
}

/// A small deterministic generator (xorshift): the same payloads every run,
/// so a failure is reproducible from its seed.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn value(&mut self, depth: usize) -> Value {
        match self.pick(if depth > 40 { 7 } else { 10 }) {
            0 => Value::Null,
            1 => json!(self.next().is_multiple_of(2)),
            2 => json!(self.next() as i64),
            3 => json!(-1.5e300),
            4 => json!("x".repeat(self.pick(20_000))),
            5 => json!("\u{0}\u{202e}<script>"),
            6 => json!(uuid::Uuid::now_v7().to_string()),
            7 => Value::Array((0..self.pick(5)).map(|_| self.value(depth + 1)).collect()),
            8 => {
                let keys = ["conversationId", "message", "messageId", "userId", "status", "button_id", "text", "after"];
                let mut map = serde_json::Map::new();
                for _ in 0..self.pick(6) {
                    map.insert(keys[self.pick(keys.len())].to_string(), self.value(depth + 1));
                }
                Value::Object(map)
            }
            _ => {
                // Deep nesting.
                let mut v = json!(1);
                for _ in 0..self.pick(60) {
                    v = json!([v]);
                }
                v
            }
        }
    }
}

#[tokio::test]
async fn fuzzed_payloads_for_every_event_get_the_envelope_keep_the_socket_and_store_nothing() {
    let app = spawn_with(|s| s.rate_limits.enabled = false).await;
    let p = pair(&app).await;
    let asyncapi: Value = reqwest::get(format!("{}/api/asyncapi.json", app.base)).await.unwrap().json().await.unwrap();
    let events: Vec<String> = asyncapi["channels"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(key, _)| !key.starts_with("server_"))
        .map(|(_, c)| c["address"].as_str().unwrap().to_string())
        .filter(|e| e != "authenticate")
        .collect();
    let s = app.socket(&p.a_token).await;
    let mut generator = Gen(0x5eed_1234_abcd_9876);
    for round in 0..12 {
        for event in &events {
            let payload = generator.value(0);
            let ack = s
                .ack_within(event, payload.clone(), Duration::from_secs(10))
                .await
                .unwrap_or_else(|e| panic!("round {round}: {event} {payload:.200} got no ack: {e}"));
            if ack["success"] != true {
                assert_eq!(ack["success"], false, "{event}: {ack}");
                assert!(ack["error_code"].is_string(), "{event}: {ack}");
                assert!(ack["message"].is_string(), "{event}: {ack}");
                assert!(ack["details"].is_object(), "{event}: details must be an object: {ack}");
                assert_ne!(ack["error_code"], "INTERNAL", "{event} {payload:.300}: {ack}");
            }
            assert!(!s.is_closed(), "round {round}: {event} closed the socket");
        }
    }
    let (_, history) = app.get(&format!("/api/messages/conversations/{}/messages", p.conversation), &p.a_token).await;
    assert_eq!(history["messages"].as_array().unwrap().len(), 0, "a fuzzed payload stored a message");
}
