//! A polled batch on its way to a sink task: consumed records, owned, and their conversion to
//! Connect data.
//!
//! Conversion (Avro or JSON decoding) is most of a sink's CPU time, and writing a batch is
//! mostly waiting for the target. So the runner converts batch N+1 on another runtime thread
//! while batch N is written: [`convert`] runs as its own task and touches nothing but the
//! converters. Everything with an effect (dead-letter reports, `put`, offset commits) still
//! happens in the runner, batch after batch, in consumption order.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use rdkafka::message::{BorrowedMessage, Headers, Message};
use tokio::runtime::Handle;
use tokio::task::JoinHandle;

use crate::connector::{TaskError, TopicPartition};
use crate::convert::Converter;
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
        let headers = m
            .headers()
            .map(|hs| {
                hs.iter()
                    .map(|h| (h.key.to_owned(), h.value.map(<[u8]>::to_vec)))
                    .collect()
            })
            .unwrap_or_default();
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

    fn is_in(&self, partitions: &HashSet<TopicPartition>) -> bool {
        partitions
            .iter()
            .any(|tp| tp.partition == self.partition && tp.topic == self.topic)
    }
}

/// A batch after conversion: every raw record (for the dead-letter queue) with its result.
pub(crate) struct Converted {
    pub raw: Vec<RawRecord>,
    pub results: Vec<Result<SinkRecord, TaskError>>,
}

impl Converted {
    /// Leaves out the records of partitions this task no longer owns: they were consumed
    /// before a rebalance took the partitions away, and their new owner reads them again from
    /// the group's committed offset.
    pub(crate) fn drop_partitions(&mut self, revoked: &HashSet<TopicPartition>) {
        if revoked.is_empty() {
            return;
        }
        let keep: Vec<bool> = self.raw.iter().map(|r| !r.is_in(revoked)).collect();
        let mut i = 0;
        self.raw.retain(|_| {
            i += 1;
            keep[i - 1]
        });
        let mut i = 0;
        self.results.retain(|_| {
            i += 1;
            keep[i - 1]
        });
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

/// Leaves out the raw records of revoked partitions (see [`Converted::drop_partitions`]).
pub(crate) fn drop_raw(batch: &mut Vec<RawRecord>, revoked: &HashSet<TopicPartition>) {
    if !revoked.is_empty() {
        batch.retain(|r| !r.is_in(revoked));
    }
}

/// Converts a batch on a blocking-pool thread. Not `tokio::spawn`: a task spawned from the
/// runner lands in its worker's LIFO slot, which other workers cannot steal, so the
/// conversion would run on the runner's thread and stall the database I/O it should overlap.
pub(crate) fn spawn_convert(
    key: Arc<dyn Converter>,
    value: Arc<dyn Converter>,
    raw: Vec<RawRecord>,
) -> JoinHandle<Converted> {
    let handle = Handle::current();
    tokio::task::spawn_blocking(move || handle.block_on(convert(key, value, raw)))
}

/// Converts a batch with the connector's key and value converters. Pure: a failure is kept
/// with its record, for the runner to report when the batch's turn comes.
pub(crate) async fn convert(
    key: Arc<dyn Converter>,
    value: Arc<dyn Converter>,
    raw: Vec<RawRecord>,
) -> Converted {
    let mut results = Vec::with_capacity(raw.len());
    for r in &raw {
        results.push(convert_one(key.as_ref(), value.as_ref(), r).await);
    }
    Converted { raw, results }
}

async fn convert_one(
    key: &dyn Converter,
    value: &dyn Converter,
    raw: &RawRecord,
) -> Result<SinkRecord, TaskError> {
    let k = key
        .to_connect(&raw.topic, raw.key.as_deref())
        .await
        .map_err(|e| TaskError::fatal(e.to_string()))?;
    let v = value
        .to_connect(&raw.topic, raw.value.as_deref())
        .await
        .map_err(|e| TaskError::fatal(e.to_string()))?;
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
        let results = records
            .iter()
            .map(|r| Err(TaskError::fatal(format!("{}", r.offset))))
            .collect();
        Converted {
            raw: records,
            results,
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
        let kept: Vec<String> = b
            .results
            .iter()
            .map(|r| {
                r.as_ref()
                    .err()
                    .map(ToString::to_string)
                    .unwrap_or_default()
            })
            .collect();
        assert_eq!(kept.len(), 3);
        assert!(kept[1].contains('6') && kept[2].contains('9'));
        let next = b.next_offsets();
        assert_eq!(next.get(&("t".to_owned(), 0)), Some(&7));
        assert_eq!(next.get(&("t".to_owned(), 1)), None);
        assert_eq!(next.get(&("u".to_owned(), 1)), Some(&10));

        let mut raws = vec![raw("t", 1, 8), raw("t", 2, 3)];
        drop_raw(&mut raws, &revoked);
        assert_eq!(raws.len(), 1);
        assert_eq!(raws[0].partition, 2);
    }
}
