use std::any::Any;
use std::sync::Arc;

use async_trait::async_trait;

use super::{TaskError, TaskProgress};
use crate::config::ConfigMap;
use crate::record::SinkRecord;

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicPartition {
    pub topic: String,
    pub partition: i32,
}

impl TopicPartition {
    pub fn new(topic: impl Into<String>, partition: i32) -> Self {
        TopicPartition {
            topic: topic.into(),
            partition,
        }
    }
}

/// Sends one record that the sink could not write (a constraint violation, a value the target
/// cannot hold) to the dead-letter queue when `errors.tolerance=all`, or fails the task with
/// that error when it is `none` (Kafka Connect's `ErrantRecordReporter`).
#[async_trait]
pub trait ErrantRecordReporter: Send + Sync {
    async fn report(&self, record: &SinkRecord, error: &TaskError) -> Result<(), TaskError>;
}

#[derive(Clone)]
pub struct SinkTaskContext {
    pub connector: String,
    pub task_id: u32,
    pub config: ConfigMap,
    pub errant: Arc<dyn ErrantRecordReporter>,
    pub progress: TaskProgress,
}

/// What a [`SinkPreparer`] made of a batch, for the task's [`SinkTask::put_prepared`].
pub type Prepared = Box<dyn Any + Send>;

/// The part of a sink's work on a batch that needs no target: turning records into rows or
/// requests. The runner runs it on another thread while the previous batch is written, so
/// that the target is kept busy back to back instead of waiting for it.
pub trait SinkPreparer: Send + Sync {
    fn prepare(&self, records: &[SinkRecord]) -> Prepared;
}

/// A sink task: writes consumed records to an external system.
///
/// The runner hands it batches with `put` and, after `flush` returns `Ok`, commits the
/// consumer offsets past everything put so far. So `flush` must return only once the data is
/// durable in the target; everything put before a crash without a successful flush is
/// delivered again, and applying it twice must leave the target as applying it once (upserts
/// by key).
#[async_trait]
pub trait SinkTask: Send {
    async fn start(&mut self, context: SinkTaskContext) -> Result<(), TaskError>;

    /// Partitions newly assigned to this task. A sink that stores its own offsets in the
    /// target (exactly-once) returns the offsets to resume from; the runner seeks there.
    async fn open(
        &mut self,
        _partitions: &[TopicPartition],
    ) -> Result<Vec<(TopicPartition, i64)>, TaskError> {
        Ok(Vec::new())
    }

    /// Partitions taken away by a rebalance; everything put for them was already flushed.
    async fn close(&mut self, _partitions: &[TopicPartition]) -> Result<(), TaskError> {
        Ok(())
    }

    async fn put(&mut self, records: &[SinkRecord]) -> Result<(), TaskError>;

    /// Asked once, after `start`: the task's preparer, if it has one.
    fn preparer(&self) -> Option<Arc<dyn SinkPreparer>> {
        None
    }

    /// `put`, with what the task's preparer made of exactly these records (a retry after a
    /// failed put gets plain `put`).
    async fn put_prepared(
        &mut self,
        records: &[SinkRecord],
        _prepared: Prepared,
    ) -> Result<(), TaskError> {
        self.put(records).await
    }

    /// Makes everything put so far durable.
    async fn flush(&mut self) -> Result<(), TaskError>;

    async fn stop(&mut self) {}
}
