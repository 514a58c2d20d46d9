//! Campaigns, bids, applications, and opening their flow conversations.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use serde_json::{Value, json};

use super::extract::{ApiJson, ApiQuery, Caller};
use crate::{
    app::{
        AppState,
        collaborations::{self as ops, ApplyInput, BidInput, CampaignInput, InitializeInput, ListQuery, PageQuery},
    },
    domain::{collaborations, events, names::SourceKind},
    error::AppResult,
};

type Created = (StatusCode, Json<Value>);

fn created_or_ok(created: bool, body: Value) -> Created {
    (if created { StatusCode::CREATED } else { StatusCode::OK }, Json(body))
}

fn key(kind: SourceKind, plural: bool) -> &'static str {
    match (kind, plural) {
        (SourceKind::Campaign, false) => "campaign",
        (SourceKind::Campaign, true) => "campaigns",
        (SourceKind::Bid, false) => "bid",
        (SourceKind::Bid, true) => "bids",
    }
}

#[utoipa::path(
    post,
    path = "/api/campaigns",
    tag = "collaborations",
    summary = "Creates a campaign (brand owners)",
    request_body = serde_json::Value,
    responses((status = 201, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn create_campaign(
    State(app): State<AppState>,
    Caller(who): Caller,
    ApiJson(b): ApiJson<CampaignInput>,
) -> AppResult<Created> {
    let c = ops::create_campaign(&app, &who, b).await?;
    Ok(created_or_ok(true, json!({ "success": true, "campaign": collaborations::campaign_json(&c) })))
}

#[utoipa::path(
    post,
    path = "/api/bids",
    tag = "collaborations",
    summary = "Creates a bid (brand owners)",
    request_body = serde_json::Value,
    responses((status = 201, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn create_bid(
    State(app): State<AppState>,
    Caller(who): Caller,
    ApiJson(b): ApiJson<BidInput>,
) -> AppResult<Created> {
    let bid = ops::create_bid(&app, &who, b).await?;
    Ok(created_or_ok(true, json!({ "success": true, "bid": collaborations::bid_json(&bid) })))
}

async fn get(app: &AppState, kind: SourceKind, id: &str) -> AppResult<Json<Value>> {
    let found = ops::get(app, kind, id).await?;
    Ok(Json(json!({ "success": true, key(kind, false): found })))
}

#[utoipa::path(
    get,
    path = "/api/campaigns/{id}",
    tag = "collaborations",
    summary = "One campaign",
    params(("id" = String, Path, description = "the id")),
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn get_campaign(
    State(app): State<AppState>,
    Caller(_): Caller,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    get(&app, SourceKind::Campaign, &id).await
}

#[utoipa::path(
    get,
    path = "/api/bids/{id}",
    tag = "collaborations",
    summary = "One bid",
    params(("id" = String, Path, description = "the id")),
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn get_bid(State(app): State<AppState>, Caller(_): Caller, Path(id): Path<String>) -> AppResult<Json<Value>> {
    get(&app, SourceKind::Bid, &id).await
}

async fn list(
    app: &AppState,
    who: &crate::domain::users::Identity,
    kind: SourceKind,
    q: ListQuery,
) -> AppResult<Json<Value>> {
    let listed = ops::list(app, who, kind, q).await?;
    Ok(Json(json!({ "success": true, key(kind, true): listed.items, "pagination": listed.pagination })))
}

/// `GET /api/campaigns?page&limit&mine=true`: newest first; `mine` for the caller's own.
#[utoipa::path(
    get,
    path = "/api/campaigns",
    tag = "collaborations",
    summary = "Campaigns, newest first",
    params(crate::describe::openapi::MineQuery),
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn list_campaigns(
    State(app): State<AppState>,
    Caller(who): Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<Value>> {
    list(&app, &who, SourceKind::Campaign, q).await
}

#[utoipa::path(
    get,
    path = "/api/bids",
    tag = "collaborations",
    summary = "Bids, newest first",
    params(crate::describe::openapi::MineQuery),
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn list_bids(
    State(app): State<AppState>,
    Caller(who): Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<Value>> {
    list(&app, &who, SourceKind::Bid, q).await
}

/// `POST /api/requests`: 201 for a new application, 200 with the existing one on repeat.
#[utoipa::path(
    post,
    path = "/api/requests",
    tag = "collaborations",
    summary = "Applies to a campaign or bid (influencers)",
    request_body = serde_json::Value,
    responses((status = 201, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn apply(
    State(app): State<AppState>,
    Caller(who): Caller,
    ApiJson(b): ApiJson<ApplyInput>,
) -> AppResult<Created> {
    let out = ops::apply(&app, &who, b).await?;
    Ok(created_or_ok(out.created, json!({ "success": true, "request": collaborations::request_json(&out.request) })))
}

async fn requests(
    app: &AppState,
    who: &crate::domain::users::Identity,
    kind: SourceKind,
    id: &str,
    q: PageQuery,
) -> AppResult<Json<Value>> {
    let listed = ops::requests(app, who, kind, id, q).await?;
    Ok(Json(json!({ "success": true, "requests": listed.items, "pagination": listed.pagination })))
}

#[utoipa::path(
    get,
    path = "/api/campaigns/{id}/requests",
    tag = "collaborations",
    summary = "A campaign's applications (owner, admins)",
    params(("id" = String, Path, description = "the id"), crate::describe::openapi::PageQuery),
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn campaign_requests(
    State(app): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> AppResult<Json<Value>> {
    requests(&app, &who, SourceKind::Campaign, &id, q).await
}

#[utoipa::path(
    get,
    path = "/api/bids/{id}/requests",
    tag = "collaborations",
    summary = "A bid's applications (owner, admins)",
    params(("id" = String, Path, description = "the id"), crate::describe::openapi::PageQuery),
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn bid_requests(
    State(app): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> AppResult<Json<Value>> {
    requests(&app, &who, SourceKind::Bid, &id, q).await
}

async fn initialize(
    app: &AppState,
    who: &crate::domain::users::Identity,
    kind: SourceKind,
    b: InitializeInput,
) -> AppResult<Created> {
    let out = ops::initialize(app, who, kind, b).await?;
    let c = &out.conversation;
    Ok(created_or_ok(
        out.created,
        json!({
            "success": true,
            "conversation": events::conversation_json(c),
            "flow_state": c.flow_state,
            "awaiting_role": c.awaiting_role,
        }),
    ))
}

#[utoipa::path(
    post,
    path = "/api/campaigns/automated/initialize",
    tag = "collaborations",
    summary = "Opens the flow conversation of a campaign with an influencer",
    request_body = serde_json::Value,
    responses((status = 201, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn initialize_campaign(
    State(app): State<AppState>,
    Caller(who): Caller,
    ApiJson(b): ApiJson<InitializeInput>,
) -> AppResult<Created> {
    initialize(&app, &who, SourceKind::Campaign, b).await
}

#[utoipa::path(
    post,
    path = "/api/bids/automated/initialize",
    tag = "collaborations",
    summary = "Opens the flow conversation of a bid with an influencer",
    request_body = serde_json::Value,
    responses((status = 201, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn initialize_bid(
    State(app): State<AppState>,
    Caller(who): Caller,
    ApiJson(b): ApiJson<InitializeInput>,
) -> AppResult<Created> {
    initialize(&app, &who, SourceKind::Bid, b).await
}
