//! One chat run: every connected user sends in turn so that the fleet emits
//! `rate` messages per second (an open loop: a slow server does not slow
//! the senders), each with an ack; then the run drains and is tallied.

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::json;

use crate::{
    fleet::{Fleet, peer_of},
    probe::{Run, message_text},
    procfs::{CpuMeter, Watched},
    stats::{Samples, Summary, now_us},
    store::Store,
};

#[derive(Clone, Debug)]
pub struct LoadSpec {
    pub rate: f64,
    pub warmup: Duration,
    pub duration: Duration,
    pub ack_timeout: Duration,
    pub text_len: usize,
}

/// Processes whose CPU a run reports.
#[derive(Clone, Copy, Default)]
pub struct Meters {
    pub server: Option<Watched>,
    pub database: Option<Watched>,
}

pub struct LoadResult {
    pub rate: f64,
    pub planned: u64,
    pub sent: u64,
    pub acked: u64,
    /// Failed acks by error code (or `timeout` / `closed`).
    pub ack_errors: BTreeMap<String, u64>,
    pub delivered: u64,
    pub duplicates: u64,
    pub stored: Option<u64>,
    pub latency: Summary,
    pub ack_latency: Summary,
    /// How late the generator emitted against its schedule.
    pub lag: Summary,
    pub server_cpu: Option<f64>,
    pub database_cpu: Option<f64>,
    pub bench_cpu: f64,
    pub measured: Duration,
}

impl LoadResult {
    /// Every message sent was acked, delivered once and (when counted) stored.
    pub fn lossless(&self) -> bool {
        self.acked == self.sent
            && self.delivered == self.sent
            && self.duplicates == 0
            && self.stored.is_none_or(|s| s == self.acked)
    }

    /// Server CPU time per message of the measured window, in µs: the
    /// window's messages arrive at `rate`, each stored once and delivered
    /// to its room, so this is what one message costs the server.
    pub fn server_us_per_msg(&self) -> Option<f64> {
        let cpu = self.server_cpu?;
        (self.rate > 0.0).then(|| cpu / 100.0 * 1e6 / self.rate)
    }

    pub fn lost(&self) -> u64 {
        self.sent.saturating_sub(self.acked.min(self.delivered).min(self.stored.unwrap_or(u64::MAX)))
    }
}

struct Counters {
    sent: AtomicU64,
    acked: AtomicU64,
    outstanding: AtomicU64,
    ack_errors: Mutex<BTreeMap<String, u64>>,
    ack_latency: Samples,
    lag: Samples,
}

/// A permutation of the connected users, so consecutive sends come from
/// different conversations (a fixed LCG: runs are repeatable).
fn send_order(fleet: &Fleet) -> Vec<usize> {
    let mut order: Vec<usize> = (0..fleet.clients.len())
        .filter(|&i| fleet.clients[i].is_some() && fleet.clients[peer_of(i)].is_some())
        .collect();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in (1..order.len()).rev() {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        order.swap(i, (state >> 33) as usize % (i + 1));
    }
    order
}

/// Waits until the server and its database have worked off what an earlier
/// run (or a wave of disconnects) left queued: each one's CPU over half a
/// second stays under 15 % of a core (at most 60 s).
async fn wait_until_quiet(meters: Meters) {
    let watched: Vec<Watched> = [meters.server, meters.database].into_iter().flatten().collect();
    if watched.is_empty() {
        return;
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let cpu: Vec<CpuMeter> = watched.iter().map(|w| CpuMeter::start(*w)).collect();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let busy = cpu.iter().map(CpuMeter::percent).fold(0.0, f64::max);
        if busy < 15.0 {
            return;
        }
        if Instant::now() > deadline {
            println!("  (the server is still busy at {busy:.0}% CPU after 60 s; starting anyway)");
            return;
        }
    }
}

pub async fn run(
    fleet: &Fleet,
    spec: &LoadSpec,
    meters: Meters,
    store: Option<&Store>,
    run_id: &str,
) -> anyhow::Result<LoadResult> {
    wait_until_quiet(meters).await;
    let order = send_order(fleet);
    if order.is_empty() {
        anyhow::bail!("no connected pairs to send from");
    }
    let total_secs = (spec.warmup + spec.duration).as_secs_f64();
    let planned = (spec.rate * total_secs).round() as u64;
    let run = Arc::new(Run::new(run_id.to_string(), planned as usize));
    fleet.probe.start(run.clone());
    let counters = Arc::new(Counters {
        sent: AtomicU64::new(0),
        acked: AtomicU64::new(0),
        outstanding: AtomicU64::new(0),
        ack_errors: Mutex::new(BTreeMap::new()),
        ack_latency: Samples::default(),
        lag: Samples::default(),
    });

    let start = Instant::now();
    let start_us = now_us();
    let warmup_end_us = start_us + spec.warmup.as_micros() as u64;
    let mut meters_running: Option<(Option<CpuMeter>, Option<CpuMeter>, CpuMeter, Instant)> = None;
    let mut seq: u64 = 0;
    while seq < planned {
        let elapsed = start.elapsed();
        if meters_running.is_none() && elapsed >= spec.warmup {
            run.timed_from_us.store(warmup_end_us, Ordering::Relaxed);
            meters_running = Some((
                meters.server.map(CpuMeter::start),
                meters.database.map(CpuMeter::start),
                CpuMeter::start(Watched { pid: std::process::id(), with_children: false }),
                Instant::now(),
            ));
        }
        let due = ((elapsed.as_secs_f64() * spec.rate) as u64).min(planned);
        while seq < due {
            let sender = order[seq as usize % order.len()];
            let scheduled_us = start_us + (seq as f64 / spec.rate * 1e6) as u64;
            dispatch(fleet, spec, &counters, run_id, seq, sender, scheduled_us, scheduled_us >= warmup_end_us);
            seq += 1;
        }
        tokio::time::sleep(Duration::from_micros(500)).await;
    }
    let (server_cpu, database_cpu, bench_cpu, measured) = match meters_running {
        Some((s, d, b, since)) => (s.map(|m| m.percent()), d.map(|m| m.percent()), b.percent(), since.elapsed()),
        None => (None, None, 0.0, start.elapsed()),
    };

    // Drain: every ack resolves (answer or timeout), then deliveries catch up.
    let drain_deadline = Instant::now() + spec.ack_timeout + Duration::from_secs(1);
    while counters.outstanding.load(Ordering::Relaxed) > 0 && Instant::now() < drain_deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let acked = counters.acked.load(Ordering::Relaxed);
    let delivery_deadline = Instant::now() + Duration::from_secs(3);
    while run.tally().0 < acked && Instant::now() < delivery_deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    fleet.probe.stop();
    let (delivered, duplicates) = run.tally();
    let stored = match store {
        Some(store) => Some(store.count_run(run_id).await?),
        None => None,
    };
    let ack_errors = counters.ack_errors.lock().unwrap_or_else(|e| e.into_inner()).clone();
    Ok(LoadResult {
        rate: spec.rate,
        planned,
        sent: counters.sent.load(Ordering::Relaxed),
        acked,
        ack_errors,
        delivered,
        duplicates,
        stored,
        latency: run.latency.summary(),
        ack_latency: counters.ack_latency.summary(),
        lag: counters.lag.summary(),
        server_cpu,
        database_cpu,
        bench_cpu,
        measured,
    })
}

#[allow(clippy::too_many_arguments)]
fn dispatch(
    fleet: &Fleet,
    spec: &LoadSpec,
    counters: &Arc<Counters>,
    run_id: &str,
    seq: u64,
    sender: usize,
    scheduled_us: u64,
    timed: bool,
) {
    let Some(client) = fleet.clients[sender].clone() else { return };
    let conversation = fleet.users[sender].conversation.clone();
    let counters = counters.clone();
    let run_id = run_id.to_string();
    let text_len = spec.text_len;
    let wait = spec.ack_timeout;
    counters.outstanding.fetch_add(1, Ordering::Relaxed);
    tokio::spawn(async move {
        let emit_us = now_us();
        let payload = json!({
            "conversationId": conversation,
            "message": message_text(&run_id, seq as usize, emit_us, sender, text_len),
            "clientMessageId": format!("{run_id}-{seq}"),
        });
        counters.sent.fetch_add(1, Ordering::Relaxed);
        if timed {
            counters.lag.record_us(emit_us.saturating_sub(scheduled_us));
        }
        let answer = client.ack_within("send_message", payload, wait).await;
        let code = match answer {
            Ok(ack) if ack["success"] == true => {
                counters.acked.fetch_add(1, Ordering::Relaxed);
                if timed {
                    counters.ack_latency.record_us(now_us().saturating_sub(emit_us));
                }
                None
            }
            Ok(ack) => Some(ack["error_code"].as_str().unwrap_or("unknown").to_string()),
            Err(parley_client::Error::Timeout(_)) => Some("timeout".into()),
            Err(e) => Some(format!("client: {e}")),
        };
        if let Some(code) = code {
            *counters.ack_errors.lock().unwrap_or_else(|e| e.into_inner()).entry(code).or_insert(0) += 1;
        }
        counters.outstanding.fetch_sub(1, Ordering::Relaxed);
    });
}
