//! The scenarios: each prints its figures, the limits it met, a
//! machine-readable `result` line and the command that reproduces it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};

use crate::{
    CapacityArgs, ChatArgs, Common, IdleArgs, MessageArgs,
    fleet::{ConnectReport, Fleet, Target},
    limits::{self, SourceAddrs},
    load::{self, LoadResult, LoadSpec, Meters},
    procfs::{self, Watched},
    store::Store,
};

pub struct Context {
    target: Target,
    label: String,
    server_pid: u32,
    meters: Meters,
    store: Option<Store>,
    open_files: u64,
    server_open_files: Option<u64>,
    /// The global options as a command line, for the `reproduce:` lines.
    common_args: String,
}

impl Context {
    pub async fn new(common: &Common, open_files: u64) -> anyhow::Result<Self> {
        let port: u16 = common
            .url
            .trim_end_matches('/')
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .context("--url needs an explicit port, e.g. http://127.0.0.1:5000")?;
        let server_pid = match common.server_pid {
            Some(pid) => pid,
            None => procfs::pid_listening_on(port)?,
        };
        let store = match &common.database_url {
            Some(url) => Some(Store::open(url).await?),
            None => None,
        };
        let label: String = common.label.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
        Ok(Self {
            target: Target {
                base: common.url.trim_end_matches('/').to_string(),
                secret: common.secret.clone(),
                user_prefix: common.user_prefix.clone(),
                sources: SourceAddrs::new(common.source_ips),
                connect_concurrency: common.connect_concurrency,
                connect_timeout: Duration::from_secs(common.connect_timeout),
            },
            label: if label.is_empty() { "server".into() } else { label },
            server_pid,
            meters: Meters {
                server: Some(Watched { pid: server_pid, with_children: false }),
                database: common.db_pid.map(|pid| Watched { pid, with_children: true }),
            },
            store,
            open_files,
            server_open_files: procfs::open_file_limit(server_pid),
            common_args: common_args(common),
        })
    }

    fn reproduce(&self, scenario: &str) {
        println!("reproduce: parley-bench {} {scenario}", self.common_args);
    }

    fn run_id(&self, step: usize) -> String {
        let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        format!("{}{secs}s{step}", self.label)
    }

    /// Prints the limits in force and warns about the ones `clients`
    /// connections will hit.
    fn preflight(&self, clients: usize) {
        let ports = limits::ephemeral_ports();
        let source_capacity = ports as u64 * self.target.sources.count() as u64;
        let server_limit = self.server_open_files.map(|l| l.to_string()).unwrap_or_else(|| "unknown".into());
        println!(
            "{} (pid {}) at {}: bench open-file limit {}, server open-file limit {}, {} source addresses x {} ports",
            self.label,
            self.server_pid,
            self.target.base,
            self.open_files,
            server_limit,
            self.target.sources.count(),
            ports
        );
        let needed = clients as u64 + 64;
        if needed > self.open_files {
            println!(
                "  LIMIT: {clients} connections need ~{needed} descriptors here; expect EMFILE past ~{}",
                self.open_files
            );
        }
        if let Some(limit) = self.server_open_files.filter(|l| needed > *l) {
            println!("  LIMIT: the server may hold at most ~{limit} sockets (its open-file limit)");
        }
        if clients as u64 > source_capacity {
            println!("  LIMIT: {clients} connections exceed {source_capacity} source ports; raise --source-ips");
        }
    }

    pub async fn fleet(&self, clients: usize) -> anyhow::Result<Fleet> {
        self.preflight(clients);
        let mut fleet = Fleet::new(&self.target, clients)?;
        let took = fleet.setup(&self.target).await?;
        println!("setup: {} direct conversations ready in {:.1} s", fleet.users.len() / 2, took.as_secs_f64());
        Ok(fleet)
    }

    /// Connects every user of the fleet that holds no socket yet.
    pub async fn connect_all(&self, fleet: &mut Fleet) {
        self.connect_upto(fleet, fleet.users.len()).await;
    }

    /// Connects users `..upto` that hold no socket yet.
    pub async fn connect_upto(&self, fleet: &mut Fleet, upto: usize) {
        let upto = upto.min(fleet.users.len());
        let from = fleet.clients.iter().take_while(|c| c.is_some()).count();
        if from < upto {
            self.connect(fleet, from..upto).await;
        }
    }

    async fn connect(&self, fleet: &mut Fleet, range: std::ops::Range<usize>) -> ConnectReport {
        let report = fleet.connect(&self.target, range).await;
        println!(
            "connect: {}/{} joined in {:.1} s ({:.0} connects/s)",
            report.connected,
            report.attempted,
            report.elapsed.as_secs_f64(),
            report.per_second()
        );
        if report.join_retries > 0 {
            println!(
                "  SERVER: {} join_conversation events sent right after connect got no ack and were sent again \
                 (the server dropped them: its event handlers were not registered yet)",
                report.join_retries
            );
        }
        for line in report.failures.report(self.open_files, self.server_open_files) {
            println!("{line}");
        }
        report
    }
}

fn common_args(c: &Common) -> String {
    let mut args = vec![format!("--url {}", c.url), format!("--label {}", c.label), format!("--secret '{}'", c.secret)];
    if let Some(url) = &c.database_url {
        args.push(format!("--database-url '{url}'"));
    }
    if let Some(pid) = c.db_pid {
        args.push(format!("--db-pid {pid}"));
    }
    if c.user_prefix != "pb" {
        args.push(format!("--user-prefix {}", c.user_prefix));
    }
    args.push(format!("--source-ips {}", c.source_ips));
    if let Some(n) = c.nofile {
        args.push(format!("--nofile {n}"));
    }
    args.join(" ")
}

fn message_args(m: &MessageArgs) -> String {
    format!("--text-len {} --ack-timeout {}", m.text_len, m.ack_timeout)
}

fn kv(pairs: &[(&str, String)]) -> String {
    pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ")
}

pub async fn idle(ctx: &Context, fleet: &mut Fleet, args: &IdleArgs) -> anyhow::Result<()> {
    let settle = Duration::from_secs(args.settle);
    let mut counts = args.counts.clone();
    counts.sort_unstable();
    counts.dedup();
    let (Some(&first), Some(&last)) = (counts.first(), counts.last()) else {
        bail!("--counts needs at least two connection counts");
    };
    if first == last {
        bail!("--counts needs at least two different connection counts");
    }
    let base_rss = procfs::settled_rss_kib(ctx.server_pid, 3, Duration::from_millis(300)).await?;
    println!("server RSS with no connections: {} KiB", base_rss);
    let mut points: Vec<(usize, u64)> = vec![];
    let mut connects_per_s = vec![];
    let mut from = 0;
    for &n in &counts {
        let upto = n.min(fleet.users.len());
        let report = ctx.connect(fleet, from..upto).await;
        connects_per_s.push(report.per_second());
        from = upto;
        tokio::time::sleep(settle).await;
        let rss = procfs::settled_rss_kib(ctx.server_pid, 5, Duration::from_millis(400)).await?;
        let held = fleet.connected();
        println!("  {held} connections held: server RSS {rss} KiB");
        points.push((held, rss));
    }
    let bench_rss = procfs::rss_kib(std::process::id()).unwrap_or(0);
    if args.hold > 0 {
        println!("holding {} connections for {} s", fleet.connected(), args.hold);
        tokio::time::sleep(Duration::from_secs(args.hold)).await;
    }

    let (Some(&(n1, r1)), Some(&(n2, r2))) = (points.first(), points.last()) else {
        bail!("no measurements");
    };
    if n2 <= n1 {
        bail!("connection count did not grow between steps ({n1} -> {n2}); see the LIMIT lines above");
    }
    let kib_per_conn = (r2 as f64 - r1 as f64) / (n2 - n1) as f64;
    let cps = connects_per_s.iter().copied().fold(0.0, f64::max);
    println!(
        "idle {}: {:.2} KiB RSS per connection (slope {n1} -> {n2}), {cps:.0} connects/s; bench itself {} KiB RSS",
        ctx.label, kib_per_conn, bench_rss
    );
    println!(
        "result {}",
        kv(&[
            ("scenario", "idle".into()),
            ("server", ctx.label.clone()),
            ("n1", n1.to_string()),
            ("n2", n2.to_string()),
            ("rss1_kib", r1.to_string()),
            ("rss2_kib", r2.to_string()),
            ("kib_per_conn", format!("{kib_per_conn:.2}")),
            ("connects_per_s", format!("{cps:.0}")),
        ])
    );
    let counts: Vec<String> = counts.iter().map(usize::to_string).collect();
    ctx.reproduce(&format!("idle --counts {} --settle {}", counts.join(","), args.settle));
    Ok(())
}

fn print_load(label: &str, clients: usize, r: &LoadResult) {
    let stored = r.stored.map(|s| s.to_string()).unwrap_or_else(|| "n/a".into());
    println!(
        "  rate {:.0}/s, {} clients: planned {} sent {} acked {} stored {} delivered {} (dup {}){}",
        r.rate,
        clients,
        r.planned,
        r.sent,
        r.acked,
        stored,
        r.delivered,
        r.duplicates,
        if r.lossless() { "" } else { "  LOSS" }
    );
    if !r.ack_errors.is_empty() {
        println!("  failed acks: {:?}", r.ack_errors);
    }
    println!("  delivery  {}", r.latency);
    let secs = &r.latency.per_second;
    println!(
        "  per second: p99 over {:.0} ms in {} of {} s (worst second {:.1} ms)",
        crate::stats::SLOW_SECOND_P99_MS,
        secs.slow,
        secs.seconds,
        secs.worst_p99
    );
    if secs.slow > 0 {
        // UTC, to match with the server's and the database's logs.
        println!("  slow seconds (UTC): {}", secs.slow_list());
    }
    println!("  ack       {}", r.ack_latency);
    println!("  send lag  {}  (generator behind schedule)", r.lag);
    let pct = |v: Option<f64>| v.map(|v| format!("{v:.0}%")).unwrap_or_else(|| "n/a".into());
    println!(
        "  cpu over {:.1} s: {label} {} ({} per message), database {}, bench {:.0}% (of 200% on 2 cores)",
        r.measured.as_secs_f64(),
        pct(r.server_cpu),
        r.server_us_per_msg().map(|v| format!("{v:.0} µs")).unwrap_or_else(|| "n/a".into()),
        pct(r.database_cpu),
        r.bench_cpu
    );
}

fn load_fields(label: &str, scenario: &str, clients: usize, r: &LoadResult) -> Vec<(&'static str, String)> {
    let opt = |v: Option<f64>| v.map(|v| format!("{v:.0}")).unwrap_or_else(|| "na".into());
    vec![
        ("scenario", scenario.to_string()),
        ("server", label.to_string()),
        ("clients", clients.to_string()),
        ("rate", format!("{:.0}", r.rate)),
        ("sent", r.sent.to_string()),
        ("acked", r.acked.to_string()),
        ("stored", r.stored.map(|s| s.to_string()).unwrap_or_else(|| "na".into())),
        ("delivered", r.delivered.to_string()),
        ("lossless", r.lossless().to_string()),
        ("p50_ms", format!("{:.2}", r.latency.p50)),
        ("p99_ms", format!("{:.2}", r.latency.p99)),
        ("p999_ms", format!("{:.2}", r.latency.p999)),
        ("ack_p50_ms", format!("{:.2}", r.ack_latency.p50)),
        ("ack_p99_ms", format!("{:.2}", r.ack_latency.p99)),
        ("server_cpu_pct", opt(r.server_cpu)),
        ("server_us_per_msg", opt(r.server_us_per_msg())),
        ("db_cpu_pct", opt(r.database_cpu)),
        ("bench_cpu_pct", format!("{:.0}", r.bench_cpu)),
    ]
}

pub async fn chat(ctx: &Context, fleet: &Fleet, args: &ChatArgs, msg: &MessageArgs) -> anyhow::Result<()> {
    let held = fleet.connected();
    if held < 2 {
        bail!("too few connections to chat");
    }
    let spec = LoadSpec {
        rate: args.rate,
        warmup: Duration::from_secs(args.warmup),
        duration: Duration::from_secs(args.duration),
        ack_timeout: Duration::from_secs(msg.ack_timeout),
        text_len: msg.text_len,
    };
    println!(
        "chat {}: {held} clients, {:.0} msg/s for {} s after a {} s warm-up",
        ctx.label, args.rate, args.duration, args.warmup
    );
    let r = load::run(fleet, &spec, ctx.meters, ctx.store.as_ref(), &ctx.run_id(0)).await?;
    print_load(&ctx.label, held, &r);
    println!("result {}", kv(&load_fields(&ctx.label, "chat", held, &r)));
    ctx.reproduce(&format!(
        "chat --clients {} --rate {} --duration {} --warmup {} {}",
        held,
        args.rate,
        args.duration,
        args.warmup,
        message_args(msg)
    ));
    Ok(())
}

pub async fn capacity(ctx: &Context, fleet: &Fleet, steps: &CapacityArgs, msg: &MessageArgs) -> anyhow::Result<()> {
    let held = fleet.connected();
    let factor = steps.factor.max(1.01);
    println!(
        "capacity {}: {held} clients, from {:.0} msg/s x{} per {} s step until p99 > {} ms or loss",
        ctx.label, steps.start_rate, factor, steps.step_secs, steps.p99_limit_ms
    );
    let mut best_limit: Option<LoadResult> = None;
    let mut best_goal: Option<f64> = None;
    let mut failed: Option<(LoadResult, String)> = None;
    let mut rate = steps.start_rate;
    let mut step = 0;
    while rate <= steps.max_rate {
        step += 1;
        let spec = LoadSpec {
            rate,
            warmup: Duration::from_secs(1),
            duration: Duration::from_secs(steps.step_secs),
            ack_timeout: Duration::from_secs(msg.ack_timeout),
            text_len: msg.text_len,
        };
        let r = load::run(fleet, &spec, ctx.meters, ctx.store.as_ref(), &ctx.run_id(step)).await?;
        println!("step {step}:");
        print_load(&ctx.label, held, &r);
        if r.lossless() && r.latency.p99 <= steps.p99_goal_ms {
            best_goal = Some(best_goal.map_or(rate, |b: f64| b.max(rate)));
        }
        let why = if !r.lossless() {
            Some(format!("lost {} of {} (acked {}, delivered {})", r.lost(), r.sent, r.acked, r.delivered))
        } else if r.latency.p99 > steps.p99_limit_ms {
            let secs = &r.latency.per_second;
            Some(format!(
                "p99 {:.1} ms > {} ms (seconds over: {} of {})",
                r.latency.p99, steps.p99_limit_ms, secs.slow, secs.seconds
            ))
        } else {
            None
        };
        if let Some(why) = why {
            // When even the first rate fails, halve it until one holds.
            let lower = rate / 2.0;
            if best_limit.is_none() && lower >= steps.start_rate / 32.0 {
                println!("  fails at the start rate; trying {lower:.0} msg/s");
                failed = Some((r, why));
                rate = lower;
                tokio::time::sleep(Duration::from_secs(3)).await;
                continue;
            }
            failed = Some((r, why));
            break;
        }
        best_limit = Some(r);
        if failed.as_ref().is_some_and(|(f, _)| f.rate <= rate * factor) {
            // The next step up already failed on the way down.
            break;
        }
        rate *= factor;
        // Let queues empty before the next step.
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    // No step met the tighter goal: halve from the lowest rate tried until one does.
    if best_goal.is_none() {
        let mut lower = steps.start_rate.min(best_limit.as_ref().map_or(f64::MAX, |r| r.rate)) / 2.0;
        while lower >= steps.start_rate / 32.0 {
            step += 1;
            let spec = LoadSpec {
                rate: lower,
                warmup: Duration::from_secs(1),
                duration: Duration::from_secs(steps.step_secs),
                ack_timeout: Duration::from_secs(msg.ack_timeout),
                text_len: msg.text_len,
            };
            let r = load::run(fleet, &spec, ctx.meters, ctx.store.as_ref(), &ctx.run_id(step)).await?;
            println!("step {step} (for p99 <= {} ms):", steps.p99_goal_ms);
            print_load(&ctx.label, held, &r);
            if r.lossless() && r.latency.p99 <= steps.p99_goal_ms {
                best_goal = Some(lower);
                break;
            }
            lower /= 2.0;
        }
    }
    let best_rate = best_limit.as_ref().map(|r| r.rate).unwrap_or(0.0);
    println!(
        "capacity {}: highest durable rate {:.0} msg/s with p99 <= {} ms; {:.0} msg/s with p99 <= {} ms",
        ctx.label,
        best_rate,
        steps.p99_limit_ms,
        best_goal.unwrap_or(0.0),
        steps.p99_goal_ms
    );
    match &failed {
        Some((r, why)) => {
            let pct = |v: Option<f64>| v.map(|v| format!("{v:.0}%")).unwrap_or_else(|| "n/a".into());
            println!(
                "  stopped at {:.0} msg/s: {why}; cpu there: server {}, database {}, bench {:.0}%",
                r.rate,
                pct(r.server_cpu),
                pct(r.database_cpu),
                r.bench_cpu
            );
        }
        None => println!("  reached --max-rate {:.0} without failing", steps.max_rate),
    }
    let mut fields = vec![
        ("scenario", "capacity".to_string()),
        ("server", ctx.label.clone()),
        ("clients", held.to_string()),
        ("durable_msgs_per_s", format!("{best_rate:.0}")),
        ("goal_msgs_per_s", format!("{:.0}", best_goal.unwrap_or(0.0))),
        ("p99_limit_ms", steps.p99_limit_ms.to_string()),
        ("p99_goal_ms", steps.p99_goal_ms.to_string()),
    ];
    if let Some(r) = &best_limit {
        fields.push(("best_p50_ms", format!("{:.2}", r.latency.p50)));
        fields.push(("best_p99_ms", format!("{:.2}", r.latency.p99)));
        fields.push(("best_server_cpu_pct", r.server_cpu.map(|v| format!("{v:.0}")).unwrap_or_else(|| "na".into())));
        fields.push(("best_db_cpu_pct", r.database_cpu.map(|v| format!("{v:.0}")).unwrap_or_else(|| "na".into())));
    }
    println!("result {}", kv(&fields));
    ctx.reproduce(&format!(
        "capacity --clients {} --start-rate {} --factor {} --max-rate {} --step-secs {} --p99-limit-ms {} --p99-goal-ms {} {}",
        held,
        steps.start_rate,
        factor,
        steps.max_rate,
        steps.step_secs,
        steps.p99_limit_ms,
        steps.p99_goal_ms,
        message_args(msg)
    ));
    Ok(())
}
