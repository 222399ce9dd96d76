//! MySQL and MariaDB: column types and the multi-row statements, with `?` placeholders bound
//! by the binary protocol (prepared once per distinct text, cached by the connection).

use super::{Dialect, InsertMode, Shape};
use crate::jdbc::types::ColumnKind;

const D: Dialect = Dialect::MySql;

pub fn column_type(kind: &ColumnKind, key: bool) -> String {
    match kind {
        ColumnKind::Int8 => "TINYINT".into(),
        ColumnKind::Int16 => "SMALLINT".into(),
        ColumnKind::Int32 => "INT".into(),
        ColumnKind::Int64 => "BIGINT".into(),
        ColumnKind::Float32 => "FLOAT".into(),
        ColumnKind::Float64 => "DOUBLE".into(),
        ColumnKind::Boolean => "BOOLEAN".into(),
        // InnoDB cannot index unbounded text: 255 utf8mb4 characters fit its key limit.
        ColumnKind::Text | ColumnKind::ZonedTime | ColumnKind::Nested if key => {
            "VARCHAR(255)".into()
        }
        ColumnKind::Text | ColumnKind::ZonedTime => "LONGTEXT".into(),
        ColumnKind::Bytes | ColumnKind::Geometry if key => "VARBINARY(255)".into(),
        ColumnKind::Bytes | ColumnKind::Geometry => "LONGBLOB".into(),
        ColumnKind::Decimal { precision, scale } => {
            let scale = (*scale).min(30);
            let precision = precision.unwrap_or(65).clamp(scale.max(1), 65);
            format!("DECIMAL({precision},{scale})")
        }
        ColumnKind::Date => "DATE".into(),
        ColumnKind::TimeOfDay => "TIME(3)".into(),
        ColumnKind::Duration(unit) => format!("TIME({})", unit.digits()),
        ColumnKind::Timestamp(unit) => format!("DATETIME({})", unit.digits()),
        // Written as UTC; DATETIME has no 2038 limit and no session time-zone conversion.
        ColumnKind::ZonedTimestamp => "DATETIME(6)".into(),
        ColumnKind::Year => "YEAR".into(),
        ColumnKind::Enum(allowed) => {
            enumeration("ENUM", allowed).unwrap_or_else(|| "VARCHAR(255)".into())
        }
        ColumnKind::EnumSet(allowed) => {
            enumeration("SET", allowed).unwrap_or_else(|| "VARCHAR(255)".into())
        }
        ColumnKind::Bits(Some(n)) if (1..=64).contains(n) => format!("BIT({n})"),
        ColumnKind::Bits(_) => "LONGBLOB".into(),
        ColumnKind::Json | ColumnKind::Nested => "JSON".into(),
        ColumnKind::Uuid => "CHAR(36)".into(),
    }
}

/// `ENUM('a','b')` as the source declared it, or `None` when a value could not be written
/// safely as a literal whatever the server's `sql_mode` (a backslash or control character):
/// the column is then a `VARCHAR`.
fn enumeration(kind: &str, allowed: &[String]) -> Option<String> {
    if allowed.is_empty()
        || allowed
            .iter()
            .any(|v| v.contains('\\') || v.chars().any(char::is_control))
    {
        return None;
    }
    let values: Vec<String> = allowed
        .iter()
        .map(|v| format!("'{}'", v.replace('\'', "''")))
        .collect();
    Some(format!("{kind}({})", values.join(",")))
}

fn placeholders_row(n: usize) -> String {
    let mut s = String::with_capacity(2 * n + 2);
    s.push('(');
    for i in 0..n {
        if i > 0 {
            s.push(',');
        }
        s.push('?');
    }
    s.push(')');
    s
}

/// `INSERT … VALUES (…),(…) [ON DUPLICATE KEY UPDATE …]` for `rows` rows (insert and upsert
/// modes). An upsert of a table whose columns are all key columns updates a key column to
/// itself, which is MySQL's no-op form.
pub fn insert(shape: Shape<'_>, rows: usize, mode: InsertMode) -> String {
    let columns: Vec<String> = shape.columns.iter().map(|c| D.quote(&c.name)).collect();
    let row = placeholders_row(columns.len());
    let mut sql = format!(
        "INSERT INTO {} ({}) VALUES ",
        D.table(shape.table),
        columns.join(",")
    );
    sql.reserve((row.len() + 1) * rows + 64);
    for i in 0..rows {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str(&row);
    }
    if mode == InsertMode::Upsert {
        let mut updates: Vec<String> = shape
            .value_columns()
            .map(|c| {
                let q = D.quote(&c.name);
                format!("{q}=VALUES({q})")
            })
            .collect();
        if updates.is_empty() {
            updates = shape
                .key_columns()
                .take(1)
                .map(|c| {
                    let q = D.quote(&c.name);
                    format!("{q}={q}")
                })
                .collect();
        }
        sql.push_str(" ON DUPLICATE KEY UPDATE ");
        sql.push_str(&updates.join(","));
    }
    sql
}

/// `UPDATE … SET <values> WHERE <keys>` for one row (update mode); parameters: the value
/// columns in order, then the key columns. `None` when there is nothing to set.
pub fn update(shape: Shape<'_>) -> Option<String> {
    let sets: Vec<String> = shape
        .value_columns()
        .map(|c| format!("{}=?", D.quote(&c.name)))
        .collect();
    if sets.is_empty() {
        return None;
    }
    let keys: Vec<String> = shape
        .key_columns()
        .map(|c| format!("{}=?", D.quote(&c.name)))
        .collect();
    Some(format!(
        "UPDATE {} SET {} WHERE {}",
        D.table(shape.table),
        sets.join(","),
        keys.join(" AND ")
    ))
}

/// `DELETE … WHERE key IN (…)` (one key column) or `WHERE (k1=? AND k2=?) OR …` (composite
/// keys) for `rows` keys; parameters: the key columns of each row in order.
pub fn delete(shape: Shape<'_>, rows: usize) -> String {
    let keys: Vec<String> = shape.key_columns().map(|c| D.quote(&c.name)).collect();
    let table = D.table(shape.table);
    if keys.len() == 1 {
        let marks = vec!["?"; rows].join(",");
        format!("DELETE FROM {table} WHERE {} IN ({marks})", keys[0])
    } else {
        let one = format!(
            "({})",
            keys.iter()
                .map(|k| format!("{k}=?"))
                .collect::<Vec<_>>()
                .join(" AND ")
        );
        format!("DELETE FROM {table} WHERE {}", vec![one; rows].join(" OR "))
    }
}
