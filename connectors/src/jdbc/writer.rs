//! The steps of writing one batch, on one connection: make sure tables and columns exist
//! (DDL, before the transaction: MySQL commits implicitly on DDL), begin, write the rows in
//! bulk or one by one, store offsets, commit. The sink task (`sink.rs`) decides which steps
//! to run again when one fails.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use tracing::{info, warn};

use super::batch::TableWork;
use super::cell::Cell;
use super::change::{Change, ChangeOp};
use super::config::JdbcSinkConfig;
use super::db::{self, Database, DbError, Purpose};
use super::dialect::{Dialect, InsertMode};
use super::ident::TableId;
use super::layout::RowShape;
use super::url::ConnectionUrl;

/// One partition's offset move: from what the database had to `next`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OffsetUpdate {
    pub topic: String,
    pub partition: i32,
    pub expected: Option<i64>,
    pub next: i64,
}

pub struct Writer {
    url: ConnectionUrl,
    connector: String,
    mode: InsertMode,
    batch_size: usize,
    auto_create: bool,
    auto_evolve: bool,
    offsets_table: Option<TableId>,
    db: Option<Box<dyn Database>>,
    /// Known column names per table (lower-cased where the database ignores case); an empty
    /// set: the table does not exist.
    tables: HashMap<Arc<TableId>, HashSet<String>>,
    /// Shapes checked against their table and prepared on this connection.
    ready: HashSet<(usize, Purpose)>,
}

fn in_table(table: &TableId) -> impl Fn(DbError) -> DbError + '_ {
    move |e| match e {
        DbError::Transient(m) => DbError::Transient(format!("table {table}: {m}")),
        DbError::Data(m) => DbError::Data(format!("table {table}: {m}")),
        DbError::Fatal(m) => DbError::Fatal(format!("table {table}: {m}")),
    }
}

impl Writer {
    pub fn new(config: &JdbcSinkConfig, connector: &str) -> Writer {
        Writer {
            url: config.url.clone(),
            connector: connector.to_owned(),
            mode: config.insert_mode,
            batch_size: config.batch_size,
            auto_create: config.auto_create,
            auto_evolve: config.auto_evolve,
            offsets_table: config.offsets_table.clone(),
            db: None,
            tables: HashMap::new(),
            ready: HashSet::new(),
        }
    }

    pub fn dialect(&self) -> Dialect {
        self.url.dialect
    }

    /// The connection, opened on first use (and after [`Writer::disconnect`]).
    async fn db(&mut self) -> Result<&mut Box<dyn Database>, DbError> {
        if self.db.is_none() {
            let mut db = db::connect(&self.url).await?;
            if let Some(table) = &self.offsets_table {
                let sql = self.url.dialect.create_offsets_table(table);
                if db.execute(&sql).await.is_err() {
                    // Another task may be creating it this very moment (PostgreSQL then
                    // reports a unique violation); IF NOT EXISTS settles it the second time.
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    db.execute(&sql).await.map_err(in_table(table))?;
                }
            }
            info!(connector = %self.connector, url = %self.url, "connected to the target database");
            self.db = Some(db);
        }
        self.db
            .as_mut()
            .ok_or_else(|| DbError::Transient("not connected".to_owned()))
    }

    /// Drops the connection (the server rolls back what was open) and everything learnt on it.
    pub fn disconnect(&mut self) {
        self.db = None;
        self.forget();
    }

    /// Forgets what is known about tables, to look again (after an error that may come from
    /// someone else's DDL).
    pub fn forget(&mut self) {
        self.tables.clear();
        self.ready.clear();
    }

    pub async fn connect(&mut self) -> Result<(), DbError> {
        self.db().await.map(|_| ())
    }

    pub async fn read_offsets(&mut self) -> Result<Vec<(String, i32, i64)>, DbError> {
        let Some(table) = self.offsets_table.clone() else {
            return Ok(Vec::new());
        };
        let connector = self.connector.clone();
        self.db()
            .await?
            .read_offsets(&table, &connector)
            .await
            .map_err(in_table(&table))
    }

    fn normalize(&self, name: &str) -> String {
        if self.url.dialect.case_insensitive_columns() {
            name.to_lowercase()
        } else {
            name.to_owned()
        }
    }

    async fn load_table(&mut self, table: &Arc<TableId>) -> Result<(), DbError> {
        if self.tables.contains_key(table) {
            return Ok(());
        }
        let columns = self
            .db()
            .await?
            .columns(table)
            .await
            .map_err(in_table(table))?;
        let columns = columns.iter().map(|c| self.normalize(c)).collect();
        self.tables.insert(table.clone(), columns);
        Ok(())
    }

    fn exists(&self, table: &Arc<TableId>) -> bool {
        self.tables.get(table).is_some_and(|c| !c.is_empty())
    }

    /// Creates and evolves tables as allowed, and prepares every shape of the batch.
    pub async fn prepare(&mut self, work: &[TableWork]) -> Result<(), DbError> {
        for table_work in work {
            let table = &table_work.table;
            for group in &table_work.upserts {
                if !self.ready.contains(&(group.shape.id(), Purpose::Write)) {
                    self.ensure_columns(&group.shape).await?;
                    self.db()
                        .await?
                        .prepare(&group.shape, Purpose::Write)
                        .await
                        .map_err(in_table(table))?;
                    self.ready.insert((group.shape.id(), Purpose::Write));
                }
            }
            for group in &table_work.deletes {
                if !self.ready.contains(&(group.shape.id(), Purpose::Delete)) {
                    self.load_table(table).await?;
                    if !self.exists(table) {
                        continue; // nothing to delete; looked at again next batch
                    }
                    self.check_columns(&group.shape)?;
                    self.db()
                        .await?
                        .prepare(&group.shape, Purpose::Delete)
                        .await
                        .map_err(in_table(table))?;
                    self.ready.insert((group.shape.id(), Purpose::Delete));
                }
            }
            if table_work.truncate {
                self.load_table(table).await?;
            }
        }
        Ok(())
    }

    fn missing_columns<'a>(&self, shape: &'a RowShape) -> Vec<&'a super::types::ColumnDef> {
        let known = self.tables.get(&shape.table);
        shape
            .columns
            .iter()
            .filter(|c| !known.is_some_and(|k| k.contains(&self.normalize(&c.name))))
            .collect()
    }

    fn check_columns(&self, shape: &RowShape) -> Result<(), DbError> {
        let missing: Vec<&str> = self
            .missing_columns(shape)
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(DbError::Fatal(format!(
                "table {} has no column(s) {}; set auto.evolve=true or add them",
                shape.table,
                missing.join(", ")
            )))
        }
    }

    async fn ensure_columns(&mut self, shape: &RowShape) -> Result<(), DbError> {
        let table = shape.table.clone();
        self.load_table(&table).await?;
        let dialect = self.url.dialect;
        if !self.exists(&table) {
            if !self.auto_create {
                return Err(DbError::Fatal(format!(
                    "table {table} does not exist; set auto.create=true or create it"
                )));
            }
            let sql = dialect.create_table(shape.shape());
            info!(connector = %self.connector, %table, "creating table");
            let created = self.db().await?.execute(&sql).await;
            self.tables.remove(&table);
            self.load_table(&table).await?;
            if let Err(e) = created {
                // Fine if another task created it concurrently; otherwise the reason stands.
                if !self.exists(&table) {
                    return Err(in_table(&table)(e));
                }
            }
        }
        let missing: Vec<super::types::ColumnDef> =
            self.missing_columns(shape).into_iter().cloned().collect();
        if missing.is_empty() {
            return Ok(());
        }
        if !self.auto_evolve {
            return self.check_columns(shape);
        }
        for column in &missing {
            info!(connector = %self.connector, %table, column = %column.name, "adding column");
            let sql = dialect.add_column(&table, column);
            if let Err(e) = self.db().await?.execute(&sql).await {
                // Another task may have added it at the same moment: look again.
                warn!(connector = %self.connector, %table, column = %column.name, error = %e, "ALTER TABLE failed; re-reading the table");
            }
        }
        self.tables.remove(&table);
        self.load_table(&table).await?;
        self.check_columns(shape)
    }

    pub async fn begin(&mut self) -> Result<(), DbError> {
        let d = self.dialect();
        self.db().await?.execute(db::begin(d)).await
    }

    pub async fn commit(&mut self) -> Result<(), DbError> {
        let d = self.dialect();
        self.db().await?.execute(db::commit(d)).await
    }

    /// Rolls back whatever is open; a failure drops the connection instead.
    pub async fn rollback(&mut self) {
        let d = self.dialect();
        if let Some(db) = self.db.as_mut() {
            if let Err(e) = db.execute(db::rollback(d)).await {
                warn!(connector = %self.connector, error = %e, "rollback failed; reconnecting");
                self.disconnect();
            }
        }
    }

    /// Writes everything in bulk: one statement (or COPY + merge) per group.
    pub async fn write_all(&mut self, work: &[TableWork]) -> Result<(), DbError> {
        let (mode, batch_size, dialect) = (self.mode, self.batch_size, self.dialect());
        for table_work in work {
            let table = &table_work.table;
            let exists = self.exists(table);
            let db = self.db().await?;
            if table_work.truncate && exists {
                db.execute(&dialect.truncate(table))
                    .await
                    .map_err(in_table(table))?;
            }
            if exists {
                for group in &table_work.deletes {
                    let keys: Vec<&[Cell]> =
                        group.changes.iter().map(|c| c.cells.as_slice()).collect();
                    db.delete(&group.shape, &keys, batch_size)
                        .await
                        .map_err(in_table(table))?;
                }
            }
            for group in &table_work.upserts {
                let rows: Vec<&[Cell]> = group.changes.iter().map(|c| c.cells.as_slice()).collect();
                db.write(&group.shape, &rows, mode, batch_size)
                    .await
                    .map_err(in_table(table))?;
            }
        }
        Ok(())
    }

    /// Writes change by change, each behind a savepoint; returns the changes the database
    /// refused for their data, as (record index, reason). Other errors end the attempt.
    pub async fn write_rows(
        &mut self,
        work: &[TableWork],
    ) -> Result<Vec<(usize, String)>, DbError> {
        let (mode, dialect) = (self.mode, self.dialect());
        let mut refused = Vec::new();
        let exists: Vec<bool> = work.iter().map(|w| self.exists(&w.table)).collect();
        let db = self.db().await?;
        db.row_by_row(true);
        let result = async {
            for (table_work, exists) in work.iter().zip(exists) {
                let table = &table_work.table;
                if table_work.truncate && exists {
                    db.execute(&dialect.truncate(table))
                        .await
                        .map_err(in_table(table))?;
                }
                for change in table_work.changes() {
                    if change.op == ChangeOp::Delete && !exists {
                        continue;
                    }
                    if let Some(reason) = write_one(db.as_mut(), change, mode)
                        .await
                        .map_err(in_table(table))?
                    {
                        refused.push((change.record, format!("table {table}: {reason}")));
                    }
                }
            }
            Ok::<(), DbError>(())
        }
        .await;
        db.row_by_row(false);
        result.map(|()| refused)
    }

    /// Stores every offset move; `Ok(false)` when another task moved one first.
    pub async fn store_offsets(&mut self, updates: &[OffsetUpdate]) -> Result<bool, DbError> {
        let Some(table) = self.offsets_table.clone() else {
            return Ok(true);
        };
        let connector = self.connector.clone();
        let db = self.db().await?;
        for u in updates {
            let stored = db
                .store_offset(
                    &table,
                    &connector,
                    (&u.topic, u.partition),
                    u.expected,
                    u.next,
                )
                .await
                .map_err(|e| match e {
                    // A unique or check violation here is a lost race, not bad data.
                    DbError::Data(m) => DbError::Transient(m),
                    other => other,
                })
                .map_err(in_table(&table))?;
            if !stored {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// One change behind a savepoint: `Ok(Some(reason))` when the database refused its data.
async fn write_one(
    db: &mut dyn Database,
    change: &Change,
    mode: InsertMode,
) -> Result<Option<String>, DbError> {
    let d = db.dialect();
    db.execute(db::savepoint(d)).await?;
    let cells = [change.cells.as_slice()];
    let result = match change.op {
        ChangeOp::Delete => db.delete(&change.shape, &cells, 1).await,
        _ => db.write(&change.shape, &cells, mode, 1).await,
    };
    match result {
        Ok(()) => {
            if let Some(release) = db::release_savepoint(d) {
                db.execute(release).await?;
            }
            Ok(None)
        }
        Err(DbError::Data(reason)) => {
            db.execute(db::rollback_to_savepoint(d)).await?;
            Ok(Some(reason))
        }
        Err(e) => Err(e),
    }
}
