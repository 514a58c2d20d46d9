//! Search latency over N stored messages: fills a fresh database (SQLite
//! file or a new PostgreSQL database) with N messages in 2,000 direct
//! conversations among 1,000 users, then runs 1,000 searches of one or two
//! words (the last a prefix) as users who take part in about four
//! conversations each, through the same domain function the REST route
//! calls, and prints p50/p99.
//!
//!   cargo run -p parley-bench --bin search -- --messages 1000000
//!   cargo run -p parley-bench --bin search -- --messages 1000000 --postgres postgres://postgres@127.0.0.1:55432/postgres

use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use entity::{conversation, message};
use parley::domain::{
    pagination::Page,
    search::{self, Search},
    users::{Identity, Role},
};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, EntityTrait, Statement, TransactionTrait};
use serde_json::json;

#[derive(Parser)]
struct Args {
    /// Messages to store.
    #[arg(long, default_value_t = 100_000)]
    messages: usize,
    /// A PostgreSQL server URL (a database is created on it); SQLite otherwise.
    #[arg(long)]
    postgres: Option<String>,
    #[arg(long, default_value_t = 1000)]
    queries: usize,
    /// Keep the database afterwards (its URL is printed), to study the
    /// plans or search it again with `--reuse`.
    #[arg(long)]
    keep: bool,
    /// Search a database filled by an earlier `--keep` run instead of
    /// filling a new one (the same queries are asked either way).
    #[arg(long)]
    reuse: Option<String>,
    /// Print this many of the slowest queries (who asked, what, how long).
    #[arg(long, default_value_t = 0)]
    slowest: usize,
}

const USERS: usize = 1000;
const CONVERSATIONS: usize = 2000;

/// A small deterministic generator, so every run stores the same corpus.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Words in several scripts, as a chat corpus mixes them.
fn vocabulary() -> Vec<String> {
    let seeds = [
        "invoice",
        "payment",
        "reel",
        "draft",
        "shoot",
        "campaign",
        "café",
        "niño",
        "straße",
        "größe",
        "नमस्ते",
        "बातचीत",
        "उपलब्ध",
        "कल",
        "thursday",
        "review",
        "budget",
        "story",
        "deadline",
        "contract",
    ];
    let syllables = ["ka", "ri", "mo", "te", "lu", "sa", "ne", "po", "vi", "da", "ré", "ñu"];
    let mut words: Vec<String> = seeds.iter().map(|s| s.to_string()).collect();
    let mut rng = Rng(7);
    while words.len() < 20_000 {
        let n = 2 + rng.below(3);
        words.push((0..n).map(|_| syllables[rng.below(syllables.len())]).collect());
    }
    words
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let words = vocabulary();
    let users: Vec<String> = (0..USERS).map(|i| format!("user-{i}")).collect();
    let now = chrono::Utc::now();
    let (db, url, fill, dir) = match &args.reuse {
        Some(url) => (Database::connect(url.as_str()).await?, url.clone(), None, None),
        None => {
            let (url, dir) = create(&args).await?;
            let db = Database::connect(url.as_str()).await?;
            parley::db::migrate(&db).await?;
            let took = fill(&db, args.messages, &words, &users, now).await?;
            db.execute_unprepared("ANALYZE").await?;
            (db, url, Some(took), dir)
        }
    };
    // The queries have their own generator, so a reused database is asked
    // the same questions as a fresh one.
    let mut rng = Rng(99);
    let stored = match db
        .query_one_raw(Statement::from_string(db.get_database_backend(), "SELECT count(*) AS n FROM messages"))
        .await?
    {
        Some(row) => row.try_get::<i64>("", "n")?,
        None => 0,
    };
    let mut times = Vec::with_capacity(args.queries);
    let mut asked = Vec::with_capacity(args.queries);
    let mut found = 0u64;
    for i in 0..args.queries {
        let user = &users[rng.below(USERS)];
        let who = Identity {
            user_id: user.clone(),
            role: Role::Other("influencer".into()),
            name: None,
            email: None,
            phone: None,
        };
        let w = &words[rng.below(words.len())];
        let q = if i % 2 == 0 {
            // The last word typed halfway.
            let half: String = w.chars().take(w.chars().count().div_ceil(2).max(2)).collect();
            half
        } else {
            format!("{} {}", words[rng.below(words.len())], w)
        };
        let s = Search {
            who: &who,
            terms: search::terms(&q)?,
            conversation_id: None,
            page: Page { page: 1, limit: 20 },
            now,
        };
        let t = Instant::now();
        let (_, total) = search::search(&db, &s).await?;
        times.push(t.elapsed());
        asked.push((t.elapsed(), user.clone(), q, total));
        found += total;
    }
    asked.sort_by_key(|a| std::cmp::Reverse(a.0));
    for (took, user, q, total) in asked.iter().take(args.slowest) {
        println!("{:8.2} ms  {user:10} {q:?} ({total} matches)", took.as_secs_f64() * 1000.0);
    }
    times.sort();
    let pct = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)].as_secs_f64() * 1000.0;
    let backend = if url.starts_with("postgres") { "postgres" } else { "sqlite" };
    println!(
        "search {backend}: {} messages ({}), {} queries: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, mean hits {:.1}",
        stored,
        fill.map_or("reused".to_string(), |d| format!("stored in {:.1} s", d.as_secs_f64())),
        args.queries,
        pct(0.50),
        pct(0.99),
        times.last().map(|d| d.as_secs_f64() * 1000.0).unwrap_or_default(),
        found as f64 / args.queries as f64
    );
    if args.reuse.is_some() {
    } else if args.keep {
        if let Some(dir) = dir {
            let _ = dir.keep();
        }
        println!("kept the database: {url}");
    } else if let Some(admin) = &args.postgres {
        db.close().await?;
        let name = url.rsplit('/').next().unwrap_or_default().to_string();
        let admin_db = Database::connect(admin.as_str()).await?;
        admin_db.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}")).await?;
    }
    Ok(())
}

/// A new database: a SQLite file in a temporary directory, or a new
/// database on the PostgreSQL server.
async fn create(args: &Args) -> anyhow::Result<(String, Option<tempfile::TempDir>)> {
    Ok(match &args.postgres {
        Some(admin) => {
            let name = format!("parley_search_bench_{}", uuid::Uuid::now_v7().simple());
            let db = Database::connect(admin.as_str()).await?;
            db.execute_unprepared(&format!("CREATE DATABASE {name}")).await?;
            let (prefix, _) = admin.rsplit_once('/').context("the URL needs a database path")?;
            (format!("{prefix}/{name}"), None)
        }
        None => {
            let dir = tempfile::tempdir()?;
            (format!("sqlite://{}?mode=rwc", dir.path().join("search.db").display()), Some(dir))
        }
    })
}

/// Stores `messages` messages in 2,000 direct conversations; returns how
/// long it took.
async fn fill(
    db: &DatabaseConnection,
    messages: usize,
    words: &[String],
    users: &[String],
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<Duration> {
    let mut rng = Rng(42);
    let mut pairs = Vec::with_capacity(CONVERSATIONS);
    let convs: Vec<conversation::ActiveModel> = (0..CONVERSATIONS)
        .map(|i| {
            let (a, b) = (i % USERS, (i * 7 + 1 + rng.below(USERS - 1)) % USERS);
            let b = if a == b { (b + 1) % USERS } else { b };
            let id = uuid::Uuid::now_v7();
            pairs.push((id, users[a].clone(), users[b].clone()));
            conversation::ActiveModel::from(conversation::Model {
                id,
                conversation_type: "direct".into(),
                user1_id: users[a].clone(),
                user2_id: users[b].clone(),
                pair_key: format!("bench:{i}"),
                campaign_id: None,
                bid_id: None,
                request_id: None,
                chat_status: "real_time".into(),
                flow_state: None,
                awaiting_role: None,
                flow_data: json!({}),
                current_action_data: None,
                revision_count: 0,
                max_revisions: 0,
                version: 0,
                message_ttl_seconds: None,
                offer_expires_at: None,
                last_message_at: now,
                created_at: now,
                updated_at: now,
                contexts: None,
            })
        })
        .collect();
    for chunk in convs.chunks(500) {
        conversation::Entity::insert_many(chunk.to_vec()).exec_without_returning(db).await?;
    }
    let started = Instant::now();
    let mut stored = 0;
    while stored < messages {
        let n = (messages - stored).min(5_000);
        let rows: Vec<message::ActiveModel> = (0..n)
            .map(|_| {
                let (cid, a, b) = &pairs[rng.below(pairs.len())];
                let len = 4 + rng.below(12);
                let text: Vec<&str> = (0..len).map(|_| words[rng.below(words.len())].as_str()).collect();
                let text = text.join(" ");
                message::ActiveModel::from(message::Model {
                    id: uuid::Uuid::now_v7(),
                    conversation_id: *cid,
                    sender_id: a.clone(),
                    receiver_id: b.clone(),
                    search_text: search::stored(&text),
                    message: text,
                    media_url: None,
                    message_type: "user_input".into(),
                    action_required: false,
                    action_data: None,
                    is_automated: false,
                    action_completed: false,
                    seen: true,
                    seen_at: None,
                    client_message_id: None,
                    expires_at: None,
                    emit_pending: false,
                    created_at: now,
                    edited_at: None,
                    deleted_at: None,
                    reply_to_id: None,
                    reply_to: None,
                    reactions: None,
                    original_message: None,
                    moderation: None,
                })
            })
            .collect();
        let txn = db.begin().await?;
        for chunk in rows.chunks(500) {
            message::Entity::insert_many(chunk.to_vec()).exec_without_returning(&txn).await?;
        }
        txn.commit().await?;
        stored += n;
        if stored % 100_000 == 0 || stored == messages {
            eprintln!("stored {stored} of {} messages ({:.0} s)", messages, started.elapsed().as_secs_f64());
        }
    }
    Ok(started.elapsed())
}
