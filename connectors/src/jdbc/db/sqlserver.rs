//! SQL Server through tiberius: the MERGE/INSERT/DELETE text of `dialect/sqlserver.rs` with
//! every value bound as a parameter (temporal values and decimals as ISO text, cast by the
//! statement to the column's type).
//!
//! Not exercised on our machines (no SQL Server); `tests/jdbc_mssql.rs` runs against one when
//! `TRIBUTARY_TEST_MSSQL_URL` is set.

use async_trait::async_trait;
use tiberius::{AuthMethod, Client, Config, EncryptionLevel, Query};
use tokio::net::TcpStream;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

use super::{default_user, Database, DbError};
use crate::jdbc::cell::Cell;
use crate::jdbc::dialect::{sqlserver, Dialect, InsertMode};
use crate::jdbc::ident::TableId;
use crate::jdbc::layout::RowShape;
use crate::jdbc::time::{format_date, format_duration, format_timestamp};
use crate::jdbc::url::ConnectionUrl;

const D: Dialect = Dialect::SqlServer;

pub struct SqlServerDb {
    client: Client<Compat<TcpStream>>,
}

impl SqlServerDb {
    pub async fn connect(url: &ConnectionUrl) -> Result<SqlServerDb, DbError> {
        let mut config = Config::new();
        config.host(&url.host);
        config.port(url.port);
        if let Some(db) = &url.database {
            config.database(db);
        }
        config.application_name("tributary-jdbc-sink");
        config.authentication(AuthMethod::sql_server(
            url.user.as_deref().unwrap_or(default_user(D)),
            url.password.as_deref().unwrap_or(""),
        ));
        let flag = |k: &str| url.property(k).map(|v| v.eq_ignore_ascii_case("true"));
        if flag("trustServerCertificate") == Some(true) {
            config.trust_cert();
        }
        match flag("encrypt") {
            Some(false) => config.encryption(EncryptionLevel::Off),
            Some(true) => config.encryption(EncryptionLevel::Required),
            None => {}
        }
        let tcp = TcpStream::connect(config.get_addr())
            .await
            .map_err(|e| DbError::Transient(format!("SQL Server connection: {e}")))?;
        tcp.set_nodelay(true)
            .map_err(|e| DbError::Transient(format!("SQL Server connection: {e}")))?;
        let client = Client::connect(config, tcp.compat_write())
            .await
            .map_err(classify)?;
        Ok(SqlServerDb { client })
    }

    async fn run(&mut self, sql: String, cells: Vec<&Cell>) -> Result<u64, DbError> {
        let mut query = Query::new(sql);
        for cell in cells {
            bind(&mut query, cell);
        }
        let result = query.execute(&mut self.client).await.map_err(classify)?;
        Ok(result.total())
    }
}

#[async_trait]
impl Database for SqlServerDb {
    fn dialect(&self) -> Dialect {
        D
    }

    async fn columns(&mut self, table: &TableId) -> Result<Vec<String>, DbError> {
        let mut query = Query::new(D.describe_table());
        query.bind(table.schema.clone());
        query.bind(table.name.clone());
        let rows = query
            .query(&mut self.client)
            .await
            .map_err(classify)?
            .into_first_result()
            .await
            .map_err(classify)?;
        Ok(rows
            .iter()
            .filter_map(|r| r.get::<&str, _>(0).map(str::to_owned))
            .collect())
    }

    async fn execute(&mut self, sql: &str) -> Result<(), DbError> {
        self.client
            .simple_query(sql)
            .await
            .map_err(classify)?
            .into_results()
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn write(
        &mut self,
        shape: &RowShape,
        rows: &[&[Cell]],
        mode: InsertMode,
        batch_size: usize,
    ) -> Result<(), DbError> {
        if mode == InsertMode::Update && shape.pk.len() == shape.columns.len() {
            return Ok(());
        }
        let per_statement = D.rows_per_statement(batch_size, shape.columns.len());
        for chunk in rows.chunks(per_statement) {
            let sql = sqlserver::write(shape.shape(), chunk.len(), mode);
            self.run(sql, chunk.iter().flat_map(|r| r.iter()).collect())
                .await?;
        }
        Ok(())
    }

    async fn delete(
        &mut self,
        shape: &RowShape,
        keys: &[&[Cell]],
        batch_size: usize,
    ) -> Result<(), DbError> {
        let per_statement = D.rows_per_statement(batch_size, shape.pk.len());
        for chunk in keys.chunks(per_statement) {
            let sql = sqlserver::delete(shape.shape(), chunk.len());
            let cells = chunk
                .iter()
                .flat_map(|k| shape.pk.iter().map(|i| &k[*i]))
                .collect();
            self.run(sql, cells).await?;
        }
        Ok(())
    }

    async fn read_offsets(
        &mut self,
        table: &TableId,
        connector: &str,
    ) -> Result<Vec<(String, i32, i64)>, DbError> {
        let mut query = Query::new(D.select_offsets(table));
        query.bind(connector.to_owned());
        let rows = query
            .query(&mut self.client)
            .await
            .map_err(classify)?
            .into_first_result()
            .await
            .map_err(classify)?;
        rows.iter()
            .map(|r| {
                let topic = r.try_get::<&str, _>(0).map_err(classify)?;
                let partition = r.try_get::<i32, _>(1).map_err(classify)?;
                let offset = r.try_get::<i64, _>(2).map_err(classify)?;
                match (topic, partition, offset) {
                    (Some(t), Some(p), Some(o)) => Ok((t.to_owned(), p, o)),
                    _ => Err(DbError::Fatal("null in the offsets table".to_owned())),
                }
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
        let (sql, params): (String, Vec<Cell>) = match expected {
            Some(expected) => (
                D.update_offset(table),
                vec![
                    Cell::Int(next),
                    Cell::Text(connector.to_owned()),
                    Cell::Text(topic.to_owned()),
                    Cell::Int(i64::from(partition)),
                    Cell::Int(expected),
                ],
            ),
            None => (
                D.insert_offset(table),
                vec![
                    Cell::Text(connector.to_owned()),
                    Cell::Text(topic.to_owned()),
                    Cell::Int(i64::from(partition)),
                    Cell::Int(next),
                ],
            ),
        };
        match self.run(sql, params.iter().collect()).await {
            Ok(n) => Ok(n == 1),
            // 2627: a concurrent first insert of the same partition.
            Err(DbError::Data(m)) if m.contains("error 2627") => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// Binds a cell with a type SQL Server converts to the column's (the statement casts).
fn bind(query: &mut Query<'_>, cell: &Cell) {
    match cell {
        Cell::Null => query.bind(Option::<String>::None),
        Cell::Bool(b) => query.bind(*b),
        Cell::Int(v) => query.bind(*v),
        Cell::Float32(v) => query.bind(*v),
        Cell::Float64(v) => query.bind(*v),
        Cell::Text(s) | Cell::Decimal(s) | Cell::Json(s) => query.bind(s.clone()),
        Cell::Bytes(b) => query.bind(b.clone()),
        Cell::Date(d) => query.bind(format_date(i64::from(*d))),
        Cell::TimeOfDay(us) | Cell::Duration(us) => query.bind(format_duration(*us)),
        Cell::Timestamp(us) => query.bind(format_timestamp(*us).replacen(' ', "T", 1)),
        Cell::TimestampTz(us) => query.bind(format!(
            "{}+00:00",
            format_timestamp(*us).replacen(' ', "T", 1)
        )),
        Cell::Bits(bytes, _) => query.bind(bytes.iter().rev().copied().collect::<Vec<u8>>()),
    }
}

const DATA_CODES: &[u32] = &[
    220, 232, 241, 242, 245, 515, 547, 2601, 2627, 2628, 8114, 8115, 8116, 8152, 9455,
];
const TRANSIENT_CODES: &[u32] = &[233, 1205, 10053, 10054, 10060, 40197, 40501, 40613, 49918];

pub fn classify(e: tiberius::error::Error) -> DbError {
    match &e {
        tiberius::error::Error::Server(t) if DATA_CODES.contains(&t.code()) => {
            DbError::Data(format!("SQL Server error {}: {}", t.code(), t.message()))
        }
        tiberius::error::Error::Server(t) if TRANSIENT_CODES.contains(&t.code()) => {
            DbError::Transient(format!("SQL Server error {}: {}", t.code(), t.message()))
        }
        tiberius::error::Error::Server(t) => {
            DbError::Fatal(format!("SQL Server error {}: {}", t.code(), t.message()))
        }
        tiberius::error::Error::Io { .. } => {
            DbError::Transient(format!("SQL Server connection: {e}"))
        }
        _ => DbError::Fatal(format!("SQL Server: {e}")),
    }
}
