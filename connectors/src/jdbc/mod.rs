//! `jdbc-sink`: writes topics of change events (Debezium envelopes from our MySQL source or
//! from Debezium itself) or plain records into MySQL/MariaDB, PostgreSQL or SQL Server tables,
//! so that the tables mirror the source.
//!
//! A replacement for the Confluent JDBC sink and Debezium's JDBC sink: their class names are
//! aliases and their property names are accepted (see `config.rs` for every key). The dialect
//! follows `connection.url`.
//!
//! How a batch is written (one consumer batch, `consumer.override.max.poll.records`):
//! 1. each record becomes a change (`change.rs`): upsert of Debezium's `after` or of a flat
//!    value, delete by key for `op: d` and tombstones (`delete.enabled`), truncate (`op: t`,
//!    `truncate.enabled`), keys per `pk.mode`;
//! 2. changes to the same key collapse to the last one (`batch.rs`);
//! 3. missing tables and columns are created (`auto.create`, `auto.evolve`), then everything is
//!    written in one transaction with each database's bulk form (`dialect/`, `db/`): multi-row
//!    `INSERT … ON DUPLICATE KEY UPDATE` for MySQL/MariaDB, COPY into a staging table and one
//!    `INSERT … ON CONFLICT DO UPDATE` for PostgreSQL, multi-row `MERGE` for SQL Server;
//! 4. errors are retried, isolated to the bad records, or fail the task (`sink.rs`).
//!
//! Offsets are committed by the worker only after that transaction committed; with
//! `exactly.once.enabled` they are also stored in the target in the same transaction and the
//! task resumes from them, so no batch is applied twice.

pub mod batch;
pub mod cell;
pub mod change;
pub mod config;
pub mod db;
pub mod dialect;
pub mod ident;
pub mod layout;
pub mod sink;
pub mod time;
pub mod types;
pub mod url;
pub mod writer;

#[cfg(test)]
mod tests;

use tributary_runtime::config::{ConfigDef, ConfigMap};
use tributary_runtime::connector::{Connector, ConnectorType, TaskError, TaskImpl};

pub use config::JdbcSinkConfig;
pub use sink::JdbcSinkTask;

/// The database sink connector.
pub struct JdbcSinkConnector;

impl Connector for JdbcSinkConnector {
    fn class(&self) -> &'static str {
        "io.tributary.connector.jdbc.JdbcSinkConnector"
    }

    fn aliases(&self) -> &'static [&'static str] {
        &[
            "jdbc-sink",
            "io.confluent.connect.jdbc.JdbcSinkConnector",
            "io.debezium.connector.jdbc.JdbcSinkConnector",
        ]
    }

    fn connector_type(&self) -> ConnectorType {
        ConnectorType::Sink
    }

    fn config_def(&self) -> ConfigDef {
        config::config_def()
    }

    fn validate(&self, config: &ConfigMap) -> Vec<(String, String)> {
        // Per-key checks already ran; report the first cross-key problem under its key.
        match JdbcSinkConfig::parse(config) {
            Ok(_) => Vec::new(),
            Err(e) => {
                let key = e.key().unwrap_or(config::CONNECTION_URL).to_owned();
                // Per-key errors are already listed by the definition's own validation.
                let already = matches!(
                    e,
                    tributary_runtime::config::ConfigError::Missing { .. }
                        | tributary_runtime::config::ConfigError::Several(_)
                ) || config_def_rejects(config, &key);
                if already {
                    Vec::new()
                } else {
                    vec![(key, e.to_string())]
                }
            }
        }
    }

    /// `tasks.max` identical tasks: the consumer group shares the partitions among them.
    fn task_configs(
        &self,
        config: &ConfigMap,
        max_tasks: usize,
    ) -> Result<Vec<ConfigMap>, TaskError> {
        JdbcSinkConfig::parse(config)?;
        Ok(vec![config.clone(); max_tasks.max(1)])
    }

    fn create_task(&self, task_config: &ConfigMap) -> Result<TaskImpl, TaskError> {
        let config = JdbcSinkConfig::parse(task_config)?;
        Ok(TaskImpl::Sink(Box::new(JdbcSinkTask::new(config))))
    }

    fn topics(&self, config: &ConfigMap) -> Vec<String> {
        config
            .get("topics")
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

/// Whether the key's own definition (type, allowed values) already rejects its value.
fn config_def_rejects(config: &ConfigMap, key: &str) -> bool {
    let def = config::config_def();
    match (def.key(key), config.get(key)) {
        (Some(k), Some(v)) => k.check(v).is_err(),
        _ => false,
    }
}
