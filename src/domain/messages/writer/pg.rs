//! PostgreSQL: a batch of messages in remembered conversations written by
//! one statement, which PostgreSQL runs as its own transaction: one round
//! trip and one commit instead of six. Data-modifying `WITH` clauses touch
//! the conversations (only where their version is the remembered one and
//! they are open for free chat), insert the messages of the touched ones,
//! add them to the receivers' unread counts and return the new counts. The
//! rows travel as one JSON parameter, so the statement text never changes
//! and stays prepared.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{conversation, message};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};
use serde::Serialize;
use uuid::Uuid;

use super::Unread;

const WRITE: &str = r#"
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
        expires_at, emit_pending, created_at)
    SELECT id, conversation_id, sender_id, receiver_id, message, media_url, message_type,
        action_required, action_data, is_automated, action_completed, seen, seen_at, client_message_id,
        expires_at, emit_pending, created_at
    FROM batch WHERE conversation_id IN (SELECT id FROM touched)
    ON CONFLICT (conversation_id, sender_id, client_message_id) DO NOTHING
    RETURNING id, conversation_id, sender_id, receiver_id, seen
), added AS (
    SELECT receiver_id AS user_id, conversation_id, count(*) AS n FROM stored
    WHERE NOT seen AND sender_id <> receiver_id
    GROUP BY receiver_id, conversation_id
), counted AS (
    INSERT INTO unread_counts (user_id, conversation_id, count)
    SELECT user_id, conversation_id, n FROM added ORDER BY user_id, conversation_id
    ON CONFLICT (user_id, conversation_id) DO UPDATE SET count = unread_counts.count + excluded.count
    RETURNING user_id, conversation_id, count
), elsewhere AS (
    SELECT x.user_id, sum(greatest(x.count, 0)) AS total FROM unread_counts x
    WHERE x.user_id IN (SELECT user_id FROM added)
      AND NOT EXISTS (SELECT 1 FROM added a WHERE a.user_id = x.user_id AND a.conversation_id = x.conversation_id)
    GROUP BY x.user_id
)
SELECT 'touched' AS kind, id AS conversation_id, NULL::varchar AS user_id, 0::bigint AS count, 0::bigint AS total
    FROM touched
UNION ALL
SELECT 'stored', NULL, NULL, count(*), 0 FROM stored
UNION ALL
SELECT 'unread', c.conversation_id, c.user_id, greatest(c.count, 0),
    (coalesce(e.total, 0) + sum(greatest(c.count, 0)) OVER (PARTITION BY c.user_id))::bigint
    FROM counted c LEFT JOIN elsewhere e ON e.user_id = c.user_id
"#;

/// What the statement did.
pub struct Batch {
    /// Conversations that were open and had the remembered version.
    pub touched: HashSet<Uuid>,
    /// How many messages were stored (the others repeated a client id, or
    /// their conversation was not touched).
    pub stored: usize,
    /// Receivers' counts after the statement, by (receiver, conversation).
    pub unread: HashMap<(String, Uuid), Unread>,
}

pub async fn write(
    db: &DatabaseConnection,
    rows: &[&message::Model],
    conversations: &[&conversation::Model],
    now: DateTime<Utc>,
) -> Result<Batch, DbErr> {
    let batch: Vec<Row> = rows.iter().map(|m| Row::from(*m)).collect();
    let keys: Vec<Key> = conversations.iter().map(|c| Key { id: c.id, version: c.version }).collect();
    let statement = Statement::from_sql_and_values(
        DbBackend::Postgres,
        WRITE,
        [
            now.into(),
            serde_json::to_string(&batch).map_err(|e| DbErr::Custom(e.to_string()))?.into(),
            serde_json::to_string(&keys).map_err(|e| DbErr::Custom(e.to_string()))?.into(),
        ],
    );
    let mut out = Batch { touched: HashSet::new(), stored: 0, unread: HashMap::new() };
    for row in db.query_all_raw(statement).await? {
        let kind: String = row.try_get("", "kind")?;
        match kind.as_str() {
            "touched" => {
                out.touched.insert(row.try_get("", "conversation_id")?);
            }
            "stored" => out.stored = row.try_get::<i64>("", "count")?.max(0) as usize,
            _ => {
                let user: String = row.try_get("", "user_id")?;
                let conversation: Uuid = row.try_get("", "conversation_id")?;
                let count: i64 = row.try_get("", "count")?;
                let total: i64 = row.try_get("", "total")?;
                out.unread.insert(
                    (user, conversation),
                    Unread { conversation: count.max(0) as u64, total: total.max(0) as u64 },
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
        }
    }
}

#[derive(Serialize)]
struct Key {
    id: Uuid,
    version: i64,
}
