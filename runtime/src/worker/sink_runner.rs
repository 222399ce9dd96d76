//! Runs one sink task: a member of the consumer group `connect-<connector>`, it hands batches
//! to the sink and commits the consumed offsets only after the sink flushed them.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer,
};
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use tracing::{debug, info, warn};

use super::dlq::DeadLetterQueue;
pub(crate) use super::sink_batch::RawRecord;
use super::sink_batch::{self, Converted};
use super::source_runner::prefixed;
use super::status::State;
use super::task_env::{Target, TaskRun};
use crate::connector::{SinkTask, SinkTaskContext, TaskError, TopicPartition};
use crate::convert::{Converter, Side};
use crate::processor::ProcessorChain;

/// The sink consumers' default prefetch bound (`queued.max.messages.kbytes`), unless the
/// worker or connector sets one: 16 MB is tens of thousands of change events.
const SINK_PREFETCH_KB: &str = "16384";

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
    /// A record received after a rebalance event, held for the batch after the event is
    /// handled (see [`SinkIo::next_batch`]).
    carry: Option<RawRecord>,
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
        // librdkafka prefetches up to 64 MB by default, most of a sink worker's memory, while a
        // few batches ahead are all a sink needs to stay busy (the task writes what it
        // consumes, and consuming ahead of the database buys nothing).
        if client.get("queued.max.messages.kbytes").is_none() {
            client.set("queued.max.messages.kbytes", SINK_PREFETCH_KB);
        }
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
            carry: None,
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
        // Converted and waiting for its turn: written while the next batch converts.
        let mut current: Option<Converted> = None;
        loop {
            match self.run.target() {
                // Not committed, so consumed again by whoever owns the partitions next.
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
            let polling = Instant::now();
            // A converted batch waiting to be written must not wait for a full fetch wait: at
            // the end of a burst that held the last changes back by half a second.
            let first_wait = match &current {
                Some(waiting) if !waiting.is_empty() => Duration::from_millis(2),
                _ => Duration::from_millis(500),
            };
            let mut batch = self.io.next_batch(&mut self.carry, first_wait).await?;
            let polled = polling.elapsed();
            // Both the waiting batch and this one were consumed before the events.
            let revoked = self.handle_rebalances().await?;
            if let Some(waiting) = current.as_mut() {
                waiting.drop_partitions(&revoked);
            }
            sink_batch::drop_raw(&mut batch, &revoked);
            let next = (!paused && !batch.is_empty()).then(|| {
                sink_batch::spawn_convert(self.io.key.clone(), self.io.value.clone(), batch)
            });
            match current.take() {
                Some(waiting) if !waiting.is_empty() => self.deliver(waiting).await?,
                _ => {
                    if !self.uncommitted.is_empty() {
                        self.commit();
                    }
                }
            }
            let waiting = Instant::now();
            current = match next {
                Some(handle) => Some(handle.await.map_err(|e| {
                    TaskError::fatal(format!("record conversion panicked or was cancelled: {e}"))
                })?),
                None => None,
            };
            if let Some(c) = &current {
                debug!(connector = %self.run.connector, records = c.raw.len(),
                    poll_us = polled.as_micros() as u64,
                    convert_wait_us = waiting.elapsed().as_micros() as u64, "batch converted");
            }
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

    /// Acts on the rebalances since the last call; returns the partitions revoked meanwhile.
    async fn handle_rebalances(&mut self) -> Result<HashSet<TopicPartition>, TaskError> {
        let events = std::mem::take(
            &mut *self
                .io
                .consumer
                .context()
                .events
                .lock()
                .map_err(|_| TaskError::fatal("rebalance lock poisoned"))?,
        );
        let mut revoked = HashSet::new();
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
                    revoked.extend(tps);
                }
            }
        }
        Ok(revoked)
    }

    /// Reports the records that failed conversion, then puts, flushes (retrying retriable
    /// failures) and commits one batch.
    async fn deliver(&mut self, batch: Converted) -> Result<(), TaskError> {
        let next_offsets = batch.next_offsets();
        let mut records = Vec::with_capacity(batch.raw.len());
        self.io.dlq.remember(&batch.raw);
        for (raw, result) in batch.raw.iter().zip(batch.results) {
            match result {
                Ok(record) => {
                    if let Some(r) = self.io.chain.sink(record) {
                        records.push(r);
                    }
                }
                Err(e) => self.io.dlq.report_raw(raw, &e, "VALUE_CONVERTER").await?,
            }
        }
        let started = Instant::now();
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
        let written = started.elapsed();
        self.uncommitted.extend(next_offsets);
        self.commit();
        debug!(connector = %self.run.connector, records = records.len(),
            put_us = written.as_micros() as u64,
            commit_us = (started.elapsed() - written).as_micros() as u64, "batch delivered");
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
    /// Up to `max_batch` records: waits up to `first_wait` for the first, then takes what
    /// keeps coming within 2 ms of the previous one. Stops at a rebalance: every record of a
    /// batch was consumed under one assignment, and the record that came after the event
    /// waits in `carry` for the next batch, so the runner can tell which records a revocation
    /// makes stale.
    async fn next_batch(
        &self,
        carry: &mut Option<RawRecord>,
        first_wait: Duration,
    ) -> Result<Vec<RawRecord>, TaskError> {
        let mut batch = Vec::with_capacity(self.max_batch.min(8192));
        batch.extend(carry.take());
        if self.rebalanced() {
            return Ok(batch);
        }
        let mut wait = if batch.is_empty() {
            first_wait
        } else {
            Duration::from_millis(2)
        };
        while batch.len() < self.max_batch {
            match tokio::time::timeout(wait, self.consumer.recv()).await {
                Err(_) => break,
                Ok(Ok(m)) => {
                    let record = RawRecord::from_message(&m);
                    if self.rebalanced() {
                        *carry = Some(record);
                        break;
                    }
                    batch.push(record);
                }
                Ok(Err(e)) => {
                    warn!(connector = %self.connector, error = %e, "consumer error");
                    break;
                }
            }
            wait = Duration::from_millis(2);
        }
        Ok(batch)
    }

    /// Whether rebalance events wait to be handled.
    fn rebalanced(&self) -> bool {
        self.consumer
            .context()
            .events
            .lock()
            .map_or(true, |e| !e.is_empty())
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
