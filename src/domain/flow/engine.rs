//! Runs the flow: an action is planned against the conversation as read
//! (the pure rules decide it), then carried out in one transaction that
//! re-checks the version it read, and its events are returned for
//! publishing after commit.

use entity::{conversation, message, notification};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, Set, sea_query::Expr,
};
use serde_json::{Map, Value, json};

use super::{
    Action, Party, SourceKind, State,
    rules::{self, Cause, Draft, Transition, View},
};
use crate::{
    config::Settings,
    domain::{
        clock::{self, Clock},
        conversations::{self, Participant},
        events::{self, Outbound},
        ids::{ConversationId, MessageId},
        messages,
        names::{ConversationType, MessageType},
        notifications,
        outbox::{self, Webhooks},
        users::Identity,
    },
    error::{AppError, AppResult},
};

/// What the flow needs from the settings, and the clock it runs on.
#[derive(Clone, Debug)]
pub struct FlowConfig {
    /// Whether written messages wait for an emit confirmation (several nodes).
    pub track_emits: bool,
    pub commission_bps: u32,
    pub max_revisions: i32,
    pub system_user_id: String,
    pub clock: Clock,
    pub webhooks: Webhooks,
    /// How long an offer waits for its answer.
    pub offer_ttl: chrono::Duration,
}

impl FlowConfig {
    pub fn new(s: &Settings, clock: Clock, webhooks: Webhooks) -> Self {
        Self {
            track_emits: s.redis_url.is_some(),
            commission_bps: s.commission_bps,
            max_revisions: s.max_revisions,
            system_user_id: s.system_user_id.clone(),
            clock,
            webhooks,
            offer_ttl: chrono::Duration::from_std(s.time_rules.offer_ttl).unwrap_or(chrono::Duration::days(2)),
        }
    }

    /// When an offer made at `now` expires.
    pub fn offer_deadline(&self, now: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
        now + self.offer_ttl
    }
}

/// Which prompt of a card the action answers, which decides its echo event.
#[derive(Clone, Debug)]
pub enum Prompt {
    Button,
    TextInput { input_type: String },
}

/// An action carried out: the conversation after it, what it wrote, and
/// the events to publish.
pub struct Acted {
    pub conversation: conversation::Model,
    /// Every message the action wrote (all visible to the actor).
    pub messages: Vec<message::Model>,
    pub events: Vec<Outbound>,
}

/// An action the rules allow, not yet written.
pub struct Planned {
    pub conversation: conversation::Model,
    pub transition: Transition,
    /// The user id of the acting party.
    pub actor: String,
    prompt: Prompt,
}

impl Planned {
    /// `proceed_to_payment` needs a gateway order before it is written.
    pub fn needs_order(&self) -> bool {
        self.transition.cause == Cause::Action(Action::ProceedToPayment)
    }

    /// Merges what the gateway order adds into the card and the flow data.
    pub fn attach_order(&mut self, card: &Value, data: &Value) {
        let merge = |target: &mut Value, extra: &Value| {
            if let (Some(target), Value::Object(extra)) = (target.as_object_mut(), extra) {
                target.extend(extra.clone());
            }
        };
        let t = &mut self.transition;
        merge(&mut t.data, data);
        if let Some(current) = t.current_card.as_mut() {
            merge(current, card);
        }
        for draft in &mut t.drafts {
            if let Draft::Card { action_data: Some(c), .. } = draft {
                merge(c, card);
            }
        }
    }
}

pub fn source_kind(c: &conversation::Model) -> AppResult<SourceKind> {
    match ConversationType::parse(&c.conversation_type) {
        Some(ConversationType::Campaign) => Ok(SourceKind::Campaign),
        Some(ConversationType::Bid) => Ok(SourceKind::Bid),
        _ => Err(rules::state_invalid(None, None, &[], "Direct conversations have no flow actions")),
    }
}

pub fn state_of(c: &conversation::Model) -> AppResult<State> {
    c.flow_state
        .as_deref()
        .and_then(State::parse)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("conversation {} has no valid flow state", c.id)))
}

fn party_of(p: Participant) -> AppResult<Party> {
    p.party.ok_or_else(|| rules::state_invalid(None, None, &[], "Direct conversations have no flow actions"))
}

fn user_of(c: &conversation::Model, party: Party) -> &str {
    match party {
        Party::BrandOwner => &c.user1_id,
        Party::Influencer => &c.user2_id,
    }
}

/// The times a view of the flow needs, as text.
pub struct Times {
    now: String,
    offer_deadline: String,
}

impl Times {
    pub fn at(cfg: &FlowConfig, now: chrono::DateTime<chrono::Utc>) -> Self {
        Self { now: clock::rfc3339(&now), offer_deadline: clock::rfc3339(&cfg.offer_deadline(now)) }
    }
}

/// The flow as the rules see it, at a time.
pub fn view<'a>(c: &'a conversation::Model, cfg: &FlowConfig, times: &'a Times) -> AppResult<View<'a>> {
    Ok(View {
        kind: source_kind(c)?,
        state: state_of(c)?,
        data: &c.flow_data,
        revision_count: c.revision_count,
        max_revisions: c.max_revisions,
        commission_bps: cfg.commission_bps,
        now: &times.now,
        offer_deadline: Some(&times.offer_deadline),
    })
}

/// What the caller may do now in a conversation (for context).
pub fn available_actions(c: &conversation::Model, who: &Identity) -> Vec<&'static str> {
    let (Some(p), Ok(state)) = (conversations::participant(c, &who.user_id), state_of(c)) else {
        return vec![];
    };
    let Ok(party) = party_of(p) else { return vec![] };
    rules::available(state, party, c.revision_count, c.max_revisions).into_iter().map(Action::as_str).collect()
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

/// Plans a participant's action by button or input: who may act, whether
/// the state allows it, and the transition it makes.
#[tracing::instrument(skip_all, fields(conversation_id = %id, user_id = %who.user_id, action = action_name))]
pub async fn plan(
    db: &DatabaseConnection,
    cfg: &FlowConfig,
    who: &Identity,
    id: ConversationId,
    action_name: &str,
    input: Map<String, Value>,
    prompt: Prompt,
) -> AppResult<Planned> {
    let (c, participant) = conversations::writable(db, id, who).await?;
    let party = party_of(participant)?;
    let times = Times::at(cfg, cfg.clock.now());
    let view = view(&c, cfg, &times)?;
    let Some(action) = Action::parse(action_name.trim()) else {
        if view.state == State::ChatClosed {
            return Err(AppError::closed());
        }
        let allowed = rules::available(view.state, party, c.revision_count, c.max_revisions);
        return Err(rules::state_invalid(
            Some(view.state),
            view.state.awaiting(),
            &allowed,
            &format!("Unknown action {action_name:?}"),
        ));
    };
    let transition = rules::decide(&view, party, action, &input)?;
    let actor = user_of(&c, party).to_string();
    Ok(Planned { conversation: c, transition, actor, prompt })
}

/// Plans a `text_input` submission: resolves the card it answers first.
pub async fn plan_text_input(
    db: &DatabaseConnection,
    cfg: &FlowConfig,
    who: &Identity,
    id: ConversationId,
    input_type: &str,
    text: &str,
) -> AppResult<Planned> {
    // Who may act comes first: an outsider learns nothing of the card.
    let (c, _) = conversations::writable(db, id, who).await?;
    let (action, input) = resolve_text_input(&c, input_type.trim(), text)?;
    let prompt = Prompt::TextInput { input_type: input_type.trim().to_string() };
    plan(db, cfg, who, id, &action, input, prompt).await
}

/// Writes a planned action in one transaction and returns its events.
pub async fn carry_out(db: &DatabaseConnection, cfg: &FlowConfig, planned: Planned) -> AppResult<Acted> {
    let Planned { conversation: c, transition, actor, prompt } = planned;
    let txn = crate::db::begin_write(db).await?;
    let done = match write(&txn, cfg, &c, &transition, &actor, Extra::default()).await {
        Ok(done) => {
            txn.commit().await?;
            done
        }
        Err(WriteError::Stale) => {
            // Someone else moved the conversation first: report where it is now.
            txn.rollback().await?;
            return Err(stale(db, &c).await);
        }
        Err(WriteError::Other(e)) => return Err(e),
    };
    let events =
        super::publish::publishable(db, &done.conversation, &transition, &done.messages, &done.notified, Some(&prompt))
            .await?;
    Ok(Acted { conversation: done.conversation, messages: done.messages, events })
}

/// What a caller adds to a transition's transaction: notifications and
/// webhook events of its own (a captured payment's).
#[derive(Default)]
pub struct Extra {
    pub notifications: Vec<notifications::Draft>,
    pub webhooks: Vec<outbox::Event>,
}

/// A transition as written.
pub struct Written {
    pub conversation: conversation::Model,
    pub messages: Vec<message::Model>,
    /// The notifications stored with it.
    pub notified: Vec<notification::Model>,
}

/// Stores what a transition causes besides its messages, in its
/// transaction: the parties' notifications and the webhook events.
#[allow(clippy::too_many_arguments)]
pub async fn record_effects(
    txn: &DatabaseTransaction,
    cfg: &FlowConfig,
    before: &conversation::Model,
    after: &conversation::Model,
    t: &Transition,
    rows: &[message::Model],
    actor: &str,
    extra: Extra,
) -> AppResult<Vec<notification::Model>> {
    let mut drafts = super::publish::drafts(before, after, t, rows, actor);
    drafts.extend(extra.notifications);
    let notified = notifications::store(txn, drafts, after.updated_at).await?;
    let mut hooks = super::publish::webhook_events(&cfg.webhooks, after, t, rows)?;
    hooks.extend(extra.webhooks);
    outbox::enqueue(txn, &cfg.webhooks, hooks).await?;
    Ok(notified)
}

/// Conversations whose offer has waited too long, oldest first.
pub async fn expired_offers(
    db: &DatabaseConnection,
    now: chrono::DateTime<chrono::Utc>,
    limit: u64,
) -> AppResult<Vec<conversation::Model>> {
    use sea_orm::{QueryOrder, QuerySelect};
    Ok(conversation::Entity::find()
        .filter(conversation::Column::OfferExpiresAt.lte(now))
        .order_by_asc(conversation::Column::OfferExpiresAt)
        .limit(limit)
        .all(db)
        .await?)
}

/// When the next offer expires, if one waits.
pub async fn next_offer_deadline(db: &DatabaseConnection) -> AppResult<Option<chrono::DateTime<chrono::Utc>>> {
    use sea_orm::{QueryOrder, QuerySelect};
    Ok(conversation::Entity::find()
        .select_only()
        .column(conversation::Column::OfferExpiresAt)
        .filter(conversation::Column::OfferExpiresAt.is_not_null())
        .order_by_asc(conversation::Column::OfferExpiresAt)
        .into_tuple::<Option<chrono::DateTime<chrono::Utc>>>()
        .one(db)
        .await?
        .flatten())
}

/// Expires the offer a conversation waits on, at the version read: a
/// party's action that got there first wins, and then nothing happens here
/// (none). Several nodes may try; one transition is written.
pub async fn expire_offer(
    db: &DatabaseConnection,
    cfg: &FlowConfig,
    c: conversation::Model,
) -> AppResult<Option<Acted>> {
    let times = Times::at(cfg, cfg.clock.now());
    let t = match view(&c, cfg, &times).and_then(|v| rules::offer_expired(&v)) {
        Ok(t) => t,
        Err(_) => {
            // Nothing waits on an offer any more: the deadline is stale.
            conversation::Entity::update_many()
                .set(conversation::ActiveModel { offer_expires_at: Set(None), ..Default::default() })
                .filter(conversation::Column::Id.eq(c.id))
                .filter(conversation::Column::Version.eq(c.version))
                .exec(db)
                .await?;
            return Ok(None);
        }
    };
    let txn = crate::db::begin_write(db).await?;
    let done = match write(&txn, cfg, &c, &t, &cfg.system_user_id, Extra::default()).await {
        Ok(done) => {
            txn.commit().await?;
            done
        }
        Err(WriteError::Stale) => {
            txn.rollback().await?;
            return Ok(None);
        }
        Err(WriteError::Other(e)) => return Err(e),
    };
    let events = super::publish::publishable(db, &done.conversation, &t, &done.messages, &done.notified, None).await?;
    Ok(Some(Acted { conversation: done.conversation, messages: done.messages, events }))
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

/// The conversation as a transition leaves it.
fn after(
    cfg: &FlowConfig,
    c: &conversation::Model,
    t: &Transition,
    now: chrono::DateTime<chrono::Utc>,
) -> conversation::Model {
    let mut after = c.clone();
    // An offer waiting for its answer expires; nothing else does.
    after.offer_expires_at = rules::pending_offer(t.to).map(|_| cfg.offer_deadline(now));
    after.flow_state = Some(t.to.as_str().into());
    after.awaiting_role = t.to.awaiting().map(|r| r.as_str().into());
    after.chat_status = t.to.chat_status().as_str().into();
    after.flow_data = t.data.clone();
    after.current_action_data = t.current_card.clone();
    after.revision_count = t.revision_count;
    after.version = c.version + 1;
    after.updated_at = now;
    after.last_message_at = now;
    after
}

/// Writes a transition inside `txn`: the conversation only if it is still
/// at the version read, answered cards marked complete, the new messages,
/// and what they cause.
pub async fn write(
    txn: &DatabaseTransaction,
    cfg: &FlowConfig,
    c: &conversation::Model,
    t: &Transition,
    actor: &str,
    extra: Extra,
) -> Result<Written, WriteError> {
    let now = cfg.clock.now();
    let rows: Vec<message::Model> = t.drafts.iter().map(|d| draft_to_row(cfg, c, d, actor, now)).collect();
    let after = after(cfg, c, t, now);
    let updated = conversation::Entity::update_many()
        .set(conversation::ActiveModel {
            offer_expires_at: Set(after.offer_expires_at),
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
    let notified = record_effects(txn, cfg, c, &after, t, &rows, actor, extra).await.map_err(WriteError::Other)?;
    Ok(Written { conversation: after, messages: rows, notified })
}

/// The stored message a draft becomes.
pub(super) fn draft_to_row(
    cfg: &FlowConfig,
    c: &conversation::Model,
    draft: &Draft,
    actor: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> message::Model {
    let (sender, receiver, kind, text, action_data, seen) = match draft {
        Draft::Audit { text } => (actor.to_string(), actor.to_string(), MessageType::Audit, text, None, true),
        Draft::Card { to, text, action_data } => {
            (actor.to_string(), user_of(c, *to).to_string(), MessageType::Automated, text, action_data.clone(), false)
        }
        Draft::Notice { to, text, action_data } => (
            cfg.system_user_id.clone(),
            user_of(c, *to).to_string(),
            MessageType::System,
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
        message_type: kind.as_str().into(),
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
        edited_at: None,
        deleted_at: None,
        reply_to_id: None,
        reply_to: None,
        reactions: None,
    }
}

/// The `{conversation, messages}` body of an action's answer.
pub fn acted_json(acted: &Acted) -> Value {
    json!({
        "conversation": events::conversation_json(&acted.conversation),
        "messages": acted.messages.iter().map(events::message_json).collect::<Vec<_>>(),
    })
}
