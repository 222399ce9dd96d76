//! What the connector knows about a column, read from `information_schema.COLUMNS`.
//!
//! Debezium learns columns by parsing DDL; we read the catalog instead, which states the same
//! facts already normalized by the server (`int(11)`, `enum('a','b')`, `decimal(10,0)` …).
//! The only dialect difference that matters is `COLUMN_DEFAULT`: MariaDB (10.2.7+) writes
//! it as an SQL expression (`'text'` quoted, `NULL` for a NULL default, numbers and
//! `current_timestamp()` bare), MySQL as the raw literal text (`text`, SQL NULL for none,
//! expressions marked only in `EXTRA`). [`DefaultStyle`] picks the reading.

use super::temporal;

/// Query listing the columns of one table in the order [`ColumnInfo::from_row`] reads
/// them; bind the schema and table names.
pub const INFORMATION_SCHEMA_COLUMNS_QUERY: &str = "SELECT COLUMN_NAME, ORDINAL_POSITION, \
    DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, CHARACTER_SET_NAME, \
    CHARACTER_MAXIMUM_LENGTH, NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION \
    FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? \
    ORDER BY ORDINAL_POSITION";

/// One row of `information_schema.COLUMNS`, as the server reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ColumnInfo {
    /// `COLUMN_NAME`
    pub name: String,
    /// `ORDINAL_POSITION` (1-based)
    pub position: u32,
    /// `DATA_TYPE`, e.g. `bigint`, `varchar`, `enum` (any case; compared lowercase)
    pub data_type: String,
    /// `COLUMN_TYPE`, e.g. `bigint(20) unsigned`, `enum('red','green')`, `decimal(20,4)`
    pub column_type: String,
    /// `IS_NULLABLE = 'YES'`
    pub nullable: bool,
    /// `COLUMN_DEFAULT` exactly as returned (see [`DefaultStyle`])
    pub default: Option<String>,
    /// `CHARACTER_SET_NAME`
    pub charset: Option<String>,
    /// `CHARACTER_MAXIMUM_LENGTH`
    pub char_max_length: Option<u64>,
    /// `NUMERIC_PRECISION`
    pub numeric_precision: Option<u64>,
    /// `NUMERIC_SCALE`
    pub numeric_scale: Option<u64>,
    /// `DATETIME_PRECISION`
    pub datetime_precision: Option<u64>,
}

impl ColumnInfo {
    /// Reads a row of [`INFORMATION_SCHEMA_COLUMNS_QUERY`], whichever protocol returned it
    /// (numbers may arrive as integers or as text).
    pub fn from_row(row: &mysql_async::Row) -> ColumnInfo {
        let text = |i: usize| row.as_ref(i).and_then(value_text);
        let number = |i: usize| text(i).and_then(|t| t.trim().parse::<u64>().ok());
        ColumnInfo {
            name: text(0).unwrap_or_default(),
            position: number(1).and_then(|n| u32::try_from(n).ok()).unwrap_or(0),
            data_type: text(2).unwrap_or_default(),
            column_type: text(3).unwrap_or_default(),
            nullable: text(4).is_some_and(|n| n.eq_ignore_ascii_case("YES")),
            default: text(5),
            charset: text(6),
            char_max_length: number(7),
            numeric_precision: number(8),
            numeric_scale: number(9),
            datetime_precision: number(10),
        }
    }
}

fn value_text(value: &mysql_async::Value) -> Option<String> {
    use mysql_async::Value as V;
    match value {
        V::NULL => None,
        V::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
        V::Int(i) => Some(i.to_string()),
        V::UInt(u) => Some(u.to_string()),
        V::Float(f) => Some(f.to_string()),
        V::Double(d) => Some(d.to_string()),
        V::Date(..) | V::Time(..) => None,
    }
}

/// How to read `COLUMN_DEFAULT`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DefaultStyle {
    /// Guess per value: a `'quoted'` text or a bare `NULL` is MariaDB's form, a function
    /// call or parenthesized text an expression, anything else a literal. Right for every
    /// default except MySQL string defaults that themselves look like `'x'`, `NULL` or
    /// `f(x)`.
    #[default]
    Detect,
    /// MariaDB 10.2.7+: SQL expressions.
    MariaDb,
    /// MySQL: raw literal text (expression defaults must be told apart by the caller, from
    /// `EXTRA` containing `DEFAULT_GENERATED`; pass them as [`ColumnDefault::Expression`]).
    MySql,
}

/// A column's default, as far as change events care.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ColumnDefault {
    /// No default, or `DEFAULT NULL`.
    None,
    /// A constant, unquoted and unescaped (`dflt`, `12.50`, `b'101'`, `2020-01-02`).
    Literal(String),
    /// `CURRENT_TIMESTAMP` / `NOW()` (any precision). Debezium gives temporal columns with
    /// this default the epoch as their schema default (NULL if the column is nullable).
    CurrentTimestamp,
    /// Any other expression; it has no schema default.
    Expression(String),
}

/// The MySQL type family of a column, which decides its Connect schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ColumnKind {
    TinyInt,
    SmallInt,
    MediumInt,
    Int,
    BigInt,
    Decimal,
    /// `FLOAT` (single precision; with an explicit `(M,D)` Debezium widens it to `float64`).
    Float,
    /// `DOUBLE`, `REAL`.
    Double,
    Bit,
    /// `CHAR`, `VARCHAR`, `*TEXT` (including MariaDB's `JSON`, an alias of `LONGTEXT`).
    String,
    /// `BINARY`, `VARBINARY`, `*BLOB`.
    Binary,
    Enum,
    Set,
    Date,
    Time,
    DateTime,
    Timestamp,
    Year,
    /// MySQL's native `JSON` (binary JSON in the binlog).
    Json,
    /// `GEOMETRY`, `LINESTRING`, `POLYGON`, `MULTI*`, `GEOMETRYCOLLECTION`.
    Geometry,
    /// `POINT` (Debezium's `io.debezium.data.geometry.Point`, with `x`/`y`).
    Point,
    /// Anything else (MariaDB `uuid`/`inet4`/`inet6`, MySQL `vector` …).
    Unsupported,
}

impl ColumnKind {
    /// The kind of a `DATA_TYPE` (or of the base word of a `COLUMN_TYPE`).
    pub fn from_data_type(data_type: &str) -> ColumnKind {
        match data_type.trim().to_ascii_lowercase().as_str() {
            "tinyint" | "int1" | "bool" | "boolean" => ColumnKind::TinyInt,
            "smallint" | "int2" => ColumnKind::SmallInt,
            "mediumint" | "int3" | "middleint" => ColumnKind::MediumInt,
            "int" | "integer" | "int4" => ColumnKind::Int,
            "bigint" | "int8" => ColumnKind::BigInt,
            "decimal" | "numeric" | "dec" | "fixed" => ColumnKind::Decimal,
            "float" | "float4" => ColumnKind::Float,
            "double" | "real" | "double precision" | "float8" => ColumnKind::Double,
            "bit" => ColumnKind::Bit,
            "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" | "nchar"
            | "nvarchar" | "national char" | "national varchar" | "character"
            | "character varying" | "long" | "long varchar" => ColumnKind::String,
            "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob"
            | "long varbinary" => ColumnKind::Binary,
            "enum" => ColumnKind::Enum,
            "set" => ColumnKind::Set,
            "date" => ColumnKind::Date,
            "time" => ColumnKind::Time,
            "datetime" => ColumnKind::DateTime,
            "timestamp" => ColumnKind::Timestamp,
            "year" => ColumnKind::Year,
            "json" => ColumnKind::Json,
            "geometry" | "linestring" | "polygon" | "multipoint" | "multilinestring"
            | "multipolygon" | "geometrycollection" | "geomcollection" => ColumnKind::Geometry,
            "point" => ColumnKind::Point,
            _ => ColumnKind::Unsupported,
        }
    }

    pub fn is_temporal(self) -> bool {
        matches!(
            self,
            ColumnKind::Date
                | ColumnKind::Time
                | ColumnKind::DateTime
                | ColumnKind::Timestamp
                | ColumnKind::Year
        )
    }
}

/// A `COLUMN_TYPE` taken apart: `decimal(20,4) unsigned zerofill` → base `decimal`, args
/// `["20", "4"]`, unsigned, zerofill. Arguments keep their quotes (`enum('a','b')` gives
/// `["'a'", "'b'"]`); commas and parentheses inside quotes do not split.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParsedColumnType {
    pub base: String,
    pub args: Vec<String>,
    pub unsigned: bool,
    pub zerofill: bool,
}

/// A column as the type mapping needs it.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub name: String,
    /// 1-based position in the table.
    pub position: u32,
    /// Lowercase `DATA_TYPE`.
    pub data_type: String,
    pub column_type: String,
    pub nullable: bool,
    pub default: ColumnDefault,
    /// Character set of string columns (bytes in the binlog are in this set).
    pub charset: Option<String>,
    pub char_max_length: Option<u64>,
    pub numeric_precision: Option<u64>,
    pub numeric_scale: Option<u64>,
    pub datetime_precision: Option<u64>,
    // Derived from the above.
    pub kind: ColumnKind,
    pub unsigned: bool,
    /// `ENUM`/`SET` members in definition order, unquoted (empty for other types).
    pub enum_values: Vec<String>,
    /// The first `COLUMN_TYPE` argument (`M` of `decimal(M,D)`, `float(M,D)`, `bit(M)`,
    /// `binary(M)`, fractional precision of `time(p)` …), if any.
    pub length: Option<u32>,
    /// The second `COLUMN_TYPE` argument (`D`), if any.
    pub scale: Option<u32>,
}

impl Column {
    /// The column described by a row of `information_schema.COLUMNS`, reading
    /// `COLUMN_DEFAULT` with [`DefaultStyle::Detect`].
    pub fn from_information_schema(info: ColumnInfo) -> Column {
        Column::from_information_schema_with(info, DefaultStyle::Detect)
    }

    /// As [`Column::from_information_schema`], reading `COLUMN_DEFAULT` in the given style
    /// (pass the server's flavour when known: it removes the guesswork).
    pub fn from_information_schema_with(info: ColumnInfo, style: DefaultStyle) -> Column {
        let parsed = Column::parse_column_type(&info.column_type);
        let data_type = if info.data_type.trim().is_empty() {
            parsed.base.clone()
        } else {
            info.data_type.trim().to_ascii_lowercase()
        };
        let kind = ColumnKind::from_data_type(&data_type);
        let enum_values = match kind {
            ColumnKind::Enum | ColumnKind::Set => {
                Column::parse_enum_values(&info.column_type).unwrap_or_default()
            }
            _ => Vec::new(),
        };
        let numeric_arg = |i: usize| -> Option<u32> {
            match kind {
                ColumnKind::Enum | ColumnKind::Set => None,
                _ => parsed.args.get(i).and_then(|a| a.trim().parse().ok()),
            }
        };
        let default = Column::parse_default(info.default.as_deref(), style, kind);
        Column {
            name: info.name,
            position: info.position,
            data_type,
            column_type: info.column_type,
            nullable: info.nullable,
            default,
            charset: info.charset,
            char_max_length: info.char_max_length,
            numeric_precision: info.numeric_precision,
            numeric_scale: info.numeric_scale,
            datetime_precision: info.datetime_precision,
            kind,
            unsigned: parsed.unsigned,
            enum_values,
            length: numeric_arg(0),
            scale: numeric_arg(1),
        }
    }

    /// Splits a `COLUMN_TYPE` into base word, arguments and attributes.
    pub fn parse_column_type(column_type: &str) -> ParsedColumnType {
        let text = column_type.trim();
        let (base, rest) = match text.find('(') {
            Some(open) => (&text[..open], &text[open..]),
            None => {
                let mut words = text.split_whitespace();
                let base = words.next().unwrap_or("");
                (base, &text[base.len()..])
            }
        };
        let mut out = ParsedColumnType {
            base: base.trim().to_ascii_lowercase(),
            ..ParsedColumnType::default()
        };
        let mut attributes = rest;
        if let Some(inner) = rest.strip_prefix('(') {
            let (args, after) = split_args(inner);
            out.args = args;
            attributes = after;
        }
        for word in attributes.split_whitespace() {
            match word.to_ascii_lowercase().as_str() {
                "unsigned" => out.unsigned = true,
                "zerofill" => {
                    // ZEROFILL implies UNSIGNED in MySQL.
                    out.zerofill = true;
                    out.unsigned = true;
                }
                _ => {}
            }
        }
        out
    }

    /// The members of an `enum(...)`/`set(...)` `COLUMN_TYPE`, unquoted and unescaped
    /// (`enum('a''b','c,d')` → `a'b`, `c,d`). `None` if the text is not a member list.
    pub fn parse_enum_values(column_type: &str) -> Option<Vec<String>> {
        let parsed = Column::parse_column_type(column_type);
        parsed
            .args
            .iter()
            .map(|a| unquote_sql_string(a.trim()))
            .collect()
    }

    /// Reads a `COLUMN_DEFAULT` value. `kind` lets the MySQL reading recognise
    /// `CURRENT_TIMESTAMP` only where it can be an expression (temporal columns).
    pub fn parse_default(
        raw: Option<&str>,
        style: DefaultStyle,
        kind: ColumnKind,
    ) -> ColumnDefault {
        let Some(raw) = raw else {
            return ColumnDefault::None;
        };
        let trimmed = raw.trim();
        match style {
            DefaultStyle::MySql => {
                if kind.is_temporal() && is_current_timestamp(trimmed) {
                    ColumnDefault::CurrentTimestamp
                } else {
                    ColumnDefault::Literal(raw.to_owned())
                }
            }
            DefaultStyle::MariaDb => parse_sql_default(trimmed).unwrap_or_else(|| {
                // Not a constant: an expression (or a literal of a form we do not know).
                ColumnDefault::Expression(trimmed.to_owned())
            }),
            DefaultStyle::Detect => match parse_sql_default(trimmed) {
                Some(d) => d,
                None if looks_like_expression(trimmed) => {
                    ColumnDefault::Expression(trimmed.to_owned())
                }
                // MySQL's raw literal text.
                None => ColumnDefault::Literal(raw.to_owned()),
            },
        }
    }

    /// Bits of a `BIT(n)` column (1 when unstated, as MySQL).
    pub fn bit_length(&self) -> u32 {
        self.length
            .or_else(|| self.numeric_precision.and_then(|p| u32::try_from(p).ok()))
            .unwrap_or(1)
    }

    /// Fractional-second digits of a `TIME`/`DATETIME`/`TIMESTAMP` column (0–6).
    pub fn time_precision(&self) -> u32 {
        self.datetime_precision
            .and_then(|p| u32::try_from(p).ok())
            .or(self.length)
            .unwrap_or(0)
    }

    /// Precision and scale of a `DECIMAL` column (`decimal` alone is `decimal(10,0)`).
    pub fn decimal_precision_scale(&self) -> (u32, u32) {
        let precision = self
            .length
            .or_else(|| self.numeric_precision.and_then(|p| u32::try_from(p).ok()))
            .unwrap_or(10);
        let scale = self
            .scale
            .or_else(|| self.numeric_scale.and_then(|s| u32::try_from(s).ok()))
            .unwrap_or(0);
        (precision, scale)
    }

    /// Whether a `FLOAT` column is single precision in Debezium's eyes: `FLOAT(M,D)` is
    /// read as a double (its DDL parser sees a scale), `FLOAT(p)` with p > 24 too.
    pub fn is_float32(&self) -> bool {
        self.kind == ColumnKind::Float && self.scale.is_none() && self.length.unwrap_or(0) <= 24
    }

    /// Bytes of a fixed-length `BINARY(n)` column, which the binlog stores with trailing
    /// zero bytes cut (Debezium pads them back, DBZ-254).
    pub fn fixed_binary_length(&self) -> Option<usize> {
        if self.data_type == "binary" {
            self.length
                .map(|l| l as usize)
                .or_else(|| self.char_max_length.map(|l| l as usize))
        } else {
            None
        }
    }
}

/// Splits `a,'b,c',d)rest` at top-level commas up to the closing parenthesis; returns the
/// arguments and the text after `)`.
fn split_args(inner: &str) -> (Vec<String>, &str) {
    let mut args = Vec::new();
    let mut current = String::new();
    let mut chars = inner.char_indices().peekable();
    let mut quote: Option<char> = None;
    let mut depth = 0usize;
    while let Some((i, c)) = chars.next() {
        match quote {
            Some(q) => {
                current.push(c);
                if c == '\\' {
                    if let Some((_, next)) = chars.next() {
                        current.push(next);
                    }
                } else if c == q {
                    if chars.peek().map(|&(_, n)| n) == Some(q) {
                        // A doubled quote stays inside the string.
                        current.push(q);
                        chars.next();
                    } else {
                        quote = None;
                    }
                }
            }
            None => match c {
                '\'' | '"' => {
                    quote = Some(c);
                    current.push(c);
                }
                '(' => {
                    depth += 1;
                    current.push(c);
                }
                ')' if depth > 0 => {
                    depth -= 1;
                    current.push(c);
                }
                ')' => {
                    args.push(current.trim().to_owned());
                    return (args, &inner[i + 1..]);
                }
                ',' if depth == 0 => args.push(std::mem::take(&mut current).trim().to_owned()),
                _ => current.push(c),
            },
        }
    }
    // No closing parenthesis: keep what was read.
    if !current.trim().is_empty() {
        args.push(current.trim().to_owned());
    }
    (args, "")
}

/// The value of an SQL string literal `'...'` (or `"..."`): doubled quotes and backslash
/// escapes resolved as MySQL reads them. `None` if `text` is not one quoted literal.
pub fn unquote_sql_string(text: &str) -> Option<String> {
    let quote = text.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let body = text.strip_prefix(quote)?.strip_suffix(quote)?;
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            let escaped = chars.next()?;
            match escaped {
                '0' => out.push('\0'),
                'b' => out.push('\u{8}'),
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                'Z' => out.push('\u{1a}'),
                // MySQL keeps the backslash before the LIKE wildcards.
                '%' | '_' => {
                    out.push('\\');
                    out.push(escaped);
                }
                other => out.push(other),
            }
        } else if c == quote {
            // Only a doubled quote may appear inside.
            if chars.next() != Some(quote) {
                return None;
            }
            out.push(quote);
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// MariaDB's `COLUMN_DEFAULT` when it is a constant: `NULL`, a quoted string, a number, a
/// bit or hex literal, a charset-introduced string, or `CURRENT_TIMESTAMP`.
fn parse_sql_default(text: &str) -> Option<ColumnDefault> {
    if text.eq_ignore_ascii_case("NULL") {
        return Some(ColumnDefault::None);
    }
    if let Some(s) = unquote_sql_string(text) {
        return Some(ColumnDefault::Literal(s));
    }
    if let Some(s) = strip_charset_introducer(text) {
        return Some(ColumnDefault::Literal(s));
    }
    if is_number(text) || is_bit_or_hex_literal(text) {
        return Some(ColumnDefault::Literal(text.to_owned()));
    }
    if is_current_timestamp(text) {
        return Some(ColumnDefault::CurrentTimestamp);
    }
    None
}

/// `_utf8mb4'abc'` (MySQL writes `_utf8mb4\'abc\'` for expression defaults) → `abc`.
fn strip_charset_introducer(text: &str) -> Option<String> {
    let rest = text.strip_prefix('_')?;
    let name_len = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|&n| n > 0)?;
    let literal = &rest[name_len..];
    if let Some(inner) = literal
        .strip_prefix("\\'")
        .and_then(|l| l.strip_suffix("\\'"))
    {
        return unquote_sql_string(&format!("'{}'", inner.replace("\\'", "''")));
    }
    unquote_sql_string(literal)
}

fn is_number(text: &str) -> bool {
    let t = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = !(int.is_empty() && frac.is_empty()) && digits(int) && digits(frac);
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok
}

fn is_bit_or_hex_literal(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    let quoted = |prefix: &str, ok: fn(u8) -> bool| {
        lower
            .strip_prefix(prefix)
            .and_then(|r| r.strip_suffix('\''))
            .is_some_and(|body| body.bytes().all(ok))
    };
    quoted("b'", |b| b == b'0' || b == b'1')
        || quoted("x'", |b| b.is_ascii_hexdigit())
        || lower
            .strip_prefix("0x")
            .is_some_and(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit()))
        || lower
            .strip_prefix("0b")
            .is_some_and(|h| !h.is_empty() && h.bytes().all(|b| b == b'0' || b == b'1'))
}

/// `CURRENT_TIMESTAMP`, `current_timestamp()`, `current_timestamp(6)`, `now()`,
/// `localtime`, `localtimestamp(3)` in any case.
pub(crate) fn is_current_timestamp(text: &str) -> bool {
    let lower = text.trim().to_ascii_lowercase();
    let name_end = lower
        .find(|c: char| !(c.is_ascii_alphabetic() || c == '_'))
        .unwrap_or(lower.len());
    let (name, rest) = lower.split_at(name_end);
    let known = matches!(
        name,
        "current_timestamp" | "now" | "localtime" | "localtimestamp"
    );
    let args_ok = rest.is_empty()
        || rest
            .trim()
            .strip_prefix('(')
            .and_then(|r| r.strip_suffix(')'))
            .is_some_and(|a| a.trim().bytes().all(|b| b.is_ascii_digit()));
    known && args_ok
}

/// A function call `name(...)` or a parenthesized expression: how both servers write
/// expression defaults.
fn looks_like_expression(text: &str) -> bool {
    if text.starts_with('(') && text.ends_with(')') {
        return true;
    }
    let name_end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    name_end > 0 && text[name_end..].starts_with('(') && text.ends_with(')')
}

/// Whether a literal default denotes one of MySQL's zero dates (`0000-00-00`,
/// `2020-00-01 00:00:00`, `0`), which Debezium reads as "no date".
pub(crate) fn is_zero_date_literal(text: &str) -> bool {
    let t = text.trim();
    t == "0" || temporal::parse_datetime(t).is_some_and(|d| d.is_zero_date())
}
