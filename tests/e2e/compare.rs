//! Source and target compared by SQL on both sides: for every table, each row's key and an MD5
//! of its columns (`CONCAT_WS('|', …)`, which both MariaDB and PostgreSQL render alike for the
//! workload's types), so the comparison covers the row count, every key and every value.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;

use crate::workload::{DB, TABLES};

/// Key columns of each table, as the sink creates them from the record keys.
fn key_columns(table: &str) -> &'static [&'static str] {
    match table {
        "orders" => &["order_id", "line"],
        _ => &["id"],
    }
}

/// A database whose tables are compared.
pub enum Side {
    /// A MariaDB server URL (`mysql://…`) and the database holding the tables.
    MariaDb { url: String, db: String },
    /// A PostgreSQL URL and the schema holding the tables.
    Postgres { url: String, schema: String },
}

impl Side {
    pub fn source(url: &str) -> Side {
        Side::MariaDb {
            url: url.to_owned(),
            db: DB.to_owned(),
        }
    }

    /// Column names of `table` on the source, in order.
    async fn columns(&self, table: &str) -> Result<Vec<String>, String> {
        let Side::MariaDb { url, db } = self else {
            return Err("columns are read from the source (MariaDB)".into());
        };
        let mut c = mysql_async::Conn::from_url(url.as_str())
            .await
            .map_err(|e| e.to_string())?;
        let cols: Vec<String> = c
            .exec(
                "SELECT column_name FROM information_schema.columns \
                 WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
                (db.as_str(), table),
            )
            .await
            .map_err(|e| e.to_string())?;
        let _ = c.disconnect().await;
        Ok(cols)
    }

    /// key → MD5 of `columns` for every row of `table`.
    async fn rows(
        &self,
        table: &str,
        columns: &[String],
    ) -> Result<BTreeMap<String, String>, String> {
        let keys = key_columns(table);
        match self {
            Side::MariaDb { url, db } => {
                let sql = checksum_sql('`', db, table, keys, columns);
                let mut c = mysql_async::Conn::from_url(url.as_str())
                    .await
                    .map_err(|e| e.to_string())?;
                let rows: Vec<(String, String)> =
                    c.query(&sql).await.map_err(|e| format!("{sql}: {e}"))?;
                let _ = c.disconnect().await;
                Ok(rows.into_iter().collect())
            }
            Side::Postgres { url, schema } => {
                let sql = checksum_sql('"', schema, table, keys, columns);
                let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                    .await
                    .map_err(|e| e.to_string())?;
                let conn = tokio::spawn(connection);
                let rows = client.query(sql.as_str(), &[]).await.map_err(|e| {
                    // tokio-postgres shows "db error" alone; the server's message says which.
                    let detail = e
                        .as_db_error()
                        .map_or(e.to_string(), |d| d.message().to_owned());
                    format!("{sql}: {detail}")
                });
                drop(client);
                let _ = conn.await;
                Ok(rows?
                    .iter()
                    .map(|r| (r.get::<_, String>(0), r.get::<_, String>(1)))
                    .collect())
            }
        }
    }
}

/// `SELECT key, MD5(row)` for a table, identifiers quoted with `quote` (both databases have
/// `CONCAT_WS` and `MD5`, and skip NULLs in `CONCAT_WS` alike).
fn checksum_sql(
    quote: char,
    namespace: &str,
    table: &str,
    keys: &[&str],
    columns: &[String],
) -> String {
    let q = |c: &str| format!("{quote}{c}{quote}");
    let list = |cols: &mut dyn Iterator<Item = &str>| cols.map(q).collect::<Vec<_>>().join(", ");
    format!(
        "SELECT CONCAT_WS('/', {}), MD5(CONCAT_WS('|', {})) FROM {}.{}",
        list(&mut keys.iter().copied()),
        list(&mut columns.iter().map(String::as_str)),
        q(namespace),
        q(table)
    )
}

/// What differs between the source and a target.
pub struct Diff {
    pub table: String,
    pub source_rows: usize,
    pub target_rows: usize,
    pub missing: Vec<String>,
    pub extra: Vec<String>,
    pub different: Vec<String>,
}

impl fmt::Display for Diff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let few = |v: &[String]| v.iter().take(10).cloned().collect::<Vec<_>>().join(", ");
        write!(
            f,
            "table {}: source {} rows, target {} rows; missing keys ({}): [{}]; extra keys ({}): [{}]; different rows ({}): [{}]",
            self.table,
            self.source_rows,
            self.target_rows,
            self.missing.len(),
            few(&self.missing),
            self.extra.len(),
            few(&self.extra),
            self.different.len(),
            few(&self.different)
        )
    }
}

/// Compares every table once; `except` names keys (`table`, key) left out of the source's side.
pub async fn compare(
    source: &Side,
    target: &Side,
    except: &[(&str, &str)],
) -> Result<Vec<Diff>, String> {
    let mut diffs = Vec::new();
    for table in TABLES {
        let columns = source.columns(table).await?;
        let mut want = source.rows(table, &columns).await?;
        for (t, key) in except {
            if *t == table {
                want.remove(*key);
            }
        }
        let got = target.rows(table, &columns).await?;
        let missing: Vec<String> = want
            .keys()
            .filter(|k| !got.contains_key(*k))
            .cloned()
            .collect();
        let extra: Vec<String> = got
            .keys()
            .filter(|k| !want.contains_key(*k))
            .cloned()
            .collect();
        let different: Vec<String> = want
            .iter()
            .filter(|(k, v)| got.get(*k).is_some_and(|g| g != *v))
            .map(|(k, _)| k.clone())
            .collect();
        if !(missing.is_empty() && extra.is_empty() && different.is_empty()) {
            diffs.push(Diff {
                table: table.to_owned(),
                source_rows: want.len(),
                target_rows: got.len(),
                missing,
                extra,
                different,
            });
        }
    }
    Ok(diffs)
}

/// Waits until `target` equals `source` (all tables), or panics after `timeout` with the last
/// difference seen.
pub async fn wait_equal(
    what: &str,
    source: &Side,
    target: &Side,
    except: &[(&str, &str)],
    timeout: Duration,
) {
    let deadline = Instant::now() + timeout;
    loop {
        let last = match compare(source, target, except).await {
            Ok(d) if d.is_empty() => return,
            Ok(d) => d
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("\n"),
            Err(e) => e,
        };
        if Instant::now() >= deadline {
            panic!("{what}: the target did not equal the source within {timeout:?}; last seen:\n{last}");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
