//! The Socket.IO side: connect/auth, one file per event family, thin
//! handlers that parse a payload, call one operation of [`crate::app`] and
//! answer. The older `chat:*` protocol is one more adapter beside them
//! ([`legacy`]).

mod chat;
pub mod connect;
pub mod emitter;
mod flow;
pub mod legacy;
mod moderation;
pub mod redis_driver;
pub mod reply;
mod rooms;
mod typing;

use std::sync::Arc;

use serde_json::Value;
use socketioxide::{
    SocketIo,
    adapter::Adapter,
    extract::{Event, SocketRef, State, TryData},
    handler::{ConnectHandler, FromMessageParts, MessageHandler},
    socket::Socket,
};
use socketioxide_core::Value as Frame;
use socketioxide_core::adapter::DefinedAdapter;

use crate::{
    app::{AppState, Connection},
    domain::users::Identity,
    error::{AppError, AppResult},
};
use reply::{Answer, Reply};

/// Registers the default namespace: authentication first, then handlers.
pub fn namespace<A: Adapter + DefinedAdapter>(io: &SocketIo<A>) -> A::InitRes {
    io.ns("/", connect::on_connect::<A>.with(connect::authenticate::<A>))
}

/// The operations' view of a socket.
pub struct SocketConn<A: Adapter>(pub SocketRef<A>);

impl<A: Adapter> Connection for SocketConn<A> {
    fn id(&self) -> String {
        self.0.id.to_string()
    }

    fn join(&self, room: String) {
        self.0.join(room);
    }

    fn leave(&self, room: String) {
        self.0.leave(room);
    }

    fn has_joined(&self, room: &str) -> bool {
        self.0.rooms().iter().any(|r| r == room)
    }

    fn push(&self, event: &'static str, data: &Value) {
        if let Err(e) = self.0.emit(event, data) {
            tracing::debug!(event, error = %e, "event to one socket not delivered");
        }
    }
}

/// The socket is `who`'s from now on.
pub async fn accept<A: Adapter>(app: &AppState, s: &SocketRef<A>, who: Identity) {
    s.extensions.insert(who.clone());
    crate::app::presence::connected(app, &who, &SocketConn(s.clone())).await;
}

/// One client event being handled: the server, the socket, and where the
/// answer goes.
pub struct Ctx<A: Adapter> {
    pub app: AppState,
    pub socket: SocketRef<A>,
    pub conn: SocketConn<A>,
}

impl<A: Adapter> Ctx<A> {
    /// The socket's user; a socket still waiting for `authenticate` has none.
    pub fn who(&self) -> AppResult<Identity> {
        self.socket.extensions.get::<Identity>().ok_or_else(AppError::unauthorized)
    }
}

/// An event's payload, or why it could not be read.
pub type Payload = Result<Value, String>;

/// Every client event, dispatched by name from one handler. socketioxide
/// keeps a map of `on` handlers in each socket, so registering each event
/// cost every connection about 1.4 KiB; this one is a unit value.
struct Events;

impl<A: Adapter> MessageHandler<A, ()> for Events {
    fn call(&self, s: Arc<Socket<A>>, mut v: Frame, ack: Option<i64>) {
        let Ok(Event(event)) = Event::from_message_parts(&s, &mut v, &ack) else { return };
        let Ok(State(app)) = State::<AppState>::from_message_parts(&s, &mut v, &ack) else { return };
        let Ok(reply) = Reply::from_message_parts(&s, &mut v, &ack);
        let Ok(TryData(data)) = TryData::<Value>::from_message_parts(&s, &mut v, &ack);
        let Ok(socket) = SocketRef::from_message_parts(&s, &mut v, &ack);
        let data = data.map_err(|e| e.to_string());
        let ctx = Ctx { app, conn: SocketConn(socket.clone()), socket };
        let started = std::time::Instant::now();
        tokio::spawn(async move {
            let client_message_id = reply::client_message_id(&event, &data);
            let answer = route(&ctx, &event, data).await;
            reply.answer(&ctx.app, &event, answer, client_message_id.as_deref());
            let name = crate::metrics::EventName { event: reply::metric_name(&event) };
            ctx.app.metrics.event_seconds.get_or_create(&name).observe(started.elapsed().as_secs_f64());
        });
    }
}

pub(crate) fn register_events<A: Adapter>(s: &SocketRef<A>) {
    s.on_fallback(Events);
}

async fn route<A: Adapter>(ctx: &Ctx<A>, event: &str, data: Payload) -> AppResult<Answer> {
    // The AsyncAPI document's list is the dispatcher's: an event it lacks is unknown.
    if !crate::describe::asyncapi::is_client_event(event) {
        return Err(unknown_event(event));
    }
    if event == "authenticate" {
        return legacy::authenticate(ctx, data).await;
    }
    if event.starts_with("chat:") {
        return legacy::route(ctx, event, data).await;
    }
    let who = ctx.who()?;
    match event {
        "join" => rooms::join(&who, data),
        "join_conversation" => rooms::join_conversation(ctx, &who, data).await,
        "leave_conversation" => rooms::leave_conversation(ctx, &who, data).await,
        "join_bid_room" | "leave_bid_room" | "join_campaign_room" | "leave_campaign_room" => {
            rooms::follow(ctx, &who, event, data).await
        }
        "send_message" => chat::send_message(ctx, &who, data).await,
        "mark_seen" => chat::mark_seen(ctx, &who, data).await,
        "sync_messages" => chat::sync_messages(ctx, &who, data).await,
        "edit_message" => chat::edit_message(ctx, &who, data).await,
        "delete_message" => chat::delete_message(ctx, &who, data).await,
        "add_reaction" | "remove_reaction" => chat::reaction(ctx, &who, event, data).await,
        "typing_start" | "typing_stop" => typing::typing(ctx, &who, event, data).await,
        "user_status" => typing::user_status(ctx, &who, data).await,
        "button_action" => flow::button_action(ctx, &who, data).await,
        "text_input" => flow::text_input(ctx, &who, data).await,
        "flag_message" => moderation::flag_message(ctx, &who, data).await,
        other => Err(unknown_event(other)),
    }
}

/// An event the server does not know is answered, not dropped: a client
/// waiting on its acknowledgement would otherwise wait for its timeout.
fn unknown_event(event: &str) -> AppError {
    tracing::debug!(event = %event, "unknown event");
    let name: String = event.chars().take(64).collect();
    AppError::validation("Unknown event", serde_json::json!({ "event": format!("no event is named {name:?}") }))
}
