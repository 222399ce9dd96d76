//! Tributary's connectors: one folder per connector, registered in [`plugins`].
//!
//! Each connector speaks only the runtime's data model and connector traits, so adding one is
//! a folder here plus one line in [`plugins`]; the worker, REST API and converters need no
//! change.

use std::sync::Arc;

use tributary_runtime::config::{ConfigDef, ConfigError, ConfigMap, Parsed};
use tributary_runtime::connector::Plugins;

pub mod datagen;
pub mod file;
pub mod jdbc;
pub mod mysql;

/// Every connector this build ships, as the worker looks them up by `connector.class`.
///
/// This is the one registration list: `/connector-plugins` shows exactly these, in this order.
pub fn plugins() -> Plugins {
    let mut plugins = Plugins::new();
    plugins
        .register(Arc::new(datagen::DatagenConnector))
        .register(Arc::new(file::FileStreamSourceConnector))
        .register(Arc::new(file::FileStreamSinkConnector))
        .register(Arc::new(jdbc::JdbcSinkConnector))
        .register(Arc::new(mysql::MySqlConnector));
    plugins
}

/// Parses only the keys `def` defines, ignoring the rest.
///
/// A task config is the whole connector config (common keys such as `name`, `transforms.*`,
/// plus whatever the worker adds), which the runtime has already validated against the full
/// definition; a task needs only its connector's own keys, typed and defaulted.
pub(crate) fn parse_own_keys(def: &ConfigDef, config: &ConfigMap) -> Result<Parsed, ConfigError> {
    let own: ConfigMap = config
        .iter()
        .filter(|(k, _)| def.key(k).is_some())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Parsed::new(def, &own)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_connector_is_found_by_its_class_and_its_aliases() {
        let plugins = plugins();
        for name in [
            "io.tributary.connector.datagen.DatagenConnector",
            "datagen",
            "Datagen",
            "DatagenConnector",
            "org.apache.kafka.connect.file.FileStreamSourceConnector",
            "FileStreamSource",
            "FileStreamSourceConnector",
            "file-source",
            "org.apache.kafka.connect.file.FileStreamSinkConnector",
            "FileStreamSink",
            "FileStreamSinkConnector",
            "file-sink",
        ] {
            assert!(plugins.find(name).is_some(), "{name} is not found");
        }
        assert!(plugins.find("NoSuchConnector").is_none());
    }

    #[test]
    fn names_lead_to_the_right_plugin() {
        let plugins = plugins();
        let class = |name: &str| plugins.find(name).map(|p| p.class());
        assert_eq!(
            class("FileStreamSource"),
            Some("org.apache.kafka.connect.file.FileStreamSourceConnector")
        );
        assert_eq!(
            class("org.apache.kafka.connect.file.FileStreamSinkConnector"),
            Some("org.apache.kafka.connect.file.FileStreamSinkConnector")
        );
        assert_eq!(
            class("datagen"),
            Some("io.tributary.connector.datagen.DatagenConnector")
        );
    }

    #[test]
    fn class_names_are_unique() {
        let plugins = plugins();
        let mut classes: Vec<&str> = plugins.all().iter().map(|p| p.class()).collect();
        let n = classes.len();
        classes.sort_unstable();
        classes.dedup();
        assert_eq!(classes.len(), n);
    }
}
