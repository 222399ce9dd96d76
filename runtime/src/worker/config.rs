//! The worker's own configuration (Kafka Connect's `connect-standalone.properties` keys, plus
//! ours for the built-in schema registry), parsed and checked in one place.

use std::path::PathBuf;
use std::time::Duration;

use crate::config::{ConfigDef, ConfigError, ConfigKey, ConfigMap, ConfigType, Importance, Parsed};
use crate::kafka::{InProcessKafka, KafkaSettings, COMMON_CLIENT_PREFIXES};

/// Where Avro schemas are registered.
#[derive(Clone, Debug, PartialEq)]
pub enum RegistryMode {
    /// The worker serves the registry on its REST port and keeps it in a Kafka topic.
    Builtin {
        topic: String,
        replication_factor: i32,
    },
    /// The worker serves the registry, in memory only (quickstart, tests).
    BuiltinInMemory,
    /// Another Confluent-compatible registry.
    External { url: String },
}

#[derive(Clone, Debug)]
pub struct WorkerConfig {
    pub kafka: KafkaSettings,
    /// Address the REST API listens on.
    pub listen: String,
    /// `host:port` other workers and status answers use for this worker.
    pub worker_id: String,
    pub offset_file: PathBuf,
    /// Where connectors created through REST are kept across restarts (standalone).
    pub connector_config_file: Option<PathBuf>,
    pub offset_flush_interval: Duration,
    pub task_shutdown_timeout: Duration,
    /// `key.converter`, `value.converter` and their settings, the defaults for connectors.
    pub converters: ConfigMap,
    pub registry: RegistryMode,
    /// `topic.creation.enable`: whether source connectors' `topic.creation.*` settings are used.
    pub topic_creation_enable: bool,
    /// A Kafka this process runs itself (the quickstart), where topics are created through its
    /// own interface; set by the caller, not by a config key.
    pub in_process_kafka: Option<InProcessKafka>,
}

/// The worker's keys, as `WorkerConfig::parse` reads them.
pub fn config_def() -> ConfigDef {
    use ConfigType::*;
    use Importance::*;
    ConfigDef::new()
        .define(ConfigKey::new("bootstrap.servers", List, Some("localhost:9092"), High,
            "Kafka brokers to connect to."))
        .define(ConfigKey::new("listeners", List, Some("http://:8083"), High,
            "Where the REST API listens, e.g. http://0.0.0.0:8083 (only the first listener is used)."))
        .define(ConfigKey::new("rest.advertised.host.name", String, Some(""), Low,
            "Host name given to other workers and shown as worker_id."))
        .define(ConfigKey::new("rest.advertised.port", Int, Some("0"), Low,
            "Port given to other workers and shown as worker_id."))
        .define(ConfigKey::new("offset.storage.file.filename", String, Some("tributary-state/connect.offsets"), High,
            "File holding source connectors' offsets (written atomically)."))
        .define(ConfigKey::new("offset.flush.interval.ms", Long, Some("1000"), Low,
            "How often acknowledged source offsets are written. Lower means fewer records sent again after a crash."))
        .define(ConfigKey::new("offset.flush.timeout.ms", Long, Some("5000"), Low,
            "Accepted for compatibility."))
        .define(ConfigKey::new("task.shutdown.graceful.timeout.ms", Long, Some("5000"), Low,
            "How long a stopping task may take to flush before it is abandoned."))
        .define(ConfigKey::new("connector.config.file", String, Some(""), Medium,
            "File keeping connectors created through the REST API across restarts; defaults to connectors.json beside the offset file."))
        .define(ConfigKey::new("key.converter", Class, Some("org.apache.kafka.connect.json.JsonConverter"), High,
            "Default converter for record keys."))
        .define(ConfigKey::new("value.converter", Class, Some("org.apache.kafka.connect.json.JsonConverter"), High,
            "Default converter for record values."))
        .define(ConfigKey::new("header.converter", Class, Some(""), Low, "Accepted for compatibility."))
        .define(ConfigKey::new("topic.creation.enable", Boolean, Some("true"), Low,
            "Whether to allow automatic creation of topics used by source connectors, when source connectors are configured with `topic.creation.` properties. Each task will use an admin client to create its topics and will not depend on the Kafka brokers to create topics automatically."))
        .define(ConfigKey::new("plugin.path", List, Some(""), Low,
            "Accepted for compatibility; connectors are built into the binary."))
        .define(ConfigKey::new("schema.registry.url", String, Some(""), High,
            "A Confluent-compatible schema registry to use instead of the built-in one."))
        .define(ConfigKey::new("schema.registry.storage", String, Some("kafka"), Medium,
            "Where the built-in registry keeps schemas: 'kafka' (a compacted topic) or 'memory'.")
            .validator(crate::config::Validator::OneOf(&["kafka", "memory"])))
        .define(ConfigKey::new("schema.registry.topic", String, Some("_schemas"), Medium,
            "Compacted topic holding the built-in registry's schemas."))
        .define(ConfigKey::new("schema.registry.topic.replication.factor", Int, Some("1"), Medium,
            "Replication factor of the registry topic when it is created (use 3 on a production cluster)."))
        .allow_prefix("key.converter.")
        .allow_prefix("value.converter.")
        .allow_prefix("header.converter.")
        .allow_prefix("producer.")
        .allow_prefix("consumer.")
        .allow_prefix("admin.")
        .allow_prefix("security.")
        .allow_prefix("ssl.")
        .allow_prefix("sasl.")
        .allow_prefix("client.dns.lookup")
        .allow_prefix("socket.")
}

impl WorkerConfig {
    pub fn parse(props: &ConfigMap) -> Result<WorkerConfig, ConfigError> {
        let p = Parsed::new(&config_def(), props)?;
        let listen = listen_address(&p.list("listeners"))?;
        let advertised_host = p
            .optional_string("rest.advertised.host.name")
            .unwrap_or_else(|| match listen.rsplit_once(':') {
                Some((h, _)) if !h.is_empty() && h != "0.0.0.0" => h.to_owned(),
                _ => "127.0.0.1".to_owned(),
            });
        let advertised_port = match p.i64("rest.advertised.port") {
            0 => listen
                .rsplit_once(':')
                .map(|(_, port)| port.to_owned())
                .unwrap_or_default(),
            port => port.to_string(),
        };
        let offset_file = PathBuf::from(p.string("offset.storage.file.filename"));
        let connector_config_file = Some(match p.optional_string("connector.config.file") {
            Some(f) => PathBuf::from(f),
            None => offset_file.with_file_name("connectors.json"),
        });
        let registry = match p.optional_string("schema.registry.url") {
            Some(url) => RegistryMode::External { url },
            None if p
                .string("schema.registry.storage")
                .eq_ignore_ascii_case("memory") =>
            {
                RegistryMode::BuiltinInMemory
            }
            None => RegistryMode::Builtin {
                topic: p.string("schema.registry.topic"),
                replication_factor: i32::try_from(
                    p.i64("schema.registry.topic.replication.factor"),
                )
                .unwrap_or(1),
            },
        };
        let mut kafka = KafkaSettings::new(p.list("bootstrap.servers").join(","));
        // Settings every client gets, under their own names (`security.protocol`, `ssl.*` …).
        for prefix in COMMON_CLIENT_PREFIXES {
            for (rest, v) in p.with_prefix(prefix) {
                kafka.common.insert(format!("{prefix}{rest}"), v);
            }
        }
        kafka.producer = p.with_prefix("producer.");
        kafka.consumer = p.with_prefix("consumer.");
        kafka.admin = p.with_prefix("admin.");
        let mut converters = ConfigMap::new();
        for side in ["key.converter", "value.converter"] {
            converters.insert(side.to_owned(), p.string(side));
            for (rest, v) in p.with_prefix(&format!("{side}.")) {
                converters.insert(format!("{side}.{rest}"), v);
            }
        }
        Ok(WorkerConfig {
            kafka,
            worker_id: format!("{advertised_host}:{advertised_port}"),
            listen,
            offset_file,
            connector_config_file,
            offset_flush_interval: Duration::from_millis(
                p.i64("offset.flush.interval.ms").max(10) as u64
            ),
            task_shutdown_timeout: Duration::from_millis(
                p.i64("task.shutdown.graceful.timeout.ms").max(0) as u64,
            ),
            converters,
            registry,
            topic_creation_enable: p.bool("topic.creation.enable"),
            in_process_kafka: None,
        })
    }
}

/// `http://host:port` → `host:port`; an empty host means all interfaces.
fn listen_address(listeners: &[String]) -> Result<String, ConfigError> {
    let first = listeners
        .first()
        .map(String::as_str)
        .unwrap_or("http://:8083");
    let rest = first.strip_prefix("http://").ok_or_else(|| {
        ConfigError::invalid("listeners", first, "only http:// listeners are supported")
    })?;
    let (host, port) = rest
        .rsplit_once(':')
        .ok_or_else(|| ConfigError::invalid("listeners", first, "expected http://host:port"))?;
    port.parse::<u16>()
        .map_err(|_| ConfigError::invalid("listeners", first, "the port is not a number"))?;
    let host = if host.is_empty() { "0.0.0.0" } else { host };
    Ok(format!("{host}:{port}"))
}

/// Reads a Java properties file or a JSON object of strings (worker or connector configs).
pub fn read_config_file(path: &std::path::Path) -> Result<ConfigMap, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        let json: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not valid JSON: {e}", path.display()))?;
        // Kafka Connect's connector JSON: {"name":…, "config":{…}} or a bare config map.
        let (name, config) = match (json.get("name"), json.get("config")) {
            (Some(n), Some(c)) => (n.as_str().map(str::to_owned), c.clone()),
            _ => (None, json),
        };
        let mut map =
            json_object_to_config(&config).map_err(|e| format!("{}: {e}", path.display()))?;
        if let Some(n) = name {
            map.entry("name".to_owned()).or_insert(n);
        }
        Ok(map)
    } else {
        Ok(parse_properties(&text))
    }
}

/// A JSON object of config values; numbers and booleans are accepted and turned into strings,
/// as Kafka Connect does.
pub fn json_object_to_config(json: &serde_json::Value) -> Result<ConfigMap, String> {
    let obj = json
        .as_object()
        .ok_or_else(|| "the configuration must be a JSON object".to_owned())?;
    obj.iter()
        .map(|(k, v)| {
            let s = match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                serde_json::Value::Null => return Err(format!("configuration \"{k}\" is null")),
                other => {
                    return Err(format!(
                        "configuration \"{k}\" must be a string, got {other}"
                    ))
                }
            };
            Ok((k.clone(), s))
        })
        .collect()
}

/// Java `.properties`: `key=value` or `key: value`, `#`/`!` comments, trailing-backslash
/// continuations.
pub fn parse_properties(text: &str) -> ConfigMap {
    let mut out = ConfigMap::new();
    let mut pending = String::new();
    for line in text.lines() {
        let line = line.trim_start();
        if pending.is_empty() && (line.is_empty() || line.starts_with('#') || line.starts_with('!'))
        {
            continue;
        }
        if let Some(stripped) = line.strip_suffix('\\') {
            pending.push_str(stripped);
            continue;
        }
        pending.push_str(line);
        let entry = std::mem::take(&mut pending);
        let split = entry.find(['=', ':']);
        let (k, v) = match split {
            Some(i) => (&entry[..i], &entry[i + 1..]),
            None => (entry.as_str(), ""),
        };
        out.insert(k.trim().to_owned(), v.trim().to_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> ConfigMap {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults_make_a_runnable_worker() {
        let w = WorkerConfig::parse(&ConfigMap::new()).expect("defaults");
        assert_eq!(w.listen, "0.0.0.0:8083");
        assert_eq!(w.worker_id, "127.0.0.1:8083");
        assert_eq!(w.kafka.bootstrap_servers, "localhost:9092");
        assert!(matches!(w.registry, RegistryMode::Builtin { .. }));
        assert_eq!(
            w.converters.get("value.converter").map(String::as_str),
            Some("org.apache.kafka.connect.json.JsonConverter")
        );
    }

    #[test]
    fn unknown_worker_key_is_named() {
        let err = WorkerConfig::parse(&props(&[("bootstrap.server", "x:9092")])).unwrap_err();
        assert!(err.to_string().contains("\"bootstrap.server\""), "{err}");
        assert!(err.to_string().contains("bootstrap.servers"), "{err}");
    }

    #[test]
    fn client_settings_reach_every_client() {
        let w = WorkerConfig::parse(&props(&[
            ("security.protocol", "SASL_SSL"),
            ("producer.linger.ms", "20"),
            ("listeners", "http://127.0.0.1:18083"),
        ]))
        .expect("parse");
        assert_eq!(
            w.kafka.common.get("security.protocol").map(String::as_str),
            Some("SASL_SSL")
        );
        assert_eq!(
            w.kafka.producer.get("linger.ms").map(String::as_str),
            Some("20")
        );
        assert_eq!(w.worker_id, "127.0.0.1:18083");
    }

    #[test]
    fn bad_listener_is_named() {
        let err = WorkerConfig::parse(&props(&[("listeners", "https://:443")])).unwrap_err();
        assert_eq!(err.key(), Some("listeners"));
    }

    #[test]
    fn properties_files_parse_like_java() {
        let p =
            parse_properties("# c\nname=a\nurl : http://x:1\nlong=one,\\\n  two\n! bang\nempty=\n");
        assert_eq!(p.get("name").map(String::as_str), Some("a"));
        assert_eq!(p.get("url").map(String::as_str), Some("http://x:1"));
        assert_eq!(p.get("long").map(String::as_str), Some("one,two"));
        assert_eq!(p.get("empty").map(String::as_str), Some(""));
        assert_eq!(p.len(), 4);
    }
}
