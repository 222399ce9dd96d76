//! Keys every connector accepts (Kafka Connect's `ConnectorConfig`, `SourceConnectorConfig`,
//! `SinkConnectorConfig`), so configs written for Kafka Connect validate unchanged.

use std::time::Duration;

use super::topic_creation::{self, TopicCreation};
use super::ConnectorType;
use crate::config::{
    ConfigDef, ConfigError, ConfigKey, ConfigMap, ConfigType, Importance, Parsed, Validator, Width,
};

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
                "The maximum duration in milliseconds that a failed operation will be reattempted. The default is 0, which means no retries will be attempted. Use -1 for infinite retries. Retried are the operations that may succeed later: a schema registry that cannot be reached or answers with a server error, a record Kafka did not take for lack of an answer.")
                .group(ERRORS, 1).width(Width::Medium).display("Retry Timeout for Errors"),
        )
        .define(
            ConfigKey::new("errors.retry.delay.max.ms", ConfigType::Long, Some("60000"), Importance::Medium,
                "The maximum duration in milliseconds between consecutive retry attempts. Jitter will be added to the delay once this limit is reached to prevent thundering herd issues.")
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
                "If true, write each error and the details of the failed operation and problematic record (connector, task, stage, topic, partition, offset) to the log. This is 'false' by default, so that only errors that are not tolerated are reported.")
                .group(ERRORS, 4).width(Width::Short).display("Log Errors"),
        )
        .define(
            ConfigKey::new("errors.log.include.messages", ConfigType::Boolean, Some("false"), Importance::Medium,
                "Whether to include in the log the record that resulted in a failure: its key, value and headers (and for source records their schemas, source partition and offset). This is 'false' by default, which will prevent record keys, values, and headers from being written to log files.")
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
        .merged(&topic_creation::config_def())
        .define(
            ConfigKey::new(
                "exactly.once.support",
                ConfigType::String,
                Some("requested"),
                Importance::Medium,
                "Accepted for compatibility (KIP-618).",
            )
            .validator(Validator::OneOf(&["requested", "required"])),
        )
        .define(
            ConfigKey::new(
                "transaction.boundary",
                ConfigType::String,
                Some("poll"),
                Importance::Medium,
                "Accepted for compatibility (KIP-618).",
            )
            .validator(Validator::OneOf(&["poll", "interval", "connector"])),
        )
        .define(
            ConfigKey::new(
                "transaction.boundary.interval.ms",
                ConfigType::Long,
                None,
                Importance::Low,
                "Accepted for compatibility (KIP-618).",
            )
            .optional()
            .validator(Validator::Range(0, i64::MAX)),
        )
        .define(ConfigKey::new(
            "offsets.storage.topic",
            ConfigType::String,
            Some(""),
            Importance::Low,
            "Accepted for compatibility; standalone workers keep offsets in their offset file.",
        ))
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
                "Replication factor used to create the dead letter queue topic when it doesn't already exist (with one partition).")
                .group(ERRORS, 7).validator(Validator::MinusOneOrAtLeastOne),
        )
        .define(
            ConfigKey::new("errors.deadletterqueue.context.headers.enable", ConfigType::Boolean, Some("false"), Importance::Medium,
                "Add headers saying where the record came from and why it failed (__connect.errors.*).")
                .group(ERRORS, 8),
        )
        .allow_prefix("consumer.override.")
        // The dead-letter queue's producer and its topic's creation, as in Kafka Connect.
        .allow_prefix("producer.override.")
        .allow_prefix("admin.override.")
}

/// What the runtime does when an operation on a record fails (Kafka Connect's
/// `errors.*` keys).
#[derive(Clone, Debug, PartialEq)]
pub struct ErrorHandling {
    /// `errors.tolerance=all`: a record that fails is skipped (and sent to the dead-letter
    /// queue of a sink that has one) instead of failing the task.
    pub tolerate_all: bool,
    /// How long a retriable failure is retried; `None` for ever (`errors.retry.timeout` < 0).
    pub retry_timeout: Option<Duration>,
    /// The longest wait between two attempts.
    pub retry_delay_max: Duration,
    /// `errors.log.enable`: log every failure with where it happened.
    pub log: bool,
    /// `errors.log.include.messages`: with the record's content.
    pub log_messages: bool,
}

/// Kafka Connect's first wait between two attempts, doubled at each attempt.
const RETRY_DELAY_MIN: Duration = Duration::from_millis(300);

impl Default for ErrorHandling {
    fn default() -> Self {
        ErrorHandling {
            tolerate_all: false,
            retry_timeout: Some(Duration::ZERO),
            retry_delay_max: Duration::from_secs(60),
            log: false,
            log_messages: false,
        }
    }
}

impl ErrorHandling {
    fn parse(p: &Parsed) -> ErrorHandling {
        let timeout = p.i64("errors.retry.timeout");
        ErrorHandling {
            tolerate_all: p
                .string("errors.tolerance")
                .trim()
                .eq_ignore_ascii_case("all"),
            retry_timeout: u64::try_from(timeout).ok().map(Duration::from_millis),
            retry_delay_max: Duration::from_millis(
                u64::try_from(p.i64("errors.retry.delay.max.ms")).unwrap_or(0),
            ),
            log: p.bool("errors.log.enable"),
            log_messages: p.bool("errors.log.include.messages"),
        }
    }

    /// How long to wait before attempt `attempt + 1` (the first attempt is 1), `elapsed` after
    /// the first began; `None` once the retry timeout has passed (Kafka Connect's
    /// `RetryWithToleranceOperator`: 300 ms doubling, a random wait below the maximum once the
    /// doubling passes it, never past the deadline).
    pub fn delay_before_retry(&self, attempt: u32, elapsed: Duration) -> Option<Duration> {
        let left = match self.retry_timeout {
            None => Duration::MAX,
            Some(timeout) => timeout.checked_sub(elapsed).filter(|l| !l.is_zero())?,
        };
        let doubled = RETRY_DELAY_MIN
            .checked_mul(
                1u32.checked_shl(attempt.saturating_sub(1))
                    .unwrap_or(u32::MAX),
            )
            .unwrap_or(Duration::MAX);
        let delay = if doubled > self.retry_delay_max {
            jitter_below(self.retry_delay_max)
        } else {
            doubled
        };
        Some(delay.min(left))
    }
}

/// A pseudo-random duration in `[0, max)`, enough to keep many tasks from retrying in step.
fn jitter_below(max: Duration) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    let nanos = u64::try_from(max.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(h.finish().checked_rem(nanos).unwrap_or(0))
}

/// The dead-letter queue of a sink (`errors.deadletterqueue.*`).
#[derive(Clone, Debug, PartialEq)]
pub struct DeadLetterQueueSettings {
    pub topic: String,
    /// Of the topic when the worker creates it (with one partition, as Kafka Connect does).
    pub replication_factor: i32,
    pub context_headers: bool,
}

/// What a sink consumes and where its failed records go.
#[derive(Clone, Debug, PartialEq)]
pub struct SinkSettings {
    /// The topics, or one `^regex` (librdkafka's form of a pattern subscription).
    pub subscription: Vec<String>,
    pub dead_letter_queue: Option<DeadLetterQueueSettings>,
}

/// What only sources have.
#[derive(Clone, Debug)]
pub struct SourceSettings {
    pub topic_creation: Option<TopicCreation>,
}

/// The connector config keys the runtime acts on (Kafka Connect's `ConnectorConfig`,
/// `SourceConnectorConfig`, `SinkConnectorConfig`), parsed once when a connector is configured;
/// a connector's own keys are its own business.
#[derive(Clone, Debug)]
pub struct ConnectorSettings {
    pub name: String,
    pub connector_class: String,
    pub tasks_max: usize,
    /// When false, a connector may start more tasks than `tasks.max` (with a warning).
    pub tasks_max_enforce: bool,
    /// The connector's own converters, when it names them (else the worker's).
    pub key_converter: Option<String>,
    pub value_converter: Option<String>,
    /// The connector's `key.converter.*`/`value.converter.*` settings, prefix removed.
    pub key_converter_settings: ConfigMap,
    pub value_converter_settings: ConfigMap,
    /// The transformation aliases, in order, and the `transforms.*` keys (prefix kept).
    pub transforms: Vec<String>,
    pub transform_settings: ConfigMap,
    /// Client settings for this connector's producer, consumer and admin client
    /// (`producer.override.*`, `consumer.override.*`, `admin.override.*`, prefix removed).
    pub producer_overrides: ConfigMap,
    pub consumer_overrides: ConfigMap,
    pub admin_overrides: ConfigMap,
    pub errors: ErrorHandling,
    pub source: Option<SourceSettings>,
    pub sink: Option<SinkSettings>,
}

impl ConnectorSettings {
    /// Parses the runtime's keys of a config (every problem at once, each naming its key).
    pub fn parse(
        kind: ConnectorType,
        config: &ConfigMap,
    ) -> Result<ConnectorSettings, ConfigError> {
        let def = match kind {
            ConnectorType::Source => source_config_def(),
            ConnectorType::Sink => sink_config_def(),
        };
        let p = Parsed::new(&def, &def.known_subset(config))?;
        let mut errors = Vec::new();
        let transforms = p.list("transforms");
        let transform_keys = p.with_prefix("transforms.");
        let predicates = p.list("predicates");
        let predicate_keys = p.with_prefix("predicates.");
        if !predicates.is_empty() {
            errors.push(ConfigError::Message {
                key: "predicates".into(),
                message: format!(
                    "predicates: no predicate is available in this version of Tributary (it has no transformations either), so '{}' cannot be applied",
                    predicates.join(",")
                ),
            });
        }
        for (list, aliases, keys) in [
            ("transforms", &transforms, &transform_keys),
            ("predicates", &predicates, &predicate_keys),
        ] {
            for rest in keys.keys() {
                if !aliases.iter().any(|a| {
                    rest.strip_prefix(a.as_str())
                        .is_some_and(|r| r.starts_with('.'))
                }) {
                    let key = format!("{list}.{rest}");
                    errors.push(ConfigError::Message {
                        message: format!("{key}: its alias is not listed in '{list}', so this key would have no effect"),
                        key,
                    });
                }
            }
        }
        let source = (kind == ConnectorType::Source).then(|| {
            if p.string("exactly.once.support").trim().eq_ignore_ascii_case("required") {
                errors.push(ConfigError::Message {
                    key: "exactly.once.support".into(),
                    message: "exactly.once.support: this worker does not provide exactly-once delivery for source connectors; set 'requested' (the default) to run with at-least-once delivery".into(),
                });
            }
            if p.string("transaction.boundary").trim().eq_ignore_ascii_case("connector") {
                errors.push(ConfigError::Message {
                    key: "transaction.boundary".into(),
                    message: "transaction.boundary: no Tributary connector defines its own transaction boundaries".into(),
                });
            }
            let topic_creation = match TopicCreation::parse(&p) {
                Ok(tc) => tc,
                Err(e) => {
                    errors.push(e);
                    None
                }
            };
            SourceSettings { topic_creation }
        });
        let sink = (kind == ConnectorType::Sink).then(|| {
            let topics = p.list("topics");
            let regex = p.optional_string("topics.regex");
            let subscription = match (topics.is_empty(), regex) {
                (false, None) => topics,
                (true, Some(r)) => {
                    if let Err(e) = regex::Regex::new(&r) {
                        errors.push(ConfigError::invalid(
                            "topics.regex",
                            &r,
                            format!("not a regular expression: {e}"),
                        ));
                    }
                    vec![if r.starts_with('^') {
                        r
                    } else {
                        format!("^{r}")
                    }]
                }
                (false, Some(_)) => {
                    errors.push(ConfigError::Message {
                        key: "topics".into(),
                        message: "topics and topics.regex are mutually exclusive.".into(),
                    });
                    Vec::new()
                }
                (true, None) => {
                    errors.push(ConfigError::Message {
                        key: "topics".into(),
                        message: "Must configure one of topics or topics.regex".into(),
                    });
                    Vec::new()
                }
            };
            let replication_factor =
                i32::try_from(p.i64("errors.deadletterqueue.topic.replication.factor"))
                    .unwrap_or(-1);
            let context_headers = p.bool("errors.deadletterqueue.context.headers.enable");
            let dead_letter_queue =
                p.optional_string("errors.deadletterqueue.topic.name")
                    .map(|topic| DeadLetterQueueSettings {
                        topic,
                        replication_factor,
                        context_headers,
                    });
            SinkSettings {
                subscription,
                dead_letter_queue,
            }
        });
        // A converter's own version key is not one of its settings.
        let converter_settings = |prefix: &str| -> ConfigMap {
            p.with_prefix(prefix)
                .into_iter()
                .filter(|(k, v)| k != "plugin.version" && !v.trim().is_empty())
                .collect()
        };
        let settings = ConnectorSettings {
            name: p.string("name"),
            connector_class: p.string("connector.class"),
            tasks_max: usize::try_from(p.i64("tasks.max")).unwrap_or(1).max(1),
            tasks_max_enforce: p.bool("tasks.max.enforce"),
            key_converter: p.optional_string("key.converter"),
            value_converter: p.optional_string("value.converter"),
            key_converter_settings: converter_settings("key.converter."),
            value_converter_settings: converter_settings("value.converter."),
            transforms,
            transform_settings: transform_keys
                .into_iter()
                .map(|(k, v)| (format!("transforms.{k}"), v))
                .collect(),
            producer_overrides: p.with_prefix("producer.override."),
            consumer_overrides: p.with_prefix("consumer.override."),
            admin_overrides: p.with_prefix("admin.override."),
            errors: ErrorHandling::parse(&p),
            source,
            sink,
        };
        ConfigError::all(errors).map(|()| settings)
    }
}
