//! The Socket.IO side: connect/auth, one file per event family, thin
//! handlers that call the domain and publish through the one emitter.

mod chat;
pub mod cluster;
pub mod connect;
pub mod emitter;
mod flow;
pub mod redis_driver;
pub mod reply;
mod rooms;
mod status;
mod typing;

use std::sync::Arc;

use socketioxide::{
    SocketIo,
    adapter::Adapter,
    extract::{Event, SocketRef},
    handler::{ConnectHandler, FromMessageParts, MessageHandler},
    socket::Socket,
};
use socketioxide_core::Value;
use socketioxide_core::adapter::DefinedAdapter;

/// An event the server does not know is answered, not dropped: a client
/// waiting on its acknowledgement would otherwise wait for its timeout.
fn unknown_event<A: Adapter>(s: Arc<Socket<A>>, mut v: Value, ack: Option<i64>, event: &str) {
    tracing::debug!(event = %event, "unknown event");
    let Ok(reply) = reply::Reply::from_message_parts(&s, &mut v, &ack);
    let name: String = event.chars().take(64).collect();
    let err = crate::error::AppError::validation(
        "Unknown event",
        serde_json::json!({ "event": format!("no event is named {name:?}") }),
    );
    reply.fail(&err, None);
}

/// Registers the default namespace: authentication first, then handlers.
pub fn namespace<A: Adapter + DefinedAdapter>(io: &SocketIo<A>) -> A::InitRes {
    io.ns("/", connect::on_connect::<A>.with(connect::authenticate::<A>))
}

fn register_events<A: Adapter>(s: &SocketRef<A>) {
    s.on_fallback(Events);
}

/// Every client event, dispatched by name from one handler. socketioxide
/// keeps a map of `on` handlers in each socket, so registering fifteen cost
/// every connection about 1.4 KiB; this one is a unit value. An event with no
/// handler here is ignored, as it would be with none registered.
struct Events;

impl<A: Adapter> MessageHandler<A, ()> for Events {
    fn call(&self, s: Arc<Socket<A>>, mut v: Value, ack: Option<i64>) {
        let Ok(Event(event)) = Event::from_message_parts(&s, &mut v, &ack) else { return };
        match event.as_str() {
            "join" => dispatch(rooms::join::<A>, s, v, ack),
            "join_conversation" => dispatch(rooms::join_conversation::<A>, s, v, ack),
            "leave_conversation" => dispatch(rooms::leave_conversation::<A>, s, v, ack),
            "send_message" => dispatch(chat::send_message::<A>, s, v, ack),
            "mark_seen" => dispatch(chat::mark_seen::<A>, s, v, ack),
            "sync_messages" => dispatch(chat::sync_messages::<A>, s, v, ack),
            "typing_start" => dispatch(typing::typing_start::<A>, s, v, ack),
            "typing_stop" => dispatch(typing::typing_stop::<A>, s, v, ack),
            "user_status" => dispatch(status::user_status::<A>, s, v, ack),
            "join_bid_room" | "leave_bid_room" | "join_campaign_room" | "leave_campaign_room" => {
                dispatch(rooms::follow::<A>, s, v, ack)
            }
            "button_action" => dispatch(flow::button_action::<A>, s, v, ack),
            "text_input" => dispatch(flow::text_input::<A>, s, v, ack),
            _ => unknown_event(s, v, ack, &event),
        }
    }
}

fn dispatch<A: Adapter, T, H: MessageHandler<A, T>>(handler: H, s: Arc<Socket<A>>, v: Value, ack: Option<i64>)
where
    T: Send + Sync + 'static,
{
    handler.call(s, v, ack);
}
