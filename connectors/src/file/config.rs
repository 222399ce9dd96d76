//! Configuration of the FileStream connectors, key for key as Kafka Connect's
//! `FileStreamSourceConnector` and `FileStreamSinkConnector`, so their configs work unchanged.

use tributary_runtime::config::{
    ConfigDef, ConfigError, ConfigKey, ConfigMap, ConfigType, Importance, Validator,
};

pub const FILE: &str = "file";
pub const TOPIC: &str = "topic";
pub const BATCH_SIZE: &str = "batch.size";
pub const TOPICS: &str = "topics";

/// Kafka's `FileStreamSourceConnector.CONFIG_DEF`, same names, types, defaults, importance and
/// documentation.
///
/// `file` is optional in Kafka (standard input when absent), so it is optional without a
/// default here too; a task refuses to start without it, since reading the worker's standard
/// input makes no sense for a service.
pub fn source_config_def() -> ConfigDef {
    ConfigDef::new()
        .define(
            ConfigKey::new(
                FILE,
                ConfigType::String,
                None,
                Importance::High,
                "Source filename. If not specified, the standard input will be used",
            )
            .optional(),
        )
        .define(
            ConfigKey::new(
                TOPIC,
                ConfigType::String,
                None,
                Importance::High,
                "The topic to publish data to",
            )
            .validator(Validator::NonEmpty),
        )
        .define(
            ConfigKey::new(
                BATCH_SIZE,
                ConfigType::Int,
                Some("2000"),
                Importance::Low,
                "The maximum number of records the source task can read from the file each time it is polled",
            )
            .validator(Validator::Range(1, i32::MAX as i64)),
        )
}

/// Kafka's `FileStreamSinkConnector.CONFIG_DEF`, except that `file` is required: Kafka writes
/// to the standard output without it, which a service's output file cannot replace.
/// `topics`/`topics.regex` are the runtime's common sink keys.
pub fn sink_config_def() -> ConfigDef {
    ConfigDef::new().define(
        ConfigKey::new(
            FILE,
            ConfigType::String,
            None,
            Importance::High,
            "Destination filename. Every task appends one line per record to it: a string value \
             as is, any other value as JSON (structs as objects, decimals as strings, bytes as \
             base64), a null value (tombstone) as null. Writing to the standard output is not \
             supported.",
        )
        .validator(Validator::NonEmpty),
    )
}

/// What a FileStreamSource task runs with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileSourceConfig {
    /// `None`: Kafka would read the standard input; we refuse at task start.
    pub file: Option<String>,
    pub topic: String,
    pub batch_size: usize,
}

impl FileSourceConfig {
    pub fn parse(config: &ConfigMap) -> Result<FileSourceConfig, ConfigError> {
        let parsed = crate::parse_own_keys(&source_config_def(), config)?;
        let topic = parsed.string(TOPIC).trim().to_owned();
        if let Some(message) = topic_problem(&topic) {
            return Err(ConfigError::invalid(TOPIC, &topic, message));
        }
        Ok(FileSourceConfig {
            file: parsed.optional_string(FILE),
            topic,
            batch_size: usize::try_from(parsed.i64(BATCH_SIZE)).unwrap_or(1).max(1),
        })
    }
}

/// What a FileStreamSink task runs with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileSinkConfig {
    pub file: String,
}

impl FileSinkConfig {
    pub fn parse(config: &ConfigMap) -> Result<FileSinkConfig, ConfigError> {
        let parsed = crate::parse_own_keys(&sink_config_def(), config)?;
        Ok(FileSinkConfig {
            file: parsed.string(FILE).trim().to_owned(),
        })
    }
}

/// Kafka's FileStreamSource rejects a list of topics: records of one file go to one topic.
pub(crate) fn topic_problem(topic: &str) -> Option<String> {
    topic.contains(',').then(|| {
        "topic must name a single topic: FileStreamSourceConnector writes every line of its file \
         to one topic"
            .to_owned()
    })
}
