//! One value to write into one column, already interpreted: a decimal as its text, a date as
//! days, a timestamp as microseconds. The database clients bind these; nothing downstream
//! looks at Connect schemas again.

use tributary_runtime::data::{logical, Value};

use super::time::parse_zoned_timestamp;
use super::types::ColumnKind;

#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Null,
    Bool(bool),
    Int(i64),
    Float32(f32),
    Float64(f64),
    Text(String),
    Bytes(Vec<u8>),
    /// Exact decimal text (`-1234.5600`).
    Decimal(String),
    /// Days since 1970-01-01.
    Date(i32),
    /// Microseconds since midnight.
    TimeOfDay(i64),
    /// Signed microseconds (MySQL `TIME`).
    Duration(i64),
    /// Microseconds since 1970-01-01T00:00, no zone.
    Timestamp(i64),
    /// Microseconds since the epoch, UTC.
    TimestampTz(i64),
    /// A bit string: little-endian bytes as Debezium sends them, and its length in bits.
    Bits(Vec<u8>, Option<u32>),
    /// JSON text.
    Json(String),
}

impl Cell {
    /// The cell for `value` in a column of `kind`; `Err` says why the value does not fit.
    pub fn from_value(kind: &ColumnKind, value: &Value) -> Result<Cell, String> {
        if value.is_null() {
            return Ok(Cell::Null);
        }
        let mismatch = || format!("a {kind:?} column cannot take {value:?}");
        Ok(match kind {
            ColumnKind::Int8
            | ColumnKind::Int16
            | ColumnKind::Int32
            | ColumnKind::Int64
            | ColumnKind::Year => Cell::Int(value.as_i64().ok_or_else(mismatch)?),
            ColumnKind::Float32 => match value {
                Value::Float32(f) => Cell::Float32(*f),
                Value::Float64(f) => Cell::Float64(*f),
                other => Cell::Float64(other.as_i64().ok_or_else(mismatch)? as f64),
            },
            ColumnKind::Float64 => match value {
                Value::Float32(f) => Cell::Float64(f64::from(*f)),
                Value::Float64(f) => Cell::Float64(*f),
                other => Cell::Float64(other.as_i64().ok_or_else(mismatch)? as f64),
            },
            ColumnKind::Boolean => match value {
                Value::Boolean(b) => Cell::Bool(*b),
                other => Cell::Bool(other.as_i64().ok_or_else(mismatch)? != 0),
            },
            ColumnKind::Text
            | ColumnKind::Enum(_)
            | ColumnKind::EnumSet(_)
            | ColumnKind::Uuid
            | ColumnKind::ZonedTime => Cell::Text(text(value).ok_or_else(mismatch)?),
            ColumnKind::Json => Cell::Json(text(value).ok_or_else(mismatch)?),
            ColumnKind::Bytes => match value {
                Value::Bytes(b) => Cell::Bytes(b.clone()),
                Value::String(s) => Cell::Bytes(s.as_bytes().to_vec()),
                _ => return Err(mismatch()),
            },
            ColumnKind::Decimal { scale, .. } => match value {
                Value::Bytes(b) => Cell::Decimal(logical::decimal_from_bytes(b, *scale)),
                Value::String(s) if is_decimal_text(s) => Cell::Decimal(s.trim().to_owned()),
                Value::Float64(f) if f.is_finite() => Cell::Decimal(f.to_string()),
                other => Cell::Decimal(other.as_i64().ok_or_else(mismatch)?.to_string()),
            },
            ColumnKind::Date => {
                let days = value.as_i64().ok_or_else(mismatch)?;
                Cell::Date(i32::try_from(days).map_err(|_| mismatch())?)
            }
            ColumnKind::TimeOfDay => Cell::TimeOfDay(value.as_i64().ok_or_else(mismatch)? * 1000),
            ColumnKind::Duration(unit) => {
                Cell::Duration(unit.to_micros(value.as_i64().ok_or_else(mismatch)?))
            }
            ColumnKind::Timestamp(unit) => {
                Cell::Timestamp(unit.to_micros(value.as_i64().ok_or_else(mismatch)?))
            }
            ColumnKind::ZonedTimestamp => match value {
                Value::String(s) => Cell::TimestampTz(parse_zoned_timestamp(s)?),
                _ => return Err(mismatch()),
            },
            ColumnKind::Bits(length) => match value {
                Value::Bytes(b) => Cell::Bits(b.clone(), *length),
                Value::Boolean(b) => Cell::Bits(vec![u8::from(*b)], Some(1)),
                _ => return Err(mismatch()),
            },
            ColumnKind::Geometry => match value {
                Value::Struct(s) => match s.get("wkb") {
                    Some(Value::Bytes(wkb)) => Cell::Bytes(wkb.clone()),
                    _ => return Err("a geometry without 'wkb' bytes".to_owned()),
                },
                _ => return Err(mismatch()),
            },
            ColumnKind::Nested => Cell::Json(crate::file::json::to_json(None, value).to_string()),
        })
    }

    /// An order for sorting a batch's rows by key before they are written: numbers by value,
    /// text and bytes by their bytes, anything else (or two different kinds) as equal. Only
    /// a locality aid (B-tree inserts in ascending order touch each page once), never a
    /// statement about the database's collation.
    pub fn key_order(&self, other: &Cell) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        match (self, other) {
            (Cell::Int(a), Cell::Int(b)) => a.cmp(b),
            (Cell::Text(a), Cell::Text(b)) | (Cell::Decimal(a), Cell::Decimal(b)) => a.cmp(b),
            (Cell::Bytes(a), Cell::Bytes(b)) => a.cmp(b),
            (Cell::Date(a), Cell::Date(b)) => a.cmp(b),
            (Cell::Timestamp(a), Cell::Timestamp(b))
            | (Cell::TimestampTz(a), Cell::TimestampTz(b)) => a.cmp(b),
            _ => Ordering::Equal,
        }
    }

    /// Appends a byte encoding that is equal for equal cells: the identity of a primary key
    /// within a batch.
    pub fn encode_key(&self, out: &mut Vec<u8>) {
        let (tag, bytes): (u8, Vec<u8>) = match self {
            Cell::Null => (0, Vec::new()),
            Cell::Bool(b) => (1, vec![u8::from(*b)]),
            Cell::Int(v) => (2, v.to_be_bytes().to_vec()),
            Cell::Float32(v) => (3, v.to_bits().to_be_bytes().to_vec()),
            Cell::Float64(v) => (4, v.to_bits().to_be_bytes().to_vec()),
            Cell::Text(s) | Cell::Decimal(s) | Cell::Json(s) => (5, s.as_bytes().to_vec()),
            Cell::Bytes(b) | Cell::Bits(b, _) => (6, b.clone()),
            Cell::Date(d) => (7, d.to_be_bytes().to_vec()),
            Cell::TimeOfDay(v) | Cell::Duration(v) | Cell::Timestamp(v) | Cell::TimestampTz(v) => {
                (8, v.to_be_bytes().to_vec())
            }
        };
        out.push(tag);
        out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        out.extend_from_slice(&bytes);
    }

    /// A bit string's value as an unsigned integer (MySQL `BIT(n)` takes at most 64 bits).
    pub fn bits_as_u64(bytes_le: &[u8]) -> Option<u64> {
        if bytes_le.iter().skip(8).any(|b| *b != 0) {
            return None;
        }
        Some(
            bytes_le
                .iter()
                .take(8)
                .enumerate()
                .fold(0u64, |acc, (i, b)| acc | (u64::from(*b) << (8 * i))),
        )
    }

    /// A bit string as `0`/`1` text, most significant bit first, `length` digits (or as many
    /// as the bytes hold).
    pub fn bits_as_text(bytes_le: &[u8], length: Option<u32>) -> String {
        let n = length.unwrap_or((bytes_le.len() * 8) as u32) as usize;
        (0..n)
            .rev()
            .map(|i| {
                let set = bytes_le.get(i / 8).is_some_and(|b| b & (1 << (i % 8)) != 0);
                if set {
                    '1'
                } else {
                    '0'
                }
            })
            .collect()
    }
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Boolean(b) => Some(b.to_string()),
        Value::Float32(f) => Some(f.to_string()),
        Value::Float64(f) => Some(f.to_string()),
        Value::Array(_) | Value::Map(_) | Value::Struct(_) => {
            Some(crate::file::json::to_json(None, value).to_string())
        }
        other => other.as_i64().map(|i| i.to_string()),
    }
}

fn is_decimal_text(s: &str) -> bool {
    let s = s.trim();
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    !s.is_empty()
        && s.chars().filter(|c| *c == '.').count() <= 1
        && s.chars().all(|c| c.is_ascii_digit() || c == '.')
        && s.chars().any(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jdbc::types::TimeUnit;
    use tributary_runtime::data::{SchemaBuilder, Struct};

    #[test]
    fn decimals_become_their_exact_text() {
        let kind = ColumnKind::Decimal {
            precision: Some(20),
            scale: 4,
        };
        let bytes = logical::decimal_to_bytes("-1234567890123456.7890", 4).expect("decimal");
        assert_eq!(
            Cell::from_value(&kind, &Value::Bytes(bytes)),
            Ok(Cell::Decimal("-1234567890123456.7890".into()))
        );
        assert_eq!(
            Cell::from_value(&kind, &Value::from("12.5")),
            Ok(Cell::Decimal("12.5".into()))
        );
        assert!(Cell::from_value(&kind, &Value::from("12,5")).is_err());
    }

    #[test]
    fn temporal_values_are_normalised_to_microseconds() {
        assert_eq!(
            Cell::from_value(
                &ColumnKind::Duration(TimeUnit::Micros),
                &Value::Int64(-45_296_000_000)
            ),
            Ok(Cell::Duration(-45_296_000_000))
        );
        assert_eq!(
            Cell::from_value(
                &ColumnKind::Timestamp(TimeUnit::Millis),
                &Value::Int64(1_709_251_199_999)
            ),
            Ok(Cell::Timestamp(1_709_251_199_999_000))
        );
        assert_eq!(
            Cell::from_value(
                &ColumnKind::ZonedTimestamp,
                &Value::from("2024-02-29T12:00:00Z")
            ),
            Ok(Cell::TimestampTz(1_709_208_000_000_000))
        );
        assert!(Cell::from_value(&ColumnKind::ZonedTimestamp, &Value::from("noon")).is_err());
    }

    #[test]
    fn geometry_keeps_its_wkb() {
        let schema = SchemaBuilder::structure()
            .field("wkb", SchemaBuilder::bytes().build_ref())
            .field("srid", SchemaBuilder::int32().optional().build_ref())
            .build_ref();
        let v = Value::Struct(
            Struct::new(schema)
                .with("wkb", Value::Bytes(vec![1, 2]))
                .with("srid", 4326),
        );
        assert_eq!(
            Cell::from_value(&ColumnKind::Geometry, &v),
            Ok(Cell::Bytes(vec![1, 2]))
        );
    }

    #[test]
    fn bits_are_read_little_endian() {
        // MySQL b'101010101010' as Debezium sends it: 0xaa, 0x0a.
        assert_eq!(Cell::bits_as_u64(&[0xaa, 0x0a]), Some(0x0aaa));
        assert_eq!(Cell::bits_as_text(&[0xaa, 0x0a], Some(12)), "101010101010");
        assert_eq!(Cell::bits_as_u64(&[0; 9]), Some(0));
        assert_eq!(Cell::bits_as_u64(&[0, 0, 0, 0, 0, 0, 0, 0, 1]), None);
    }

    #[test]
    fn equal_keys_encode_equally_and_different_ones_differently() {
        let enc = |cells: &[Cell]| {
            let mut out = Vec::new();
            cells.iter().for_each(|c| c.encode_key(&mut out));
            out
        };
        let a = enc(&[Cell::Int(1), Cell::Text("ab".into())]);
        assert_eq!(a, enc(&[Cell::Int(1), Cell::Text("ab".into())]));
        assert_ne!(a, enc(&[Cell::Int(1), Cell::Text("a".into())]));
        assert_ne!(
            enc(&[Cell::Text("a".into()), Cell::Text("b".into())]),
            enc(&[Cell::Text("ab".into()), Cell::Text(String::new())])
        );
    }

    #[test]
    fn nested_values_become_json_text() {
        let v = Value::Map(vec![(Value::from("k"), Value::Int64(1))]);
        assert_eq!(
            Cell::from_value(&ColumnKind::Nested, &v),
            Ok(Cell::Json(r#"{"k":1}"#.into()))
        );
    }
}
