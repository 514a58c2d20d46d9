//! Typing indicators with a server-side expiry: a `typing_start` not followed
//! by `typing_stop` ends by itself after the configured timeout (8 s).

use std::sync::atomic::{AtomicU64, Ordering};

use dashmap::DashMap;
use serde_json::json;
use uuid::Uuid;

use super::events::{Outbound, conversation_room, user_room};

#[derive(Default)]
pub struct Typing {
    /// (conversation, user) → generation of the current typing run.
    active: DashMap<(Uuid, String), u64>,
    next: AtomicU64,
}

/// What a `typing_start` asks of the caller.
pub struct Started {
    /// The event to publish, when the user was not typing already.
    pub event: Option<Outbound>,
    /// Pass to [`Typing::expire`] once the timeout has passed.
    pub generation: u64,
}

impl Typing {
    pub fn start(&self, conv: Uuid, user_id: &str) -> Started {
        let generation = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let previous = self.active.insert((conv, user_id.to_string()), generation);
        Started { event: previous.is_none().then(|| typing_event(conv, user_id, true)), generation }
    }

    /// Ends typing; returns the event when the user was typing.
    pub fn stop(&self, conv: Uuid, user_id: &str) -> Option<Outbound> {
        self.active.remove(&(conv, user_id.to_string())).map(|_| typing_event(conv, user_id, false))
    }

    /// Ends typing that was not renewed or stopped since `generation` began.
    pub fn expire(&self, conv: Uuid, user_id: &str, generation: u64) -> Option<Outbound> {
        self.active
            .remove_if(&(conv, user_id.to_string()), |_, g| *g == generation)
            .map(|_| typing_event(conv, user_id, false))
    }
}

/// `user_typing` to the conversation, except the typist's own sockets.
fn typing_event(conv: Uuid, user_id: &str, is_typing: bool) -> Outbound {
    Outbound::new(
        "user_typing",
        vec![conversation_room(conv)],
        json!({ "conversationId": conv, "userId": user_id, "isTyping": is_typing }),
    )
    .except(user_room(user_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_renew_expire_and_stop() {
        let t = Typing::default();
        let conv = Uuid::now_v7();
        let first = t.start(conv, "u");
        assert!(first.event.is_some());
        let renewed = t.start(conv, "u");
        assert!(renewed.event.is_none(), "renewing does not repeat the event");
        assert!(t.expire(conv, "u", first.generation).is_none(), "a renewed run does not expire early");
        let mut ended = t.expire(conv, "u", renewed.generation).unwrap();
        assert_eq!(ended.data.tree_mut()["isTyping"], false);
        assert!(t.stop(conv, "u").is_none());
        t.start(conv, "u");
        assert_eq!(t.stop(conv, "u").unwrap().except, vec!["user_u".to_string()]);
    }
}
