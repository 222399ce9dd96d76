//! Runs one source task: poll → processors → converters → Kafka, and stores offsets only for
//! records Kafka acknowledged, in poll order.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, ThreadedProducer};
use tracing::{info, warn};

use super::delivery::{Answers, Deliveries, DeliveryContext, Refusal};
use super::errors::{log_failure, with_retries, FailedRecord, SkipNotice, Stage};
use super::status::State;
use super::task_env::{Target, TaskRun};
use super::topic_creator::TopicCreator;
use crate::connector::{OffsetReader, SourceTask, SourceTaskContext, TaskError};
use crate::convert::{Converter, Side};
use crate::offsets::OffsetStore;
use crate::processor::ProcessorChain;
use crate::record::{SourceOffset, SourcePartition, SourceRecord};

/// Records sent but not yet acknowledged, at most; past this the runner waits for Kafka.
/// This bounds the worker's memory when the broker acknowledges slower than the source reads
/// (a backlog into a slow broker): each such record holds its encoded key and value in
/// librdkafka's queue. 50,000 is 0.7 s of a 70,000 rows/s stream and 0.17 s at 300,000 rows/s,
/// far more than Kafka's acknowledgement latency.
const MAX_IN_FLIGHT: usize = 50_000;

struct StoreReader {
    store: Arc<dyn OffsetStore>,
    connector: String,
}

#[async_trait]
impl OffsetReader for StoreReader {
    async fn offset(&self, partition: &SourcePartition) -> Result<Option<SourceOffset>, TaskError> {
        self.store
            .get(&self.connector, partition)
            .await
            .map_err(|e| TaskError::fatal(e.to_string()))
    }
}

struct InFlight {
    partition: SourcePartition,
    offset: SourceOffset,
    /// The record's number for the producer's delivery report; `None` for an offset-only
    /// record: nothing was sent, it is done once those before it are.
    number: Option<u64>,
}

pub(crate) struct SourceRunner {
    run: TaskRun,
    task: Box<dyn SourceTask>,
    producer: ThreadedProducer<DeliveryContext>,
    deliveries: Arc<Deliveries>,
    /// Outcomes taken from `deliveries`, until their record's turn.
    answered: Answers,
    next_number: u64,
    key: Arc<dyn Converter>,
    value: Arc<dyn Converter>,
    chain: ProcessorChain,
    topics: TopicCreator,
    skips: SkipNotice,
    in_flight: VecDeque<InFlight>,
    /// Acknowledged offsets not yet written, by partition.
    /// A list, not a map keyed by the partition's JSON: sources have few partitions, and
    /// comparing one is much cheaper than serialising it for every acknowledged record.
    acked: Vec<(SourcePartition, SourceOffset)>,
    last_flush: Instant,
}

impl SourceRunner {
    pub(crate) fn new(run: TaskRun, task: Box<dyn SourceTask>) -> Result<SourceRunner, TaskError> {
        let conv = |side| {
            run.converter(side)
                .map_err(|e| TaskError::fatal(e.to_string()))
        };
        let (key, value) = (conv(Side::Key)?, conv(Side::Value)?);
        let chain =
            ProcessorChain::new(&run.settings.transforms, &run.settings.transform_settings)?;
        let deliveries = Arc::new(Deliveries::default());
        let producer = run
            .env
            .kafka
            .producer(&run.settings.producer_overrides)
            .create_with_context(DeliveryContext(deliveries.clone()))
            .map_err(|e| TaskError::fatal(format!("cannot create Kafka producer: {e}")))?;
        let topics = TopicCreator::new(&run)?;
        Ok(SourceRunner {
            run,
            task,
            producer,
            deliveries,
            answered: Answers::default(),
            next_number: 0,
            key,
            value,
            chain,
            topics,
            skips: SkipNotice::default(),
            in_flight: VecDeque::new(),
            acked: Vec::new(),
            last_flush: Instant::now(),
        })
    }

    /// Runs until stopped or failed; the outcome is in the task's status.
    pub(crate) async fn run(mut self) {
        let name = format!("{}-{}", self.run.connector, self.run.task_id);
        let result = self.run_inner().await;
        let drained = self.drain_and_commit().await;
        self.task.stop().await;
        match result.and(drained) {
            Ok(()) => info!(task = %name, "source task stopped"),
            Err(e) => {
                warn!(task = %name, error = %e, "source task failed");
                self.run.status.fail(e.to_string());
            }
        }
    }

    async fn run_inner(&mut self) -> Result<(), TaskError> {
        let context = SourceTaskContext {
            connector: self.run.connector.clone(),
            task_id: self.run.task_id,
            config: self.run.config.clone(),
            offsets: Arc::new(StoreReader {
                store: self.run.env.offsets.clone(),
                connector: self.run.connector.clone(),
            }),
            progress: self.run.status.progress.clone(),
        };
        self.task.start(context).await?;
        self.run.status.set(State::Running);
        let mut backoff = Duration::from_millis(100);
        loop {
            match self.run.target() {
                Target::Stopped => return Ok(()),
                Target::Paused => {
                    self.drain_and_commit().await?;
                    self.run.status.set(State::Paused);
                    if self.run.wait_while_paused().await == Target::Stopped {
                        return Ok(());
                    }
                    self.run.status.set(State::Running);
                }
                Target::Running => {}
            }
            let records = match self.task.poll().await {
                Ok(r) => {
                    backoff = Duration::from_millis(100);
                    r
                }
                Err(e) if e.is_retriable() => {
                    warn!(connector = %self.run.connector, error = %e, "retrying after a retriable error");
                    self.run.status.progress.set(format!("retrying: {e}"));
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                    continue;
                }
                Err(e) => return Err(e),
            };
            for record in records {
                if record.is_offset_only() {
                    // Stored in order with the records around it; nothing is sent (transforms
                    // included: they might route it somewhere).
                    self.in_flight.push_back(InFlight {
                        partition: record.source_partition,
                        offset: record.source_offset,
                        number: None,
                    });
                    continue;
                }
                if let Some(record) = self.chain.source(record) {
                    self.send(record).await?;
                }
            }
            self.collect_acks(false).await?;
            if self.last_flush.elapsed() >= self.run.env.offset_flush_interval {
                self.commit_offsets().await?;
            }
        }
    }

    async fn send(&mut self, record: SourceRecord) -> Result<(), TaskError> {
        self.topics.ensure(&self.run, &record.topic).await?;
        let Some((key, value)) = self.convert(&record).await? else {
            return Ok(());
        };
        // Most records have none; librdkafka allocates even an empty header list.
        let headers = (!record.headers.is_empty()).then(|| {
            record.headers.iter().fold(
                OwnedHeaders::new_with_capacity(record.headers.len()),
                |headers, (k, v)| {
                    headers.insert(Header {
                        key: k,
                        value: v.as_deref(),
                    })
                },
            )
        });
        loop {
            let number = self.next_number;
            let mut br: BaseRecord<'_, [u8], [u8], usize> =
                BaseRecord::with_opaque_to(&record.topic, number as usize);
            if let Some(headers) = &headers {
                br = br.headers(headers.clone());
            }
            if let Some(k) = key.as_deref() {
                br = br.key(k);
            }
            if let Some(v) = value.as_deref() {
                br = br.payload(v);
            }
            if let Some(p) = record.partition {
                br = br.partition(p);
            }
            if let Some(ts) = record.timestamp {
                br = br.timestamp(ts);
            }
            match self.producer.send(br) {
                Ok(()) => {
                    self.next_number += 1;
                    self.in_flight.push_back(InFlight {
                        partition: record.source_partition,
                        offset: record.source_offset,
                        number: Some(number),
                    });
                    if self.in_flight.len() >= MAX_IN_FLIGHT {
                        self.collect_acks(true).await?;
                    }
                    return Ok(());
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                    // The local queue is full: wait for Kafka to take some, then try again.
                    if self.in_flight.is_empty() {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    } else {
                        self.collect_acks(true).await?;
                    }
                }
                Err((e, _)) => {
                    return Err(TaskError::fatal(format!(
                        "cannot send to topic {}: {e}",
                        record.topic
                    )))
                }
            }
        }
    }

    /// The record's key and value as bytes; `None` when a conversion failed and
    /// `errors.tolerance=all` skips the record. Retriable failures (a schema registry out of
    /// reach) are retried as `errors.retry.*` say.
    async fn convert(
        &mut self,
        record: &SourceRecord,
    ) -> Result<Option<(Option<Vec<u8>>, Option<Vec<u8>>)>, TaskError> {
        let errors = &self.run.settings.errors;
        let target = &self.run.target;
        let stopping = || *target.borrow() == Target::Stopped;
        let key = with_retries(errors, stopping, || {
            self.key.from_connect(&record.topic, &record.key)
        })
        .await
        .map_err(|e| (Stage::KeyConverter, e));
        let converted = match key {
            Ok(key) => with_retries(errors, stopping, || {
                self.value.from_connect(&record.topic, &record.value)
            })
            .await
            .map(|value| (key, value))
            .map_err(|e| (Stage::ValueConverter, e)),
            Err(e) => Err(e),
        };
        let (stage, e) = match converted {
            Ok(kv) => return Ok(Some(kv)),
            Err(failure) => failure,
        };
        log_failure(
            errors,
            &self.run.connector,
            self.run.task_id,
            stage,
            &FailedRecord::Produced {
                topic: &record.topic,
                source_partition: &record.source_partition,
                source_offset: &record.source_offset,
                content: Some((&record.key, &record.value, &record.headers)),
            },
            &e,
        );
        if !self.run.errors_tolerated() {
            return Err(TaskError::fatal(e.to_string()));
        }
        self.skips.skipped(errors, &self.run.connector, stage, &e);
        Ok(None)
    }

    /// Moves acknowledged records, from the oldest, into `acked`. With `wait`, waits until at
    /// least the oldest one is acknowledged.
    async fn collect_acks(&mut self, wait: bool) -> Result<(), TaskError> {
        loop {
            self.deliveries.take(&mut self.answered);
            let mut progressed = false;
            while let Some(front) = self.in_flight.front() {
                let outcome = match front.number {
                    None => Ok(()),
                    Some(n) => match self.answered.take(n) {
                        Some(outcome) => outcome,
                        None => break,
                    },
                };
                let done = self
                    .in_flight
                    .pop_front()
                    .ok_or_else(|| TaskError::fatal("in-flight queue emptied"))?;
                if let Err(e) = outcome {
                    self.refused(&done, &e)?;
                }
                self.ack(done.partition, done.offset);
                progressed = true;
            }
            if !wait || progressed || self.in_flight.is_empty() {
                return Ok(());
            }
            self.deliveries.reported().await;
        }
    }

    /// A record Kafka did not take, after the producer's own retries: the task fails, or with
    /// `errors.tolerance=all` the record is skipped and its offset stored like the others
    /// (KIP-779).
    fn refused(&mut self, record: &InFlight, refusal: &Refusal) -> Result<(), TaskError> {
        let e = format!(
            "Kafka did not accept a record for topic {}: {}",
            refusal.topic, refusal.error
        );
        let errors = &self.run.settings.errors;
        log_failure(
            errors,
            &self.run.connector,
            self.run.task_id,
            Stage::KafkaProduce,
            &FailedRecord::Produced {
                topic: &refusal.topic,
                source_partition: &record.partition,
                source_offset: &record.offset,
                content: None,
            },
            &e,
        );
        if !self.run.errors_tolerated() {
            return Err(TaskError::fatal(e));
        }
        self.skips
            .skipped(errors, &self.run.connector, Stage::KafkaProduce, &e);
        Ok(())
    }

    fn ack(&mut self, partition: SourcePartition, offset: SourceOffset) {
        if offset.is_empty() {
            // Kafka Connect's null offset: this record moves no position.
            return;
        }
        match self.acked.iter_mut().find(|(p, _)| *p == partition) {
            Some((_, o)) => *o = offset,
            None => self.acked.push((partition, offset)),
        }
    }

    /// Writes acknowledged offsets, then tells the task.
    async fn commit_offsets(&mut self) -> Result<(), TaskError> {
        self.last_flush = Instant::now();
        if self.acked.is_empty() {
            return Ok(());
        }
        let offsets: Vec<(SourcePartition, SourceOffset)> = std::mem::take(&mut self.acked);
        let puts: Vec<(SourcePartition, Option<SourceOffset>)> = offsets
            .iter()
            .map(|(p, o)| (p.clone(), Some(o.clone())))
            .collect();
        self.run
            .env
            .offsets
            .put(&self.run.connector, &puts)
            .await
            .map_err(|e| TaskError::fatal(e.to_string()))?;
        self.task.commit(&offsets).await
    }

    /// Waits for every record sent (bounded by the shutdown timeout) and stores their offsets.
    async fn drain_and_commit(&mut self) -> Result<(), TaskError> {
        let deadline = Instant::now()
            + self
                .run
                .env
                .task_shutdown_timeout
                .max(Duration::from_secs(1));
        while !self.in_flight.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                warn!(connector = %self.run.connector, unacknowledged = self.in_flight.len(),
                    "gave up waiting for Kafka to acknowledge records; their offsets are not stored and they will be sent again");
                break;
            }
            match tokio::time::timeout(left, self.collect_acks(true)).await {
                Ok(r) => r?,
                Err(_) => continue,
            }
        }
        self.commit_offsets().await
    }
}
