//! Debezium's type-mapping options. Each changes the *schema* of some columns, so consumers
//! depend on them: the names and defaults are Debezium's, so an existing connector config
//! keeps producing the same topics.
//!
//! Debezium's `enable.time.adjuster` (default `true`) is always on here: two-digit-year
//! dates (years 0–99) are moved to 1970–2069 as MySQL reads them. `YEAR` values are adjusted
//! the same way, as Debezium does unconditionally.

use std::fmt;
use std::str::FromStr;

use super::error::InvalidMode;

/// The options that shape column schemas and values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TypeModes {
    /// `decimal.handling.mode`
    pub decimal: DecimalHandlingMode,
    /// `time.precision.mode`
    pub time_precision: TimePrecisionMode,
    /// `bigint.unsigned.handling.mode`
    pub bigint_unsigned: BigIntUnsignedHandlingMode,
    /// `binary.handling.mode`
    pub binary: BinaryHandlingMode,
}

/// `decimal.handling.mode`: how `DECIMAL`/`NUMERIC` columns are represented.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DecimalHandlingMode {
    /// Connect `Decimal` (exact; bytes with a `scale` parameter).
    #[default]
    Precise,
    /// `float64` (lossy beyond ~15 digits, but readable by every consumer).
    Double,
    /// The plain decimal text, e.g. `"-1234.5600"`.
    String,
}

/// `time.precision.mode`: how `DATE`, `TIME` and `DATETIME` columns are represented
/// (`TIMESTAMP` is always an ISO-8601 `ZonedTimestamp` string).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TimePrecisionMode {
    /// Debezium's default for MySQL: like `adaptive`, but `TIME` is always `MicroTime`.
    #[default]
    AdaptiveTimeMicroseconds,
    /// Millisecond or microsecond types chosen from each column's precision.
    Adaptive,
    /// Kafka Connect's own `Date`/`Time`/`Timestamp` (milliseconds; `TIME` must lie within a
    /// day).
    Connect,
}

/// `bigint.unsigned.handling.mode`: `BIGINT UNSIGNED` as `int64` or exact `Decimal(20,0)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BigIntUnsignedHandlingMode {
    /// `int64`; values above `i64::MAX` wrap to negative numbers, as in Debezium.
    #[default]
    Long,
    /// `Decimal` with scale 0 and precision 20.
    Precise,
}

/// `binary.handling.mode`: how `BINARY`/`VARBINARY`/`BLOB` columns are represented.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BinaryHandlingMode {
    #[default]
    Bytes,
    /// Standard base64 text with padding.
    Base64,
    /// URL-safe base64 text with padding (Java's `Base64.getUrlEncoder()`).
    Base64UrlSafe,
    /// Lowercase hexadecimal text.
    Hex,
}

macro_rules! mode_enum {
    ($ty:ident, $option:literal, $( $variant:ident => $name:literal ),+ $(,)?) => {
        impl $ty {
            /// The value as written in a connector config.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $ty::$variant => $name, )+
                }
            }
        }

        impl FromStr for $ty {
            type Err = InvalidMode;

            /// Case-insensitive, surrounding blanks ignored (as Debezium's `parse`).
            fn from_str(s: &str) -> Result<Self, InvalidMode> {
                let wanted = s.trim();
                $( if wanted.eq_ignore_ascii_case($name) { return Ok($ty::$variant); } )+
                Err(InvalidMode {
                    option: $option,
                    value: s.to_owned(),
                    allowed: concat!($( $name, ", " ),+).trim_end_matches(", "),
                })
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

mode_enum!(DecimalHandlingMode, "decimal.handling.mode",
    Precise => "precise", Double => "double", String => "string");
mode_enum!(TimePrecisionMode, "time.precision.mode",
    AdaptiveTimeMicroseconds => "adaptive_time_microseconds",
    Adaptive => "adaptive",
    Connect => "connect");
mode_enum!(BigIntUnsignedHandlingMode, "bigint.unsigned.handling.mode",
    Long => "long", Precise => "precise");
mode_enum!(BinaryHandlingMode, "binary.handling.mode",
    Bytes => "bytes", Base64 => "base64", Base64UrlSafe => "base64-url-safe", Hex => "hex");
