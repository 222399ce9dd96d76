//! MySQL/MariaDB change data capture from the binlog, Debezium-compatible: the same property
//! names, topics, envelopes, Avro schemas and offsets as Debezium's MySQL connector.

mod binlog;
mod catalog;
pub mod config;
mod connection;
mod ddl;
mod events;
pub mod filters;
pub mod offset;
mod row_images;
pub mod schemas;
mod snapshot;
mod snapshot_schema;
mod source;
mod table;
mod table_changes;
pub mod types;

use tributary_runtime::config::{ConfigDef, ConfigMap};
use tributary_runtime::connector::{Connector, ConnectorType, TaskError, TaskImpl};

pub use events::VERSION as SOURCE_VERSION;
pub use source::MySqlSourceTask;

/// The connector plugin.
pub struct MySqlConnector;

impl Connector for MySqlConnector {
    fn class(&self) -> &'static str {
        "io.debezium.connector.mysql.MySqlConnector"
    }

    fn aliases(&self) -> &'static [&'static str] {
        &[
            "mysql",
            "MySql",
            "mariadb",
            "io.debezium.connector.mariadb.MariaDbConnector",
            "MariaDbConnector",
        ]
    }

    fn connector_type(&self) -> ConnectorType {
        ConnectorType::Source
    }

    fn config_def(&self) -> ConfigDef {
        config::config_def()
    }

    /// What the key-by-key definitions cannot see: regular expressions that do not compile and
    /// malformed `column.mask.with.N.chars` keys (other errors are reported per key already).
    fn validate(&self, config: &ConfigMap) -> Vec<(String, String)> {
        match config::MySqlConfig::parse(config) {
            Err(e)
                if e.key().is_some_and(|k| {
                    k.ends_with(".list") || k.starts_with("column.mask.with.")
                }) =>
            {
                vec![(e.key().unwrap_or_default().to_owned(), e.to_string())]
            }
            _ => Vec::new(),
        }
    }

    /// One task: the binlog is one ordered stream.
    fn task_configs(
        &self,
        config: &ConfigMap,
        _max_tasks: usize,
    ) -> Result<Vec<ConfigMap>, TaskError> {
        Ok(vec![config.clone()])
    }

    fn create_task(&self, _task_config: &ConfigMap) -> Result<TaskImpl, TaskError> {
        Ok(TaskImpl::Source(Box::<MySqlSourceTask>::default()))
    }

    fn topics(&self, config: &ConfigMap) -> Vec<String> {
        config
            .get("topic.prefix")
            .map(|p| vec![p.clone()])
            .unwrap_or_default()
    }
}
