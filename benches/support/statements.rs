//! The benchmarks' workload statements: one ~120-byte-row table written in `batch`-row
//! statements (multi-row INSERT, UPDATE and DELETE by id range), as the classic published
//! CDC workload does.

use std::time::Instant;

use anyhow::Result;

use mysql_async::prelude::Queryable;

pub const TABLE: &str = "(id BIGINT NOT NULL PRIMARY KEY, customer VARCHAR(64), \
    amount DECIMAL(12,2), status VARCHAR(16), note VARCHAR(200), updated_at DATETIME(3))";
pub const COLUMNS: &str = "(id, customer, amount, status, note, updated_at)";

pub fn values(from: u64, n: u64, status: &str) -> String {
    (from..from + n)
        .map(|id| {
            format!(
                "({id},'customer {}',{}.{:02},'{status}','{}','2026-11-23 10:{:02}:{:02}.{:03}')",
                id % 5000,
                id % 100_000,
                id % 100,
                "n".repeat(60 + (id % 40) as usize),
                (id / 60) % 60,
                id % 60,
                id % 1000
            )
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The statements of each phase, `batch` rows each.
pub fn inserts(table: &str, rows: u64, batch: u64, upsert: bool) -> Vec<String> {
    (0..rows)
        .step_by(batch as usize)
        .map(|from| {
            let n = batch.min(rows - from);
            // An upsert writes what an update would: changed values, not a no-op.
            let status = if upsert { "updated" } else { "new" };
            let mut sql = format!(
                "INSERT INTO {table} {COLUMNS} VALUES {}",
                values(from, n, status)
            );
            if upsert {
                sql.push_str(
                    " ON DUPLICATE KEY UPDATE customer=VALUES(customer), amount=VALUES(amount), \
                     status=VALUES(status), note=VALUES(note), updated_at=VALUES(updated_at)",
                );
            }
            sql
        })
        .collect()
}

pub fn updates(table: &str, rows: u64, batch: u64) -> Vec<String> {
    (0..rows)
        .step_by(batch as usize)
        .map(|from| {
            let to = (from + batch).min(rows);
            format!(
                "UPDATE {table} SET status='updated', amount=amount+1, \
                 updated_at=updated_at + INTERVAL 1 SECOND WHERE id >= {from} AND id < {to}"
            )
        })
        .collect()
}

pub fn deletes(table: &str, rows: u64, batch: u64) -> Vec<String> {
    (0..rows)
        .step_by(batch as usize)
        .map(|from| {
            let to = (from + batch).min(rows);
            format!("DELETE FROM {table} WHERE id >= {from} AND id < {to}")
        })
        .collect()
}

pub async fn run_all(conn: &mut mysql_async::Conn, statements: &[String]) -> Result<f64> {
    let started = Instant::now();
    for sql in statements {
        conn.query_drop(sql).await?;
    }
    Ok(started.elapsed().as_secs_f64())
}
