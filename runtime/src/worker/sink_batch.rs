//! A polled batch on its way to a sink task: consumed records, owned, and their conversion to
//! Connect data.
//!
//! Conversion (Avro or JSON decoding), the processor chain and the task's own preparation
//! (a database sink's mapping to rows) are most of a sink's CPU time, and writing a batch is
//! mostly waiting for the target. So the runner converts batch N+1 on another thread while
//! batch N is written: [`convert`] touches nothing but the converters, the chain and the
//! task's preparer, all free of effects. Everything with an effect (dead-letter reports,
//! `put`, offset commits) still happens in the runner, batch after batch, in consumption
//! order.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use rdkafka::message::{BorrowedMessage, Message};
use tokio::runtime::Handle;
use tokio::task::JoinHandle;

use super::errors::{with_retries, Stage};
use crate::connector::{ErrorHandling, Prepared, SinkPreparer, TaskError, TopicPartition};
use crate::convert::Converter;
use crate::kafka::message_headers;
use crate::processor::ProcessorChain;
use crate::record::{Headers as RecordHeaders, SinkRecord};

/// A consumed record before conversion: owned, so the consumer can move on.
pub(crate) struct RawRecord {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub timestamp: Option<i64>,
    pub headers: RecordHeaders,
}

impl RawRecord {
    pub(crate) fn from_message(m: &BorrowedMessage<'_>) -> RawRecord {
        let headers = message_headers(m);
        RawRecord {
            topic: m.topic().to_owned(),
            partition: m.partition(),
            offset: m.offset(),
            key: m.key().map(<[u8]>::to_vec),
            value: m.payload().map(<[u8]>::to_vec),
            timestamp: m.timestamp().to_millis(),
            headers,
        }
    }

    pub(crate) fn is_in(&self, partitions: &HashSet<TopicPartition>) -> bool {
        in_partitions(partitions, &self.topic, self.partition)
    }
}

fn in_partitions(partitions: &HashSet<TopicPartition>, topic: &str, partition: i32) -> bool {
    partitions
        .iter()
        .any(|tp| tp.partition == partition && tp.topic == topic)
}

/// A batch after conversion: every raw record (for the dead-letter queue and the offsets),
/// the records to put, and what the task's preparer made of them.
pub(crate) struct Converted {
    pub raw: Vec<RawRecord>,
    /// Records that failed conversion, by index into `raw`, with the stage that failed.
    pub failed: Vec<(usize, Stage, TaskError)>,
    /// The converted records the processor chain kept, in order.
    pub records: Vec<SinkRecord>,
    pub prepared: Option<Prepared>,
}

impl Converted {
    /// Leaves out the records of partitions this task no longer owns: they were consumed
    /// before a rebalance took the partitions away, and their new owner reads them again from
    /// the group's committed offset. What was prepared no longer matches and is dropped too.
    pub(crate) fn drop_partitions(&mut self, revoked: &HashSet<TopicPartition>) {
        if revoked.is_empty() || !self.raw.iter().any(|r| r.is_in(revoked)) {
            return;
        }
        let mut kept = Vec::with_capacity(self.raw.len());
        // Where each raw record went (`None`: left the batch), to move the failures with them.
        let mut new_index = Vec::with_capacity(self.raw.len());
        for r in std::mem::take(&mut self.raw) {
            if r.is_in(revoked) {
                new_index.push(None);
            } else {
                new_index.push(Some(kept.len()));
                kept.push(r);
            }
        }
        self.raw = kept;
        self.failed = std::mem::take(&mut self.failed)
            .into_iter()
            .filter_map(|(i, stage, e)| new_index.get(i).copied().flatten().map(|j| (j, stage, e)))
            .collect();
        self.records
            .retain(|r| !in_partitions(revoked, &r.topic, r.partition));
        self.prepared = None;
    }

    /// The next offset to consume of every partition in the batch.
    pub(crate) fn next_offsets(&self) -> BTreeMap<(String, i32), i64> {
        let mut next: BTreeMap<(String, i32), i64> = BTreeMap::new();
        for raw in &self.raw {
            let e = next
                .entry((raw.topic.clone(), raw.partition))
                .or_insert(raw.offset + 1);
            *e = (*e).max(raw.offset + 1);
        }
        next
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }
}

/// What a batch goes through before its turn to be written.
#[derive(Clone)]
pub(crate) struct Conversion {
    pub key: Arc<dyn Converter>,
    pub value: Arc<dyn Converter>,
    pub chain: Arc<ProcessorChain>,
    pub preparer: Option<Arc<dyn SinkPreparer>>,
    /// How long retriable failures (a schema registry out of reach) are retried.
    pub errors: Arc<ErrorHandling>,
    /// Whether the task is stopping, which ends retries.
    pub stopping: Arc<dyn Fn() -> bool + Send + Sync>,
}

/// Converts a batch on a blocking-pool thread. Not `tokio::spawn`: a task spawned from the
/// runner lands in its worker's LIFO slot, which other workers cannot steal, so the
/// conversion would run on the runner's thread and stall the database I/O it should overlap.
pub(crate) fn spawn_convert(conversion: Conversion, raw: Vec<RawRecord>) -> JoinHandle<Converted> {
    let handle = Handle::current();
    tokio::task::spawn_blocking(move || handle.block_on(convert(conversion, raw)))
}

/// Converts a batch with the connector's key and value converters, runs the processor chain
/// and the task's preparer. Pure: a failure is kept with its record, for the runner to report
/// when the batch's turn comes.
pub(crate) async fn convert(conversion: Conversion, raw: Vec<RawRecord>) -> Converted {
    let mut failed = Vec::new();
    let mut records = Vec::with_capacity(raw.len());
    for (i, r) in raw.iter().enumerate() {
        match convert_one(&conversion, r).await {
            Ok(record) => records.extend(conversion.chain.sink(record)),
            Err((stage, e)) => failed.push((i, stage, e)),
        }
    }
    let prepared = conversion.preparer.map(|p| p.prepare(&records));
    Converted {
        raw,
        failed,
        records,
        prepared,
    }
}

async fn convert_one(
    conversion: &Conversion,
    raw: &RawRecord,
) -> Result<SinkRecord, (Stage, TaskError)> {
    let errors = conversion.errors.as_ref();
    let stopping = conversion.stopping.as_ref();
    let failed =
        |stage| move |e: crate::convert::ConvertError| (stage, TaskError::fatal(e.to_string()));
    let k = with_retries(errors, stopping, || {
        conversion.key.to_connect(&raw.topic, raw.key.as_deref())
    })
    .await
    .map_err(failed(Stage::KeyConverter))?;
    let v = with_retries(errors, stopping, || {
        conversion
            .value
            .to_connect(&raw.topic, raw.value.as_deref())
    })
    .await
    .map_err(failed(Stage::ValueConverter))?;
    Ok(SinkRecord {
        topic: raw.topic.clone(),
        partition: raw.partition,
        offset: raw.offset,
        key: k,
        value: v,
        timestamp: raw.timestamp,
        headers: raw.headers.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(topic: &str, partition: i32, offset: i64) -> RawRecord {
        RawRecord {
            topic: topic.to_owned(),
            partition,
            offset,
            key: None,
            value: Some(vec![1]),
            timestamp: None,
            headers: Vec::new(),
        }
    }

    fn batch(records: Vec<RawRecord>) -> Converted {
        let failed = (0..records.len())
            .map(|i| {
                let e = TaskError::fatal(format!("{}", records[i].offset));
                (i, Stage::ValueConverter, e)
            })
            .collect();
        Converted {
            raw: records,
            failed,
            records: Vec::new(),
            prepared: Some(Box::new(())),
        }
    }

    #[test]
    fn revoked_partitions_leave_the_batch_with_their_offsets() {
        let mut b = batch(vec![
            raw("t", 0, 5),
            raw("t", 1, 7),
            raw("t", 0, 6),
            raw("u", 1, 9),
        ]);
        let revoked: HashSet<TopicPartition> = [TopicPartition::new("t", 1)].into_iter().collect();
        b.drop_partitions(&revoked);
        let offsets: Vec<i64> = b.raw.iter().map(|r| r.offset).collect();
        assert_eq!(offsets, vec![5, 6, 9]);
        let kept: Vec<(usize, String)> = b
            .failed
            .iter()
            .map(|(i, _, e)| (*i, e.to_string()))
            .collect();
        assert_eq!(kept.len(), 3);
        assert!(kept[1].0 == 1 && kept[1].1.contains('6'));
        assert!(kept[2].0 == 2 && kept[2].1.contains('9'));
        assert!(
            b.prepared.is_none(),
            "prepared for records that left the batch"
        );
        let next = b.next_offsets();
        assert_eq!(next.get(&("t".to_owned(), 0)), Some(&7));
        assert_eq!(next.get(&("t".to_owned(), 1)), None);
        assert_eq!(next.get(&("u".to_owned(), 1)), Some(&10));
    }
}
