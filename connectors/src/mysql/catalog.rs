//! The table model, read from the server's `information_schema` and reconciled with the binlog.
//!
//! Why not a schema-history topic: replaying DDL exactly needs a complete MySQL/MariaDB DDL
//! parser, and any statement it gets wrong corrupts every later event. Instead the binlog
//! itself says which columns each rows event has: with `binlog_row_metadata=FULL` (MySQL
//! 8.0.1+, MariaDB 10.5+) every TABLE_MAP names its columns, and the model for an event is the
//! catalog's definitions of exactly those columns, in the binlog's order. That is exact at any
//! resume point, even when the catalog has moved on, for columns added or dropped later; a
//! column that no longer exists stops the task with a message (a new snapshot is needed). The
//! catalog is read when streaming starts and again whenever DDL for a captured database passes
//! in the binlog. Without FULL metadata the catalog is used as long as its column count matches
//! the TABLE_MAP, and the task stops otherwise rather than publish values under wrong columns.

use std::collections::HashMap;
use std::sync::Arc;

use mysql_async::prelude::Queryable;
use mysql_async::Conn;

use super::config::MySqlConfig;
use super::table::Table;
use super::types::{Column, ColumnInfo};

#[derive(Default)]
pub struct Catalog {
    tables: HashMap<(String, String), Arc<Table>>,
    /// Models of tables as earlier binlog events describe them (other column lists than the
    /// catalog's), so their records share schemas.
    versions: HashMap<(String, String, Vec<String>), Arc<Table>>,
}

impl Catalog {
    pub fn table(&self, db: &str, name: &str) -> Option<Arc<Table>> {
        self.tables.get(&(db.to_owned(), name.to_owned())).cloned()
    }

    /// `table` with exactly the columns `names`, in that order (the binlog's view of it).
    pub fn as_of(
        &mut self,
        config: &MySqlConfig,
        table: &Arc<Table>,
        names: &[String],
    ) -> Result<Arc<Table>, String> {
        if table.columns.len() == names.len()
            && table.columns.iter().zip(names).all(|(c, n)| &c.name == n)
        {
            return Ok(table.clone());
        }
        let key = (table.db.clone(), table.name.clone(), names.to_vec());
        if let Some(t) = self.versions.get(&key) {
            return Ok(t.clone());
        }
        let mut columns = Vec::with_capacity(names.len());
        for n in names {
            let column = table.columns.iter().find(|c| &c.name == n).ok_or_else(|| {
                format!(
                    "column {n} of {} is in the binlog but no longer in the table (dropped or renamed later); \
                     reset the connector's offsets to take a new snapshot",
                    table.full_name()
                )
            })?;
            columns.push(column.clone());
        }
        let key_names: Vec<String> = table
            .key
            .iter()
            .map(|i| table.columns[*i].name.clone())
            .collect();
        let versioned = Arc::new(Table::new(
            &table.db,
            &table.name,
            columns,
            &key_names,
            config,
        ));
        self.versions.insert(key, versioned.clone());
        Ok(versioned)
    }

    pub fn tables(&self) -> Vec<Arc<Table>> {
        let mut all: Vec<Arc<Table>> = self.tables.values().cloned().collect();
        all.sort_by_key(|t| t.full_name());
        all
    }

    /// Reads every captured table (of `only_db` when given), replacing what was known of them.
    pub async fn load(
        &mut self,
        conn: &mut Conn,
        config: &MySqlConfig,
        only_db: Option<&str>,
    ) -> Result<Vec<String>, mysql_async::Error> {
        let mut query = String::from(
            "SELECT c.TABLE_SCHEMA, c.TABLE_NAME, c.COLUMN_NAME, c.ORDINAL_POSITION, c.DATA_TYPE, c.COLUMN_TYPE, \
             c.IS_NULLABLE, c.COLUMN_DEFAULT, c.CHARACTER_SET_NAME, c.CHARACTER_MAXIMUM_LENGTH, c.NUMERIC_PRECISION, \
             c.NUMERIC_SCALE, c.DATETIME_PRECISION \
             FROM information_schema.COLUMNS c JOIN information_schema.TABLES t \
               ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME \
             WHERE t.TABLE_TYPE = 'BASE TABLE' AND c.TABLE_SCHEMA NOT IN ('mysql','information_schema','performance_schema','sys')",
        );
        let mut params: Vec<mysql_async::Value> = Vec::new();
        if let Some(db) = only_db {
            query.push_str(" AND c.TABLE_SCHEMA = ?");
            params.push(db.into());
        }
        query.push_str(" ORDER BY c.TABLE_SCHEMA, c.TABLE_NAME, c.ORDINAL_POSITION");
        let rows: Vec<mysql_async::Row> = conn.exec(query, params.clone()).await?;
        let mut pk_query = String::from(
            "SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE \
             WHERE CONSTRAINT_NAME = 'PRIMARY'",
        );
        if only_db.is_some() {
            pk_query.push_str(" AND TABLE_SCHEMA = ?");
        }
        pk_query.push_str(" ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION");
        let pk_rows: Vec<(String, String, String)> = conn.exec(pk_query, params).await?;
        let mut keys: HashMap<(String, String), Vec<String>> = HashMap::new();
        for (db, t, c) in pk_rows {
            keys.entry((db, t)).or_default().push(c);
        }
        let mut columns: Vec<((String, String), Vec<Column>)> = Vec::new();
        for mut row in rows {
            let text = |row: &mut mysql_async::Row, i: usize| -> Option<String> {
                row.take::<Option<String>, _>(i).flatten()
            };
            let number = |row: &mut mysql_async::Row, i: usize| -> Option<u64> {
                row.take::<Option<u64>, _>(i).flatten()
            };
            let db = text(&mut row, 0).unwrap_or_default();
            let t = text(&mut row, 1).unwrap_or_default();
            let name = text(&mut row, 2).unwrap_or_default();
            let position = number(&mut row, 3).unwrap_or(0);
            let data_type = text(&mut row, 4).unwrap_or_default().to_ascii_lowercase();
            let column_type = text(&mut row, 5).unwrap_or_default();
            let nullable = text(&mut row, 6).unwrap_or_default();
            let default = text(&mut row, 7);
            let charset = text(&mut row, 8);
            let char_len = number(&mut row, 9);
            let precision = number(&mut row, 10);
            let scale = number(&mut row, 11);
            let dt_precision = number(&mut row, 12);
            if !config.filters.table(&db, &t) {
                continue;
            }
            let column = Column::from_information_schema(ColumnInfo {
                name,
                position: position as u32,
                data_type,
                column_type,
                nullable: nullable.eq_ignore_ascii_case("YES"),
                default,
                charset,
                char_max_length: char_len,
                numeric_precision: precision,
                numeric_scale: scale,
                datetime_precision: dt_precision,
            });
            match columns.last_mut() {
                Some((id, cols)) if id.0 == db && id.1 == t => cols.push(column),
                _ => columns.push(((db, t), vec![column])),
            }
        }
        if let Some(db) = only_db {
            self.tables.retain(|(d, _), _| d != db);
        } else {
            self.tables.clear();
        }
        let mut loaded = Vec::new();
        for ((db, t), cols) in columns {
            let key = keys
                .get(&(db.clone(), t.clone()))
                .cloned()
                .unwrap_or_default();
            let table = Table::new(&db, &t, cols, &key, config);
            loaded.push(table.full_name());
            self.tables.insert((db, t), Arc::new(table));
        }
        Ok(loaded)
    }
}
