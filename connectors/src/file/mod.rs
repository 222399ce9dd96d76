//! Kafka Connect's FileStream connectors: the quickstart's source and sink.
//!
//! Same class names, config keys, source partitions and offsets as Kafka's, so a quickstart
//! config (and offsets stored by Kafka Connect for it) carries over unchanged. Differences:
//! the sink writes JSON lines instead of Java's `toString()`, fsyncs on flush, and neither
//! reads standard input nor writes standard output.

pub mod config;
pub mod json;
pub mod sink;
pub mod source;

#[cfg(test)]
mod tests;

use tributary_runtime::config::{ConfigDef, ConfigMap};
use tributary_runtime::connector::{Connector, ConnectorType, TaskError, TaskImpl};

pub use config::{FileSinkConfig, FileSourceConfig};
pub use sink::FileStreamSinkTask;
pub use source::FileStreamSourceTask;

/// `org.apache.kafka.connect.file.FileStreamSourceConnector`.
pub struct FileStreamSourceConnector;

impl Connector for FileStreamSourceConnector {
    fn class(&self) -> &'static str {
        "org.apache.kafka.connect.file.FileStreamSourceConnector"
    }

    fn aliases(&self) -> &'static [&'static str] {
        // The first two are matched by `Plugins::find` anyway; listed so the names are visible.
        &[
            "FileStreamSource",
            "FileStreamSourceConnector",
            "file-source",
        ]
    }

    fn connector_type(&self) -> ConnectorType {
        ConnectorType::Source
    }

    fn config_def(&self) -> ConfigDef {
        config::source_config_def()
    }

    fn validate(&self, config: &ConfigMap) -> Vec<(String, String)> {
        config
            .get(config::TOPIC)
            .and_then(|t| config::topic_problem(t))
            .map(|m| vec![(config::TOPIC.to_owned(), m)])
            .unwrap_or_default()
    }

    /// One task: a file is read from one position (Kafka also makes exactly one).
    fn task_configs(
        &self,
        config: &ConfigMap,
        _max_tasks: usize,
    ) -> Result<Vec<ConfigMap>, TaskError> {
        FileSourceConfig::parse(config)?;
        Ok(vec![config.clone()])
    }

    fn create_task(&self, task_config: &ConfigMap) -> Result<TaskImpl, TaskError> {
        let config = FileSourceConfig::parse(task_config)?;
        Ok(TaskImpl::Source(Box::new(FileStreamSourceTask::new(
            config,
        ))))
    }

    fn topics(&self, config: &ConfigMap) -> Vec<String> {
        FileSourceConfig::parse(config)
            .map(|c| vec![c.topic])
            .unwrap_or_default()
    }
}

/// `org.apache.kafka.connect.file.FileStreamSinkConnector`.
pub struct FileStreamSinkConnector;

impl Connector for FileStreamSinkConnector {
    fn class(&self) -> &'static str {
        "org.apache.kafka.connect.file.FileStreamSinkConnector"
    }

    fn aliases(&self) -> &'static [&'static str] {
        &["FileStreamSink", "FileStreamSinkConnector", "file-sink"]
    }

    fn connector_type(&self) -> ConnectorType {
        ConnectorType::Sink
    }

    fn config_def(&self) -> ConfigDef {
        config::sink_config_def()
    }

    /// `tasks.max` tasks, all appending to the same file (as Kafka's).
    fn task_configs(
        &self,
        config: &ConfigMap,
        max_tasks: usize,
    ) -> Result<Vec<ConfigMap>, TaskError> {
        FileSinkConfig::parse(config)?;
        Ok(vec![config.clone(); max_tasks.max(1)])
    }

    fn create_task(&self, task_config: &ConfigMap) -> Result<TaskImpl, TaskError> {
        let config = FileSinkConfig::parse(task_config)?;
        Ok(TaskImpl::Sink(Box::new(FileStreamSinkTask::new(config))))
    }

    fn topics(&self, config: &ConfigMap) -> Vec<String> {
        config
            .get(config::TOPICS)
            .map(|t| {
                t.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }
}
