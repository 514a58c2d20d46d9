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

use socketioxide::{SocketIo, adapter::Adapter, extract::SocketRef, handler::ConnectHandler};
use socketioxide_core::adapter::DefinedAdapter;

/// Registers the default namespace: authentication first, then handlers.
pub fn namespace<A: Adapter + DefinedAdapter>(io: &SocketIo<A>) -> A::InitRes {
    io.ns("/", connect::on_connect::<A>.with(connect::authenticate::<A>))
}

fn register_events<A: Adapter>(s: &SocketRef<A>) {
    s.on("join", rooms::join::<A>);
    s.on("join_conversation", rooms::join_conversation::<A>);
    s.on("leave_conversation", rooms::leave_conversation::<A>);
    s.on("send_message", chat::send_message::<A>);
    s.on("mark_seen", chat::mark_seen::<A>);
    s.on("sync_messages", chat::sync_messages::<A>);
    s.on("typing_start", typing::typing_start::<A>);
    s.on("typing_stop", typing::typing_stop::<A>);
    s.on("user_status", status::user_status::<A>);
    for event in ["join_bid_room", "leave_bid_room", "join_campaign_room", "leave_campaign_room"] {
        s.on(event, rooms::follow::<A>);
    }
    s.on("button_action", flow::button_action::<A>);
    s.on("text_input", flow::text_input::<A>);
}
