//! The whole chain as a user runs it: a binlog MariaDB (source), a tansu broker, a worker
//! running the `mysql` source, one or two workers running two database sinks (a MariaDB target
//! and the machine's PostgreSQL), connectors created through `POST /connectors` only.

use std::collections::BTreeMap;
use std::time::Duration;

use mysql_async::prelude::Queryable;

use crate::compare::{wait_equal, Side};
use crate::stack::{Broker, MariaDb, Storage, Worker};
use crate::support::map;
use crate::workload::{self, Load, DB, NOTE_WIDTH, TABLES};

pub const SOURCE: &str = "source";
pub const SINKS: [&str; 2] = ["sink-mariadb", "sink-postgres"];
const PREFIX: &str = "e2e";
pub const PARTITIONS: i32 = 4;

/// What a test changes in the standard pipeline.
pub struct Options {
    pub storage: Storage,
    pub sink_workers: usize,
    /// Targets get `notes.body` narrower than some source values can be (a poison record).
    pub narrow_notes: bool,
    /// Extra settings for both sink connectors.
    pub sink_extra: Vec<(&'static str, &'static str)>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            storage: Storage::Memory,
            sink_workers: 1,
            narrow_notes: false,
            sink_extra: Vec::new(),
        }
    }
}

/// Fields drop in declaration order: the processes stop (their scripts read pid files in the
/// run's folder) before the folder goes.
pub struct Pipeline {
    pub source_worker: Worker,
    pub sink_workers: Vec<Worker>,
    pub broker: Broker,
    pub source_db: MariaDb,
    pub target_db: MariaDb,
    pub pg_schema: String,
    dir: Option<tempfile::TempDir>,
}

pub fn postgres_url() -> String {
    std::env::var("TRIBUTARY_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

pub fn topics() -> Vec<String> {
    TABLES
        .iter()
        .map(|t| format!("{PREFIX}.{DB}.{t}"))
        .collect()
}

pub fn dlq_topic(sink: &str) -> String {
    format!("dlq-{sink}")
}

async fn postgres(sql: &str) {
    let (client, connection) = tokio_postgres::connect(&postgres_url(), tokio_postgres::NoTls)
        .await
        .expect("PostgreSQL (scripts/test.sh ensures it runs)");
    let conn = tokio::spawn(connection);
    client
        .batch_execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    drop(client);
    let _ = conn.await;
}

impl Pipeline {
    pub async fn start(label: &str, options: Options) -> Pipeline {
        let dir = tempfile::Builder::new()
            .prefix(&format!("e2e-{label}-"))
            .tempdir()
            .expect("state folder");
        let state = dir.path().to_owned();

        let source_db = MariaDb::start(&state, "source");
        workload::prepare(&source_db.url()).await;
        let target_db = MariaDb::start(&state, "target");
        let pg_schema = format!("e2e_{label}_{}", std::process::id());
        let mut target = mysql_async::Conn::from_url(target_db.url().as_str())
            .await
            .expect("target MariaDB");
        target
            .query_drop(format!("CREATE DATABASE {DB}"))
            .await
            .expect("target database");
        postgres(&format!(
            "DROP SCHEMA IF EXISTS \"{pg_schema}\" CASCADE; CREATE SCHEMA \"{pg_schema}\""
        ))
        .await;
        if options.narrow_notes {
            let ddl = format!("(id BIGINT PRIMARY KEY, body VARCHAR({NOTE_WIDTH}))");
            target
                .query_drop(format!("CREATE TABLE {DB}.notes {ddl}"))
                .await
                .expect("narrow notes (MariaDB)");
            postgres(&format!("CREATE TABLE \"{pg_schema}\".notes {ddl}")).await;
        }
        let _ = target.disconnect().await;

        let broker = Broker::start(&state, "broker", options.storage);
        let mut all_topics = topics();
        all_topics.extend(SINKS.iter().map(|s| dlq_topic(s)));
        broker.create_topics(&all_topics, PARTITIONS).await;

        let source_worker = Worker::start(&state, "source", &broker.bootstrap());
        source_worker.ready().await;
        source_worker
            .create(SOURCE, &source_config(source_db.port))
            .await;
        source_worker.wait_running(&[SOURCE]).await;

        let mut sink_workers = Vec::new();
        for i in 0..options.sink_workers {
            let w = Worker::start(&state, &format!("sink-{i}"), &broker.bootstrap());
            w.ready().await;
            for sink in SINKS {
                let url = match sink {
                    "sink-mariadb" => format!("{}/{DB}", target_db.url()),
                    _ => format!("{}?currentSchema={pg_schema}", postgres_url()),
                };
                w.create(sink, &sink_config(sink, &url, &options.sink_extra))
                    .await;
            }
            w.wait_running(&SINKS).await;
            sink_workers.push(w);
        }

        Pipeline {
            dir: Some(dir),
            source_db,
            target_db,
            pg_schema,
            broker,
            source_worker,
            sink_workers,
        }
    }

    /// Starts the workload on the source; await the handle for what it did.
    pub fn load(&self, load: Load) -> tokio::task::JoinHandle<workload::Done> {
        tokio::spawn(workload::run(self.source_db.url(), load))
    }

    pub fn source(&self) -> Side {
        Side::source(&self.source_db.url())
    }

    pub fn targets(&self) -> [(&'static str, Side); 2] {
        [
            (
                "MariaDB target",
                Side::MariaDb {
                    url: self.target_db.url(),
                    db: DB.to_owned(),
                },
            ),
            (
                "PostgreSQL target",
                Side::Postgres {
                    url: postgres_url(),
                    schema: self.pg_schema.clone(),
                },
            ),
        ]
    }

    /// Waits until both targets equal the source (bar `except`), naming `when` on failure.
    pub async fn wait_converged(&self, when: &str, except: &[(&str, &str)]) {
        let source = self.source();
        for (name, target) in self.targets() {
            wait_equal(
                &format!("{name}, {when}"),
                &source,
                &target,
                except,
                Duration::from_secs(240),
            )
            .await;
        }
    }

    /// Removes what lives outside the run's folder (the PostgreSQL schema).
    pub async fn finish(self) {
        postgres(&format!(
            "DROP SCHEMA IF EXISTS \"{}\" CASCADE",
            self.pg_schema
        ))
        .await;
    }
}

impl Drop for Pipeline {
    /// A failed run keeps its folder (datadirs, broker and worker logs) and shows the broker
    /// build and the workers' last log lines with the failure.
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        eprintln!("----- broker: {}", self.broker.build());
        for w in std::iter::once(&self.source_worker).chain(&self.sink_workers) {
            let logs = w.logs();
            let tail: Vec<&str> = logs.lines().rev().take(40).collect();
            eprintln!("----- worker {} (last lines) -----", w.name);
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
        }
        if let Some(dir) = self.dir.take() {
            eprintln!("run folder kept: {}", dir.keep().display());
        }
    }
}

/// A Debezium MySQL connector config, property names unchanged.
fn source_config(port: u16) -> BTreeMap<String, String> {
    map(&[
        (
            "connector.class",
            "io.debezium.connector.mysql.MySqlConnector",
        ),
        ("database.hostname", "127.0.0.1"),
        ("database.port", &port.to_string()),
        ("database.user", "root"),
        ("database.password", ""),
        ("database.server.id", "5501"),
        ("topic.prefix", PREFIX),
        ("database.include.list", DB),
        ("snapshot.mode", "initial"),
        ("poll.interval.ms", "100"),
        ("topic.creation.default.partitions", &PARTITIONS.to_string()),
        ("topic.creation.default.replication.factor", "1"),
    ])
}

/// A Confluent JDBC sink config, property names unchanged, writing each table under its
/// source name.
fn sink_config(
    name: &str,
    url: &str,
    extra: &[(&'static str, &'static str)],
) -> BTreeMap<String, String> {
    let mut c = map(&[
        (
            "connector.class",
            "io.confluent.connect.jdbc.JdbcSinkConnector",
        ),
        ("topics", &topics().join(",")),
        ("connection.url", url),
        ("insert.mode", "upsert"),
        ("pk.mode", "record_key"),
        ("delete.enabled", "true"),
        ("auto.create", "true"),
        ("auto.evolve", "true"),
        ("table.name.format", "${source.table}"),
        // A killed sink's partitions move to the survivor within seconds, not 45 s.
        ("consumer.override.session.timeout.ms", "6000"),
        ("consumer.override.heartbeat.interval.ms", "1000"),
    ]);
    let dlq = dlq_topic(name);
    for (k, v) in extra {
        let v = if *v == "${dlq}" { dlq.as_str() } else { v };
        c.insert((*k).to_owned(), v.to_owned());
    }
    c
}
