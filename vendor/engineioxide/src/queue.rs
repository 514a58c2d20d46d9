//! PATCH(parley): a bounded single-consumer queue that holds no memory while
//! it is empty.
//!
//! Upstream used `tokio::sync::mpsc::channel(max_buffer_size)` for each
//! socket's outgoing packets and a second `mpsc::channel(1)` for heartbeat
//! signals. A tokio channel allocates its first block of 32 slots when it is
//! created (about 5.5 KiB for `PacketBuf`) and its cache-padded state (about
//! 0.5 KiB) whether or not anything is ever sent, so every idle connection
//! paid for both. This queue allocates its buffer when the first item is
//! pushed and frees it when the consumer drains it, and its shared state is a
//! mutex, a `VecDeque` header and a waker.
//!
//! It keeps the semantics the crate relied on: a bounded capacity that
//! permits (reserved slots) count against, `Full` and `Closed` errors from
//! `try_send` and `try_reserve` with the item handed back, a receiver that can
//! `close` the queue and still drain what is in it, `recv` returning `None`
//! once the queue is closed (or the sender dropped) and empty, and a sender
//! that can wait for the receiver to close. It also holds one volatile item
//! outside the capacity (the newest replaces an unsent one), which upstream
//! kept in a `watch` channel per socket.
use std::{
    collections::VecDeque,
    fmt,
    future::poll_fn,
    sync::{Arc, Mutex, MutexGuard},
    task::{Context, Poll, Waker},
};

use tokio::sync::{
    Notify,
    mpsc::error::{SendError, TryRecvError, TrySendError},
};

struct State<T> {
    items: VecDeque<T>,
    /// Slots held by permits that have not been used yet.
    reserved: usize,
    /// The receiver closed the queue or was dropped.
    closed: bool,
    /// The sender was dropped.
    sender_gone: bool,
    /// The receiver waiting for an item, if any.
    waker: Option<Waker>,
    /// A [`Sender::send`] is waiting for room.
    room_wanted: bool,
    /// The latest volatile item, outside the capacity: a newer one replaces
    /// it, and it is received after what is queued. Boxed, so a queue that
    /// never gets one holds a pointer.
    latest: Option<Box<T>>,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    capacity: usize,
    /// Woken when the queue closes (for [`Sender::closed`]) and when room is
    /// made while a [`Sender::send`] waits for it.
    on_change: Notify,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // A panic while the lock is held leaves the state consistent (every
        // change is a single field update), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether every slot is taken by a queued item or a permit.
    fn full(&self, state: &State<T>) -> bool {
        state.items.len() + state.reserved >= self.capacity
    }

    /// Wakes the receiver, if it waits, after a change it must see (an item
    /// stored, the sender gone).
    fn wake_receiver(&self, mut state: MutexGuard<'_, State<T>>) {
        let waker = state.waker.take();
        drop(state);
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Wakes a waiting [`Sender::send`] once room has been made.
    fn made_room(&self, mut state: MutexGuard<'_, State<T>>) {
        let wanted = std::mem::take(&mut state.room_wanted);
        drop(state);
        if wanted {
            self.on_change.notify_waiters();
        }
    }
}

/// Creates a queue of at most `capacity` items (at least one).
pub(crate) fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            items: VecDeque::new(),
            reserved: 0,
            closed: false,
            sender_gone: false,
            waker: None,
            room_wanted: false,
            latest: None,
        }),
        capacity: capacity.max(1),
        on_change: Notify::new(),
    });
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver { shared },
    )
}

/// The sending half. There is one per queue (it is not `Clone`).
pub(crate) struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// A slot reserved in the queue; dropping it unused gives the slot back.
pub(crate) struct Permit<'a, T> {
    shared: &'a Shared<T>,
}

/// The receiving half.
pub(crate) struct Receiver<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Sender<T> {
    /// Pushes an item if there is room and the queue is open.
    pub(crate) fn try_send(&self, item: T) -> Result<(), TrySendError<T>> {
        let mut state = self.shared.lock();
        if state.closed {
            return Err(TrySendError::Closed(item));
        }
        if self.shared.full(&state) {
            return Err(TrySendError::Full(item));
        }
        state.items.push_back(item);
        self.shared.wake_receiver(state);
        Ok(())
    }

    /// Pushes an item, waiting for room if the queue is full.
    pub(crate) async fn send(&self, mut item: T) -> Result<(), SendError<T>> {
        loop {
            let notified = self.shared.on_change.notified();
            match self.try_send(item) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Closed(back)) => return Err(SendError(back)),
                Err(TrySendError::Full(back)) => item = back,
            }
            {
                let mut state = self.shared.lock();
                if !self.shared.full(&state) || state.closed {
                    continue;
                }
                state.room_wanted = true;
            }
            notified.await;
        }
    }

    /// Replaces the volatile item (see [`State::latest`]); false once the
    /// queue is closed.
    pub(crate) fn replace_latest(&self, item: T) -> bool {
        let mut state = self.shared.lock();
        if state.closed {
            return false;
        }
        state.latest = Some(Box::new(item));
        self.shared.wake_receiver(state);
        true
    }

    /// Reserves one slot for a later [`Permit::send`].
    pub(crate) fn try_reserve(&self) -> Result<Permit<'_, T>, TrySendError<()>> {
        let mut state = self.shared.lock();
        if state.closed {
            return Err(TrySendError::Closed(()));
        }
        if self.shared.full(&state) {
            return Err(TrySendError::Full(()));
        }
        state.reserved += 1;
        Ok(Permit {
            shared: &self.shared,
        })
    }

    /// Whether the receiver closed the queue (or was dropped).
    pub(crate) fn is_closed(&self) -> bool {
        self.shared.lock().closed
    }

    /// Waits until the receiver closes the queue (or is dropped).
    pub(crate) async fn closed(&self) {
        loop {
            let notified = self.shared.on_change.notified();
            if self.is_closed() {
                return;
            }
            notified.await;
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.sender_gone = true;
        self.shared.wake_receiver(state);
    }
}

impl<T> Permit<'_, T> {
    /// Uses the reserved slot. The item is dropped if the queue closed since
    /// the slot was reserved, as a tokio permit's item would never be received.
    pub(crate) fn send(self, item: T) {
        let mut state = self.shared.lock();
        state.reserved -= 1;
        let open = !state.closed;
        if open {
            state.items.push_back(item);
        }
        let shared = self.shared;
        std::mem::forget(self);
        if open {
            shared.wake_receiver(state);
        }
    }
}

impl<T> Drop for Permit<'_, T> {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.reserved -= 1;
        self.shared.made_room(state);
    }
}

impl<T> Receiver<T> {
    /// Takes the next item (the volatile one after the queued ones), freeing
    /// the buffer when it was the last one.
    fn take(&self) -> Result<T, MutexGuard<'_, State<T>>> {
        let mut state = self.shared.lock();
        let Some(item) = state.items.pop_front() else {
            return match state.latest.take() {
                Some(latest) => Ok(*latest),
                None => Err(state),
            };
        };
        if state.items.is_empty() {
            state.items = VecDeque::new();
        }
        self.shared.made_room(state);
        Ok(item)
    }

    /// Waits for the next item; `None` once the queue is closed (or its sender
    /// dropped) and empty.
    pub(crate) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut state = match self.take() {
            Ok(item) => return Poll::Ready(Some(item)),
            Err(state) => state,
        };
        if state.closed || state.sender_gone {
            return Poll::Ready(None);
        }
        match &mut state.waker {
            Some(waker) => waker.clone_from(cx.waker()),
            None => state.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// Waits for the next item (see [`Receiver::poll_recv`]).
    pub(crate) async fn recv(&mut self) -> Option<T> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Takes the next item without waiting.
    pub(crate) fn try_recv(&mut self) -> Result<T, TryRecvError> {
        match self.take() {
            Ok(item) => Ok(item),
            Err(state) if state.closed || state.sender_gone => Err(TryRecvError::Disconnected),
            Err(_) => Err(TryRecvError::Empty),
        }
    }

    /// Closes the queue: sends fail from now on, what is queued can still be
    /// received.
    pub(crate) fn close(&mut self) {
        self.shared.lock().closed = true;
        self.shared.on_change.notify_waiters();
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.close();
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("capacity", &self.shared.capacity)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("capacity", &self.shared.capacity)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn holds_no_buffer_while_empty_and_frees_it_when_drained() {
        let (tx, mut rx) = channel::<u64>(8);
        assert_eq!(tx.shared.lock().items.capacity(), 0);
        tx.try_send(1).unwrap();
        tx.try_send(2).unwrap();
        assert!(tx.shared.lock().items.capacity() > 0);
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.try_recv(), Ok(2));
        assert_eq!(tx.shared.lock().items.capacity(), 0);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    }

    #[tokio::test]
    async fn permits_count_against_the_capacity() {
        let (tx, mut rx) = channel::<u64>(2);
        let permit = tx.try_reserve().unwrap();
        tx.try_send(1).unwrap();
        assert!(matches!(tx.try_send(2), Err(TrySendError::Full(2))));
        assert!(matches!(tx.try_reserve(), Err(TrySendError::Full(()))));
        drop(permit);
        let permit = tx.try_reserve().unwrap();
        permit.send(3);
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.recv().await, Some(3));
    }

    #[tokio::test]
    async fn closing_refuses_sends_keeps_what_is_queued_and_wakes_closed() {
        let (tx, mut rx) = channel::<u64>(4);
        tx.try_send(1).unwrap();
        let permit = tx.try_reserve().unwrap();
        let waiter = async { tx.closed().await };
        let closer = async {
            tokio::task::yield_now().await;
            rx.close();
            rx
        };
        let ((), mut rx) = tokio::join!(waiter, closer);
        assert!(tx.is_closed());
        assert!(matches!(tx.try_send(2), Err(TrySendError::Closed(2))));
        permit.send(3);
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.recv().await, None);
    }

    #[tokio::test]
    async fn a_waiting_receiver_is_woken_by_a_send_and_by_the_sender_leaving() {
        let (tx, mut rx) = channel::<u64>(4);
        let recv = tokio::spawn(async move {
            let first = rx.recv().await;
            let second = rx.recv().await;
            (first, second)
        });
        tokio::task::yield_now().await;
        tx.try_send(7).unwrap();
        tokio::task::yield_now().await;
        drop(tx);
        assert_eq!(recv.await.unwrap(), (Some(7), None));
    }

    #[tokio::test]
    async fn the_latest_volatile_item_replaces_the_one_before_and_comes_after_the_queue() {
        let (tx, mut rx) = channel::<u64>(1);
        tx.try_send(1).unwrap();
        assert!(tx.replace_latest(10));
        assert!(tx.replace_latest(11));
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.recv().await, Some(11));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        rx.close();
        assert!(!tx.replace_latest(12));
    }

    #[tokio::test]
    async fn send_waits_for_room_and_fails_once_closed() {
        let (tx, mut rx) = channel::<u64>(1);
        tx.try_send(1).unwrap();
        let (sent, received) = tokio::join!(tx.send(2), async {
            tokio::task::yield_now().await;
            let first = rx.recv().await;
            (first, rx.recv().await)
        });
        assert!(sent.is_ok());
        assert_eq!(received, (Some(1), Some(2)));
        tx.try_send(3).unwrap();
        let (sent, ()) = tokio::join!(tx.send(4), async {
            tokio::task::yield_now().await;
            rx.close();
        });
        assert_eq!(sent, Err(SendError(4)));
    }
}
