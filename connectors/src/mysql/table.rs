//! One captured table: its columns, primary key, topic and the Connect schemas of its events.

use std::sync::Arc;

use tributary_runtime::data::{SchemaBuilder, SchemaRef, Struct, Value};
use tributary_runtime::envelope::TableSchemas;

use super::config::MySqlConfig;
use super::schemas;
use super::table_changes::TableExtras;
use super::types::{connect_schema, Column};

/// `db.table`, as Debezium names tables in offsets and filters.
pub fn full_name(db: &str, table: &str) -> String {
    format!("{db}.{table}")
}

#[derive(Clone, Debug)]
pub struct Table {
    pub db: String,
    pub name: String,
    /// Every column, in ordinal order (binlog rows are positional).
    pub columns: Vec<Column>,
    /// Indexes of the columns published in events, in order.
    pub captured: Vec<usize>,
    /// Indexes of the primary-key columns, in key order.
    pub key: Vec<usize>,
    pub topic: String,
    pub schemas: Arc<TableSchemas>,
    /// What only schema-change records need (default charset, auto-increment columns).
    pub extras: TableExtras,
    /// Mask length per captured column (`column.mask.with.N.chars`).
    masks: Vec<Option<usize>>,
    /// Longest string per captured column (`column.truncate.to.N.chars`).
    truncations: Vec<Option<usize>>,
}

impl Table {
    pub fn new(
        db: &str,
        name: &str,
        columns: Vec<Column>,
        key_names: &[String],
        config: &MySqlConfig,
    ) -> Table {
        let captured: Vec<usize> = (0..columns.len())
            .filter(|i| config.filters.column(db, name, &columns[*i].name))
            .collect();
        let key: Vec<usize> = key_names
            .iter()
            .filter_map(|k| columns.iter().position(|c| &c.name == k))
            .collect();
        let lengths = |rules: &super::config::ColumnLengths| -> Vec<Option<usize>> {
            captured
                .iter()
                .map(|i| rules.length_for(&format!("{db}.{name}.{}", columns[*i].name)))
                .collect()
        };
        let masks = lengths(&config.masks);
        let truncations = lengths(&config.truncations);
        let schema_of = |i: usize, mask: Option<usize>| -> SchemaRef {
            match mask {
                // A masked column is a string of asterisks whatever its type (Debezium).
                Some(_) => SchemaBuilder::string()
                    .optional_if(columns[i].nullable)
                    .build_ref(),
                None => connect_schema(&columns[i], &config.modes),
            }
        };
        let row_fields: Vec<(String, SchemaRef)> = captured
            .iter()
            .zip(&masks)
            .map(|(i, m)| (columns[*i].name.clone(), schema_of(*i, *m)))
            .collect();
        let key_fields: Vec<(String, SchemaRef)> = key
            .iter()
            .map(|i| {
                (
                    columns[*i].name.clone(),
                    connect_schema(&columns[*i], &config.modes),
                )
            })
            .collect();
        let base = format!("{}.{db}.{name}", config.topic_prefix);
        let schemas = TableSchemas::new(&base, &key_fields, &row_fields, schemas::source());
        Table {
            db: db.to_owned(),
            name: name.to_owned(),
            columns,
            captured,
            key,
            topic: base,
            schemas: Arc::new(schemas),
            extras: TableExtras::default(),
            masks,
            truncations,
        }
    }

    pub fn full_name(&self) -> String {
        full_name(&self.db, &self.name)
    }

    /// The row struct from per-column values (indexed like `columns`), masking and truncating
    /// as configured.
    /// Each captured column is asked for once, so `value_of` may move values out of its row.
    pub fn row(
        &self,
        mut value_of: impl FnMut(usize) -> Result<Value, String>,
    ) -> Result<Struct, String> {
        let mut values = Vec::with_capacity(self.captured.len());
        for (slot, &i) in self.captured.iter().enumerate() {
            let v = value_of(i).map_err(|e| format!("column {}: {e}", self.columns[i].name))?;
            values.push(match (self.masks[slot], self.truncations[slot], v) {
                (Some(n), _, v) if !v.is_null() => Value::String("*".repeat(n)),
                (None, Some(n), Value::String(s)) => Value::String(truncated(s, n)),
                (_, _, v) => v,
            });
        }
        Ok(Struct {
            schema: self.schemas.row.clone(),
            values,
        })
    }

    /// The key struct from per-column values; `None` for a table without a primary key. Keys
    /// are neither masked nor truncated (Debezium's column rules apply to the row).
    pub fn key_of(
        &self,
        mut value_of: impl FnMut(usize) -> Result<Value, String>,
    ) -> Result<Option<Struct>, String> {
        let Some(schema) = &self.schemas.key else {
            return Ok(None);
        };
        let mut values = Vec::with_capacity(self.key.len());
        for &i in &self.key {
            values.push(
                value_of(i).map_err(|e| format!("key column {}: {e}", self.columns[i].name))?,
            );
        }
        Ok(Some(Struct {
            schema: schema.clone(),
            values,
        }))
    }
}

/// The first `n` characters of `s` (Debezium's `TruncateStrings`; it counts UTF-16 units, which
/// differs only for characters outside the Basic Multilingual Plane).
fn truncated(mut s: String, n: usize) -> String {
    if let Some((at, _)) = s.char_indices().nth(n) {
        s.truncate(at);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::truncated;

    #[test]
    fn strings_are_cut_at_a_character_count() {
        assert_eq!(truncated("héllo".into(), 2), "hé");
        assert_eq!(truncated("abc".into(), 3), "abc");
        assert_eq!(truncated("abc".into(), 0), "");
    }
}
