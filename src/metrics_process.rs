//! The `process_*` metrics operators look for first, read from `/proc` when
//! `/metrics` is scraped (elsewhere they stay at zero).

use std::sync::atomic::AtomicU64;

use prometheus_client::{
    metrics::{counter::Counter, gauge::Gauge},
    registry::Registry,
};

#[derive(Clone, Default)]
pub struct ProcessMetrics {
    cpu_seconds: Counter<f64, AtomicU64>,
    resident_memory_bytes: Gauge,
    virtual_memory_bytes: Gauge,
    open_fds: Gauge,
    start_time_seconds: Gauge,
}

impl ProcessMetrics {
    pub fn register(registry: &mut Registry) -> Self {
        let m = Self::default();
        let started = chrono::Utc::now().timestamp();
        m.start_time_seconds.set(started);
        registry.register("process_cpu_seconds", "User and system CPU time spent", m.cpu_seconds.clone());
        registry.register("process_resident_memory_bytes", "Resident memory", m.resident_memory_bytes.clone());
        registry.register("process_virtual_memory_bytes", "Virtual memory", m.virtual_memory_bytes.clone());
        registry.register("process_open_fds", "Open file descriptors", m.open_fds.clone());
        registry.register(
            "process_start_time_seconds",
            "Start time of the process since the Unix epoch",
            m.start_time_seconds.clone(),
        );
        m
    }

    /// Reads the figures of this process now.
    pub fn observe(&self) {
        // /proc/self/stat: utime and stime are fields 14 and 15 (in clock
        // ticks, 100 a second on Linux), vsize 23 and rss 24 (in pages).
        if let Ok(stat) = std::fs::read_to_string("/proc/self/stat")
            && let Some((_, rest)) = stat.rsplit_once(')')
        {
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let num = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
            // `rest` starts at field 3 (the state).
            let cpu = (num(11) + num(12)) as f64 / 100.0;
            let grown = cpu - self.cpu_seconds.get();
            if grown > 0.0 {
                self.cpu_seconds.inc_by(grown);
            }
            self.virtual_memory_bytes.set(num(20) as i64);
            self.resident_memory_bytes.set((num(21) * 4096) as i64);
        }
        if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
            self.open_fds.set(fds.count() as i64);
        }
    }
}
