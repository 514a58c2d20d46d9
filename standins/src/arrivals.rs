//! A count of arrivals that tests can await without sleeping.

use std::time::Duration;

use tokio::sync::watch;

#[derive(Clone, Debug)]
pub struct Arrivals(watch::Sender<usize>);

impl Default for Arrivals {
    fn default() -> Self {
        Self(watch::channel(0).0)
    }
}

impl Arrivals {
    pub(crate) fn arrived(&self) {
        self.0.send_modify(|n| *n += 1);
    }

    pub fn count(&self) -> usize {
        *self.0.borrow()
    }

    /// Waits until at least `n` have arrived; panics after `within`.
    pub async fn wait_for(&self, n: usize, within: Duration) {
        let mut rx = self.0.subscribe();
        let waited = tokio::time::timeout(within, rx.wait_for(|count| *count >= n)).await;
        match waited {
            Ok(Ok(_)) => {}
            _ => panic!("waited {within:?} for {n} arrivals, saw {}", self.count()),
        }
    }
}
