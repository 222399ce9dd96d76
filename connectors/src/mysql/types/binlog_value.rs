//! Values of binlog ROWS events, as mysql_common decodes them.
//!
//! What each column type arrives as (mysql_common 0.37 `binlog/value.rs`):
//! - integers: `Int` with the stored bits read as *signed* unless the table map carries
//!   signedness (`binlog_row_metadata=FULL`), then `UInt`; `MEDIUMINT` likewise;
//! - `DECIMAL`: its text as `Bytes`; `FLOAT`/`DOUBLE`: `Float`/`Double`;
//! - `DATE`, `DATETIME(p)`: `Date` (zero dates have zero fields); `TIME(p)`: `Time`;
//! - `TIMESTAMP(p)`: epoch seconds as text `Bytes` (`1709208000`, `2147483647.999999`);
//! - `YEAR`: its text as `Bytes` (`2155`; the zero year arrives as `1900`, as in Debezium);
//! - `ENUM`: the 1-based member index as `Int`; `SET`: the member bitmask as little-endian
//!   `Bytes`;
//! - `BIT(n)`: big-endian `Bytes`; `BINARY(n)`: `Bytes` without trailing zero bytes;
//! - strings: `Bytes` in the column's character set;
//! - `GEOMETRY`: `Bytes` = 4-byte little-endian SRID + WKB;
//! - MySQL `JSON`: [`BinlogValue::Jsonb`] (MariaDB's JSON is `LONGTEXT`: `Bytes`).

use mysql_async::binlog::value::BinlogValue;
use tributary_runtime::data::Value;

use super::column::Column;
use super::error::TypeError;
use super::json::jsonb_to_text;
use super::modes::TypeModes;
use super::value::{convert, convert_owned, invalid, Origin};

/// The Connect value of a column value from a binlog row (`BinlogRow::as_ref(i)`), following
/// [`super::connect_schema`] for the same column and modes.
pub fn from_binlog(
    column: &Column,
    value: &BinlogValue<'_>,
    modes: &TypeModes,
) -> Result<Value, TypeError> {
    match value {
        BinlogValue::Value(v) => convert(column, modes, v, Origin::Binlog),
        BinlogValue::Jsonb(json) => {
            let text = jsonb_to_text(json)
                .map_err(|e| invalid(column, format!("undecodable binary JSON: {e}")))?;
            Ok(Value::String(text))
        }
        // Only with binlog_row_value_options=PARTIAL_JSON: the event holds a patch, not the
        // document, and the old document is not at hand to apply it to.
        BinlogValue::JsonDiff(_) => Err(invalid(
            column,
            "partial JSON update in the binlog (binlog_row_value_options=PARTIAL_JSON) \
                 cannot be turned into a full value; disable that server option",
        )),
    }
}

/// [`from_binlog`] for a value taken out of its row image ([`RowImage::take`]): strings keep
/// their buffer.
///
/// [`RowImage::take`]: crate::mysql::row_images::RowImage::take
pub fn from_binlog_owned(
    column: &Column,
    value: BinlogValue<'_>,
    modes: &TypeModes,
) -> Result<Value, TypeError> {
    match value {
        BinlogValue::Value(v) => convert_owned(column, modes, v, Origin::Binlog),
        other => from_binlog(column, &other, modes),
    }
}
