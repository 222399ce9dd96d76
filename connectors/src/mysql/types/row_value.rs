//! Values read by a snapshot `SELECT`.
//!
//! The query shape this expects: plain column references (`SELECT `a`, `b` … FROM t`), on a
//! connection with `SET time_zone = '+00:00', NAMES utf8mb4`, through either protocol:
//! - strings arrive converted to `utf8mb4` whatever the column's character set;
//! - `TIMESTAMP` arrives in the session zone, hence UTC;
//! - `GEOMETRY` selected as the bare column arrives in MySQL's internal form, 4-byte
//!   little-endian SRID + WKB — the binlog's form too, so no `ST_AsBinary`/`ST_SRID` is
//!   needed (checked against MariaDB 10.11 by the integration test);
//! - `BIT(n)` arrives as big-endian bytes, `ENUM`/`SET`/`DECIMAL` as their text;
//! - the binary protocol (`exec`) gives integers, floats, dates and times as typed values,
//!   the text protocol (`query`) gives everything as text; both are accepted.

use tributary_runtime::data::Value;

use super::column::Column;
use super::error::TypeError;
use super::modes::TypeModes;
use super::value::{convert, convert_owned, Origin};

/// The Connect value of a column value from a result set row (`Row::as_ref(i)`), following
/// [`super::connect_schema`] for the same column and modes.
pub fn from_row(
    column: &Column,
    value: &mysql_async::Value,
    modes: &TypeModes,
) -> Result<Value, TypeError> {
    convert(column, modes, value, Origin::Row)
}

/// [`from_row`] for a value taken out of its row (`Row::take`): strings keep their buffer.
pub fn from_row_owned(
    column: &Column,
    value: mysql_async::Value,
    modes: &TypeModes,
) -> Result<Value, TypeError> {
    convert_owned(column, modes, value, Origin::Row)
}
