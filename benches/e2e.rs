//! The end-to-end benchmark (issue 5): MariaDB → `mysql` source worker → broker → jdbc sink
//! worker → MariaDB, every part a separate process on this machine, with the shape of a
//! classic published workload: into one table, 146,570 inserts, then 140,000 updates, then
//! 140,000 deletes (1,000-row statements). Each phase is timed from its first statement until
//! the target shows its last change. Then a steady 5,000 rows/s for `--latency-seconds`, with
//! the latency from each statement's commit at the source until the target's row count covers
//! it. In the same run, the target's own ceiling for the same statements from a plain client.
//!
//! ```sh
//! cargo bench --bench e2e                         # the full workload, tansu broker
//! cargo bench --bench e2e -- --inserts 20000 --updates 20000 --deletes 20000 --latency-seconds 5
//! cargo bench --bench e2e -- --broker mock        # librdkafka's mock cluster in this process
//! cargo bench --bench e2e -- --target-binlog off  # the target without a binary log
//! ```
//!
//! Starts two private MariaDB servers (`scripts/mariadb.sh`), a tansu broker
//! (`scripts/tansu.sh`, memory storage), and two release `tributary` workers (source, sink)
//! whose peak RSS (VmHWM) is reported. State lives in a temporary folder, kept when the run
//! fails.

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
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use mysql_async::prelude::Queryable;
use stack::{Broker, MariaDb, Storage, Worker};
use statements::{deletes, inserts, run_all, updates, values, COLUMNS, TABLE};

struct Args {
    inserts: u64,
    updates: u64,
    deletes: u64,
    batch: u64,
    latency_seconds: u64,
    rate: u64,
    storage: Storage,
    /// Whether the target server keeps a binary log, as the source must (default: it does,
    /// like every server of `scripts/mariadb.sh`).
    target_binlog: bool,
}

fn args() -> Result<Args> {
    let mut a = Args {
        inserts: 146_570,
        updates: 140_000,
        deletes: 140_000,
        batch: 1000,
        latency_seconds: 20,
        rate: 5000,
        storage: Storage::Memory,
        target_binlog: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        match k.as_str() {
            "--bench" => {}
            "--inserts" => a.inserts = cli::number(&mut it, "--inserts")?,
            "--updates" => a.updates = cli::number(&mut it, "--updates")?,
            "--deletes" => a.deletes = cli::number(&mut it, "--deletes")?,
            "--batch" => a.batch = cli::number(&mut it, "--batch")?.max(1),
            "--latency-seconds" => a.latency_seconds = cli::number(&mut it, "--latency-seconds")?,
            "--rate" => a.rate = cli::number(&mut it, "--rate")?.max(1),
            "--broker" => {
                a.storage = match it.next().as_deref() {
                    Some("tansu") => Storage::Memory,
                    Some("mock") => Storage::Mock,
                    other => bail!("--broker tansu|mock, not {other:?}"),
                }
            }
            "--target-binlog" => {
                a.target_binlog = match it.next().as_deref() {
                    Some("on") => true,
                    Some("off") => false,
                    other => bail!("--target-binlog on|off, not {other:?}"),
                }
            }
            other => bail!("unknown argument {other}"),
        }
    }
    if a.updates > a.inserts || a.deletes > a.inserts {
        bail!("updates and deletes touch inserted rows: at most --inserts of each");
    }
    Ok(a)
}

async fn count(conn: &mut mysql_async::Conn, sql: &str) -> Result<u64> {
    Ok(conn.query_first::<u64, _>(sql).await?.unwrap_or(0))
}

/// Polls `sql` on the target until it answers `want`; the time it first did.
async fn until(
    conn: &mut mysql_async::Conn,
    sql: &str,
    want: u64,
    limit: Duration,
) -> Result<Instant> {
    let deadline = Instant::now() + limit;
    loop {
        // The table appears with the first batch (auto.create).
        let got = count(conn, sql).await.unwrap_or(0);
        if got == want {
            return Ok(Instant::now());
        }
        if Instant::now() > deadline {
            bail!("waited {limit:?} for `{sql}` to be {want} on the target (last {got})");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

struct Phase {
    name: &'static str,
    rows: u64,
    statements_s: f64,
    pipeline_s: f64,
    lag_s: f64,
    ceiling: f64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

async fn bench(a: Args) -> Result<()> {
    let dir = tempfile::Builder::new().prefix("e2e-bench-").tempdir()?;
    let state = dir.path().to_owned();
    eprintln!(
        "starting MariaDB ×2, the broker and two workers in {}",
        state.display()
    );
    let source_db = MariaDb::start(&state, "source");
    let target_db = if a.target_binlog {
        MariaDb::start(&state, "target")
    } else {
        MariaDb::start_with(&state, "target", &["--skip-log-bin"])
    };
    let mut src = mysql_async::Conn::from_url(source_db.url().as_str()).await?;
    let mut dst = mysql_async::Conn::from_url(target_db.url().as_str()).await?;
    for sql in [
        "CREATE DATABASE bench".to_owned(),
        format!("CREATE TABLE bench.orders {TABLE}"),
        format!("CREATE TABLE bench.steady {TABLE}"),
    ] {
        src.query_drop(&sql).await?;
    }
    dst.query_drop("CREATE DATABASE bench").await?;
    dst.query_drop(format!("CREATE TABLE bench.ceiling {TABLE}"))
        .await?;

    let broker = Broker::start(&state, "broker", a.storage);
    let topics: Vec<String> = ["orders", "steady"]
        .iter()
        .map(|t| format!("bench.bench.{t}"))
        .collect();
    broker.create_topics(&topics, 4).await;
    let source = Worker::start(&state, "source", &broker.bootstrap());
    let sink = Worker::start(&state, "sink", &broker.bootstrap());
    source.ready().await;
    sink.ready().await;
    let config = |pairs: &[(&str, String)]| -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    };
    source
        .create(
            "source",
            &config(&[
                (
                    "connector.class",
                    "io.debezium.connector.mysql.MySqlConnector".into(),
                ),
                ("database.hostname", "127.0.0.1".into()),
                ("database.port", source_db.port.to_string()),
                ("database.user", "root".into()),
                ("database.password", String::new()),
                ("database.server.id", "7301".into()),
                ("topic.prefix", "bench".into()),
                ("database.include.list", "bench".into()),
                ("include.schema.changes", "false".into()),
                ("topic.creation.default.partitions", "4".into()),
            ]),
        )
        .await;
    source.wait_running(&["source"]).await;
    sink.create(
        "sink",
        &config(&[
            (
                "connector.class",
                "io.confluent.connect.jdbc.JdbcSinkConnector".into(),
            ),
            ("topics", topics.join(",")),
            ("connection.url", format!("{}/bench", target_db.url())),
            ("insert.mode", "upsert".into()),
            ("pk.mode", "record_key".into()),
            ("delete.enabled", "true".into()),
            ("auto.create", "true".into()),
            ("table.name.format", "${source.table}".into()),
            ("batch.size", "1000".into()),
            ("consumer.override.max.poll.records", "1000".into()),
            // tansu holds a fetch for the whole fetch.wait.max.ms (500 ms by default) even when
            // it has data, where Kafka answers at once: the latency phase would measure that.
            ("consumer.override.fetch.wait.max.ms", "20".into()),
        ]),
    )
    .await;
    sink.wait_running(&["sink"]).await;

    // The pipeline, phase by phase.
    let limit = Duration::from_secs(600);
    let mut phases = Vec::new();
    let plan: [(&str, Vec<String>, u64, String, u64); 3] = [
        (
            "insert",
            inserts("bench.orders", a.inserts, a.batch, false),
            a.inserts,
            "SELECT COUNT(*) FROM bench.orders".into(),
            a.inserts,
        ),
        (
            "update",
            updates("bench.orders", a.updates, a.batch),
            a.updates,
            "SELECT COUNT(*) FROM bench.orders WHERE status = 'updated'".into(),
            a.updates,
        ),
        (
            "delete",
            deletes("bench.orders", a.deletes, a.batch),
            a.deletes,
            "SELECT COUNT(*) FROM bench.orders".into(),
            a.inserts - a.deletes,
        ),
    ];
    for (name, statements, rows, check, want) in plan {
        eprintln!("{name}: {rows} rows …");
        let started = Instant::now();
        let statements_s = run_all(&mut src, &statements).await?;
        let done = until(&mut dst, &check, want, limit).await?;
        let pipeline_s = done.duration_since(started).as_secs_f64();
        phases.push(Phase {
            name,
            rows,
            statements_s,
            pipeline_s,
            lag_s: pipeline_s - statements_s,
            ceiling: 0.0,
        });
    }

    // Latency at a steady rate: one statement every 10 ms.
    eprintln!("steady {} rows/s for {} s …", a.rate, a.latency_seconds);
    let per_tick = (a.rate / 100).max(1);
    let ticks = a.latency_seconds * 100;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(u64, Instant)>();
    let src_url = source_db.url();
    let writer = tokio::spawn(async move {
        let mut c = mysql_async::Conn::from_url(src_url.as_str()).await?;
        let start = Instant::now();
        for t in 0..ticks {
            tokio::time::sleep_until((start + Duration::from_millis(10 * t)).into()).await;
            let sql = format!(
                "INSERT INTO bench.steady {COLUMNS} VALUES {}",
                values(t * per_tick, per_tick, "new")
            );
            c.query_drop(sql).await?;
            let _ = tx.send(((t + 1) * per_tick, Instant::now()));
        }
        Ok::<_, anyhow::Error>(start.elapsed().as_secs_f64())
    });
    let mut latencies = Vec::new();
    let mut pending: std::collections::VecDeque<(u64, Instant)> = Default::default();
    let deadline = Instant::now() + Duration::from_secs(a.latency_seconds + 120);
    let mut open = true;
    while (open || !pending.is_empty()) && Instant::now() < deadline {
        while let Ok(p) = rx.try_recv() {
            pending.push_back(p);
        }
        if open && writer.is_finished() {
            open = false;
            while let Ok(p) = rx.try_recv() {
                pending.push_back(p);
            }
        }
        let seen = count(&mut dst, "SELECT COUNT(*) FROM bench.steady")
            .await
            .unwrap_or(0);
        let now = Instant::now();
        while pending.front().is_some_and(|(n, _)| *n <= seen) {
            if let Some((_, committed)) = pending.pop_front() {
                latencies.push(now.duration_since(committed).as_secs_f64() * 1000.0);
            }
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let writer_s = writer.await??;
    latencies.sort_by(f64::total_cmp);

    let source_rss = source.peak_rss_mb();
    let sink_rss = sink.peak_rss_mb();

    // The target's own ceiling for the same statements (upserts for the update phase).
    eprintln!("target ceiling …");
    let ceiling_phases = [
        inserts("bench.ceiling", a.inserts, a.batch, false),
        inserts("bench.ceiling", a.updates, a.batch, true),
        deletes("bench.ceiling", a.deletes, a.batch),
    ];
    for (phase, statements) in phases.iter_mut().zip(ceiling_phases) {
        let s = run_all(&mut dst, &statements).await?;
        phase.ceiling = phase.rows as f64 / s;
    }

    println!();
    println!(
        "end to end: MariaDB → tributary (mysql source) → {} → tributary (jdbc sink) → MariaDB (binary log {}); {} cores; {}-row statements",
        match a.storage {
            Storage::Mock => "librdkafka mock cluster",
            _ => "tansu 0.6.0 (memory)",
        },
        if a.target_binlog { "on" } else { "off" },
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        a.batch
    );
    println!("| phase | rows | statements s | last change at target s | rows/s end to end | last change after last statement s | target ceiling rows/s | end to end / ceiling |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for p in &phases {
        let rate = p.rows as f64 / p.pipeline_s;
        println!(
            "| {} | {} | {:.2} | {:.2} | {:.0} | {:.2} | {:.0} | {:.0}% |",
            p.name,
            p.rows,
            p.statements_s,
            p.pipeline_s,
            rate,
            p.lag_s,
            p.ceiling,
            100.0 * rate / p.ceiling
        );
    }
    println!(
        "steady {} rows/s for {:.1} s ({} statements): latency source commit → visible at target p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms ({} measured)",
        a.rate,
        writer_s,
        ticks,
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or(f64::NAN),
        latencies.len()
    );
    println!("worker peak RSS: source {source_rss:.0} MB, sink {sink_rss:.0} MB");
    Ok(())
}

fn main() {
    cli::run("e2e", args, bench);
}
