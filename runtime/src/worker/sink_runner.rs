//! Runs one sink task: a member of the consumer group `connect-<connector>`, it hands batches
//! to the sink and commits the consumed offsets only after the sink flushed them.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer,
};
use rdkafka::message::{BorrowedMessage, Headers, Message};
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use tracing::{info, warn};

use super::dlq::DeadLetterQueue;
use super::source_runner::prefixed;
use super::status::State;
use super::task_env::{Target, TaskRun};
use crate::connector::{SinkTask, SinkTaskContext, TaskError, TopicPartition};
use crate::convert::{Converter, Side};
use crate::processor::ProcessorChain;
use crate::record::{Headers as RecordHeaders, SinkRecord};

/// The consumer group of a sink connector, as Kafka Connect names it.
pub fn group_id(connector: &str) -> String {
    format!("connect-{connector}")
}

enum RebalanceEvent {
    Assigned(Vec<TopicPartition>),
    Revoked(Vec<TopicPartition>),
}

/// Records rebalances as they happen inside the consumer's poll, for the runner to act on
/// between batches (the sink's `open`/`close` are async and cannot run inside the callback).
#[derive(Default)]
pub(crate) struct GroupContext {
    events: Mutex<Vec<RebalanceEvent>>,
}

fn partitions_of(tpl: &TopicPartitionList) -> Vec<TopicPartition> {
    tpl.elements()
        .iter()
        .map(|e| TopicPartition::new(e.topic(), e.partition()))
        .collect()
}

impl ClientContext for GroupContext {}

impl ConsumerContext for GroupContext {
    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let event = match rebalance {
            Rebalance::Assign(tpl) => RebalanceEvent::Assigned(partitions_of(tpl)),
            Rebalance::Revoke(tpl) => RebalanceEvent::Revoked(partitions_of(tpl)),
            Rebalance::Error(e) => {
                warn!(error = %e, "rebalance error");
                return;
            }
        };
        if let Ok(mut events) = self.events.lock() {
            events.push(event);
        }
    }
}

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
    fn from_message(m: &BorrowedMessage<'_>) -> RawRecord {
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
}

/// The runner's Kafka side, apart from the task so that it can be borrowed across awaits
/// while the task (which need not be `Sync`) is not.
struct SinkIo {
    consumer: StreamConsumer<GroupContext>,
    key: Arc<dyn Converter>,
    value: Arc<dyn Converter>,
    chain: ProcessorChain,
    dlq: Arc<DeadLetterQueue>,
    max_batch: usize,
    connector: String,
}

pub(crate) struct SinkRunner {
    run: TaskRun,
    task: Box<dyn SinkTask>,
    io: SinkIo,
    /// Offsets flushed to the sink but not yet committed (a commit failed during a
    /// rebalance): retried until they are, so the group's position never lags what the sink has.
    uncommitted: BTreeMap<(String, i32), i64>,
}

impl SinkRunner {
    pub(crate) fn new(run: TaskRun, task: Box<dyn SinkTask>) -> Result<SinkRunner, TaskError> {
        let conv = |side| {
            run.converter(side)
                .map_err(|e| TaskError::fatal(e.to_string()))
        };
        let (key, value) = (conv(Side::Key)?, conv(Side::Value)?);
        let chain = ProcessorChain::from_config(&run.config)?;
        let overrides = prefixed(&run.config, "consumer.override.");
        let max_batch = overrides
            .get("max.poll.records")
            .and_then(|v| v.parse().ok())
            .unwrap_or(500usize)
            .max(1);
        let mut client = run
            .env
            .kafka
            .consumer(&group_id(&run.connector), &overrides);
        client.remove("max.poll.records");
        client.set(
            "client.id",
            format!("connector-consumer-{}-{}", run.connector, run.task_id),
        );
        let consumer: StreamConsumer<GroupContext> = client
            .create_with_context(GroupContext::default())
            .map_err(|e| TaskError::fatal(format!("cannot create Kafka consumer: {e}")))?;
        let topics = subscription(&run.config)?;
        let refs: Vec<&str> = topics.iter().map(String::as_str).collect();
        consumer
            .subscribe(&refs)
            .map_err(|e| TaskError::fatal(format!("cannot subscribe to {topics:?}: {e}")))?;
        let dlq = Arc::new(DeadLetterQueue::new(&run)?);
        let connector = run.connector.clone();
        Ok(SinkRunner {
            run,
            task,
            uncommitted: BTreeMap::new(),
            io: SinkIo {
                consumer,
                key,
                value,
                chain,
                dlq,
                max_batch,
                connector,
            },
        })
    }

    pub(crate) async fn run(mut self) {
        let name = format!("{}-{}", self.run.connector, self.run.task_id);
        let result = self.run_inner().await;
        if !self.uncommitted.is_empty() {
            self.commit();
        }
        self.task.stop().await;
        self.io.consumer.unsubscribe();
        match result {
            Ok(()) => info!(task = %name, "sink task stopped"),
            Err(e) => {
                warn!(task = %name, error = %e, "sink task failed");
                self.run.status.fail(e.to_string());
            }
        }
    }

    async fn run_inner(&mut self) -> Result<(), TaskError> {
        let context = SinkTaskContext {
            connector: self.run.connector.clone(),
            task_id: self.run.task_id,
            config: self.run.config.clone(),
            errant: self.io.dlq.clone(),
            progress: self.run.status.progress.clone(),
        };
        self.task.start(context).await?;
        self.run.status.set(State::Running);
        let mut paused = false;
        loop {
            match self.run.target() {
                Target::Stopped => return Ok(()),
                Target::Paused if !paused => {
                    self.set_paused(true)?;
                    paused = true;
                    self.run.status.set(State::Paused);
                }
                Target::Running if paused => {
                    self.set_paused(false)?;
                    paused = false;
                    self.run.status.set(State::Running);
                }
                _ => {}
            }
            let batch = self.io.next_batch().await?;
            self.handle_rebalances().await?;
            if paused || batch.is_empty() {
                if !self.uncommitted.is_empty() {
                    self.commit();
                }
                continue;
            }
            self.deliver(batch).await?;
        }
    }

    fn set_paused(&self, pause: bool) -> Result<(), TaskError> {
        let assignment = self
            .io
            .consumer
            .assignment()
            .map_err(|e| TaskError::fatal(format!("cannot read the assignment: {e}")))?;
        let r = if pause {
            self.io.consumer.pause(&assignment)
        } else {
            self.io.consumer.resume(&assignment)
        };
        r.map_err(|e| TaskError::fatal(format!("cannot pause/resume consumption: {e}")))
    }

    async fn handle_rebalances(&mut self) -> Result<(), TaskError> {
        let events = std::mem::take(
            &mut *self
                .io
                .consumer
                .context()
                .events
                .lock()
                .map_err(|_| TaskError::fatal("rebalance lock poisoned"))?,
        );
        for event in events {
            match event {
                RebalanceEvent::Assigned(tps) => {
                    info!(connector = %self.run.connector, task = self.run.task_id, partitions = ?tps, "partitions assigned");
                    let seeks = self.task.open(&tps).await?;
                    for (tp, offset) in seeks {
                        self.io
                            .consumer
                            .seek(
                                &tp.topic,
                                tp.partition,
                                Offset::Offset(offset),
                                Duration::from_secs(10),
                            )
                            .map_err(|e| {
                                TaskError::fatal(format!(
                                    "cannot seek {}-{} to {offset}: {e}",
                                    tp.topic, tp.partition
                                ))
                            })?;
                    }
                }
                RebalanceEvent::Revoked(tps) => {
                    // The new owner resumes from the group's committed offsets.
                    self.uncommitted.retain(|(t, p), _| {
                        !tps.iter().any(|tp| &tp.topic == t && tp.partition == *p)
                    });
                    info!(connector = %self.run.connector, task = self.run.task_id, partitions = ?tps, "partitions revoked");
                    self.task.close(&tps).await?;
                }
            }
        }
        Ok(())
    }

    /// Converts, puts, flushes (retrying retriable failures) and commits one batch.
    async fn deliver(&mut self, batch: Vec<RawRecord>) -> Result<(), TaskError> {
        let mut next_offsets: BTreeMap<(String, i32), i64> = BTreeMap::new();
        let mut records = Vec::with_capacity(batch.len());
        self.io.dlq.remember(&batch);
        for raw in &batch {
            next_offsets.insert((raw.topic.clone(), raw.partition), raw.offset + 1);
            match self.io.convert(raw).await {
                Ok(record) => {
                    if let Some(r) = self.io.chain.sink(record) {
                        records.push(r);
                    }
                }
                Err(e) => self.io.dlq.report_raw(raw, &e, "VALUE_CONVERTER").await?,
            }
        }
        let mut backoff = Duration::from_millis(200);
        loop {
            let attempt = async {
                self.task.put(&records).await?;
                self.task.flush().await
            }
            .await;
            match attempt {
                Ok(()) => break,
                Err(e) if e.is_retriable() && self.run.target() != Target::Stopped => {
                    warn!(connector = %self.run.connector, error = %e, retry_in_ms = backoff.as_millis() as u64, "sink not ready; retrying the batch");
                    self.run.status.progress.set(format!("retrying: {e}"));
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
                Err(e) => return Err(e),
            }
        }
        self.run.status.progress.clear();
        self.uncommitted.extend(next_offsets);
        self.commit();
        Ok(())
    }

    /// Commits every flushed offset not committed yet. A failure is not data loss (the records
    /// would be delivered again and sinks apply them idempotently); it happens when a rebalance
    /// is in progress, and the offsets are retried on the next round.
    fn commit(&mut self) {
        let mut tpl = TopicPartitionList::new();
        for ((topic, partition), offset) in &self.uncommitted {
            if let Err(e) = tpl.add_partition_offset(topic, *partition, Offset::Offset(*offset)) {
                warn!(connector = %self.run.connector, %topic, partition, offset, error = %e, "cannot commit this offset");
            }
        }
        match tokio::task::block_in_place(|| self.io.consumer.commit(&tpl, CommitMode::Sync)) {
            Ok(()) => self.uncommitted.clear(),
            Err(e) => {
                warn!(connector = %self.run.connector, error = %e, "offset commit failed; retrying on the next round");
            }
        }
    }
}

impl SinkIo {
    /// Up to `max_batch` records: waits up to 500 ms for the first, then takes what is already
    /// there.
    async fn next_batch(&self) -> Result<Vec<RawRecord>, TaskError> {
        let mut batch = Vec::new();
        let mut wait = Duration::from_millis(500);
        while batch.len() < self.max_batch {
            match tokio::time::timeout(wait, self.consumer.recv()).await {
                Err(_) => break,
                Ok(Ok(m)) => batch.push(RawRecord::from_message(&m)),
                Ok(Err(e)) => {
                    warn!(connector = %self.connector, error = %e, "consumer error");
                    break;
                }
            }
            wait = Duration::from_millis(2);
        }
        Ok(batch)
    }

    async fn convert(&self, raw: &RawRecord) -> Result<SinkRecord, TaskError> {
        let key = self
            .key
            .to_connect(&raw.topic, raw.key.as_deref())
            .await
            .map_err(|e| TaskError::fatal(e.to_string()))?;
        let value = self
            .value
            .to_connect(&raw.topic, raw.value.as_deref())
            .await
            .map_err(|e| TaskError::fatal(e.to_string()))?;
        Ok(SinkRecord {
            topic: raw.topic.clone(),
            partition: raw.partition,
            offset: raw.offset,
            key,
            value,
            timestamp: raw.timestamp,
            headers: raw.headers.clone(),
        })
    }
}

/// `topics` or `topics.regex` (librdkafka reads a leading `^` as a regex subscription).
fn subscription(config: &crate::config::ConfigMap) -> Result<Vec<String>, TaskError> {
    let topics: Vec<String> = config
        .get("topics")
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let regex = config
        .get("topics.regex")
        .map(|r| r.trim())
        .filter(|r| !r.is_empty());
    match (topics.is_empty(), regex) {
        (false, None) => Ok(topics),
        (true, Some(r)) => Ok(vec![if r.starts_with('^') {
            r.to_owned()
        } else {
            format!("^{r}")
        }]),
        (false, Some(_)) => Err(TaskError::fatal(
            "'topics' and 'topics.regex' are mutually exclusive",
        )),
        (true, None) => Err(TaskError::fatal("a sink needs 'topics' or 'topics.regex'")),
    }
}
