//! The sink task: every `put` is written and committed in one database transaction before it
//! returns, so the runner's offset commit after `flush` never runs ahead of the database.
//!
//! Failures are handled by kind:
//! - transient (database down, connection lost, deadlock): the batch is retried in place
//!   `max.retries` times `retry.backoff.ms` apart on a new connection, then handed back to the
//!   runner as retriable, which retries it with backoff for as long as it takes; nothing is
//!   skipped and nothing more is consumed meanwhile;
//! - data (a value that does not fit, a constraint): the transaction is rolled back and the
//!   batch is written again change by change behind savepoints; the refused records go to the
//!   errant-record reporter (dead-letter queue with `errors.tolerance=all`, task failure with
//!   `none`) before the rest commits;
//! - anything else fails the task with the database's message.
//!
//! With `exactly.once.enabled`, each transaction also moves the partitions' offsets in the
//! offsets table, compare-and-set against what this task last read: records below the stored
//! offset are skipped, and a task that lost a partition cannot apply a batch its new owner
//! already applied.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tracing::{debug, info, warn};
use tributary_runtime::connector::{
    ErrantRecordReporter, Prepared, SinkPreparer, SinkTask, SinkTaskContext, TaskError,
    TaskProgress, TopicPartition,
};
use tributary_runtime::record::SinkRecord;

use super::batch::{collapse, TableWork};
use super::change::{Change, Mapper};
use super::config::JdbcSinkConfig;
use super::db::DbError;
use super::writer::{OffsetUpdate, Writer};

/// Times a batch is re-filtered and retried when another task moved an offset under it.
const MAX_CONFLICTS: usize = 10;

type Partition = (String, i32);

enum Outcome {
    Committed,
    /// Another task stored an offset first; re-read offsets and try again.
    Conflict,
}

enum Failure {
    Db(DbError),
    Task(TaskError),
}

impl From<DbError> for Failure {
    fn from(e: DbError) -> Self {
        Failure::Db(e)
    }
}

/// Each record's change (or why it has none), in record order.
pub(super) type Mapped = Vec<Result<Option<Change>, String>>;

/// Maps the next batch to changes while the task writes the current one. It shares the task's
/// mapper, so that both intern the same shapes (the writer knows prepared shapes by pointer).
struct JdbcPreparer {
    mapper: Arc<Mutex<Mapper>>,
}

impl SinkPreparer for JdbcPreparer {
    fn prepare(&self, records: &[SinkRecord]) -> Prepared {
        let Ok(mut mapper) = self.mapper.lock() else {
            return Box::new(()); // not a `Mapped`: `put_prepared` maps again and reports it
        };
        let mapped: Mapped = records
            .iter()
            .enumerate()
            .map(|(i, r)| mapper.change(r, i))
            .collect();
        Box::new(mapped)
    }
}

pub struct JdbcSinkTask {
    config: JdbcSinkConfig,
    connector: String,
    mapper: Arc<Mutex<Mapper>>,
    writer: Option<Writer>,
    errant: Option<Arc<dyn ErrantRecordReporter>>,
    progress: TaskProgress,
    /// Exactly-once: the next offset stored in the database per partition read so far (`None`:
    /// no row yet).
    stored: HashMap<Partition, Option<i64>>,
    /// Partitions taken away by a rebalance and not given back: records of theirs still in a
    /// batch are left to the new owner.
    revoked: HashSet<Partition>,
    /// Records already reported as errant during earlier attempts at the current batch.
    reported: HashSet<(String, i32, i64)>,
}

impl JdbcSinkTask {
    pub fn new(config: JdbcSinkConfig) -> JdbcSinkTask {
        JdbcSinkTask {
            mapper: Arc::new(Mutex::new(Mapper::new(&config))),
            config,
            connector: String::new(),
            writer: None,
            errant: None,
            progress: TaskProgress::default(),
            stored: HashMap::new(),
            revoked: HashSet::new(),
            reported: HashSet::new(),
        }
    }

    fn exactly_once(&self) -> bool {
        self.config.offsets_table.is_some()
    }

    fn writer(&mut self) -> Result<&mut Writer, TaskError> {
        self.writer
            .as_mut()
            .ok_or_else(|| TaskError::fatal("jdbc sink task used before it was started"))
    }

    fn fatal(&self, e: impl std::fmt::Display) -> TaskError {
        TaskError::fatal(format!("jdbc sink {}: {e}", self.connector))
    }

    /// Sends a record the sink cannot write to the errant-record reporter, once per batch.
    async fn report(&mut self, record: &SinkRecord, reason: String) -> Result<(), TaskError> {
        let id = (record.topic.clone(), record.partition, record.offset);
        if self.reported.contains(&id) {
            return Ok(());
        }
        let errant = self
            .errant
            .clone()
            .ok_or_else(|| TaskError::fatal("jdbc sink task used before it was started"))?;
        errant.report(record, &TaskError::fatal(reason)).await?;
        self.reported.insert(id);
        Ok(())
    }

    /// Reads the stored offsets of the partitions in `records` not read yet.
    async fn load_offsets(&mut self, records: &[&SinkRecord]) -> Result<(), TaskError> {
        let missing: HashSet<Partition> = records
            .iter()
            .map(|r| (r.topic.clone(), r.partition))
            .filter(|p| !self.stored.contains_key(p))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let mut attempts = 0;
        let rows = loop {
            match self.writer()?.read_offsets().await {
                Ok(rows) => break rows,
                Err(DbError::Transient(m)) => {
                    self.writer()?.disconnect();
                    attempts += 1;
                    if attempts > self.config.max_retries {
                        return Err(TaskError::retriable(format!(
                            "jdbc sink {}: cannot read the stored offsets: {m}",
                            self.connector
                        )));
                    }
                    self.backoff(&m).await;
                }
                Err(e) => return Err(self.fatal(e)),
            }
        };
        for p in missing {
            let stored = rows
                .iter()
                .find(|(t, part, _)| *t == p.0 && *part == p.1)
                .map(|(_, _, o)| *o);
            self.stored.insert(p, stored);
        }
        Ok(())
    }

    async fn backoff(&self, reason: &str) {
        let ms = self.config.retry_backoff_ms;
        warn!(connector = %self.connector, error = %reason, retry_in_ms = ms, "database unavailable; retrying the batch");
        self.progress.set(format!(
            "database unavailable, retrying in {ms} ms: {reason}"
        ));
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }

    /// Writes the batch, retrying and isolating as the failures require.
    async fn write(
        &mut self,
        work: &[TableWork],
        updates: &[OffsetUpdate],
        records: &[SinkRecord],
    ) -> Result<Outcome, TaskError> {
        let mut attempts = 0;
        let mut row_by_row = false;
        loop {
            let failure = match self.attempt(work, updates, records, row_by_row).await {
                Ok(outcome) => return Ok(outcome),
                Err(f) => f,
            };
            match failure {
                Failure::Task(e) => {
                    self.writer()?.rollback().await;
                    return Err(e);
                }
                Failure::Db(DbError::Data(reason)) if !row_by_row => {
                    debug!(connector = %self.connector, %reason, "a change was refused; writing the batch change by change");
                    self.writer()?.rollback().await;
                    row_by_row = true;
                }
                Failure::Db(DbError::Transient(reason)) => {
                    self.writer()?.disconnect();
                    attempts += 1;
                    if attempts > self.config.max_retries {
                        return Err(TaskError::retriable(format!(
                            "jdbc sink {}: {reason}",
                            self.connector
                        )));
                    }
                    self.backoff(&reason).await;
                }
                Failure::Db(e) => {
                    let writer = self.writer()?;
                    writer.rollback().await;
                    writer.forget();
                    return Err(self.fatal(e));
                }
            }
        }
    }

    async fn attempt(
        &mut self,
        work: &[TableWork],
        updates: &[OffsetUpdate],
        records: &[SinkRecord],
        row_by_row: bool,
    ) -> Result<Outcome, Failure> {
        if work.is_empty() && updates.is_empty() {
            return Ok(Outcome::Committed);
        }
        let writer = self.writer().map_err(Failure::Task)?;
        writer.prepare(work).await?;
        writer.begin().await?;
        let refused = if row_by_row {
            writer.write_rows(work).await?
        } else {
            writer.write_all(work).await?;
            Vec::new()
        };
        for (i, reason) in refused {
            if let Some(record) = records.get(i) {
                self.report(record, reason).await.map_err(Failure::Task)?;
            }
        }
        let writer = self.writer().map_err(Failure::Task)?;
        if !writer.store_offsets(updates).await? {
            writer.rollback().await;
            return Ok(Outcome::Conflict);
        }
        writer.commit().await?;
        Ok(Outcome::Committed)
    }
}

/// For each partition in `records`, the move from its stored offset to past its last record.
fn offset_updates(
    records: &[&SinkRecord],
    stored: &HashMap<Partition, Option<i64>>,
) -> Vec<OffsetUpdate> {
    let mut next: HashMap<Partition, i64> = HashMap::new();
    for r in records {
        let e = next
            .entry((r.topic.clone(), r.partition))
            .or_insert(r.offset + 1);
        *e = (*e).max(r.offset + 1);
    }
    let mut updates: Vec<OffsetUpdate> = next
        .into_iter()
        .map(|((topic, partition), next)| OffsetUpdate {
            expected: stored.get(&(topic.clone(), partition)).copied().flatten(),
            topic,
            partition,
            next,
        })
        .collect();
    // A fixed order, so concurrent tasks lock offset rows in the same order.
    updates.sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
    updates
}

#[async_trait]
impl SinkTask for JdbcSinkTask {
    async fn start(&mut self, context: SinkTaskContext) -> Result<(), TaskError> {
        self.connector = context.connector.clone();
        self.errant = Some(context.errant.clone());
        self.progress = context.progress.clone();
        let mut writer = Writer::new(&self.config, &self.connector);
        match writer.connect().await {
            Ok(()) => {}
            Err(DbError::Transient(e)) => {
                warn!(connector = %self.connector, error = %e, url = %self.config.url, "target database unavailable at start; will retry on the first batch");
                writer.disconnect();
            }
            Err(e) => return Err(self.fatal(e)),
        }
        info!(connector = %self.connector, task = context.task_id, url = %self.config.url, exactly_once = self.exactly_once(), "jdbc sink task started");
        self.writer = Some(writer);
        Ok(())
    }

    async fn open(
        &mut self,
        partitions: &[TopicPartition],
    ) -> Result<Vec<(TopicPartition, i64)>, TaskError> {
        for tp in partitions {
            let p = (tp.topic.clone(), tp.partition);
            self.revoked.remove(&p);
            self.stored.remove(&p);
        }
        if !self.exactly_once() {
            return Ok(Vec::new());
        }
        let rows = match self.writer()?.read_offsets().await {
            Ok(rows) => rows,
            Err(e) => {
                // Not fatal: `put` reads them before writing anything.
                warn!(connector = %self.connector, error = %e, "cannot read stored offsets now; they are read before the first write");
                self.writer()?.disconnect();
                return Ok(Vec::new());
            }
        };
        let mut seeks = Vec::new();
        for tp in partitions {
            let stored = rows
                .iter()
                .find(|(t, p, _)| *t == tp.topic && *p == tp.partition)
                .map(|(_, _, o)| *o);
            self.stored.insert((tp.topic.clone(), tp.partition), stored);
            if let Some(offset) = stored {
                seeks.push((tp.clone(), offset));
            }
        }
        info!(connector = %self.connector, seeks = ?seeks, "resuming from offsets stored in the target database");
        Ok(seeks)
    }

    async fn close(&mut self, partitions: &[TopicPartition]) -> Result<(), TaskError> {
        for tp in partitions {
            let p = (tp.topic.clone(), tp.partition);
            self.stored.remove(&p);
            self.revoked.insert(p);
        }
        Ok(())
    }

    async fn put(&mut self, records: &[SinkRecord]) -> Result<(), TaskError> {
        self.apply(records, None).await
    }

    fn preparer(&self) -> Option<Arc<dyn SinkPreparer>> {
        Some(Arc::new(JdbcPreparer {
            mapper: self.mapper.clone(),
        }))
    }

    async fn put_prepared(
        &mut self,
        records: &[SinkRecord],
        prepared: Prepared,
    ) -> Result<(), TaskError> {
        match prepared.downcast::<Mapped>() {
            Ok(mapped) if mapped.len() == records.len() => self.apply(records, Some(*mapped)).await,
            _ => self.apply(records, None).await,
        }
    }

    async fn flush(&mut self) -> Result<(), TaskError> {
        // Every put committed its transaction before returning.
        Ok(())
    }

    async fn stop(&mut self) {
        if let Some(writer) = self.writer.as_mut() {
            writer.disconnect();
        }
    }
}

impl JdbcSinkTask {
    /// Writes `records`, with their changes when they were mapped already.
    async fn apply(
        &mut self,
        records: &[SinkRecord],
        mapped: Option<Mapped>,
    ) -> Result<(), TaskError> {
        let mut mapped: Vec<Option<Result<Option<Change>, String>>> = match mapped {
            Some(m) => m.into_iter().map(Some).collect(),
            None => Vec::new(),
        };
        let live: Vec<(usize, &SinkRecord)> = records
            .iter()
            .enumerate()
            .filter(|(_, r)| !self.revoked.contains(&(r.topic.clone(), r.partition)))
            .collect();
        if live.is_empty() {
            return Ok(());
        }
        for _ in 0..MAX_CONFLICTS {
            let exactly_once = self.exactly_once();
            let pending: Vec<(usize, &SinkRecord)> = if exactly_once {
                let all: Vec<&SinkRecord> = live.iter().map(|(_, r)| *r).collect();
                self.load_offsets(&all).await?;
                live.iter()
                    .filter(|(_, r)| {
                        let stored = self.stored.get(&(r.topic.clone(), r.partition));
                        r.offset >= stored.copied().flatten().unwrap_or(i64::MIN)
                    })
                    .copied()
                    .collect()
            } else {
                live.clone()
            };
            if pending.is_empty() {
                return Ok(());
            }
            let updates = if exactly_once {
                let rs: Vec<&SinkRecord> = pending.iter().map(|(_, r)| *r).collect();
                offset_updates(&rs, &self.stored)
            } else {
                Vec::new()
            };
            let started = Instant::now();
            let mut changes = Vec::with_capacity(pending.len());
            for (i, record) in &pending {
                // Taken once: after a conflict, the retry maps the records again.
                let change = match mapped.get_mut(*i).and_then(Option::take) {
                    Some(change) => change,
                    None => self
                        .mapper
                        .lock()
                        .map_err(|_| self.fatal("the record mapper was poisoned by a panic"))?
                        .change(record, *i),
                };
                match change {
                    Ok(Some(change)) => changes.push(change),
                    Ok(None) => {}
                    Err(reason) => self.report(record, reason).await?,
                }
            }
            let work = collapse(changes);
            let mapped = started.elapsed();
            let outcome = self.write(&work, &updates, records).await?;
            debug!(
                connector = %self.connector,
                records = pending.len(),
                tables = work.len(),
                map_us = mapped.as_micros() as u64,
                write_us = (started.elapsed() - mapped).as_micros() as u64,
                "batch written"
            );
            match outcome {
                Outcome::Committed => {
                    for u in updates {
                        self.stored.insert((u.topic, u.partition), Some(u.next));
                    }
                    self.reported.clear();
                    self.progress.clear();
                    return Ok(());
                }
                Outcome::Conflict => {
                    warn!(connector = %self.connector, "another task stored offsets of these partitions first; re-reading them");
                    for u in &updates {
                        self.stored.remove(&(u.topic.clone(), u.partition));
                    }
                }
            }
        }
        Err(TaskError::retriable(format!(
            "jdbc sink {}: stored offsets kept moving under this task",
            self.connector
        )))
    }
}
