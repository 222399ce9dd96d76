//! The conversion shared by both entry points ([`super::from_binlog`], [`super::from_row`]).
//!
//! Binlog rows and result sets deliver the same `mysql_async::Value` variants with a few
//! differences in meaning, named by [`Origin`]: the binlog gives integers without their
//! signedness, `ENUM` as its index and `SET` as its bitmask, `TIMESTAMP` as epoch seconds,
//! strings in the column's character set; a result set gives the values as the server
//! prints them (in the session's `utf8mb4` and `time_zone`, here `+00:00`), as text when
//! read through the text protocol. Everything then follows Debezium's converters.

use std::borrow::Cow;

use base64::Engine as _;
use mysql_async::Value as MyValue;
use tributary_runtime::data::logical;
use tributary_runtime::data::{Struct, Value};

use super::charset;
use super::column::{Column, ColumnKind};
use super::error::{Shape, TypeError};
use super::modes::{
    BigIntUnsignedHandlingMode, BinaryHandlingMode, DecimalHandlingMode, TimePrecisionMode,
    TypeModes,
};
use super::numeric::DecimalText;
use super::schema::{default_value, geometry_schema, point_schema};
use super::temporal::{self, adjust_year, DateTimeParts};

/// Where a value was read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    /// A ROWS event decoded by mysql_common.
    Binlog,
    /// A result set row (binary or text protocol).
    Row,
}

/// The physical integer type a column's values use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IntOutput {
    Int16,
    Int32,
    Int64,
}

/// WKB of an empty `GEOMETRYCOLLECTION`: Debezium's value for a NOT NULL geometry that
/// arrives without one.
const EMPTY_GEOMETRY_WKB: [u8; 9] = [0x01, 0x07, 0, 0, 0, 0, 0, 0, 0];

pub(crate) fn convert(
    column: &Column,
    modes: &TypeModes,
    value: &MyValue,
    origin: Origin,
) -> Result<Value, TypeError> {
    if matches!(value, MyValue::NULL) {
        return Ok(null_value(column, modes));
    }
    Ok(match convert_present(column, modes, value, origin)? {
        Some(v) => v,
        // Zero dates and the like: no value, like NULL.
        None => null_value(column, modes),
    })
}

/// [`convert`] for a value the caller gives up. A string column whose bytes are UTF-8 already
/// (a result set's, or the binlog's in a UTF-8 character set: nearly every string) becomes its
/// text in the same buffer, instead of a copy of it.
pub(crate) fn convert_owned(
    column: &Column,
    modes: &TypeModes,
    value: MyValue,
    origin: Origin,
) -> Result<Value, TypeError> {
    match value {
        MyValue::Bytes(bytes)
            if column.kind == ColumnKind::String && text_is_utf8(column, origin) =>
        {
            Ok(Value::String(charset::utf8_text(bytes)))
        }
        value => convert(column, modes, &value, origin),
    }
}

/// Whether a string column's bytes from `origin` are UTF-8 as they come: a result set's always
/// (the connection's `utf8mb4`), the binlog's when the column's character set is UTF-8.
fn text_is_utf8(column: &Column, origin: Origin) -> bool {
    match (origin, column.charset.as_deref()) {
        (Origin::Binlog, Some(cs)) => charset::is_utf8(cs),
        _ => true,
    }
}

/// What a missing value becomes (Debezium's `convertValue`): NULL in a nullable column;
/// otherwise the column default, or the type's zero (MySQL's non-strict modes and zero
/// dates can leave NOT NULL columns without a value).
pub(crate) fn null_value(column: &Column, modes: &TypeModes) -> Value {
    if column.nullable {
        return Value::Null;
    }
    default_value(column, modes).unwrap_or_else(|| fallback(column, modes))
}

fn fallback(column: &Column, modes: &TypeModes) -> Value {
    use ColumnKind as K;
    match column.kind {
        K::TinyInt | K::SmallInt | K::MediumInt | K::Int | K::BigInt => {
            if is_precise_unsigned_bigint(column, modes) {
                return Value::Bytes(vec![0]);
            }
            match integer_output(column, modes) {
                IntOutput::Int16 => Value::Int16(0),
                IntOutput::Int32 => Value::Int32(0),
                IntOutput::Int64 => Value::Int64(0),
            }
        }
        K::Decimal => {
            let (_, scale) = column.decimal_precision_scale();
            let zero = DecimalText {
                negative: false,
                int_digits: "0".into(),
                frac_digits: "0".repeat(scale as usize),
            };
            decimal_value(column, modes, &zero, scale).unwrap_or(Value::Null)
        }
        K::Float if column.is_float32() => Value::Float32(0.0),
        K::Float | K::Double => Value::Float64(0.0),
        K::Bit if column.bit_length() > 1 => Value::Bytes(Vec::new()),
        K::Bit => Value::Boolean(false),
        K::String | K::Enum | K::Set | K::Unsupported => Value::String(String::new()),
        K::Json => Value::String("{}".into()),
        K::Binary => binary_value(modes, Vec::new()),
        K::Date | K::Year => Value::Int32(0),
        K::Time => time_value(column, modes, 0).unwrap_or(Value::Null),
        K::DateTime => datetime_value(column, modes, 0),
        K::Timestamp => Value::String(temporal::zoned_timestamp(0, 0)),
        K::Geometry => geometry_value(column, EMPTY_GEOMETRY_WKB.to_vec(), None),
        K::Point => Value::Struct(Struct {
            schema: point_schema(column.nullable),
            values: vec![
                Value::Float64(0.0),
                Value::Float64(0.0),
                Value::Bytes(EMPTY_GEOMETRY_WKB.to_vec()),
                Value::Null,
            ],
        }),
    }
}

/// A present value; `Ok(None)` for one that stands for "no value" (a zero date).
fn convert_present(
    column: &Column,
    modes: &TypeModes,
    value: &MyValue,
    origin: Origin,
) -> Result<Option<Value>, TypeError> {
    use ColumnKind as K;
    Ok(Some(match column.kind {
        K::TinyInt | K::SmallInt | K::MediumInt | K::Int | K::BigInt => {
            integer(column, modes, value)?
        }
        K::Decimal => {
            let (_, scale) = column.decimal_precision_scale();
            if let Some(v) = plain_precise_decimal(modes, value, scale) {
                return Ok(Some(v));
            }
            let text = number_text(column, value, "a decimal")?;
            let d = DecimalText::parse(&text)
                .ok_or_else(|| invalid(column, "the value is not a decimal number"))?;
            decimal_value(column, modes, &d.with_scale_half_up(scale), scale)?
        }
        K::Float | K::Double => {
            let x = match value {
                MyValue::Float(f) => f64::from(*f),
                MyValue::Double(d) => *d,
                MyValue::Int(i) => *i as f64,
                MyValue::UInt(u) => *u as f64,
                MyValue::Bytes(_) => number_text(column, value, "a number")?
                    .trim()
                    .parse()
                    .map_err(|_| invalid(column, "the value is not a number"))?,
                _ => return Err(unexpected(column, "a number", value)),
            };
            if column.is_float32() {
                match value {
                    // Keep the exact single-precision value rather than a double round trip.
                    MyValue::Float(f) => Value::Float32(*f),
                    _ => Value::Float32(x as f32),
                }
            } else {
                Value::Float64(x)
            }
        }
        K::Bit => bit(column, value)?,
        K::String => {
            let bytes = bytes_of(column, value, "a string")?;
            let text = match column.charset.as_deref() {
                Some(cs) if !text_is_utf8(column, origin) => charset::decode(&bytes, cs)
                    .ok_or_else(|| TypeError::UnsupportedCharset {
                        column: column.name.clone(),
                        charset: cs.to_owned(),
                    })?,
                _ => String::from_utf8_lossy(&bytes).into_owned(),
            };
            Value::String(text)
        }
        K::Unsupported => {
            // Text forms (a snapshot of `inet6`, `uuid` …) pass as strings; binary storage
            // (MariaDB's UUID in the binlog) has no faithful string form here.
            let bytes = bytes_of(column, value, "a string")?;
            match std::str::from_utf8(&bytes) {
                Ok(text) => Value::String(text.to_owned()),
                Err(_) => {
                    return Err(TypeError::UnsupportedType {
                        column: column.name.clone(),
                        column_type: column.column_type.clone(),
                    })
                }
            }
        }
        K::Json => {
            let bytes = bytes_of(column, value, "JSON text")?;
            if bytes.is_empty() {
                return Ok(None);
            }
            Value::String(String::from_utf8_lossy(&bytes).into_owned())
        }
        K::Binary => {
            let mut bytes = bytes_of(column, value, "bytes")?.into_owned();
            if let Some(width) = column.fixed_binary_length() {
                if bytes.len() < width {
                    bytes.resize(width, 0);
                }
            }
            binary_value(modes, bytes)
        }
        K::Enum => match (origin, value) {
            (_, MyValue::Int(_) | MyValue::UInt(_)) => {
                let index = unsigned_of(value).unwrap_or(0);
                Value::String(enum_member(column, index)?)
            }
            (_, MyValue::Bytes(b)) => Value::String(String::from_utf8_lossy(b).into_owned()),
            _ => return Err(unexpected(column, "an ENUM value", value)),
        },
        K::Set => match (origin, value) {
            (Origin::Binlog, MyValue::Bytes(b)) => {
                if b.len() > 8 {
                    return Err(invalid(column, "SET bitmask longer than 8 bytes"));
                }
                let mut le = [0u8; 8];
                le[..b.len()].copy_from_slice(b);
                Value::String(set_members(column, u64::from_le_bytes(le)))
            }
            (_, MyValue::Int(_) | MyValue::UInt(_)) => {
                Value::String(set_members(column, unsigned_of(value).unwrap_or(0)))
            }
            (Origin::Row, MyValue::Bytes(b)) => {
                Value::String(String::from_utf8_lossy(b).into_owned())
            }
            _ => return Err(unexpected(column, "a SET value", value)),
        },
        K::Date => {
            let Some(d) = date_parts(column, value)? else {
                return Ok(None);
            };
            let days = d.adjusted().epoch_days();
            Value::Int32(i32::try_from(days).map_err(|_| invalid(column, "date out of range"))?)
        }
        K::DateTime => {
            let Some(d) = date_parts(column, value)? else {
                return Ok(None);
            };
            datetime_value(column, modes, d.adjusted().epoch_micros())
        }
        K::Timestamp => {
            let Some(micros) = timestamp_micros(column, value)? else {
                return Ok(None);
            };
            timestamp_value(column, micros)
        }
        K::Time => {
            let micros = match value {
                MyValue::Time(negative, days, h, m, s, us) => {
                    let total = ((i64::from(*days) * 24 + i64::from(*h)) * 60 + i64::from(*m)) * 60
                        + i64::from(*s);
                    let micros = total * 1_000_000 + i64::from(*us);
                    if *negative {
                        -micros
                    } else {
                        micros
                    }
                }
                MyValue::Bytes(b) => std::str::from_utf8(b)
                    .ok()
                    .and_then(temporal::parse_duration_micros)
                    .ok_or_else(|| invalid(column, "the value is not a TIME"))?,
                _ => return Err(unexpected(column, "a time", value)),
            };
            time_value(column, modes, micros)?
        }
        K::Year => {
            let year = match value {
                MyValue::Int(_) | MyValue::UInt(_) => signed_of(value),
                MyValue::Bytes(b) => std::str::from_utf8(b)
                    .ok()
                    .and_then(|t| t.trim().parse::<i64>().ok()),
                MyValue::Date(y, ..) => Some(i64::from(*y)),
                _ => None,
            }
            .ok_or_else(|| unexpected(column, "a year", value))?;
            // Debezium adjusts YEAR values unconditionally (`adjustTemporal`).
            let year = adjust_year(year);
            Value::Int32(i32::try_from(year).map_err(|_| invalid(column, "year out of range"))?)
        }
        K::Geometry | K::Point => {
            let bytes = bytes_of(column, value, "geometry bytes")?;
            geometry(column, &bytes)?
        }
    }))
}

pub(crate) fn is_precise_unsigned_bigint(column: &Column, modes: &TypeModes) -> bool {
    column.kind == ColumnKind::BigInt
        && column.unsigned
        && modes.bigint_unsigned == BigIntUnsignedHandlingMode::Precise
}

/// The Connect integer type of an integer column (BIGINT UNSIGNED in precise mode excepted).
pub(crate) fn integer_output(column: &Column, _modes: &TypeModes) -> IntOutput {
    match (column.kind, column.unsigned) {
        (ColumnKind::TinyInt, _) | (ColumnKind::SmallInt, false) => IntOutput::Int16,
        (ColumnKind::SmallInt, true) | (ColumnKind::MediumInt, _) | (ColumnKind::Int, false) => {
            IntOutput::Int32
        }
        _ => IntOutput::Int64,
    }
}

fn integer(column: &Column, modes: &TypeModes, value: &MyValue) -> Result<Value, TypeError> {
    let raw: i128 = match value {
        MyValue::Int(i) => i128::from(*i),
        MyValue::UInt(u) => i128::from(*u),
        MyValue::Bytes(b) => std::str::from_utf8(b)
            .ok()
            .and_then(|t| t.trim().parse().ok())
            .ok_or_else(|| invalid(column, "the value is not an integer"))?,
        _ => return Err(unexpected(column, "an integer", value)),
    };
    // The binlog does not say whether a column is unsigned (without
    // binlog_row_metadata=FULL): reinterpret the stored bits with the column's signedness.
    let bits = match column.kind {
        ColumnKind::TinyInt => 8,
        ColumnKind::SmallInt => 16,
        ColumnKind::MediumInt => 24,
        ColumnKind::Int => 32,
        _ => 64,
    };
    let n = if column.unsigned && raw < 0 {
        raw + (1i128 << bits)
    } else if !column.unsigned
        && column.kind == ColumnKind::MediumInt
        && (0x80_0000..=0xff_ffff).contains(&raw)
    {
        // mysql_common reads a signed MEDIUMINT's three bytes without sign extension
        // (`eat_i24_le`): -8388608 arrives as 8388608. A signed MEDIUMINT never holds
        // 2^23 or more, so this range can only be a negative value.
        raw - (1i128 << 24)
    } else {
        raw
    };
    if is_precise_unsigned_bigint(column, modes) {
        return Ok(Value::Bytes(logical::decimal_i128_to_bytes(n)));
    }
    let out_of_range = || invalid(column, "integer out of range");
    Ok(match integer_output(column, modes) {
        IntOutput::Int16 => Value::Int16(i16::try_from(n).map_err(|_| out_of_range())?),
        IntOutput::Int32 => Value::Int32(i32::try_from(n).map_err(|_| out_of_range())?),
        // BIGINT UNSIGNED in `long` mode wraps past i64::MAX, as Debezium's does.
        IntOutput::Int64 if column.kind == ColumnKind::BigInt && column.unsigned => {
            Value::Int64(u64::try_from(n).map_err(|_| out_of_range())? as i64)
        }
        IntOutput::Int64 => Value::Int64(i64::try_from(n).map_err(|_| out_of_range())?),
    })
}

/// A decimal (already at the column's scale) in the column's `decimal.handling.mode`.
pub(crate) fn decimal_value(
    column: &Column,
    modes: &TypeModes,
    d: &DecimalText,
    scale: u32,
) -> Result<Value, TypeError> {
    let text = d.to_plain_string();
    Ok(match modes.decimal {
        DecimalHandlingMode::Precise => Value::Bytes(
            logical::decimal_to_bytes(&text, scale)
                .ok_or_else(|| invalid(column, "decimal does not fit the column's scale"))?,
        ),
        DecimalHandlingMode::Double => Value::Float64(
            text.parse()
                .map_err(|_| invalid(column, "decimal is not a double"))?,
        ),
        DecimalHandlingMode::String => Value::String(text),
    })
}

/// The usual decimal, straight to Connect's bytes: the server's text (`-123.45`) already has
/// at most `scale` fraction digits, so the general path's parsing, rounding and reformatting
/// would give the same unscaled value at several allocations per value. `None` hands
/// anything else (exponents, more digits than the scale, other modes) to that path.
fn plain_precise_decimal(modes: &TypeModes, value: &MyValue, scale: u32) -> Option<Value> {
    let (DecimalHandlingMode::Precise, MyValue::Bytes(bytes)) = (modes.decimal, value) else {
        return None;
    };
    let text = std::str::from_utf8(bytes).ok()?;
    if text.contains(['e', 'E']) {
        return None;
    }
    logical::decimal_to_bytes(text, scale).map(Value::Bytes)
}

/// Binary bytes in the `binary.handling.mode`.
pub(crate) fn binary_value(modes: &TypeModes, bytes: Vec<u8>) -> Value {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE};
    match modes.binary {
        BinaryHandlingMode::Bytes => Value::Bytes(bytes),
        BinaryHandlingMode::Base64 => Value::String(STANDARD.encode(&bytes)),
        BinaryHandlingMode::Base64UrlSafe => Value::String(URL_SAFE.encode(&bytes)),
        BinaryHandlingMode::Hex => {
            Value::String(bytes.iter().map(|b| format!("{b:02x}")).collect())
        }
    }
}

/// A `TIME` (signed microseconds) in the column's `time.precision.mode`.
pub(crate) fn time_value(
    column: &Column,
    modes: &TypeModes,
    micros: i64,
) -> Result<Value, TypeError> {
    let millis = || {
        i32::try_from(micros.div_euclid(1_000))
            .map_err(|_| invalid(column, "time out of range"))
            .map(Value::Int32)
    };
    match modes.time_precision {
        TimePrecisionMode::AdaptiveTimeMicroseconds => Ok(Value::Int64(micros)),
        TimePrecisionMode::Adaptive if column.time_precision() <= 3 => millis(),
        TimePrecisionMode::Adaptive => Ok(Value::Int64(micros)),
        TimePrecisionMode::Connect => {
            if (0..86_400_000_000).contains(&micros) {
                millis()
            } else {
                // Connect's Time is a time of day; MySQL's TIME is a duration.
                Err(invalid(
                    column,
                    "TIME outside 00:00:00–23:59:59 has no time.precision.mode=connect form",
                ))
            }
        }
    }
}

/// A `DATETIME` (microseconds since the epoch, zone-free) in the column's mode.
pub(crate) fn datetime_value(column: &Column, modes: &TypeModes, micros: i64) -> Value {
    match modes.time_precision {
        TimePrecisionMode::Connect => Value::Int64(micros.div_euclid(1_000)),
        _ if column.time_precision() <= 3 => Value::Int64(micros.div_euclid(1_000)),
        _ => Value::Int64(micros),
    }
}

/// A `TIMESTAMP` (UTC microseconds since the epoch) as its `ZonedTimestamp` text.
pub(crate) fn timestamp_value(column: &Column, micros: i64) -> Value {
    Value::String(temporal::zoned_timestamp(micros, column.time_precision()))
}

fn date_parts(column: &Column, value: &MyValue) -> Result<Option<DateTimeParts>, TypeError> {
    let parts = match value {
        MyValue::Date(y, mo, d, h, mi, s, us) => DateTimeParts {
            year: i64::from(*y),
            month: u32::from(*mo),
            day: u32::from(*d),
            hour: u32::from(*h),
            minute: u32::from(*mi),
            second: u32::from(*s),
            micros: *us,
        },
        MyValue::Bytes(b) => std::str::from_utf8(b)
            .ok()
            .and_then(temporal::parse_datetime)
            .ok_or_else(|| invalid(column, "the value is not a date"))?,
        _ => return Err(unexpected(column, "a date", value)),
    };
    Ok((!parts.is_zero_date()).then_some(parts))
}

/// UTC microseconds of a `TIMESTAMP`: the binlog gives epoch seconds (`1709208000`,
/// `2147483647.999999`, or an integer from the pre-5.6 format); a result set gives the
/// date and time in the session zone (UTC), as fields or text.
fn timestamp_micros(column: &Column, value: &MyValue) -> Result<Option<i64>, TypeError> {
    match value {
        MyValue::Int(_) | MyValue::UInt(_) => signed_of(value)
            .map(|s| Some(s * 1_000_000))
            .ok_or_else(|| invalid(column, "timestamp out of range")),
        MyValue::Bytes(b) => {
            let text = std::str::from_utf8(b)
                .map_err(|_| invalid(column, "the value is not a timestamp"))?
                .trim();
            if text.contains(':') {
                let d = temporal::parse_datetime(text)
                    .ok_or_else(|| invalid(column, "the value is not a timestamp"))?;
                return Ok((!d.is_zero_date()).then(|| d.epoch_micros()));
            }
            let (secs, frac) = text.split_once('.').unwrap_or((text, ""));
            let mut secs: i64 = secs
                .parse()
                .map_err(|_| invalid(column, "the value is not a timestamp"))?;
            if secs < 0 {
                // mysql_common reads the unsigned 32-bit seconds as i32.
                secs += 1 << 32;
            }
            let micros = if frac.is_empty() {
                0
            } else {
                temporal::fraction_micros(frac)
                    .ok_or_else(|| invalid(column, "the value is not a timestamp"))?
            };
            Ok(Some(secs * 1_000_000 + micros))
        }
        MyValue::Date(..) => Ok(date_parts(column, value)?.map(|d| d.epoch_micros())),
        _ => Err(unexpected(column, "a timestamp", value)),
    }
}

fn bit(column: &Column, value: &MyValue) -> Result<Value, TypeError> {
    let width = column.bit_length().div_ceil(8) as usize;
    // Big-endian bytes, as MySQL stores and sends BIT values.
    let be: Vec<u8> = match value {
        MyValue::Bytes(b) => b.clone(),
        MyValue::Int(_) | MyValue::UInt(_) => {
            let n = unsigned_of(value).unwrap_or(0);
            n.to_be_bytes()[8 - width.clamp(1, 8)..].to_vec()
        }
        _ => return Err(unexpected(column, "bit bytes", value)),
    };
    if column.bit_length() <= 1 {
        return Ok(Value::Boolean(be.last().is_some_and(|b| b & 1 != 0)));
    }
    // Debezium's Bits are little-endian, padded to the column's byte width.
    let mut le: Vec<u8> = be.into_iter().rev().collect();
    if le.len() < width {
        le.resize(width, 0);
    }
    Ok(Value::Bytes(le))
}

fn enum_member(column: &Column, index: u64) -> Result<String, TypeError> {
    if index == 0 {
        // The "error value" MySQL stores for an invalid member in non-strict mode.
        return Ok(String::new());
    }
    usize::try_from(index - 1)
        .ok()
        .and_then(|i| column.enum_values.get(i))
        .cloned()
        .ok_or_else(|| invalid(column, format!("ENUM index {index} is not a member")))
}

fn set_members(column: &Column, mask: u64) -> String {
    let mut members = Vec::new();
    for bit in 0..64 {
        if mask & (1u64 << bit) != 0 {
            match column.enum_values.get(bit) {
                Some(m) => members.push(m.as_str()),
                None => tracing::warn!(
                    "column `{}`: SET bit {bit} has no member; ignored",
                    column.name
                ),
            }
        }
    }
    members.join(",")
}

fn geometry(column: &Column, bytes: &[u8]) -> Result<Value, TypeError> {
    // MySQL's internal geometry format: a 4-byte little-endian SRID, then the WKB.
    if bytes.len() < 4 {
        return Err(invalid(column, "geometry shorter than its SRID"));
    }
    let (srid_bytes, wkb) = bytes.split_at(4);
    let srid = i32::from_le_bytes([srid_bytes[0], srid_bytes[1], srid_bytes[2], srid_bytes[3]]);
    // Debezium reports SRID 0 (unset) as null.
    let srid = (srid != 0).then_some(srid);
    if column.kind == ColumnKind::Point {
        let (x, y) =
            wkb_point(wkb).ok_or_else(|| invalid(column, "POINT value is not a 2D WKB point"))?;
        return Ok(Value::Struct(Struct {
            schema: point_schema(column.nullable),
            values: vec![
                Value::Float64(x),
                Value::Float64(y),
                Value::Bytes(wkb.to_vec()),
                srid.map_or(Value::Null, Value::Int32),
            ],
        }));
    }
    Ok(geometry_value(column, wkb.to_vec(), srid))
}

fn geometry_value(column: &Column, wkb: Vec<u8>, srid: Option<i32>) -> Value {
    Value::Struct(Struct {
        schema: geometry_schema(column.nullable),
        values: vec![Value::Bytes(wkb), srid.map_or(Value::Null, Value::Int32)],
    })
}

/// Coordinates of a 2D WKB point (21 bytes: byte order, type 1, x, y).
fn wkb_point(wkb: &[u8]) -> Option<(f64, f64)> {
    if wkb.len() != 21 {
        return None;
    }
    let little = wkb[0] != 0;
    let u32_at = |i: usize| -> Option<u32> {
        let b: [u8; 4] = wkb.get(i..i + 4)?.try_into().ok()?;
        Some(if little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    };
    let f64_at = |i: usize| -> Option<f64> {
        let b: [u8; 8] = wkb.get(i..i + 8)?.try_into().ok()?;
        Some(if little {
            f64::from_le_bytes(b)
        } else {
            f64::from_be_bytes(b)
        })
    };
    (u32_at(1)? == 1).then_some(())?;
    Some((f64_at(5)?, f64_at(13)?))
}

fn bytes_of<'v>(
    column: &Column,
    value: &'v MyValue,
    expected: &'static str,
) -> Result<Cow<'v, [u8]>, TypeError> {
    match value {
        MyValue::Bytes(b) => Ok(Cow::Borrowed(b)),
        // The text protocol never sends these for string columns, but a computed column
        // or a cast might: use their text.
        MyValue::Int(i) => Ok(Cow::Owned(i.to_string().into_bytes())),
        MyValue::UInt(u) => Ok(Cow::Owned(u.to_string().into_bytes())),
        _ => Err(unexpected(column, expected, value)),
    }
}

fn number_text(
    column: &Column,
    value: &MyValue,
    expected: &'static str,
) -> Result<String, TypeError> {
    match value {
        MyValue::Bytes(b) => std::str::from_utf8(b)
            .map(str::to_owned)
            .map_err(|_| invalid(column, "the value is not a number")),
        MyValue::Int(i) => Ok(i.to_string()),
        MyValue::UInt(u) => Ok(u.to_string()),
        MyValue::Double(d) => Ok(d.to_string()),
        MyValue::Float(f) => Ok(f.to_string()),
        _ => Err(unexpected(column, expected, value)),
    }
}

fn unsigned_of(value: &MyValue) -> Option<u64> {
    match value {
        MyValue::Int(i) => u64::try_from(*i).ok(),
        MyValue::UInt(u) => Some(*u),
        _ => None,
    }
}

fn signed_of(value: &MyValue) -> Option<i64> {
    match value {
        MyValue::Int(i) => Some(*i),
        MyValue::UInt(u) => i64::try_from(*u).ok(),
        _ => None,
    }
}

fn unexpected(column: &Column, expected: &'static str, value: &MyValue) -> TypeError {
    TypeError::UnexpectedValue {
        column: column.name.clone(),
        column_type: column.column_type.clone(),
        expected,
        found: Shape(value).to_string(),
    }
}

pub(crate) fn invalid(column: &Column, reason: impl Into<String>) -> TypeError {
    TypeError::InvalidValue {
        column: column.name.clone(),
        column_type: column.column_type.clone(),
        reason: reason.into(),
    }
}
