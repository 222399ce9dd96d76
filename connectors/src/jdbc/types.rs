//! What a column holds, independent of any database: the Connect schema of a field, read
//! together with its logical name (Debezium's or Connect's).
//!
//! The dialects turn a [`ColumnKind`] into a column type (`auto.create`, `auto.evolve`) and a
//! value of that kind into something the driver binds (see `cell.rs`), so the knowledge of
//! what `io.debezium.time.MicroTime` means lives here once.

use tributary_runtime::data::{logical, Schema, Type};

/// The unit of an integer time value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimeUnit {
    Millis,
    Micros,
    Nanos,
}

impl TimeUnit {
    /// Fractional-second digits needed to hold it (databases stop at microseconds, except
    /// SQL Server's 100 ns, which we do not use).
    pub fn digits(self) -> u32 {
        match self {
            TimeUnit::Millis => 3,
            TimeUnit::Micros | TimeUnit::Nanos => 6,
        }
    }

    /// A value in this unit as microseconds (nanoseconds are truncated).
    pub fn to_micros(self, v: i64) -> i64 {
        match self {
            TimeUnit::Millis => v.saturating_mul(1000),
            TimeUnit::Micros => v,
            TimeUnit::Nanos => v.div_euclid(1000),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ColumnKind {
    Int8,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    Boolean,
    Text,
    Bytes,
    /// Connect `Decimal`: unscaled two's-complement bytes; precision from Debezium's
    /// `connect.decimal.precision` when present.
    Decimal {
        precision: Option<u32>,
        scale: u32,
    },
    /// Days since 1970-01-01 (Connect `Date`, Debezium `Date`).
    Date,
    /// Connect `Time`: milliseconds since midnight.
    TimeOfDay,
    /// Debezium `Time`/`MicroTime`/`NanoTime`: MySQL's `TIME`, an elapsed time that may be
    /// negative or exceed 24 hours (`-838:59:59` … `838:59:59`).
    Duration(TimeUnit),
    /// A date-time without zone (Debezium `Timestamp`/`MicroTimestamp`/`NanoTimestamp`, MySQL
    /// `DATETIME`; Connect `Timestamp`, an instant written as UTC).
    Timestamp(TimeUnit),
    /// Debezium `ZonedTimestamp`: ISO-8601 text with an offset (MySQL `TIMESTAMP`, in UTC).
    ZonedTimestamp,
    /// Debezium `ZonedTime`: ISO-8601 time with offset, kept as text.
    ZonedTime,
    /// Debezium `Year`.
    Year,
    /// Debezium `Enum` with its allowed values.
    Enum(Vec<String>),
    /// Debezium `EnumSet` (MySQL `SET`) with its allowed values.
    EnumSet(Vec<String>),
    /// Debezium `Bits`: little-endian bytes of a bit string of `length` bits.
    Bits(Option<u32>),
    /// Debezium `Json`: JSON text.
    Json,
    /// Debezium `Uuid`: text.
    Uuid,
    /// Debezium `Geometry` (`{wkb, srid}`): stored as the WKB bytes.
    Geometry,
    /// A struct, array or map with no logical type: stored as JSON text.
    Nested,
}

impl ColumnKind {
    /// The kind of a field with this schema.
    pub fn of(schema: &Schema) -> ColumnKind {
        let params = |key: &str| schema.parameter(key).map(str::trim);
        let allowed = || {
            params("allowed")
                .map(|a| a.split(',').map(str::to_owned).collect())
                .unwrap_or_default()
        };
        match schema.name.as_deref() {
            Some(logical::DECIMAL) if schema.ty == Type::Bytes => ColumnKind::Decimal {
                precision: params(logical::DECIMAL_PRECISION).and_then(|p| p.parse().ok()),
                scale: params(logical::DECIMAL_SCALE)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0),
            },
            Some(logical::CONNECT_DATE | logical::DBZ_DATE) if schema.ty == Type::Int32 => {
                ColumnKind::Date
            }
            Some(logical::CONNECT_TIME) if schema.ty == Type::Int32 => ColumnKind::TimeOfDay,
            Some(logical::DBZ_TIME) if schema.ty == Type::Int32 => {
                ColumnKind::Duration(TimeUnit::Millis)
            }
            Some(logical::DBZ_MICRO_TIME) if schema.ty == Type::Int64 => {
                ColumnKind::Duration(TimeUnit::Micros)
            }
            Some(logical::DBZ_NANO_TIME) if schema.ty == Type::Int64 => {
                ColumnKind::Duration(TimeUnit::Nanos)
            }
            Some(logical::CONNECT_TIMESTAMP | logical::DBZ_TIMESTAMP)
                if schema.ty == Type::Int64 =>
            {
                ColumnKind::Timestamp(TimeUnit::Millis)
            }
            Some(logical::DBZ_MICRO_TIMESTAMP) if schema.ty == Type::Int64 => {
                ColumnKind::Timestamp(TimeUnit::Micros)
            }
            Some(logical::DBZ_NANO_TIMESTAMP) if schema.ty == Type::Int64 => {
                ColumnKind::Timestamp(TimeUnit::Nanos)
            }
            Some(logical::DBZ_ZONED_TIMESTAMP) if schema.ty == Type::String => {
                ColumnKind::ZonedTimestamp
            }
            Some(logical::DBZ_ZONED_TIME) if schema.ty == Type::String => ColumnKind::ZonedTime,
            Some(logical::DBZ_YEAR) if schema.ty == Type::Int32 => ColumnKind::Year,
            Some(logical::DBZ_ENUM) if schema.ty == Type::String => ColumnKind::Enum(allowed()),
            Some(logical::DBZ_ENUM_SET) if schema.ty == Type::String => {
                ColumnKind::EnumSet(allowed())
            }
            Some(logical::DBZ_BITS) if schema.ty == Type::Bytes => {
                ColumnKind::Bits(params("length").and_then(|l| l.parse().ok()))
            }
            Some(logical::DBZ_JSON) if schema.ty == Type::String => ColumnKind::Json,
            Some(logical::DBZ_UUID) if schema.ty == Type::String => ColumnKind::Uuid,
            Some(logical::DBZ_GEOMETRY) if schema.ty == Type::Struct => ColumnKind::Geometry,
            _ => match schema.ty {
                Type::Int8 => ColumnKind::Int8,
                Type::Int16 => ColumnKind::Int16,
                Type::Int32 => ColumnKind::Int32,
                Type::Int64 => ColumnKind::Int64,
                Type::Float32 => ColumnKind::Float32,
                Type::Float64 => ColumnKind::Float64,
                Type::Boolean => ColumnKind::Boolean,
                Type::String => ColumnKind::Text,
                Type::Bytes => ColumnKind::Bytes,
                Type::Array | Type::Map | Type::Struct => ColumnKind::Nested,
            },
        }
    }
}

/// One column a record writes: its name, kind, and whether the field may be null.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ColumnDef {
    pub name: String,
    pub kind: ColumnKind,
    pub optional: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use tributary_runtime::data::SchemaBuilder;

    #[test]
    fn debezium_logical_types_are_recognised_by_name_and_physical_type() {
        let kind = |b: SchemaBuilder| ColumnKind::of(&b.build());
        let dbz = |b: SchemaBuilder, n: &str| kind(logical::debezium(b, n));
        assert_eq!(
            kind(logical::decimal(Some(20), 4)),
            ColumnKind::Decimal {
                precision: Some(20),
                scale: 4
            }
        );
        assert_eq!(
            dbz(SchemaBuilder::int32(), logical::DBZ_DATE),
            ColumnKind::Date
        );
        assert_eq!(
            dbz(SchemaBuilder::int64(), logical::DBZ_MICRO_TIME),
            ColumnKind::Duration(TimeUnit::Micros)
        );
        assert_eq!(
            dbz(SchemaBuilder::int64(), logical::DBZ_TIMESTAMP),
            ColumnKind::Timestamp(TimeUnit::Millis)
        );
        assert_eq!(
            dbz(SchemaBuilder::int64(), logical::DBZ_MICRO_TIMESTAMP),
            ColumnKind::Timestamp(TimeUnit::Micros)
        );
        assert_eq!(
            dbz(SchemaBuilder::string(), logical::DBZ_ZONED_TIMESTAMP),
            ColumnKind::ZonedTimestamp
        );
        assert_eq!(
            dbz(SchemaBuilder::int32(), logical::DBZ_YEAR),
            ColumnKind::Year
        );
        assert_eq!(
            kind(
                logical::debezium(SchemaBuilder::string(), logical::DBZ_ENUM)
                    .parameter("allowed", "red,green")
            ),
            ColumnKind::Enum(vec!["red".into(), "green".into()])
        );
        assert_eq!(
            kind(
                logical::debezium(SchemaBuilder::bytes(), logical::DBZ_BITS)
                    .parameter("length", "12")
            ),
            ColumnKind::Bits(Some(12))
        );
        assert_eq!(
            dbz(SchemaBuilder::string(), logical::DBZ_JSON),
            ColumnKind::Json
        );
        assert_eq!(
            dbz(SchemaBuilder::structure(), logical::DBZ_GEOMETRY),
            ColumnKind::Geometry
        );
    }

    #[test]
    fn a_logical_name_on_the_wrong_physical_type_is_ignored() {
        let s = logical::debezium(SchemaBuilder::string(), logical::DBZ_DATE).build();
        assert_eq!(ColumnKind::of(&s), ColumnKind::Text);
    }

    #[test]
    fn nanoseconds_are_truncated_to_microseconds_towards_the_past() {
        assert_eq!(TimeUnit::Nanos.to_micros(1_999), 1);
        assert_eq!(TimeUnit::Nanos.to_micros(-1), -1);
        assert_eq!(TimeUnit::Millis.to_micros(-2), -2000);
    }
}
