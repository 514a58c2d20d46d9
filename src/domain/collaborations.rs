//! Campaigns and bids that brand owners publish, and the applications
//! (requests) influencers send them.

use chrono::{DateTime, Utc};
use entity::{bid, campaign, conversation, request};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::Value;
use uuid::Uuid;

use super::{
    events,
    money::Paise,
    names::SourceKind,
    pagination::Page,
    users::{self, Identity, Role},
    validate,
};
use crate::error::{AppError, AppResult};

mod applications;
mod json;

pub use applications::{Application, application_of, apply, mark_connected, requests};
pub use json::{bid_json, campaign_json, request_json};

/// A campaign or a bid, by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Campaign(Uuid),
    Bid(Uuid),
}

impl Source {
    pub fn id(self) -> Uuid {
        match self {
            Source::Campaign(id) | Source::Bid(id) => id,
        }
    }

    pub fn kind(self) -> SourceKind {
        match self {
            Source::Campaign(_) => SourceKind::Campaign,
            Source::Bid(_) => SourceKind::Bid,
        }
    }

    pub fn room(self) -> String {
        match self {
            Source::Campaign(id) => events::campaign_room(id),
            Source::Bid(id) => events::bid_room(id),
        }
    }

    /// The key that makes a (source, influencer) pair unique.
    pub fn pair_key(self, influencer_id: &str) -> String {
        format!("{}:{}:{influencer_id}", self.kind(), self.id())
    }

    pub fn parse(kind: SourceKind, raw: &str) -> AppResult<Self> {
        let what = match kind {
            SourceKind::Campaign => "Campaign",
            SourceKind::Bid => "Bid",
        };
        let id = Uuid::parse_str(raw.trim()).map_err(|_| AppError::not_found(what))?;
        Ok(match kind {
            SourceKind::Campaign => Source::Campaign(id),
            SourceKind::Bid => Source::Bid(id),
        })
    }
}

/// What a campaign or bid says about itself, for flows and context.
#[derive(Clone, Debug)]
pub struct Published {
    pub source: Source,
    pub brand_owner_id: String,
    pub title: String,
    pub description: Option<String>,
    pub requirements: Option<String>,
    pub budget: Option<Paise>,
    pub json: Value,
}

pub struct NewCampaign {
    pub title: Option<String>,
    pub description: Option<String>,
    pub requirements: Option<String>,
    pub budget: Option<Value>,
}

pub struct NewBid {
    pub title: Option<String>,
    pub description: Option<String>,
    pub requirements: Option<String>,
    pub min_budget: Option<Value>,
    pub max_budget: Option<Value>,
}

fn must_be_brand_owner(who: &Identity, what: &str) -> AppResult<()> {
    if who.role == Role::BrandOwner {
        Ok(())
    } else {
        Err(AppError::forbidden(format!("Only brand owners may {what}")))
    }
}

fn title(raw: Option<&str>) -> AppResult<String> {
    validate::required_text("title", raw, 200)
}

pub async fn create_campaign(
    db: &impl ConnectionTrait,
    who: &Identity,
    input: NewCampaign,
    now: DateTime<Utc>,
) -> AppResult<campaign::Model> {
    must_be_brand_owner(who, "create campaigns")?;
    let title = title(input.title.as_deref())?;
    let budget = match &input.budget {
        Some(v) => Paise::parse("budget", v)?,
        None => return Err(AppError::invalid_field("budget", "is required")),
    };
    let row = campaign::Model {
        id: Uuid::now_v7(),
        brand_owner_id: who.user_id.clone(),
        title,
        description: validate::optional_text("description", input.description.as_deref(), 10_000)?,
        requirements: validate::optional_text("requirements", input.requirements.as_deref(), 10_000)?,
        budget_paise: budget.0,
        status: "open".into(),
        created_at: now,
        updated_at: now,
    };
    campaign::Entity::insert(campaign::ActiveModel::from(row.clone())).exec_without_returning(db).await?;
    Ok(row)
}

pub async fn create_bid(
    db: &impl ConnectionTrait,
    who: &Identity,
    input: NewBid,
    now: DateTime<Utc>,
) -> AppResult<bid::Model> {
    must_be_brand_owner(who, "create bids")?;
    let title = title(input.title.as_deref())?;
    let parse = |field: &str, v: &Option<Value>| -> AppResult<Option<Paise>> {
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(v) => Paise::parse(field, v).map(Some),
        }
    };
    let min = parse("min_budget", &input.min_budget)?;
    let max = parse("max_budget", &input.max_budget)?;
    if let (Some(min), Some(max)) = (min, max)
        && min > max
    {
        return Err(AppError::invalid_field("max_budget", "must not be below min_budget"));
    }
    let row = bid::Model {
        id: Uuid::now_v7(),
        brand_owner_id: who.user_id.clone(),
        title,
        description: validate::optional_text("description", input.description.as_deref(), 10_000)?,
        requirements: validate::optional_text("requirements", input.requirements.as_deref(), 10_000)?,
        min_budget_paise: min.map(|p| p.0),
        max_budget_paise: max.map(|p| p.0),
        status: "open".into(),
        created_at: now,
        updated_at: now,
    };
    bid::Entity::insert(bid::ActiveModel::from(row.clone())).exec_without_returning(db).await?;
    Ok(row)
}

/// A campaign or bid by id (`NOT_FOUND` when there is none).
pub async fn published(db: &impl ConnectionTrait, source: Source) -> AppResult<Published> {
    match source {
        Source::Campaign(id) => {
            let c = campaign::Entity::find_by_id(id).one(db).await?.ok_or_else(|| AppError::not_found("Campaign"))?;
            Ok(Published {
                source,
                json: campaign_json(&c),
                brand_owner_id: c.brand_owner_id,
                title: c.title,
                description: c.description,
                requirements: c.requirements,
                budget: Some(Paise(c.budget_paise)),
            })
        }
        Source::Bid(id) => {
            let b = bid::Entity::find_by_id(id).one(db).await?.ok_or_else(|| AppError::not_found("Bid"))?;
            Ok(Published {
                source,
                json: bid_json(&b),
                brand_owner_id: b.brand_owner_id,
                title: b.title,
                description: b.description,
                requirements: b.requirements,
                budget: b.max_budget_paise.map(Paise),
            })
        }
    }
}

/// Published campaigns or bids, newest first: everyone's, or the caller's own.
pub async fn list(
    db: &impl ConnectionTrait,
    who: &Identity,
    kind: SourceKind,
    mine: bool,
    page: Page,
) -> AppResult<(Vec<Value>, u64)> {
    if kind == SourceKind::Bid {
        let mut q = bid::Entity::find();
        if mine {
            q = q.filter(bid::Column::BrandOwnerId.eq(who.user_id.as_str()));
        }
        let total = q.clone().count(db).await?;
        let rows = q.order_by_desc(bid::Column::Id).offset(page.offset()).limit(page.limit).all(db).await?;
        Ok((rows.iter().map(bid_json).collect(), total))
    } else {
        let mut q = campaign::Entity::find();
        if mine {
            q = q.filter(campaign::Column::BrandOwnerId.eq(who.user_id.as_str()));
        }
        let total = q.clone().count(db).await?;
        let rows = q.order_by_desc(campaign::Column::Id).offset(page.offset()).limit(page.limit).all(db).await?;
        Ok((rows.iter().map(campaign_json).collect(), total))
    }
}

/// Who may follow a campaign's or bid's room: its owner, applicants,
/// participants of its conversations, and admins.
pub async fn may_follow(db: &impl ConnectionTrait, who: &Identity, source: Source) -> AppResult<()> {
    let target = published(db, source).await?;
    if who.is_admin() || target.brand_owner_id == who.user_id {
        return Ok(());
    }
    let applied =
        request::Entity::find().filter(request::Column::SourceKey.eq(source.pair_key(&who.user_id))).count(db).await?;
    if applied > 0 {
        return Ok(());
    }
    let column = match source {
        Source::Campaign(_) => conversation::Column::CampaignId,
        Source::Bid(_) => conversation::Column::BidId,
    };
    let participant = conversation::Entity::find()
        .filter(column.eq(source.id()))
        .filter(
            Condition::any()
                .add(conversation::Column::User1Id.eq(who.user_id.as_str()))
                .add(conversation::Column::User2Id.eq(who.user_id.as_str())),
        )
        .count(db)
        .await?;
    if participant > 0 {
        Ok(())
    } else {
        Err(AppError::forbidden(format!("You do not take part in this {}", source.kind().as_str())))
    }
}

/// An influencer a brand owner wants to open a conversation with: known or
/// created as a reference, and never someone known to hold another role.
pub async fn influencer(
    db: &impl ConnectionTrait,
    owner: &Identity,
    influencer_id: &str,
    system_user_id: &str,
    now: DateTime<Utc>,
) -> AppResult<String> {
    let id = validate::user_id("influencer_id", influencer_id.trim())?;
    if id == owner.user_id {
        return Err(AppError::invalid_field("influencer_id", "cannot be yourself"));
    }
    if id == system_user_id {
        return Err(AppError::invalid_field("influencer_id", "is the system user, which takes no conversations"));
    }
    users::ensure_exists(db, &id, now).await?;
    match users::find(db, &id).await?.and_then(|u| u.role) {
        Some(role) if role != "influencer" => Err(AppError::invalid_field("influencer_id", "is not an influencer")),
        _ => Ok(id),
    }
}
