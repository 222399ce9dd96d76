//! Errors of the type mapping. Each names the column it is about, because a change event
//! that cannot be converted must tell the operator which table column to look at; none
//! carries the offending data itself (it may be sensitive), only its shape.

use std::fmt;

/// A value (or a column definition) that cannot be turned into Connect data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TypeError {
    /// The column's type has no Debezium mapping here (e.g. MariaDB `uuid`, `inet6`, MySQL
    /// `vector`); Debezium leaves such columns out of its events.
    #[error("column `{column}`: type `{column_type}` is not supported")]
    UnsupportedType { column: String, column_type: String },

    /// The value arrived in a form this column's type never takes (a bug upstream or a
    /// table map out of step with the column list).
    #[error("column `{column}` ({column_type}): unexpected {found} where {expected} was expected")]
    UnexpectedValue {
        column: String,
        column_type: String,
        expected: &'static str,
        found: String,
    },

    /// The value has the right form but cannot be read (bad text, out of range, unknown
    /// enum index …).
    #[error("column `{column}` ({column_type}): {reason}")]
    InvalidValue {
        column: String,
        column_type: String,
        reason: String,
    },

    /// String bytes in a character set we cannot decode.
    #[error("column `{column}`: character set `{charset}` is not supported")]
    UnsupportedCharset { column: String, charset: String },
}

/// A `*.handling.mode` / `time.precision.mode` value that is not one of the allowed ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid value `{value}` for {option}; allowed values: {allowed}")]
pub struct InvalidMode {
    pub option: &'static str,
    pub value: String,
    pub allowed: &'static str,
}

/// What a `mysql_async::Value` looks like, without its content.
pub(crate) struct Shape<'a>(pub &'a mysql_async::Value);

impl fmt::Display for Shape<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use mysql_async::Value as V;
        match self.0 {
            V::NULL => f.write_str("NULL"),
            V::Bytes(b) => write!(f, "{} bytes", b.len()),
            V::Int(_) => f.write_str("a signed integer"),
            V::UInt(_) => f.write_str("an unsigned integer"),
            V::Float(_) => f.write_str("a float"),
            V::Double(_) => f.write_str("a double"),
            V::Date(..) => f.write_str("a date/time"),
            V::Time(..) => f.write_str("a time"),
        }
    }
}
