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
    use tributary_runtime::config::keys_read_by;
    use tributary_runtime::connector::{ConnectorSettings, ConnectorType};
    use tributary_runtime::worker::{worker_config_def, WorkerConfig};

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

    /// The backticked keys of the README's table of keys accepted for compatibility only (its
    /// first column: one key, or one `prefix.*`, a row).
    fn compatibility_only_keys() -> Vec<String> {
        let readme = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"));
        let section = readme
            .split("### Keys accepted for compatibility only")
            .nth(1)
            .expect("the README has its compatibility-only section");
        section
            .lines()
            .skip_while(|l| !l.starts_with('|'))
            .take_while(|l| l.starts_with('|'))
            .skip(2)
            .filter_map(|row| row.split('|').nth(1))
            .filter_map(|cell| cell.trim().strip_prefix('`')?.strip_suffix('`'))
            .map(|key| key.trim_end_matches('*').to_owned())
            .collect()
    }

    /// A value for each required key, enough for a config to parse.
    fn sample(key: &str) -> &'static str {
        match key {
            "connection.url" => "jdbc:postgresql://db:5432/shop",
            "file" => "/tmp/tributary-key-audit.txt",
            "connector.class" | "topics" | "topic" | "topic.prefix" | "name"
            | "database.hostname" | "database.user" => "x",
            other => panic!("add a sample value for the required key {other} to this test"),
        }
    }

    /// A key that is accepted and read by no code would be silently ignored: every key that a
    /// connector or the worker accepts is read by the code that parses it (asked for through
    /// `Parsed`, whether set or not), or the README lists it as accepted for compatibility only.
    /// The same for accepted key prefixes (`producer.override.` …), read through
    /// `Parsed::with_prefix`.
    #[test]
    fn every_accepted_key_is_read_or_documented_as_compatibility_only() {
        let compatibility = compatibility_only_keys();
        assert!(
            compatibility.iter().any(|k| k == "plugin.path"),
            "{compatibility:?}"
        );
        let mut unread: Vec<String> = Vec::new();
        let mut check = |who: &str, def: &ConfigDef, read: &std::collections::BTreeSet<String>| {
            let names = def
                .keys
                .iter()
                .map(|k| k.name)
                .chain(def.prefixes.iter().copied());
            for name in names {
                // A `prefix.*` row covers the keys under the prefix too.
                let listed = compatibility
                    .iter()
                    .any(|c| c == name || (c.ends_with('.') && name.starts_with(c.as_str())));
                if !read.contains(name) && !listed {
                    unread.push(format!("{who}: {name}"));
                }
            }
        };

        let (parsed, read) = keys_read_by(|| WorkerConfig::parse(&ConfigMap::new()));
        parsed.expect("the default worker config parses");
        check("worker", &worker_config_def(), &read);

        for plugin in plugins().all() {
            let def = Plugins::full_config_def(plugin.as_ref());
            let mut config: ConfigMap = def
                .keys
                .iter()
                .filter(|k| k.required())
                .map(|k| (k.name.to_owned(), sample(k.name).to_owned()))
                .collect();
            config.insert("connector.class".into(), plugin.class().into());
            if plugin.connector_type() == ConnectorType::Sink {
                config.insert("topics".into(), "x".into());
            }
            let (problems, read) = keys_read_by(|| {
                let settings = ConnectorSettings::parse(plugin.connector_type(), &config);
                let mut problems = plugin.validate(&config);
                if let Err(e) = settings {
                    problems.push((String::new(), e.to_string()));
                }
                match plugin.task_configs(&config, 1) {
                    Ok(tasks) => {
                        for task in tasks {
                            if let Err(e) = plugin.create_task(&task) {
                                problems.push((String::new(), e.to_string()));
                            }
                        }
                    }
                    Err(e) => problems.push((String::new(), e.to_string())),
                }
                problems
            });
            assert!(problems.is_empty(), "{}: {problems:?}", plugin.class());
            check(plugin.class(), &def, &read);
        }
        assert!(
            unread.is_empty(),
            "accepted, read by no code, and not listed in the README's \"Keys accepted for compatibility only\": {unread:#?}"
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
