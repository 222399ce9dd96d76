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

use super::config::{MySqlConfig, SchemaScope};
use super::table::Table;
use super::table_changes::TableExtras;
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
        let mut versioned = Table::new(&table.db, &table.name, columns, &key_names, config);
        versioned.extras = table.extras.clone();
        let versioned = Arc::new(versioned);
        self.versions.insert(key, versioned.clone());
        Ok(versioned)
    }

    pub fn tables(&self) -> Vec<Arc<Table>> {
        let mut all: Vec<Arc<Table>> = self.tables.values().cloned().collect();
        all.sort_by_key(|t| t.full_name());
        all
    }

    /// Replaces what is known with the tables of `all` that the filters capture (`all` read
    /// with [`schema_tables`], so that a snapshot reads the catalog once).
    pub fn replace(&mut self, config: &MySqlConfig, all: &[Table]) {
        self.tables = all
            .iter()
            .filter(|t| config.filters.table(&t.db, &t.name))
            .map(|t| ((t.db.clone(), t.name.clone()), Arc::new(t.clone())))
            .collect();
    }

    /// Reads every captured table (of `only_db` when given), replacing what was known of them.
    pub async fn load(
        &mut self,
        conn: &mut Conn,
        config: &MySqlConfig,
        only_db: Option<&str>,
    ) -> Result<Vec<String>, mysql_async::Error> {
        let tables = read(conn, config, only_db, None, SchemaScope::CapturedTables).await?;
        if let Some(db) = only_db {
            self.tables.retain(|(d, _), _| d != db);
        } else {
            self.tables.clear();
        }
        let mut loaded = Vec::new();
        for table in tables {
            loaded.push(table.full_name());
            self.tables
                .insert((table.db.clone(), table.name.clone()), Arc::new(table));
        }
        Ok(loaded)
    }
}

/// The tables a snapshot's schema-change records describe, ordered by database and name: by
/// default, as Debezium, every table of every database but the system ones, whatever the
/// filters say (`config.schema_scope` narrows that to the captured databases or tables).
pub async fn schema_tables(
    conn: &mut Conn,
    config: &MySqlConfig,
) -> Result<Vec<Table>, mysql_async::Error> {
    let mut tables = read(conn, config, None, None, config.schema_scope).await?;
    tables.sort_by(|a, b| (&a.db, &a.name).cmp(&(&b.db, &b.name)));
    Ok(tables)
}

/// One table of a captured database as the server describes it now, whatever the table filters
/// say (for the schema change of a table the catalog does not hold).
pub async fn describe(
    conn: &mut Conn,
    config: &MySqlConfig,
    db: &str,
    name: &str,
) -> Result<Option<Table>, mysql_async::Error> {
    Ok(read(
        conn,
        config,
        Some(db),
        Some(name),
        SchemaScope::CapturedDatabases,
    )
    .await?
    .into_iter()
    .next())
}

/// Reads the base tables (of `only_db`, `only_table` when given) in `scope`; never those of
/// the system databases.
async fn read(
    conn: &mut Conn,
    config: &MySqlConfig,
    only_db: Option<&str>,
    only_table: Option<&str>,
    scope: SchemaScope,
) -> Result<Vec<Table>, mysql_async::Error> {
    let wanted = |db: &str, t: &str| match scope {
        SchemaScope::CapturedTables => config.filters.table(db, t),
        SchemaScope::CapturedDatabases => config.filters.database(db),
        SchemaScope::AllDatabases => true,
    };
    let mut params: Vec<mysql_async::Value> = Vec::new();
    let mut scope = String::new();
    if let Some(db) = only_db {
        scope.push_str(" AND t.TABLE_SCHEMA = ?");
        params.push(db.into());
    }
    if let Some(table) = only_table {
        scope.push_str(" AND t.TABLE_NAME = ?");
        params.push(table.into());
    }
    let query = format!(
        "SELECT c.TABLE_SCHEMA, c.TABLE_NAME, c.COLUMN_NAME, c.ORDINAL_POSITION, c.DATA_TYPE, c.COLUMN_TYPE, \
         c.IS_NULLABLE, c.COLUMN_DEFAULT, c.CHARACTER_SET_NAME, c.CHARACTER_MAXIMUM_LENGTH, c.NUMERIC_PRECISION, \
         c.NUMERIC_SCALE, c.DATETIME_PRECISION, c.EXTRA \
         FROM information_schema.COLUMNS c JOIN information_schema.TABLES t \
           ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME \
         WHERE t.TABLE_TYPE = 'BASE TABLE' AND c.TABLE_SCHEMA NOT IN ('mysql','information_schema','performance_schema','sys'){scope} \
         ORDER BY c.TABLE_SCHEMA, c.TABLE_NAME, c.ORDINAL_POSITION"
    );
    let rows: Vec<mysql_async::Row> = conn.exec(query, params.clone()).await?;
    let pk_query = format!(
        "SELECT t.TABLE_SCHEMA, t.TABLE_NAME, t.COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE t \
         WHERE t.CONSTRAINT_NAME = 'PRIMARY'{scope} ORDER BY t.TABLE_SCHEMA, t.TABLE_NAME, t.ORDINAL_POSITION"
    );
    let pk_rows: Vec<(String, String, String)> = conn.exec(pk_query, params.clone()).await?;
    let mut keys: HashMap<(String, String), Vec<String>> = HashMap::new();
    for (db, t, c) in pk_rows {
        keys.entry((db, t)).or_default().push(c);
    }
    // The table's default character set: its collation's (the name's prefix if the server
    // does not list the collation).
    let charset_query = format!(
        "SELECT t.TABLE_SCHEMA, t.TABLE_NAME, t.TABLE_COLLATION, co.CHARACTER_SET_NAME \
         FROM information_schema.TABLES t LEFT JOIN information_schema.COLLATIONS co \
           ON co.COLLATION_NAME = t.TABLE_COLLATION \
         WHERE t.TABLE_TYPE = 'BASE TABLE'{scope}"
    );
    let charset_rows: Vec<(String, String, Option<String>, Option<String>)> =
        conn.exec(charset_query, params).await?;
    let charsets: HashMap<(String, String), String> = charset_rows
        .into_iter()
        .filter_map(|(db, t, collation, charset)| {
            let charset = charset.or_else(|| {
                collation.map(|c| c.split('_').next().unwrap_or_default().to_owned())
            })?;
            Some(((db, t), charset))
        })
        .collect();
    let mut columns: Vec<((String, String), Vec<Column>, TableExtras)> = Vec::new();
    for mut row in rows {
        let text = |row: &mut mysql_async::Row, i: usize| -> Option<String> {
            row.take::<Option<String>, _>(i).flatten()
        };
        let number = |row: &mut mysql_async::Row, i: usize| -> Option<u64> {
            row.take::<Option<u64>, _>(i).flatten()
        };
        let db = text(&mut row, 0).unwrap_or_default();
        let t = text(&mut row, 1).unwrap_or_default();
        if !wanted(&db, &t) {
            continue;
        }
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
        let extra = text(&mut row, 13).unwrap_or_default();
        let auto_increment = extra.to_ascii_lowercase().contains("auto_increment");
        let column = Column::from_information_schema(ColumnInfo {
            name: name.clone(),
            position: u32::try_from(position).unwrap_or(u32::MAX),
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
        let same_table = columns
            .last()
            .is_some_and(|(id, _, _)| id.0 == db && id.1 == t);
        if !same_table {
            columns.push(((db, t), Vec::new(), TableExtras::default()));
        }
        if let Some((_, cols, extras)) = columns.last_mut() {
            cols.push(column);
            if auto_increment {
                extras.auto_increment.push(name);
            }
        }
    }
    let mut tables = Vec::with_capacity(columns.len());
    for ((db, t), cols, mut extras) in columns {
        let id = (db, t);
        let key = keys.get(&id).cloned().unwrap_or_default();
        extras.default_charset = charsets.get(&id).cloned();
        let mut table = Table::new(&id.0, &id.1, cols, &key, config);
        table.extras = extras;
        tables.push(table);
    }
    Ok(tables)
}
