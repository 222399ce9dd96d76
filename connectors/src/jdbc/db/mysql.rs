//! MySQL and MariaDB through `mysql_async`: binary-protocol prepared statements, which the
//! connection prepares once per statement text and keeps in its statement cache.

use async_trait::async_trait;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder, Params, Value as MyValue};

use super::{default_user, Database, DbError};
use crate::jdbc::cell::Cell;
use crate::jdbc::dialect::{mysql, Dialect, InsertMode};
use crate::jdbc::ident::TableId;
use crate::jdbc::layout::RowShape;
use crate::jdbc::time::{civil_from_days, DateTime};
use crate::jdbc::url::ConnectionUrl;

const D: Dialect = Dialect::MySql;

pub struct MySqlDb {
    conn: Conn,
}

impl MySqlDb {
    pub async fn connect(url: &ConnectionUrl) -> Result<MySqlDb, DbError> {
        let user = url
            .user
            .clone()
            .unwrap_or_else(|| default_user(D).to_owned());
        let opts = OptsBuilder::default()
            .ip_or_hostname(url.host.clone())
            .tcp_port(url.port)
            .user(Some(user))
            .pass(url.password.clone())
            .db_name(url.database.clone())
            .prefer_socket(false)
            .stmt_cache_size(128)
            // UTC, so TIMESTAMP columns a user created hold the instants we write; strict, so
            // a value that does not fit is an error (and goes to the DLQ) instead of being
            // silently truncated.
            .setup(vec![
                "SET SESSION time_zone = '+00:00', \
                 sql_mode = CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'STRICT_ALL_TABLES')",
            ]);
        let conn = Conn::new(opts).await.map_err(classify)?;
        Ok(MySqlDb { conn })
    }
}

#[async_trait]
impl Database for MySqlDb {
    fn dialect(&self) -> Dialect {
        D
    }

    async fn columns(&mut self, table: &TableId) -> Result<Vec<String>, DbError> {
        self.conn
            .exec::<String, _, _>(
                D.describe_table(),
                (table.schema.clone(), table.name.clone()),
            )
            .await
            .map_err(classify)
    }

    async fn execute(&mut self, sql: &str) -> Result<(), DbError> {
        self.conn.query_drop(sql).await.map_err(classify)
    }

    async fn write(
        &mut self,
        shape: &RowShape,
        rows: &[&[Cell]],
        mode: InsertMode,
        batch_size: usize,
    ) -> Result<(), DbError> {
        if mode == InsertMode::Update {
            let Some(sql) = mysql::update(shape.shape()) else {
                return Ok(());
            };
            let stmt = self.conn.prep(sql).await.map_err(classify)?;
            let values: Vec<usize> = (0..shape.columns.len())
                .filter(|i| !shape.pk.contains(i))
                .chain(shape.pk.iter().copied())
                .collect();
            let mut params = Vec::with_capacity(rows.len());
            for row in rows {
                let p: Result<Vec<MyValue>, DbError> =
                    values.iter().map(|i| value(&row[*i])).collect();
                params.push(p?);
            }
            return self.conn.exec_batch(&stmt, params).await.map_err(classify);
        }
        let per_statement = D.rows_per_statement(batch_size, shape.columns.len());
        for chunk in rows.chunks(per_statement) {
            let sql = mysql::insert(shape.shape(), chunk.len(), mode);
            let mut params = Vec::with_capacity(chunk.len() * shape.columns.len());
            for row in chunk {
                for cell in row.iter() {
                    params.push(value(cell)?);
                }
            }
            self.conn
                .exec_drop(sql, Params::Positional(params))
                .await
                .map_err(classify)?;
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
            let sql = mysql::delete(shape.shape(), chunk.len());
            let mut params = Vec::with_capacity(chunk.len() * shape.pk.len());
            for key in chunk {
                for i in &shape.pk {
                    params.push(value(&key[*i])?);
                }
            }
            self.conn
                .exec_drop(sql, Params::Positional(params))
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
        self.conn
            .exec::<(String, i32, i64), _, _>(D.select_offsets(table), (connector,))
            .await
            .map_err(classify)
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
                self.conn
                    .exec_drop(
                        D.update_offset(table),
                        (next, connector, topic, partition, expected),
                    )
                    .await
                    .map_err(classify)?;
                Ok(self.conn.affected_rows() == 1)
            }
            None => {
                let r = self
                    .conn
                    .exec_drop(D.insert_offset(table), (connector, topic, partition, next))
                    .await;
                match r {
                    Ok(()) => Ok(true),
                    Err(mysql_async::Error::Server(e)) if e.code == 1062 => Ok(false),
                    Err(e) => Err(classify(e)),
                }
            }
        }
    }
}

/// A cell as a binary-protocol value.
fn value(cell: &Cell) -> Result<MyValue, DbError> {
    Ok(match cell {
        Cell::Null => MyValue::NULL,
        Cell::Bool(b) => MyValue::Int(i64::from(*b)),
        Cell::Int(v) => MyValue::Int(*v),
        Cell::Float32(v) => MyValue::Float(*v),
        Cell::Float64(v) => MyValue::Double(*v),
        Cell::Text(s) | Cell::Decimal(s) | Cell::Json(s) => MyValue::Bytes(s.as_bytes().to_vec()),
        Cell::Bytes(b) => MyValue::Bytes(b.clone()),
        Cell::Date(days) => {
            let (y, m, d) = civil_from_days(i64::from(*days));
            MyValue::Date(year(y)?, m as u8, d as u8, 0, 0, 0, 0)
        }
        Cell::TimeOfDay(us) | Cell::Duration(us) => {
            let m = us.unsigned_abs();
            let secs = m / 1_000_000;
            MyValue::Time(
                *us < 0,
                u32::try_from(secs / 86_400).unwrap_or(u32::MAX),
                (secs / 3600 % 24) as u8,
                (secs / 60 % 60) as u8,
                (secs % 60) as u8,
                (m % 1_000_000) as u32,
            )
        }
        Cell::Timestamp(us) | Cell::TimestampTz(us) => {
            let t = DateTime::from_micros(*us);
            MyValue::Date(
                year(t.year)?,
                t.month as u8,
                t.day as u8,
                t.hour as u8,
                t.minute as u8,
                t.second as u8,
                t.micro,
            )
        }
        Cell::Bits(bytes, length) => match Cell::bits_as_u64(bytes) {
            Some(v) if length.is_none_or(|n| n <= 64) => MyValue::UInt(v),
            _ => MyValue::Bytes(bytes.clone()),
        },
    })
}

fn year(y: i64) -> Result<u16, DbError> {
    u16::try_from(y)
        .ok()
        .filter(|y| *y <= 9999)
        .ok_or_else(|| DbError::Data(format!("year {y} is outside MySQL's range 0000-9999")))
}

/// Server error codes that mean "this data does not fit" (values, constraints).
const DATA_CODES: &[u16] = &[
    1022, 1048, 1062, 1263, 1264, 1265, 1292, 1366, 1367, 1406, 1411, 1416, 1441, 1451, 1452, 1586,
    1690, 1859, 3140, 3819, 4025, 4078,
];
/// Server error codes that a later attempt can get past.
const TRANSIENT_CODES: &[u16] = &[
    1040, 1053, 1077, 1152, 1153, 1154, 1155, 1156, 1157, 1158, 1159, 1160, 1161, 1184, 1205, 1213,
    1927, 2002, 2003, 2006, 2013, 2055, 4031,
];

pub fn classify(e: mysql_async::Error) -> DbError {
    match &e {
        mysql_async::Error::Server(s) if DATA_CODES.contains(&s.code) => {
            DbError::Data(format!("MySQL error {}: {}", s.code, s.message))
        }
        mysql_async::Error::Server(s) if TRANSIENT_CODES.contains(&s.code) => {
            DbError::Transient(format!("MySQL error {}: {}", s.code, s.message))
        }
        mysql_async::Error::Server(s) => {
            DbError::Fatal(format!("MySQL error {}: {}", s.code, s.message))
        }
        mysql_async::Error::Io(_) => DbError::Transient(format!("MySQL connection: {e}")),
        mysql_async::Error::Driver(d) => match d {
            mysql_async::DriverError::ConnectionClosed
            | mysql_async::DriverError::PacketOutOfOrder
            | mysql_async::DriverError::PoolDisconnected => {
                DbError::Transient(format!("MySQL connection: {e}"))
            }
            _ => DbError::Fatal(format!("MySQL driver: {e}")),
        },
        _ => DbError::Fatal(format!("MySQL: {e}")),
    }
}
