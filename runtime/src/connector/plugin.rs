use std::sync::Arc;

use serde::Serialize;

use super::{SinkTask, SourceTask, TaskError};
use crate::config::{ConfigDef, ConfigError, ConfigMap, ConfigValue};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnectorType {
    Source,
    Sink,
}

/// A task the worker can run.
pub enum TaskImpl {
    Source(Box<dyn SourceTask>),
    Sink(Box<dyn SinkTask>),
}

/// A connector plugin: what `/connector-plugins` lists and `connector.class` names.
pub trait Connector: Send + Sync + 'static {
    /// The canonical class name shown by `/connector-plugins`.
    fn class(&self) -> &'static str;
    /// Other names accepted in `connector.class` (Debezium's and Confluent's class names,
    /// short names). The class's simple name and the simple name without `Connector` are
    /// accepted automatically, as in Kafka Connect.
    fn aliases(&self) -> &'static [&'static str] {
        &[]
    }
    fn connector_type(&self) -> ConnectorType;
    fn version(&self) -> &'static str {
        env!("CARGO_PKG_VERSION")
    }
    /// The connector's own keys (the common ones are added by the runtime).
    fn config_def(&self) -> ConfigDef;
    /// Checks across keys that need no I/O, as (key, message) pairs; per-key checks are
    /// already done by [`Connector::config_def`].
    fn validate(&self, _config: &ConfigMap) -> Vec<(String, String)> {
        Vec::new()
    }
    /// Splits the work into at most `max_tasks` task configs.
    fn task_configs(
        &self,
        config: &ConfigMap,
        max_tasks: usize,
    ) -> Result<Vec<ConfigMap>, TaskError>;
    /// A new, unstarted task for one of the configs from [`Connector::task_configs`].
    fn create_task(&self, task_config: &ConfigMap) -> Result<TaskImpl, TaskError>;
    /// Topics this connector writes to or reads from, for `/connectors/{name}/topics`, when
    /// known from its config alone.
    fn topics(&self, _config: &ConfigMap) -> Vec<String> {
        Vec::new()
    }
}

/// The registered plugins, looked up by class name or alias.
#[derive(Clone, Default)]
pub struct Plugins {
    plugins: Vec<Arc<dyn Connector>>,
}

impl Plugins {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn register(&mut self, plugin: Arc<dyn Connector>) -> &mut Self {
        self.plugins.push(plugin);
        self
    }

    pub fn all(&self) -> &[Arc<dyn Connector>] {
        &self.plugins
    }

    /// Finds a plugin by full class name, alias, simple class name, or simple name without
    /// the `Connector` suffix (Kafka Connect's rules).
    pub fn find(&self, name: &str) -> Option<Arc<dyn Connector>> {
        let name = name.trim();
        self.plugins
            .iter()
            .find(|p| names_of(p.as_ref()).iter().any(|n| n == name))
            .cloned()
    }

    /// The full definition for a plugin: the common keys plus its own; the default of
    /// `connector.plugin.version` is the plugin's version, as in Kafka Connect.
    pub fn full_config_def(plugin: &dyn Connector) -> ConfigDef {
        let mut common = match plugin.connector_type() {
            ConnectorType::Source => super::source_config_def(),
            ConnectorType::Sink => super::sink_config_def(),
        };
        if let Some(key) = common
            .keys
            .iter_mut()
            .find(|k| k.name == super::common::CONNECTOR_VERSION)
        {
            key.default = Some(plugin.version());
        }
        common.merged(&plugin.config_def())
    }

    /// Kafka Connect's `config/validate` for one plugin: every key's result, including the
    /// plugin's cross-key checks.
    pub fn validate(plugin: &dyn Connector, config: &ConfigMap) -> Vec<ConfigValue> {
        let def = Self::full_config_def(plugin);
        let mut values = def.validate(config);
        // The versions one could choose: ours (Kafka Connect lists the installed ones).
        if let Some(v) = values
            .iter_mut()
            .find(|v| v.name == super::common::CONNECTOR_VERSION)
        {
            v.recommended_values = vec![plugin.version().to_owned()];
        }
        let mut extra = plugin.validate(config);
        // Cross-key checks of the runtime's own keys; a key whose value is already reported
        // wrong by its definition is not reported twice.
        if let Err(e) = super::ConnectorSettings::parse(plugin.connector_type(), config) {
            for e in e.flatten() {
                let key = e.key().unwrap_or_default().to_owned();
                let reported = values.iter().any(|v| v.name == key && !v.errors.is_empty());
                if !reported && !key.is_empty() {
                    extra.push((key, e.to_string()));
                }
            }
        }
        for (key, message) in extra {
            match values.iter_mut().find(|v| v.name == key) {
                Some(v) => v.errors.push(message),
                None => values.push(ConfigValue {
                    name: key.clone(),
                    value: config.get(&key).map(|v| crate::config::redact(&key, v)),
                    recommended_values: Vec::new(),
                    errors: vec![message],
                    visible: true,
                }),
            }
        }
        values
    }

    /// All errors of a config as one error naming each bad key; `Ok` when it can run.
    pub fn check(plugin: &dyn Connector, config: &ConfigMap) -> Result<(), ConfigError> {
        let errors: Vec<ConfigError> = Self::validate(plugin, config)
            .into_iter()
            .flat_map(|v| {
                let name = v.name;
                v.errors
                    .into_iter()
                    .map(move |message| ConfigError::Message {
                        key: name.clone(),
                        message,
                    })
            })
            .collect();
        ConfigError::all(errors)
    }
}

fn names_of(plugin: &dyn Connector) -> Vec<String> {
    let class = plugin.class();
    let simple = class.rsplit('.').next().unwrap_or(class);
    let mut names = vec![class.to_owned(), simple.to_owned()];
    if let Some(short) = simple.strip_suffix("Connector") {
        names.push(short.to_owned());
    }
    names.extend(plugin.aliases().iter().map(|a| (*a).to_owned()));
    names
}
