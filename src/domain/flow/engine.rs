//! Runs the flow: an action is planned against the conversation as read
//! (the pure rules decide it), then carried out in one transaction that
//! re-checks the version it read, and its events are returned for
//! publishing after commit.

use entity::{conversation, message};
use sea_orm::DatabaseConnection;
use serde_json::{Map, Value, json};

use super::{
    Action, Party, SourceKind, State,
    config::user_of,
    rules::{self, Cause, Draft, Transition, View},
    write::{Extra, WriteError, write},
};
pub use super::{config::FlowConfig, publish::Prompt};
use crate::{
    domain::{
        clock,
        conversations::{self, Participant},
        events::{self, Outbound},
        ids::ConversationId,
        names::ConversationType,
        users::Identity,
    },
    error::{AppError, AppResult},
};

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
    let input = screen_input(cfg, view.state, input)?;
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

/// Texts typed into a card pass the automatic rules like messages do:
/// the blocklist, and contact masking until the payment is completed.
/// Prices are numbers, not text, and stay as given.
fn screen_input(cfg: &FlowConfig, state: State, mut input: Map<String, Value>) -> AppResult<Map<String, Value>> {
    let before_payment = matches!(
        state,
        State::InfluencerResponding
            | State::BrandOwnerDetails
            | State::InfluencerReviewing
            | State::BrandOwnerPricing
            | State::InfluencerPriceResponse
            | State::NegotiationInput
            | State::BrandOwnerNegotiation
            | State::InfluencerFinalResponse
            | State::PaymentPending
    );
    for (key, value) in input.iter_mut() {
        if key == "price" {
            continue;
        }
        if let Value::String(text) = value {
            *text = cfg.moderation.screen(text, before_payment)?.text;
        }
    }
    Ok(input)
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

/// The `{conversation, messages}` body of an action's answer.
pub fn acted_json(acted: &Acted) -> Value {
    json!({
        "conversation": events::conversation_json(&acted.conversation),
        "messages": acted.messages.iter().map(events::message_json).collect::<Vec<_>>(),
    })
}
