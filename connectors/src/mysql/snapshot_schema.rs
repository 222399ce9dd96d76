//! The schema-change records of a snapshot, in the order Debezium writes them
//! (`BinlogSnapshotChangeEventSource.readTableStructure`): the server's character set as a
//! `SET` statement, a `DROP TABLE IF EXISTS` for every table, then for each database `DROP
//! DATABASE IF EXISTS`, `CREATE DATABASE` with its character set and collation, `USE`, and the
//! `CREATE TABLE` of each of its tables as `SHOW CREATE TABLE` prints it, with the table's
//! structure in `tableChanges`. A reader replaying the topic from its start rebuilds the schema.
//!
//! They are read on the snapshot's control connection while it still holds the global read
//! lock (when it takes one), so they describe the tables exactly as the snapshot reads them.

use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use tracing::debug;
use tributary_runtime::data::Value;
use tributary_runtime::record::SourceRecord;

use super::config::MySqlConfig;
use super::events::{schema_change_record, SchemaChange, SourceInfo};
use super::offset::MySqlOffset;
use super::table::Table;
use super::table_changes::{change, ChangeType, TableChangesError};

#[derive(Debug, thiserror::Error)]
pub enum SnapshotSchemaError {
    #[error(
        "reading the schema for the snapshot's schema-change records: {what} failed: {source}"
    )]
    Query {
        what: String,
        #[source]
        source: mysql_async::Error,
    },
    #[error("SHOW CREATE TABLE {0} returned nothing (dropped during the snapshot?)")]
    NoCreateTable(String),
    #[error(transparent)]
    TableChanges(#[from] TableChangesError),
}

/// The server's error for a table that does not exist.
const ER_NO_SUCH_TABLE: u16 = 1146;

fn quote(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

fn query_error(what: impl Into<String>) -> impl FnOnce(mysql_async::Error) -> SnapshotSchemaError {
    let what = what.into();
    move |source| SnapshotSchemaError::Query { what, source }
}

/// Debezium's `SET` statement for server variables: sorted by name, values with `,` or `;`
/// quoted.
pub fn set_statement(mut variables: Vec<(String, String)>) -> String {
    variables.sort();
    let assignments: Vec<String> = variables
        .into_iter()
        .map(|(name, value)| {
            if value.contains([',', ';']) {
                format!("{name}='{value}'")
            } else {
                format!("{name}={value}")
            }
        })
        .collect();
    format!("SET {}", assignments.join(", "))
}

/// The records, for `tables` (every table of the captured databases, ordered by database and
/// name), each with `info` as its source and `offset`.
pub async fn records(
    conn: &mut Conn,
    config: &MySqlConfig,
    tables: &[Table],
    info: &SourceInfo,
    offset: &MySqlOffset,
) -> Result<Vec<SourceRecord>, SnapshotSchemaError> {
    let mut out = Vec::with_capacity(tables.len() * 2 + 4);
    let mut record = |db: &str, table: Option<&str>, ddl: &str, table_changes: Vec<Value>| {
        out.push(schema_change_record(
            config,
            SchemaChange {
                db,
                table,
                ddl,
                table_changes,
            },
            info,
            offset,
        ));
    };

    let charset: Vec<(String, String)> = conn
        .query("SHOW VARIABLES WHERE Variable_name IN ('character_set_server','collation_server')")
        .await
        .map_err(query_error(
            "SHOW VARIABLES (character_set_server, collation_server)",
        ))?;
    record("", None, &set_statement(charset), Vec::new());

    for t in tables {
        let ddl = format!("DROP TABLE IF EXISTS {}.{}", quote(&t.db), quote(&t.name));
        let drop = change(ChangeType::Drop, &t.db, &t.name, None)?;
        record(&t.db, Some(&t.name), &ddl, vec![drop]);
    }

    let mut databases: Vec<&str> = tables.iter().map(|t| t.db.as_str()).collect();
    databases.dedup();
    for db in databases {
        let locale: Option<(Option<String>, Option<String>)> = conn
            .exec_first(
                "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
                (db,),
            )
            .await
            .map_err(query_error(format!("reading the character set of database {db}")))?;
        let mut create = format!("CREATE DATABASE {}", quote(db));
        if let Some((charset, collation)) = locale {
            if let Some(c) = charset {
                create.push_str(&format!(" CHARSET {c}"));
            }
            if let Some(c) = collation {
                create.push_str(&format!(" COLLATE {c}"));
            }
        }
        record(
            db,
            None,
            &format!("DROP DATABASE IF EXISTS {}", quote(db)),
            Vec::new(),
        );
        record(db, None, &create, Vec::new());
        record(db, None, &format!("USE {}", quote(db)), Vec::new());
        for t in tables.iter().filter(|t| t.db == db) {
            let name = format!("{}.{}", quote(&t.db), quote(&t.name));
            let row: Option<(String, String)> =
                match conn.query_first(format!("SHOW CREATE TABLE {name}")).await {
                    Ok(row) => row,
                    // Dropped since the tables were listed (possible only without the global
                    // read lock): a table the connector does not capture is just not described.
                    Err(mysql_async::Error::Server(e))
                        if e.code == ER_NO_SUCH_TABLE && !config.filters.table(&t.db, &t.name) =>
                    {
                        debug!(table = %name, "dropped during the schema snapshot; not described");
                        continue;
                    }
                    Err(e) => return Err(query_error(format!("SHOW CREATE TABLE {name}"))(e)),
                };
            let (_, ddl) = row.ok_or_else(|| SnapshotSchemaError::NoCreateTable(name.clone()))?;
            let create = change(ChangeType::Create, &t.db, &t.name, Some(t))?;
            record(&t.db, Some(&t.name), &ddl, vec![create]);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_statements_are_sorted_and_quote_lists() {
        assert_eq!(
            set_statement(vec![
                ("collation_server".into(), "latin1_swedish_ci".into()),
                ("character_set_server".into(), "latin1".into()),
            ]),
            "SET character_set_server=latin1, collation_server=latin1_swedish_ci"
        );
        assert_eq!(
            set_statement(vec![("x".into(), "a,b".into())]),
            "SET x='a,b'"
        );
    }
}
