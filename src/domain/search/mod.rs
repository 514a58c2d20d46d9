//! Message search with the database's own full-text index: FTS5 on SQLite,
//! a `tsvector` with a GIN index on PostgreSQL. Only the caller's
//! conversations (admins: all), only messages the caller may see, never
//! deleted or expired ones; best match first, then newest.

pub mod backfill;
mod text;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{conversation, message};
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Statement, Value as DbValue};
use uuid::Uuid;

pub use text::{Terms, highlight, stored, words};

use super::{names::MessageType, pagination::Page, users::Identity};
use crate::error::{AppError, AppResult};

const MIN_QUERY_CHARS: usize = 2;
const MAX_QUERY_CHARS: usize = 200;

/// A checked search.
pub struct Search<'a> {
    pub who: &'a Identity,
    pub terms: Option<Terms>,
    /// Within one conversation (already checked readable).
    pub conversation_id: Option<Uuid>,
    pub page: Page,
    pub now: DateTime<Utc>,
}

/// The words of `q`: 2..200 characters. A query of no words (only emoji or
/// punctuation) is valid and finds nothing.
pub fn terms(q: &str) -> AppResult<Option<Terms>> {
    let n = q.trim().chars().count();
    if !(MIN_QUERY_CHARS..=MAX_QUERY_CHARS).contains(&n) {
        return Err(AppError::invalid_field("q", format!("must be {MIN_QUERY_CHARS}..{MAX_QUERY_CHARS} characters")));
    }
    Ok(Terms::parse(q))
}

pub struct Hit {
    pub message: message::Model,
    pub conversation: conversation::Model,
    pub highlight: String,
}

/// Placeholders in the backend's spelling, with their values in order.
struct Sql {
    backend: DbBackend,
    text: String,
    values: Vec<DbValue>,
}

impl Sql {
    fn param(&mut self, v: impl Into<DbValue>) -> String {
        self.values.push(v.into());
        match self.backend {
            DbBackend::Postgres => format!("${}", self.values.len()),
            _ => "?".to_string(),
        }
    }

    fn push(&mut self, s: &str) {
        self.text.push_str(s);
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Wanted {
    Ids,
    Count,
}

/// How a user's conversations narrow a PostgreSQL search.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Narrow {
    /// Start from the conversations: their ids as an array, so the planner
    /// reads the few thousand messages of a user's conversations through
    /// the `conversation_id` index and checks the words on those, instead
    /// of every match of a common prefix in the whole table.
    FromConversations,
    /// Start from the words (the GIN index), then keep the caller's
    /// conversations: for admins and for users with very many.
    FromWords,
}

/// Whether a PostgreSQL search starts from the caller's conversations: when
/// they have at most [`MAX_SCOPED_CONVERSATIONS`]. SQLite narrows inside
/// FTS5 instead ([`fts5_scope`]).
async fn narrow(db: &impl ConnectionTrait, s: &Search<'_>) -> AppResult<Narrow> {
    if db.get_database_backend() != DbBackend::Postgres || s.who.is_admin() || s.conversation_id.is_some() {
        return Ok(Narrow::FromWords);
    }
    let sql = format!(
        "SELECT count(*) AS n FROM (SELECT 1 FROM conversations c WHERE c.user1_id = $1 OR c.user2_id = $1 \
         LIMIT {}) few",
        MAX_SCOPED_CONVERSATIONS + 1
    );
    let stmt = Statement::from_sql_and_values(DbBackend::Postgres, sql, [s.who.user_id.clone().into()]);
    let n = match db.query_one_raw(stmt).await? {
        Some(row) => row.try_get::<i64>("", "n")?,
        None => 0,
    };
    Ok(if n <= MAX_SCOPED_CONVERSATIONS { Narrow::FromConversations } else { Narrow::FromWords })
}

fn statement(backend: DbBackend, s: &Search<'_>, terms: &Terms, wanted: Wanted, narrow: Narrow) -> Statement {
    let mut q = Sql { backend, text: String::new(), values: vec![] };
    // `found` holds the matches, each with its stored words (`t`, a space
    // on each side of each word) and how many there are, for the ranking.
    let found = "m.id, ' ' || replace(m.search_text, ' ', '  ') || ' ' AS t, \
                 length(m.search_text) - length(replace(m.search_text, ' ', '')) + 1 AS words";
    match (backend, narrow) {
        (DbBackend::Postgres, Narrow::FromConversations) => {
            // The caller's visible messages first, fenced off so the planner
            // cannot intersect them with every match of a short prefix in the
            // GIN index (tens of thousands of entries for two letters); the
            // words are then checked on those few thousand rows.
            q.push("WITH mine AS MATERIALIZED (SELECT m.id, m.search_tsv, m.search_text FROM messages m WHERE TRUE");
            visible(&mut q, s, narrow);
            let p = q.param(terms.tsquery());
            q.push(&format!("), found AS (SELECT {found} FROM mine m WHERE m.search_tsv @@ {p}::tsquery)"));
        }
        (DbBackend::Postgres, Narrow::FromWords) => {
            let p = q.param(terms.tsquery());
            q.push(&format!("WITH found AS (SELECT {found} FROM messages m WHERE m.search_tsv @@ {p}::tsquery"));
            visible(&mut q, s, narrow);
            q.push(")");
        }
        _ => {
            let scope = fts5_scope(&mut q, s);
            let words = q.param(terms.fts5());
            q.push(&format!(
                "WITH found AS (SELECT {found} FROM messages_fts JOIN messages m ON m.rowid = messages_fts.rowid \
                 WHERE messages_fts MATCH {scope} || 'search_text : (' || {words} || ')'"
            ));
            visible(&mut q, s, narrow);
            q.push(")");
        }
    }
    // The page carries the number of all matches (the window is counted
    // before LIMIT), so one pass over the matches answers both.
    if wanted == Wanted::Count {
        q.push(" SELECT count(*) AS n FROM found m");
    } else {
        let score = bm25_alike(&mut q, terms);
        q.push(&format!(" SELECT m.id, count(*) OVER () AS n FROM found m ORDER BY {score} DESC, m.id DESC"));
        let (limit, offset) = (q.param(s.page.limit as i64), q.param(s.page.offset() as i64));
        q.push(&format!(" LIMIT {limit} OFFSET {offset}"));
    }
    Statement::from_sql_and_values(backend, q.text, q.values)
}

/// BM25's constants, as FTS5 and most engines choose them.
const K1: f64 = 1.2;
const B: f64 = 0.75;

/// A match's score over `found m`, the same on both databases: BM25 with
/// the words weighted alike. Neither database's own ranking will do: FTS5's
/// `bm25` weighs each word by its rarity in the whole table, and learns it
/// by reading every posting of every word (over half the table for a
/// two-letter prefix), and PostgreSQL's `tsvector` here keeps no positions,
/// so `ts_rank` cannot count. Every match holds every word, so rarity would
/// only tilt one word against another; what stays rewards a message that
/// holds the words more often and more densely.
fn bm25_alike(q: &mut Sql, terms: &Terms) -> String {
    // How often a pattern occurs in `t`: a whole word as ` w `, the
    // start of a word as ` p` (each word has spaces of its own). Written
    // out at each use, with a placeholder of its own; in floating point,
    // which PostgreSQL computes far faster than `numeric`.
    let occurrences = |q: &mut Sql, pattern: &str| {
        let n = pattern.chars().count();
        let p = q.param(pattern.to_string());
        format!("((length(m.t) - length(replace(m.t, {p}, ''))) / CAST({n} AS DOUBLE PRECISION))")
    };
    let mut patterns: Vec<String> = terms.whole.iter().map(|w| format!(" {w} ")).collect();
    patterns.push(format!(" {}", terms.prefix));
    let length = format!("(1.0 - {B} + {B} * m.words / avg(CAST(m.words AS DOUBLE PRECISION)) OVER ())");
    let parts: Vec<String> = patterns
        .iter()
        .map(|pattern| {
            let (tf, again) = (occurrences(q, pattern), occurrences(q, pattern));
            format!("{tf} * {} / ({again} + {K1} * {length})", K1 + 1.0)
        })
        .collect();
    format!("({})", parts.join(" + "))
}

/// The conditions on `messages m` that keep to what the caller may see:
/// not deleted, not expired, in the searched conversation or the caller's
/// own, and no one else's audit messages.
fn visible(q: &mut Sql, s: &Search<'_>, narrow: Narrow) {
    let now = q.param(s.now);
    q.push(&format!(" AND m.deleted_at IS NULL AND (m.expires_at IS NULL OR m.expires_at > {now})"));
    if let Some(id) = s.conversation_id {
        let p = q.param(id);
        q.push(&format!(" AND m.conversation_id = {p}"));
    }
    if !s.who.is_admin() {
        let (u1, u2) = (q.param(s.who.user_id.clone()), q.param(s.who.user_id.clone()));
        let mine = format!("SELECT c.id FROM conversations c WHERE c.user1_id = {u1} OR c.user2_id = {u2}");
        q.push(&match narrow {
            Narrow::FromConversations => format!(" AND m.conversation_id = ANY(ARRAY({mine}))"),
            Narrow::FromWords => format!(" AND m.conversation_id IN ({mine})"),
        });
        let (audit, me) = (q.param(MessageType::Audit.as_str()), q.param(s.who.user_id.clone()));
        q.push(&format!(" AND (m.message_type <> {audit} OR m.receiver_id = {me})"));
    }
}

/// Above this many conversations a user's search is not narrowed inside the
/// FTS5 index, nor started from the conversations on PostgreSQL (the list
/// of their conversations would outweigh it); the conversations filter
/// after the match still applies.
const MAX_SCOPED_CONVERSATIONS: i64 = 500;

/// The start of an FTS5 query that keeps to the searched conversations, as
/// an SQL expression: their `scope` tokens (see the search-scope
/// migration), so the index intersects the words' matches with those
/// conversations' messages; empty when the search is not narrowed.
fn fts5_scope(q: &mut Sql, s: &Search<'_>) -> String {
    if let Some(id) = s.conversation_id {
        let p = q.param(id);
        return format!("('scope : c' || lower(hex({p})) || ' AND ')");
    }
    if s.who.is_admin() {
        return "''".to_string();
    }
    let (u1, u2) = (q.param(s.who.user_id.clone()), q.param(s.who.user_id.clone()));
    format!(
        "(SELECT CASE WHEN count(*) = 0 THEN 'scope : cnone AND ' \
           WHEN count(*) <= {MAX_SCOPED_CONVERSATIONS} \
           THEN 'scope : (' || group_concat('c' || lower(hex(c.id)), ' OR ') || ') AND ' ELSE '' END \
         FROM conversations c WHERE c.user1_id = {u1} OR c.user2_id = {u2})"
    )
}

/// One page of matches and how many there are in all.
#[tracing::instrument(skip_all, fields(user_id = %s.who.user_id))]
pub async fn search(db: &impl ConnectionTrait, s: &Search<'_>) -> AppResult<(Vec<Hit>, u64)> {
    let Some(terms) = &s.terms else { return Ok((vec![], 0)) };
    let backend = db.get_database_backend();
    let narrow = narrow(db, s).await?;
    let mut ids = vec![];
    let mut total = 0;
    for row in db.query_all_raw(statement(backend, s, terms, Wanted::Ids, narrow)).await? {
        ids.push(row.try_get::<Uuid>("", "id")?);
        total = row.try_get::<i64>("", "n")?.max(0) as u64;
    }
    if ids.is_empty() {
        // A page past the last match still says how many there are.
        if s.page.page > 1
            && let Some(row) = db.query_one_raw(statement(backend, s, terms, Wanted::Count, narrow)).await?
        {
            total = row.try_get::<i64>("", "n")?.max(0) as u64;
        }
        return Ok((vec![], total));
    }
    let mut rows: HashMap<Uuid, message::Model> = message::Entity::find()
        .filter(message::Column::Id.is_in(ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    let conversation_ids: Vec<Uuid> = rows.values().map(|m| m.conversation_id).collect();
    let conversations: HashMap<Uuid, conversation::Model> = conversation::Entity::find()
        .filter(conversation::Column::Id.is_in(conversation_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let hits = ids
        .into_iter()
        .filter_map(|id| {
            let m = rows.remove(&id)?;
            let c = conversations.get(&m.conversation_id)?.clone();
            let highlight = highlight(&m.message, terms);
            Some(Hit { message: m, conversation: c, highlight })
        })
        .collect();
    Ok((hits, total))
}

/// The database's plan for a search's page query, one line per step: the
/// proof that search uses the full-text index and scans no table.
pub async fn explain(db: &impl ConnectionTrait, s: &Search<'_>) -> AppResult<Vec<String>> {
    let Some(terms) = &s.terms else { return Ok(vec![]) };
    let backend = db.get_database_backend();
    let page = statement(backend, s, terms, Wanted::Ids, narrow(db, s).await?);
    let (prefix, column) = match backend {
        DbBackend::Postgres => ("EXPLAIN ", "QUERY PLAN"),
        _ => ("EXPLAIN QUERY PLAN ", "detail"),
    };
    let plan = Statement::from_sql_and_values(
        backend,
        format!("{prefix}{}", page.sql),
        page.values.map(|v| v.0).unwrap_or_default(),
    );
    let mut lines = vec![];
    for row in db.query_all_raw(plan).await? {
        lines.push(row.try_get::<String>("", column)?);
    }
    Ok(lines)
}
