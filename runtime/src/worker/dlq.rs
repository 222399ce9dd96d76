//! Kafka Connect's error handling for sinks: a record that cannot be converted or written is
//! logged (`errors.log.enable`), then with `errors.tolerance=all` it goes to the dead-letter
//! topic (if one is named) and the task goes on; with `none` the task fails with the error.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use tracing::info;

use super::errors::{log_failure, FailedRecord, SkipNotice, Stage};
use super::sink_runner::RawRecord;
use super::task_env::TaskRun;
use crate::connector::{ErrantRecordReporter, ErrorHandling, TaskError};
use crate::kafka::{NewTopicSpec, TopicAdmin};
use crate::record::SinkRecord;

pub(crate) struct DeadLetterQueue {
    connector: String,
    task_id: u32,
    errors: ErrorHandling,
    /// Where dead letters go, when the sink names a topic.
    target: Option<Target>,
    skips: Mutex<SkipNotice>,
    /// The current batch's records as consumed, to send their original bytes.
    batch: Mutex<HashMap<(String, i32, i64), RawRecord>>,
}

/// The dead-letter topic and what writes to it.
struct Target {
    /// The topic, as it is created when missing (before the task starts).
    topic: NewTopicSpec,
    admin: TopicAdmin,
    producer: FutureProducer,
    context_headers: bool,
}

impl DeadLetterQueue {
    pub(crate) fn new(run: &TaskRun) -> Result<DeadLetterQueue, TaskError> {
        let settings = run
            .settings
            .sink
            .as_ref()
            .and_then(|s| s.dead_letter_queue.as_ref());
        let target = match settings {
            Some(s) => Some(Target {
                // Kafka Connect creates the dead-letter topic with one partition whatever the
                // worker's topic.creation.enable says.
                topic: NewTopicSpec {
                    name: s.topic.clone(),
                    partitions: 1,
                    replication_factor: s.replication_factor,
                    configs: Default::default(),
                },
                admin: run
                    .topic_admin()
                    .map_err(|e| TaskError::fatal(e.to_string()))?,
                producer: run
                    .env
                    .kafka
                    .producer(&run.settings.producer_overrides)
                    .create()
                    .map_err(|e| {
                        TaskError::fatal(format!("cannot create the dead-letter producer: {e}"))
                    })?,
                context_headers: s.context_headers,
            }),
            None => None,
        };
        Ok(DeadLetterQueue {
            connector: run.connector.clone(),
            task_id: run.task_id,
            errors: run.settings.errors.clone(),
            target,
            skips: Mutex::new(SkipNotice::default()),
            batch: Mutex::new(HashMap::new()),
        })
    }

    /// Creates the dead-letter topic if it does not exist (Kafka Connect's
    /// `DeadLetterQueueReporter.createAndSetup`); a failure fails the task.
    pub(crate) async fn create_topic(&self) -> Result<(), TaskError> {
        let Some(Target { topic, admin, .. }) = &self.target else {
            return Ok(());
        };
        let failed = |e: crate::kafka::TopicError| {
            TaskError::fatal(format!(
                "Could not initialize dead letter queue with topic={}: {e}",
                topic.name
            ))
        };
        if admin.exists(&topic.name).await.map_err(failed)? {
            return Ok(());
        }
        info!(connector = %self.connector, topic = %topic.name, "the dead-letter topic does not exist; creating it");
        admin.create(topic).await.map_err(failed)?;
        Ok(())
    }

    pub(crate) fn remember(&self, batch: &[RawRecord]) {
        if self.target.is_none() {
            return;
        }
        if let Ok(mut m) = self.batch.lock() {
            m.clear();
            for r in batch {
                m.insert(
                    (r.topic.clone(), r.partition, r.offset),
                    RawRecord {
                        topic: r.topic.clone(),
                        partition: r.partition,
                        offset: r.offset,
                        key: r.key.clone(),
                        value: r.value.clone(),
                        timestamp: r.timestamp,
                        headers: r.headers.clone(),
                    },
                );
            }
        }
    }

    pub(crate) async fn report_raw(
        &self,
        raw: &RawRecord,
        error: &TaskError,
        stage: Stage,
    ) -> Result<(), TaskError> {
        log_failure(
            &self.errors,
            &self.connector,
            self.task_id,
            stage,
            &FailedRecord::Consumed {
                topic: &raw.topic,
                partition: raw.partition,
                offset: raw.offset,
                timestamp: raw.timestamp,
                key: raw.key.as_deref(),
                value: raw.value.as_deref(),
                headers: &raw.headers,
            },
            error,
        );
        if !self.errors.tolerate_all {
            return Err(TaskError::fatal(format!(
                "record {}-{}@{} failed in stage {}: {error}",
                raw.topic,
                raw.partition,
                raw.offset,
                stage.name()
            )));
        }
        if let Ok(mut skips) = self.skips.lock() {
            skips.skipped(&self.errors, &self.connector, stage, error);
        }
        let Some(target) = &self.target else {
            return Ok(());
        };
        let topic = &target.topic.name;
        let mut headers = OwnedHeaders::new();
        for (k, v) in &raw.headers {
            headers = headers.insert(Header {
                key: k,
                value: v.as_deref(),
            });
        }
        if target.context_headers {
            let class = if error.is_retriable() {
                "org.apache.kafka.connect.errors.RetriableException"
            } else {
                "org.apache.kafka.connect.errors.DataException"
            };
            let fields = [
                ("__connect.errors.topic", raw.topic.clone()),
                ("__connect.errors.partition", raw.partition.to_string()),
                ("__connect.errors.offset", raw.offset.to_string()),
                ("__connect.errors.connector.name", self.connector.clone()),
                ("__connect.errors.task.id", self.task_id.to_string()),
                ("__connect.errors.stage", stage.name().to_owned()),
                ("__connect.errors.exception.class.name", class.to_owned()),
                ("__connect.errors.exception.message", error.to_string()),
            ];
            for (k, v) in &fields {
                headers = headers.insert(Header {
                    key: k,
                    value: Some(v.as_bytes()),
                });
            }
        }
        let mut record: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(topic).headers(headers);
        if let Some(k) = raw.key.as_deref() {
            record = record.key(k);
        }
        if let Some(v) = raw.value.as_deref() {
            record = record.payload(v);
        }
        target
            .producer
            .send(record, Duration::from_secs(30))
            .await
            .map(|_| ())
            .map_err(|(e, _)| {
                TaskError::retriable(format!(
                    "cannot write to the dead-letter topic {topic}: {e}"
                ))
            })
    }
}

#[async_trait]
impl ErrantRecordReporter for DeadLetterQueue {
    async fn report(&self, record: &SinkRecord, error: &TaskError) -> Result<(), TaskError> {
        let key = (record.topic.clone(), record.partition, record.offset);
        let raw = self.batch.lock().ok().and_then(|mut m| m.remove(&key));
        let raw = raw.unwrap_or(RawRecord {
            topic: record.topic.clone(),
            partition: record.partition,
            offset: record.offset,
            key: None,
            value: None,
            timestamp: record.timestamp,
            headers: record.headers.clone(),
        });
        self.report_raw(&raw, error, Stage::TaskPut).await
    }
}
