//! Kafka Connect's error handling for sinks: with `errors.tolerance=all` a record that cannot be
//! converted or written goes to the dead-letter topic (if one is named) and the task goes on;
//! with `none` the task fails with the error.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use tracing::warn;

use super::sink_runner::RawRecord;
use super::source_runner::prefixed;
use super::task_env::TaskRun;
use crate::connector::{ErrantRecordReporter, TaskError};
use crate::record::SinkRecord;

pub(crate) struct DeadLetterQueue {
    connector: String,
    task_id: u32,
    tolerate: bool,
    topic: Option<String>,
    context_headers: bool,
    producer: Option<FutureProducer>,
    /// The current batch's records as consumed, to send their original bytes.
    batch: Mutex<HashMap<(String, i32, i64), RawRecord>>,
}

impl DeadLetterQueue {
    pub(crate) fn new(run: &TaskRun) -> Result<DeadLetterQueue, TaskError> {
        let topic = run
            .config
            .get("errors.deadletterqueue.topic.name")
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty());
        let producer = match &topic {
            Some(_) => Some(
                run.env
                    .kafka
                    .producer(&prefixed(&run.config, "producer.override."))
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
            tolerate: run.errors_tolerated(),
            topic,
            context_headers: run
                .config
                .get("errors.deadletterqueue.context.headers.enable")
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("true")),
            producer,
            batch: Mutex::new(HashMap::new()),
        })
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
        stage: &str,
    ) -> Result<(), TaskError> {
        if !self.tolerate {
            return Err(TaskError::fatal(format!(
                "record {}-{}@{} failed in stage {stage}: {error}",
                raw.topic, raw.partition, raw.offset
            )));
        }
        warn!(connector = %self.connector, topic = %raw.topic, partition = raw.partition, offset = raw.offset,
            %error, "record skipped (errors.tolerance=all)");
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
                ("__connect.errors.stage", stage.to_owned()),
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
        self.report_raw(&raw, error, "TASK_PUT").await
    }
}
