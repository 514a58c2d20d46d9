//! A ban made through one node reaches the banned user's sockets on every
//! node: each gets `banned`, then is closed; new connections to any node
//! are refused with `banned`.

use serde_json::json;

use crate::tests::{WAIT, cluster, connect, direct, post, token};

#[tokio::test]
async fn a_ban_on_one_node_disconnects_the_users_sockets_on_the_other() {
    let c = cluster(2, &[]).await;
    let (a, _b, _conv) = direct(&c, "brand_owner", "influencer").await;
    let on_other = connect(&c.nodes[1], &token(&a, "brand_owner")).await;
    let on_same = connect(&c.nodes[0], &token(&a, "brand_owner")).await;
    let admin = token(&crate::tokens::uid("admin"), "admin");
    let (status, body) =
        post(&c.http, &c.nodes[0], &format!("/api/admin/users/{a}/ban"), &admin, json!({ "reason": "fraud" })).await;
    assert_eq!(status, 200, "{body}");
    for socket in [&on_other, &on_same] {
        let banned = socket.wait_for("banned").await.unwrap();
        assert_eq!(banned["reason"], "fraud");
        assert!(banned["until"].is_null());
        socket.wait_closed(WAIT).await.unwrap();
    }
    for node in &c.nodes {
        match parley_client::connect(&node.base, parley_client::Options::token(&token(&a, "brand_owner"))).await {
            Err(parley_client::Error::Refused(why)) => assert_eq!(why, "banned"),
            other => panic!("expected connect_error banned, got {:?}", other.map(|_| ())),
        }
    }
    let (status, body) =
        post(&c.http, &c.nodes[1], "/api/messages/direct-connect", &token(&a, "brand_owner"), json!({})).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error_code"], "USER_BANNED");
}
