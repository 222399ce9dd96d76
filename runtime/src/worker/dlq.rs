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
    topic: Option<String>,
    context_headers: bool,
    producer: Option<FutureProducer>,
    /// Creates the topic when it is missing, before the task starts.
    creation: Option<(NewTopicSpec, TopicAdmin)>,
    skips: Mutex<SkipNotice>,
    /// The current batch's records as consumed, to send their original bytes.
    batch: Mutex<HashMap<(String, i32, i64), RawRecord>>,
}

impl DeadLetterQueue {
    pub(crate) fn new(run: &TaskRun) -> Result<DeadLetterQueue, TaskError> {
        let settings = run
            .settings
            .sink
            .as_ref()
            .and_then(|s| s.dead_letter_queue.clone());
        let topic = settings.as_ref().map(|s| s.topic.clone());
        let creation = match &settings {
            // Kafka Connect creates the dead-letter topic with one partition whatever the
            // worker's topic.creation.enable says.
            Some(s) => Some((
                NewTopicSpec {
                    name: s.topic.clone(),
                    partitions: 1,
                    replication_factor: s.replication_factor,
                    configs: Default::default(),
                },
                run.topic_admin()
                    .map_err(|e| TaskError::fatal(e.to_string()))?,
            )),
            None => None,
        };
        let producer = match &topic {
            Some(_) => Some(
                run.env
                    .kafka
                    .producer(&run.settings.producer_overrides)
                    .create()
                    .map_err(|e| {
                        TaskError::fatal(format!("cannot create the dead-letter producer: {e}"))
                    })?,
            ),
            None => None,
        };
        Ok(DeadLetterQueue {
            connector: run.connector.clone(),
            task_id: run.task_id,
            errors: run.settings.errors.clone(),
            topic,
            context_headers: settings.is_some_and(|s| s.context_headers),
            producer,
            creation,
            skips: Mutex::new(SkipNotice::default()),
            batch: Mutex::new(HashMap::new()),
        })
    }

    /// Creates the dead-letter topic if it does not exist (Kafka Connect's
    /// `DeadLetterQueueReporter.createAndSetup`); a failure fails the task.
    pub(crate) async fn create_topic(&self) -> Result<(), TaskError> {
        let Some((spec, admin)) = &self.creation else {
            return Ok(());
        };
        let failed = |e: crate::kafka::TopicError| {
            TaskError::fatal(format!(
                "Could not initialize dead letter queue with topic={}: {e}",
                spec.name
            ))
        };
        if admin.exists(&spec.name).await.map_err(failed)? {
            return Ok(());
        }
        info!(connector = %self.connector, topic = %spec.name, "the dead-letter topic does not exist; creating it");
        admin.create(spec).await.map_err(failed)?;
        Ok(())
    }

    pub(crate) fn remember(&self, batch: &[RawRecord]) {
        if self.topic.is_none() {
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
        let (Some(topic), Some(producer)) = (&self.topic, &self.producer) else {
            return Ok(());
        };
        let mut headers = OwnedHeaders::new();
        for (k, v) in &raw.headers {
            headers = headers.insert(Header {
                key: k,
                value: v.as_deref(),
            });
        }
        if self.context_headers {
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
        producer
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
