//! MySQL/MariaDB column types → Kafka Connect schemas and values, exactly as Debezium 3.6's
//! MySQL connector maps them (`MySqlValueConverters` with its default settings and the
//! `*.handling.mode` options of [`TypeModes`]).
//!
//! Downstream consumers, schema registries and sinks were built against Debezium's output,
//! so every column must get the very schema (type, logical name, parameters, default,
//! optionality) and value encoding Debezium gives it; the recordings of a real Debezium
//! 3.6.3 run in `tests/fixtures/debezium-3.6.3-mysql/` are the reference the tests hold this module to.
//!
//! - [`Column`] is what we know of a column, built from `information_schema.COLUMNS`
//!   ([`ColumnInfo`], [`INFORMATION_SCHEMA_COLUMNS_QUERY`]);
//! - [`connect_schema`] gives its Connect schema (key fields use the same one);
//! - [`from_binlog`] converts a value decoded from a ROWS event, [`from_row`] one read by a
//!   snapshot `SELECT`; both give the same value for the same stored data.
//!
//! Type mapping (default modes): TINYINT, TINYINT UNSIGNED, BOOLEAN → int16; SMALLINT →
//! int16, SMALLINT UNSIGNED → int32; MEDIUMINT, INT → int32; INT UNSIGNED, BIGINT, BIGINT
//! UNSIGNED → int64 (`Decimal(20,0)` in `bigint.unsigned.handling.mode=precise`); DECIMAL →
//! `Decimal`; FLOAT → float32 (FLOAT(M,D) → float64); DOUBLE → float64; CHAR/VARCHAR/TEXT →
//! string; ENUM → `io.debezium.data.Enum`, SET → `io.debezium.data.EnumSet`; BINARY/
//! VARBINARY/BLOB → bytes; BIT(1) → boolean, BIT(n) → `io.debezium.data.Bits` (little-endian);
//! DATE → `io.debezium.time.Date`; TIME → `MicroTime`; DATETIME(0–3) → `Timestamp`,
//! DATETIME(4–6) → `MicroTimestamp`; TIMESTAMP → `ZonedTimestamp` (UTC text); YEAR →
//! `io.debezium.time.Year`; JSON → `io.debezium.data.Json` (MariaDB's JSON is LONGTEXT:
//! string); geometries → `io.debezium.data.geometry.Geometry` {wkb, srid}, POINT →
//! `io.debezium.data.geometry.Point` {x, y, wkb, srid}.

mod binlog_value;
mod charset;
mod column;
mod error;
mod json;
mod modes;
mod numeric;
mod row_value;
mod schema;
mod temporal;
mod value;

#[cfg(test)]
mod json_tests;
#[cfg(test)]
mod schema_tests;
#[cfg(test)]
mod server_tests;
#[cfg(test)]
pub(crate) mod test_support;
#[cfg(test)]
mod value_tests;

pub use binlog_value::{from_binlog, from_binlog_owned};
pub use column::{
    unquote_sql_string, Column, ColumnDefault, ColumnInfo, ColumnKind, DefaultStyle,
    ParsedColumnType, INFORMATION_SCHEMA_COLUMNS_QUERY,
};
pub use error::{InvalidMode, TypeError};
pub use modes::{
    BigIntUnsignedHandlingMode, BinaryHandlingMode, DecimalHandlingMode, TimePrecisionMode,
    TypeModes,
};
pub use row_value::{from_row, from_row_owned};
pub use schema::{
    connect_schema, default_value, geometry_schema, point_schema, try_connect_schema, DBZ_POINT,
};
