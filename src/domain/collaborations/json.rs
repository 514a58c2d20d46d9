//! Campaigns, bids and requests as clients see them.

use entity::{bid, campaign, request};
use serde_json::{Value, json};

use crate::domain::{clock, money::Paise};

fn money_json(p: Option<i64>) -> Value {
    p.map(|p| Paise(p).rupees_json()).unwrap_or(Value::Null)
}

pub fn campaign_json(c: &campaign::Model) -> Value {
    json!({
        "id": c.id,
        "type": "campaign",
        "brand_owner_id": c.brand_owner_id,
        "title": c.title,
        "description": c.description,
        "requirements": c.requirements,
        "budget": Paise(c.budget_paise).rupees_json(),
        "budget_paise": c.budget_paise,
        "status": c.status,
        "created_at": clock::rfc3339(&c.created_at),
        "updated_at": clock::rfc3339(&c.updated_at),
    })
}

pub fn bid_json(b: &bid::Model) -> Value {
    json!({
        "id": b.id,
        "type": "bid",
        "brand_owner_id": b.brand_owner_id,
        "title": b.title,
        "description": b.description,
        "requirements": b.requirements,
        "min_budget": money_json(b.min_budget_paise),
        "min_budget_paise": b.min_budget_paise,
        "max_budget": money_json(b.max_budget_paise),
        "max_budget_paise": b.max_budget_paise,
        "status": b.status,
        "created_at": clock::rfc3339(&b.created_at),
        "updated_at": clock::rfc3339(&b.updated_at),
    })
}

pub fn request_json(r: &request::Model) -> Value {
    json!({
        "id": r.id,
        "campaign_id": r.campaign_id,
        "bid_id": r.bid_id,
        "influencer_id": r.influencer_id,
        "proposed_amount": money_json(r.proposed_amount_paise),
        "proposed_amount_paise": r.proposed_amount_paise,
        "message": r.message,
        "status": r.status,
        "created_at": clock::rfc3339(&r.created_at),
        "updated_at": clock::rfc3339(&r.updated_at),
    })
}
