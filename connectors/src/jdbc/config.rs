//! The sink's configuration: the Confluent JDBC sink's property names, Debezium's JDBC sink
//! names for the same settings as aliases, and Tributary's exactly-once keys.
//!
//! Everything that can be checked without a database is checked here ([`JdbcSinkConfig::parse`]),
//! naming the bad key; the connection itself is only tried by a running task.

use tributary_runtime::config::{
    ConfigDef, ConfigError, ConfigKey, ConfigMap, ConfigType, Importance, Parsed, Validator,
};

use super::dialect::{Dialect, InsertMode};
use super::ident::{TableId, TableNameFormat};
use super::url::ConnectionUrl;

pub const CONNECTION_URL: &str = "connection.url";
pub const CONNECTION_USER: &str = "connection.user";
pub const CONNECTION_USERNAME: &str = "connection.username";
pub const CONNECTION_PASSWORD: &str = "connection.password";
pub const DIALECT_NAME: &str = "dialect.name";
pub const INSERT_MODE: &str = "insert.mode";
pub const PK_MODE: &str = "pk.mode";
pub const PRIMARY_KEY_MODE: &str = "primary.key.mode";
pub const PK_FIELDS: &str = "pk.fields";
pub const PRIMARY_KEY_FIELDS: &str = "primary.key.fields";
pub const DELETE_ENABLED: &str = "delete.enabled";
pub const TRUNCATE_ENABLED: &str = "truncate.enabled";
pub const TABLE_NAME_FORMAT: &str = "table.name.format";
pub const AUTO_CREATE: &str = "auto.create";
pub const AUTO_EVOLVE: &str = "auto.evolve";
pub const SCHEMA_EVOLUTION: &str = "schema.evolution";
pub const BATCH_SIZE: &str = "batch.size";
pub const FIELDS_WHITELIST: &str = "fields.whitelist";
pub const FIELD_INCLUDE_LIST: &str = "field.include.list";
pub const FIELD_EXCLUDE_LIST: &str = "field.exclude.list";
pub const MAX_RETRIES: &str = "max.retries";
pub const RETRY_BACKOFF_MS: &str = "retry.backoff.ms";
pub const DB_TIMEZONE: &str = "db.timezone";
pub const QUOTE_IDENTIFIERS: &str = "quote.sql.identifiers";
pub const EXACTLY_ONCE: &str = "exactly.once.enabled";
pub const OFFSETS_TABLE: &str = "offsets.storage.table";

const CONNECTION: &str = "Connection";
const WRITES: &str = "Writes";
const DATA: &str = "Data Mapping";
const DDL: &str = "DDL Support";
const RETRIES: &str = "Retries";

/// Where primary-key values come from (`pk.mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PkMode {
    /// No primary key: rows are only inserted.
    None,
    /// The Kafka coordinates: columns `__connect_topic`, `__connect_partition`,
    /// `__connect_offset` (or the three names in `pk.fields`).
    Kafka,
    /// The record key: all its fields, or those in `pk.fields`; a primitive key becomes the
    /// one column named in `pk.fields`.
    RecordKey,
    /// Fields of the record value: those in `pk.fields`, or all of them.
    RecordValue,
}

#[derive(Clone, Debug)]
pub struct JdbcSinkConfig {
    pub url: ConnectionUrl,
    pub insert_mode: InsertMode,
    pub pk_mode: PkMode,
    pub pk_fields: Vec<String>,
    pub delete_enabled: bool,
    pub truncate_enabled: bool,
    pub table_format: TableNameFormat,
    pub auto_create: bool,
    pub auto_evolve: bool,
    pub batch_size: usize,
    pub include_fields: Vec<String>,
    pub exclude_fields: Vec<String>,
    pub max_retries: u32,
    pub retry_backoff_ms: u64,
    /// The table holding consumed offsets when exactly-once is on.
    pub offsets_table: Option<TableId>,
}

pub fn config_def() -> ConfigDef {
    ConfigDef::new()
        .define(
            ConfigKey::new(CONNECTION_URL, ConfigType::String, None, Importance::High,
                "Database to write to: mysql://, mariadb://, postgresql:// (or postgres://), sqlserver:// URLs or their JDBC forms (jdbc:mysql://host:3306/db, jdbc:postgresql://host/db, jdbc:sqlserver://host:1433;databaseName=db). The scheme picks the dialect. MySQL/MariaDB URLs name the default database.")
                .group(CONNECTION, 1).display("JDBC URL").validator(Validator::NonEmpty),
        )
        .define(
            ConfigKey::new(CONNECTION_USER, ConfigType::String, None, Importance::High,
                "Database user; overrides a user given in the URL.")
                .group(CONNECTION, 2).display("JDBC User").optional(),
        )
        .define(
            ConfigKey::new(CONNECTION_USERNAME, ConfigType::String, None, Importance::Low,
                "Debezium's name for connection.user.")
                .group(CONNECTION, 3).optional(),
        )
        .define(
            ConfigKey::new(CONNECTION_PASSWORD, ConfigType::Password, None, Importance::High,
                "Database password; overrides a password given in the URL. Never logged or shown.")
                .group(CONNECTION, 4).display("JDBC Password").optional(),
        )
        .define(
            ConfigKey::new(DIALECT_NAME, ConfigType::String, Some(""), Importance::Low,
                "Accepted for compatibility: the dialect follows connection.url; a dialect named here must agree with it (MySqlDatabaseDialect, PostgreSqlDatabaseDialect, SqlServerDatabaseDialect).")
                .group(CONNECTION, 5),
        )
        .define(
            ConfigKey::new(INSERT_MODE, ConfigType::String, Some("insert"), Importance::High,
                "insert: plain INSERT (an existing key is an error); upsert: insert or update by primary key (MySQL INSERT … ON DUPLICATE KEY UPDATE, PostgreSQL INSERT … ON CONFLICT DO UPDATE, SQL Server MERGE); update: update existing rows only. upsert and update need a pk.mode other than none.")
                .group(WRITES, 1).display("Insert Mode").validator(Validator::OneOf(&["insert", "upsert", "update"])),
        )
        .define(
            ConfigKey::new(BATCH_SIZE, ConfigType::Int, Some("3000"), Importance::Medium,
                "Most rows per INSERT/MERGE statement (MySQL, SQL Server; kept within the database's parameter limit). Every batch the worker hands over (consumer.override.max.poll.records, default 500) is written in one transaction whatever its size.")
                .group(WRITES, 2).display("Batch Size").validator(Validator::Range(1, 1_000_000)),
        )
        .define(
            ConfigKey::new(DELETE_ENABLED, ConfigType::Boolean, Some("false"), Importance::Medium,
                "Delete the row when a tombstone (null value) or a Debezium delete event (op d) arrives. Needs pk.mode=record_key. When false both are skipped.")
                .group(WRITES, 3).display("Enable deletes"),
        )
        .define(
            ConfigKey::new(TRUNCATE_ENABLED, ConfigType::Boolean, Some("false"), Importance::Low,
                "Empty the target table (DELETE FROM, inside the batch's transaction) when a Debezium truncate event (op t) arrives; when false truncate events are skipped.")
                .group(WRITES, 4),
        )
        .define(
            ConfigKey::new(TABLE_NAME_FORMAT, ConfigType::String, Some("${topic}"), Importance::Medium,
                "Target table name. ${topic}, and for Debezium events ${source.db}, ${source.schema}, ${source.table}, are replaced; dots inside those values become '_' (so topic srv.inventory.customers is table srv_inventory_customers), while a dot written in the format separates a schema (MySQL: database) from the table, as in archive.${source.table}.")
                .group(DATA, 1).display("Table Name Format"),
        )
        .define(
            ConfigKey::new(PK_MODE, ConfigType::String, Some("none"), Importance::High,
                "Where the primary key comes from: none, kafka (topic, partition, offset columns), record_key (the record key's fields; for Debezium topics), record_value (fields of the value).")
                .group(DATA, 2).display("Primary Key Mode").validator(Validator::OneOf(&["none", "kafka", "record_key", "record_value"])),
        )
        .define(
            ConfigKey::new(PRIMARY_KEY_MODE, ConfigType::String, None, Importance::Low,
                "Debezium's name for pk.mode.")
                .group(DATA, 3).optional().validator(Validator::OneOf(&["none", "kafka", "record_key", "record_value"])),
        )
        .define(
            ConfigKey::new(PK_FIELDS, ConfigType::List, Some(""), Importance::Medium,
                "Primary-key columns: with record_key, a subset of the key's fields (empty: all), or the column name for a primitive key; with record_value, fields of the value (empty: all); with kafka, three column names for topic, partition and offset.")
                .group(DATA, 4).display("Primary Key Fields"),
        )
        .define(
            ConfigKey::new(PRIMARY_KEY_FIELDS, ConfigType::List, None, Importance::Low,
                "Debezium's name for pk.fields.")
                .group(DATA, 5).optional(),
        )
        .define(
            ConfigKey::new(FIELDS_WHITELIST, ConfigType::List, Some(""), Importance::Medium,
                "Value fields to write (empty: all). Entries are field names or, as in Debezium, topic:field. Key columns are always written.")
                .group(DATA, 6).display("Fields Whitelist"),
        )
        .define(
            ConfigKey::new(FIELD_INCLUDE_LIST, ConfigType::List, None, Importance::Low,
                "Debezium's name for fields.whitelist.")
                .group(DATA, 7).optional(),
        )
        .define(
            ConfigKey::new(FIELD_EXCLUDE_LIST, ConfigType::List, Some(""), Importance::Low,
                "Value fields not to write (field or topic:field); key columns are always written.")
                .group(DATA, 8),
        )
        .define(
            ConfigKey::new(DB_TIMEZONE, ConfigType::String, Some("UTC"), Importance::Low,
                "Accepted for compatibility; timestamps are written in UTC (the only supported value).")
                .group(DATA, 9).validator(Validator::OneOf(&["UTC"])),
        )
        .define(
            ConfigKey::new(QUOTE_IDENTIFIERS, ConfigType::String, Some("always"), Importance::Low,
                "Accepted for compatibility; identifiers are always quoted, so column and table names can be anything (the only supported value).")
                .group(DATA, 10).validator(Validator::OneOf(&["always"])),
        )
        .define(
            ConfigKey::new(AUTO_CREATE, ConfigType::Boolean, Some("false"), Importance::Medium,
                "Create a missing target table (CREATE TABLE IF NOT EXISTS) from the record's schema, with the primary key of pk.mode and column types mapped for the dialect.")
                .group(DDL, 1).display("Auto-Create"),
        )
        .define(
            ConfigKey::new(AUTO_EVOLVE, ConfigType::Boolean, Some("false"), Importance::Medium,
                "Add missing columns (ALTER TABLE … ADD, always nullable) when a record has fields the table lacks.")
                .group(DDL, 2).display("Auto-Evolve"),
        )
        .define(
            ConfigKey::new(SCHEMA_EVOLUTION, ConfigType::String, None, Importance::Low,
                "Debezium's switch: basic turns auto.create and auto.evolve on, none leaves them as set.")
                .group(DDL, 3).optional().validator(Validator::OneOf(&["none", "basic"])),
        )
        .define(
            ConfigKey::new(MAX_RETRIES, ConfigType::Int, Some("10"), Importance::Medium,
                "Retries of a batch, in place, after a transient database error (connection lost or refused, deadlock, server restarting). After these the task keeps retrying with the worker's backoff (status shows it) and never skips a record.")
                .group(RETRIES, 1).display("Maximum Retries").validator(Validator::Range(0, i32::MAX as i64)),
        )
        .define(
            ConfigKey::new(RETRY_BACKOFF_MS, ConfigType::Int, Some("3000"), Importance::Medium,
                "Milliseconds to wait before each of those retries.")
                .group(RETRIES, 2).display("Retry Backoff (millis)").validator(Validator::Range(0, i32::MAX as i64)),
        )
        .define(
            ConfigKey::new(EXACTLY_ONCE, ConfigType::Boolean, Some("false"), Importance::Medium,
                "Write the consumed offsets into offsets.storage.table in the same transaction as the rows, and resume from them: no batch is applied twice, even after a crash between the database commit and the Kafka offset commit.")
                .group(WRITES, 5).display("Exactly once"),
        )
        .define(
            ConfigKey::new(OFFSETS_TABLE, ConfigType::String, Some("__tributary_sink_offsets"), Importance::Low,
                "Table for exactly-once offsets (created if missing; schema.table to place it).")
                .group(WRITES, 6),
        )
}

impl JdbcSinkConfig {
    pub fn parse(config: &ConfigMap) -> Result<JdbcSinkConfig, ConfigError> {
        let p = crate::parse_own_keys(&config_def(), config)?;
        let url_text = p.string(CONNECTION_URL);
        let url = ConnectionUrl::parse(&url_text)
            .map_err(|m| ConfigError::invalid(CONNECTION_URL, &redacted_url(&url_text), m))?;
        let user = aliased(&p, CONNECTION_USER, CONNECTION_USERNAME)?;
        let url = url.with_credentials(user, p.optional_string(CONNECTION_PASSWORD));
        check_dialect_name(&p, url.dialect)?;

        let insert_mode = match p.string(INSERT_MODE).trim().to_ascii_lowercase().as_str() {
            "upsert" => InsertMode::Upsert,
            "update" => InsertMode::Update,
            _ => InsertMode::Insert,
        };
        let pk_mode_text = aliased(&p, PK_MODE, PRIMARY_KEY_MODE)?.unwrap_or_else(|| "none".into());
        let pk_mode = match pk_mode_text.trim().to_ascii_lowercase().as_str() {
            "kafka" => PkMode::Kafka,
            "record_key" => PkMode::RecordKey,
            "record_value" => PkMode::RecordValue,
            _ => PkMode::None,
        };
        let pk_fields = aliased_list(&p, PK_FIELDS, PRIMARY_KEY_FIELDS)?;
        let delete_enabled = p.bool(DELETE_ENABLED);
        if insert_mode != InsertMode::Insert && pk_mode == PkMode::None {
            return Err(ConfigError::invalid(
                INSERT_MODE,
                &p.string(INSERT_MODE),
                "upsert and update need a primary key: set pk.mode to record_key, record_value or kafka",
            ));
        }
        if delete_enabled && pk_mode != PkMode::RecordKey {
            return Err(ConfigError::invalid(
                DELETE_ENABLED,
                "true",
                "deletes find rows by the record key: set pk.mode=record_key",
            ));
        }
        if pk_mode == PkMode::Kafka && !pk_fields.is_empty() && pk_fields.len() != 3 {
            return Err(ConfigError::invalid(
                PK_FIELDS,
                &pk_fields.join(","),
                "with pk.mode=kafka, name exactly three columns (topic, partition, offset) or none",
            ));
        }
        let format_text = p.string(TABLE_NAME_FORMAT);
        let table_format = TableNameFormat::parse(&format_text)
            .map_err(|m| ConfigError::invalid(TABLE_NAME_FORMAT, &format_text, m))?;
        if url.dialect == Dialect::MySql && url.database.is_none() && !table_format.is_qualified() {
            return Err(ConfigError::invalid(
                CONNECTION_URL,
                &url.to_string(),
                "name a database in the URL (mysql://host:3306/db) or qualify table.name.format (db.${topic})",
            ));
        }
        let evolution = p.optional_string(SCHEMA_EVOLUTION);
        let basic = evolution
            .as_deref()
            .is_some_and(|e| e.eq_ignore_ascii_case("basic"));
        let include_fields = aliased_list(&p, FIELDS_WHITELIST, FIELD_INCLUDE_LIST)?;
        let exactly_once = p.bool(EXACTLY_ONCE);
        let offsets_table = p.optional_string(OFFSETS_TABLE);
        if exactly_once && offsets_table.is_none() {
            return Err(ConfigError::invalid(
                OFFSETS_TABLE,
                "",
                "exactly.once.enabled needs a table name",
            ));
        }
        Ok(JdbcSinkConfig {
            url,
            insert_mode,
            pk_mode,
            pk_fields,
            delete_enabled,
            truncate_enabled: p.bool(TRUNCATE_ENABLED),
            table_format,
            auto_create: p.bool(AUTO_CREATE) || basic,
            auto_evolve: p.bool(AUTO_EVOLVE) || basic,
            batch_size: usize::try_from(p.i64(BATCH_SIZE)).unwrap_or(1).max(1),
            include_fields,
            exclude_fields: p.list(FIELD_EXCLUDE_LIST),
            max_retries: u32::try_from(p.i64(MAX_RETRIES)).unwrap_or(0),
            retry_backoff_ms: u64::try_from(p.i64(RETRY_BACKOFF_MS)).unwrap_or(0),
            offsets_table: exactly_once
                .then(|| offsets_table.map(|t| TableId::parse(&t)))
                .flatten(),
        })
    }
}

/// The URL with anything after `user:` up to `@` hidden, for error messages about a URL we
/// could not parse.
fn redacted_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!(
                    "{}{user}:{}{}",
                    &url[..s + 3],
                    tributary_runtime::config::REDACTED,
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ if url.to_ascii_lowercase().contains("password") => {
            tributary_runtime::config::REDACTED.to_owned()
        }
        _ => url.to_owned(),
    }
}

/// One setting under two names: either may be used, both only if they agree.
fn aliased(p: &Parsed, name: &str, alias: &str) -> Result<Option<String>, ConfigError> {
    let a = p.given(name).map(|v| v.trim().to_owned());
    let b = p.given(alias).map(|v| v.trim().to_owned());
    match (a, b) {
        (Some(a), Some(b)) if !a.eq_ignore_ascii_case(&b) => Err(ConfigError::invalid(
            alias,
            &b,
            format!("contradicts {name}={a}; set only one of them"),
        )),
        (Some(a), _) => Ok(Some(a).filter(|v| !v.is_empty())),
        (None, b) => Ok(b
            .filter(|v| !v.is_empty())
            .or_else(|| p.optional_string(name))),
    }
}

fn aliased_list(p: &Parsed, name: &str, alias: &str) -> Result<Vec<String>, ConfigError> {
    let list = |key: &str| p.given(key).map(|_| p.list(key));
    match (list(name), list(alias)) {
        (Some(a), Some(b)) if a != b => Err(ConfigError::invalid(
            alias,
            &b.join(","),
            format!("contradicts {name}={}; set only one of them", a.join(",")),
        )),
        (Some(a), _) => Ok(a),
        (None, Some(b)) => Ok(b),
        (None, None) => Ok(p.list(name)),
    }
}

fn check_dialect_name(p: &Parsed, dialect: Dialect) -> Result<(), ConfigError> {
    let Some(name) = p.optional_string(DIALECT_NAME) else {
        return Ok(());
    };
    let lower = name.to_ascii_lowercase();
    let named = if lower.contains("mysql") || lower.contains("mariadb") {
        Dialect::MySql
    } else if lower.contains("postgres") {
        Dialect::Postgres
    } else if lower.contains("sqlserver") {
        Dialect::SqlServer
    } else {
        return Err(ConfigError::invalid(
            DIALECT_NAME,
            &name,
            "unsupported dialect: use MySqlDatabaseDialect, PostgreSqlDatabaseDialect or SqlServerDatabaseDialect",
        ));
    };
    if named == dialect {
        Ok(())
    } else {
        Err(ConfigError::invalid(
            DIALECT_NAME,
            &name,
            format!(
                "disagrees with connection.url, which is {}",
                dialect.scheme()
            ),
        ))
    }
}
