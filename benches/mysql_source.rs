//! The MySQL/MariaDB source benchmark (issue 3): binlog backlog capture and initial snapshot
//! throughput of the release `tributary` binary, measured against two ceilings taken in the
//! same run on the same machine: the broker's raw produce rate for records of the same size,
//! and the rate at which the server streams the same binlog range to a plain reader.
//!
//! ```sh
//! cargo bench --bench mysql_source                 # 1,000,000 rows
//! cargo bench --bench mysql_source -- --rows 200000
//! cargo bench --bench mysql_source -- --perf       # also a `perf` profile of each worker phase
//! cargo bench --bench mysql_source -- --perf-callgraph   # … with inclusive times (DWARF unwinding)
//! ```
//!
//! Needs the private binlog MariaDB of `scripts/mariadb.sh` on 127.0.0.1:3317 (started here if
//! it does not answer; `TRIBUTARY_BENCH_MARIADB_URL` points elsewhere). Kafka is librdkafka's
//! mock cluster hosted in this process (a real Kafka-protocol server on 127.0.0.1); it keeps
//! only about 5 MB per partition, so records are counted by the topic's high watermarks (the
//! sum over partitions is the number of records produced), not by reading them back.
//!
//! Phases, one after the other so they do not compete for the two cores:
//! 1. load: `bench_src.orders` (~120-byte rows), N rows in multi-row INSERTs of 1,000, after
//!    recording `SHOW MASTER STATUS`;
//! 2. capture: a worker process with an offset file pointing at the recorded position
//!    (`snapshot.mode=never` resumes there) until N change events are in Kafka;
//! 3. snapshot: a second worker, fresh offsets, `snapshot.mode=initial_only`, until N `r`
//!    events are in Kafka;
//! 4. ceilings: an rdkafka producer in this process with the worker's producer settings, N
//!    records of the observed average key/value size to the same number of partitions; and a
//!    mysql_async `BinlogStream` from the recorded position decoding rows until N rows (and,
//!    for reference, the same events streamed again without decoding anything).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use futures::StreamExt;
use mysql_async::binlog::events::EventData;
use mysql_async::prelude::Queryable;
use mysql_async::{BinlogStreamRequest, Conn, Opts};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseProducer, BaseRecord, DefaultProducerContext, Producer};
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use tributary_runtime::config::ConfigMap;
use tributary_runtime::kafka::KafkaSettings;

const DB: &str = "bench_src";
const TABLE: &str = "orders";
const PARTITIONS: i32 = 64;
const INSERT_BATCH: u64 = 1_000;
const CAPTURE_PREFIX: &str = "bench";
const SNAPSHOT_PREFIX: &str = "snap";
const CEILING_TOPIC: &str = "bench-ceiling";
const CEILING_WARMUP: &str = "bench-ceiling-warmup";
const POLL: Duration = Duration::from_millis(50);

/// Targets of issue 3, for context.
const TARGET_CAPTURE: f64 = 150_000.0;
const TARGET_CAPTURE_SHARE: f64 = 0.5;
const TARGET_RSS_MB: f64 = 150.0;
const TARGET_SNAPSHOT: f64 = 200_000.0;

type Kafka = MockCluster<'static, DefaultProducerContext>;

struct Args {
    rows: u64,
    perf: Option<PerfMode>,
}

#[derive(Clone, Copy)]
enum PerfMode {
    /// Self time by symbol.
    Flat,
    /// Time including callees, by symbol (DWARF call graphs: slower, bigger).
    CallGraph,
}

fn args() -> Result<Args> {
    let mut out = Args {
        rows: 1_000_000,
        perf: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--rows" => {
                let v = it.next().context("--rows needs a number")?;
                out.rows = v
                    .replace(['_', ','], "")
                    .parse()
                    .with_context(|| format!("--rows {v}: not a number"))?;
                if out.rows == 0 {
                    bail!("--rows must be at least 1");
                }
            }
            "--perf" => out.perf = Some(PerfMode::Flat),
            "--perf-callgraph" => out.perf = Some(PerfMode::CallGraph),
            // `cargo bench` passes --bench; filters and other harness flags mean nothing here.
            _ => {}
        }
    }
    Ok(out)
}

fn main() {
    // The test command (`cargo test --all-targets`) runs bench targets too, without `--bench`:
    // a million-row benchmark in a debug build is no test, so it only says how to run it.
    if !std::env::args().any(|a| a == "--bench") {
        println!("mysql_source is a benchmark: cargo bench --bench mysql_source");
        return;
    }
    let args = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("mysql_source bench: {e:#}");
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    if let Err(e) = runtime.block_on(bench(args)) {
        eprintln!("\nmysql_source bench FAILED: {e:#}");
        std::process::exit(1);
    }
}

// ---------------------------------------------------------------------------------------------
// Machine and process measurements (/proc)

fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, m)| m.trim().to_owned())
        .unwrap_or_else(|| "unknown CPU".into());
    let nproc = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0 / 1024.0)
        .unwrap_or(0.0);
    format!("nproc {nproc}, {model}, {mem_gib:.1} GiB RAM")
}

fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// A `VmXxx:` line of /proc/<pid>/status, in MB.
fn vm_mb(pid: u32, key: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// (name, utime+stime in ticks) from the text of a /proc/…/stat file.
fn parse_stat(stat: &str) -> Option<(String, u64)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let name = stat[open + 1..close].to_owned();
    let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
    // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((name, utime + stime))
}

/// CPU ticks of a whole process (threads that exited included).
fn process_ticks(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| parse_stat(&s))
        .map(|(_, t)| t)
        .unwrap_or(0)
}

/// CPU ticks of each live thread of a process: tid → (name, ticks).
fn thread_ticks(pid: u32) -> BTreeMap<u64, (String, u64)> {
    let mut out = BTreeMap::new();
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return out;
    };
    for entry in dir.flatten() {
        let Ok(tid) = entry.file_name().to_string_lossy().parse::<u64>() else {
            continue;
        };
        if let Some(parsed) = std::fs::read_to_string(entry.path().join("stat"))
            .ok()
            .and_then(|s| parse_stat(&s))
        {
            out.insert(tid, parsed);
        }
    }
    out
}

/// CPU use of one process over a phase.
#[derive(Clone, Default)]
struct CpuUse {
    total_s: f64,
    /// thread name → (threads, seconds), busiest first.
    threads: Vec<(String, usize, f64)>,
}

struct CpuProbe {
    pid: u32,
    ticks: u64,
    threads: BTreeMap<u64, (String, u64)>,
}

impl CpuProbe {
    fn start(pid: u32) -> CpuProbe {
        CpuProbe {
            pid,
            ticks: process_ticks(pid),
            threads: thread_ticks(pid),
        }
    }

    /// A probe of a process started during the phase: everything counts.
    fn zero(pid: u32) -> CpuProbe {
        CpuProbe {
            pid,
            ticks: 0,
            threads: BTreeMap::new(),
        }
    }

    fn finish(&self, hz: f64) -> CpuUse {
        let total = process_ticks(self.pid).saturating_sub(self.ticks);
        let mut by_name: BTreeMap<String, (usize, u64)> = BTreeMap::new();
        for (tid, (name, ticks)) in thread_ticks(self.pid) {
            let before = self.threads.get(&tid).map(|(_, t)| *t).unwrap_or(0);
            let e = by_name.entry(name).or_default();
            e.0 += 1;
            e.1 += ticks.saturating_sub(before);
        }
        let mut threads: Vec<(String, usize, f64)> = by_name
            .into_iter()
            .map(|(n, (c, t))| (n, c, t as f64 / hz))
            .filter(|(_, _, s)| *s >= 0.05)
            .collect();
        threads.sort_by(|a, b| b.2.total_cmp(&a.2));
        CpuUse {
            total_s: total as f64 / hz,
            threads,
        }
    }
}

impl CpuUse {
    fn describe(&self, wall: f64) -> String {
        let threads: Vec<String> = self
            .threads
            .iter()
            .take(6)
            .map(|(n, c, s)| {
                if *c > 1 {
                    format!("{n} ×{c} {s:.1} s")
                } else {
                    format!("{n} {s:.1} s")
                }
            })
            .collect();
        format!(
            "{:.1} s CPU = {:.0}% of one core [{}]",
            self.total_s,
            100.0 * self.total_s / wall.max(1e-9),
            threads.join(", ")
        )
    }
}

/// Busy and total CPU ticks of the whole machine (/proc/stat, all cores).
fn machine_ticks() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(line) = stat.lines().find(|l| l.starts_with("cpu ")) else {
        return (0, 0);
    };
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is inside user)
    let total: u64 = v.iter().take(8).sum();
    let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
    (total - idle, total)
}

/// The machine's CPU use over a phase, in seconds of one core.
struct MachineProbe((u64, u64));

impl MachineProbe {
    fn start() -> MachineProbe {
        MachineProbe(machine_ticks())
    }

    fn finish(&self, hz: f64) -> f64 {
        let (busy, _) = machine_ticks();
        busy.saturating_sub(self.0 .0) as f64 / hz
    }
}

/// The pid of the mariadbd listening on `port` (its command line says `--port=PORT`).
fn mariadbd_pid(port: u16) -> Option<u32> {
    let want = format!("--port={port}");
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
        if comm.trim() != "mariadbd" && comm.trim() != "mysqld" {
            continue;
        }
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        if cmdline.split(|b| *b == 0).any(|a| a == want.as_bytes()) {
            return Some(pid);
        }
    }
    None
}

// ---------------------------------------------------------------------------------------------
// MariaDB

fn mariadb_url() -> String {
    std::env::var("TRIBUTARY_BENCH_MARIADB_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3317".into())
}

async fn bounded<T, E: std::fmt::Display>(
    what: &str,
    timeout: Duration,
    f: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T> {
    match tokio::time::timeout(timeout, f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(anyhow!("{what}: {e}")),
        Err(_) => Err(anyhow!("{what}: no answer within {timeout:?}")),
    }
}

async fn connect(opts: &Opts) -> Result<Conn> {
    bounded(
        "connecting to MariaDB",
        Duration::from_secs(10),
        Conn::new(opts.clone()),
    )
    .await
}

/// Connects, starting the private MariaDB with scripts/mariadb.sh if the default one does not
/// answer.
async fn mariadb(opts: &Opts, default_url: bool) -> Result<Conn> {
    match connect(opts).await {
        Ok(c) => Ok(c),
        Err(e) if default_url => {
            println!(
                "MariaDB does not answer ({e:#}); starting it: scripts/mariadb.sh start cdc 3317"
            );
            let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/mariadb.sh");
            let status = tokio::time::timeout(
                Duration::from_secs(180),
                tokio::process::Command::new(&script)
                    .args(["start", "cdc", "3317"])
                    .status(),
            )
            .await
            .map_err(|_| anyhow!("scripts/mariadb.sh start cdc 3317 did not finish within 180 s"))?
            .context("running scripts/mariadb.sh")?;
            if !status.success() {
                bail!("scripts/mariadb.sh start cdc 3317 failed ({status})");
            }
            connect(opts).await
        }
        Err(e) => Err(e),
    }
}

async fn binlog_position(conn: &mut Conn) -> Result<(String, u64)> {
    let row: Option<mysql_async::Row> = bounded(
        "SHOW MASTER STATUS",
        Duration::from_secs(10),
        conn.query_first("SHOW MASTER STATUS"),
    )
    .await?;
    let row = row.context("SHOW MASTER STATUS returned nothing: is the binlog enabled?")?;
    let file: String = row.get(0).context("SHOW MASTER STATUS: no File")?;
    let pos: u64 = row.get(1).context("SHOW MASTER STATUS: no Position")?;
    Ok((file, pos))
}

const STATUSES: [&str; 5] = ["new", "paid", "shipped", "delivered", "cancelled"];

/// One row of `orders` as SQL values: ~120 bytes.
fn push_row(sql: &mut String, id: u64) {
    use std::fmt::Write;
    let s = id % 1_000_000;
    let (day, rem) = (1 + s / 86_400, s % 86_400);
    let _ = write!(
        sql,
        "({id},'customer-{:06}',{}.{:02},'{}','order {id:08} for delivery: leave at the door, ring twice, fragile goods','2024-01-{:02} {:02}:{:02}:{:02}.{:03}')",
        id % 50_000,
        (id * 7_919) % 100_000,
        id % 100,
        STATUSES[(id % 5) as usize],
        day.min(28),
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        id % 1000
    );
}

async fn load(conn: &mut Conn, rows: u64) -> Result<f64> {
    let began = Instant::now();
    let mut next = 1;
    let mut last_report = Instant::now();
    while next <= rows {
        let end = (next + INSERT_BATCH - 1).min(rows);
        let mut sql = String::with_capacity(140 * INSERT_BATCH as usize);
        sql.push_str("INSERT INTO orders (id, customer, amount, status, note, updated_at) VALUES ");
        for id in next..=end {
            if id > next {
                sql.push(',');
            }
            push_row(&mut sql, id);
        }
        bounded(
            &format!("INSERT of rows {next}..={end}"),
            Duration::from_secs(60),
            conn.query_drop(sql),
        )
        .await?;
        next = end + 1;
        if last_report.elapsed() > Duration::from_secs(5) {
            last_report = Instant::now();
            println!(
                "  loaded {} rows ({:.0} rows/s)",
                end,
                end as f64 / began.elapsed().as_secs_f64()
            );
        }
    }
    Ok(began.elapsed().as_secs_f64())
}

// ---------------------------------------------------------------------------------------------
// Kafka

/// Sum of the high watermarks of a topic's partitions (one ListOffsets request).
struct Watermarks {
    consumer: BaseConsumer,
    topic: String,
    partitions: TopicPartitionList,
}

impl Watermarks {
    fn new(bootstrap: &str, topic: &str, partitions: i32) -> Result<Watermarks> {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", bootstrap)
            .set("group.id", "bench-watermarks")
            .set("enable.auto.commit", "false")
            .create()
            .context("watermark consumer")?;
        let mut tpl = TopicPartitionList::new();
        for p in 0..partitions {
            tpl.add_partition_offset(topic, p, Offset::End)
                .context("partition list")?;
        }
        Ok(Watermarks {
            consumer,
            topic: topic.to_owned(),
            partitions: tpl,
        })
    }

    /// ListOffsets with timestamp -1 (LATEST) for every partition: the high watermarks.
    fn sum(&self) -> Result<u64> {
        let r = self
            .consumer
            .offsets_for_times(self.partitions.clone(), Duration::from_secs(10))
            .with_context(|| format!("high watermarks of {}", self.topic))?;
        Ok(r.elements()
            .iter()
            .map(|e| match e.offset() {
                Offset::Offset(o) if o > 0 => o as u64,
                _ => 0,
            })
            .sum())
    }

    /// The same, partition by partition (a cross-check of `sum`).
    fn sum_slow(&self) -> Result<u64> {
        let mut total = 0;
        for e in self.partitions.elements() {
            let (_, high) = self
                .consumer
                .fetch_watermarks(&self.topic, e.partition(), Duration::from_secs(10))
                .with_context(|| format!("watermarks of {}/{}", self.topic, e.partition()))?;
            total += high.max(0) as u64;
        }
        Ok(total)
    }
}

/// Average key and value sizes of up to `max` records of partition 0.
fn sample_sizes(bootstrap: &str, topic: &str, max: usize) -> Result<(f64, f64, usize)> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "bench-sampler")
        .set("enable.auto.commit", "false")
        .create()
        .context("sampling consumer")?;
    let (low, high) = consumer
        .fetch_watermarks(topic, 0, Duration::from_secs(10))
        .context("watermarks of partition 0")?;
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, Offset::Offset(low))
        .context("partition list")?;
    consumer.assign(&tpl).context("assign")?;
    let want = max.min((high - low).max(0) as usize);
    let (mut n, mut keys, mut values) = (0usize, 0usize, 0usize);
    let deadline = Instant::now() + Duration::from_secs(20);
    while n < want {
        if Instant::now() > deadline {
            bail!("read only {n} of {want} records of {topic}/0 within 20 s");
        }
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => {
                if let Some(v) = m.payload() {
                    if v.first() != Some(&0) {
                        bail!("a record of {topic} is not in the Confluent wire format (magic byte {:?})", v.first());
                    }
                }
                n += 1;
                keys += m.key().map_or(0, <[u8]>::len);
                values += m.payload().map_or(0, <[u8]>::len);
            }
            Some(Err(e)) => bail!("reading {topic}/0: {e}"),
            None => {}
        }
    }
    if n == 0 {
        bail!("{topic}/0 is empty: nothing to measure the record size on");
    }
    Ok((keys as f64 / n as f64, values as f64 / n as f64, n))
}

/// The worker's own producer settings (`KafkaSettings::producer` without overrides), so the
/// ceiling producer is configured exactly as the captured records' producer.
fn producer_config(bootstrap: &str) -> ClientConfig {
    KafkaSettings::new(bootstrap).producer(&ConfigMap::new())
}

/// N records of the given sizes, distinct keys, to `topic`; seconds until all acknowledged.
fn produce_ceiling(bootstrap: &str, topic: &str, n: u64, key: usize, value: usize) -> Result<f64> {
    let producer: BaseProducer = producer_config(bootstrap)
        .create()
        .context("ceiling producer")?;
    let mut payload = vec![0u8; value.max(1)];
    for (i, b) in payload.iter_mut().enumerate() {
        *b = (i * 31 % 251) as u8;
    }
    let key_len = key.max(8);
    // Steady state: metadata known and the idempotent producer id acquired before the clock
    // starts (the worker's producer does this while the connector connects to the database).
    producer
        .client()
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .context("ceiling producer metadata")?;
    producer
        .send(
            BaseRecord::to(CEILING_WARMUP)
                .key("warm-up")
                .payload("warm-up"),
        )
        .map_err(|(e, _)| anyhow!("ceiling warm-up: {e}"))?;
    producer.flush(Duration::from_secs(30)).map_err(|e| {
        anyhow!("the ceiling producer's warm-up record was not acknowledged within 30 s: {e}")
    })?;
    let began = Instant::now();
    let deadline = began + Duration::from_secs(60 + n / 2_000);
    for i in 0..n {
        let mut k = vec![0u8; key_len];
        k[..8].copy_from_slice(&i.to_le_bytes());
        let stamp = 8.min(payload.len());
        payload[..stamp].copy_from_slice(&i.to_le_bytes()[..stamp]);
        let mut record = BaseRecord::to(topic).key(&k).payload(&payload);
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                    record = r;
                    producer.poll(Duration::from_millis(5));
                    if Instant::now() > deadline {
                        bail!(
                            "the ceiling producer sent only {i} of {n} records within the deadline"
                        );
                    }
                }
                Err((e, _)) => bail!("ceiling produce: {e}"),
            }
        }
        if i % 1024 == 0 {
            producer.poll(Duration::ZERO);
        }
    }
    let left = deadline.saturating_duration_since(Instant::now());
    producer
        .flush(left.max(Duration::from_secs(10)))
        .map_err(|e| anyhow!("the ceiling producer could not flush within the deadline: {e}"))?;
    Ok(began.elapsed().as_secs_f64())
}

// ---------------------------------------------------------------------------------------------
// Worker processes

struct Worker {
    child: Child,
    log: PathBuf,
}

impl Worker {
    fn spawn(
        dir: &Path,
        worker: &BTreeMap<String, String>,
        connector: &BTreeMap<String, String>,
    ) -> Result<Worker> {
        let wfile = dir.join("worker.properties");
        let cfile = dir.join("mysql.properties");
        write_properties(&wfile, worker)?;
        write_properties(&cfile, connector)?;
        let log = dir.join("worker.log");
        let out = std::fs::File::create(&log).context("worker log")?;
        let err = out.try_clone().context("worker log")?;
        let child = Command::new(env!("CARGO_BIN_EXE_tributary"))
            .arg("standalone")
            .arg(&wfile)
            .arg(&cfile)
            .env("RUST_LOG", "info,rdkafka=warn")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .context("spawning tributary")?;
        Ok(Worker { child, log })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    fn check_alive(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait().context("try_wait")? {
            bail!(
                "the tributary worker exited ({status}); last lines of {}:\n{}",
                self.log.display(),
                self.log_tail(40)
            );
        }
        Ok(())
    }

    /// SIGTERM, then at most 30 s for a clean exit, then SIGKILL.
    fn stop(&mut self) {
        if self.child.try_wait().ok().flatten().is_some() {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if self.child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(POLL);
        }
        eprintln!(
            "  the worker (pid {}) did not exit within 30 s of SIGTERM; killing it",
            self.pid()
        );
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn write_properties(path: &Path, props: &BTreeMap<String, String>) -> Result<()> {
    let text: String = props.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")
        .context("bind")?
        .local_addr()
        .context("addr")?
        .port())
}

/// A `perf record` of a process, when asked for.
struct Perf {
    child: Child,
    data: PathBuf,
    mode: PerfMode,
}

impl Perf {
    fn start(pid: u32, data: PathBuf, mode: PerfMode) -> Option<Perf> {
        let sampling: &[&str] = match mode {
            PerfMode::Flat => &["-F", "499"],
            PerfMode::CallGraph => &["-F", "149", "--call-graph", "dwarf,16384"],
        };
        let child = Command::new("perf")
            .arg("record")
            .args(sampling)
            .args(["-p", &pid.to_string(), "-o"])
            .arg(&data)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| eprintln!("  perf record could not start: {e}"))
            .ok()?;
        Some(Perf { child, data, mode })
    }

    fn report(mut self) -> String {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.child.try_wait().ok().flatten().is_none() {
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                return "perf record did not finish within 60 s".into();
            }
            std::thread::sleep(POLL);
        }
        let view: &[&str] = match self.mode {
            PerfMode::Flat => &[
                "--no-children",
                "--sort",
                "dso,symbol",
                "--percent-limit",
                "1",
            ],
            PerfMode::CallGraph => &[
                "--children",
                "--sort",
                "symbol",
                "-g",
                "none",
                "--percent-limit",
                "3",
            ],
        };
        let out = Command::new("perf")
            .args(["report", "--stdio"])
            .args(view)
            .arg("-i")
            .arg(&self.data)
            .stderr(Stdio::null())
            .output();
        match out {
            Ok(o) => String::from_utf8_lossy(&o.stdout)
                .lines()
                .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
                // Inclusive times: the project's and its libraries' own functions, not the
                // runtime frames every sample passes through.
                .filter(|l| {
                    matches!(self.mode, PerfMode::Flat)
                        || ([
                            "tributary",
                            "mysql_common::",
                            "mysql_async::",
                            "rdkafka::",
                            "serde_json::",
                            "apache_avro::",
                            "malloc",
                            "free",
                        ]
                        .iter()
                        .any(|k| l.contains(k))
                            && !l.contains("tokio::runtime"))
                })
                .map(|l| l.trim_end().trim_end_matches(['-', ' ']).to_owned())
                .take(45)
                .collect::<Vec<_>>()
                .join("\n"),
            Err(e) => format!("perf report failed: {e}"),
        }
    }
}

impl Drop for Perf {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// What one worker phase measured.
struct Phase {
    seconds: f64,
    first_record_s: Option<f64>,
    hwm_mb: f64,
    max_rss_mb: f64,
    worker_cpu: CpuUse,
    bench_cpu: CpuUse,
    db_cpu: Option<CpuUse>,
    /// CPU seconds of the whole machine.
    machine_cpu_s: f64,
    perf: Option<(PerfMode, String)>,
}

struct PhaseSpec<'a> {
    label: &'a str,
    dir: &'a Path,
    worker: BTreeMap<String, String>,
    connector: BTreeMap<String, String>,
    topic: String,
    rows: u64,
    perf: Option<PerfMode>,
    db_pid: Option<u32>,
}

/// Starts a worker and waits until `rows` records are in the topic.
fn run_worker_phase(spec: PhaseSpec<'_>, bootstrap: &str, hz: f64) -> Result<Phase> {
    let marks = Watermarks::new(bootstrap, &spec.topic, PARTITIONS)?;
    let before = marks.sum()?;
    if before != 0 {
        bail!("{} already holds {before} records", spec.topic);
    }
    let timeout = Duration::from_secs(60 + spec.rows / 2_000);
    let bench_probe = CpuProbe::start(std::process::id());
    let db_probe = spec.db_pid.map(CpuProbe::start);
    let machine_probe = MachineProbe::start();
    let began = Instant::now();
    let mut worker = Worker::spawn(spec.dir, &spec.worker, &spec.connector)?;
    let pid = worker.pid();
    let perf = spec
        .perf
        .and_then(|mode| Perf::start(pid, spec.dir.join("perf.data"), mode));
    let worker_probe = CpuProbe::zero(pid);
    let mut max_rss = 0.0f64;
    let mut first_record = None;
    let mut last_report = Instant::now();
    let mut count;
    loop {
        worker.check_alive()?;
        if let Some(rss) = vm_mb(pid, "VmRSS:") {
            max_rss = max_rss.max(rss);
        }
        count = marks.sum()?;
        if count > 0 && first_record.is_none() {
            first_record = Some(began.elapsed().as_secs_f64());
        }
        if count >= spec.rows {
            break;
        }
        if began.elapsed() > timeout {
            bail!(
                "{}: only {count} of {} records reached {} within {timeout:?}; last lines of the worker log:\n{}",
                spec.label,
                spec.rows,
                spec.topic,
                worker.log_tail(40)
            );
        }
        if last_report.elapsed() > Duration::from_secs(5) {
            last_report = Instant::now();
            println!(
                "  {}: {count} records after {:.1} s ({:.0}/s), worker RSS {max_rss:.0} MB",
                spec.label,
                began.elapsed().as_secs_f64(),
                count as f64 / began.elapsed().as_secs_f64()
            );
        }
        std::thread::sleep(POLL);
    }
    let seconds = began.elapsed().as_secs_f64();
    let worker_cpu = worker_probe.finish(hz);
    let bench_cpu = bench_probe.finish(hz);
    let db_cpu = db_probe.map(|p| p.finish(hz));
    let machine_cpu_s = machine_probe.finish(hz);
    if let Some(rss) = vm_mb(pid, "VmRSS:") {
        max_rss = max_rss.max(rss);
    }
    let hwm = vm_mb(pid, "VmHWM:").unwrap_or(max_rss);
    let perf = perf.map(|p| (p.mode, p.report()));
    // Anything beyond N (a duplicate) would show within a moment.
    std::thread::sleep(Duration::from_millis(500));
    let after = marks.sum()?;
    let slow = marks.sum_slow()?;
    if after != slow {
        eprintln!(
            "  warning: watermark sum by ListOffsets {after} ≠ partition by partition {slow}"
        );
    }
    if after != spec.rows {
        println!(
            "  note: {} holds {after} records for {} rows",
            spec.topic, spec.rows
        );
    }
    worker.stop();
    Ok(Phase {
        seconds,
        first_record_s: first_record,
        hwm_mb: hwm,
        max_rss_mb: max_rss,
        worker_cpu,
        bench_cpu,
        db_cpu,
        machine_cpu_s,
        perf,
    })
}

// ---------------------------------------------------------------------------------------------
// Binlog read ceiling

/// How far a ceiling reader goes, and whether it decodes.
#[derive(Clone, Copy)]
enum Read {
    /// Until this many rows of the bench table, each row decoded by mysql_common.
    DecodedRows(u64),
    /// This many events, none decoded: the server's streaming and mysql_async's framing only.
    Events(u64),
}

async fn binlog_ceiling(opts: &Opts, file: &str, pos: u64, read: Read) -> Result<(f64, u64)> {
    let mut conn = connect(opts).await?;
    bounded(
        "SET @mariadb_slave_capability",
        Duration::from_secs(10),
        conn.query_drop("SET @mariadb_slave_capability = 4"),
    )
    .await?;
    let began = Instant::now();
    let server_id = match read {
        Read::DecodedRows(_) => 54_003,
        Read::Events(_) => 54_004,
    };
    let request = BinlogStreamRequest::new(server_id)
        .with_filename(file.as_bytes())
        .with_pos(pos);
    let mut stream = bounded(
        "opening the binlog stream",
        Duration::from_secs(10),
        conn.get_binlog_stream(request),
    )
    .await?;
    let goal = match read {
        Read::DecodedRows(n) | Read::Events(n) => n,
    };
    let deadline = Duration::from_secs(60 + goal / 2_000);
    let (mut seen, mut events) = (0u64, 0u64);
    while seen < goal {
        let left = deadline.saturating_sub(began.elapsed());
        let event = match tokio::time::timeout(left, stream.next()).await {
            Err(_) => bail!("binlog reader: {seen} of {goal} within {deadline:?}"),
            Ok(None) => bail!("binlog reader: the server closed the stream after {seen} of {goal}"),
            Ok(Some(Err(e))) => bail!("binlog reader: {e}"),
            Ok(Some(Ok(e))) => e,
        };
        events += 1;
        if let Read::Events(_) = read {
            seen += 1;
            continue;
        }
        if let Ok(Some(EventData::RowsEvent(data))) = event.read_data() {
            let Some(tme) = stream.get_tme(data.table_id()) else {
                bail!("binlog reader: a rows event without its table map");
            };
            if tme.database_name() != DB || tme.table_name() != TABLE {
                continue;
            }
            for row in data.rows(tme) {
                row.map_err(|e| anyhow!("binlog reader: a row does not decode: {e}"))?;
                seen += 1;
            }
        }
    }
    let seconds = began.elapsed().as_secs_f64();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.close()).await;
    Ok((seconds, events))
}

// ---------------------------------------------------------------------------------------------
// The run

struct Setup {
    opts: Opts,
    host: String,
    port: u16,
    user: String,
    password: String,
}

async fn bench(args: Args) -> Result<()> {
    let n = args.rows;
    let url = mariadb_url();
    let default_url = std::env::var("TRIBUTARY_BENCH_MARIADB_URL").is_err();
    let opts = Opts::from_url(&url).with_context(|| format!("MariaDB URL {url}"))?;
    let setup = Setup {
        host: opts.ip_or_hostname().to_owned(),
        port: opts.tcp_port(),
        user: opts.user().unwrap_or("root").to_owned(),
        password: opts.pass().unwrap_or("").to_owned(),
        opts,
    };
    let hz = clock_ticks();
    println!("mysql_source bench: {n} rows");
    println!("machine: {}; load average {}", machine(), loadavg());
    let mut conn = mariadb(&setup.opts, default_url).await?;
    let version: Option<String> = bounded(
        "SELECT VERSION()",
        Duration::from_secs(10),
        conn.query_first("SELECT VERSION()"),
    )
    .await?;
    println!(
        "MariaDB {} at {}:{}; Kafka: librdkafka mock cluster in the bench process, {PARTITIONS} partitions per table topic",
        version.unwrap_or_default(),
        setup.host,
        setup.port
    );
    let result = phases(&args, &setup, &mut conn, hz).await;
    // Clean up whatever happened.
    let dropped = bounded(
        "DROP DATABASE bench_src",
        Duration::from_secs(120),
        conn.query_drop(format!("DROP DATABASE IF EXISTS {DB}")),
    )
    .await;
    if let Err(e) = &dropped {
        eprintln!("cleanup: {e:#}");
    }
    let _ = tokio::time::timeout(Duration::from_secs(5), conn.disconnect()).await;
    result
}

async fn phases(args: &Args, setup: &Setup, conn: &mut Conn, hz: f64) -> Result<()> {
    let n = args.rows;
    let db_pid = (setup.host == "127.0.0.1" || setup.host == "localhost")
        .then(|| mariadbd_pid(setup.port))
        .flatten();

    // 1. The table and the load.
    for sql in [
        format!("DROP DATABASE IF EXISTS {DB}"),
        format!("CREATE DATABASE {DB}"),
        format!("USE {DB}"),
        format!(
            "CREATE TABLE {TABLE} (id BIGINT PRIMARY KEY, customer VARCHAR(40), amount DECIMAL(12,2), \
             status VARCHAR(16), note VARCHAR(200), updated_at DATETIME(3))"
        ),
    ] {
        bounded(&sql, Duration::from_secs(120), conn.query_drop(&sql)).await?;
    }
    let (file, pos) = binlog_position(conn).await?;
    println!("\n[1/5] loading {n} rows into {DB}.{TABLE} (binlog from {file}:{pos})");
    let load_s = load(conn, n).await?;
    let (end_file, end_pos) = binlog_position(conn).await?;
    let binlog_range = if end_file == file {
        format!("{:.0} MB of binlog", (end_pos - pos) as f64 / 1e6)
    } else {
        format!("binlog {file}:{pos} .. {end_file}:{end_pos}")
    };
    let avg_row: Option<(f64,)> = bounded(
        "average row size",
        Duration::from_secs(120),
        conn.query_first(format!(
            "SELECT AVG(8 + LENGTH(customer) + 6 + LENGTH(status) + LENGTH(note) + 7) FROM {TABLE}"
        )),
    )
    .await?;
    let row_bytes = avg_row.map(|r| r.0).unwrap_or(0.0);
    println!(
        "  {n} rows in {load_s:.1} s = {:.0} rows/s ({binlog_range}, {row_bytes:.0} B of column data per row)",
        n as f64 / load_s
    );

    // The broker for the run.
    let kafka: Kafka = MockCluster::new(1).context("mock Kafka cluster")?;
    let bootstrap = kafka.bootstrap_servers();
    for (topic, partitions) in [
        (CAPTURE_PREFIX.to_owned(), 1),
        (format!("{CAPTURE_PREFIX}.{DB}.{TABLE}"), PARTITIONS),
        (SNAPSHOT_PREFIX.to_owned(), 1),
        (format!("{SNAPSHOT_PREFIX}.{DB}.{TABLE}"), PARTITIONS),
        (CEILING_TOPIC.to_owned(), PARTITIONS),
        (CEILING_WARMUP.to_owned(), 1),
    ] {
        kafka
            .create_topic(&topic, partitions, 1)
            .with_context(|| format!("creating topic {topic}"))?;
    }
    let root = tempfile::tempdir().context("temporary directory")?;
    let connector = |name: &str, prefix: &str, server_id: &str, extra: &[(&str, &str)]| {
        let mut c = map(&[
            ("name", name),
            (
                "connector.class",
                "io.debezium.connector.mysql.MySqlConnector",
            ),
            ("database.hostname", &setup.host),
            ("database.port", &setup.port.to_string()),
            ("database.user", &setup.user),
            ("database.password", &setup.password),
            ("database.server.id", server_id),
            ("topic.prefix", prefix),
            ("database.include.list", DB),
            ("table.include.list", &format!("{DB}.{TABLE}")),
            ("key.converter", "io.confluent.connect.avro.AvroConverter"),
            ("value.converter", "io.confluent.connect.avro.AvroConverter"),
        ]);
        for (k, v) in extra {
            c.insert((*k).into(), (*v).into());
        }
        c
    };
    let worker_props = |dir: &Path| -> Result<BTreeMap<String, String>> {
        Ok(map(&[
            ("bootstrap.servers", &bootstrap),
            ("listeners", &format!("http://127.0.0.1:{}", free_port()?)),
            ("schema.registry.storage", "memory"),
            (
                "offset.storage.file.filename",
                &dir.join("connect.offsets").display().to_string(),
            ),
            (
                "connector.config.file",
                &dir.join("connectors.json").display().to_string(),
            ),
        ]))
    };

    // 2. Binlog backlog capture from the recorded position.
    println!("\n[2/5] binlog backlog capture: tributary standalone, snapshot.mode=never, offsets at {file}:{pos}");
    let capture_dir = root.path().join("capture");
    std::fs::create_dir_all(&capture_dir)?;
    let offsets = serde_json::json!([{
        "connector": "bench-capture",
        "partition": {"server": CAPTURE_PREFIX},
        "offset": {"file": file, "pos": pos, "event": 0, "row": 0},
    }]);
    std::fs::write(
        capture_dir.join("connect.offsets"),
        serde_json::to_vec_pretty(&offsets)?,
    )?;
    let capture_topic = format!("{CAPTURE_PREFIX}.{DB}.{TABLE}");
    let capture = run_worker_phase(
        PhaseSpec {
            label: "capture",
            dir: &capture_dir,
            worker: worker_props(&capture_dir)?,
            connector: connector(
                "bench-capture",
                CAPTURE_PREFIX,
                "54001",
                &[("snapshot.mode", "never")],
            ),
            topic: capture_topic.clone(),
            rows: n,
            perf: args.perf,
            db_pid,
        },
        &bootstrap,
        hz,
    )?;
    let (avg_key, avg_value, sampled) = sample_sizes(&bootstrap, &capture_topic, 2_000)?;
    println!(
        "  {n} change events in {:.2} s = {:.0} rows/s; Avro record: key {avg_key:.1} B + value {avg_value:.1} B (mean of {sampled})",
        capture.seconds,
        n as f64 / capture.seconds
    );

    // 3. Snapshot.
    println!("\n[3/5] snapshot: tributary standalone, snapshot.mode=initial_only, 2 threads, fetch size 10000");
    let snapshot_dir = root.path().join("snapshot");
    std::fs::create_dir_all(&snapshot_dir)?;
    let snapshot = run_worker_phase(
        PhaseSpec {
            label: "snapshot",
            dir: &snapshot_dir,
            worker: worker_props(&snapshot_dir)?,
            connector: connector(
                "bench-snapshot",
                SNAPSHOT_PREFIX,
                "54002",
                &[
                    ("snapshot.mode", "initial_only"),
                    ("snapshot.max.threads", "2"),
                    ("snapshot.fetch.size", "10000"),
                ],
            ),
            topic: format!("{SNAPSHOT_PREFIX}.{DB}.{TABLE}"),
            rows: n,
            perf: args.perf,
            db_pid,
        },
        &bootstrap,
        hz,
    )?;
    let (snap_key, snap_value, _) = sample_sizes(
        &bootstrap,
        &format!("{SNAPSHOT_PREFIX}.{DB}.{TABLE}"),
        2_000,
    )?;
    println!(
        "  {n} read events in {:.2} s = {:.0} rows/s; Avro record: key {snap_key:.1} B + value {snap_value:.1} B",
        snapshot.seconds,
        n as f64 / snapshot.seconds
    );

    // 4a. Raw produce ceiling.
    println!(
        "\n[4/5] ceiling: raw produce of {n} records (key {:.0} B, value {:.0} B) by an rdkafka producer in this process, worker's producer settings",
        avg_key.round(),
        avg_value.round()
    );
    let bench_probe = CpuProbe::start(std::process::id());
    let produce_s = produce_ceiling(
        &bootstrap,
        CEILING_TOPIC,
        n,
        avg_key.round() as usize,
        avg_value.round() as usize,
    )?;
    let produce_cpu = bench_probe.finish(hz);
    let produced = Watermarks::new(&bootstrap, CEILING_TOPIC, PARTITIONS)?.sum()?;
    if produced != n {
        bail!(
            "the ceiling producer was acknowledged but the topic holds {produced} of {n} records"
        );
    }
    println!(
        "  {n} records in {produce_s:.2} s = {:.0} records/s",
        n as f64 / produce_s
    );

    // 4b. Binlog read ceiling.
    println!("\n[5/5] ceiling: mysql_async BinlogStream from {file}:{pos}, rows decoded with mysql_common");
    let bench_probe = CpuProbe::start(std::process::id());
    let db_probe = db_pid.map(CpuProbe::start);
    let (binlog_s, events) = binlog_ceiling(&setup.opts, &file, pos, Read::DecodedRows(n)).await?;
    let binlog_cpu = bench_probe.finish(hz);
    let binlog_db_cpu = db_probe.map(|p| p.finish(hz));
    println!(
        "  {n} rows ({events} binlog events) in {binlog_s:.2} s = {:.0} rows/s",
        n as f64 / binlog_s
    );
    // For reference: the same events streamed and not decoded at all.
    let (stream_s, _) = binlog_ceiling(&setup.opts, &file, pos, Read::Events(events)).await?;
    println!(
        "  the same {events} events, not decoded, in {stream_s:.2} s = {:.0} rows/s",
        n as f64 / stream_s
    );
    drop(kafka);

    // 5. The report.
    let rate = |s: f64| n as f64 / s;
    let (capture_rate, snapshot_rate) = (rate(capture.seconds), rate(snapshot.seconds));
    let (produce_rate, binlog_rate) = (rate(produce_s), rate(binlog_s));
    let slower = produce_rate.min(binlog_rate);
    let rss = |p: &Phase| format!("{:.0} (max sampled VmRSS {:.0})", p.hwm_mb, p.max_rss_mb);
    println!("\n## mysql_source bench, {n} rows\n");
    println!("machine: {}; load average {}", machine(), loadavg());
    println!(
        "Avro records: key {avg_key:.0} B + value {avg_value:.0} B (capture), key {snap_key:.0} B + value {snap_value:.0} B (snapshot); {binlog_range}\n"
    );
    println!("| phase | rows | seconds | rows/s | worker peak RSS MB |");
    println!("|---|---:|---:|---:|---|");
    println!(
        "| load: multi-row INSERTs of {INSERT_BATCH} | {n} | {load_s:.2} | {:.0} | – |",
        rate(load_s)
    );
    println!(
        "| binlog backlog capture (worker start → N events in Kafka) | {n} | {:.2} | {capture_rate:.0} | {} |",
        capture.seconds,
        rss(&capture)
    );
    println!(
        "| snapshot (initial_only, 2 threads, fetch 10000) | {n} | {:.2} | {snapshot_rate:.0} | {} |",
        snapshot.seconds,
        rss(&snapshot)
    );
    println!(
        "| ceiling: raw produce, same size & settings | {n} | {produce_s:.2} | {produce_rate:.0} | – |"
    );
    println!(
        "| ceiling: binlog read + row decode (mysql_async) | {n} | {binlog_s:.2} | {binlog_rate:.0} | – |"
    );
    println!(
        "| for reference: the same binlog streamed, not decoded | {n} | {stream_s:.2} | {:.0} | – |",
        rate(stream_s)
    );
    println!();
    println!(
        "capture = {:.0}% of the produce ceiling, {:.0}% of the binlog ceiling ({:.0}% of the slower one)",
        100.0 * capture_rate / produce_rate,
        100.0 * capture_rate / binlog_rate,
        100.0 * capture_rate / slower
    );
    println!(
        "capture = {:.0}% of the slower of the produce ceiling and the undecoded stream",
        100.0 * capture_rate / produce_rate.min(rate(stream_s))
    );
    println!(
        "snapshot = {:.0}% of the produce ceiling",
        100.0 * snapshot_rate / produce_rate
    );
    let verdict = |ok: bool| if ok { "met" } else { "NOT met" };
    println!("\ntargets of issue 3:");
    println!(
        "  capture ≥ 150,000 rows/s: {capture_rate:.0} — {}",
        verdict(capture_rate >= TARGET_CAPTURE)
    );
    println!(
        "  capture ≥ 50% of the slower ceiling: {:.0}% — {}",
        100.0 * capture_rate / slower,
        verdict(capture_rate >= TARGET_CAPTURE_SHARE * slower)
    );
    println!(
        "  worker RSS ≤ 150 MB: capture {:.0} MB, snapshot {:.0} MB — {}",
        capture.hwm_mb,
        snapshot.hwm_mb,
        verdict(capture.hwm_mb <= TARGET_RSS_MB && snapshot.hwm_mb <= TARGET_RSS_MB)
    );
    println!(
        "  snapshot ≥ 200,000 rows/s: {snapshot_rate:.0} — {}",
        verdict(snapshot_rate >= TARGET_SNAPSHOT)
    );
    println!("\nwhere the CPU went:");
    for (name, p) in [("capture", &capture), ("snapshot", &snapshot)] {
        let first = p.first_record_s.unwrap_or(0.0);
        println!(
            "  {name}: first record after {first:.2} s; {:.0} rows/s from the first record on",
            n as f64 / (p.seconds - first).max(1e-9)
        );
        println!("    worker   {}", p.worker_cpu.describe(p.seconds));
        println!(
            "    bench (mock broker, watermark polls) {}",
            p.bench_cpu.describe(p.seconds)
        );
        if let Some(db) = &p.db_cpu {
            println!("    mariadbd {}", db.describe(p.seconds));
        }
        let ours = p.worker_cpu.total_s
            + p.bench_cpu.total_s
            + p.db_cpu.as_ref().map_or(0.0, |c| c.total_s);
        println!(
            "    machine {:.1} s CPU = {:.0}% of {} cores; other processes {:.1} s",
            p.machine_cpu_s,
            100.0 * p.machine_cpu_s / p.seconds / cores() as f64,
            cores(),
            (p.machine_cpu_s - ours).max(0.0)
        );
    }
    println!(
        "  produce ceiling: bench (producer + mock broker) {}",
        produce_cpu.describe(produce_s)
    );
    println!(
        "  binlog ceiling: bench (reader) {}",
        binlog_cpu.describe(binlog_s)
    );
    if let Some(db) = binlog_db_cpu {
        println!("    mariadbd {}", db.describe(binlog_s));
    }
    for (name, p) in [("capture", &capture), ("snapshot", &snapshot)] {
        match &p.perf {
            Some((PerfMode::Flat, report)) => {
                println!("\nperf profile of the worker, {name}: self time by symbol (≥1%):\n{report}")
            }
            Some((PerfMode::CallGraph, report)) => println!(
                "\nperf profile of the worker, {name}: time including callees by symbol (≥3%):\n{report}"
            ),
            None => {}
        }
    }
    Ok(())
}
