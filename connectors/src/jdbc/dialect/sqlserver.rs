//! SQL Server: multi-row `MERGE … USING (VALUES …)` with `@Pn` parameters (tiberius sends
//! them through `sp_executesql`, which caches the plan per statement text).
//!
//! Every parameter is wrapped in `CAST(@Pn AS <column type>)`: the VALUES list then has the
//! target's types whatever type the driver gave the parameter (temporal values and decimals
//! travel as text), and NULLs need no type of their own.

use super::{Dialect, InsertMode, Shape};
use crate::jdbc::types::ColumnKind;

const D: Dialect = Dialect::SqlServer;

pub fn column_type(kind: &ColumnKind, key: bool) -> String {
    match kind {
        // TINYINT is unsigned in SQL Server.
        ColumnKind::Int8 | ColumnKind::Int16 => "SMALLINT".into(),
        ColumnKind::Int32 | ColumnKind::Year => "INT".into(),
        ColumnKind::Int64 => "BIGINT".into(),
        ColumnKind::Float32 => "REAL".into(),
        ColumnKind::Float64 => "FLOAT".into(),
        ColumnKind::Boolean => "BIT".into(),
        // Index keys are limited to 900 bytes (450 UTF-16 characters).
        ColumnKind::Text | ColumnKind::Json | ColumnKind::Nested if key => "NVARCHAR(450)".into(),
        ColumnKind::Text | ColumnKind::Json | ColumnKind::Nested => "NVARCHAR(MAX)".into(),
        ColumnKind::ZonedTime => "NVARCHAR(64)".into(),
        ColumnKind::Enum(_) => "NVARCHAR(255)".into(),
        ColumnKind::EnumSet(_) if key => "NVARCHAR(450)".into(),
        ColumnKind::EnumSet(_) => "NVARCHAR(MAX)".into(),
        ColumnKind::Bytes | ColumnKind::Geometry | ColumnKind::Bits(_) if key => {
            "VARBINARY(900)".into()
        }
        ColumnKind::Bytes | ColumnKind::Geometry | ColumnKind::Bits(_) => "VARBINARY(MAX)".into(),
        ColumnKind::Decimal { precision, scale } => {
            let precision = precision.unwrap_or(38).clamp(1, 38);
            format!("DECIMAL({precision},{})", (*scale).min(precision))
        }
        ColumnKind::Date => "DATE".into(),
        ColumnKind::TimeOfDay => "TIME(3)".into(),
        ColumnKind::Duration(unit) => format!("TIME({})", unit.digits()),
        ColumnKind::Timestamp(unit) => format!("DATETIME2({})", unit.digits()),
        ColumnKind::ZonedTimestamp => "DATETIMEOFFSET(6)".into(),
        ColumnKind::Uuid => "UNIQUEIDENTIFIER".into(),
    }
}

/// An `N'…'` string literal (for `OBJECT_ID`).
pub fn literal(text: &str) -> String {
    format!("N'{}'", text.replace('\'', "''"))
}

/// `(CAST(@P1 AS t1), CAST(@P2 AS t2)), …` for `rows` rows, numbering from `@P1`.
fn values(shape: Shape<'_>, rows: usize) -> String {
    let types: Vec<String> = shape
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| column_type(&c.kind, shape.is_key(i)))
        .collect();
    let mut n = 0;
    let mut out = Vec::with_capacity(rows);
    for _ in 0..rows {
        let row: Vec<String> = types
            .iter()
            .map(|t| {
                n += 1;
                format!("CAST(@P{n} AS {t})")
            })
            .collect();
        out.push(format!("({})", row.join(", ")));
    }
    out.join(",\n  ")
}

/// The write of `rows` rows: a plain INSERT (insert mode) or a MERGE that updates matched
/// keys and, in upsert mode, inserts the others. Parameters: every column of every row.
pub fn write(shape: Shape<'_>, rows: usize, mode: InsertMode) -> String {
    let table = D.table(shape.table);
    let columns: Vec<String> = shape.columns.iter().map(|c| D.quote(&c.name)).collect();
    let list = columns.join(", ");
    let values = values(shape, rows);
    if mode == InsertMode::Insert {
        return format!("INSERT INTO {table} ({list}) VALUES\n  {values};");
    }
    let on: Vec<String> = shape
        .key_columns()
        .map(|c| {
            let q = D.quote(&c.name);
            format!("T.{q} = S.{q}")
        })
        .collect();
    let sets: Vec<String> = shape
        .value_columns()
        .map(|c| {
            let q = D.quote(&c.name);
            format!("T.{q} = S.{q}")
        })
        .collect();
    let mut sql = format!(
        "MERGE INTO {table} WITH (HOLDLOCK) AS T\nUSING (VALUES\n  {values}\n) AS S ({list})\nON ({})",
        on.join(" AND ")
    );
    if !sets.is_empty() {
        sql.push_str(&format!(
            "\nWHEN MATCHED THEN UPDATE SET {}",
            sets.join(", ")
        ));
    }
    if mode == InsertMode::Upsert {
        let source: Vec<String> = columns.iter().map(|c| format!("S.{c}")).collect();
        sql.push_str(&format!(
            "\nWHEN NOT MATCHED THEN INSERT ({list}) VALUES ({})",
            source.join(", ")
        ));
    }
    sql.push(';');
    sql
}

/// Deletes `rows` keys; parameters: the key columns of each row in order.
pub fn delete(shape: Shape<'_>, rows: usize) -> String {
    let keys: Vec<(String, String)> = shape
        .key_columns()
        .map(|c| (D.quote(&c.name), column_type(&c.kind, true)))
        .collect();
    let mut n = 0;
    let mut next = |t: &str| {
        n += 1;
        format!("CAST(@P{n} AS {t})")
    };
    let table = D.table(shape.table);
    if let [(key, ty)] = keys.as_slice() {
        let params: Vec<String> = (0..rows).map(|_| next(ty)).collect();
        format!(
            "DELETE FROM {table} WHERE {key} IN ({});",
            params.join(", ")
        )
    } else {
        let conditions: Vec<String> = (0..rows)
            .map(|_| {
                let parts: Vec<String> = keys
                    .iter()
                    .map(|(k, t)| format!("{k} = {}", next(t)))
                    .collect();
                format!("({})", parts.join(" AND "))
            })
            .collect();
        format!("DELETE FROM {table} WHERE {};", conditions.join(" OR "))
    }
}
