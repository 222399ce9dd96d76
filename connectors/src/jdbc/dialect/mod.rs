//! The three SQL dialects: identifier quoting, column types for `auto.create`/`auto.evolve`,
//! and the text of every statement the sink sends.
//!
//! Statements are generated here as pure functions of table shapes so that each one can be
//! read and unit-tested without a server (SQL Server cannot run on our machines). Every
//! identifier goes through [`Dialect::quote`]; values never appear in statement text (they
//! are bound parameters or COPY data), so a hostile column name or value cannot inject SQL.

pub mod mysql;
pub mod postgres;
pub mod sqlserver;

use super::ident::TableId;
use super::types::{ColumnDef, ColumnKind};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// MySQL and MariaDB.
    MySql,
    Postgres,
    SqlServer,
}

/// How rows are written (`insert.mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InsertMode {
    /// Plain insert: an existing key is an error (the record goes to the DLQ).
    Insert,
    /// Insert or replace the non-key columns of an existing row.
    Upsert,
    /// Update existing rows only; missing keys are left missing.
    Update,
}

/// The columns of one write and which of them form the primary key.
#[derive(Clone, Copy, Debug)]
pub struct Shape<'a> {
    pub table: &'a TableId,
    pub columns: &'a [ColumnDef],
    /// Indices into `columns`.
    pub pk: &'a [usize],
}

impl Shape<'_> {
    pub fn is_key(&self, i: usize) -> bool {
        self.pk.contains(&i)
    }
    pub fn key_columns(&self) -> impl Iterator<Item = &ColumnDef> {
        self.pk.iter().filter_map(|i| self.columns.get(*i))
    }
    pub fn value_columns(&self) -> impl Iterator<Item = &ColumnDef> {
        self.columns
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.pk.contains(i))
            .map(|(_, c)| c)
    }
}

impl Dialect {
    pub fn scheme(self) -> &'static str {
        match self {
            Dialect::MySql => "mysql",
            Dialect::Postgres => "postgresql",
            Dialect::SqlServer => "sqlserver",
        }
    }

    pub fn default_port(self) -> u16 {
        match self {
            Dialect::MySql => 3306,
            Dialect::Postgres => 5432,
            Dialect::SqlServer => 1433,
        }
    }

    /// An identifier quoted for this dialect: the quote character inside it is doubled, which
    /// is the only escape these grammars have inside quoted identifiers.
    pub fn quote(self, ident: &str) -> String {
        let (open, close) = match self {
            Dialect::MySql => ('`', '`'),
            Dialect::Postgres => ('"', '"'),
            Dialect::SqlServer => ('[', ']'),
        };
        let mut out = String::with_capacity(ident.len() + 2);
        out.push(open);
        for c in ident.chars() {
            if c == close {
                out.push(close);
            }
            out.push(c);
        }
        out.push(close);
        out
    }

    /// `schema.table` (MySQL: `database.table`), each part quoted.
    pub fn table(self, table: &TableId) -> String {
        match &table.schema {
            Some(schema) => format!("{}.{}", self.quote(schema), self.quote(&table.name)),
            None => self.quote(&table.name),
        }
    }

    /// The column type for `auto.create`/`auto.evolve`. Key columns get bounded types where
    /// the database cannot index unbounded ones.
    pub fn column_type(self, kind: &ColumnKind, key: bool) -> String {
        match self {
            Dialect::MySql => mysql::column_type(kind, key),
            Dialect::Postgres => postgres::column_type(kind),
            Dialect::SqlServer => sqlserver::column_type(kind, key),
        }
    }

    fn column_definition(self, column: &ColumnDef, key: bool) -> String {
        let null = if key || !column.optional {
            " NOT NULL"
        } else {
            " NULL"
        };
        format!(
            "{} {}{null}",
            self.quote(&column.name),
            self.column_type(&column.kind, key)
        )
    }

    /// `CREATE TABLE` with every column and the primary key (none for `pk.mode=none`).
    /// Idempotent, so two tasks creating the same table at once both succeed.
    pub fn create_table(self, shape: Shape<'_>) -> String {
        let mut parts: Vec<String> = shape
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| self.column_definition(c, shape.is_key(i)))
            .collect();
        if !shape.pk.is_empty() {
            let keys: Vec<String> = shape.key_columns().map(|c| self.quote(&c.name)).collect();
            parts.push(format!("PRIMARY KEY ({})", keys.join(", ")));
        }
        let body = parts.join(",\n  ");
        let table = self.table(shape.table);
        match self {
            Dialect::MySql | Dialect::Postgres => {
                format!("CREATE TABLE IF NOT EXISTS {table} (\n  {body}\n)")
            }
            Dialect::SqlServer => format!(
                "IF OBJECT_ID({}, N'U') IS NULL CREATE TABLE {table} (\n  {body}\n)",
                sqlserver::literal(&table)
            ),
        }
    }

    /// `ALTER TABLE … ADD` of a nullable column (`auto.evolve` never adds a NOT NULL column:
    /// existing rows have no value for it).
    pub fn add_column(self, table: &TableId, column: &ColumnDef) -> String {
        let def = format!(
            "{} {} NULL",
            self.quote(&column.name),
            self.column_type(&column.kind, false)
        );
        match self {
            Dialect::MySql | Dialect::Postgres => {
                format!("ALTER TABLE {} ADD COLUMN {def}", self.table(table))
            }
            Dialect::SqlServer => format!("ALTER TABLE {} ADD {def}", self.table(table)),
        }
    }

    /// The query listing a table's columns; parameters: schema (null for the connection's
    /// default), table name.
    pub fn describe_table(self) -> &'static str {
        match self {
            Dialect::MySql => {
                "SELECT COLUMN_NAME FROM information_schema.COLUMNS \
                 WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? \
                 ORDER BY ORDINAL_POSITION"
            }
            Dialect::Postgres => {
                "SELECT column_name::text FROM information_schema.columns \
                 WHERE table_schema::text = COALESCE($1::text, current_schema()::text) \
                 AND table_name::text = $2::text ORDER BY ordinal_position"
            }
            Dialect::SqlServer => {
                "SELECT COLUMN_NAME FROM INFORMATION_SCHEMA.COLUMNS \
                 WHERE TABLE_SCHEMA = COALESCE(@P1, SCHEMA_NAME()) AND TABLE_NAME = @P2 \
                 ORDER BY ORDINAL_POSITION"
            }
        }
    }

    /// Whether this database compares column names case-insensitively (MySQL and SQL Server by
    /// default); used to match record fields to existing columns.
    pub fn case_insensitive_columns(self) -> bool {
        !matches!(self, Dialect::Postgres)
    }

    /// Emptying a table inside a transaction (`TRUNCATE` commits implicitly in MySQL and
    /// needs stronger locks elsewhere).
    pub fn truncate(self, table: &TableId) -> String {
        format!("DELETE FROM {}", self.table(table))
    }

    /// The exactly-once offsets table.
    pub fn create_offsets_table(self, table: &TableId) -> String {
        let (text, int, long) = match self {
            Dialect::MySql => ("VARCHAR(255)", "INT", "BIGINT"),
            Dialect::Postgres => ("TEXT", "INTEGER", "BIGINT"),
            Dialect::SqlServer => ("NVARCHAR(255)", "INT", "BIGINT"),
        };
        let columns = format!(
            "connector {text} NOT NULL, topic {text} NOT NULL, kafka_partition {int} NOT NULL, \
             next_offset {long} NOT NULL, PRIMARY KEY (connector, topic, kafka_partition)"
        );
        let name = self.table(table);
        match self {
            Dialect::MySql | Dialect::Postgres => {
                format!("CREATE TABLE IF NOT EXISTS {name} ({columns})")
            }
            Dialect::SqlServer => format!(
                "IF OBJECT_ID({}, N'U') IS NULL CREATE TABLE {name} ({columns})",
                sqlserver::literal(&name)
            ),
        }
    }

    /// Reads a connector's stored offsets; parameter: connector name.
    pub fn select_offsets(self, table: &TableId) -> String {
        let p = match self {
            Dialect::MySql => "?",
            Dialect::Postgres => "$1",
            Dialect::SqlServer => "@P1",
        };
        format!(
            "SELECT topic, kafka_partition, next_offset FROM {} WHERE connector = {p}",
            self.table(table)
        )
    }

    /// Moves one partition's offset forward only if it still has the value this task read
    /// (compare-and-set: a task that lost the partition cannot overwrite its new owner's
    /// progress); parameters: next, connector, topic, partition, expected.
    pub fn update_offset(self, table: &TableId) -> String {
        let [a, b, c, d, e] = self.params5();
        format!(
            "UPDATE {} SET next_offset = {a} WHERE connector = {b} AND topic = {c} \
             AND kafka_partition = {d} AND next_offset = {e}",
            self.table(table)
        )
    }

    /// The first offset of a partition; a concurrent first insert fails on the primary key.
    /// Parameters: connector, topic, partition, next.
    pub fn insert_offset(self, table: &TableId) -> String {
        let [a, b, c, d, _] = self.params5();
        format!(
            "INSERT INTO {} (connector, topic, kafka_partition, next_offset) VALUES ({a}, {b}, {c}, {d})",
            self.table(table)
        )
    }

    fn params5(self) -> [&'static str; 5] {
        match self {
            Dialect::MySql => ["?"; 5],
            Dialect::Postgres => ["$1", "$2", "$3", "$4", "$5"],
            Dialect::SqlServer => ["@P1", "@P2", "@P3", "@P4", "@P5"],
        }
    }

    /// Rows per statement: `batch.size`, within the database's limit on bound parameters
    /// (MySQL 65,535; SQL Server 2,100 and 1,000 rows per VALUES list). PostgreSQL streams rows
    /// through COPY and has no such limit.
    pub fn rows_per_statement(self, batch_size: usize, columns: usize) -> usize {
        let columns = columns.max(1);
        let limit = match self {
            Dialect::MySql => 65_535 / columns,
            Dialect::Postgres => usize::MAX,
            Dialect::SqlServer => (2_000 / columns).min(1_000),
        };
        batch_size.min(limit).max(1)
    }
}

#[cfg(test)]
mod tests;
