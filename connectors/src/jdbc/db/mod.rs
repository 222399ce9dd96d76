//! The databases behind one trait: connect, look at a table, run DDL, write rows, keep
//! exactly-once offsets. Each client turns its driver's errors into a [`DbError`] whose kind
//! decides what the sink does next (retry, isolate the bad record, or fail).

mod direct_copy;
pub mod mysql;
pub mod postgres;
pub mod sqlserver;

use async_trait::async_trait;
use thiserror::Error;

use super::cell::Cell;
use super::dialect::{Dialect, InsertMode};
use super::ident::TableId;
use super::layout::RowShape;
use super::url::ConnectionUrl;

/// What went wrong in the database, classified by what to do about it.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DbError {
    /// Connection refused or lost, server restarting, deadlock, lock timeout: the same batch
    /// will succeed later.
    #[error("{0}")]
    Transient(String),
    /// A value does not fit or a constraint refused a row: some record of the batch is bad.
    #[error("{0}")]
    Data(String),
    /// Anything else (permissions, a table that is missing, SQL the database refuses): no
    /// retry will help.
    #[error("{0}")]
    Fatal(String),
}

/// Which of a shape's uses a staging area or statement serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Purpose {
    Write,
    Delete,
}

/// One open connection to the target database.
#[async_trait]
pub trait Database: Send + Sync {
    fn dialect(&self) -> Dialect;

    /// The table's column names, empty when the table does not exist.
    async fn columns(&mut self, table: &TableId) -> Result<Vec<String>, DbError>;

    /// A statement without parameters or results (DDL, transaction control).
    async fn execute(&mut self, sql: &str) -> Result<(), DbError>;

    /// Sets up what writing `shape` needs before a transaction starts (PostgreSQL's staging
    /// tables); nothing elsewhere.
    async fn prepare(&mut self, _shape: &RowShape, _purpose: Purpose) -> Result<(), DbError> {
        Ok(())
    }

    /// Writes rows (every column of `shape`, in order) according to `mode`, at most
    /// `batch_size` rows per statement.
    async fn write(
        &mut self,
        shape: &RowShape,
        rows: &[&[Cell]],
        mode: InsertMode,
        batch_size: usize,
    ) -> Result<(), DbError>;

    /// Deletes rows by key (`keys` hold the key columns of `shape`, in order).
    async fn delete(
        &mut self,
        shape: &RowShape,
        keys: &[&[Cell]],
        batch_size: usize,
    ) -> Result<(), DbError>;

    /// The stored next offsets of a connector: (topic, partition, offset).
    async fn read_offsets(
        &mut self,
        table: &TableId,
        connector: &str,
    ) -> Result<Vec<(String, i32, i64)>, DbError>;

    /// Stores `next` for a partition if the stored value is still `expected` (`None`: no row
    /// yet); `Ok(false)` when another writer got there first.
    async fn store_offset(
        &mut self,
        table: &TableId,
        connector: &str,
        partition: (&str, i32),
        expected: Option<i64>,
        next: i64,
    ) -> Result<bool, DbError>;

    /// Switches row-at-a-time writing (isolating a bad record) on or off.
    fn row_by_row(&mut self, _on: bool) {}
}

pub async fn connect(url: &ConnectionUrl) -> Result<Box<dyn Database>, DbError> {
    Ok(match url.dialect {
        Dialect::MySql => Box::new(mysql::MySqlDb::connect(url).await?),
        Dialect::Postgres => Box::new(postgres::PgDb::connect(url).await?),
        Dialect::SqlServer => Box::new(sqlserver::SqlServerDb::connect(url).await?),
    })
}

/// Transaction control in each dialect.
pub fn begin(d: Dialect) -> &'static str {
    match d {
        Dialect::SqlServer => "BEGIN TRANSACTION",
        _ => "BEGIN",
    }
}

pub fn commit(d: Dialect) -> &'static str {
    match d {
        Dialect::SqlServer => "COMMIT TRANSACTION",
        _ => "COMMIT",
    }
}

pub fn rollback(d: Dialect) -> &'static str {
    match d {
        Dialect::SqlServer => "IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION",
        _ => "ROLLBACK",
    }
}

pub fn savepoint(d: Dialect) -> &'static str {
    match d {
        Dialect::SqlServer => "SAVE TRANSACTION tributary_row",
        _ => "SAVEPOINT tributary_row",
    }
}

pub fn rollback_to_savepoint(d: Dialect) -> &'static str {
    match d {
        Dialect::SqlServer => "ROLLBACK TRANSACTION tributary_row",
        _ => "ROLLBACK TO SAVEPOINT tributary_row",
    }
}

/// `None` where the dialect has no release (SQL Server's savepoints end with the transaction).
pub fn release_savepoint(d: Dialect) -> Option<&'static str> {
    match d {
        Dialect::SqlServer => None,
        _ => Some("RELEASE SAVEPOINT tributary_row"),
    }
}

/// The user to log in as when neither the URL nor `connection.user` names one.
pub fn default_user(d: Dialect) -> &'static str {
    match d {
        Dialect::MySql => "root",
        Dialect::Postgres => "postgres",
        Dialect::SqlServer => "sa",
    }
}
