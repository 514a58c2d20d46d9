//! Connection life cycle: the token decides who the socket is, before the
//! socket joins anything; presence and `user_offline` on the way out.

use serde_json::Value;
use socketioxide::{
    adapter::Adapter,
    extract::{SocketRef, State, TryData},
};

use super::{accept, legacy};
use crate::{
    app::{self, AppState, session::Refusal},
    auth::bearer_token,
    domain::users::Identity,
};

/// Connect middleware: `auth.token`, else the `Authorization` header, else
/// the `token` query parameter. Refusal reaches the client as `connect_error`.
/// With `LEGACY_AUTH_EVENT`, a socket without any token is kept for the
/// older protocol's `authenticate` event instead.
pub async fn authenticate<A: Adapter>(
    s: SocketRef<A>,
    State(app): State<AppState>,
    TryData(auth): TryData<Value>,
) -> Result<(), Refusal> {
    let from_auth = auth.ok().and_then(|a| a.get("token").and_then(Value::as_str).map(str::to_owned));
    let parts = s.req_parts();
    let token = from_auth
        .or_else(|| bearer_token(&parts.headers).map(str::to_owned))
        .or_else(|| query_token(parts.uri.query()));
    let peer = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
    if token.is_none() && app.settings.legacy_auth_event && !app.is_draining() {
        // Everything the socket needs is set up here, before the client
        // hears it is connected: an event sent right after `connect` must
        // already find its handler.
        super::register_events(&s);
        s.on_disconnect(on_disconnect::<A>);
        legacy::await_authentication(&app, &s);
        return Ok(());
    }
    let who = app::session::connection(&app, token.as_deref(), peer).await?;
    super::register_events(&s);
    s.on_disconnect(on_disconnect::<A>);
    accept(&app, &s, who).await;
    Ok(())
}

fn query_token(query: Option<&str>) -> Option<String> {
    query?
        .split('&')
        .find_map(|pair| pair.strip_prefix("token="))
        .map(|t| t.replace("%20", " "))
        .filter(|t| !t.is_empty())
}

/// The connect handler: all set-up happens in [`authenticate`], which runs
/// before the client is told it is connected.
pub async fn on_connect<A: Adapter>(_s: SocketRef<A>) {}

async fn on_disconnect<A: Adapter>(s: SocketRef<A>, State(app): State<AppState>) {
    let Some(who) = s.extensions.get::<Identity>() else { return };
    app::presence::disconnected(&app, &who, &s.id.to_string()).await;
}
