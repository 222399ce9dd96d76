//! Keys every connector accepts (Kafka Connect's `ConnectorConfig`, `SourceConnectorConfig`,
//! `SinkConnectorConfig`), so configs written for Kafka Connect validate unchanged.

use crate::config::{ConfigDef, ConfigKey, ConfigType, Importance, Validator, Width};

const COMMON: &str = "Common";
const ERRORS: &str = "Error Handling";

/// Kafka Connect's documentation of `connector.class`, as `config/validate` shows it.
const CONNECTOR_CLASS_DOC: &str = "Name or alias of the class for this connector. Must be a subclass of org.apache.kafka.connect.connector.Connector. If the connector is org.apache.kafka.connect.file.FileStreamSinkConnector, you can either specify this full name,  or use \"FileStreamSink\" or \"FileStreamSinkConnector\" to make the configuration a bit shorter";

/// The key naming a connector's version (KIP-891). Its default is the plugin's version, set
/// by [`super::Plugins::full_config_def`].
pub const CONNECTOR_VERSION: &str = "connector.plugin.version";

/// Kafka Connect's `ConnectorConfig` keys in its order, with its groups, orders in group
/// (one counter across the Common, Transforms and Predicates groups, as in Kafka), widths and
/// display names.
pub fn common_config_def() -> ConfigDef {
    ConfigDef::new()
        .define(
            ConfigKey::new("name", ConfigType::String, None, Importance::High,
                "Globally unique name to use for this connector.")
                .group(COMMON, 1).width(Width::Medium).display("Connector name").validator(Validator::NonEmpty),
        )
        .define(
            ConfigKey::new("connector.class", ConfigType::String, None, Importance::High,
                CONNECTOR_CLASS_DOC)
                .group(COMMON, 2).width(Width::Long).display("Connector class"),
        )
        .define(
            // Tributary has one version of each connector: any value is accepted (a config
            // pinning a Kafka Connect plugin version still runs), none is needed.
            ConfigKey::new(CONNECTOR_VERSION, ConfigType::String, None, Importance::Medium,
                "Version of the connector.")
                .optional().group(COMMON, 3).width(Width::Medium).display("Connector version"),
        )
        .define(
            ConfigKey::new("tasks.max", ConfigType::Int, Some("1"), Importance::High,
                "Maximum number of tasks to use for this connector.")
                .group(COMMON, 4).width(Width::Short).display("Tasks max").validator(Validator::Range(1, 1024)),
        )
        .define(
            ConfigKey::new("tasks.max.enforce", ConfigType::Boolean, Some("true"), Importance::Low,
                "(Deprecated) Accepted for compatibility with Kafka Connect.")
                .group(COMMON, 5).width(Width::Short).display("Enforce tasks max"),
        )
        .define(
            ConfigKey::new("key.converter", ConfigType::Class, Some(""), Importance::Low,
                "Converter for record keys (AvroConverter, JsonConverter, StringConverter, ByteArrayConverter); defaults to the worker's.")
                .group(COMMON, 6).width(Width::Short).display("Key converter class"),
        )
        .define(
            ConfigKey::new("key.converter.plugin.version", ConfigType::String, None, Importance::Low,
                "Version of the key converter.")
                .optional().group(COMMON, 7).width(Width::Short).display("Key converter version"),
        )
        .define(
            ConfigKey::new("value.converter", ConfigType::Class, Some(""), Importance::Low,
                "Converter for record values; defaults to the worker's.")
                .group(COMMON, 8).width(Width::Short).display("Value converter class"),
        )
        .define(
            ConfigKey::new("value.converter.plugin.version", ConfigType::String, None, Importance::Low,
                "Version of the value converter.")
                .optional().group(COMMON, 9).width(Width::Short).display("Value converter version"),
        )
        .define(
            ConfigKey::new("header.converter", ConfigType::Class, Some(""), Importance::Low,
                "Accepted for compatibility; headers are passed as raw bytes.")
                .group(COMMON, 10).width(Width::Short).display("Header converter class"),
        )
        .define(
            ConfigKey::new("header.converter.plugin.version", ConfigType::String, None, Importance::Low,
                "Version of the header converter.")
                .optional().group(COMMON, 11).width(Width::Short).display("Header converter version"),
        )
        .define(
            ConfigKey::new("transforms", ConfigType::List, Some(""), Importance::Low,
                "Aliases for the processors (transformations) applied to records, in order.")
                .group("Transforms", 12).width(Width::Long).display("Transforms"),
        )
        .define(
            ConfigKey::new("predicates", ConfigType::List, Some(""), Importance::Low,
                "Aliases for the predicates used by transformations.")
                .group("Predicates", 13).width(Width::Long).display("Predicates"),
        )
        .define(
            ConfigKey::new("config.action.reload", ConfigType::String, Some("restart"), Importance::Low,
                "Accepted for compatibility with Kafka Connect.")
                .group(COMMON, 14).width(Width::Medium).display("Reload Action")
                .validator(Validator::OneOf(&["none", "restart"])),
        )
        .define(
            ConfigKey::new("errors.retry.timeout", ConfigType::Long, Some("0"), Importance::Medium,
                "How long (ms) a failed operation is retried; 0 means no retries, -1 infinite.")
                .group(ERRORS, 1).width(Width::Medium).display("Retry Timeout for Errors"),
        )
        .define(
            ConfigKey::new("errors.retry.delay.max.ms", ConfigType::Long, Some("60000"), Importance::Medium,
                "Maximum delay (ms) between consecutive retries.")
                .group(ERRORS, 2).width(Width::Medium).display("Maximum Delay Between Retries for Errors"),
        )
        .define(
            ConfigKey::new("errors.tolerance", ConfigType::String, Some("none"), Importance::Medium,
                "'none' fails the task on a record that cannot be converted or written; 'all' skips it (and sends it to the dead-letter queue of a sink when one is configured).")
                .group(ERRORS, 3).width(Width::Short).display("Error Tolerance")
                .validator(Validator::OneOf(&["none", "all"])),
        )
        .define(
            ConfigKey::new("errors.log.enable", ConfigType::Boolean, Some("false"), Importance::Medium,
                "Log each tolerated error.")
                .group(ERRORS, 4).width(Width::Short).display("Log Errors"),
        )
        .define(
            ConfigKey::new("errors.log.include.messages", ConfigType::Boolean, Some("false"), Importance::Medium,
                "Include the record's coordinates in logged errors.")
                .group(ERRORS, 5).width(Width::Short).display("Log Error Details"),
        )
        .allow_prefix("key.converter.")
        .allow_prefix("value.converter.")
        .allow_prefix("header.converter.")
        .allow_prefix("transforms.")
        .allow_prefix("predicates.")
}

pub fn source_config_def() -> ConfigDef {
    common_config_def()
        .define(
            ConfigKey::new("topic.creation.groups", ConfigType::List, Some(""), Importance::Low,
                "Accepted for compatibility (KIP-158); topic.creation.default.* applies to every topic.")
                .group("Topic Creation", 1),
        )
        .define(
            ConfigKey::new("exactly.once.support", ConfigType::String, Some("requested"), Importance::Medium,
                "Accepted for compatibility (KIP-618).")
                .validator(Validator::OneOf(&["requested", "required"])),
        )
        .define(
            ConfigKey::new("transaction.boundary", ConfigType::String, Some("poll"), Importance::Medium,
                "Accepted for compatibility (KIP-618).")
                .validator(Validator::OneOf(&["poll", "interval", "connector"])),
        )
        .define(ConfigKey::new("offsets.storage.topic", ConfigType::String, Some(""), Importance::Low,
                "Accepted for compatibility; standalone workers keep offsets in their offset file."))
        .allow_prefix("topic.creation.")
        .allow_prefix("producer.override.")
        .allow_prefix("admin.override.")
}

pub fn sink_config_def() -> ConfigDef {
    common_config_def()
        .define(
            ConfigKey::new("topics", ConfigType::List, Some(""), Importance::High,
                "List of topics to consume, separated by commas.")
                .group(COMMON, 8).display("Topics"),
        )
        .define(
            ConfigKey::new("topics.regex", ConfigType::String, Some(""), Importance::High,
                "Regular expression giving topics to consume; exclusive with 'topics'.")
                .group(COMMON, 9).display("Topics regex"),
        )
        .define(
            ConfigKey::new("errors.deadletterqueue.topic.name", ConfigType::String, Some(""), Importance::Medium,
                "Topic receiving records that could not be converted or written, when errors.tolerance=all.")
                .group(ERRORS, 6),
        )
        .define(
            ConfigKey::new("errors.deadletterqueue.topic.replication.factor", ConfigType::Int, Some("3"), Importance::Low,
                "Replication factor of the dead-letter topic when it is created.")
                .group(ERRORS, 7),
        )
        .define(
            ConfigKey::new("errors.deadletterqueue.context.headers.enable", ConfigType::Boolean, Some("false"), Importance::Medium,
                "Add headers saying where the record came from and why it failed (__connect.errors.*).")
                .group(ERRORS, 8),
        )
        .allow_prefix("consumer.override.")
        .allow_prefix("admin.override.")
}
