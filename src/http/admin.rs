//! `/api/admin/...`: what administrators see and do.

use axum::{
    Json,
    extract::{Path, State},
};
use serde_json::{Value, json};

use super::extract::{Admin, ApiQuery};
use crate::{
    app::{
        AppState,
        webhooks::{self, DeliveriesQuery},
    },
    error::AppResult,
};

#[utoipa::path(
    get,
    path = "/api/admin/webhooks/deliveries",
    tag = "admin",
    summary = "Outgoing webhook deliveries (admins)",
    params(crate::describe::openapi::PageQuery),
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn webhook_deliveries(
    State(app): State<AppState>,
    Admin(admin): Admin,
    ApiQuery(q): ApiQuery<DeliveriesQuery>,
) -> AppResult<Json<Value>> {
    let listed = webhooks::deliveries(&app, &admin, q).await?;
    Ok(Json(json!({ "success": true, "deliveries": listed.items, "pagination": listed.pagination })))
}

#[utoipa::path(
    post,
    path = "/api/admin/webhooks/deliveries/{id}/replay",
    tag = "admin",
    summary = "Delivers a webhook again (admins)",
    params(("id" = String, Path, description = "the id")),
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn replay_delivery(
    State(app): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let delivery = webhooks::replay(&app, &admin, &id).await?;
    Ok(Json(json!({ "success": true, "delivery": delivery })))
}
