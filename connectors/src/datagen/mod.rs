//! `datagen`: a demo CDC source that needs no database.
//!
//! It emits Debezium-shaped change events (`c`, `u`, `d` and tombstones) for a table
//! `demo.customers`, exactly as a MySQL connector would for a real table, so the whole
//! pipeline (converters, registry, sinks, offsets, restarts) can be tried and tested without
//! MySQL. The sequence is a pure function of `seed`, `keys` and the event number
//! ([`sequence`]), so tests can predict every record and a restart resumes exactly.
//!
//! Records: topic `<topic.prefix>.demo.customers`; key `<base>.Key {id}`; value
//! `<base>.Envelope` with `before`/`after` of `<base>.Value {id, name, email, balance
//! DECIMAL(12,2), updated_at io.debezium.time.Timestamp}` and the `source` block of
//! `schemas/io.tributary.connector.datagen.Source.avsc` ([`schemas::source`]). Source partition
//! `{"server": <topic.prefix>}`, offset `{"seq": <events fully emitted>}`.

pub mod config;
pub mod schemas;
pub mod sequence;
pub mod source;

#[cfg(test)]
mod tests;

use tributary_runtime::config::{ConfigDef, ConfigMap};
use tributary_runtime::connector::{Connector, ConnectorType, TaskError, TaskImpl};

pub use config::DatagenConfig;
pub use sequence::{expected_events, expected_records, ChangeEvent, Row, Sequence};
pub use source::{DatagenTask, RecordBuilder};

/// `source.connector` of every event.
pub const CONNECTOR_NAME: &str = "datagen";
/// The simulated database (`source.db`, second part of the topic name).
pub const DATABASE: &str = "demo";
/// The simulated table (`source.table`, last part of the topic name).
pub const TABLE: &str = "customers";

/// The datagen plugin.
pub struct DatagenConnector;

impl Connector for DatagenConnector {
    fn class(&self) -> &'static str {
        "io.tributary.connector.datagen.DatagenConnector"
    }

    fn aliases(&self) -> &'static [&'static str] {
        &["datagen", "Datagen"]
    }

    fn connector_type(&self) -> ConnectorType {
        ConnectorType::Source
    }

    fn config_def(&self) -> ConfigDef {
        config::config_def()
    }

    fn validate(&self, config: &ConfigMap) -> Vec<(String, String)> {
        // Emptiness is the definition's check; the character set needs this one.
        config
            .get(config::TOPIC_PREFIX)
            .map(|p| p.trim())
            .filter(|p| !p.is_empty())
            .and_then(config::prefix_problem)
            .map(|message| vec![(config::TOPIC_PREFIX.to_owned(), message)])
            .unwrap_or_default()
    }

    /// One task whatever `tasks.max` says: a single sequence has a single position.
    fn task_configs(
        &self,
        config: &ConfigMap,
        _max_tasks: usize,
    ) -> Result<Vec<ConfigMap>, TaskError> {
        DatagenConfig::parse(config)?;
        Ok(vec![config.clone()])
    }

    fn create_task(&self, task_config: &ConfigMap) -> Result<TaskImpl, TaskError> {
        let config = DatagenConfig::parse(task_config)?;
        Ok(TaskImpl::Source(Box::new(DatagenTask::new(config))))
    }

    fn topics(&self, config: &ConfigMap) -> Vec<String> {
        DatagenConfig::parse(config)
            .map(|c| vec![c.base_name()])
            .unwrap_or_default()
    }
}
