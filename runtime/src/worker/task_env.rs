//! What every task runner needs from its worker.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::status::StatusCell;
use crate::config::ConfigMap;
use crate::connector::ConnectorSettings;
use crate::convert::{self, ConvertError, Converter, Side};
use crate::kafka::{InProcessKafka, KafkaSettings, TopicAdmin, TopicError};
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
    /// The worker's `topic.creation.enable`: whether source connectors' `topic.creation.*`
    /// settings are used.
    pub topic_creation_enable: bool,
    /// The Kafka this worker runs in its own process (the quickstart), if any.
    pub in_process_kafka: Option<InProcessKafka>,
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
    /// The runtime's keys of `config`, parsed.
    pub settings: Arc<ConnectorSettings>,
    pub env: WorkerEnv,
    pub status: StatusCell,
    pub target: watch::Receiver<Target>,
}

impl TaskRun {
    /// The converter for one side: the connector's `<side>.converter*` settings over the
    /// worker's.
    pub fn converter(&self, side: Side) -> Result<Arc<dyn Converter>, ConvertError> {
        let prefix = side.config_prefix();
        let (own, own_settings) = match side {
            Side::Key => (
                &self.settings.key_converter,
                &self.settings.key_converter_settings,
            ),
            Side::Value => (
                &self.settings.value_converter,
                &self.settings.value_converter_settings,
            ),
        };
        let mut merged: ConfigMap = match own {
            // A connector naming its own converter does not inherit the worker's settings for
            // another converter class.
            Some(class) => [(prefix.to_owned(), class.clone())].into(),
            None => self
                .env
                .converters
                .iter()
                .filter(|(k, _)| k.starts_with(prefix))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        };
        for (k, v) in own_settings {
            merged.insert(format!("{prefix}.{k}"), v.clone());
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
        self.settings.errors.tolerate_all
    }

    /// An admin client for this connector's topics (the worker's settings, then the
    /// connector's `admin.override.*`).
    pub fn topic_admin(&self) -> Result<TopicAdmin, TopicError> {
        TopicAdmin::new(
            &self.env.kafka,
            &self.settings.admin_overrides,
            self.env.in_process_kafka.clone(),
        )
    }
}
