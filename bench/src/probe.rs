//! What the clients' event hooks record: each `new_message` a user receives
//! from its peer, matched to the send that caused it through a marker in the
//! message text, without parsing the JSON.
//!
//! The text of every bench message starts with
//! `pb~<run>~<seq>~<emit_us>~<sender>~`, where `emit_us` is microseconds
//! on the bench's clock, `stats::now_us` (all clients live in this
//! process, so one clock serves).

use std::sync::{
    Arc, RwLock,
    atomic::{AtomicU8, AtomicU64, Ordering},
};

use parley_client::RawHook;

use crate::stats::{Samples, now_us};

/// One load run: the sends it planned and what arrived.
pub struct Run {
    pub id: String,
    /// Deliveries per planned message (to the peer, not the echo).
    pub arrivals: Vec<AtomicU8>,
    pub delivered: AtomicU64,
    pub echoes: AtomicU64,
    /// Messages whose marker did not parse or named an unknown sequence.
    pub strays: AtomicU64,
    pub latency: Samples,
    /// Sends emitted before this (the warm-up) are delivered and counted
    /// but not timed.
    pub timed_from_us: AtomicU64,
}

impl Run {
    pub fn new(id: String, planned: usize) -> Self {
        Self {
            id,
            arrivals: (0..planned).map(|_| AtomicU8::new(0)).collect(),
            delivered: AtomicU64::new(0),
            echoes: AtomicU64::new(0),
            strays: AtomicU64::new(0),
            latency: Samples::default(),
            timed_from_us: AtomicU64::new(u64::MAX),
        }
    }

    /// (distinct messages delivered, duplicate deliveries)
    pub fn tally(&self) -> (u64, u64) {
        let mut unique = 0;
        let mut dups = 0;
        for a in &self.arrivals {
            let n = a.load(Ordering::Relaxed) as u64;
            if n > 0 {
                unique += 1;
                dups += n - 1;
            }
        }
        (unique, dups)
    }

    fn arrived(&self, receiver: usize, text: &str) {
        let mut parts = text.split('~');
        let (Some(run), Some(seq), Some(emit), Some(sender)) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            self.strays.fetch_add(1, Ordering::Relaxed);
            return;
        };
        if run != self.id {
            // A late arrival from an earlier run.
            return;
        }
        if sender.parse::<usize>().ok() == Some(receiver) {
            self.echoes.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let (Ok(seq), Ok(emit)) = (seq.parse::<usize>(), emit.parse::<u64>()) else {
            self.strays.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let Some(slot) = self.arrivals.get(seq) else {
            self.strays.fetch_add(1, Ordering::Relaxed);
            return;
        };
        slot.fetch_add(1, Ordering::Relaxed);
        self.delivered.fetch_add(1, Ordering::Relaxed);
        if emit >= self.timed_from_us.load(Ordering::Relaxed) {
            self.latency.record_us(now_us().saturating_sub(emit));
        }
    }
}

/// Shared by every client's hook; the current run is swapped in and out.
#[derive(Default)]
pub struct Probe {
    current: RwLock<Option<Arc<Run>>>,
    pub other_events: AtomicU64,
}

const MARKER: &str = "pb~";

impl Probe {
    pub fn start(&self, run: Arc<Run>) {
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Some(run);
    }

    pub fn stop(&self) {
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// The raw-event hook of user `index`: consumes every event.
    pub fn hook_for(self: &Arc<Self>, index: usize) -> RawHook {
        let probe = self.clone();
        Arc::new(move |body: &str| {
            if body.starts_with("[\"new_message\"")
                && let Some(at) = body.find(MARKER)
            {
                let run = probe.current.read().unwrap_or_else(|e| e.into_inner()).clone();
                if let Some(run) = run {
                    run.arrived(index, &body[at + MARKER.len()..]);
                }
            } else {
                probe.other_events.fetch_add(1, Ordering::Relaxed);
            }
            true
        })
    }
}

/// The text of bench message `seq` of run `run`, padded to `len` bytes.
pub fn message_text(run: &str, seq: usize, emit_us: u64, sender: usize, len: usize) -> String {
    let mut text = format!("{MARKER}{run}~{seq}~{emit_us}~{sender}~");
    while text.len() < len {
        text.push_str(" lorem ipsum");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_delivery_is_timed_and_echo_is_not() {
        let probe = Arc::new(Probe::default());
        let run = Arc::new(Run::new("r1".into(), 4));
        run.timed_from_us.store(0, Ordering::Relaxed);
        probe.start(run.clone());
        let text = message_text("r1", 2, now_us(), 0, 80);
        let body = format!(r#"["new_message",{{"message":{{"message":"{text}"}}}}]"#);
        assert!((probe.hook_for(1))(&body));
        assert!((probe.hook_for(0))(&body));
        assert_eq!(run.tally(), (1, 0));
        assert_eq!(run.echoes.load(Ordering::Relaxed), 1);
        assert_eq!(run.latency.summary().count, 1);
    }

    #[test]
    fn other_runs_are_ignored() {
        let probe = Arc::new(Probe::default());
        let run = Arc::new(Run::new("r2".into(), 4));
        probe.start(run.clone());
        let body = format!(r#"["new_message",{{"m":"{}"}}]"#, message_text("r1", 1, 0, 0, 10));
        (probe.hook_for(1))(&body);
        assert_eq!(run.tally(), (0, 0));
    }
}
