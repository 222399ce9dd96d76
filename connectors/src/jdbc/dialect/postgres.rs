//! PostgreSQL: rows are streamed with `COPY … FROM STDIN` (text format) into a temporary
//! staging table shaped like the target, then moved by one set-based statement
//! (`INSERT … SELECT … ON CONFLICT DO UPDATE`, `UPDATE … FROM`, `DELETE … USING`). Inserts and
//! upserts first try a COPY straight into the target (`db/direct_copy.rs` says when).
//!
//! COPY is PostgreSQL's fastest way in (docs/benchmarks.md has the rates), and its
//! text format lets PostgreSQL parse every value with the column's own input function, so a
//! value that does not fit fails exactly as an INSERT of it would.

use super::{Dialect, InsertMode, Shape};
use crate::jdbc::cell::Cell;
use crate::jdbc::time::{format_date, format_duration, format_timestamp};
use crate::jdbc::types::ColumnKind;

const D: Dialect = Dialect::Postgres;

pub fn column_type(kind: &ColumnKind) -> String {
    match kind {
        ColumnKind::Int8 | ColumnKind::Int16 => "SMALLINT".into(),
        ColumnKind::Int32 => "INTEGER".into(),
        ColumnKind::Int64 => "BIGINT".into(),
        ColumnKind::Float32 => "REAL".into(),
        ColumnKind::Float64 => "DOUBLE PRECISION".into(),
        ColumnKind::Boolean => "BOOLEAN".into(),
        ColumnKind::Text | ColumnKind::ZonedTime | ColumnKind::Enum(_) | ColumnKind::EnumSet(_) => {
            "TEXT".into()
        }
        ColumnKind::Bytes | ColumnKind::Geometry => "BYTEA".into(),
        ColumnKind::Decimal {
            precision: Some(p),
            scale,
        } if *p >= 1 && *p <= 1000 && scale <= p => format!("NUMERIC({p},{scale})"),
        ColumnKind::Decimal { .. } => "NUMERIC".into(),
        ColumnKind::Date => "DATE".into(),
        ColumnKind::TimeOfDay => "TIME(3)".into(),
        // MySQL's TIME is an elapsed time (negative, or beyond 24 h): only interval holds it.
        ColumnKind::Duration(_) => "INTERVAL".into(),
        ColumnKind::Timestamp(unit) => format!("TIMESTAMP({})", unit.digits()),
        ColumnKind::ZonedTimestamp => "TIMESTAMPTZ(6)".into(),
        ColumnKind::Year => "INTEGER".into(),
        ColumnKind::Bits(Some(n)) if *n >= 1 => format!("BIT({n})"),
        ColumnKind::Bits(_) => "BIT VARYING".into(),
        // json, not jsonb: keeps the text exactly as the source had it.
        ColumnKind::Json | ColumnKind::Nested => "JSON".into(),
        ColumnKind::Uuid => "UUID".into(),
    }
}

/// A temporary table with the target's column types and no constraints, emptied at every
/// commit. Created once per connection and shape.
pub fn create_stage(stage: &str, shape: Shape<'_>) -> String {
    let columns: Vec<String> = shape.columns.iter().map(|c| D.quote(&c.name)).collect();
    format!(
        "CREATE TEMP TABLE {} ON COMMIT DELETE ROWS AS SELECT {} FROM {} WITH NO DATA",
        D.quote(stage),
        columns.join(", "),
        D.table(shape.table)
    )
}

pub fn copy_into_stage(stage: &str, shape: Shape<'_>) -> String {
    copy_from_stdin(&format!("pg_temp.{}", D.quote(stage)), shape)
}

/// Whether the table named by `$1` (as the statements name it, resolved by `search_path`)
/// has rules `ON INSERT`.
pub const HAS_INSERT_RULES: &str = "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_rewrite \
     WHERE ev_class = $1::text::regclass AND ev_type = '3')";

/// COPY straight into the target: an upsert of keys the table does not hold yet (see
/// `db/direct_copy.rs`).
pub fn copy_into_table(shape: Shape<'_>) -> String {
    copy_from_stdin(&D.table(shape.table), shape)
}

fn copy_from_stdin(into: &str, shape: Shape<'_>) -> String {
    let columns: Vec<String> = shape.columns.iter().map(|c| D.quote(&c.name)).collect();
    format!("COPY {into} ({}) FROM STDIN", columns.join(", "))
}

/// Moves the staged rows into the target according to `mode`.
pub fn merge(stage: &str, shape: Shape<'_>, mode: InsertMode) -> String {
    let table = D.table(shape.table);
    let stage = format!("pg_temp.{}", D.quote(stage));
    let columns: Vec<String> = shape.columns.iter().map(|c| D.quote(&c.name)).collect();
    let list = columns.join(", ");
    let keys: Vec<String> = shape.key_columns().map(|c| D.quote(&c.name)).collect();
    match mode {
        InsertMode::Insert => format!("INSERT INTO {table} ({list}) SELECT {list} FROM {stage}"),
        InsertMode::Upsert => {
            let sets: Vec<String> = shape
                .value_columns()
                .map(|c| {
                    let q = D.quote(&c.name);
                    format!("{q} = EXCLUDED.{q}")
                })
                .collect();
            let action = if sets.is_empty() {
                "DO NOTHING".to_owned()
            } else {
                format!("DO UPDATE SET {}", sets.join(", "))
            };
            format!(
                "INSERT INTO {table} ({list}) SELECT {list} FROM {stage} ON CONFLICT ({}) {action}",
                keys.join(", ")
            )
        }
        InsertMode::Update => {
            let sets: Vec<String> = shape
                .value_columns()
                .map(|c| {
                    let q = D.quote(&c.name);
                    format!("{q} = s.{q}")
                })
                .collect();
            if sets.is_empty() {
                // Nothing to change on a key-only row; a statement that touches nothing.
                return format!("SELECT 1 FROM {stage} WHERE false");
            }
            format!(
                "UPDATE {table} AS t SET {} FROM {stage} AS s WHERE {}",
                sets.join(", "),
                key_match(&keys)
            )
        }
    }
}

/// Deletes the target rows whose keys are staged (the stage holds the key columns only).
pub fn delete(stage: &str, shape: Shape<'_>) -> String {
    let keys: Vec<String> = shape.key_columns().map(|c| D.quote(&c.name)).collect();
    format!(
        "DELETE FROM {} AS t USING pg_temp.{} AS s WHERE {}",
        D.table(shape.table),
        D.quote(stage),
        key_match(&keys)
    )
}

fn key_match(keys: &[String]) -> String {
    keys.iter()
        .map(|k| format!("t.{k} = s.{k}"))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// Appends one row in COPY's text format: tab-separated, `\N` for null, backslash escapes.
pub fn copy_row(out: &mut Vec<u8>, cells: &[&Cell]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(b'\t');
        }
        copy_cell(out, cell);
    }
    out.push(b'\n');
}

fn copy_cell(out: &mut Vec<u8>, cell: &Cell) {
    match cell {
        Cell::Null => out.extend_from_slice(b"\\N"),
        Cell::Bool(b) => out.push(if *b { b't' } else { b'f' }),
        Cell::Int(v) => out.extend_from_slice(v.to_string().as_bytes()),
        Cell::Float32(v) => escaped(out, &float_text(f64::from(*v), v.to_string())),
        Cell::Float64(v) => escaped(out, &float_text(*v, format!("{v:e}"))),
        Cell::Text(s) | Cell::Decimal(s) | Cell::Json(s) => escaped(out, s),
        Cell::Bytes(b) => {
            // bytea hex input `\x0102`, its backslash escaped for COPY.
            out.extend_from_slice(b"\\\\x");
            for byte in b {
                out.extend_from_slice(format!("{byte:02x}").as_bytes());
            }
        }
        Cell::Date(d) => out.extend_from_slice(format_date(i64::from(*d)).as_bytes()),
        Cell::TimeOfDay(v) | Cell::Duration(v) => {
            out.extend_from_slice(format_duration(*v).as_bytes())
        }
        Cell::Timestamp(v) => out.extend_from_slice(format_timestamp(*v).as_bytes()),
        Cell::TimestampTz(v) => {
            out.extend_from_slice(format_timestamp(*v).as_bytes());
            out.extend_from_slice(b"+00");
        }
        Cell::Bits(bytes, length) => {
            out.extend_from_slice(Cell::bits_as_text(bytes, *length).as_bytes())
        }
    }
}

/// PostgreSQL's spelling of non-finite floats; finite ones in the given text.
fn float_text(v: f64, finite: String) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        finite
    }
}

fn escaped(out: &mut Vec<u8>, s: &str) {
    for b in s.bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(b),
        }
    }
}
