//! Kafka's answers for the records a source task sent, by sequence number.
//!
//! The producer's polling thread calls [`DeliveryContext::delivery`] once per record; it only
//! appends the record's number and outcome to a shared list and wakes the runner, which
//! matches them against its records in send order. A per-record future (rdkafka's
//! `FutureProducer`: a oneshot channel and an `Arc` per record, polled once per record) cost a
//! noticeable share of a small change event's CPU.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use rdkafka::producer::{DeliveryResult, ProducerContext};
use rdkafka::{ClientContext, Message};
use tokio::sync::Notify;

/// Outcomes reported by the producer thread and not yet taken by the runner.
#[derive(Default)]
pub(crate) struct Deliveries {
    reported: Mutex<Vec<(u64, Outcome)>>,
    wake: Notify,
}

/// What Kafka answered for one record.
pub(crate) type Outcome = Result<(), Box<Refusal>>;

/// Why Kafka did not take a record, and where it was going (the runner keeps no topic per
/// record in flight: most are answered with success). Boxed in [`Outcome`], which every record
/// has one of, so that a success stays one word.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) topic: String,
    pub(crate) error: String,
}

impl Deliveries {
    /// Moves every reported outcome into `into`.
    pub(crate) fn take(&self, into: &mut Answers) {
        if let Ok(mut reported) = self.reported.lock() {
            for (number, outcome) in reported.drain(..) {
                into.put(number, outcome);
            }
        }
    }

    /// Waits until an outcome was reported since the last wait (or one is already pending).
    pub(crate) async fn reported(&self) {
        self.wake.notified().await;
    }
}

/// Outcomes taken from [`Deliveries`], waiting for their record's turn.
///
/// Records are numbered in send order and taken in that order, and Kafka answers each within
/// the runner's in-flight bound, so the outcomes fit a window of slots from the oldest record
/// not yet taken: no hashing per record, as a map keyed by number needed (at hundreds of
/// thousands of records a second).
#[derive(Default)]
pub(crate) struct Answers {
    /// The number of the record in `slots[0]`.
    base: u64,
    slots: VecDeque<Option<Outcome>>,
}

impl Answers {
    fn put(&mut self, number: u64, outcome: Outcome) {
        // An answer for a record already taken cannot come (each record has one answer).
        let Some(index) = number.checked_sub(self.base) else {
            return;
        };
        let index = index as usize;
        if index >= self.slots.len() {
            self.slots.resize(index + 1, None);
        }
        self.slots[index] = Some(outcome);
    }

    /// The outcome of record `number` once it was reported. Records are taken in number
    /// order; taking one passes over the slots of any lower numbers left.
    pub(crate) fn take(&mut self, number: u64) -> Option<Outcome> {
        let skip = number.checked_sub(self.base)?;
        if skip > 0 {
            let gone = (skip as usize).min(self.slots.len());
            self.slots.drain(..gone);
            self.base = number;
        }
        match self.slots.front() {
            Some(Some(_)) => {
                self.base += 1;
                self.slots.pop_front().flatten()
            }
            _ => None,
        }
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
            Err((e, message)) => Err(Box::new(Refusal {
                topic: message.topic().to_owned(),
                error: e.to_string(),
            })),
        };
        if let Ok(mut reported) = self.0.reported.lock() {
            reported.push((number as u64, outcome));
        }
        // A permit is kept when the runner is not waiting yet: no answer is missed.
        self.0.wake.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outcome_waits_until_every_earlier_record_was_taken() {
        let mut answers = Answers::default();
        let refused = Box::new(Refusal {
            topic: "t".into(),
            error: "too large".into(),
        });
        answers.put(2, Err(refused.clone()));
        answers.put(0, Ok(()));
        assert_eq!(answers.take(0), Some(Ok(())));
        assert_eq!(answers.take(1), None, "record 1 has no answer yet");
        answers.put(1, Ok(()));
        assert_eq!(answers.take(1), Some(Ok(())));
        assert_eq!(answers.take(2), Some(Err(refused)));
        assert_eq!(answers.take(3), None);
    }

    #[test]
    fn a_record_is_answered_once() {
        let mut answers = Answers::default();
        answers.put(0, Ok(()));
        assert_eq!(answers.take(0), Some(Ok(())));
        assert_eq!(answers.take(0), None);
        // A late duplicate for a taken record is ignored, not given to the next one.
        answers.put(
            0,
            Err(Box::new(Refusal {
                topic: "t".into(),
                error: "late".into(),
            })),
        );
        assert_eq!(answers.take(1), None);
    }

    #[test]
    fn taking_a_later_number_passes_over_the_slots_before_it() {
        let mut answers = Answers::default();
        answers.put(0, Ok(()));
        answers.put(5, Ok(()));
        assert_eq!(answers.take(5), Some(Ok(())));
        assert_eq!(answers.take(6), None);
        answers.put(6, Ok(()));
        assert_eq!(answers.take(6), Some(Ok(())));
    }
}
