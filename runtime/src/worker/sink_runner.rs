//! Runs one sink task: a member of the consumer group `connect-<connector>`, it hands batches
//! to the sink and commits the consumed offsets only after the sink flushed them.
//!
//! Three batches are in flight: one is written by the task while the next converts on a
//! blocking thread and the one after is polled. Writing is mostly waiting for the target, so
//! polling and converting take no time of their own. Because polling goes on during a write,
//! a revocation is carried out (the partitions handed back to the group) only once the write
//! has finished: the next owner of a partition never writes while this task still does.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, RebalanceProtocol, StreamConsumer,
};
use rdkafka::error::KafkaResult;
use rdkafka::types::RDKafkaRespErr;
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use super::dlq::DeadLetterQueue;
pub(crate) use super::sink_batch::RawRecord;
use super::sink_batch::{self, Conversion, Converted};
use super::sink_commits::{self, Commits};
use super::status::State;
use super::task_env::{Target, TaskRun};
use crate::connector::{SinkTask, SinkTaskContext, TaskError, TopicPartition};
use crate::convert::Side;
use crate::processor::ProcessorChain;

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
/// Assignments take effect at once; revocations wait for the runner (see the module doc).
#[derive(Default)]
pub(crate) struct GroupContext {
    events: Mutex<Vec<RebalanceEvent>>,
    /// An asynchronous offset commit failed: the next one carries every flushed offset.
    commit_failed: AtomicBool,
    /// The task is over: revocations (leaving the group) are carried out at once, since
    /// librdkafka's close waits for them and nothing is written any more.
    closing: AtomicBool,
}

impl GroupContext {
    fn push(&self, event: RebalanceEvent) {
        if let Ok(mut events) = self.events.lock() {
            events.push(event);
        }
    }
}

fn partition_list(partitions: &[TopicPartition]) -> TopicPartitionList {
    let mut tpl = TopicPartitionList::new();
    for tp in partitions {
        tpl.add_partition(&tp.topic, tp.partition);
    }
    tpl
}

fn partitions_of(tpl: &TopicPartitionList) -> Vec<TopicPartition> {
    tpl.elements()
        .iter()
        .map(|e| TopicPartition::new(e.topic(), e.partition()))
        .collect()
}

/// [`unassign`] where a failure can only be logged (inside librdkafka's callback, or stopping).
fn give_back<C: Consumer<X>, X: ConsumerContext>(consumer: &C, tpl: &TopicPartitionList) {
    if let Err(e) = unassign(consumer, tpl) {
        warn!(error = %e, "cannot give the partitions back");
    }
}

/// Hands partitions back to the group (librdkafka waits for this call to go on rebalancing).
fn unassign<C: Consumer<X>, X: ConsumerContext>(
    consumer: &C,
    tpl: &TopicPartitionList,
) -> KafkaResult<()> {
    match consumer.rebalance_protocol() {
        RebalanceProtocol::Cooperative => consumer.incremental_unassign(tpl),
        _ => consumer.unassign(),
    }
}

impl ClientContext for GroupContext {}

impl ConsumerContext for GroupContext {
    fn rebalance(
        &self,
        consumer: &BaseConsumer<Self>,
        err: RDKafkaRespErr,
        tpl: &mut TopicPartitionList,
    ) {
        match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                let assigned = match consumer.rebalance_protocol() {
                    RebalanceProtocol::Cooperative => consumer.incremental_assign(tpl),
                    _ => consumer.assign(tpl),
                };
                match assigned {
                    Ok(()) => self.push(RebalanceEvent::Assigned(partitions_of(tpl))),
                    Err(e) => warn!(error = %e, "cannot take the assigned partitions"),
                }
            }
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS
                if self.closing.load(Ordering::Relaxed) =>
            {
                give_back(consumer, tpl)
            }
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => {
                self.push(RebalanceEvent::Revoked(partitions_of(tpl)));
            }
            other => {
                warn!(error = ?other, "rebalance error; giving the partitions back");
                give_back(consumer, tpl);
            }
        }
    }

    fn commit_callback(&self, result: KafkaResult<()>, _offsets: &TopicPartitionList) {
        if let Err(e) = result {
            debug!(error = %e, "offset commit failed; the next commit carries every flushed offset");
            self.commit_failed.store(true, Ordering::Relaxed);
        }
    }
}

/// The runner's Kafka side, apart from the task so that it can be borrowed across awaits
/// while the task (which need not be `Sync`) is not.
struct SinkIo {
    consumer: StreamConsumer<GroupContext>,
    conversion: Conversion,
    dlq: Arc<DeadLetterQueue>,
    max_batch: usize,
    connector: String,
}

impl Drop for SinkIo {
    /// Dropping the consumer closes it, and rdkafka's close polls until the group has taken the
    /// partitions back: the revocation must then be carried out at once, not queued for a
    /// runner that is gone. `run` sets this itself on a normal stop; this covers a runner
    /// abandoned mid-batch (its stop timed out), whose close otherwise never ended and held a
    /// thread forever (and with it the runtime's shutdown).
    fn drop(&mut self) {
        self.consumer
            .context()
            .closing
            .store(true, Ordering::Relaxed);
    }
}

pub(crate) struct SinkRunner {
    run: TaskRun,
    task: Box<dyn SinkTask>,
    io: SinkIo,
    /// Offsets flushed by the sink, to commit.
    commits: Commits,
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
        let chain =
            ProcessorChain::new(&run.settings.transforms, &run.settings.transform_settings)?;
        let overrides = run.settings.consumer_overrides.clone();
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
        let topics = run
            .settings
            .sink
            .as_ref()
            .map(|s| s.subscription.clone())
            .unwrap_or_default();
        if topics.is_empty() {
            return Err(TaskError::fatal("a sink needs 'topics' or 'topics.regex'"));
        }
        let refs: Vec<&str> = topics.iter().map(String::as_str).collect();
        consumer
            .subscribe(&refs)
            .map_err(|e| TaskError::fatal(format!("cannot subscribe to {topics:?}: {e}")))?;
        let dlq = Arc::new(DeadLetterQueue::new(&run)?);
        let connector = run.connector.clone();
        let errors = Arc::new(run.settings.errors.clone());
        let target = run.target.clone();
        let stopping = Arc::new(move || *target.borrow() == Target::Stopped);
        Ok(SinkRunner {
            run,
            task,
            commits: Commits::default(),
            carry: None,
            io: SinkIo {
                consumer,
                conversion: Conversion {
                    key,
                    value,
                    chain: Arc::new(chain),
                    preparer: None,
                    errors,
                    stopping,
                },
                dlq,
                max_batch,
                connector,
            },
        })
    }

    pub(crate) async fn run(mut self) {
        let name = format!("{}-{}", self.run.connector, self.run.task_id);
        let result = self.run_inner().await;
        self.commit(CommitMode::Sync);
        self.task.stop().await;
        let context = self.io.consumer.context();
        context.closing.store(true, Ordering::Relaxed);
        // Revocations not acted on yet: librdkafka waits for them before it can leave.
        let pending = context.events.lock().map(|mut e| std::mem::take(&mut *e));
        for event in pending.unwrap_or_default() {
            if let RebalanceEvent::Revoked(tps) = event {
                give_back(&self.io.consumer, &partition_list(&tps));
            }
        }
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
        self.io.dlq.create_topic().await?;
        let context = SinkTaskContext {
            connector: self.run.connector.clone(),
            task_id: self.run.task_id,
            config: self.run.config.clone(),
            errant: self.io.dlq.clone(),
            progress: self.run.status.progress.clone(),
        };
        self.task.start(context).await?;
        self.io.conversion.preparer = self.task.preparer();
        self.run.status.set(State::Running);
        let mut paused = false;
        // Converted, next to be written.
        let mut ready: Option<Converted> = None;
        // Polled, converting; with the partitions revoked since it was polled.
        let mut converting: Option<(JoinHandle<Converted>, HashSet<TopicPartition>)> = None;
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
            // Every batch in flight was consumed before these events, and so was the one
            // written during the last round: its offsets are not committed for revoked
            // partitions either.
            let revoked = self.handle_rebalances().await?;
            if let Some(waiting) = ready.as_mut() {
                waiting.drop_partitions(&revoked);
            }
            if let Some((_, stale)) = converting.as_mut() {
                stale.extend(revoked.iter().cloned());
            }
            self.commit(CommitMode::Async);
            // While batches wait, a poll must not take a full fetch wait: at the end of a
            // burst that held the last changes back by half a second.
            let busy = ready.as_ref().is_some_and(|r| !r.is_empty()) || converting.is_some();
            let first_wait = Duration::from_millis(if busy { 2 } else { 500 });
            let polling = Instant::now();
            let (delivered, polled) = tokio::join!(
                deliver(&mut *self.task, &self.io, &self.run, ready.take()),
                self.io.next_batch(&mut self.carry, first_wait),
            );
            self.commits.flushed(delivered?);
            let polled = polled?;
            let round = polling.elapsed();
            let waiting = Instant::now();
            ready = match converting.take() {
                Some((handle, stale)) => {
                    let mut converted = handle.await.map_err(|e| {
                        TaskError::fatal(format!(
                            "record conversion panicked or was cancelled: {e}"
                        ))
                    })?;
                    converted.drop_partitions(&stale);
                    Some(converted)
                }
                None => None,
            };
            if let Some(c) = &ready {
                debug!(connector = %self.run.connector, records = c.raw.len(),
                    round_us = round.as_micros() as u64,
                    convert_wait_us = waiting.elapsed().as_micros() as u64, "batch converted");
            }
            converting = (!paused && !polled.is_empty()).then(|| {
                let handle = sink_batch::spawn_convert(self.io.conversion.clone(), polled);
                (handle, HashSet::new())
            });
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
                    self.commits.revoke(&tps);
                    info!(connector = %self.run.connector, task = self.run.task_id, partitions = ?tps, "partitions revoked");
                    self.task.close(&tps).await?;
                    let tpl = partition_list(&tps);
                    unassign(&self.io.consumer, &tpl).map_err(|e| {
                        TaskError::fatal(format!("cannot give back partitions {tps:?}: {e}"))
                    })?;
                    revoked.extend(tps);
                }
            }
        }
        if self.carry.as_ref().is_some_and(|r| r.is_in(&revoked)) {
            self.carry = None;
        }
        Ok(revoked)
    }

    /// Commits the flushed offsets not committed yet: asynchronously after each batch (every
    /// flushed offset again after a failed commit), synchronously when stopping. A failure is
    /// not data loss: the records would be delivered again, and sinks apply them idempotently.
    fn commit(&mut self, mode: CommitMode) {
        let failed = self
            .io
            .consumer
            .context()
            .commit_failed
            .swap(false, Ordering::Relaxed);
        let offsets = self
            .commits
            .take(failed || matches!(mode, CommitMode::Sync));
        if offsets.is_empty() {
            return;
        }
        let mut refused = Vec::new();
        let tpl = sink_commits::commit_list(&offsets, &mut refused);
        if !refused.is_empty() {
            warn!(connector = %self.run.connector, offsets = ?refused, "cannot commit these offsets");
        }
        let sent = match mode {
            CommitMode::Sync => {
                tokio::task::block_in_place(|| self.io.consumer.commit(&tpl, CommitMode::Sync))
            }
            CommitMode::Async => self.io.consumer.commit(&tpl, CommitMode::Async),
        };
        if let Err(e) = sent {
            warn!(connector = %self.run.connector, error = %e, "offset commit failed; retrying on the next round");
            self.commits.unsent(offsets);
        }
    }
}

/// Reports the records of `batch` that failed conversion, then puts and flushes the rest
/// (retrying retriable failures); returns the offsets the sink now has everything before.
/// Apart from the runner's other fields, so that it runs while the next batch is polled.
async fn deliver(
    task: &mut dyn SinkTask,
    io: &SinkIo,
    run: &TaskRun,
    batch: Option<Converted>,
) -> Result<BTreeMap<(String, i32), i64>, TaskError> {
    let Some(batch) = batch.filter(|b| !b.is_empty()) else {
        return Ok(BTreeMap::new());
    };
    let next_offsets = batch.next_offsets();
    io.dlq.remember(&batch.raw);
    for (i, stage, e) in &batch.failed {
        if let Some(raw) = batch.raw.get(*i) {
            io.dlq.report_raw(raw, e, *stage).await?;
        }
    }
    let records = batch.records;
    let mut prepared = batch.prepared;
    let started = Instant::now();
    let mut backoff = Duration::from_millis(200);
    loop {
        let attempt = async {
            match prepared.take() {
                Some(p) => task.put_prepared(&records, p).await?,
                None => task.put(&records).await?,
            }
            task.flush().await
        }
        .await;
        match attempt {
            Ok(()) => break,
            Err(e) if e.is_retriable() && run.target() != Target::Stopped => {
                warn!(connector = %run.connector, error = %e, retry_in_ms = backoff.as_millis() as u64, "sink not ready; retrying the batch");
                run.status.progress.set(format!("retrying: {e}"));
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
            Err(e) => return Err(e),
        }
    }
    run.status.progress.clear();
    debug!(connector = %run.connector, records = records.len(),
        put_us = started.elapsed().as_micros() as u64, "batch delivered");
    Ok(next_offsets)
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
