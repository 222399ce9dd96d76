//! Against a real binlog-enabled MariaDB (`scripts/mariadb.sh start cdc 3317`): the
//! scenario's `all_types` table, its catalog → schemas equal to Debezium's recorded Avro,
//! and the recorded rows read back both by a snapshot `SELECT` (binary and text protocol)
//! and from the binlog, each equal to Debezium's recorded `after`.
//!
//! URL: `TRIBUTARY_TEST_MARIADB_URL` (set by `scripts/test.sh`), else
//! `mysql://root@127.0.0.1:3317`; skipped (with a message) only when that default server is
//! unreachable and the variable is unset.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use mysql_async::binlog::events::{EventData, RowsEventData};
use mysql_async::prelude::Queryable;
use mysql_async::{BinlogStreamRequest, Conn, Opts, Row};
use serde_json::{Map, Value as Json};
use tokio::time::timeout;

use super::test_support::{
    assert_fields_match, our_row_fields, recorded_after, recorded_form, reference_row_fields,
    ALL_TYPES_V1, ALL_TYPES_V2,
};
use super::*;
use crate::mysql::row_images::RowImages;

const DEFAULT_URL: &str = "mysql://root@127.0.0.1:3317";
const SCENARIO: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/debezium-3.6.3-mysql/scenario.sql"
));
const STEP: Duration = Duration::from_secs(20);

type TestResult<T> = Result<T, String>;

/// Connects, or `None` (test skipped) when the default server is not there.
async fn connect() -> Option<(Conn, String)> {
    let from_env = std::env::var("TRIBUTARY_TEST_MARIADB_URL").ok();
    let url = from_env.clone().unwrap_or_else(|| DEFAULT_URL.to_owned());
    let opts = match Opts::from_url(&url) {
        Ok(o) => o,
        Err(e) => panic!("bad MariaDB URL {url}: {e}"),
    };
    match timeout(Duration::from_secs(10), Conn::new(opts)).await {
        Ok(Ok(conn)) => Some((conn, url)),
        failure => {
            let why = match failure {
                Ok(Err(e)) => e.to_string(),
                _ => "no answer within 10 s".to_owned(),
            };
            if from_env.is_some() {
                panic!("cannot connect to MariaDB at {url} (TRIBUTARY_TEST_MARIADB_URL): {why}");
            }
            eprintln!(
                "SKIP: no MariaDB at {url} ({why}); start one with `scripts/mariadb.sh start cdc 3317`"
            );
            None
        }
    }
}

/// Runs a statement with a bounded wait and a message naming it.
async fn run(conn: &mut Conn, sql: &str) -> TestResult<()> {
    timeout(STEP, conn.query_drop(sql))
        .await
        .map_err(|_| format!("timed out after {STEP:?} running: {sql}"))?
        .map_err(|e| format!("{e} running: {sql}"))
}

/// The scenario's statements about `refdb.all_types`, aimed at database `db`.
fn scenario_statements(db: &str) -> Vec<String> {
    let text: String = SCENARIO
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    text.split(';')
        .map(|s| s.trim().replace("refdb.", &format!("`{db}`.")))
        .filter(|s| !s.is_empty())
        .collect()
}

fn statement<'a>(statements: &'a [String], prefix: &str) -> TestResult<&'a str> {
    statements
        .iter()
        .find(|s| s.starts_with(prefix))
        .map(String::as_str)
        .ok_or_else(|| format!("scenario.sql has no statement starting with {prefix:?}"))
}

async fn columns_of(conn: &mut Conn, db: &str, table: &str) -> TestResult<Vec<Column>> {
    let rows: Vec<Row> = timeout(
        STEP,
        conn.exec(INFORMATION_SCHEMA_COLUMNS_QUERY, (db, table)),
    )
    .await
    .map_err(|_| "timed out reading information_schema.COLUMNS".to_owned())?
    .map_err(|e| format!("reading information_schema.COLUMNS: {e}"))?;
    Ok(rows
        .iter()
        .map(|r| {
            Column::from_information_schema_with(ColumnInfo::from_row(r), DefaultStyle::MariaDb)
        })
        .collect())
}

/// Compares converted values with the recorded `after` of row `id`; a column the recording
/// lacks (added after it was made) must hold `extra`'s value.
fn compare_row(
    what: &str,
    columns: &[Column],
    values: &[tributary_runtime::data::Value],
    expected: &Map<String, Json>,
    modes: &TypeModes,
) -> TestResult<()> {
    let mut mismatches = Vec::new();
    for (c, v) in columns.iter().zip(values) {
        let got = recorded_form(&connect_schema(c, modes), v);
        let want = match expected.get(&c.name) {
            Some(w) => w.clone(),
            // c_added came after the recording's rows; its default fills it.
            None => Json::String("dflt".into()),
        };
        if got != want {
            mismatches.push(format!("{}: got {got}, Debezium recorded {want}", c.name));
        }
    }
    if mismatches.is_empty() {
        Ok(())
    } else {
        Err(format!("{what}:\n  {}", mismatches.join("\n  ")))
    }
}

#[tokio::test]
async fn all_types_match_debezium_through_snapshot_and_binlog() {
    let Some((mut conn, url)) = connect().await else {
        return;
    };
    let (db, nanos) = database_name("types_test");
    let result = scenario(&mut conn, &url, &db, nanos).await;
    let dropped = run(&mut conn, &format!("DROP DATABASE IF EXISTS `{db}`")).await;
    let _ = timeout(STEP, conn.disconnect()).await;
    if let Err(e) = result {
        panic!("{e}");
    }
    if let Err(e) = dropped {
        panic!("cleanup: {e}");
    }
}

async fn scenario(conn: &mut Conn, url: &str, db: &str, nanos: u32) -> TestResult<()> {
    let modes = TypeModes::default();
    let statements = scenario_statements(db);
    run(conn, "SET time_zone = '+00:00', NAMES utf8mb4").await?;
    run(
        conn,
        &format!("CREATE DATABASE `{db}` CHARACTER SET utf8mb4"),
    )
    .await?;
    run(
        conn,
        statement(&statements, &format!("CREATE TABLE `{db}`.all_types"))?,
    )
    .await?;

    // The catalog as the server reports it → Debezium's schemas.
    let v1 = columns_of(conn, db, "all_types").await?;
    assert_fields_match(
        &our_row_fields("PREFIX.refdb.all_types.Value", &v1, &modes),
        &reference_row_fields(ALL_TYPES_V1),
    );
    run(
        conn,
        statement(&statements, &format!("ALTER TABLE `{db}`.all_types"))?,
    )
    .await?;
    let columns = columns_of(conn, db, "all_types").await?;
    assert_fields_match(
        &our_row_fields("PREFIX.refdb.all_types.Value", &columns, &modes),
        &reference_row_fields(ALL_TYPES_V2),
    );

    // Where the binlog stands before the rows go in.
    let (file, pos) = binlog_position(conn).await?;

    // Row 1 lists every column but c_added, which the scenario adds only later.
    let v1_names: Vec<String> = v1.iter().map(|c| format!("`{}`", c.name)).collect();
    let insert_1 = statement(
        &statements,
        &format!("INSERT INTO `{db}`.all_types VALUES (1,"),
    )?
    .replacen(
        " VALUES (1,",
        &format!(" ({}) VALUES (1,", v1_names.join(", ")),
        1,
    );
    run(conn, &insert_1).await?;
    run(
        conn,
        statement(
            &statements,
            &format!("INSERT INTO `{db}`.all_types (id, c_decimal"),
        )?,
    )
    .await?;
    let expected = [(1, recorded_after(1)), (3, recorded_after(3))];

    // Snapshot, both protocols.
    for protocol in [Protocol::Binary, Protocol::Text] {
        let rows = snapshot_rows(conn, db, "all_types", &columns, protocol, &modes).await?;
        if rows.len() != expected.len() {
            return Err(format!("{protocol:?} SELECT returned {} rows", rows.len()));
        }
        for (values, (id, after)) in rows.iter().zip(&expected) {
            compare_row(
                &format!("snapshot ({protocol:?} protocol) id={id}"),
                &columns,
                values,
                after,
                &modes,
            )?;
        }
    }

    // Binlog: from the position above, as a replica would read it.
    let streamed = binlog_rows(
        url,
        (&file, pos),
        db,
        "all_types",
        &columns,
        expected.len(),
        nanos,
        &modes,
    )
    .await?;
    for (values, (id, after)) in streamed.iter().zip(&expected) {
        compare_row(&format!("binlog id={id}"), &columns, values, after, &modes)?;
    }
    Ok(())
}

#[derive(Clone, Copy, Debug)]
enum Protocol {
    Binary,
    Text,
}

async fn binlog_position(conn: &mut Conn) -> TestResult<(String, u64)> {
    let status: Option<Row> = timeout(STEP, conn.query_first("SHOW MASTER STATUS"))
        .await
        .map_err(|_| "timed out on SHOW MASTER STATUS".to_owned())?
        .map_err(|e| format!("SHOW MASTER STATUS: {e}"))?;
    let status = status.ok_or("SHOW MASTER STATUS is empty: is the binlog on?")?;
    let file: String = status
        .get(0)
        .ok_or("no binlog file in SHOW MASTER STATUS")?;
    let pos: u64 = status
        .get(1)
        .ok_or("no binlog position in SHOW MASTER STATUS")?;
    Ok((file, pos))
}

/// Every row of `db.table` ordered by `id`, converted with [`from_row`].
async fn snapshot_rows(
    conn: &mut Conn,
    db: &str,
    table: &str,
    columns: &[Column],
    protocol: Protocol,
    modes: &TypeModes,
) -> TestResult<Vec<Vec<tributary_runtime::data::Value>>> {
    let names: Vec<String> = columns.iter().map(|c| format!("`{}`", c.name)).collect();
    let select = format!(
        "SELECT {} FROM `{db}`.`{table}` ORDER BY id",
        names.join(", ")
    );
    let rows: Vec<Row> = match protocol {
        Protocol::Binary => timeout(STEP, conn.exec(select.as_str(), ())).await,
        Protocol::Text => timeout(STEP, conn.query(select.as_str())).await,
    }
    .map_err(|_| format!("timed out on the snapshot SELECT ({protocol:?})"))?
    .map_err(|e| format!("snapshot SELECT ({protocol:?} protocol): {e}"))?;
    rows.iter()
        .map(|row| {
            columns
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let v = row.as_ref(i).ok_or(format!("no value for {}", c.name))?;
                    from_row(c, v, modes).map_err(|e| e.to_string())
                })
                .collect::<TestResult<Vec<_>>>()
        })
        .collect()
}

/// The after images of the first `wanted` WRITE_ROWS rows of `db.table` from `from` on,
/// converted with [`from_binlog`].
#[allow(clippy::too_many_arguments)]
async fn binlog_rows(
    url: &str,
    from: (&str, u64),
    db: &str,
    table: &str,
    columns: &[Column],
    wanted: usize,
    nanos: u32,
    modes: &TypeModes,
) -> TestResult<Vec<Vec<tributary_runtime::data::Value>>> {
    let (file, pos) = from;
    let mut replica = connect()
        .await
        .ok_or_else(|| format!("second connection to {url} failed"))?
        .0;
    run(
        &mut replica,
        "SET @master_binlog_checksum = @@global.binlog_checksum",
    )
    .await?;
    run(&mut replica, "SET @mariadb_slave_capability = 4").await?;
    let server_id = 100_000 + nanos % 1_000_000 + wanted as u32;
    let mut stream = timeout(
        STEP,
        replica.get_binlog_stream(
            BinlogStreamRequest::new(server_id)
                .with_filename(file.as_bytes())
                .with_pos(pos)
                .with_non_blocking(),
        ),
    )
    .await
    .map_err(|_| "timed out opening the binlog stream".to_owned())?
    .map_err(|e| format!("opening the binlog stream at {file}:{pos}: {e}"))?;

    let mut streamed: Vec<Vec<tributary_runtime::data::Value>> = Vec::new();
    while streamed.len() < wanted {
        let next = timeout(STEP, stream.next()).await.map_err(|_| {
            format!(
                "no binlog event within {STEP:?}; have {} of {wanted} rows",
                streamed.len()
            )
        })?;
        let Some(event) = next else {
            return Err(format!(
                "binlog ended with {} of {wanted} rows",
                streamed.len()
            ));
        };
        let event = event.map_err(|e| format!("reading the binlog: {e}"))?;
        let data = event
            .read_data()
            .map_err(|e| format!("decoding a binlog event: {e}"))?;
        let Some(EventData::RowsEvent(rows)) = data else {
            continue;
        };
        let tme = stream
            .get_tme(rows.table_id())
            .ok_or("ROWS event without its TABLE_MAP")?;
        if tme.database_name() != db || tme.table_name() != table {
            continue;
        }
        if !matches!(
            rows,
            RowsEventData::WriteRowsEvent(_) | RowsEventData::WriteRowsEventV1(_)
        ) {
            continue;
        }
        // The connector reads row images in place; mysql_common's own rows must agree.
        let images: Vec<_> = RowImages::new(&rows, tme)
            .map_err(|e| format!("reading the rows: {e}"))?
            .collect();
        let references: Vec<_> = rows.rows(tme).collect();
        if images.len() != references.len() {
            return Err(format!(
                "{} rows read in place, {} by mysql_common",
                images.len(),
                references.len()
            ));
        }
        for (image, reference) in images.into_iter().zip(references) {
            let (_, after) = image.map_err(|e| format!("reading a WRITE_ROWS row: {e}"))?;
            let after = after.ok_or("WRITE_ROWS row without an after image")?;
            let (_, reference) =
                reference.map_err(|e| format!("decoding a WRITE_ROWS row: {e}"))?;
            let reference = reference.ok_or("mysql_common: no after image")?;
            let values = columns
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let v = after.get(i).ok_or(format!("binlog row lacks {}", c.name))?;
                    if reference.as_ref(i) != Some(v) {
                        return Err(format!(
                            "column {}: read in place {v:?}, mysql_common {:?}",
                            c.name,
                            reference.as_ref(i)
                        ));
                    }
                    from_binlog(c, v, modes).map_err(|e| e.to_string())
                })
                .collect::<TestResult<Vec<_>>>()?;
            streamed.push(values);
        }
    }
    let _ = timeout(STEP, stream.close()).await;
    Ok(streamed)
}

/// A unique database name per test run.
fn database_name(prefix: &str) -> (String, u32) {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    (format!("{prefix}_{}_{nanos}", std::process::id()), nanos)
}

#[tokio::test]
async fn snapshot_and_binlog_agree_on_edge_values() {
    let Some((mut conn, url)) = connect().await else {
        return;
    };
    let (db, nanos) = database_name("types_test_edge");
    let result = edge_scenario(&mut conn, &url, &db, nanos).await;
    let dropped = run(&mut conn, &format!("DROP DATABASE IF EXISTS `{db}`")).await;
    let _ = timeout(STEP, conn.disconnect()).await;
    if let Err(e) = result {
        panic!("{e}");
    }
    if let Err(e) = dropped {
        panic!("cleanup: {e}");
    }
}

async fn edge_scenario(conn: &mut Conn, url: &str, db: &str, nanos: u32) -> TestResult<()> {
    use tributary_runtime::data::Value;
    let modes = TypeModes::default();
    // Zero dates need a permissive sql_mode.
    run(
        conn,
        "SET time_zone = '+00:00', NAMES utf8mb4, sql_mode = ''",
    )
    .await?;
    run(
        conn,
        &format!("CREATE DATABASE `{db}` CHARACTER SET utf8mb4"),
    )
    .await?;
    run(
        conn,
        &format!(
            "CREATE TABLE `{db}`.edge (id INT PRIMARY KEY, \
             l1 VARCHAR(20) CHARACTER SET latin1, u3 VARCHAR(10) CHARACTER SET utf8mb3, \
             d_zero DATE NULL, d_nn DATE NOT NULL DEFAULT '2000-01-01', dt_zero DATETIME(3) NULL, \
             ts_zero TIMESTAMP NULL, e ENUM('q''r','s,t','') NULL, s SET('x','y','z') NULL, \
             p POINT NULL, g GEOMETRY NULL, f73 FLOAT(7,3) NULL, bin BINARY(4) NULL, \
             bits BIT(64) NULL, t_neg TIME(3) NULL, y YEAR NULL, mi MEDIUMINT NULL, \
             miu MEDIUMINT UNSIGNED NULL, bu BIGINT UNSIGNED NULL, dflt VARCHAR(10) NOT NULL DEFAULT 'x')"
        ),
    )
    .await?;
    let columns = columns_of(conn, db, "edge").await?;
    let (file, pos) = binlog_position(conn).await?;
    run(
        conn,
        &format!(
            "INSERT INTO `{db}`.edge VALUES (1, 'chär €', 'ü', '0000-00-00', '0000-00-00', \
             '0000-00-00 00:00:00', '0000-00-00 00:00:00', 'q''r', 'x,z', POINT(1.5, -2), \
             ST_GeomFromText('LINESTRING(0 0,1 1)'), 1.5, 0x0102, b'1000000000000000000000000000000000000000000000000000000000000001', \
             '-00:00:01.500', 69, -1, 16777215, 18446744073709551615, 'y'), \
             (2, NULL, NULL, NULL, '2020-02-02', NULL, NULL, 's,t', NULL, NULL, NULL, NULL, NULL, \
             NULL, NULL, NULL, -8388608, NULL, NULL, DEFAULT)"
        ),
    )
    .await?;

    let binary = snapshot_rows(conn, db, "edge", &columns, Protocol::Binary, &modes).await?;
    let text = snapshot_rows(conn, db, "edge", &columns, Protocol::Text, &modes).await?;
    let binlog = binlog_rows(url, (&file, pos), db, "edge", &columns, 2, nanos, &modes).await?;
    let value = |rows: &[Vec<Value>], row: usize, name: &str| -> Value {
        let i = columns
            .iter()
            .position(|c| c.name == name)
            .unwrap_or(usize::MAX);
        rows.get(row)
            .and_then(|r| r.get(i))
            .cloned()
            .unwrap_or(Value::Null)
    };

    let mut problems = Vec::new();
    for row in 0..2 {
        for c in &columns {
            let (b, t, l) = (
                value(&binary, row, &c.name),
                value(&text, row, &c.name),
                value(&binlog, row, &c.name),
            );
            if c.name == "ts_zero" && row == 0 {
                // Debezium too: the binlog holds epoch 0, the snapshot reads a zero date (NULL).
                if l != Value::String("1970-01-01T00:00:00Z".into())
                    || b != Value::Null
                    || t != Value::Null
                {
                    problems.push(format!("ts_zero: binary {b:?}, text {t:?}, binlog {l:?}"));
                }
                continue;
            }
            if b != t || b != l {
                problems.push(format!(
                    "row {row} {}: binary {b:?}, text {t:?}, binlog {l:?}",
                    c.name
                ));
            }
        }
    }
    let wkb_point = |x: f64, y: f64| {
        let mut w = vec![1, 1, 0, 0, 0];
        w.extend(x.to_le_bytes());
        w.extend(y.to_le_bytes());
        w
    };
    let expectations = [
        ("l1", Value::String("chär €".into())),
        ("u3", Value::String("ü".into())),
        ("d_zero", Value::Null),
        // A NOT NULL column without a value gets its default (Debezium's convertValue).
        ("d_nn", Value::Int32(10957)),
        ("dt_zero", Value::Null),
        ("e", Value::String("q'r".into())),
        ("s", Value::String("x,z".into())),
        ("f73", Value::Float64(1.5)),
        ("bin", Value::Bytes(vec![1, 2, 0, 0])),
        ("bits", Value::Bytes(vec![1, 0, 0, 0, 0, 0, 0, 0x80])),
        ("t_neg", Value::Int64(-1_500_000)),
        ("y", Value::Int32(2069)),
        ("mi", Value::Int32(-1)),
        ("miu", Value::Int32(16_777_215)),
        ("bu", Value::Int64(-1)),
        ("dflt", Value::String("y".into())),
    ];
    for (name, want) in expectations {
        let got = value(&binlog, 0, name);
        if got != want {
            problems.push(format!("{name}: got {got:?}, expected {want:?}"));
        }
    }
    match value(&binlog, 0, "p") {
        Value::Struct(p) => {
            let want = [
                Value::Float64(1.5),
                Value::Float64(-2.0),
                Value::Bytes(wkb_point(1.5, -2.0)),
                Value::Null,
            ];
            if p.values != want {
                problems.push(format!("p: {:?}", p.values));
            }
        }
        other => problems.push(format!("p: {other:?}")),
    }
    for (name, want) in [
        ("e", Value::String("s,t".into())),
        ("mi", Value::Int32(-8_388_608)),
        ("dflt", Value::String("x".into())),
        ("d_nn", Value::Int32(18294)),
    ] {
        let got = value(&binlog, 1, name);
        if got != want {
            problems.push(format!("row 2 {name}: got {got:?}, expected {want:?}"));
        }
    }
    // Catalog → schema details.
    let schema_of = |name: &str| {
        columns
            .iter()
            .find(|c| c.name == name)
            .map(|c| connect_schema(c, &modes))
    };
    if schema_of("e")
        .and_then(|s| s.parameter("allowed").map(str::to_owned))
        .as_deref()
        != Some(r"q'r,s\,t,")
    {
        problems.push(format!(
            "e allowed: {:?}",
            schema_of("e").map(|s| s.parameters.clone())
        ));
    }
    if schema_of("dflt").and_then(|s| s.default.clone()) != Some(Value::String("x".into())) {
        problems.push("dflt has no default 'x'".into());
    }
    if schema_of("d_nn").and_then(|s| s.default.clone()) != Some(Value::Int32(10957)) {
        problems.push("d_nn has no default 2000-01-01".into());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("edge values:\n  {}", problems.join("\n  ")))
    }
}
