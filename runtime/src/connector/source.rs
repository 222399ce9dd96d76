use std::sync::Arc;

use async_trait::async_trait;

use super::TaskError;
use crate::config::ConfigMap;
use crate::record::{SourceOffset, SourcePartition, SourceRecord};

/// Reads the committed offsets of the task's connector (Kafka Connect's
/// `OffsetStorageReader`): what a source resumes from after a restart.
#[async_trait]
pub trait OffsetReader: Send + Sync {
    async fn offset(&self, partition: &SourcePartition) -> Result<Option<SourceOffset>, TaskError>;
}

/// Progress a task reports for `/connectors/{name}/status` and the logs (snapshot progress,
/// reconnecting …): a short human-readable line, or nothing.
#[derive(Clone, Default)]
pub struct TaskProgress {
    inner: Arc<std::sync::Mutex<Option<String>>>,
}

impl TaskProgress {
    pub fn set(&self, line: impl Into<String>) {
        if let Ok(mut g) = self.inner.lock() {
            *g = Some(line.into());
        }
    }
    pub fn clear(&self) {
        if let Ok(mut g) = self.inner.lock() {
            *g = None;
        }
    }
    pub fn get(&self) -> Option<String> {
        self.inner.lock().ok().and_then(|g| g.clone())
    }
}

/// What a source task is given when it starts.
#[derive(Clone)]
pub struct SourceTaskContext {
    pub connector: String,
    pub task_id: u32,
    pub config: ConfigMap,
    pub offsets: Arc<dyn OffsetReader>,
    pub progress: TaskProgress,
}

/// A source task: produces records from an external system.
///
/// The runner calls `poll` in a loop, sends the records to Kafka, and stores a record's
/// `source_offset` only once Kafka acknowledged it and every record polled before it. So a
/// source must attach to each record an offset from which it can resume exactly after that
/// record, or an empty one (the record moves no offset), and must expect to resume from any
/// of them after a crash. The last record of each `poll` should carry an offset: it is what a
/// graceful stop stores.
#[async_trait]
pub trait SourceTask: Send {
    async fn start(&mut self, context: SourceTaskContext) -> Result<(), TaskError>;

    /// The next records. May wait for data, but should return (possibly empty) within about a
    /// second so that the runner can pause or stop the task promptly; the runner never
    /// cancels a `poll` in the middle.
    async fn poll(&mut self) -> Result<Vec<SourceRecord>, TaskError>;

    /// The offsets now durably stored (acknowledged by Kafka and written to the offset
    /// store): a source may release what it kept for replay up to there.
    async fn commit(
        &mut self,
        _offsets: &[(SourcePartition, SourceOffset)],
    ) -> Result<(), TaskError> {
        Ok(())
    }

    async fn stop(&mut self) {}
}
