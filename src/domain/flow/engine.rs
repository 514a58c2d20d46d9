//! Runs the flow: one transaction per action that re-checks the state it
//! read (a version number), then the events to publish after commit.

use entity::{conversation, message};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, Set, TransactionTrait,
    sea_query::{Expr, OnConflict},
};
use serde_json::{Map, Value, json};

use super::{
    Action, Kind, Role, State, cards,
    rules::{self, Draft, Transition, View},
};
use crate::{
    config::Settings,
    domain::{
        clock,
        collaborations::{self, Source},
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
    pub commission_bps: u32,
    pub max_revisions: i32,
    pub system_user_id: String,
}

impl From<&Settings> for FlowConfig {
    fn from(s: &Settings) -> Self {
        Self {
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
    let events = publishable(db, &c, &after, &transition, &written, &actor, Some((action, via))).await?;
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
    let c = conversations::load(deps.db, id).await?;
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
    let txn = db.begin().await?;
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
    }
    Ok((after, rows))
}

fn draft_to_row(
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
        emit_pending: true,
        created_at: now,
    }
}

/// The events of a committed transition, in the order clients expect them.
pub async fn publishable(
    db: &DatabaseConnection,
    before: &conversation::Model,
    after: &conversation::Model,
    t: &Transition,
    written: &[message::Model],
    actor: &str,
    action: Option<(Action, Via)>,
) -> AppResult<Vec<Outbound>> {
    let everyone = vec![
        events::conversation_room(after.id),
        events::user_room(&after.user1_id),
        events::user_room(&after.user2_id),
    ];
    let timestamp = clock::rfc3339(&after.updated_at);
    let reason = action.as_ref().map(|(a, _)| a.as_str()).unwrap_or("payment_captured");
    let mut out = vec![];
    let hops: Vec<(State, State)> = match t.via {
        Some(via) => vec![(t.from, via), (via, t.to)],
        None if t.from != t.to => vec![(t.from, t.to)],
        None => vec![],
    };
    for (from, to) in hops {
        let (awaiting, chat_status, card) = if to == t.to {
            (after.awaiting_role.clone(), after.chat_status.clone(), after.current_action_data.clone())
        } else {
            (to.awaiting().map(|r| r.as_str().to_string()), to.chat_status().to_string(), None)
        };
        out.push(Outbound::new(
            "conversation_state_changed",
            everyone.clone(),
            json!({
                "conversation_id": after.id,
                "previous_state": from.as_str(),
                "new_state": to.as_str(),
                "awaiting_role": awaiting,
                "chat_status": chat_status,
                "reason": reason,
                "timestamp": timestamp,
                "current_action_data": card,
            }),
        ));
    }
    for m in written {
        out.push(events::new_message(after, m));
    }
    // The message both sides see: the card or notice, never the audit.
    let shared = written.iter().find(|m| m.message_type != messages::AUDIT);
    let flow_update = json!({
        "previous_state": t.from.as_str(),
        "new_state": t.to.as_str(),
        "awaiting_role": after.awaiting_role,
    });
    match action {
        Some((action, Via::Button)) => out.push(Outbound::new(
            "button_action",
            vec![events::conversation_room(after.id)],
            json!({
                "button_id": action.as_str(),
                "message": shared.map(events::message_json),
                "flow_update": flow_update,
                "conversationId": after.id,
                "conversation_context": events::conversation_context(after),
            }),
        )),
        Some((_, Via::TextInput { input_type })) => out.push(Outbound::new(
            "text_input",
            vec![events::conversation_room(after.id)],
            json!({
                "input_type": input_type,
                "message": shared.map(events::message_json),
                "flow_update": flow_update,
                "conversationId": after.id,
            }),
        )),
        None => {}
    }
    // Nobody needs telling about a card they just gave themselves (negotiate → counter-offer).
    if let Some(card) = written.iter().find(|m| m.action_required && m.receiver_id != m.sender_id) {
        out.push(events::notification(
            &card.receiver_id,
            "action_required",
            json!({
                "conversation_id": after.id,
                "message": events::message_json(card),
                "flow_state": after.flow_state,
                "awaiting_role": after.awaiting_role,
                "sender_id": card.sender_id,
            }),
        ));
    }
    if t.to == State::ChatClosed && before.flow_state.as_deref() != Some(State::ChatClosed.as_str()) {
        let other = conversations::other_participant(after, actor);
        out.push(events::notification(
            other,
            "conversation_closed",
            json!({
                "conversation_id": after.id,
                "closed_by": actor,
                "reason": after.flow_data["closure"]["reason"],
                "message": shared.map(events::message_json),
            }),
        ));
    }
    let mut receivers: Vec<&str> =
        written.iter().filter(|m| !m.seen && m.sender_id != m.receiver_id).map(|m| m.receiver_id.as_str()).collect();
    receivers.sort();
    receivers.dedup();
    for receiver in receivers {
        out.extend(messages::unread_update(db, receiver, after.id).await);
    }
    Ok(out)
}

pub struct Initialized {
    pub conversation: conversation::Model,
    pub created: bool,
    pub events: Vec<Outbound>,
}

/// Opens the campaign or bid conversation between its owner and an
/// influencer, or returns the one that exists. Bids carry the influencer's
/// proposed amount, pre-filled later in the pricing card.
#[tracing::instrument(skip_all, fields(user_id = %who.user_id))]
pub async fn initialize(
    db: &DatabaseConnection,
    cfg: &FlowConfig,
    who: &Identity,
    source: Source,
    influencer_id: &str,
    proposed_amount: Option<&Value>,
) -> AppResult<Initialized> {
    let target = collaborations::published(db, source).await?;
    if target.brand_owner_id != who.user_id {
        return Err(AppError::forbidden(format!("Only the {}'s owner may open its conversations", source.kind())));
    }
    let proposed = match (source, proposed_amount) {
        (Source::Bid(_), Some(v)) if !v.is_null() => Some(crate::domain::money::Paise::parse("proposed_amount", v)?),
        (Source::Bid(_), _) => return Err(AppError::invalid_field("proposed_amount", "is required")),
        (Source::Campaign(_), _) => None,
    };
    let influencer = collaborations::influencer(db, who, influencer_id).await?;
    let pair_key = source.pair_key(&influencer);
    if let Some(existing) = find_by_pair(db, &pair_key).await? {
        return Ok(Initialized { conversation: existing, created: false, events: vec![] });
    }

    let application = collaborations::application_of(db, source, &influencer).await?;
    let kind = match source {
        Source::Campaign(_) => Kind::Campaign,
        Source::Bid(_) => Kind::Bid,
    };
    let amount = |p: crate::domain::money::Paise| json!({ "amount": p.rupees_json(), "amount_paise": p.0 });
    let mut data = json!({
        "source": {
            "type": source.kind(),
            "id": source.id(),
            "title": target.title,
            "description": target.description,
            "requirements": target.requirements,
        },
    });
    match kind {
        Kind::Campaign => data["budget"] = target.budget.map(amount).unwrap_or(Value::Null),
        Kind::Bid => data["proposed_amount"] = proposed.map(amount).unwrap_or(Value::Null),
    }
    let now_text = clock::rfc3339(&clock::now());
    let view = View {
        kind,
        state: State::InfluencerResponding,
        data: &data,
        revision_count: 0,
        max_revisions: cfg.max_revisions,
        commission_bps: cfg.commission_bps,
        now: &now_text,
    };
    let drafts = cards::opening(&view);
    let now = clock::now();
    let c = conversation::Model {
        id: ConversationId::new().0,
        conversation_type: kind.as_str().into(),
        user1_id: who.user_id.clone(),
        user2_id: influencer.clone(),
        pair_key: pair_key.clone(),
        campaign_id: matches!(source, Source::Campaign(_)).then_some(source.id()),
        bid_id: matches!(source, Source::Bid(_)).then_some(source.id()),
        request_id: application.as_ref().map(|r| r.id),
        chat_status: State::InfluencerResponding.chat_status().into(),
        flow_state: Some(State::InfluencerResponding.as_str().into()),
        awaiting_role: Some(Role::Influencer.as_str().into()),
        flow_data: data.clone(),
        current_action_data: cards::card(&view),
        revision_count: 0,
        max_revisions: cfg.max_revisions,
        version: 0,
        last_message_at: now,
        created_at: now,
        updated_at: now,
    };
    let rows: Vec<message::Model> = drafts.iter().map(|d| draft_to_row(cfg, &c, d, &who.user_id, now)).collect();

    let txn = db.begin().await?;
    let inserted = conversation::Entity::insert(conversation::ActiveModel::from(c.clone()))
        .on_conflict(OnConflict::column(conversation::Column::PairKey).do_nothing().to_owned())
        .exec_without_returning(&txn)
        .await?;
    if inserted == 0 {
        txn.rollback().await?;
        let existing = find_by_pair(db, &pair_key)
            .await?
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("conversation vanished after conflict")))?;
        return Ok(Initialized { conversation: existing, created: false, events: vec![] });
    }
    message::Entity::insert_many(rows.iter().cloned().map(message::ActiveModel::from))
        .exec_without_returning(&txn)
        .await?;
    if let Some(r) = &application {
        collaborations::mark_connected(&txn, r.id).await?;
    }
    txn.commit().await?;

    let t = Transition {
        action: Action::AcceptConnection,
        from: State::InfluencerResponding,
        via: None,
        to: State::InfluencerResponding,
        data,
        revision_count: 0,
        drafts,
        current_card: c.current_action_data.clone(),
    };
    let events = publishable(db, &c, &c, &t, &rows, &who.user_id, None).await?;
    Ok(Initialized { conversation: c, created: true, events })
}

async fn find_by_pair(db: &DatabaseConnection, pair_key: &str) -> AppResult<Option<conversation::Model>> {
    Ok(conversation::Entity::find().filter(conversation::Column::PairKey.eq(pair_key)).one(db).await?)
}

/// The conversation ids of a source (for rooms and context).
pub fn source_of(c: &conversation::Model) -> Option<Source> {
    c.campaign_id.map(Source::Campaign).or(c.bid_id.map(Source::Bid))
}
