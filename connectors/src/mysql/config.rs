//! The MySQL/MariaDB source's configuration, under Debezium's property names so that a
//! Debezium connector config runs unchanged.

use tributary_runtime::config::{
    ConfigDef, ConfigError, ConfigKey, ConfigMap, ConfigType, Importance, Parsed, Validator,
};

use super::filters::Filters;
use super::types::TypeModes;

const CONNECTION: &str = "Connection";
const FILTERS: &str = "Filters";
const EVENTS: &str = "Events";
const SNAPSHOT: &str = "Snapshot";

pub fn config_def() -> ConfigDef {
    use ConfigType::*;
    use Importance::*;
    ConfigDef::new()
        .define(ConfigKey::new("database.hostname", String, None, High, "Host name or address of the MySQL/MariaDB server.").group(CONNECTION, 1))
        .define(ConfigKey::new("database.port", Int, Some("3306"), High, "Port of the server.").group(CONNECTION, 2))
        .define(ConfigKey::new("database.user", String, None, High, "User with REPLICATION SLAVE, REPLICATION CLIENT, SELECT and RELOAD privileges.").group(CONNECTION, 3))
        .define(ConfigKey::new("database.password", Password, Some(""), High, "Password of database.user.").group(CONNECTION, 4))
        .define(ConfigKey::new("database.server.id", Long, Some("0"), Low,
            "Replica server id this connector uses to read the binlog; must be unique among the server's replicas. 0 derives one from the connector name.").group(CONNECTION, 5))
        .define(ConfigKey::new("database.ssl.mode", String, Some("preferred"), Low,
            "disabled, preferred, required, verify_ca or verify_identity.").group(CONNECTION, 6)
            .validator(Validator::OneOf(&["disabled", "preferred", "required", "verify_ca", "verify_identity"])))
        .define(ConfigKey::new("connect.timeout.ms", Long, Some("30000"), Low, "Connection timeout.").group(CONNECTION, 7))
        .define(ConfigKey::new("connect.keep.alive", Boolean, Some("true"), Low, "Reconnect with backoff when the binlog connection drops; with false a lost binlog connection fails the task.").group(CONNECTION, 8))
        .define(ConfigKey::new("database.initial.statements", String, Some(""), Low,
            "A semicolon separated list of SQL statements run on every connection the connector opens to query the server (not on the binlog connection). Write ;; for a semicolon inside a statement.").group(CONNECTION, 9))
        .define(ConfigKey::new("topic.prefix", String, None, High,
            "Logical name of the server: the prefix of every topic (<prefix>.<db>.<table>) and of schema names.").group(CONNECTION, 0)
            .validator(Validator::NonEmpty))
        .define(ConfigKey::new("database.include.list", List, Some(""), High, "Regular expressions of databases to capture (all but system databases when empty).").group(FILTERS, 1))
        .define(ConfigKey::new("database.exclude.list", List, Some(""), High, "Regular expressions of databases not to capture.").group(FILTERS, 2))
        .define(ConfigKey::new("table.include.list", List, Some(""), High, "Regular expressions of <db>.<table> to capture.").group(FILTERS, 3))
        .define(ConfigKey::new("table.exclude.list", List, Some(""), High, "Regular expressions of <db>.<table> not to capture.").group(FILTERS, 4))
        .define(ConfigKey::new("column.include.list", List, Some(""), Medium, "Regular expressions of <db>.<table>.<column> to include in events.").group(FILTERS, 5))
        .define(ConfigKey::new("column.exclude.list", List, Some(""), Medium, "Regular expressions of <db>.<table>.<column> to leave out of events.").group(FILTERS, 6))
        .define(ConfigKey::new("snapshot.mode", String, Some("initial"), High,
            "initial: snapshot then stream; initial_only: snapshot then stop; no_data (schema_only): the schema-change records of a snapshot, then stream from its position; never: stream from the start of the binlog; when_needed: snapshot when there is no offset or the binlog is gone.")
            .group(SNAPSHOT, 1)
            .validator(Validator::OneOf(&["initial", "initial_only", "no_data", "schema_only", "never", "when_needed", "recovery", "schema_only_recovery"])))
        .define(ConfigKey::new("snapshot.locking.mode", String, Some("minimal"), Low,
            "minimal: a global read lock only while the snapshot transactions start; none: no lock (MariaDB gives a consistent position without one).")
            .group(SNAPSHOT, 2).validator(Validator::OneOf(&["minimal", "minimal_percona", "extended", "none"])))
        .define(ConfigKey::new("snapshot.max.threads", Int, Some("1"), Medium, "Tables snapshotted in parallel (Debezium's default, 1, keeps tables in order).").group(SNAPSHOT, 3).validator(Validator::Range(1, 64)))
        .define(ConfigKey::new("snapshot.fetch.size", Int, Some("10000"), Low, "Rows per primary-key chunk of a snapshot.").group(SNAPSHOT, 4).validator(Validator::Range(1, 10_000_000)))
        .define(ConfigKey::new("tombstones.on.delete", Boolean, Some("true"), Medium, "Follow every delete with a tombstone (null value) for log compaction.").group(EVENTS, 1))
        .define(ConfigKey::new("decimal.handling.mode", String, Some("precise"), Medium, "precise (bytes Decimal), double or string.").group(EVENTS, 2)
            .validator(Validator::OneOf(&["precise", "double", "string"])))
        .define(ConfigKey::new("time.precision.mode", String, Some("adaptive_time_microseconds"), Medium, "adaptive_time_microseconds, adaptive or connect.").group(EVENTS, 3)
            .validator(Validator::OneOf(&["adaptive_time_microseconds", "adaptive", "connect"])))
        .define(ConfigKey::new("bigint.unsigned.handling.mode", String, Some("long"), Medium, "long or precise.").group(EVENTS, 4)
            .validator(Validator::OneOf(&["long", "precise"])))
        .define(ConfigKey::new("binary.handling.mode", String, Some("bytes"), Low, "bytes, base64, base64-url-safe or hex.").group(EVENTS, 5)
            .validator(Validator::OneOf(&["bytes", "base64", "base64-url-safe", "hex"])))
        .define(ConfigKey::new("include.schema.changes", Boolean, Some("true"), Medium, "Publish DDL to the topic <topic.prefix>.").group(EVENTS, 6))
        .define(ConfigKey::new("include.query", Boolean, Some("false"), Low, "Put the statement that caused a change into source.query (needs binlog_annotate_row_events / binlog_rows_query_log_events).").group(EVENTS, 7))
        .define(ConfigKey::new("skipped.operations", List, Some("t"), Low, "Operations not published: c, u, d, t, or none.").group(EVENTS, 8))
        .define(ConfigKey::new("provide.transaction.metadata", Boolean, Some("false"), Low, "Fill the transaction block of events.").group(EVENTS, 9))
        .define(ConfigKey::new("heartbeat.interval.ms", Int, Some("0"), Medium, "Heartbeat period; 0 disables heartbeats.").group(EVENTS, 10))
        .define(ConfigKey::new("heartbeat.topics.prefix", String, Some("__debezium-heartbeat"), Low, "Heartbeats go to <prefix>.<topic.prefix>.").group(EVENTS, 11))
        .define(ConfigKey::new("max.batch.size", Int, Some("2048"), Medium, "Most records returned by one poll.").group(EVENTS, 12).validator(Validator::Range(1, 1_000_000)))
        .define(ConfigKey::new("max.queue.size", Int, Some("8192"), Medium, "Records buffered between the binlog reader and Kafka.").group(EVENTS, 13).validator(Validator::Range(1, 10_000_000)))
        .define(ConfigKey::new("poll.interval.ms", Int, Some("500"), Low, "Longest wait of a poll with nothing to return.").group(EVENTS, 14))
        .define(ConfigKey::new("event.processing.failure.handling.mode", String, Some("fail"), Low, "What to do with a binlog event (or one row of it) that cannot be decoded: fail the task; warn: log its position and skip it; skip (or ignore): skip it silently. Skipping loses that change.").group(EVENTS, 15)
            .validator(Validator::OneOf(&["fail", "warn", "skip", "ignore"])))
        .define(ConfigKey::new("source.version", String, Some(super::events::VERSION), Low,
            "The source.version of every event. Tributary's own by default; set 3.6.3.Final (or another Debezium version) where readers expect Debezium's.").group(EVENTS, 16))
        .define(ConfigKey::new("source.gtid.mode", String, Some("server"), Low,
            "What source.gtid holds. server: the GTID of the event's transaction, MySQL's (uuid:n) or MariaDB's (domain-server-sequence), as Debezium's MariaDB connector; \
             mysql: as Debezium's MySQL connector, which reads MySQL GTIDs only and leaves source.gtid null on MariaDB. Offsets keep the GTIDs either way.")
            .group(EVENTS, 17).validator(Validator::OneOf(&["server", "mysql"])))
        .define(ConfigKey::new("schema.history.internal.kafka.topic", String, Some(""), Low,
            "Accepted for Debezium compatibility and not needed: the table model is read from the server's catalog and checked against the binlog's table maps (see the README)."))
        .define(ConfigKey::new("schema.history.internal.kafka.bootstrap.servers", String, Some(""), Low, "Accepted for Debezium compatibility; not needed (see schema.history.internal.kafka.topic)."))
        .define(ConfigKey::new("schema.history.internal.store.only.captured.tables.ddl", Boolean, Some("false"), Low,
            "The schema-change records of a snapshot describe only the captured tables (default: every table of every database but the system ones, as Debezium)."))
        .define(ConfigKey::new("schema.history.internal.store.only.captured.databases.ddl", Boolean, Some("false"), Low,
            "The schema-change records of a snapshot describe only the tables of the captured databases (default: every database but the system ones, as Debezium)."))
        .allow_prefix(MASK_PREFIX)
        .allow_prefix(TRUNCATE_PREFIX)
        .allow_prefix("schema.history.internal.")
}

/// `column.mask.with.<N>.chars`: the columns whose values become N asterisks.
const MASK_PREFIX: &str = "column.mask.with.";
/// `column.truncate.to.<N>.chars`: the string columns cut to N characters.
const TRUNCATE_PREFIX: &str = "column.truncate.to.";

/// Debezium's `snapshot.mode`, normalised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SnapshotMode {
    Initial,
    InitialOnly,
    NoData,
    Never,
    WhenNeeded,
}

/// Which tables a snapshot's schema-change records describe (Debezium's
/// `schema.history.internal.store.only.captured.{tables,databases}.ddl`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SchemaScope {
    /// Every table of every database but the system ones (Debezium's default).
    AllDatabases,
    /// Every table of the captured databases.
    CapturedDatabases,
    /// The captured tables only.
    CapturedTables,
}

/// What `source.gtid` holds (`source.gtid.mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GtidMode {
    /// The server's GTID of the transaction, MySQL's or MariaDB's.
    Server,
    /// As Debezium's MySQL connector: MySQL GTIDs, null on MariaDB.
    MySql,
}

/// Lengths given to columns by `<prefix><N>.chars` = list of regexes of `db.table.column`
/// (`column.mask.with.`, `column.truncate.to.`).
#[derive(Clone, Debug, Default)]
pub struct ColumnLengths {
    pub rules: Vec<(usize, regex::Regex)>,
}

impl ColumnLengths {
    /// The length for `db.table.column`, if a rule matches.
    pub fn length_for(&self, full_column: &str) -> Option<usize> {
        self.rules
            .iter()
            .find(|(_, r)| r.is_match(full_column))
            .map(|(n, _)| *n)
    }

    fn parse(p: &Parsed, prefix: &str) -> Result<ColumnLengths, ConfigError> {
        let mut rules = Vec::new();
        for (rest, v) in p.with_prefix(prefix) {
            let key = format!("{prefix}{rest}");
            let n = rest
                .strip_suffix(".chars")
                .and_then(|n| n.parse::<usize>().ok())
                .ok_or_else(|| parse_err(&key, &v, format!("expected {prefix}<N>.chars")))?;
            for pattern in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let r =
                    super::filters::anchored(pattern).map_err(|e| parse_err(&key, pattern, e))?;
                rules.push((n, r));
            }
        }
        Ok(ColumnLengths { rules })
    }
}

/// `event.processing.failure.handling.mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventFailureMode {
    Fail,
    Warn,
    Skip,
}

#[derive(Clone, Debug)]
pub struct MySqlConfig {
    pub hostname: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    pub server_id: u32,
    pub ssl_mode: String,
    pub connect_timeout_ms: u64,
    pub topic_prefix: String,
    pub filters: Filters,
    pub masks: ColumnLengths,
    pub truncations: ColumnLengths,
    /// `connect.keep.alive`: reconnect a lost binlog connection (else fail the task).
    pub keep_alive: bool,
    /// Run on every query connection (`database.initial.statements`).
    pub initial_statements: Vec<String>,
    pub event_failures: EventFailureMode,
    pub snapshot_mode: SnapshotMode,
    pub snapshot_lock: bool,
    pub snapshot_threads: usize,
    pub snapshot_chunk: usize,
    pub tombstones: bool,
    pub modes: TypeModes,
    pub include_schema_changes: bool,
    pub schema_scope: SchemaScope,
    pub include_query: bool,
    pub skipped_ops: Vec<String>,
    pub transaction_metadata: bool,
    pub heartbeat_ms: u64,
    pub heartbeat_topic: String,
    pub max_batch: usize,
    pub max_queue: usize,
    pub poll_ms: u64,
    pub connector_name: String,
    /// `source.version` of every event.
    pub source_version: String,
    pub gtid_mode: GtidMode,
}

fn parse_err(key: &str, value: &str, e: impl std::fmt::Display) -> ConfigError {
    ConfigError::invalid(key, value, e.to_string())
}

impl MySqlConfig {
    pub fn parse(config: &ConfigMap) -> Result<MySqlConfig, ConfigError> {
        let def = config_def();
        let own = def.known_subset(config);
        let p = Parsed::new(&def, &own)?;
        let connector_name = config.get("name").cloned().unwrap_or_default();
        let server_id = match p.i64("database.server.id") {
            0 => derived_server_id(&connector_name),
            id => u32::try_from(id).map_err(|_| {
                parse_err("database.server.id", &id.to_string(), "must fit in 32 bits")
            })?,
        };
        let snapshot_mode = match p.string("snapshot.mode").to_ascii_lowercase().as_str() {
            "initial" | "recovery" => SnapshotMode::Initial,
            "initial_only" => SnapshotMode::InitialOnly,
            "no_data" | "schema_only" | "schema_only_recovery" => SnapshotMode::NoData,
            "never" => SnapshotMode::Never,
            _ => SnapshotMode::WhenNeeded,
        };
        let filters = Filters::new(
            &p.list("database.include.list"),
            &p.list("database.exclude.list"),
            &p.list("table.include.list"),
            &p.list("table.exclude.list"),
            &p.list("column.include.list"),
            &p.list("column.exclude.list"),
        )?;
        let masks = ColumnLengths::parse(&p, MASK_PREFIX)?;
        let truncations = ColumnLengths::parse(&p, TRUNCATE_PREFIX)?;
        let event_failures = match p
            .string("event.processing.failure.handling.mode")
            .trim()
            .to_ascii_lowercase()
            .as_str()
        {
            "warn" => EventFailureMode::Warn,
            "skip" | "ignore" => EventFailureMode::Skip,
            _ => EventFailureMode::Fail,
        };
        let modes = TypeModes {
            decimal: p.string("decimal.handling.mode").parse().map_err(|e| {
                parse_err(
                    "decimal.handling.mode",
                    &p.string("decimal.handling.mode"),
                    e,
                )
            })?,
            time_precision: p.string("time.precision.mode").parse().map_err(|e| {
                parse_err("time.precision.mode", &p.string("time.precision.mode"), e)
            })?,
            bigint_unsigned: p
                .string("bigint.unsigned.handling.mode")
                .parse()
                .map_err(|e| {
                    parse_err(
                        "bigint.unsigned.handling.mode",
                        &p.string("bigint.unsigned.handling.mode"),
                        e,
                    )
                })?,
            binary: p.string("binary.handling.mode").parse().map_err(|e| {
                parse_err("binary.handling.mode", &p.string("binary.handling.mode"), e)
            })?,
        };
        let topic_prefix = p.string("topic.prefix");
        Ok(MySqlConfig {
            hostname: p.string("database.hostname"),
            port: u16::try_from(p.i64("database.port")).map_err(|_| {
                parse_err(
                    "database.port",
                    &p.string("database.port"),
                    "not a port number",
                )
            })?,
            user: p.string("database.user"),
            password: p.string("database.password"),
            server_id,
            ssl_mode: p.string("database.ssl.mode").to_ascii_lowercase(),
            connect_timeout_ms: p.i64("connect.timeout.ms").max(1000) as u64,
            heartbeat_topic: format!("{}.{}", p.string("heartbeat.topics.prefix"), topic_prefix),
            topic_prefix,
            filters,
            masks,
            truncations,
            keep_alive: p.bool("connect.keep.alive"),
            initial_statements: statements(&p.string("database.initial.statements")),
            event_failures,
            snapshot_mode,
            snapshot_lock: !p
                .string("snapshot.locking.mode")
                .eq_ignore_ascii_case("none"),
            snapshot_threads: p.i64("snapshot.max.threads").max(1) as usize,
            snapshot_chunk: p.i64("snapshot.fetch.size").max(1) as usize,
            tombstones: p.bool("tombstones.on.delete"),
            modes,
            include_schema_changes: p.bool("include.schema.changes"),
            // The tables setting wins when both are set, as in Debezium.
            schema_scope: if p.bool("schema.history.internal.store.only.captured.tables.ddl") {
                SchemaScope::CapturedTables
            } else if p.bool("schema.history.internal.store.only.captured.databases.ddl") {
                SchemaScope::CapturedDatabases
            } else {
                SchemaScope::AllDatabases
            },
            include_query: p.bool("include.query"),
            skipped_ops: p
                .list("skipped.operations")
                .into_iter()
                .map(|s| s.to_ascii_lowercase())
                .filter(|s| s != "none")
                .collect(),
            transaction_metadata: p.bool("provide.transaction.metadata"),
            heartbeat_ms: p.i64("heartbeat.interval.ms").max(0) as u64,
            max_batch: p.i64("max.batch.size").max(1) as usize,
            max_queue: p.i64("max.queue.size").max(1) as usize,
            poll_ms: p.i64("poll.interval.ms").clamp(10, 5000) as u64,
            connector_name,
            source_version: p.string("source.version"),
            gtid_mode: if p.string("source.gtid.mode").eq_ignore_ascii_case("mysql") {
                GtidMode::MySql
            } else {
                GtidMode::Server
            },
        })
    }

    pub fn skips(&self, op_code: &str) -> bool {
        self.skipped_ops.iter().any(|s| s == op_code)
    }
}

/// Debezium's `database.initial.statements`: statements separated by `;`, `;;` standing for a
/// semicolon inside one.
fn statements(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ';' if chars.peek() == Some(&';') => {
                chars.next();
                current.push(';');
            }
            ';' => out.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    out.push(current);
    out.into_iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

/// A server id in 5400..6400 from the connector name, stable across restarts (Debezium's
/// documented range for connectors).
fn derived_server_id(name: &str) -> u32 {
    let mut h: u32 = 2_166_136_261;
    for b in name.bytes() {
        h = (h ^ u32::from(b)).wrapping_mul(16_777_619);
    }
    5400 + h % 1000
}

/// The least config that parses (connector `inventory`, prefix `dbserver1`), for tests.
#[cfg(test)]
pub(crate) fn minimal_for_tests() -> ConfigMap {
    [
        ("name", "inventory"),
        ("database.hostname", "127.0.0.1"),
        ("database.user", "root"),
        ("topic.prefix", "dbserver1"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> ConfigMap {
        minimal_for_tests()
    }

    #[test]
    fn debezium_defaults_apply() {
        let c = MySqlConfig::parse(&base()).expect("valid");
        assert_eq!(c.port, 3306);
        assert_eq!(c.snapshot_mode, SnapshotMode::Initial);
        assert!(c.tombstones && c.include_schema_changes);
        assert!(c.skips("t") && !c.skips("d"));
        assert!((5400..6400).contains(&c.server_id));
        assert_eq!(c.heartbeat_topic, "__debezium-heartbeat.dbserver1");
    }

    #[test]
    fn source_version_and_gtid_are_ours_unless_set() {
        let c = MySqlConfig::parse(&base()).expect("valid");
        assert_eq!(c.source_version, super::super::events::VERSION);
        assert!(c.source_version.ends_with(".tributary"));
        assert_eq!(c.gtid_mode, GtidMode::Server);
        let mut m = base();
        m.insert("source.version".into(), "3.6.3.Final".into());
        m.insert("source.gtid.mode".into(), "mysql".into());
        let c = MySqlConfig::parse(&m).expect("valid");
        assert_eq!(c.source_version, "3.6.3.Final");
        assert_eq!(c.gtid_mode, GtidMode::MySql);
    }

    #[test]
    fn masks_and_truncations_are_read_from_their_keys() {
        let mut m = base();
        m.insert(
            "column.mask.with.5.chars".into(),
            "shop.customers.email".into(),
        );
        m.insert(
            "column.truncate.to.3.chars".into(),
            "shop.customers.name, shop.orders.note".into(),
        );
        let c = MySqlConfig::parse(&m).expect("valid");
        assert_eq!(c.masks.length_for("shop.customers.email"), Some(5));
        assert_eq!(c.masks.length_for("shop.customers.name"), None);
        assert_eq!(c.truncations.length_for("shop.orders.note"), Some(3));
        assert_eq!(c.truncations.length_for("shop.orders.notes"), None);
        m.insert("column.truncate.to.three.chars".into(), "a.b.c".into());
        let err = MySqlConfig::parse(&m).unwrap_err();
        assert_eq!(err.key(), Some("column.truncate.to.three.chars"));
    }

    #[test]
    fn initial_statements_split_at_single_semicolons() {
        assert_eq!(
            statements("SET a = 1; SELECT ';;' ;; SELECT 2;"),
            ["SET a = 1", "SELECT ';' ; SELECT 2"]
        );
        let mut m = base();
        m.insert(
            "database.initial.statements".into(),
            "SET @x = 1;SET @y = 2".into(),
        );
        m.insert(
            "event.processing.failure.handling.mode".into(),
            "warn".into(),
        );
        m.insert("connect.keep.alive".into(), "false".into());
        let c = MySqlConfig::parse(&m).expect("valid");
        assert_eq!(c.initial_statements, ["SET @x = 1", "SET @y = 2"]);
        assert_eq!(c.event_failures, EventFailureMode::Warn);
        assert!(!c.keep_alive);
    }

    #[test]
    fn a_bad_mask_key_is_named() {
        let mut m = base();
        m.insert("column.mask.with.five.chars".into(), "a.b.c".into());
        let err = MySqlConfig::parse(&m).unwrap_err();
        assert_eq!(err.key(), Some("column.mask.with.five.chars"));
    }

    #[test]
    fn snapshot_schema_records_describe_every_database_unless_told_otherwise() {
        let scope = |pairs: &[(&str, &str)]| {
            let mut m = base();
            for (k, v) in pairs {
                m.insert(
                    format!("schema.history.internal.store.only.captured.{k}.ddl"),
                    (*v).into(),
                );
            }
            MySqlConfig::parse(&m).expect("valid").schema_scope
        };
        assert_eq!(scope(&[]), SchemaScope::AllDatabases);
        assert_eq!(
            scope(&[("databases", "true")]),
            SchemaScope::CapturedDatabases
        );
        assert_eq!(scope(&[("tables", "true")]), SchemaScope::CapturedTables);
        assert_eq!(
            scope(&[("databases", "true"), ("tables", "true")]),
            SchemaScope::CapturedTables
        );
    }

    #[test]
    fn schema_only_is_no_data() {
        let mut m = base();
        m.insert("snapshot.mode".into(), "schema_only".into());
        assert_eq!(
            MySqlConfig::parse(&m).expect("valid").snapshot_mode,
            SnapshotMode::NoData
        );
    }
}
