//! Campaigns, bids, applications, and opening their flow conversations.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::{ApiJson, ApiQuery, Caller};
use crate::{
    domain::{
        collaborations::{self, NewBid, NewCampaign, Source},
        events,
        flow::opening,
        pagination::Page,
    },
    error::{AppError, AppResult},
    state::AppState,
};

type Created = (StatusCode, Json<Value>);

fn created_or_ok(created: bool, body: Value) -> Created {
    (if created { StatusCode::CREATED } else { StatusCode::OK }, Json(body))
}

#[derive(Deserialize)]
pub struct CampaignBody {
    title: Option<String>,
    description: Option<String>,
    requirements: Option<String>,
    budget: Option<Value>,
}

pub async fn create_campaign(
    State(app): State<AppState>,
    Caller(who): Caller,
    ApiJson(b): ApiJson<CampaignBody>,
) -> AppResult<Created> {
    let input =
        NewCampaign { title: b.title, description: b.description, requirements: b.requirements, budget: b.budget };
    let c = collaborations::create_campaign(&app.db, &who, input).await?;
    Ok(created_or_ok(true, json!({ "success": true, "campaign": collaborations::campaign_json(&c) })))
}

#[derive(Deserialize)]
pub struct BidBody {
    title: Option<String>,
    description: Option<String>,
    requirements: Option<String>,
    min_budget: Option<Value>,
    max_budget: Option<Value>,
}

pub async fn create_bid(
    State(app): State<AppState>,
    Caller(who): Caller,
    ApiJson(b): ApiJson<BidBody>,
) -> AppResult<Created> {
    let input = NewBid {
        title: b.title,
        description: b.description,
        requirements: b.requirements,
        min_budget: b.min_budget,
        max_budget: b.max_budget,
    };
    let bid = collaborations::create_bid(&app.db, &who, input).await?;
    Ok(created_or_ok(true, json!({ "success": true, "bid": collaborations::bid_json(&bid) })))
}

pub async fn get_campaign(
    State(app): State<AppState>,
    Caller(_): Caller,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let found = collaborations::published(&app.db, Source::parse("campaign", &id)?).await?;
    Ok(Json(json!({ "success": true, "campaign": found.json })))
}

pub async fn get_bid(State(app): State<AppState>, Caller(_): Caller, Path(id): Path<String>) -> AppResult<Json<Value>> {
    let found = collaborations::published(&app.db, Source::parse("bid", &id)?).await?;
    Ok(Json(json!({ "success": true, "bid": found.json })))
}

#[derive(Deserialize)]
pub struct ListQuery {
    page: Option<String>,
    limit: Option<String>,
    mine: Option<String>,
}

async fn list(
    app: &AppState,
    who: &crate::domain::users::Identity,
    kind: &str,
    q: ListQuery,
) -> AppResult<Json<Value>> {
    let page = Page::parse(q.page.as_deref(), q.limit.as_deref(), 10)?;
    let mine = matches!(q.mine.as_deref(), Some("true" | "1" | "yes"));
    let (items, total) = collaborations::list(&app.db, who, kind, mine, page).await?;
    let key = if kind == "bid" { "bids" } else { "campaigns" };
    Ok(Json(json!({ "success": true, key: items, "pagination": page.json(total) })))
}

/// `GET /api/campaigns?page&limit&mine=true`: newest first; `mine` for the caller's own.
pub async fn list_campaigns(
    State(app): State<AppState>,
    Caller(who): Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<Value>> {
    list(&app, &who, "campaign", q).await
}

pub async fn list_bids(
    State(app): State<AppState>,
    Caller(who): Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<Value>> {
    list(&app, &who, "bid", q).await
}

#[derive(Deserialize)]
pub struct RequestBody {
    campaign_id: Option<String>,
    bid_id: Option<String>,
    proposed_amount: Option<Value>,
    message: Option<String>,
}

/// `POST /api/requests`: 201 for a new application, 200 with the existing one on repeat.
pub async fn apply(
    State(app): State<AppState>,
    Caller(who): Caller,
    ApiJson(b): ApiJson<RequestBody>,
) -> AppResult<Created> {
    let source = match (b.campaign_id.as_deref(), b.bid_id.as_deref()) {
        (Some(c), None) => Source::parse("campaign", c)?,
        (None, Some(b)) => Source::parse("bid", b)?,
        _ => {
            return Err(AppError::validation(
                "Give exactly one of campaign_id and bid_id",
                json!({ "campaign_id": "exactly one of campaign_id and bid_id", "bid_id": "exactly one of campaign_id and bid_id" }),
            ));
        }
    };
    let out = collaborations::apply(&app.db, &who, source, b.proposed_amount.as_ref(), b.message.as_deref()).await?;
    app.emitter.publish(out.events).await;
    Ok(created_or_ok(out.created, json!({ "success": true, "request": collaborations::request_json(&out.request) })))
}

#[derive(Deserialize)]
pub struct PageQuery {
    page: Option<String>,
    limit: Option<String>,
}

async fn list_requests(
    app: &AppState,
    who: &crate::domain::users::Identity,
    source: Source,
    q: PageQuery,
) -> AppResult<Json<Value>> {
    let page = Page::parse(q.page.as_deref(), q.limit.as_deref(), 10)?;
    let (items, total) = collaborations::requests(&app.db, who, source, page).await?;
    Ok(Json(json!({ "success": true, "requests": items, "pagination": page.json(total) })))
}

pub async fn campaign_requests(
    State(app): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> AppResult<Json<Value>> {
    list_requests(&app, &who, Source::parse("campaign", &id)?, q).await
}

pub async fn bid_requests(
    State(app): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> AppResult<Json<Value>> {
    list_requests(&app, &who, Source::parse("bid", &id)?, q).await
}

#[derive(Deserialize)]
pub struct InitBody {
    campaign_id: Option<String>,
    bid_id: Option<String>,
    influencer_id: Option<String>,
    proposed_amount: Option<Value>,
}

async fn initialize(
    app: &AppState,
    who: &crate::domain::users::Identity,
    source: Source,
    b: &InitBody,
) -> AppResult<Created> {
    let influencer =
        b.influencer_id.as_deref().ok_or_else(|| AppError::invalid_field("influencer_id", "is required"))?;
    let out = opening::initialize(&app.db, &app.flow, who, source, influencer, b.proposed_amount.as_ref()).await?;
    app.emitter.publish(out.events).await;
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

pub async fn initialize_campaign(
    State(app): State<AppState>,
    Caller(who): Caller,
    ApiJson(b): ApiJson<InitBody>,
) -> AppResult<Created> {
    let id = b.campaign_id.as_deref().ok_or_else(|| AppError::invalid_field("campaign_id", "is required"))?;
    initialize(&app, &who, Source::parse("campaign", id)?, &b).await
}

pub async fn initialize_bid(
    State(app): State<AppState>,
    Caller(who): Caller,
    ApiJson(b): ApiJson<InitBody>,
) -> AppResult<Created> {
    let id = b.bid_id.as_deref().ok_or_else(|| AppError::invalid_field("bid_id", "is required"))?;
    initialize(&app, &who, Source::parse("bid", id)?, &b).await
}
