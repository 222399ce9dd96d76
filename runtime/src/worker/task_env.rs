//! What every task runner needs from its worker.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::status::StatusCell;
use crate::config::ConfigMap;
use crate::convert::{self, ConvertError, Converter, Side};
use crate::kafka::KafkaSettings;
use crate::offsets::OffsetStore;

/// Shared by all tasks of a worker.
#[derive(Clone)]
pub struct WorkerEnv {
    pub worker_id: String,
    pub kafka: KafkaSettings,
    pub offsets: Arc<dyn OffsetStore>,
    pub offset_flush_interval: Duration,
    pub task_shutdown_timeout: Duration,
    /// The registry the Avro converter uses unless a connector names its own.
    pub registry_url: Option<String>,
    /// The worker's `key.converter`/`value.converter` settings.
    pub converters: ConfigMap,
}

/// What the herder wants a task to be doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Running,
    Paused,
    Stopped,
}

/// One task's handles, given to its runner.
pub struct TaskRun {
    pub connector: String,
    pub task_id: u32,
    pub config: ConfigMap,
    pub env: WorkerEnv,
    pub status: StatusCell,
    pub target: watch::Receiver<Target>,
}

impl TaskRun {
    /// The converter for one side: the connector's `<side>.converter*` settings over the
    /// worker's.
    pub fn converter(&self, side: Side) -> Result<Arc<dyn Converter>, ConvertError> {
        let prefix = side.config_prefix();
        let mut merged: ConfigMap = self
            .env
            .converters
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if self
            .config
            .get(prefix)
            .is_some_and(|c| !c.trim().is_empty())
        {
            // A connector naming its own converter does not inherit the worker's settings for
            // another converter class.
            merged.clear();
        }
        for (k, v) in &self.config {
            if k.starts_with(prefix) && !v.trim().is_empty() {
                merged.insert(k.clone(), v.clone());
            }
        }
        convert::build(side, &merged, self.env.registry_url.as_deref())
    }

    pub fn target(&self) -> Target {
        *self.target.borrow()
    }

    /// Waits while paused; returns the target that ended the wait.
    pub async fn wait_while_paused(&mut self) -> Target {
        loop {
            let t = self.target();
            if t != Target::Paused {
                return t;
            }
            if self.target.changed().await.is_err() {
                return Target::Stopped;
            }
        }
    }

    pub fn errors_tolerated(&self) -> bool {
        self.config
            .get("errors.tolerance")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("all"))
    }
}
