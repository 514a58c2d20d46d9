//! PostgreSQL: a batch of messages in remembered conversations written by
//! one statement, which PostgreSQL runs as its own transaction: one round
//! trip and one commit instead of several. Data-modifying `WITH` clauses
//! touch the conversations (only where their version is the remembered one
//! and they are open for free chat), insert the messages of the touched
//! ones, add them to the receivers' unread counts, store (or coalesce) the
//! receivers' notifications, record the webhook events when webhooks are
//! configured, and return what changed. The rows travel as JSON parameters,
//! so the statement text never changes and stays prepared.

use std::{
    collections::{HashMap, HashSet},
    sync::LazyLock,
};

use chrono::{DateTime, Utc};
use entity::{conversation, message, notification};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement, Value as DbValue};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Pending, Unread};
use crate::domain::{outbox::Webhooks, settings::Settings};

const MESSAGES: &str = r#"
WITH batch AS (
    SELECT * FROM json_populate_recordset(NULL::messages, $2::json)
), touched AS (
    UPDATE conversations c SET last_message_at = $1
    FROM json_to_recordset($3::json) AS k(id uuid, version bigint)
    WHERE c.id = ANY (ARRAY(SELECT (e ->> 'id')::uuid FROM json_array_elements($3::json) e))
      AND c.id = k.id AND c.version = k.version AND c.chat_status = 'real_time'
    RETURNING c.id
), stored AS (
    INSERT INTO messages (id, conversation_id, sender_id, receiver_id, message, media_url, message_type,
        action_required, action_data, is_automated, action_completed, seen, seen_at, client_message_id,
        expires_at, emit_pending, created_at, reply_to_id, reply_to, search_text, original_message, moderation)
    SELECT id, conversation_id, sender_id, receiver_id, message, media_url, message_type,
        action_required, action_data, is_automated, action_completed, seen, seen_at, client_message_id,
        expires_at, emit_pending, created_at, reply_to_id, reply_to, search_text, original_message, moderation
    FROM batch WHERE conversation_id IN (SELECT id FROM touched)
    ON CONFLICT (conversation_id, sender_id, client_message_id) DO NOTHING
    RETURNING id, conversation_id, sender_id, receiver_id, seen
), added AS (
    SELECT receiver_id AS user_id, conversation_id, count(*) AS n FROM stored
    WHERE NOT seen AND sender_id <> receiver_id
    GROUP BY receiver_id, conversation_id
), was_archived AS (
    -- Read before the statement's own writes: whom this brings back from the archive.
    SELECT x.user_id, x.conversation_id FROM unread_counts x
    WHERE x.archived AND (x.user_id, x.conversation_id) IN (SELECT user_id, conversation_id FROM added)
), counted AS (
    INSERT INTO unread_counts (user_id, conversation_id, count)
    SELECT user_id, conversation_id, n FROM added ORDER BY user_id, conversation_id
    ON CONFLICT (user_id, conversation_id) DO UPDATE SET count = unread_counts.count + excluded.count,
        archived = false
    RETURNING user_id, conversation_id, count, muted_until
), elsewhere AS (
    SELECT x.user_id, sum(greatest(x.count, 0)) AS total FROM unread_counts x
    WHERE x.user_id IN (SELECT user_id FROM added) AND NOT x.archived
      AND NOT EXISTS (SELECT 1 FROM added a WHERE a.user_id = x.user_id AND a.conversation_id = x.conversation_id)
    GROUP BY x.user_id
), drafted AS (
    SELECT d.* FROM json_to_recordset($4::json) AS d(id uuid, message_id uuid, user_id varchar, type varchar,
        title text, body text, data json, conversation_id uuid, coalesce_key varchar, created_at timestamptz)
    WHERE d.message_id IN (SELECT id FROM stored)
), grouped AS (
    SELECT DISTINCT ON (user_id, coalesce_key) id, user_id, type, title, body, data, conversation_id,
        coalesce_key, created_at, count(*) OVER (PARTITION BY user_id, coalesce_key) AS n
    FROM drafted ORDER BY user_id, coalesce_key, message_id DESC
), notified AS (
    INSERT INTO notifications (id, user_id, type, title, body, data, conversation_id, read, coalesce_key, count,
        created_at, updated_at, email_since)
    SELECT id, user_id, type, title, body, data, conversation_id, false, coalesce_key, n, created_at, created_at,
        created_at
    FROM grouped ORDER BY user_id, coalesce_key
    ON CONFLICT (user_id, coalesce_key) DO UPDATE SET title = excluded.title, body = excluded.body,
        data = excluded.data, count = notifications.count + excluded.count, updated_at = excluded.updated_at,
        email_since = COALESCE(notifications.email_since, excluded.email_since)
    RETURNING *
)"#;

const WEBHOOKS: &str = r#"
, delivering AS (
    INSERT INTO webhook_deliveries (id, event_id, type, url, status, attempts, next_attempt_at, created_at, body,
        subject_id)
    SELECT d.id, d.event_id, d.type, d.url, 'pending', 0, d.created_at, d.created_at, d.body, d.message_id
    FROM json_to_recordset($5::json) AS d(id uuid, event_id uuid, message_id uuid, type varchar, url text,
        body text, created_at timestamptz)
    WHERE d.message_id IN (SELECT id FROM stored)
    RETURNING id
)"#;

const RESULTS: &str = r#"
SELECT 'touched' AS kind, id AS conversation_id, NULL::varchar AS user_id, 0::bigint AS count, 0::bigint AS total,
    NULL::text AS row, NULL::timestamptz AS muted_until
    FROM touched
UNION ALL
SELECT 'stored', NULL, NULL, count(*), 0, NULL, NULL FROM stored
UNION ALL
SELECT 'unread', c.conversation_id, c.user_id, greatest(c.count, 0),
    (coalesce(e.total, 0) + sum(greatest(c.count, 0)) OVER (PARTITION BY c.user_id))::bigint,
    concat_ws(' ', CASE WHEN c.muted_until > $1 THEN 'muted' END, CASE WHEN w.user_id IS NOT NULL THEN 'unarchived' END),
    c.muted_until
    FROM counted c LEFT JOIN elsewhere e ON e.user_id = c.user_id
    LEFT JOIN was_archived w ON w.user_id = c.user_id AND w.conversation_id = c.conversation_id
UNION ALL
SELECT 'notified', NULL, NULL, 0, 0, row_to_json(n)::text, NULL FROM notified n
"#;

static WRITE: LazyLock<String> = LazyLock::new(|| format!("{MESSAGES}{RESULTS}"));
static WRITE_WITH_WEBHOOKS: LazyLock<String> = LazyLock::new(|| format!("{MESSAGES}{WEBHOOKS}{RESULTS}"));

/// What the statement did.
pub struct Batch {
    /// Conversations that were open and had the remembered version.
    pub touched: HashSet<Uuid>,
    /// How many messages were stored (the others repeated a client id, or
    /// their conversation was not touched).
    pub stored: usize,
    /// Receivers' counts after the statement, by (receiver, conversation).
    pub unread: HashMap<(String, Uuid), Unread>,
    /// The receivers' notifications as they now are.
    pub notified: Vec<notification::Model>,
}

fn json_param(value: &impl Serialize) -> Result<DbValue, DbErr> {
    serde_json::to_string(value).map(DbValue::from).map_err(|e| DbErr::Custom(e.to_string()))
}

pub async fn write(
    db: &DatabaseConnection,
    jobs: &[&Pending<'_>],
    conversations: &[&conversation::Model],
    now: DateTime<Utc>,
    webhooks: &Webhooks,
) -> Result<Batch, DbErr> {
    let batch: Vec<Row> = jobs.iter().map(|p| Row::from(p.row)).collect();
    let keys: Vec<Key> = conversations.iter().map(|c| Key { id: c.id, version: c.version }).collect();
    let drafts: Vec<DraftRow> = jobs.iter().filter_map(|p| DraftRow::of(p, now)).collect();
    let mut values = vec![now.into(), json_param(&batch)?, json_param(&keys)?, json_param(&drafts)?];
    let sql = if webhooks.enabled() {
        let deliveries: Vec<DeliveryRow> = jobs
            .iter()
            .filter_map(|p| Some((p.row.id, p.effects.webhook.as_ref()?)))
            .flat_map(|(message_id, e)| {
                webhooks.urls.iter().map(move |url| DeliveryRow {
                    id: Uuid::now_v7(),
                    event_id: e.id,
                    message_id,
                    kind: e.kind,
                    url,
                    body: &e.body,
                    created_at: e.created_at,
                })
            })
            .collect();
        values.push(json_param(&deliveries)?);
        WRITE_WITH_WEBHOOKS.as_str()
    } else {
        WRITE.as_str()
    };
    let statement = Statement::from_sql_and_values(DbBackend::Postgres, sql, values);
    let mut out = Batch { touched: HashSet::new(), stored: 0, unread: HashMap::new(), notified: vec![] };
    for row in db.query_all_raw(statement).await? {
        let kind: String = row.try_get("", "kind")?;
        match kind.as_str() {
            "touched" => {
                out.touched.insert(row.try_get("", "conversation_id")?);
            }
            "stored" => out.stored = row.try_get::<i64>("", "count")?.max(0) as usize,
            "notified" => {
                let text: String = row.try_get("", "row")?;
                let n: NotifiedRow = serde_json::from_str(&text).map_err(|e| DbErr::Custom(e.to_string()))?;
                out.notified.push(n.into());
            }
            _ => {
                let user: String = row.try_get("", "user_id")?;
                let conversation: Uuid = row.try_get("", "conversation_id")?;
                let count: i64 = row.try_get("", "count")?;
                let total: i64 = row.try_get("", "total")?;
                let flags = row.try_get::<Option<String>>("", "row")?.unwrap_or_default();
                let flags: Vec<&str> = flags.split(' ').collect();
                let unarchived = flags.contains(&"unarchived").then(|| -> Result<Settings, DbErr> {
                    Ok(Settings { archived: false, muted_until: row.try_get("", "muted_until")? })
                });
                out.unread.insert(
                    (user, conversation),
                    Unread {
                        conversation: count.max(0) as u64,
                        total: total.max(0) as u64,
                        muted: flags.contains(&"muted"),
                        unarchived: unarchived.transpose()?,
                    },
                );
            }
        }
    }
    Ok(out)
}

/// A message as `json_populate_recordset` reads it: one key per column,
/// written straight to the parameter's text.
#[derive(Serialize)]
struct Row<'a> {
    id: Uuid,
    conversation_id: Uuid,
    sender_id: &'a str,
    receiver_id: &'a str,
    message: &'a str,
    media_url: Option<&'a str>,
    message_type: &'a str,
    action_required: bool,
    action_data: Option<&'a serde_json::Value>,
    is_automated: bool,
    action_completed: bool,
    seen: bool,
    seen_at: Option<DateTime<Utc>>,
    client_message_id: Option<&'a str>,
    expires_at: Option<DateTime<Utc>>,
    emit_pending: bool,
    created_at: DateTime<Utc>,
    original_message: Option<&'a str>,
    moderation: Option<&'a serde_json::Value>,
    reply_to_id: Option<Uuid>,
    reply_to: Option<&'a serde_json::Value>,
    search_text: Option<&'a str>,
}

impl<'a> From<&'a message::Model> for Row<'a> {
    fn from(m: &'a message::Model) -> Self {
        Self {
            id: m.id,
            conversation_id: m.conversation_id,
            sender_id: &m.sender_id,
            receiver_id: &m.receiver_id,
            message: &m.message,
            media_url: m.media_url.as_deref(),
            message_type: &m.message_type,
            action_required: m.action_required,
            action_data: m.action_data.as_ref(),
            is_automated: m.is_automated,
            action_completed: m.action_completed,
            seen: m.seen,
            seen_at: m.seen_at,
            client_message_id: m.client_message_id.as_deref(),
            expires_at: m.expires_at,
            emit_pending: m.emit_pending,
            created_at: m.created_at,
            original_message: m.original_message.as_deref(),
            moderation: m.moderation.as_ref(),
            // A new message is never edited, deleted or reacted to yet.
            reply_to_id: m.reply_to_id,
            reply_to: m.reply_to.as_ref(),
            search_text: m.search_text.as_deref(),
        }
    }
}

#[derive(Serialize)]
struct Key {
    id: Uuid,
    version: i64,
}

/// A message's notification draft, keyed by the message it is for.
#[derive(Serialize)]
struct DraftRow<'a> {
    id: Uuid,
    message_id: Uuid,
    user_id: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    title: &'a str,
    body: &'a str,
    data: &'a serde_json::Value,
    conversation_id: Option<Uuid>,
    coalesce_key: String,
    created_at: DateTime<Utc>,
}

impl<'a> DraftRow<'a> {
    fn of(p: &'a Pending<'_>, now: DateTime<Utc>) -> Option<Self> {
        let d = p.effects.notification.as_ref()?;
        Some(Self {
            id: Uuid::now_v7(),
            message_id: p.row.id,
            user_id: &d.user_id,
            kind: &d.kind,
            title: &d.title,
            body: &d.body,
            data: &d.data,
            conversation_id: d.conversation_id,
            coalesce_key: d.coalesce_key()?,
            created_at: now,
        })
    }
}

#[derive(Serialize)]
struct DeliveryRow<'a> {
    id: Uuid,
    event_id: Uuid,
    message_id: Uuid,
    #[serde(rename = "type")]
    kind: &'a str,
    url: &'a str,
    body: &'a str,
    created_at: DateTime<Utc>,
}

/// A notification row as `row_to_json` writes it.
#[derive(Deserialize)]
struct NotifiedRow {
    id: Uuid,
    user_id: String,
    #[serde(rename = "type")]
    kind: String,
    title: String,
    body: String,
    data: serde_json::Value,
    conversation_id: Option<Uuid>,
    read: bool,
    read_at: Option<DateTime<Utc>>,
    coalesce_key: Option<String>,
    count: i32,
    source: Option<String>,
    idempotency_key: Option<String>,
    email_since: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<NotifiedRow> for notification::Model {
    fn from(n: NotifiedRow) -> Self {
        Self {
            id: n.id,
            user_id: n.user_id,
            kind: n.kind,
            title: n.title,
            body: n.body,
            data: n.data,
            conversation_id: n.conversation_id,
            read: n.read,
            read_at: n.read_at,
            coalesce_key: n.coalesce_key,
            count: n.count,
            source: n.source,
            idempotency_key: n.idempotency_key,
            email_since: n.email_since,
            created_at: n.created_at,
            updated_at: n.updated_at,
        }
    }
}
