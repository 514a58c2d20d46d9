//! Failures a stand-in can be told to answer with: for one device token
//! (until cleared), or for the next N calls.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

/// A failure a push service may answer with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The token is dead: FCM 404 `UNREGISTERED`, APNs 410 `Unregistered`.
    Gone,
    /// 429, with `Retry-After` when given.
    TooManyRequests { retry_after_secs: Option<u64> },
    /// 500.
    ServerError,
}

/// The failures a stand-in is told to answer with.
#[derive(Clone, Default)]
pub struct Faults(Arc<Mutex<Script>>);

#[derive(Default)]
struct Script {
    per_token: HashMap<String, Fault>,
    next: Vec<Fault>,
}

impl Faults {
    /// Answers every call for `token` with `fault`.
    pub fn fail_token(&self, token: &str, fault: Fault) {
        self.0.lock().unwrap().per_token.insert(token.to_owned(), fault);
    }

    /// Answers the next `n` calls (after any per-token fault) with `fault`.
    pub fn fail_next(&self, n: usize, fault: Fault) {
        self.0.lock().unwrap().next.extend(std::iter::repeat_n(fault, n));
    }

    /// Forgets every fault set so far.
    pub fn clear(&self) {
        let mut script = self.0.lock().unwrap();
        script.per_token.clear();
        script.next.clear();
    }

    /// The fault this call answers with, if any (consuming a next-N one).
    pub(crate) fn take(&self, token: &str) -> Option<Fault> {
        let mut script = self.0.lock().unwrap();
        if let Some(fault) = script.per_token.get(token) {
            return Some(*fault);
        }
        if script.next.is_empty() { None } else { Some(script.next.remove(0)) }
    }
}
