//! The limits a load generator runs into on one machine, raised where we
//! can and named where we cannot: open files, source ports, timeouts.

use std::{
    collections::BTreeMap,
    fmt,
    net::{IpAddr, Ipv4Addr},
    sync::Mutex,
};

use nix::sys::resource::{Resource, getrlimit, setrlimit};

/// Raises the soft open-file limit to the hard one; with `wanted` above the
/// hard limit, first tries to raise the hard limit too (root only). Returns
/// the soft limit in force.
pub fn raise_open_files(wanted: Option<u64>) -> u64 {
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        eprintln!("bench: could not read RLIMIT_NOFILE; keeping the default");
        return 1024;
    };
    let mut target_hard = hard;
    if let Some(w) = wanted.filter(|w| *w > hard) {
        match setrlimit(Resource::RLIMIT_NOFILE, w, w) {
            Ok(()) => target_hard = w,
            Err(e) => eprintln!("bench: could not raise the hard open-file limit {hard} to {w} ({e}); needs root"),
        }
    }
    if soft < target_hard
        && let Err(e) = setrlimit(Resource::RLIMIT_NOFILE, target_hard, target_hard)
    {
        eprintln!("bench: could not raise the open-file limit from {soft} to {target_hard}: {e}");
        return soft;
    }
    getrlimit(Resource::RLIMIT_NOFILE).map(|(s, _)| s).unwrap_or(soft)
}

/// Source addresses for client sockets: 127.0.0.2, 127.0.0.3, ... Each gets
/// its own ephemeral port range, so N connections to one server port need
/// N / (ports per address) addresses instead of running out at ~28,000.
#[derive(Clone, Debug)]
pub struct SourceAddrs {
    count: u32,
}

impl SourceAddrs {
    pub fn new(count: u32) -> Self {
        Self { count: count.clamp(1, 65_000) }
    }

    pub fn for_client(&self, index: usize) -> IpAddr {
        let n = 2 + (index as u32 % self.count);
        IpAddr::V4(Ipv4Addr::new(127, (n >> 16) as u8, (n >> 8) as u8, n as u8))
    }

    pub fn count(&self) -> u32 {
        self.count
    }
}

/// Ports per source address, from `/proc/sys/net/ipv4/ip_local_port_range`.
pub fn ephemeral_ports() -> u32 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| {
            let mut it = s.split_whitespace().filter_map(|v| v.parse::<u32>().ok());
            Some(it.next_back()? - it.next()? + 1)
        })
        .unwrap_or(28_000)
}

/// Why a connection failed, in the terms of the limit it hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Failure {
    /// EMFILE/ENFILE in the load generator: open-file limit.
    TooManyOpenFiles,
    /// EADDRNOTAVAIL: out of source ports.
    NoSourcePort,
    /// ECONNREFUSED: nothing listens, or the listen backlog overflowed.
    Refused,
    /// ECONNRESET / closed during the handshake: the server dropped it
    /// (often its own open-file limit).
    Reset,
    /// The server answered `connect_error`.
    Unauthorized,
    Timeout,
    /// `join_conversation` did not succeed.
    JoinFailed,
    Other,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::TooManyOpenFiles => "EMFILE (bench open-file limit)",
            Self::NoSourcePort => "EADDRNOTAVAIL (source ports exhausted)",
            Self::Refused => "ECONNREFUSED (not listening or backlog full)",
            Self::Reset => "reset/closed by server",
            Self::Unauthorized => "connect_error from server",
            Self::Timeout => "timeout",
            Self::JoinFailed => "join_conversation failed",
            Self::Other => "other",
        })
    }
}

pub fn classify(err: &parley_client::Error) -> Failure {
    use parley_client::Error;
    match err {
        Error::Refused(_) => Failure::Unauthorized,
        Error::Timeout(_) => Failure::Timeout,
        Error::Closed => Failure::Reset,
        Error::Io(msg) | Error::Protocol(msg) => {
            if msg.contains("os error 24") || msg.contains("os error 23") {
                Failure::TooManyOpenFiles
            } else if msg.contains("os error 99") {
                Failure::NoSourcePort
            } else if msg.contains("os error 111") {
                Failure::Refused
            } else if msg.contains("os error 104") || msg.contains("os error 32") || msg.contains("closed") {
                Failure::Reset
            } else if msg.contains("timed out") || msg.contains("os error 110") {
                Failure::Timeout
            } else {
                Failure::Other
            }
        }
    }
}

/// Failures counted by kind, with the first message of each kind.
#[derive(Default)]
pub struct Failures {
    inner: Mutex<BTreeMap<Failure, (u64, String)>>,
}

impl Failures {
    pub fn record(&self, kind: Failure, detail: String) {
        let mut map = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let entry = map.entry(kind).or_insert((0, detail));
        entry.0 += 1;
    }

    /// One line per kind, plus what to do about the limits we recognise.
    pub fn report(&self, open_file_limit: u64, server_limit: Option<u64>) -> Vec<String> {
        let map = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut lines: Vec<String> =
            map.iter().map(|(kind, (n, first))| format!("  {n} x {kind}: first: {first}")).collect();
        if map.contains_key(&Failure::TooManyOpenFiles) {
            lines.push(format!(
                "  LIMIT: the load generator's open-file limit ({open_file_limit}) was reached; raise the hard \
                 limit (ulimit -Hn, or run as root with --nofile)"
            ));
        }
        if map.contains_key(&Failure::NoSourcePort) {
            lines.push("  LIMIT: source ports exhausted; pass a larger --source-ips".into());
        }
        if map.contains_key(&Failure::Reset) || map.contains_key(&Failure::Refused) {
            let server = server_limit.map(|l| l.to_string()).unwrap_or_else(|| "unknown".into());
            lines.push(format!(
                "  LIMIT?: the server dropped or refused connections; its open-file limit is {server}, and \
                 net.core.somaxconn bounds its accept backlog"
            ));
        }
        lines
    }
}
