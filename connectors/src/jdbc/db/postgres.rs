//! PostgreSQL through `tokio-postgres`: COPY into per-shape temporary staging tables, then one
//! prepared set-based statement per shape (see `dialect/postgres.rs`); writes first try a COPY
//! straight into the table (see `direct_copy.rs`).

use std::collections::HashMap;
use std::io::Cursor;
use std::time::Duration;

use async_trait::async_trait;
use futures::SinkExt;
use tokio::task::JoinHandle;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, NoTls, Statement};
use tracing::debug;

use super::direct_copy::DirectCopy;
use super::{default_user, rollback_to_savepoint, savepoint, Database, DbError, Purpose};
use crate::jdbc::cell::Cell;
use crate::jdbc::dialect::{postgres, Dialect, InsertMode};
use crate::jdbc::ident::TableId;
use crate::jdbc::layout::RowShape;
use crate::jdbc::url::ConnectionUrl;

const D: Dialect = Dialect::Postgres;

/// One staging table and the statements that use it.
struct Stage {
    name: String,
    clear: Statement,
    copy: Statement,
    /// The merge per insert mode, or the delete.
    apply: HashMap<Option<InsertMode>, Statement>,
    /// For writes: COPY into the target table, and whether to try it.
    direct: Option<(Statement, DirectCopy)>,
}

pub struct PgDb {
    client: Client,
    connection: JoinHandle<()>,
    stages: HashMap<(usize, Purpose), Stage>,
    next_stage: u64,
    row_by_row: bool,
}

impl Drop for PgDb {
    fn drop(&mut self) {
        self.connection.abort();
    }
}

impl PgDb {
    pub async fn connect(url: &ConnectionUrl) -> Result<PgDb, DbError> {
        if let Some(mode) = url.property("sslmode") {
            if !matches!(mode, "disable" | "allow" | "prefer") {
                return Err(DbError::Fatal(format!(
                    "sslmode={mode}: TLS to PostgreSQL is not supported by this build"
                )));
            }
        }
        let mut config = tokio_postgres::Config::new();
        config
            .host(&url.host)
            .port(url.port)
            .user(url.user.as_deref().unwrap_or(default_user(D)))
            .dbname(url.database.as_deref().unwrap_or("postgres"))
            .application_name("tributary-jdbc-sink")
            .connect_timeout(Duration::from_secs(10))
            .keepalives(true);
        if let Some(password) = &url.password {
            config.password(password);
        }
        let (client, connection) = config.connect(NoTls).await.map_err(classify)?;
        let connection = tokio::spawn(async move {
            if let Err(e) = connection.await {
                debug!(error = %e, "PostgreSQL connection ended");
            }
        });
        let db = PgDb {
            client,
            connection,
            stages: HashMap::new(),
            next_stage: 0,
            row_by_row: false,
        };
        if let Some(schema) = url.property("currentSchema") {
            db.client
                .execute("SELECT set_config('search_path', $1, false)", &[&schema])
                .await
                .map_err(classify)?;
        }
        Ok(db)
    }

    /// Streams rows into a staging table.
    async fn copy(
        &self,
        stage: &Statement,
        rows: &[&[Cell]],
        columns: &[usize],
    ) -> Result<(), DbError> {
        let mut data = Vec::with_capacity(rows.len() * 64);
        let mut cells: Vec<&Cell> = Vec::with_capacity(columns.len());
        for row in rows {
            cells.clear();
            cells.extend(columns.iter().map(|i| &row[*i]));
            postgres::copy_row(&mut data, &cells);
        }
        let sink = self
            .client
            .copy_in::<_, Cursor<Vec<u8>>>(stage)
            .await
            .map_err(classify)?;
        let mut sink = Box::pin(sink);
        sink.send(Cursor::new(data)).await.map_err(classify)?;
        sink.as_mut().finish().await.map_err(classify)?;
        Ok(())
    }

    /// Inserts or upserts `rows` by a COPY straight into the table when the policy says it is
    /// worth trying; `Ok(false)` when it did not (the rows are to be merged through the stage):
    /// not tried, or a row that the table refused (an existing key, for an upsert), undone.
    async fn copy_into_table(
        &mut self,
        shape: &RowShape,
        rows: &[&[Cell]],
        columns: &[usize],
    ) -> Result<bool, DbError> {
        let key = stage_key(shape, Purpose::Write);
        let Some((statement, policy)) = self.stages.get_mut(&key).and_then(|s| s.direct.as_mut())
        else {
            return Ok(false);
        };
        if !policy.attempt() {
            return Ok(false);
        }
        let statement = statement.clone();
        // The writer's savepoint (never in use here: the direct COPY is not tried row by row)
        // undoes a refused COPY and keeps the batch's transaction.
        self.client
            .batch_execute(savepoint(D))
            .await
            .map_err(classify)?;
        let outcome = self.copy(&statement, rows, columns).await;
        let direct = self.stages.get_mut(&key).and_then(|s| s.direct.as_mut());
        match outcome {
            Ok(()) => {
                if let Some((_, policy)) = direct {
                    policy.succeeded();
                }
                debug!(table = %shape.table, rows = rows.len(), "copied rows into the table");
                Ok(true)
            }
            Err(e @ DbError::Transient(_)) => Err(e),
            Err(e) => {
                if let Some((_, policy)) = direct {
                    policy.failed();
                }
                debug!(table = %shape.table, reason = %e, "direct COPY refused; merging instead");
                self.client
                    .batch_execute(rollback_to_savepoint(D))
                    .await
                    .map_err(classify)?;
                Ok(false)
            }
        }
    }

    /// The statement that moves a write stage's rows into the table for `mode`, prepared on
    /// first use.
    async fn merge(&mut self, shape: &RowShape, mode: InsertMode) -> Result<Statement, DbError> {
        let stage = self.stage(shape, Purpose::Write)?;
        if let Some(statement) = stage.apply.get(&Some(mode)) {
            return Ok(statement.clone());
        }
        if mode != InsertMode::Insert && shape.pk.is_empty() {
            return Err(DbError::Fatal(format!(
                "{mode:?} needs a primary key on {}",
                shape.table
            )));
        }
        let sql = postgres::merge(&stage.name, shape.shape(), mode);
        let statement = self.client.prepare(&sql).await.map_err(classify)?;
        if let Some(stage) = self.stages.get_mut(&stage_key(shape, Purpose::Write)) {
            stage.apply.insert(Some(mode), statement.clone());
        }
        Ok(statement)
    }

    /// Whether the table has `ON INSERT` rules: a COPY does not apply them (an INSERT does,
    /// and triggers fire for both), so such a table never gets the direct COPY.
    async fn has_insert_rules(&self, shape: &RowShape) -> Result<bool, DbError> {
        self.client
            .query_one(postgres::HAS_INSERT_RULES, &[&D.table(&shape.table)])
            .await
            .and_then(|row| row.try_get(0))
            .map_err(classify)
    }

    fn stage(&self, shape: &RowShape, purpose: Purpose) -> Result<&Stage, DbError> {
        self.stages
            .get(&stage_key(shape, purpose))
            .ok_or_else(|| DbError::Fatal(format!("no staging table prepared for {}", shape.table)))
    }
}

/// A shape's stage, by the shape's address: shapes are interned (`layout.rs` keeps one `Arc`
/// per distinct shape), so the address names a shape without hashing its columns.
fn stage_key(shape: &RowShape, purpose: Purpose) -> (usize, Purpose) {
    (shape as *const RowShape as usize, purpose)
}

/// The staged columns: everything for writes, the key for deletes.
fn staged_shape(shape: &RowShape, purpose: Purpose) -> RowShape {
    match purpose {
        Purpose::Write => shape.clone(),
        Purpose::Delete => RowShape {
            table: shape.table.clone(),
            columns: shape.pk.iter().map(|i| shape.columns[*i].clone()).collect(),
            pk: (0..shape.pk.len()).collect(),
        },
    }
}

#[async_trait]
impl Database for PgDb {
    fn dialect(&self) -> Dialect {
        D
    }

    async fn columns(&mut self, table: &TableId) -> Result<Vec<String>, DbError> {
        let rows = self
            .client
            .query(D.describe_table(), &[&table.schema, &table.name])
            .await
            .map_err(classify)?;
        rows.iter()
            .map(|r| r.try_get::<_, String>(0).map_err(classify))
            .collect()
    }

    async fn execute(&mut self, sql: &str) -> Result<(), DbError> {
        self.client.batch_execute(sql).await.map_err(classify)
    }

    async fn prepare(&mut self, shape: &RowShape, purpose: Purpose) -> Result<(), DbError> {
        let key = stage_key(shape, purpose);
        if self.stages.contains_key(&key) {
            return Ok(());
        }
        self.next_stage += 1;
        let name = format!("__tributary_stage_{}", self.next_stage);
        let staged = staged_shape(shape, purpose);
        self.client
            .batch_execute(&postgres::create_stage(&name, staged.shape()))
            .await
            .map_err(classify)?;
        let prepare = |sql: String| {
            let client = &self.client;
            async move { client.prepare(&sql).await.map_err(classify) }
        };
        let copy = prepare(postgres::copy_into_stage(&name, staged.shape())).await?;
        let clear = prepare(format!("DELETE FROM pg_temp.{}", D.quote(&name))).await?;
        let mut apply = HashMap::new();
        let mut direct = None;
        match purpose {
            // The merges are prepared when a mode is first used: a table with `ON INSERT`
            // rules refuses `ON CONFLICT`, and must still take plain inserts.
            Purpose::Write => {
                if self.has_insert_rules(shape).await? {
                    debug!(table = %shape.table, "ON INSERT rules, which COPY bypasses: no direct COPY");
                } else {
                    let copy = prepare(postgres::copy_into_table(staged.shape())).await?;
                    direct = Some((copy, DirectCopy::default()));
                }
            }
            Purpose::Delete => {
                apply.insert(
                    None,
                    prepare(postgres::delete(&name, staged.shape())).await?,
                );
            }
        }
        self.stages.insert(
            key,
            Stage {
                name,
                clear,
                copy,
                apply,
                direct,
            },
        );
        Ok(())
    }

    async fn write(
        &mut self,
        shape: &RowShape,
        rows: &[&[Cell]],
        mode: InsertMode,
        _batch_size: usize,
    ) -> Result<(), DbError> {
        let all: Vec<usize> = (0..shape.columns.len()).collect();
        // Prepared before any direct COPY is tried: a table that refuses the INSERT (a
        // GENERATED ALWAYS identity column, a keyless table in upsert mode) refuses every
        // batch, not only those that the COPY would not take.
        let merge = self.merge(shape, mode).await?;
        // An update never inserts; a single row (isolating a bad record) gains nothing.
        if mode != InsertMode::Update
            && !self.row_by_row
            && self.copy_into_table(shape, rows, &all).await?
        {
            return Ok(());
        }
        let stage = self.stage(shape, Purpose::Write)?;
        self.copy(&stage.copy, rows, &all).await?;
        self.client.execute(&merge, &[]).await.map_err(classify)?;
        if self.row_by_row {
            self.client
                .execute(&stage.clear, &[])
                .await
                .map_err(classify)?;
        }
        debug!(stage = %stage.name, rows = rows.len(), "merged staged rows");
        Ok(())
    }

    async fn delete(
        &mut self,
        shape: &RowShape,
        keys: &[&[Cell]],
        _batch_size: usize,
    ) -> Result<(), DbError> {
        let stage = self.stage(shape, Purpose::Delete)?;
        let delete = stage
            .apply
            .get(&None)
            .ok_or_else(|| DbError::Fatal("no delete statement prepared".to_owned()))?;
        self.copy(&stage.copy, keys, &shape.pk).await?;
        self.client.execute(delete, &[]).await.map_err(classify)?;
        if self.row_by_row {
            self.client
                .execute(&stage.clear, &[])
                .await
                .map_err(classify)?;
        }
        Ok(())
    }

    async fn read_offsets(
        &mut self,
        table: &TableId,
        connector: &str,
    ) -> Result<Vec<(String, i32, i64)>, DbError> {
        let rows = self
            .client
            .query(&D.select_offsets(table), &[&connector])
            .await
            .map_err(classify)?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get::<_, String>(0).map_err(classify)?,
                    r.try_get::<_, i32>(1).map_err(classify)?,
                    r.try_get::<_, i64>(2).map_err(classify)?,
                ))
            })
            .collect()
    }

    async fn store_offset(
        &mut self,
        table: &TableId,
        connector: &str,
        (topic, partition): (&str, i32),
        expected: Option<i64>,
        next: i64,
    ) -> Result<bool, DbError> {
        match expected {
            Some(expected) => {
                let n = self
                    .client
                    .execute(
                        &D.update_offset(table),
                        &[&next, &connector, &topic, &partition, &expected],
                    )
                    .await
                    .map_err(classify)?;
                Ok(n == 1)
            }
            None => {
                let r = self
                    .client
                    .execute(
                        &D.insert_offset(table),
                        &[&connector, &topic, &partition, &next],
                    )
                    .await;
                match r {
                    Ok(_) => Ok(true),
                    Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => Ok(false),
                    Err(e) => Err(classify(e)),
                }
            }
        }
    }

    fn row_by_row(&mut self, on: bool) {
        self.row_by_row = on;
    }
}

pub fn classify(e: tokio_postgres::Error) -> DbError {
    let message = match e.as_db_error() {
        Some(db) => format!("PostgreSQL error {}: {}", db.code().code(), db.message()),
        None => format!("PostgreSQL: {e}"),
    };
    let Some(code) = e.code() else {
        // No SQLSTATE: the connection failed or broke.
        return DbError::Transient(message);
    };
    let code = code.code();
    if e.is_closed()
        || code.starts_with("08")
        || matches!(
            code,
            "40001" | "40P01" | "55P03" | "57P01" | "57P02" | "57P03" | "53300" | "53400"
        )
    {
        DbError::Transient(message)
    } else if code.starts_with("22") || code.starts_with("23") {
        DbError::Data(message)
    } else {
        DbError::Fatal(message)
    }
}
