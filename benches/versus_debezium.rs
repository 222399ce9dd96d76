//! Side by side with the reference (issue 7): the same MariaDB, the same broker, the same
//! registry (ours), the same workload, once through Kafka Connect 4.3 + Debezium 3.6.3's MySQL
//! connector + Confluent's AvroConverter, once through Tributary; one after the other.
//!
//! Phases, each timed from its first statement (or, for the snapshot and the backlog, from the
//! moment the connector is told to go) until its last change event has been read back from
//! Kafka: 146,570 inserts, 140,000 updates, 140,000 deletes in 1,000-row statements, then a
//! 1M-row initial snapshot, then a 1M-row binlog backlog (rows written while the connector is
//! stopped with `PUT /connectors/{name}/stop`, then `PUT …/resume`). Records are counted as they
//! are consumed (tansu's high watermark can trail the last batch). Peak RSS is each worker
//! process's VmHWM.
//!
//! ```sh
//! cargo bench --bench versus_debezium
//! cargo bench --bench versus_debezium -- --rows 1000000 --only tributary
//! ```
//!
//! Needs Java 17 and `../shared/reference/run-kafka-connect.sh` (or `TRIBUTARY_REFERENCE_DIR`);
//! its jars are cached in `~/.cache/tributary/reference`. MariaDB runs with
//! `--version=5.7.19-log` so that Debezium's MySQL connector accepts it; our connector does not
//! look at the version string.

#[path = "../tests/support/mod.rs"]
mod support;

#[path = "../tests/e2e/stack.rs"]
#[allow(dead_code)]
mod stack;

#[path = "support/cli.rs"]
mod cli;

#[path = "support/statements.rs"]
mod statements;

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use mysql_async::prelude::Queryable;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Offset, TopicPartitionList};
use stack::{vm_hwm_mb, Broker, MariaDb, Storage, Worker};
use statements::{deletes, inserts, run_all, updates, TABLE};
use support::Http;

struct Args {
    inserts: u64,
    updates: u64,
    deletes: u64,
    rows: u64,
    batch: u64,
    only: Option<String>,
}

fn args() -> Result<Args> {
    let mut a = Args {
        inserts: 146_570,
        updates: 140_000,
        deletes: 140_000,
        rows: 1_000_000,
        batch: 1000,
        only: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        match k.as_str() {
            "--bench" => {}
            "--inserts" => a.inserts = cli::number(&mut it, "--inserts")?,
            "--updates" => a.updates = cli::number(&mut it, "--updates")?,
            "--deletes" => a.deletes = cli::number(&mut it, "--deletes")?,
            "--rows" => a.rows = cli::number(&mut it, "--rows")?,
            "--batch" => a.batch = cli::number(&mut it, "--batch")?.max(1),
            "--only" => a.only = it.next(),
            other => bail!("unknown argument {other}"),
        }
    }
    Ok(a)
}

/// Counts the records of one single-partition topic as they are consumed.
struct Counter {
    count: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Counter {
    fn start(bootstrap: &str, topic: &str) -> Result<Counter> {
        let consumer: BaseConsumer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", bootstrap)
            .set("group.id", format!("bench-count-{}", support::uniq()))
            .set("enable.auto.commit", "false")
            .set("fetch.wait.max.ms", "20")
            .create()?;
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(topic, 0, Offset::Beginning)?;
        consumer.assign(&tpl)?;
        let count = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (c, s) = (count.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                if let Some(Ok(_)) = consumer.poll(Duration::from_millis(50)) {
                    c.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        Ok(Counter {
            count,
            stop,
            thread: Some(thread),
        })
    }

    /// Waits until `n` records were consumed; the moment it saw the last.
    async fn until(&self, n: u64, what: &str) -> Result<Instant> {
        let deadline = Instant::now() + Duration::from_secs(900);
        loop {
            let got = self.count.load(Ordering::Relaxed);
            if got >= n {
                return Ok(Instant::now());
            }
            if Instant::now() > deadline {
                bail!("waited 900 s for {what}: {got} of {n} records");
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

impl Drop for Counter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One of the two systems: where its REST API is, and its process's peak RSS.
trait System {
    fn name(&self) -> &'static str;
    fn api(&self) -> Http;
    fn peak_rss_mb(&self) -> f64;
    /// Its connector config for database `db`, topics under `prefix`.
    fn connector(&self, db: &str, prefix: &str, snapshot_mode: &str) -> BTreeMap<String, String>;
}

struct Tributary {
    worker: Worker,
    mariadb_port: u16,
}

impl System for Tributary {
    fn name(&self) -> &'static str {
        "Tributary"
    }
    fn api(&self) -> Http {
        self.worker.api()
    }
    fn peak_rss_mb(&self) -> f64 {
        self.worker.peak_rss_mb()
    }
    fn connector(&self, db: &str, prefix: &str, snapshot_mode: &str) -> BTreeMap<String, String> {
        common_config(self.mariadb_port, db, prefix, snapshot_mode)
    }
}

struct Debezium {
    rest: String,
    pid: u32,
    registry: String,
    bootstrap: String,
    mariadb_port: u16,
}

impl System for Debezium {
    fn name(&self) -> &'static str {
        "Kafka Connect + Debezium"
    }
    fn api(&self) -> Http {
        Http::new(self.rest.clone())
    }
    fn peak_rss_mb(&self) -> f64 {
        vm_hwm_mb(self.pid)
    }
    fn connector(&self, db: &str, prefix: &str, snapshot_mode: &str) -> BTreeMap<String, String> {
        let mut c = common_config(self.mariadb_port, db, prefix, snapshot_mode);
        for side in ["key", "value"] {
            c.insert(
                format!("{side}.converter.schema.registry.url"),
                self.registry.clone(),
            );
        }
        c.insert(
            "schema.history.internal.kafka.bootstrap.servers".into(),
            self.bootstrap.clone(),
        );
        c.insert(
            "schema.history.internal.kafka.topic".into(),
            format!("schemahistory.{prefix}"),
        );
        c
    }
}

impl Drop for Debezium {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.pid.to_string()).status();
    }
}

/// The recorded `connector.json`'s settings, property names unchanged.
fn common_config(
    port: u16,
    db: &str,
    prefix: &str,
    snapshot_mode: &str,
) -> BTreeMap<String, String> {
    [
        (
            "connector.class",
            "io.debezium.connector.mysql.MySqlConnector".to_owned(),
        ),
        ("tasks.max", "1".into()),
        ("database.hostname", "127.0.0.1".into()),
        ("database.port", port.to_string()),
        ("database.user", "root".into()),
        ("database.password", String::new()),
        (
            "database.server.id",
            (184_000 + support::uniq() % 1000).to_string(),
        ),
        ("topic.prefix", prefix.to_owned()),
        ("database.include.list", db.to_owned()),
        ("snapshot.mode", snapshot_mode.to_owned()),
        (
            "key.converter",
            "io.confluent.connect.avro.AvroConverter".into(),
        ),
        (
            "value.converter",
            "io.confluent.connect.avro.AvroConverter".into(),
        ),
        ("topic.creation.default.replication.factor", "1".into()),
        ("topic.creation.default.partitions", "1".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

async fn create(system: &dyn System, name: &str, config: &BTreeMap<String, String>) -> Result<()> {
    let body = serde_json::json!({ "name": name, "config": config });
    let (status, answer) = system.api().call("POST", "/connectors", Some(body)).await;
    if status != 201 {
        bail!(
            "{}: POST /connectors {name}: {status} {answer}",
            system.name()
        );
    }
    Ok(())
}

async fn put(system: &dyn System, path: &str) -> Result<()> {
    let (status, answer) = system.api().call("PUT", path, None).await;
    if !(200..300).contains(&status) {
        bail!("{}: PUT {path}: {status} {answer}", system.name());
    }
    Ok(())
}

/// Waits until the connector's task reports `state`.
async fn task_state(system: &dyn System, name: &str, state: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some((200, s)) = system
            .api()
            .try_get(&format!("/connectors/{name}/status"))
            .await
        {
            if s["tasks"][0]["state"] == state {
                return Ok(());
            }
            if s["tasks"][0]["state"] == "FAILED" {
                bail!(
                    "{}: {name} failed: {}",
                    system.name(),
                    s["tasks"][0]["trace"]
                );
            }
        }
        if Instant::now() > deadline {
            bail!("{}: {name} not {state} within 120 s", system.name());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

struct Result_ {
    phase: &'static str,
    rows: u64,
    rate: f64,
    /// Last event in Kafka after the phase's last statement committed (live phases).
    lag_s: Option<f64>,
}

async fn run_system(
    system: &dyn System,
    a: &Args,
    src: &mut mysql_async::Conn,
    bootstrap: &str,
    tag: &str,
) -> Result<Vec<Result_>> {
    let mut out = Vec::new();
    // Live phases: an empty table under capture, then the statements.
    let db = format!("live_{tag}");
    src.query_drop(format!("CREATE DATABASE {db}")).await?;
    src.query_drop(format!("CREATE TABLE {db}.orders {TABLE}"))
        .await?;
    let prefix = format!("live{tag}");
    create(system, &prefix, &system.connector(&db, &prefix, "initial")).await?;
    task_state(system, &prefix, "RUNNING").await?;
    // Give the connector time to finish its (empty) snapshot and reach the binlog.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let table = format!("{db}.orders");
    let topic = format!("{prefix}.{db}.orders");
    let mut expected = 0;
    let mut counter: Option<Counter> = None;
    for (phase, statements, rows, records) in [
        (
            "insert",
            inserts(&table, a.inserts, a.batch, false),
            a.inserts,
            a.inserts,
        ),
        (
            "update",
            updates(&table, a.updates, a.batch),
            a.updates,
            a.updates,
        ),
        // A delete and its tombstone.
        (
            "delete",
            deletes(&table, a.deletes, a.batch),
            a.deletes,
            2 * a.deletes,
        ),
    ] {
        eprintln!("{}: {phase} {rows} rows …", system.name());
        let started = Instant::now();
        run_all(src, &statements).await?;
        let last_statement = Instant::now();
        if counter.is_none() {
            // The topic exists once the first event is written.
            counter = Some(wait_counter(bootstrap, &topic).await?);
        }
        expected += records;
        let done = counter
            .as_ref()
            .context("counter")?
            .until(expected, &format!("{topic} after the {phase} phase"))
            .await?;
        out.push(Result_ {
            phase,
            rows,
            rate: rows as f64 / done.duration_since(started).as_secs_f64(),
            lag_s: Some(done.duration_since(last_statement).as_secs_f64()),
        });
    }

    // Snapshot of the shared 1M-row table.
    let prefix = format!("snap{tag}");
    eprintln!("{}: snapshot of {} rows …", system.name(), a.rows);
    let started = Instant::now();
    create(
        system,
        &prefix,
        &system.connector("snap", &prefix, "initial"),
    )
    .await?;
    let snap_topic = format!("{prefix}.snap.orders");
    let counter = wait_counter(bootstrap, &snap_topic).await?;
    let done = counter.until(a.rows, "the snapshot").await?;
    out.push(Result_ {
        phase: "snapshot",
        rows: a.rows,
        rate: a.rows as f64 / done.duration_since(started).as_secs_f64(),
        lag_s: None,
    });
    drop(counter);
    put(system, &format!("/connectors/{prefix}/stop")).await?;

    // Backlog: rows written while the connector is stopped.
    let db = format!("backlog_{tag}");
    src.query_drop(format!("CREATE DATABASE {db}")).await?;
    src.query_drop(format!("CREATE TABLE {db}.orders {TABLE}"))
        .await?;
    let prefix = format!("back{tag}");
    create(system, &prefix, &system.connector(&db, &prefix, "no_data")).await?;
    task_state(system, &prefix, "RUNNING").await?;
    tokio::time::sleep(Duration::from_secs(5)).await;
    put(system, &format!("/connectors/{prefix}/stop")).await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    eprintln!("{}: writing a {}-row backlog …", system.name(), a.rows);
    run_all(
        src,
        &inserts(&format!("{db}.orders"), a.rows, a.batch, false),
    )
    .await?;
    let started = Instant::now();
    put(system, &format!("/connectors/{prefix}/resume")).await?;
    let counter = wait_counter(bootstrap, &format!("{prefix}.{db}.orders")).await?;
    let done = counter.until(a.rows, "the backlog").await?;
    out.push(Result_ {
        phase: "binlog backlog",
        rows: a.rows,
        rate: a.rows as f64 / done.duration_since(started).as_secs_f64(),
        lag_s: None,
    });
    Ok(out)
}

/// A counter on a topic the connector creates when it writes its first record.
async fn wait_counter(bootstrap: &str, topic: &str) -> Result<Counter> {
    let deadline = Instant::now() + Duration::from_secs(120);
    let metadata: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()?;
    loop {
        let exists = metadata
            .fetch_metadata(Some(topic), Duration::from_secs(5))
            .map(|m| {
                m.topics()
                    .iter()
                    .any(|t| t.name() == topic && t.error().is_none() && !t.partitions().is_empty())
            })
            .unwrap_or(false);
        if exists {
            return Counter::start(bootstrap, topic);
        }
        if Instant::now() > deadline {
            bail!("topic {topic} did not appear within 120 s");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn start_reference(bootstrap: &str, registry: &str, mariadb_port: u16) -> Result<Debezium> {
    let dir = std::env::var("TRIBUTARY_REFERENCE_DIR")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/reference").to_owned());
    let script = format!("{dir}/run-kafka-connect.sh");
    let cache = std::env::var("HOME")
        .map(|h| format!("{h}/.cache/tributary/reference"))
        .unwrap_or_else(|_| "/tmp/tributary-reference".into());
    // Offsets of earlier runs must not leak into this one.
    let _ = std::fs::remove_file(format!("{cache}/connect.offsets"));
    let port = support::free_port();
    let out = Command::new("bash")
        .args([&script, bootstrap, &port.to_string(), &cache])
        .output()
        .with_context(|| format!("running {script}"))?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        bail!(
            "{script} failed: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let pid = text
        .split("(pid ")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .and_then(|p| p.trim().parse().ok())
        .with_context(|| format!("no pid in: {text}"))?;
    Ok(Debezium {
        rest: format!("http://127.0.0.1:{port}"),
        pid,
        registry: registry.to_owned(),
        bootstrap: bootstrap.to_owned(),
        mariadb_port,
    })
}

async fn bench(a: Args) -> Result<()> {
    let dir = tempfile::Builder::new().prefix("versus-bench-").tempdir()?;
    let state = dir.path().to_owned();
    eprintln!(
        "starting MariaDB (as MySQL 5.7.19), tansu and Tributary in {}",
        state.display()
    );
    let db = MariaDb::start_with(&state, "source", &["--version=5.7.19-log"]);
    let broker = Broker::start(&state, "broker", Storage::Memory);
    let bootstrap = broker.bootstrap();
    let worker = Worker::start(&state, "tributary", &bootstrap);
    worker.ready().await;
    let registry = format!("http://127.0.0.1:{}", worker.rest_port);
    let mut src = mysql_async::Conn::from_url(db.url().as_str()).await?;
    src.query_drop("CREATE DATABASE snap").await?;
    src.query_drop(format!("CREATE TABLE snap.orders {TABLE}"))
        .await?;
    eprintln!("loading {} rows for the snapshot …", a.rows);
    run_all(&mut src, &inserts("snap.orders", a.rows, a.batch, false)).await?;

    let mut table: Vec<(&'static str, Vec<Result_>, f64)> = Vec::new();
    if a.only.as_deref() != Some("tributary") {
        let reference = start_reference(&bootstrap, &registry, db.port)?;
        let results = run_system(&reference, &a, &mut src, &bootstrap, "dbz").await?;
        table.push((reference.name(), results, reference.peak_rss_mb()));
    }
    if a.only.as_deref() != Some("debezium") {
        let ours = Tributary {
            worker,
            mariadb_port: db.port,
        };
        let results = run_system(&ours, &a, &mut src, &bootstrap, "trib").await?;
        table.push((ours.name(), results, ours.peak_rss_mb()));
    }

    println!();
    println!(
        "MariaDB (as MySQL 5.7.19) → connector → {}, Avro through Tributary's registry; {} cores; {}-row statements",
        broker.build(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        a.batch
    );
    let head: Vec<String> = table
        .iter()
        .map(|(n, _, _)| format!("{n} rows/s (last event after last statement)"))
        .collect();
    println!("| phase | rows | {} | ratio |", head.join(" | "));
    println!("|---|---:|{}---:|", "---:|".repeat(head.len()));
    let phases = table.first().map_or(0, |(_, r, _)| r.len());
    for i in 0..phases {
        let cells: Vec<String> = table
            .iter()
            .map(|(_, r, _)| match r[i].lag_s {
                Some(l) => format!("{:.0} ({l:.2} s)", r[i].rate),
                None => format!("{:.0}", r[i].rate),
            })
            .collect();
        let ratio = if table.len() == 2 {
            format!("{:.1}×", table[1].1[i].rate / table[0].1[i].rate)
        } else {
            "–".into()
        };
        let first = &table[0].1[i];
        println!(
            "| {} | {} | {} | {ratio} |",
            first.phase,
            first.rows,
            cells.join(" | ")
        );
    }
    let rss: Vec<String> = table.iter().map(|(_, _, m)| format!("{m:.0} MB")).collect();
    let ratio = if table.len() == 2 {
        format!("1/{:.0}", table[0].2 / table[1].2.max(1.0))
    } else {
        "–".into()
    };
    println!("| peak RSS | | {} | {ratio} |", rss.join(" | "));
    Ok(())
}

fn main() {
    cli::run("versus_debezium", args, bench);
}
