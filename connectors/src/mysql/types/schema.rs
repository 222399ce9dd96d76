//! Column → Connect schema, as Debezium 3.6's `MySqlValueConverters.schemaBuilder` with the
//! column's optionality and default, so our Avro schemas equal the ones Debezium
//! registered (the recordings in `tests/fixtures/debezium-3.6.3-mysql/` are the oracle).

use std::sync::{Arc, OnceLock};

use tributary_runtime::data::logical::{
    self, CONNECT_DATE, CONNECT_TIME, CONNECT_TIMESTAMP, DBZ_BITS, DBZ_DATE, DBZ_ENUM,
    DBZ_ENUM_SET, DBZ_GEOMETRY, DBZ_JSON, DBZ_MICRO_TIME, DBZ_MICRO_TIMESTAMP, DBZ_TIME,
    DBZ_TIMESTAMP, DBZ_YEAR, DBZ_ZONED_TIMESTAMP,
};
use tributary_runtime::data::{SchemaBuilder, SchemaRef, Value};

use super::column::{is_zero_date_literal, Column, ColumnDefault, ColumnKind};
use super::error::TypeError;
use super::modes::{
    BigIntUnsignedHandlingMode, BinaryHandlingMode, DecimalHandlingMode, TimePrecisionMode,
    TypeModes,
};
use super::numeric::{java_round, DecimalText};
use super::temporal::{self, DateTimeParts};
use super::value::{binary_value, decimal_value, time_value, timestamp_value, IntOutput};

/// Debezium's `io.debezium.data.geometry.Point` (not among the runtime's shared names: only
/// MySQL produces it).
pub const DBZ_POINT: &str = "io.debezium.data.geometry.Point";

/// The Connect schema of a column's values (also its key field schema: key columns are
/// NOT NULL, hence required). A type without a Debezium mapping gets an optional-if-nullable
/// `string`, so a table with one exotic column still streams; use [`try_connect_schema`] to
/// refuse such columns instead (Debezium leaves them out).
pub fn connect_schema(column: &Column, modes: &TypeModes) -> SchemaRef {
    try_connect_schema(column, modes).unwrap_or_else(|_| {
        SchemaBuilder::string()
            .optional_if(column.nullable)
            .build_ref()
    })
}

/// The Connect schema of a column, or [`TypeError::UnsupportedType`].
pub fn try_connect_schema(column: &Column, modes: &TypeModes) -> Result<SchemaRef, TypeError> {
    match column.kind {
        ColumnKind::Geometry => return Ok(geometry_schema(column.nullable)),
        ColumnKind::Point => return Ok(point_schema(column.nullable)),
        _ => {}
    }
    let builder = base_builder(column, modes)?.optional_if(column.nullable);
    let builder = match default_value(column, modes) {
        Some(v) => builder.default_value(v),
        None => builder,
    };
    Ok(builder.build_ref())
}

/// Physical type, logical name and parameters of a column (no optionality, no default).
fn base_builder(column: &Column, modes: &TypeModes) -> Result<SchemaBuilder, TypeError> {
    use ColumnKind as K;
    let adaptive = modes.time_precision != TimePrecisionMode::Connect;
    Ok(match column.kind {
        K::TinyInt => SchemaBuilder::int16(),
        K::SmallInt if column.unsigned => SchemaBuilder::int32(),
        K::SmallInt => SchemaBuilder::int16(),
        K::MediumInt => SchemaBuilder::int32(),
        K::Int if column.unsigned => SchemaBuilder::int64(),
        K::Int => SchemaBuilder::int32(),
        K::BigInt
            if column.unsigned && modes.bigint_unsigned == BigIntUnsignedHandlingMode::Precise =>
        {
            logical::decimal(Some(20), 0)
        }
        K::BigInt => SchemaBuilder::int64(),
        K::Decimal => match modes.decimal {
            DecimalHandlingMode::Precise => {
                let (precision, scale) = column.decimal_precision_scale();
                logical::decimal(Some(precision), scale)
            }
            DecimalHandlingMode::Double => SchemaBuilder::float64(),
            DecimalHandlingMode::String => SchemaBuilder::string(),
        },
        K::Float if column.is_float32() => SchemaBuilder::float32(),
        K::Float | K::Double => SchemaBuilder::float64(),
        K::Bit if column.bit_length() > 1 => logical::debezium(SchemaBuilder::bytes(), DBZ_BITS)
            .parameter("length", column.bit_length().to_string()),
        K::Bit => SchemaBuilder::boolean(),
        K::String => SchemaBuilder::string(),
        K::Json => logical::debezium(SchemaBuilder::string(), DBZ_JSON),
        K::Binary => match modes.binary {
            BinaryHandlingMode::Bytes => SchemaBuilder::bytes(),
            _ => SchemaBuilder::string(),
        },
        K::Enum => logical::debezium(SchemaBuilder::string(), DBZ_ENUM)
            .parameter("allowed", allowed_parameter(&column.enum_values)),
        K::Set => logical::debezium(SchemaBuilder::string(), DBZ_ENUM_SET)
            .parameter("allowed", allowed_parameter(&column.enum_values)),
        K::Date if adaptive => logical::debezium(SchemaBuilder::int32(), DBZ_DATE),
        K::Date => SchemaBuilder::int32().name(CONNECT_DATE).version(1),
        K::Time => match modes.time_precision {
            TimePrecisionMode::AdaptiveTimeMicroseconds => {
                logical::debezium(SchemaBuilder::int64(), DBZ_MICRO_TIME)
            }
            TimePrecisionMode::Adaptive if column.time_precision() <= 3 => {
                logical::debezium(SchemaBuilder::int32(), DBZ_TIME)
            }
            TimePrecisionMode::Adaptive => {
                logical::debezium(SchemaBuilder::int64(), DBZ_MICRO_TIME)
            }
            TimePrecisionMode::Connect => SchemaBuilder::int32().name(CONNECT_TIME).version(1),
        },
        K::DateTime if !adaptive => SchemaBuilder::int64().name(CONNECT_TIMESTAMP).version(1),
        K::DateTime if column.time_precision() <= 3 => {
            logical::debezium(SchemaBuilder::int64(), DBZ_TIMESTAMP)
        }
        K::DateTime => logical::debezium(SchemaBuilder::int64(), DBZ_MICRO_TIMESTAMP),
        K::Timestamp => logical::debezium(SchemaBuilder::string(), DBZ_ZONED_TIMESTAMP),
        K::Year => logical::debezium(SchemaBuilder::int32(), DBZ_YEAR),
        K::Geometry | K::Point | K::Unsupported => {
            return Err(TypeError::UnsupportedType {
                column: column.name.clone(),
                column_type: column.column_type.clone(),
            })
        }
    })
}

/// Debezium's `allowed` parameter: members joined by commas, a comma inside a member
/// escaped as `\,` (`EnumeratedValues` after `escapeOption`).
fn allowed_parameter(values: &[String]) -> String {
    values
        .iter()
        .map(|v| v.replace(',', "\\,"))
        .collect::<Vec<_>>()
        .join(",")
}

/// `io.debezium.data.geometry.Geometry`: `wkb` (required bytes), `srid` (optional int32).
/// Shared per optionality so every value's struct points at the same schema.
pub fn geometry_schema(optional: bool) -> SchemaRef {
    static SCHEMAS: OnceLock<[SchemaRef; 2]> = OnceLock::new();
    let [required, opt] = SCHEMAS.get_or_init(|| {
        let build = |optional: bool| {
            logical::debezium(SchemaBuilder::structure(), DBZ_GEOMETRY)
                .doc("Geometry")
                .field("wkb", SchemaBuilder::bytes())
                .field("srid", SchemaBuilder::int32().optional())
                .optional_if(optional)
                .build_ref()
        };
        [build(false), build(true)]
    });
    Arc::clone(if optional { opt } else { required })
}

/// `io.debezium.data.geometry.Point`: `x`, `y` (float64), `wkb` (optional bytes), `srid`
/// (optional int32), as Debezium still maps `POINT` columns.
pub fn point_schema(optional: bool) -> SchemaRef {
    static SCHEMAS: OnceLock<[SchemaRef; 2]> = OnceLock::new();
    let [required, opt] = SCHEMAS.get_or_init(|| {
        let build = |optional: bool| {
            logical::debezium(SchemaBuilder::structure(), DBZ_POINT)
                .doc("Geometry (POINT)")
                .field("x", SchemaBuilder::float64())
                .field("y", SchemaBuilder::float64())
                .field("wkb", SchemaBuilder::bytes().optional())
                .field("srid", SchemaBuilder::int32().optional())
                .optional_if(optional)
                .build_ref()
        };
        [build(false), build(true)]
    });
    Arc::clone(if optional { opt } else { required })
}

/// The column's default as a Connect value of its schema (what Debezium's
/// `BinlogDefaultValueConverter` gives): `None` for no default, `DEFAULT NULL`, expressions,
/// and defaults Debezium cannot read (logged).
pub fn default_value(column: &Column, modes: &TypeModes) -> Option<Value> {
    match checked_default_value(column, modes) {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!("ignoring the default of column `{}`: {e}", column.name);
            None
        }
    }
}

fn checked_default_value(column: &Column, modes: &TypeModes) -> Result<Option<Value>, TypeError> {
    use ColumnKind as K;
    let text = match &column.default {
        ColumnDefault::None | ColumnDefault::Expression(_) => return Ok(None),
        ColumnDefault::CurrentTimestamp => {
            // Debezium's DDL parser turns `DEFAULT CURRENT_TIMESTAMP` into the epoch.
            return Ok(match column.kind {
                K::DateTime => Some(super::value::datetime_value(column, modes, 0)),
                K::Timestamp if !column.nullable => {
                    Some(Value::String(temporal::zoned_timestamp(0, 0)))
                }
                _ => None,
            });
        }
        ColumnDefault::Literal(text) => text.as_str(),
    };
    let invalid = |reason: &str| TypeError::InvalidValue {
        column: column.name.clone(),
        column_type: column.column_type.clone(),
        reason: format!("default {text:?}: {reason}"),
    };
    let trimmed = text.trim();
    // Debezium reads `true`/`false` as 1/0 for numeric columns (BOOLEAN is TINYINT(1)).
    let numeric_text = if trimmed.eq_ignore_ascii_case("true") {
        "1"
    } else if trimmed.eq_ignore_ascii_case("false") {
        "0"
    } else {
        trimmed
    };
    Ok(Some(match column.kind {
        K::TinyInt | K::SmallInt | K::MediumInt | K::Int | K::BigInt => {
            if column.kind == K::BigInt
                && column.unsigned
                && modes.bigint_unsigned == BigIntUnsignedHandlingMode::Precise
            {
                let d = DecimalText::parse(numeric_text).ok_or_else(|| invalid("not a number"))?;
                decimal_bytes(column, &d.with_scale_half_up(0), 0)?
            } else {
                let n = java_round(numeric_text).ok_or_else(|| invalid("not a number"))?;
                // Java's narrowing (`shortValue()`, `intValue()`) wraps.
                match super::value::integer_output(column, modes) {
                    IntOutput::Int16 => Value::Int16(n as i16),
                    IntOutput::Int32 => Value::Int32(n as i32),
                    IntOutput::Int64 => Value::Int64(n),
                }
            }
        }
        K::Decimal => {
            let (_, scale) = column.decimal_precision_scale();
            let d = DecimalText::parse(numeric_text).ok_or_else(|| invalid("not a number"))?;
            decimal_value(column, modes, &d.with_scale_half_up(scale), scale)?
        }
        K::Float | K::Double => {
            let x: f64 = numeric_text.parse().map_err(|_| invalid("not a number"))?;
            if column.is_float32() {
                Value::Float32(x as f32)
            } else {
                Value::Float64(x)
            }
        }
        K::Bit => {
            let bits = parse_bit_literal(numeric_text).ok_or_else(|| invalid("not a bit value"))?;
            if column.bit_length() > 1 {
                let width = column.bit_length().div_ceil(8) as usize;
                let le = bits.to_le_bytes();
                let mut out: Vec<u8> = le.iter().copied().take(width.max(1)).collect();
                out.resize(width, 0);
                Value::Bytes(out)
            } else {
                Value::Boolean(bits != 0)
            }
        }
        K::String | K::Json | K::Enum | K::Set => Value::String(text.to_owned()),
        K::Binary => binary_value(modes, text.as_bytes().to_vec()),
        K::Date => {
            if is_zero_date_literal(trimmed) {
                return Ok((!column.nullable).then_some(Value::Int32(0)));
            }
            let d = temporal::parse_datetime(trimmed).ok_or_else(|| invalid("not a date"))?;
            let days = d.adjusted().epoch_days();
            Value::Int32(i32::try_from(days).map_err(|_| invalid("date out of range"))?)
        }
        K::DateTime => {
            if is_zero_date_literal(trimmed) {
                return Ok(
                    (!column.nullable).then(|| super::value::datetime_value(column, modes, 0))
                );
            }
            let d = temporal::parse_datetime(trimmed).ok_or_else(|| invalid("not a datetime"))?;
            super::value::datetime_value(column, modes, d.adjusted().epoch_micros())
        }
        K::Timestamp => {
            if is_zero_date_literal(trimmed) || trimmed == "1970-01-01 00:00:00" {
                return Ok(
                    (!column.nullable).then(|| Value::String(temporal::zoned_timestamp(0, 0)))
                );
            }
            let d = temporal::parse_datetime(trimmed).ok_or_else(|| invalid("not a timestamp"))?;
            timestamp_value(column, d.epoch_micros())
        }
        K::Time => {
            // A full date-time literal keeps only its time of day (Debezium's TIMESTAMP_PATTERN).
            let micros = match temporal::parse_duration_micros(trimmed) {
                Some(m) => m,
                None => {
                    let d: DateTimeParts =
                        temporal::parse_datetime(trimmed).ok_or_else(|| invalid("not a time"))?;
                    d.epoch_micros() - d.epoch_days() * 86_400_000_000
                }
            };
            time_value(column, modes, micros)?
        }
        K::Year => {
            // The catalog holds the stored year (MySQL already expanded two-digit years).
            let y: i32 = trimmed.parse().map_err(|_| invalid("not a year"))?;
            Value::Int32(y)
        }
        K::Geometry | K::Point | K::Unsupported => return Ok(None),
    }))
}

fn decimal_bytes(column: &Column, d: &DecimalText, scale: u32) -> Result<Value, TypeError> {
    logical::decimal_to_bytes(&d.to_plain_string(), scale)
        .map(Value::Bytes)
        .ok_or_else(|| TypeError::InvalidValue {
            column: column.name.clone(),
            column_type: column.column_type.clone(),
            reason: "decimal out of range".into(),
        })
}

/// The value of a bit literal: `b'101'`, `0b101`, `x'1F'`, `0x1F` or a decimal number.
fn parse_bit_literal(text: &str) -> Option<u64> {
    let lower = text.trim().to_ascii_lowercase();
    let quoted = |prefix: &str| {
        lower
            .strip_prefix(prefix)
            .and_then(|r| r.strip_suffix('\''))
            .map(str::to_owned)
    };
    let from_radix = |digits: &str, radix: u32| -> Option<u64> {
        if digits.is_empty() {
            return Some(0);
        }
        u64::from_str_radix(digits, radix).ok()
    };
    if let Some(bits) = quoted("b'").or_else(|| lower.strip_prefix("0b").map(str::to_owned)) {
        return from_radix(&bits, 2);
    }
    if let Some(hex) = quoted("x'").or_else(|| lower.strip_prefix("0x").map(str::to_owned)) {
        return from_radix(&hex, 16);
    }
    lower.parse().ok()
}
