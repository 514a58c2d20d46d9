//! What the kernel knows about the processes under test: resident memory,
//! CPU time, open-file limits, and which process listens on a port.

use std::{fs, time::Instant};

use anyhow::{Context, bail};

/// Clock ticks per second of `/proc/<pid>/stat` times. Linux has used 100
/// (USER_HZ) on every mainstream architecture for decades.
const TICKS_PER_SECOND: f64 = 100.0;

/// `VmRSS` of a process, in KiB.
pub fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).with_context(|| format!("process {pid} is gone"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("no VmRSS for process {pid}"))
}

/// User plus system CPU seconds a process has used so far: its own threads,
/// plus (with `reaped`) the children it has already waited for.
fn cpu_seconds_of(pid: u32, reaped: bool) -> Option<f64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; fields are counted after its ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    // utime, stime, cutime, cstime are fields 14-17 of the full line, 12-15 here.
    let field = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok());
    let mut ticks = field(11)? + field(12)?;
    if reaped {
        ticks += field(13)? + field(14)?;
    }
    Some(ticks / TICKS_PER_SECOND)
}

pub fn cpu_seconds(pid: u32) -> Option<f64> {
    cpu_seconds_of(pid, false)
}

fn parent_of(pid: u32) -> Option<u32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split(' ').nth(1)?.parse().ok()
}

/// A process and (optionally) all its direct children, e.g. the PostgreSQL
/// postmaster and its backends.
#[derive(Clone, Copy, Debug)]
pub struct Watched {
    pub pid: u32,
    pub with_children: bool,
}

impl Watched {
    /// With children, the children that exited meanwhile (PostgreSQL
    /// backends of closed pool connections) still count: the parent has
    /// reaped them into its own children's times.
    pub fn cpu_seconds(&self) -> f64 {
        let mut total = cpu_seconds_of(self.pid, self.with_children).unwrap_or(0.0);
        if self.with_children
            && let Ok(entries) = fs::read_dir("/proc")
        {
            for entry in entries.flatten() {
                let Some(child) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
                    continue;
                };
                if parent_of(child) == Some(self.pid) {
                    total += cpu_seconds(child).unwrap_or(0.0);
                }
            }
        }
        total
    }
}

/// CPU use of a process between two points in time, as a percentage of one
/// core (200 % = both cores of this machine).
pub struct CpuMeter {
    watched: Watched,
    start_cpu: f64,
    start: Instant,
}

impl CpuMeter {
    pub fn start(watched: Watched) -> Self {
        Self { watched, start_cpu: watched.cpu_seconds(), start: Instant::now() }
    }

    pub fn percent(&self) -> f64 {
        let wall = self.start.elapsed().as_secs_f64().max(1e-6);
        (self.watched.cpu_seconds() - self.start_cpu) / wall * 100.0
    }
}

/// The soft `Max open files` of a process, when readable.
pub fn open_file_limit(pid: u32) -> Option<u64> {
    let limits = fs::read_to_string(format!("/proc/{pid}/limits")).ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// The process that listens on TCP `port` (IPv4 or IPv6), found through the
/// socket inode in `/proc/net/tcp*` and the owners' file descriptors.
pub fn pid_listening_on(port: u16) -> anyhow::Result<u32> {
    let mut inodes = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = fs::read_to_string(table) else { continue };
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            // local_address is "ADDR:PORT" in hex; state 0A is LISTEN.
            let (Some(local), Some(state), Some(inode)) = (cols.get(1), cols.get(3), cols.get(9)) else {
                continue;
            };
            let local_port = local.rsplit(':').next().and_then(|p| u16::from_str_radix(p, 16).ok());
            if local_port == Some(port) && *state == "0A" {
                inodes.push(format!("socket:[{inode}]"));
            }
        }
    }
    if inodes.is_empty() {
        bail!("nothing listens on port {port}");
    }
    for entry in fs::read_dir("/proc")?.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(fds) = fs::read_dir(format!("/proc/{pid}/fd")) else { continue };
        for fd in fds.flatten() {
            if let Ok(target) = fs::read_link(fd.path())
                && inodes.iter().any(|i| target.as_os_str() == i.as_str())
            {
                return Ok(pid);
            }
        }
    }
    bail!("a socket listens on port {port} but its process is not visible (run as the same user or root)")
}

/// Median of a few RSS samples taken `gap` apart: smooths out a garbage
/// collector or allocator returning memory in the middle of a reading.
pub async fn settled_rss_kib(pid: u32, samples: usize, gap: std::time::Duration) -> anyhow::Result<u64> {
    let samples = samples.max(1);
    let mut values = Vec::with_capacity(samples);
    for i in 0..samples {
        if i > 0 {
            tokio::time::sleep(gap).await;
        }
        values.push(rss_kib(pid)?);
    }
    values.sort_unstable();
    Ok(values[values.len() / 2])
}
