//! `parley-bench`: drives a Parley (or Node.js baseline) server over
//! Socket.IO v5 with real JWTs and reports what it measured. See
//! BENCHMARKS.md for the scenarios and `bench/run` for a full comparison.

mod fleet;
mod limits;
mod load;
mod probe;
mod procfs;
mod scenarios;
mod stats;
mod store;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(name = "parley-bench", about = "Load generator for Parley and its Node.js baseline")]
struct Cli {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Args, Clone)]
pub struct Common {
    /// The server's base URL.
    #[arg(long, global = true, default_value = "http://127.0.0.1:5000")]
    url: String,
    /// HS256 secret the server verifies tokens with.
    #[arg(long, global = true, env = "JWT_SECRET", default_value = "bench-secret")]
    secret: String,
    /// A name for the server in the output (parley, node, ...).
    #[arg(long, global = true, default_value = "parley")]
    label: String,
    /// The server's process id (default: whoever listens on the URL's port).
    #[arg(long, global = true)]
    server_pid: Option<u32>,
    /// The database's process id; its CPU (with its children, e.g.
    /// PostgreSQL's backends) is reported too.
    #[arg(long, global = true)]
    db_pid: Option<u32>,
    /// The server's database, to count stored messages (sqlite:// or postgres://).
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// Prefix of the simulated users' ids.
    #[arg(long, global = true, default_value = "pb")]
    user_prefix: String,
    /// How many source addresses (127.0.0.2 and up) to spread clients over.
    #[arg(long, global = true, default_value_t = 16)]
    source_ips: u32,
    /// Try to raise the hard open-file limit to this (root only).
    #[arg(long, global = true)]
    nofile: Option<u64>,
    /// Connections being opened at once.
    #[arg(long, global = true, default_value_t = 64)]
    connect_concurrency: usize,
    /// Seconds to wait for a connection (and its join) before giving up.
    #[arg(long, global = true, default_value_t = 15)]
    connect_timeout: u64,
}

#[derive(Subcommand)]
enum Scenario {
    /// N idle connections (user room + one conversation): server RSS per
    /// connection from the slope between two counts, connects per second.
    Idle(IdleArgs),
    /// N users in N/2 direct conversations sending R messages/s in total.
    Chat {
        #[arg(long, default_value_t = 4000)]
        clients: usize,
        #[command(flatten)]
        chat: ChatArgs,
        #[command(flatten)]
        message: MessageArgs,
    },
    /// Raises the rate step by step until p99 passes the limit or anything
    /// is lost; reports the highest rate that held.
    Capacity {
        #[arg(long, default_value_t = 4000)]
        clients: usize,
        #[command(flatten)]
        capacity: CapacityArgs,
        #[command(flatten)]
        message: MessageArgs,
    },
    /// Idle, chat and capacity one after the other on one set of
    /// connections (the set-up is done once); each prints its own
    /// reproducing command.
    Suite {
        /// Users for chat and capacity (the fleet holds max(this, the last idle count)).
        #[arg(long, default_value_t = 4000)]
        clients: usize,
        /// Scenarios to leave out: idle, chat, capacity.
        #[arg(long, value_delimiter = ',')]
        skip: Vec<String>,
        #[command(flatten)]
        idle: IdleArgs,
        #[command(flatten)]
        chat: ChatArgs,
        #[command(flatten)]
        capacity: CapacityArgs,
        #[command(flatten)]
        message: MessageArgs,
    },
    /// Deletes all messages in --database-url (between servers in one run).
    ClearMessages,
}

#[derive(Args, Clone)]
pub struct IdleArgs {
    /// Two or more connection counts, ascending.
    #[arg(long, value_delimiter = ',', default_value = "2000,10000")]
    counts: Vec<usize>,
    /// Seconds to let the server settle before reading its RSS.
    #[arg(long, default_value_t = 3)]
    settle: u64,
    /// Seconds to keep the connections open after measuring (time for a
    /// heap profiler to take its snapshot).
    #[arg(long, default_value_t = 0)]
    hold: u64,
}

#[derive(Args, Clone, Copy)]
pub struct ChatArgs {
    /// Messages per second, all users together.
    #[arg(long, default_value_t = 2000.0)]
    rate: f64,
    /// Seconds measured.
    #[arg(long, default_value_t = 20)]
    duration: u64,
    /// Seconds sent before measuring.
    #[arg(long, default_value_t = 3)]
    warmup: u64,
}

#[derive(Args, Clone, Copy)]
pub struct CapacityArgs {
    #[arg(long, default_value_t = 1000.0)]
    start_rate: f64,
    /// Each step multiplies the rate by this.
    #[arg(long, default_value_t = 1.25)]
    factor: f64,
    #[arg(long, default_value_t = 100_000.0)]
    max_rate: f64,
    /// Seconds per step (after a one-second warm-up).
    #[arg(long, default_value_t = 10)]
    step_secs: u64,
    /// The run stops once p99 exceeds this.
    #[arg(long, default_value_t = 50.0)]
    p99_limit_ms: f64,
    /// Also reported: the highest rate with p99 within this.
    #[arg(long, default_value_t = 25.0)]
    p99_goal_ms: f64,
}

#[derive(Args, Clone, Copy)]
pub struct MessageArgs {
    /// Bytes of message text.
    #[arg(long, default_value_t = 120)]
    text_len: usize,
    /// Seconds before an unanswered send counts as lost.
    #[arg(long, default_value_t = 10)]
    ack_timeout: u64,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let open_files = limits::raise_open_files(cli.common.nofile);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        if let Scenario::ClearMessages = cli.scenario {
            let url = cli.common.database_url.as_deref().context("clear-messages needs --database-url")?;
            let n = store::Store::open(url).await?.clear_messages().await?;
            println!("cleared {n} messages");
            return Ok(());
        }
        let ctx = scenarios::Context::new(&cli.common, open_files).await?;
        match cli.scenario {
            Scenario::Idle(idle) => {
                let mut fleet = ctx.fleet(idle.counts.iter().copied().max().unwrap_or(0)).await?;
                scenarios::idle(&ctx, &mut fleet, &idle).await
            }
            Scenario::Chat { clients, chat, message } => {
                let mut fleet = ctx.fleet(clients).await?;
                ctx.connect_all(&mut fleet).await;
                scenarios::chat(&ctx, &fleet, &chat, &message).await
            }
            Scenario::Capacity { clients, capacity, message } => {
                let mut fleet = ctx.fleet(clients).await?;
                ctx.connect_all(&mut fleet).await;
                scenarios::capacity(&ctx, &fleet, &capacity, &message).await
            }
            Scenario::Suite { clients, skip, idle, chat, capacity, message } => {
                let skipped = |name: &str| skip.iter().any(|s| s == name);
                let last_idle = if skipped("idle") { 0 } else { idle.counts.iter().copied().max().unwrap_or(0) };
                let mut fleet = ctx.fleet(clients.max(last_idle)).await?;
                if !skipped("idle") {
                    scenarios::idle(&ctx, &mut fleet, &idle).await?;
                }
                // Chat and capacity run on the first `clients` users.
                fleet.disconnect_from(clients).await;
                ctx.connect_upto(&mut fleet, clients).await;
                if !skipped("chat") {
                    scenarios::chat(&ctx, &fleet, &chat, &message).await?;
                }
                if !skipped("capacity") {
                    scenarios::capacity(&ctx, &fleet, &capacity, &message).await?;
                }
                fleet.disconnect_all().await;
                Ok(())
            }
            Scenario::ClearMessages => Ok(()),
        }
    })
}
