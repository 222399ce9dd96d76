//! Kafka's answers for the records a source task sent, by sequence number.
//!
//! The producer's polling thread calls [`DeliveryContext::delivery`] once per record; it only
//! appends the record's number and outcome to a shared list and wakes the runner, which
//! matches them against its records in send order. A per-record future (rdkafka's
//! `FutureProducer`: a oneshot channel and an `Arc` per record, polled once per record) cost a
//! noticeable share of a small change event's CPU.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rdkafka::producer::{DeliveryResult, ProducerContext};
use rdkafka::ClientContext;
use tokio::sync::Notify;

/// Outcomes reported by the producer thread and not yet taken by the runner.
#[derive(Default)]
pub(crate) struct Deliveries {
    reported: Mutex<Vec<(u64, Result<(), String>)>>,
    wake: Notify,
}

impl Deliveries {
    /// Moves every reported outcome into `into`, by record number.
    pub(crate) fn take(&self, into: &mut HashMap<u64, Result<(), String>>) {
        if let Ok(mut reported) = self.reported.lock() {
            into.extend(reported.drain(..));
        }
    }

    /// Waits until an outcome was reported since the last wait (or one is already pending).
    pub(crate) async fn reported(&self) {
        self.wake.notified().await;
    }
}

/// The producer context that reports into [`Deliveries`]; a record's opaque is its number.
pub(crate) struct DeliveryContext(pub(crate) Arc<Deliveries>);

impl ClientContext for DeliveryContext {}

impl ProducerContext for DeliveryContext {
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, number: usize) {
        let outcome = match result {
            Ok(_) => Ok(()),
            Err((e, _)) => Err(e.to_string()),
        };
        if let Ok(mut reported) = self.0.reported.lock() {
            reported.push((number as u64, outcome));
        }
        // A permit is kept when the runner is not waiting yet: no answer is missed.
        self.0.wake.notify_one();
    }
}
