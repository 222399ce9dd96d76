//! The end-to-end benchmark (issue 5): MariaDB → `mysql` source worker → broker → jdbc sink
//! worker → MariaDB, every part a separate process on this machine, with the shape of a
//! classic published workload: into one table, 146,570 inserts, then 140,000 updates, then
//! 140,000 deletes (1,000-row statements). Each phase is timed from its first statement until
//! the target shows its last change (the rows of the last statement, by primary key, then the
//! whole table, checked once). Then a steady 5,000 rows/s for `--latency-seconds`, with the
//! latency from each statement's commit at the source until its rows are all at the target.
//! In the same run, the target's own ceiling for the same statements from a plain client.
//!
//! ```sh
//! cargo bench --bench e2e                         # the full workload, tansu broker
//! cargo bench --bench e2e -- --inserts 20000 --updates 20000 --deletes 20000 --latency-seconds 5
//! cargo bench --bench e2e -- --broker mock        # librdkafka's mock cluster in this process
//! cargo bench --bench e2e -- --target-binlog off  # the target without a binary log
//! TRIBUTARY_BENCH_WORKER_LOG=info,tributary_runtime::worker=debug cargo bench --bench e2e -- --keep-state
//! ```
//!
//! Starts two private MariaDB servers (`scripts/mariadb.sh`), a tansu broker
//! (`scripts/tansu.sh`, memory storage), and two release `tributary` workers (source, sink)
//! whose peak RSS (VmHWM) is reported. State lives in a temporary folder, kept when the run
//! fails.
//!
//! The mock cluster keeps only the newest 5 MB of batches in each partition: when the sink
//! falls further behind (about 19,000 of these uncompressed records a partition), the mock
//! drops rows before the sink reads them, the sink worker logs `Offset out of range`, and the
//! phase waits out its 600 s limit.

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
    /// The sink's `tasks.max` and its `batch.size` (= `max.poll.records`).
    sink_tasks: u64,
    sink_batch: u64,
    /// Keep the state folder (the workers' logs among it) after a successful run.
    keep_state: bool,
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
        keep_state: false,
        sink_tasks: 1,
        sink_batch: 1000,
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
            "--keep-state" => a.keep_state = true,
            "--sink-tasks" => a.sink_tasks = cli::number(&mut it, "--sink-tasks")?.max(1),
            "--sink-batch" => a.sink_batch = cli::number(&mut it, "--sink-batch")?.max(1),
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

/// What shows that a phase has reached the target: a cheap check (the rows of the phase's
/// last statement, a primary-key range of `batch` rows) and the whole-table check that
/// proves it. The observer must not load the server it watches: a `COUNT(*)` of the full
/// table costs the target a scan of every row, so polling it every 20 ms could keep a good
/// part of a 2-core machine busy counting; the range check reads only `batch` rows.
struct Check {
    last: String,
    last_want: u64,
    whole: String,
    whole_want: u64,
}

impl Check {
    /// Counts the rows that meet `filter` (when given) among the last statement's ids
    /// `from..to`, and in the whole table.
    fn new(
        table: &str,
        (from, to): (u64, u64),
        filter: Option<&str>,
        last_want: u64,
        whole_want: u64,
    ) -> Check {
        let and = filter.map(|f| format!(" AND {f}")).unwrap_or_default();
        let filter = filter.map(|f| format!(" WHERE {f}")).unwrap_or_default();
        Check {
            last: format!("SELECT COUNT(*) FROM {table} WHERE id >= {from} AND id < {to}{and}"),
            last_want,
            whole: format!("SELECT COUNT(*) FROM {table}{filter}"),
            whole_want,
        }
    }
}

/// The ids `from..to` of the last `batch`-row statement over ids `0..rows`.
fn last_statement(rows: u64, batch: u64) -> (u64, u64) {
    (rows.saturating_sub(1) / batch * batch, rows)
}

/// Polls the target until `check` holds; the time it was seen to hold (after the whole-table
/// check returned: a few milliseconds late rather than early).
async fn until(conn: &mut mysql_async::Conn, check: &Check, limit: Duration) -> Result<Instant> {
    let deadline = Instant::now() + limit;
    loop {
        // The table appears with the first batch (auto.create).
        let last = count(conn, &check.last).await.unwrap_or(0);
        if last == check.last_want {
            let whole = count(conn, &check.whole).await.unwrap_or(0);
            if whole == check.whole_want {
                return Ok(Instant::now());
            }
        }
        if Instant::now() > deadline {
            bail!(
                "waited {limit:?} for `{}` to be {} and `{}` to be {} on the target (last {last})",
                check.last,
                check.last_want,
                check.whole,
                check.whole_want
            );
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
        format!("CREATE TABLE bench.warmup {TABLE}"),
    ] {
        src.query_drop(&sql).await?;
    }
    dst.query_drop("CREATE DATABASE bench").await?;
    dst.query_drop(format!("CREATE TABLE bench.ceiling {TABLE}"))
        .await?;

    let broker = Broker::start(&state, "broker", a.storage);
    let topics: Vec<String> = ["orders", "steady", "warmup"]
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
                ("topic.creation.default.replication.factor", "1".into()),
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
            ("tasks.max", a.sink_tasks.to_string()),
            ("batch.size", a.sink_batch.to_string()),
            (
                "consumer.override.max.poll.records",
                a.sink_batch.to_string(),
            ),
            // tansu holds a fetch for the whole fetch.wait.max.ms (500 ms by default) even when
            // it has data, where Kafka answers at once: the latency phase would measure that.
            ("consumer.override.fetch.wait.max.ms", "20".into()),
        ]),
    )
    .await;
    sink.wait_running(&["sink"]).await;

    // RUNNING is not flowing: the sink's consumer still has to join its group and be given
    // its partitions (about a second against tansu). One row through the whole pipeline, so
    // that the first phase times the replication, not the start-up.
    eprintln!("warm-up: one row through the pipeline …");
    src.query_drop(format!(
        "INSERT INTO bench.warmup {COLUMNS} VALUES {}",
        values(0, 1, "new")
    ))
    .await?;
    let warmup = Check::new("bench.warmup", (0, 1), None, 1, 1);
    until(&mut dst, &warmup, Duration::from_secs(120)).await?;

    // The pipeline, phase by phase.
    let limit = Duration::from_secs(600);
    let mut phases = Vec::new();
    let (ins, upd, del) = (
        last_statement(a.inserts, a.batch),
        last_statement(a.updates, a.batch),
        last_statement(a.deletes, a.batch),
    );
    let plan: [(&str, Vec<String>, u64, Check); 3] = [
        (
            "insert",
            inserts("bench.orders", a.inserts, a.batch, false),
            a.inserts,
            Check::new("bench.orders", ins, None, ins.1 - ins.0, a.inserts),
        ),
        (
            "update",
            updates("bench.orders", a.updates, a.batch),
            a.updates,
            Check::new(
                "bench.orders",
                upd,
                Some("status = 'updated'"),
                upd.1 - upd.0,
                a.updates,
            ),
        ),
        (
            "delete",
            deletes("bench.orders", a.deletes, a.batch),
            a.deletes,
            Check::new("bench.orders", del, None, 0, a.inserts - a.deletes),
        ),
    ];
    for (name, statements, rows, check) in plan {
        eprintln!("{name}: {rows} rows …");
        let started = Instant::now();
        let statements_s = run_all(&mut src, &statements).await?;
        let done = until(&mut dst, &check, limit).await?;
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
            let _ = tx.send((t * per_tick, Instant::now()));
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
        // A statement has arrived when its own rows have: a primary-key range, which costs
        // the target next to nothing (a whole-table count would grow with the table).
        while let Some((from, committed)) = pending.front().copied() {
            let sql = format!(
                "SELECT COUNT(*) FROM bench.steady WHERE id >= {from} AND id < {}",
                from + per_tick
            );
            if count(&mut dst, &sql).await.unwrap_or(0) < per_tick {
                break;
            }
            latencies.push(committed.elapsed().as_secs_f64() * 1000.0);
            pending.pop_front();
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
        "end to end: MariaDB → tributary (mysql source) → {} → tributary (jdbc sink) → MariaDB (binary log {}); {} cores; {}-row statements; sink tasks.max {}, batch.size {}",
        broker.build(),
        if a.target_binlog { "on" } else { "off" },
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        a.batch,
        a.sink_tasks,
        a.sink_batch
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
    if a.keep_state {
        drop((source, sink, broker, source_db, target_db));
        eprintln!("state kept in {}", dir.keep().display());
    }
    Ok(())
}

fn main() {
    cli::run("e2e", args, bench);
}
