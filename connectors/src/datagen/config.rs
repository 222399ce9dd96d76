//! The datagen connector's own configuration keys.

use tributary_runtime::config::{
    ConfigDef, ConfigError, ConfigKey, ConfigMap, ConfigType, Importance, Validator,
};

pub const TOPIC_PREFIX: &str = "topic.prefix";
pub const RATE: &str = "rate";
pub const MAX_RECORDS: &str = "max.records";
pub const KEYS: &str = "keys";
pub const SEED: &str = "seed";
pub const TOMBSTONES_ON_DELETE: &str = "tombstones.on.delete";
pub const MAX_BATCH_SIZE: &str = "max.batch.size";

const GROUP: &str = "Datagen";

/// The keys `/connector-plugins/datagen/config` lists; the common keys are added by the runtime.
pub fn config_def() -> ConfigDef {
    ConfigDef::new()
        .define(
            ConfigKey::new(
                TOPIC_PREFIX,
                ConfigType::String,
                None,
                Importance::High,
                "Prefix of the topic and schema names, as Debezium's topic.prefix: events go to \
                 '<topic.prefix>.demo.customers', and the source partition is named after it, so \
                 changing it starts a new sequence from the beginning. Letters, digits, '.', '_' \
                 and '-' only.",
            )
            .group(GROUP, 1)
            .display("Topic prefix")
            .validator(Validator::NonEmpty),
        )
        .define(
            ConfigKey::new(
                RATE,
                ConfigType::Long,
                Some("1000"),
                Importance::Medium,
                "Change events per second, on average (a delete's tombstone travels with its \
                 delete and is not counted). 0 produces as fast as the worker can send.",
            )
            .group(GROUP, 2)
            .display("Events per second")
            .validator(Validator::Range(0, 1_000_000_000)),
        )
        .define(
            ConfigKey::new(
                MAX_RECORDS,
                ConfigType::Long,
                Some("-1"),
                Importance::Medium,
                "Total number of change events to produce over the connector's whole life, \
                 restarts included (the count is kept in the source offset); afterwards the task \
                 stays running and produces nothing. -1 produces forever.",
            )
            .group(GROUP, 3)
            .display("Maximum events")
            .validator(Validator::Range(-1, i64::MAX)),
        )
        .define(
            ConfigKey::new(
                KEYS,
                ConfigType::Int,
                Some("100"),
                Importance::Medium,
                "Number of distinct customer ids (1..=keys). Every id is created once before any \
                 is updated or deleted, so the first 'keys' events are creates; a small number \
                 gives a compacted topic with many versions per key.",
            )
            .group(GROUP, 4)
            .display("Distinct keys")
            .validator(Validator::Range(1, i32::MAX as i64)),
        )
        .define(
            ConfigKey::new(
                SEED,
                ConfigType::Long,
                Some("42"),
                Importance::Low,
                "Seed of the generator. The whole sequence (ids, operations, row contents and \
                 event times in the source block) is a function of seed, keys and the event \
                 number, so two runs with the same seed produce the same events.",
            )
            .group(GROUP, 5)
            .display("Seed"),
        )
        .define(
            ConfigKey::new(
                TOMBSTONES_ON_DELETE,
                ConfigType::Boolean,
                Some("true"),
                Importance::Medium,
                "Whether a delete event is followed by a tombstone (same key, null value), as \
                 Debezium's option of the same name, so that log compaction can remove every \
                 record of a deleted key.",
            )
            .group(GROUP, 6)
            .display("Tombstones on delete"),
        )
        .define(
            ConfigKey::new(
                MAX_BATCH_SIZE,
                ConfigType::Int,
                Some("1000"),
                Importance::Low,
                "Maximum number of records (tombstones included) returned by one poll.",
            )
            .group(GROUP, 7)
            .display("Maximum batch size")
            .validator(Validator::Range(1, 1_000_000)),
        )
}

/// The parsed configuration a datagen task runs with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatagenConfig {
    pub topic_prefix: String,
    /// Events per second; 0 = unpaced.
    pub rate: u64,
    /// Total events over the connector's life; `None` = unbounded.
    pub max_records: Option<u64>,
    pub keys: u64,
    pub seed: i64,
    pub tombstones_on_delete: bool,
    pub max_batch_size: usize,
}

impl DatagenConfig {
    /// Reads the datagen keys of a connector or task config, ignoring every other key.
    pub fn parse(config: &ConfigMap) -> Result<DatagenConfig, ConfigError> {
        let parsed = crate::parse_own_keys(&config_def(), config)?;
        let topic_prefix = parsed.string(TOPIC_PREFIX).trim().to_owned();
        if let Some(message) = prefix_problem(&topic_prefix) {
            return Err(ConfigError::invalid(TOPIC_PREFIX, &topic_prefix, message));
        }
        let max_records = parsed.i64(MAX_RECORDS);
        Ok(DatagenConfig {
            topic_prefix,
            rate: u64::try_from(parsed.i64(RATE)).unwrap_or(0),
            max_records: u64::try_from(max_records).ok(),
            keys: u64::try_from(parsed.i64(KEYS)).unwrap_or(1).max(1),
            seed: parsed.i64(SEED),
            tombstones_on_delete: parsed.bool(TOMBSTONES_ON_DELETE),
            max_batch_size: usize::try_from(parsed.i64(MAX_BATCH_SIZE))
                .unwrap_or(1)
                .max(1),
        })
    }

    /// Debezium's `<topic.prefix>.<db>.<table>`: the topic and the base of the schema names.
    pub fn base_name(&self) -> String {
        format!("{}.{}.{}", self.topic_prefix, super::DATABASE, super::TABLE)
    }
}

/// Why a topic prefix cannot name Kafka topics and Avro schemas, if it cannot.
pub(crate) fn prefix_problem(prefix: &str) -> Option<String> {
    if prefix.is_empty() {
        return Some("String may not be empty".into());
    }
    prefix
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        .map(|c| {
            format!(
                "topic.prefix may contain only letters, digits, '.', '_' and '-' (it names Kafka \
                 topics and schemas), found '{c}'"
            )
        })
}
