//! Campaigns and bids, applications to them, and opening their flow
//! conversations.

use entity::{bid, campaign, conversation, request};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{AppState, Listed};
use crate::{
    domain::{
        collaborations::{self, NewBid, NewCampaign, Source},
        flow::opening,
        limits::Limit,
        names::SourceKind,
        pagination::Page,
        users::Identity,
    },
    error::{AppError, AppResult},
};

#[derive(Debug, Deserialize)]
pub struct CampaignInput {
    pub title: Option<String>,
    pub description: Option<String>,
    pub requirements: Option<String>,
    pub budget: Option<Value>,
}

pub async fn create_campaign(app: &AppState, who: &Identity, b: CampaignInput) -> AppResult<campaign::Model> {
    app.spend(Limit::Writes, who).await?;
    let input =
        NewCampaign { title: b.title, description: b.description, requirements: b.requirements, budget: b.budget };
    collaborations::create_campaign(&app.db, who, input, app.clock.now()).await
}

#[derive(Debug, Deserialize)]
pub struct BidInput {
    pub title: Option<String>,
    pub description: Option<String>,
    pub requirements: Option<String>,
    pub min_budget: Option<Value>,
    pub max_budget: Option<Value>,
}

pub async fn create_bid(app: &AppState, who: &Identity, b: BidInput) -> AppResult<bid::Model> {
    app.spend(Limit::Writes, who).await?;
    let input = NewBid {
        title: b.title,
        description: b.description,
        requirements: b.requirements,
        min_budget: b.min_budget,
        max_budget: b.max_budget,
    };
    collaborations::create_bid(&app.db, who, input, app.clock.now()).await
}

/// A campaign or bid, as `{...}`.
pub async fn get(app: &AppState, kind: SourceKind, id: &str) -> AppResult<Value> {
    Ok(collaborations::published(&app.db, Source::parse(kind, id)?).await?.json)
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    pub page: Option<String>,
    pub limit: Option<String>,
    pub mine: Option<String>,
}

/// Published campaigns or bids, newest first; `mine=true` for the caller's own.
pub async fn list(app: &AppState, who: &Identity, kind: SourceKind, q: ListQuery) -> AppResult<Listed> {
    let page = Page::parse(q.page.as_deref(), q.limit.as_deref(), 10)?;
    let mine = matches!(q.mine.as_deref(), Some("true" | "1" | "yes"));
    let (items, total) = collaborations::list(&app.db, who, kind, mine, page).await?;
    Ok(Listed { items, pagination: page.json(total) })
}

#[derive(Debug, Deserialize)]
pub struct ApplyInput {
    pub campaign_id: Option<String>,
    pub bid_id: Option<String>,
    pub proposed_amount: Option<Value>,
    pub message: Option<String>,
}

pub struct Applied {
    pub request: request::Model,
    pub created: bool,
}

/// An influencer applies to a campaign or bid; applying twice returns the
/// first application.
pub async fn apply(app: &AppState, who: &Identity, b: ApplyInput) -> AppResult<Applied> {
    app.spend(Limit::Writes, who).await?;
    let source = one_source(b.campaign_id.as_deref(), b.bid_id.as_deref())?;
    let out =
        collaborations::apply(&app.db, who, source, b.proposed_amount.as_ref(), b.message.as_deref(), app.clock.now())
            .await?;
    app.emitter.publish(out.events).await;
    Ok(Applied { request: out.request, created: out.created })
}

fn one_source(campaign_id: Option<&str>, bid_id: Option<&str>) -> AppResult<Source> {
    match (campaign_id, bid_id) {
        (Some(c), None) => Source::parse(SourceKind::Campaign, c),
        (None, Some(b)) => Source::parse(SourceKind::Bid, b),
        _ => Err(AppError::validation(
            "Give exactly one of campaign_id and bid_id",
            json!({ "campaign_id": "exactly one of campaign_id and bid_id", "bid_id": "exactly one of campaign_id and bid_id" }),
        )),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    pub page: Option<String>,
    pub limit: Option<String>,
}

/// Applications to a campaign or bid, for its owner and admins.
pub async fn requests(app: &AppState, who: &Identity, kind: SourceKind, id: &str, q: PageQuery) -> AppResult<Listed> {
    let page = Page::parse(q.page.as_deref(), q.limit.as_deref(), 10)?;
    let (items, total) = collaborations::requests(&app.db, who, Source::parse(kind, id)?, page).await?;
    Ok(Listed { items, pagination: page.json(total) })
}

#[derive(Debug, Deserialize)]
pub struct InitializeInput {
    pub campaign_id: Option<String>,
    pub bid_id: Option<String>,
    pub influencer_id: Option<String>,
    pub proposed_amount: Option<Value>,
}

pub struct Initialized {
    pub conversation: conversation::Model,
    pub created: bool,
}

/// Opens the flow conversation of a campaign or bid with an influencer.
pub async fn initialize(
    app: &AppState,
    who: &Identity,
    kind: SourceKind,
    b: InitializeInput,
) -> AppResult<Initialized> {
    app.spend(Limit::Writes, who).await?;
    let (field, id) = match kind {
        SourceKind::Campaign => ("campaign_id", b.campaign_id.as_deref()),
        SourceKind::Bid => ("bid_id", b.bid_id.as_deref()),
    };
    let source = Source::parse(kind, id.ok_or_else(|| AppError::invalid_field(field, "is required"))?)?;
    let influencer =
        b.influencer_id.as_deref().ok_or_else(|| AppError::invalid_field("influencer_id", "is required"))?;
    let out = opening::initialize(&app.db, &app.flow, who, source, influencer, b.proposed_amount.as_ref()).await?;
    app.emitter.publish(out.events).await;
    Ok(Initialized { conversation: out.conversation, created: out.created })
}
