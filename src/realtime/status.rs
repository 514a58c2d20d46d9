//! `user_status`: online, away, busy or offline, told to the user's contacts.

use serde::Deserialize;
use serde_json::{Value, json};
use socketioxide::{
    adapter::Adapter,
    extract::{Extension, State, TryData},
};

use super::{
    connect::status_change,
    reply::{Reply, finish, payload},
};
use crate::{
    domain::{presence::STATUSES, users::Identity},
    error::{AppError, AppResult},
    state::AppState,
};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StatusPayload {
    #[serde(alias = "user_id")]
    user_id: Option<Value>,
    status: String,
}

pub async fn user_status<A: Adapter>(
    State(app): State<AppState>,
    Extension(who): Extension<Identity>,
    reply: Reply<A>,
    TryData(data): TryData<Value>,
) {
    let result: AppResult<_> = async {
        let p: StatusPayload = payload(data)?;
        who.must_be_self(&[p.user_id.as_ref()])?;
        let status = p.status.trim();
        if !STATUSES.contains(&status) {
            return Err(AppError::invalid_field("status", "must be online, away, busy or offline"));
        }
        app.presence.set_status(&who.user_id, status).await;
        Ok((json!({}), status_change(&app, &who.user_id, status).await))
    }
    .await;
    finish(&app, reply, "user_status", result, None).await;
}
