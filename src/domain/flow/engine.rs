//! Runs the flow: one transaction per action that re-checks the state it
//! read (a version number), then the events to publish after commit.

use entity::{conversation, message};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, Set, sea_query::Expr,
};
use serde_json::{Map, Value, json};

use super::{
    Action, Kind, Role, State,
    rules::{self, Draft, Transition, View},
};
use crate::{
    config::Settings,
    domain::{
        clock,
        conversations::{self, Side},
        events::{self, Outbound},
        ids::{ConversationId, MessageId},
        messages,
        payments::{Payments, Prepared},
        users::Identity,
    },
    error::{AppError, AppResult},
};

/// What the flow needs from the settings.
#[derive(Clone, Debug)]
pub struct FlowConfig {
    /// Whether written messages wait for an emit confirmation (several nodes).
    pub track_emits: bool,
    pub commission_bps: u32,
    pub max_revisions: i32,
    pub system_user_id: String,
}

impl From<&Settings> for FlowConfig {
    fn from(s: &Settings) -> Self {
        Self {
            track_emits: s.redis_url.is_some(),
            commission_bps: s.commission_bps,
            max_revisions: s.max_revisions,
            system_user_id: s.system_user_id.clone(),
        }
    }
}

/// How an action arrived, which decides the echo event.
#[derive(Clone, Debug)]
pub enum Via {
    Button,
    TextInput { input_type: String },
}

pub struct Outcome {
    pub conversation: conversation::Model,
    /// Every message the action wrote (all visible to the actor).
    pub messages: Vec<message::Model>,
    pub events: Vec<Outbound>,
}

impl Outcome {
    /// The ack and REST body: `{conversation, messages}`.
    pub fn body(&self) -> Value {
        json!({
            "conversation": events::conversation_json(&self.conversation),
            "messages": self.messages.iter().map(events::message_json).collect::<Vec<_>>(),
        })
    }
}

fn kind_of(c: &conversation::Model) -> AppResult<Kind> {
    match c.conversation_type.as_str() {
        conversations::CAMPAIGN => Ok(Kind::Campaign),
        conversations::BID => Ok(Kind::Bid),
        _ => Err(rules::state_invalid(None, None, &[], "Direct conversations have no flow actions")),
    }
}

fn state_of(c: &conversation::Model) -> AppResult<State> {
    c.flow_state
        .as_deref()
        .and_then(State::parse)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("conversation {} has no valid flow state", c.id)))
}

fn role_of(side: Side) -> AppResult<Role> {
    match side {
        Side::BrandOwner => Ok(Role::BrandOwner),
        Side::Influencer => Ok(Role::Influencer),
        Side::Direct => Err(rules::state_invalid(None, None, &[], "Direct conversations have no flow actions")),
    }
}

fn user_of(c: &conversation::Model, role: Role) -> &str {
    match role {
        Role::BrandOwner => &c.user1_id,
        Role::Influencer => &c.user2_id,
    }
}

/// What the caller may do now in a conversation (for context).
pub fn available_actions(c: &conversation::Model, who: &Identity) -> Vec<&'static str> {
    let (Some(side), Ok(state)) = (conversations::side_of(c, &who.user_id), state_of(c)) else {
        return vec![];
    };
    let Ok(role) = role_of(side) else { return vec![] };
    rules::available(state, role, c.revision_count, c.max_revisions).into_iter().map(Action::as_str).collect()
}

/// The action a `text_input` submits: the card's `submit_action`, or the
/// action whose card's input field has that id; the text fills that field.
fn resolve_text_input(
    c: &conversation::Model,
    input_type: &str,
    text: &str,
) -> AppResult<(String, Map<String, Value>)> {
    let card = c.current_action_data.as_ref();
    let field_id = card.and_then(|c| c["input_field"]["id"].as_str());
    let submit = card.and_then(|c| c["submit_action"].as_str());
    let action = if Action::parse(input_type).is_some() {
        input_type.to_string()
    } else if Some(input_type) == field_id {
        submit.unwrap_or(input_type).to_string()
    } else {
        return Err(AppError::invalid_field(
            "input_type",
            format!("must be the current card's submit_action or input field id (got {input_type:?})"),
        ));
    };
    let field = match Action::parse(&action) {
        Some(Action::SendPriceOffer | Action::SendCounterOffer | Action::MakeFinalOffer) => "price",
        Some(Action::SendProjectDetails) => "details",
        Some(Action::RequestRevision | Action::ApproveWork) => "feedback",
        Some(Action::Cancel | Action::RejectProject | Action::CloseChat) => "reason",
        _ => field_id.unwrap_or("text"),
    };
    let mut input = Map::new();
    input.insert(field.to_string(), Value::String(text.to_string()));
    Ok((action, input))
}

/// The parts of the server an action may need.
pub struct Deps<'a> {
    pub db: &'a DatabaseConnection,
    pub cfg: &'a FlowConfig,
    pub payments: &'a Payments,
}

/// A participant's action, by button or input. `proceed_to_payment` opens
/// (or reuses) the gateway order after the rules allow it and before
/// anything is written.
#[tracing::instrument(skip_all, fields(conversation_id = %id, user_id = %who.user_id, action = action_name))]
pub async fn act(
    deps: &Deps<'_>,
    who: &Identity,
    id: ConversationId,
    action_name: &str,
    input: Map<String, Value>,
    via: Via,
) -> AppResult<Outcome> {
    let (db, cfg) = (deps.db, deps.cfg);
    let (c, side) = conversations::writable(db, id, who).await?;
    let kind = kind_of(&c)?;
    let role = role_of(side)?;
    let state = state_of(&c)?;
    let now = clock::rfc3339(&clock::now());
    let view = View {
        kind,
        state,
        data: &c.flow_data,
        revision_count: c.revision_count,
        max_revisions: c.max_revisions,
        commission_bps: cfg.commission_bps,
        now: &now,
    };
    let Some(action) = Action::parse(action_name.trim()) else {
        if state == State::ChatClosed {
            return Err(messages::closed());
        }
        let allowed = rules::available(state, role, c.revision_count, c.max_revisions);
        return Err(rules::state_invalid(
            Some(state),
            state.awaiting(),
            &allowed,
            &format!("Unknown action {action_name:?}"),
        ));
    };
    let mut transition = rules::decide(&view, role, action, &input)?;
    if action == Action::ProceedToPayment {
        let prepared = deps.payments.open_order(db, who, &c, &transition).await?;
        attach(&mut transition, prepared);
    }
    let actor = user_of(&c, role).to_string();
    let (after, written) = commit(db, cfg, &c, &transition, &actor).await?;
    let events =
        super::publish::publishable(db, &c, &after, &transition, &written, &actor, Some((action, via))).await?;
    Ok(Outcome { conversation: after, messages: written, events })
}

async fn stale(db: &DatabaseConnection, c: &conversation::Model) -> AppError {
    let state = match conversations::load(db, ConversationId(c.id)).await {
        Ok(now) => now.flow_state.as_deref().and_then(State::parse),
        Err(e) => return e,
    };
    rules::state_invalid(
        state,
        state.and_then(State::awaiting),
        &[],
        "The conversation changed before this action was applied",
    )
}

/// Merges what the gateway order adds into the card and the flow data.
fn attach(t: &mut Transition, prepared: Prepared) {
    let merge = |target: &mut Value, extra: &Value| {
        if let (Some(target), Value::Object(extra)) = (target.as_object_mut(), extra) {
            target.extend(extra.clone());
        }
    };
    merge(&mut t.data, &prepared.data);
    if let Some(card) = t.current_card.as_mut() {
        merge(card, &prepared.card);
    }
    for draft in &mut t.drafts {
        if let Draft::Card { action_data: Some(card), .. } = draft {
            merge(card, &prepared.card);
        }
    }
}

/// A `text_input` submission: resolves the card it answers, then acts.
pub async fn text_input(
    deps: &Deps<'_>,
    who: &Identity,
    id: ConversationId,
    input_type: &str,
    text: &str,
) -> AppResult<Outcome> {
    // Who may act comes first: an outsider learns nothing of the card.
    let (c, _) = conversations::writable(deps.db, id, who).await?;
    let (action, input) = resolve_text_input(&c, input_type.trim(), text)?;
    let via = Via::TextInput { input_type: input_type.trim().to_string() };
    act(deps, who, id, &action, input, via).await
}

/// Why a write did not happen.
pub enum WriteError {
    /// The conversation is no longer at the version that was read.
    Stale,
    Other(AppError),
}

impl From<DbErr> for WriteError {
    fn from(e: DbErr) -> Self {
        WriteError::Other(e.into())
    }
}

/// Writes a transition in one transaction and commits it.
async fn commit(
    db: &DatabaseConnection,
    cfg: &FlowConfig,
    c: &conversation::Model,
    t: &Transition,
    actor: &str,
) -> AppResult<(conversation::Model, Vec<message::Model>)> {
    let txn = crate::db::begin_write(db).await?;
    match write(&txn, cfg, c, t, actor).await {
        Ok(done) => {
            txn.commit().await?;
            Ok(done)
        }
        Err(WriteError::Stale) => {
            // Someone else moved the conversation first: report where it is now.
            txn.rollback().await?;
            Err(stale(db, c).await)
        }
        Err(WriteError::Other(e)) => Err(e),
    }
}

/// Writes a transition inside `txn`: the conversation only if it is still
/// at the version read, answered cards marked complete, the new messages.
pub async fn write(
    txn: &DatabaseTransaction,
    cfg: &FlowConfig,
    c: &conversation::Model,
    t: &Transition,
    actor: &str,
) -> Result<(conversation::Model, Vec<message::Model>), WriteError> {
    let now = clock::now();
    let rows: Vec<message::Model> = t.drafts.iter().map(|d| draft_to_row(cfg, c, d, actor, now)).collect();
    let mut after = c.clone();
    after.flow_state = Some(t.to.as_str().into());
    after.awaiting_role = t.to.awaiting().map(|r| r.as_str().into());
    after.chat_status = t.to.chat_status().into();
    after.flow_data = t.data.clone();
    after.current_action_data = t.current_card.clone();
    after.revision_count = t.revision_count;
    after.version = c.version + 1;
    after.updated_at = now;
    after.last_message_at = now;

    let updated = conversation::Entity::update_many()
        .set(conversation::ActiveModel {
            flow_state: Set(after.flow_state.clone()),
            awaiting_role: Set(after.awaiting_role.clone()),
            chat_status: Set(after.chat_status.clone()),
            flow_data: Set(after.flow_data.clone()),
            current_action_data: Set(after.current_action_data.clone()),
            revision_count: Set(after.revision_count),
            version: Set(after.version),
            updated_at: Set(now),
            last_message_at: Set(now),
            ..Default::default()
        })
        .filter(conversation::Column::Id.eq(c.id))
        .filter(conversation::Column::Version.eq(c.version))
        .exec(txn)
        .await?;
    if updated.rows_affected == 0 {
        return Err(WriteError::Stale);
    }
    message::Entity::update_many()
        .col_expr(message::Column::ActionCompleted, Expr::value(true))
        .filter(message::Column::ConversationId.eq(c.id))
        .filter(message::Column::ActionRequired.eq(true))
        .filter(message::Column::ActionCompleted.eq(false))
        .exec(txn)
        .await?;
    if !rows.is_empty() {
        message::Entity::insert_many(rows.iter().cloned().map(message::ActiveModel::from))
            .exec_without_returning(txn)
            .await?;
        messages::count_unread(txn, &rows).await.map_err(WriteError::Other)?;
    }
    Ok((after, rows))
}

pub(super) fn draft_to_row(
    cfg: &FlowConfig,
    c: &conversation::Model,
    draft: &Draft,
    actor: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> message::Model {
    let (sender, receiver, kind, text, action_data, seen) = match draft {
        Draft::Audit { text } => (actor.to_string(), actor.to_string(), messages::AUDIT, text, None, true),
        Draft::Card { to, text, action_data } => {
            (actor.to_string(), user_of(c, *to).to_string(), messages::AUTOMATED, text, action_data.clone(), false)
        }
        Draft::Notice { to, text, action_data } => (
            cfg.system_user_id.clone(),
            user_of(c, *to).to_string(),
            messages::SYSTEM,
            text,
            action_data.clone(),
            false,
        ),
    };
    message::Model {
        id: MessageId::new().0,
        conversation_id: c.id,
        sender_id: sender,
        receiver_id: receiver,
        message: text.clone(),
        media_url: None,
        message_type: kind.into(),
        action_required: action_data.is_some(),
        action_data,
        is_automated: true,
        action_completed: false,
        seen,
        seen_at: seen.then_some(now),
        client_message_id: None,
        expires_at: None,
        emit_pending: cfg.track_emits,
        created_at: now,
    }
}
