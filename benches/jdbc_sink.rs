//! The jdbc sink benchmark (issue 4): how fast the release `tributary` worker applies N
//! Debezium change events (Avro, through the worker's registry) to MariaDB and PostgreSQL,
//! for inserts and for updates of existing keys, with the worker's peak RSS; and, in the same
//! run, the ceiling: the database's own rate for the same rows sent by a plain client as
//! multi-row statements of the same batch size (autocommit, prepared once). The ceiling is
//! measured twice: with the keys in the order the sink reads them (partition after partition:
//! every statement touches rows all over the table) and with the keys ascending (every
//! statement appends to the end of the table, which is easier on the database). Before each
//! phase the database writes back its dirty pages (MariaDB) or checkpoints (PostgreSQL), so
//! that no phase pays for the one before; the bench also gives MariaDB a 2 GB buffer pool and
//! a 1 GB redo log, room for the three tables of a million rows.
//!
//! ```sh
//! cargo bench --bench jdbc_sink                         # 1,000,000 events, both databases
//! cargo bench --bench jdbc_sink -- --rows 200000 --targets mariadb
//! cargo bench --bench jdbc_sink -- --poll-records 5000  # 5 statements per transaction
//! cargo bench --bench jdbc_sink -- --consumer queued.max.messages.kbytes=16384
//! ```
//!
//! Row shape (~120 bytes): `id BIGINT PRIMARY KEY, customer VARCHAR(64), amount
//! DECIMAL(12,2), status VARCHAR(16), note VARCHAR(200), updated_at DATETIME(3)` (PostgreSQL:
//! `NUMERIC(12,2)`, `TIMESTAMP(3)`).
//!
//! MariaDB: a private binlog-enabled server `scripts/mariadb.sh start jdbcbench 3339` (started
//! here; `TRIBUTARY_BENCH_MARIADB_URL` points elsewhere). PostgreSQL:
//! `TRIBUTARY_BENCH_POSTGRES_URL` (default the local one), schema `jdbc_bench`. Kafka is
//! librdkafka's mock cluster in this process; it keeps about 5 MB per partition, so the events
//! are spread over `--partitions` (default 128) partitions to be all there before the sink
//! starts. The worker is a separate process so that its RSS is its own.
//!
//! The worker's log is `$TMPDIR/jdbc_sink_bench_worker.log`; `TRIBUTARY_BENCH_WORKER_LOG` sets
//! its `RUST_LOG` (`tributary_connectors::jdbc=debug` shows each batch's mapping and database
//! time).
//!
//! Sink rate = events / (time from the first committed offset to the last): the consumer
//! group's join (a few seconds on the mock cluster) is reported separately.

#[path = "support/cli.rs"]
mod cli;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use mysql_async::prelude::Queryable;
use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use tributary_connectors::mysql::schemas;
use tributary_runtime::convert::{self, Converter, Side};
use tributary_runtime::data::{logical, SchemaBuilder, SchemaRef, Struct, Value};
use tributary_runtime::envelope::{EventTime, Op, TableSchemas};
use tributary_runtime::record::SchemaAndValue;

const INSERTS: &str = "bench.shop.orders";
const UPDATES: &str = "bench.shop.orders.updates";
const BASE_MS: i64 = 1_700_000_000_000;

struct Args {
    rows: u64,
    batch: usize,
    poll_records: usize,
    partitions: i32,
    targets: Vec<String>,
    /// Extra `consumer.override.*` settings of the sink connectors.
    consumer: Vec<(String, String)>,
}

fn args() -> Result<Args> {
    let mut a = Args {
        rows: 1_000_000,
        batch: 1_000,
        poll_records: 1_000,
        partitions: 128,
        targets: vec!["mariadb".into(), "postgres".into()],
        consumer: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or_else(|| anyhow!("{arg} needs a value"));
        match arg.as_str() {
            "--rows" => a.rows = value()?.parse()?,
            "--batch" => a.batch = value()?.parse()?,
            "--poll-records" => a.poll_records = value()?.parse()?,
            "--partitions" => a.partitions = value()?.parse()?,
            "--targets" => a.targets = value()?.split(',').map(str::to_owned).collect(),
            "--consumer" => {
                let setting = value()?;
                let (k, v) = setting
                    .split_once('=')
                    .ok_or_else(|| anyhow!("--consumer takes key=value"))?;
                a.consumer.push((k.to_owned(), v.to_owned()));
            }
            _ => {} // cargo bench passes --bench
        }
    }
    Ok(a)
}

// ---- the rows ---------------------------------------------------------------------------

/// Row `id` as inserted (`version` 0) or updated (`version` 1).
struct Row {
    id: i64,
    customer: String,
    amount_cents: i64,
    status: &'static str,
    note: String,
    updated_at_ms: i64,
}

fn row(id: i64, version: i64) -> Row {
    const STATUS: [&str; 4] = ["new", "paid", "shipped", "delivered"];
    Row {
        id,
        customer: format!("customer-{:06}", id % 100_000),
        amount_cents: (id * 37 + version * 101) % 10_000_000,
        status: STATUS[((id + version) % 4) as usize],
        note: format!(
            "order {id} v{version}: deliver to the back door, ring twice, fragile goods inside"
        ),
        updated_at_ms: BASE_MS + id + version * 86_400_000,
    }
}

fn amount_text(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

fn datetime_text(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rest = secs.rem_euclid(86_400);
    // civil_from_days (Howard Hinnant).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{:03}",
        rest / 3600,
        rest / 60 % 60,
        rest % 60,
        ms.rem_euclid(1000)
    )
}

struct Envelope {
    table: TableSchemas,
}

impl Envelope {
    fn new() -> Envelope {
        let s = |b: SchemaBuilder| b.build_ref();
        let fields: Vec<(String, SchemaRef)> = vec![
            ("id".into(), s(SchemaBuilder::int64())),
            ("customer".into(), s(SchemaBuilder::string().optional())),
            (
                "amount".into(),
                logical::decimal(Some(12), 2).optional().build_ref(),
            ),
            ("status".into(), s(SchemaBuilder::string().optional())),
            ("note".into(), s(SchemaBuilder::string().optional())),
            (
                "updated_at".into(),
                logical::debezium(SchemaBuilder::int64(), logical::DBZ_TIMESTAMP)
                    .optional()
                    .build_ref(),
            ),
        ];
        Envelope {
            table: TableSchemas::new(
                "bench.shop.orders",
                &fields[..1],
                &fields,
                schemas::source(),
            ),
        }
    }

    fn row(&self, r: &Row) -> Struct {
        Struct::new(self.table.row.clone())
            .with("id", r.id)
            .with("customer", r.customer.as_str())
            .with(
                "amount",
                Value::Bytes(logical::decimal_i128_to_bytes(i128::from(r.amount_cents))),
            )
            .with("status", r.status)
            .with("note", r.note.as_str())
            .with("updated_at", r.updated_at_ms)
    }

    fn event(&self, id: i64, update: bool) -> (SchemaAndValue, SchemaAndValue) {
        let key_schema = self.table.key.clone().expect("key schema");
        let key = SchemaAndValue::new(
            key_schema.clone(),
            Value::Struct(Struct::new(key_schema).with("id", id)),
        );
        let mut source = Struct::new(schemas::source());
        for (k, v) in [
            ("version", Value::from("0.1.0")),
            ("connector", Value::from("mysql")),
            ("name", Value::from("bench")),
            ("ts_ms", Value::Int64(BASE_MS)),
            ("db", Value::from("shop")),
            ("table", Value::from("orders")),
            ("server_id", Value::Int64(1)),
            ("file", Value::from("binlog.000001")),
            ("pos", Value::Int64(4 + id)),
            ("row", Value::Int32(0)),
        ] {
            source.put(k, v);
        }
        let (op, before, after) = if update {
            (
                Op::Update,
                Some(self.row(&row(id, 0))),
                self.row(&row(id, 1)),
            )
        } else {
            (Op::Create, None, self.row(&row(id, 0)))
        };
        let value = self.table.envelope(
            op,
            before,
            Some(after),
            source,
            None,
            EventTime {
                nanos: BASE_MS * 1_000_000,
            },
        );
        (key, SchemaAndValue::new(self.table.envelope.clone(), value))
    }
}

/// Produces N change events to `topic`, spread round-robin over its partitions.
async fn produce(
    bootstrap: &str,
    registry: &str,
    topic: &str,
    partitions: i32,
    rows: u64,
    update: bool,
) -> Result<(f64, f64)> {
    let config: BTreeMap<String, String> = [
        ("key.converter", "io.confluent.connect.avro.AvroConverter"),
        ("value.converter", "io.confluent.connect.avro.AvroConverter"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let key_conv: Arc<dyn Converter> = convert::build(Side::Key, &config, Some(registry))?;
    let value_conv: Arc<dyn Converter> = convert::build(Side::Value, &config, Some(registry))?;
    let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("linger.ms", "20")
        .set("batch.num.messages", "10000")
        .set("queue.buffering.max.messages", "500000")
        .set("queue.buffering.max.kbytes", "1048576")
        .create()?;
    let envelope = Envelope::new();
    let started = Instant::now();
    let mut bytes = 0u64;
    for id in 0..rows as i64 {
        let (key, value) = envelope.event(id, update);
        let k = key_conv
            .from_connect(topic, &key)
            .await?
            .unwrap_or_default();
        let v = value_conv
            .from_connect(topic, &value)
            .await?
            .unwrap_or_default();
        bytes += (k.len() + v.len()) as u64;
        let partition = (id % i64::from(partitions)) as i32;
        loop {
            let record = BaseRecord::<[u8], [u8]>::to(topic)
                .partition(partition)
                .key(&k)
                .payload(&v);
            match producer.send(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                Err((e, _)) => bail!("produce to {topic}: {e}"),
            }
        }
    }
    producer
        .flush(Duration::from_secs(120))
        .context("flush the producer")?;
    Ok((started.elapsed().as_secs_f64(), bytes as f64 / rows as f64))
}

// ---- the worker -------------------------------------------------------------------------

struct Worker {
    child: Child,
    rest: String,
    http: reqwest::Client,
}

impl Worker {
    async fn start(dir: &Path, bootstrap: &str) -> Result<Worker> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let props = dir.join("worker.properties");
        let text = format!(
            "bootstrap.servers={bootstrap}\nlisteners=http://127.0.0.1:{port}\n\
             schema.registry.storage=memory\noffset.storage.file.filename={}\n\
             connector.config.file={}\n",
            dir.join("offsets").display(),
            dir.join("connectors.json").display()
        );
        std::fs::write(&props, text)?;
        // Kept after the run (the state directory is not) to look at afterwards.
        let log = std::fs::File::create(std::env::temp_dir().join("jdbc_sink_bench_worker.log"))?;
        let child = Command::new(env!("CARGO_BIN_EXE_tributary"))
            .args(["standalone", &props.display().to_string()])
            .env(
                "RUST_LOG",
                std::env::var("TRIBUTARY_BENCH_WORKER_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("spawn the tributary worker")?;
        let worker = Worker {
            child,
            rest: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while worker.http.get(&worker.rest).send().await.is_err() {
            if Instant::now() > deadline {
                bail!("the worker's REST API did not come up within 30 s");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(worker)
    }

    fn vm_mb(&self, key: &str) -> f64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with(key))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|kb| kb.parse::<f64>().ok())
            })
            .map_or(0.0, |kb| kb / 1024.0)
    }

    async fn create(&self, name: &str, config: serde_json::Value) -> Result<()> {
        let r = self
            .http
            .post(format!("{}/connectors", self.rest))
            .json(&serde_json::json!({"name": name, "config": config}))
            .send()
            .await?;
        if !r.status().is_success() {
            bail!("create {name}: {} {}", r.status(), r.text().await?);
        }
        Ok(())
    }

    async fn delete(&self, name: &str) -> Result<()> {
        self.http
            .delete(format!("{}/connectors/{name}", self.rest))
            .send()
            .await?;
        Ok(())
    }

    /// Sum of the group's committed offsets, and whether the task failed (with its trace).
    async fn progress(&self, name: &str) -> Result<(u64, Option<String>)> {
        let offsets: serde_json::Value = self
            .http
            .get(format!("{}/connectors/{name}/offsets", self.rest))
            .send()
            .await?
            .json()
            .await?;
        let sum = offsets["offsets"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e["offset"]["kafka_offset"].as_u64())
                    .sum()
            })
            .unwrap_or(0);
        let status: serde_json::Value = self
            .http
            .get(format!("{}/connectors/{name}/status", self.rest))
            .send()
            .await?
            .json()
            .await?;
        let failed = (status["tasks"][0]["state"] == "FAILED")
            .then(|| status["tasks"][0]["trace"].to_string());
        Ok((sum, failed))
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct SinkRun {
    rate: f64,
    join_s: f64,
    seconds: f64,
    hwm_mb: f64,
}

/// Runs one sink connector over `topic` until every event's offset is committed.
async fn run_sink(
    worker: &Worker,
    name: &str,
    topic: &str,
    url: &str,
    args: &Args,
) -> Result<SinkRun> {
    let avro = "io.confluent.connect.avro.AvroConverter";
    let mut config = serde_json::json!({
        "connector.class": "io.debezium.connector.jdbc.JdbcSinkConnector",
        "topics": topic,
        "connection.url": url,
        "key.converter": avro,
        "value.converter": avro,
        "insert.mode": "upsert",
        "primary.key.mode": "record_key",
        "delete.enabled": "true",
        "table.name.format": "orders_sink",
        "batch.size": args.batch.to_string(),
        "consumer.override.max.poll.records": args.poll_records.to_string(),
    });
    for (k, v) in &args.consumer {
        config[format!("consumer.override.{k}")] = serde_json::Value::String(v.clone());
    }
    let created = Instant::now();
    worker.create(name, config).await?;
    let mut first: Option<(Instant, u64)> = None;
    let deadline = created + Duration::from_secs(1800);
    loop {
        let (done, failed) = worker.progress(name).await?;
        if let Some(trace) = failed {
            bail!("{name} failed: {trace}");
        }
        if done > 0 && first.is_none() {
            first = Some((Instant::now(), done));
        }
        if done >= args.rows {
            break;
        }
        if Instant::now() > deadline {
            bail!("{name}: {done} of {} after 30 minutes", args.rows);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let end = Instant::now();
    let (t_first, at_first) = first.unwrap_or((created, 0));
    let seconds = end.duration_since(t_first).as_secs_f64().max(1e-3);
    let run = SinkRun {
        rate: (args.rows - at_first) as f64 / seconds,
        join_s: t_first.duration_since(created).as_secs_f64(),
        seconds,
        hwm_mb: worker.vm_mb("VmHWM:"),
    };
    worker.delete(name).await?;
    Ok(run)
}

// ---- the databases ----------------------------------------------------------------------

fn script(args: &[&str]) -> Result<()> {
    let out = Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/mariadb.sh"))
        .args(args)
        .output()?;
    if !out.status.success() {
        bail!(
            "scripts/mariadb.sh {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

const MARIADB_TABLE: &str = "(id BIGINT NOT NULL PRIMARY KEY, customer VARCHAR(64), \
    amount DECIMAL(12,2), status VARCHAR(16), note VARCHAR(200), updated_at DATETIME(3))";
const POSTGRES_TABLE: &str = "(id BIGINT NOT NULL PRIMARY KEY, customer VARCHAR(64), \
    amount NUMERIC(12,2), status VARCHAR(16), note VARCHAR(200), updated_at TIMESTAMP(3))";

fn my_values(r: &Row) -> [mysql_async::Value; 6] {
    use mysql_async::Value as V;
    let t = datetime_text(r.updated_at_ms);
    [
        V::Int(r.id),
        V::Bytes(r.customer.clone().into_bytes()),
        V::Bytes(amount_text(r.amount_cents).into_bytes()),
        V::Bytes(r.status.as_bytes().to_vec()),
        V::Bytes(r.note.clone().into_bytes()),
        V::Bytes(t.into_bytes()),
    ]
}

/// Waits (up to two minutes) until InnoDB has written back its dirty pages, so that no phase
/// pays for the page flushing that the one before left behind (after scattered inserts that
/// debt slows the next phase's writes).
async fn mariadb_settle(conn: &mut mysql_async::Conn) -> Result<()> {
    let started = Instant::now();
    let before: String = conn
        .query_first("SELECT CAST(@@GLOBAL.innodb_max_dirty_pages_pct AS CHAR)")
        .await?
        .unwrap_or_else(|| "90".to_owned());
    conn.query_drop("SET GLOBAL innodb_max_dirty_pages_pct = 0")
        .await?;
    let mut dirty = u64::MAX;
    while started.elapsed() < Duration::from_secs(120) {
        let row: Option<(String, u64)> = conn
            .query_first("SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_dirty'")
            .await?;
        dirty = row.map_or(0, |(_, n)| n);
        if dirty < 64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    conn.query_drop(format!("SET GLOBAL innodb_max_dirty_pages_pct = {before}"))
        .await?;
    eprintln!(
        "  (waited {:.1} s for InnoDB to write back dirty pages; {dirty} left)",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The keys in ascending order: each statement appends to the end of the table.
fn ascending(rows: u64) -> Vec<i64> {
    (0..rows as i64).collect()
}

/// The keys in the order the sink reads them: partition after partition. The events were
/// produced round-robin, so a partition holds every `partitions`-th key and each statement
/// touches rows all over the table (one leaf page per row), as it would with a topic
/// partitioned by key hash.
fn topic_order(rows: u64, partitions: i32) -> Vec<i64> {
    let p = i64::from(partitions.max(1));
    (0..p)
        .flat_map(|first| (first..rows as i64).step_by(p as usize))
        .collect()
}

/// COPY of every row into an empty table, one COPY per `batch` rows (for reference: what the
/// sink's PostgreSQL path is built on).
async fn postgres_copy(client: &tokio_postgres::Client, rows: u64, batch: usize) -> Result<f64> {
    use futures::SinkExt;
    let started = Instant::now();
    let mut id = 0i64;
    while (id as u64) < rows {
        let n = batch.min((rows - id as u64) as usize);
        let mut data = String::with_capacity(n * 140);
        for i in 0..n as i64 {
            let r = row(id + i, 0);
            data.push_str(&format!(
                "{}\t{}\t{}\t{}\t{}\t{}\n",
                r.id,
                r.customer,
                amount_text(r.amount_cents),
                r.status,
                r.note,
                datetime_text(r.updated_at_ms)
            ));
        }
        let sink = client
            .copy_in::<_, std::io::Cursor<Vec<u8>>>("COPY orders_copy FROM STDIN")
            .await?;
        let mut sink = Box::pin(sink);
        sink.send(std::io::Cursor::new(data.into_bytes())).await?;
        sink.as_mut().finish().await?;
        id += n as i64;
    }
    Ok(rows as f64 / started.elapsed().as_secs_f64())
}

/// A plain client of one target database, for its ceilings.
trait Plain {
    const NAME: &'static str;
    /// Leaves no background work (dirty pages) of one phase to the next.
    async fn settle(&mut self) -> Result<()>;
    /// Multi-row INSERT (or upsert) of the rows with `ids`, in that order, `batch` rows per
    /// prepared statement, autocommit; rows/s.
    async fn ceiling(
        &mut self,
        table: &str,
        ids: &[i64],
        batch: usize,
        update: bool,
    ) -> Result<f64>;
}

struct MariaDbPlain<'a>(&'a mut mysql_async::Conn);

impl Plain for MariaDbPlain<'_> {
    const NAME: &'static str = "mariadb";
    async fn settle(&mut self) -> Result<()> {
        mariadb_settle(self.0).await
    }
    async fn ceiling(
        &mut self,
        table: &str,
        ids: &[i64],
        batch: usize,
        update: bool,
    ) -> Result<f64> {
        let conn = &mut *self.0;
        let marks = "(?,?,?,?,?,?)";
        let statement = |n: usize| {
            let mut sql = format!(
                "INSERT INTO {table} (id, customer, amount, status, note, updated_at) VALUES {}",
                vec![marks; n].join(",")
            );
            if update {
                sql.push_str(
                    " ON DUPLICATE KEY UPDATE customer=VALUES(customer), amount=VALUES(amount), \
                     status=VALUES(status), note=VALUES(note), updated_at=VALUES(updated_at)",
                );
            }
            sql
        };
        let started = Instant::now();
        for chunk in ids.chunks(batch) {
            let mut params = Vec::with_capacity(chunk.len() * 6);
            for id in chunk {
                params.extend(my_values(&row(*id, i64::from(update))));
            }
            conn.exec_drop(
                statement(chunk.len()),
                mysql_async::Params::Positional(params),
            )
            .await?;
        }
        Ok(ids.len() as f64 / started.elapsed().as_secs_f64())
    }
}

struct PostgresPlain<'a>(&'a tokio_postgres::Client);

impl Plain for PostgresPlain<'_> {
    const NAME: &'static str = "postgres";
    async fn settle(&mut self) -> Result<()> {
        Ok(self.0.batch_execute("CHECKPOINT").await?)
    }
    async fn ceiling(
        &mut self,
        table: &str,
        ids: &[i64],
        batch: usize,
        update: bool,
    ) -> Result<f64> {
        let client = self.0;
        let statement = |n: usize| {
            let values: Vec<String> = (0..n)
                .map(|i| {
                    let p = i * 6;
                    format!(
                        "(${}, ${}, ${}::text::numeric, ${}, ${}, ${}::text::timestamp)",
                        p + 1,
                        p + 2,
                        p + 3,
                        p + 4,
                        p + 5,
                        p + 6
                    )
                })
                .collect();
            let mut sql = format!(
                "INSERT INTO {table} (id, customer, amount, status, note, updated_at) VALUES {}",
                values.join(",")
            );
            if update {
                sql.push_str(
                    " ON CONFLICT (id) DO UPDATE SET customer = EXCLUDED.customer, amount = EXCLUDED.amount, \
                     status = EXCLUDED.status, note = EXCLUDED.note, updated_at = EXCLUDED.updated_at",
                );
            }
            sql
        };
        let full = client.prepare(&statement(batch)).await?;
        let started = Instant::now();
        for chunk in ids.chunks(batch) {
            let n = chunk.len();
            let data: Vec<(i64, String, String, &'static str, String, String)> = chunk
                .iter()
                .map(|id| {
                    let r = row(*id, i64::from(update));
                    (
                        r.id,
                        r.customer,
                        amount_text(r.amount_cents),
                        r.status,
                        r.note,
                        datetime_text(r.updated_at_ms),
                    )
                })
                .collect();
            let mut params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
                Vec::with_capacity(n * 6);
            for d in &data {
                params.extend([
                    &d.0 as &(dyn tokio_postgres::types::ToSql + Sync),
                    &d.1,
                    &d.2,
                    &d.3,
                    &d.4,
                    &d.5,
                ]);
            }
            if n == batch {
                client.execute(&full, &params).await?;
            } else {
                client.execute(&statement(n), &params).await?;
            }
        }
        Ok(ids.len() as f64 / started.elapsed().as_secs_f64())
    }
}

/// The insert and upsert ceilings, each with the keys ascending (`orders_plain`) and in topic
/// order (`orders_scattered`).
async fn ceilings<P: Plain>(db: &mut P, args: &Args) -> Result<(Ceiling, Ceiling)> {
    let ascending_ids = ascending(args.rows);
    let topic_ids = topic_order(args.rows, args.partitions);
    let mut measured = Vec::new();
    for update in [false, true] {
        let kind = if update { "upsert" } else { "INSERT" };
        eprintln!("{}: ceiling, multi-row {kind} …", P::NAME);
        db.settle().await?;
        let ascending = db
            .ceiling("orders_plain", &ascending_ids, args.batch, update)
            .await?;
        db.settle().await?;
        let topic_order = db
            .ceiling("orders_scattered", &topic_ids, args.batch, update)
            .await?;
        measured.push(Ceiling {
            ascending,
            topic_order,
        });
    }
    let upsert = measured.pop().context("two ceilings")?;
    let insert = measured.pop().context("two ceilings")?;
    Ok((insert, upsert))
}

/// A ceiling measured twice: keys ascending, and keys in the order the sink reads them.
struct Ceiling {
    ascending: f64,
    topic_order: f64,
}

struct TargetReport {
    target: String,
    ceiling_insert: Ceiling,
    ceiling_upsert: Ceiling,
    extra: String,
    sink_insert: SinkRun,
    sink_update: SinkRun,
}

async fn bench_mariadb(worker: &Worker, args: &Args) -> Result<TargetReport> {
    let base = match std::env::var("TRIBUTARY_BENCH_MARIADB_URL") {
        Ok(url) => url,
        Err(_) => {
            script(&["start", "jdbcbench", "3339"])?;
            "mysql://root@127.0.0.1:3339".to_owned()
        }
    };
    let base = base.trim_end_matches('/').to_owned();
    let mut conn = mysql_async::Conn::from_url(&base).await?;
    // Room for the three tables of a million rows (~250 MB each when filled in random key
    // order) and their redo: with the scripts' 256 MB pool and 96 MB log, later phases were
    // measuring page evictions left behind by earlier ones. Both settings are dynamic in
    // MariaDB 10.9+; the pool is resized in the background.
    for set in [
        "SET GLOBAL innodb_buffer_pool_size = 2147483648",
        "SET GLOBAL innodb_log_file_size = 1073741824",
    ] {
        if let Err(e) = conn.query_drop(set).await {
            eprintln!("  ({set}: {e}; going on with the server's setting)");
        }
    }
    conn.query_drop("DROP DATABASE IF EXISTS jdbc_bench")
        .await?;
    conn.query_drop("CREATE DATABASE jdbc_bench").await?;
    conn.query_drop("USE jdbc_bench").await?;
    for t in ["orders_plain", "orders_scattered", "orders_sink"] {
        conn.query_drop(format!("CREATE TABLE {t} {MARIADB_TABLE}"))
            .await?;
    }
    let (ceiling_insert, ceiling_upsert) = ceilings(&mut MariaDbPlain(&mut conn), args).await?;
    let url = format!("{base}/jdbc_bench");
    eprintln!("mariadb: sink, inserts …");
    mariadb_settle(&mut conn).await?;
    let sink_insert = run_sink(worker, "mariadb-inserts", INSERTS, &url, args).await?;
    eprintln!("mariadb: sink, updates …");
    mariadb_settle(&mut conn).await?;
    let sink_update = run_sink(worker, "mariadb-updates", UPDATES, &url, args).await?;
    let check = "SELECT COUNT(*), SUM(amount), SUM(LENGTH(note)), MAX(updated_at) FROM";
    let plain: Vec<mysql_async::Row> = conn.query(format!("{check} orders_plain")).await?;
    let sink: Vec<mysql_async::Row> = conn.query(format!("{check} orders_sink")).await?;
    let text = |rows: Vec<mysql_async::Row>| {
        format!(
            "{:?}",
            rows.into_iter().map(|r| r.unwrap()).collect::<Vec<_>>()
        )
    };
    let (plain, sink) = (text(plain), text(sink));
    if plain != sink {
        bail!("mariadb: the sink's table differs from the plain client's: {sink} vs {plain}");
    }
    conn.query_drop("DROP DATABASE jdbc_bench").await?;
    Ok(TargetReport {
        target: "MariaDB".into(),
        ceiling_insert,
        ceiling_upsert,
        extra: String::new(),
        sink_insert,
        sink_update,
    })
}

async fn bench_postgres(worker: &Worker, args: &Args) -> Result<TargetReport> {
    let base = std::env::var("TRIBUTARY_BENCH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let (client, connection) = tokio_postgres::connect(&base, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    client
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS jdbc_bench CASCADE; CREATE SCHEMA jdbc_bench; SET search_path TO jdbc_bench; \
             CREATE TABLE orders_plain {POSTGRES_TABLE}; CREATE TABLE orders_sink {POSTGRES_TABLE}; \
             CREATE TABLE orders_scattered {POSTGRES_TABLE}; CREATE TABLE orders_copy {POSTGRES_TABLE}"
        ))
        .await?;
    let (ceiling_insert, ceiling_upsert) = ceilings(&mut PostgresPlain(&client), args).await?;
    eprintln!("postgres: COPY …");
    let copy = postgres_copy(&client, args.rows, args.batch).await?;
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}currentSchema=jdbc_bench");
    eprintln!("postgres: sink, inserts …");
    client.batch_execute("CHECKPOINT").await?;
    let sink_insert = run_sink(worker, "postgres-inserts", INSERTS, &url, args).await?;
    eprintln!("postgres: sink, updates …");
    client.batch_execute("CHECKPOINT").await?;
    let sink_update = run_sink(worker, "postgres-updates", UPDATES, &url, args).await?;
    let check = "SELECT COUNT(*)::text, SUM(amount)::text, SUM(LENGTH(note))::text, MAX(updated_at)::text FROM";
    let row_text =
        |r: &tokio_postgres::Row| -> Vec<Option<String>> { (0..4).map(|i| r.get(i)).collect() };
    let plain = row_text(
        &client
            .query_one(&format!("{check} orders_plain"), &[])
            .await?,
    );
    let sink = row_text(
        &client
            .query_one(&format!("{check} orders_sink"), &[])
            .await?,
    );
    if plain != sink {
        bail!("postgres: the sink's table differs from the plain client's: {sink:?} vs {plain:?}");
    }
    client
        .batch_execute("DROP SCHEMA jdbc_bench CASCADE")
        .await?;
    Ok(TargetReport {
        target: "PostgreSQL".into(),
        ceiling_insert,
        ceiling_upsert,
        extra: format!(
            "COPY (same rows, {}-row COPYs) {:.0} rows/s",
            args.batch, copy
        ),
        sink_insert,
        sink_update,
    })
}

async fn bench(args: Args) -> Result<()> {
    let kafka: MockCluster<'static, DefaultProducerContext> = MockCluster::new(1)?;
    let bootstrap = kafka.bootstrap_servers();
    for topic in [INSERTS, UPDATES] {
        kafka.create_topic(topic, args.partitions, 1)?;
    }
    let dir = tempfile::tempdir()?;
    let worker = Worker::start(dir.path(), &bootstrap).await?;
    eprintln!(
        "producing {} insert and {} update events …",
        args.rows, args.rows
    );
    let (t_ins, size_ins) = produce(
        &bootstrap,
        &worker.rest,
        INSERTS,
        args.partitions,
        args.rows,
        false,
    )
    .await?;
    let (t_upd, size_upd) = produce(
        &bootstrap,
        &worker.rest,
        UPDATES,
        args.partitions,
        args.rows,
        true,
    )
    .await?;
    eprintln!(
        "produced in {t_ins:.1} s + {t_upd:.1} s; average record (key + value, Avro) {size_ins:.0} B (create), {size_upd:.0} B (update)"
    );
    let idle_mb = worker.vm_mb("VmRSS:");
    let mut reports = Vec::new();
    for target in &args.targets {
        let report = match target.as_str() {
            "mariadb" => bench_mariadb(&worker, &args).await?,
            "postgres" => bench_postgres(&worker, &args).await?,
            other => bail!("unknown target {other}: use mariadb, postgres"),
        };
        reports.push(report);
    }
    println!();
    println!(
        "jdbc sink: {} events (~120-byte rows), batch.size {}, max.poll.records {}, {} partitions, 1 task; {} cores",
        args.rows,
        args.batch,
        args.poll_records,
        args.partitions,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "worker RSS idle {idle_mb:.0} MB; consumer overrides {:?}",
        args.consumer
    );
    println!("| target | phase | ceiling rows/s, keys in topic order | ceiling rows/s, keys ascending | sink rows/s | sink/ceiling (topic order) | sink/ceiling (ascending) | group join s | worker peak RSS MB |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for r in &reports {
        for (phase, ceiling, run) in [
            ("insert", &r.ceiling_insert, &r.sink_insert),
            ("update", &r.ceiling_upsert, &r.sink_update),
        ] {
            println!(
                "| {} | {phase} | {:.0} | {:.0} | {:.0} ({:.1} s) | {:.0}% | {:.0}% | {:.1} | {:.0} |",
                r.target,
                ceiling.topic_order,
                ceiling.ascending,
                run.rate,
                run.seconds,
                100.0 * run.rate / ceiling.topic_order,
                100.0 * run.rate / ceiling.ascending,
                run.join_s,
                run.hwm_mb
            );
        }
        if !r.extra.is_empty() {
            println!("{}: {}", r.target, r.extra);
        }
    }
    Ok(())
}

fn main() {
    cli::run("jdbc_sink", args, bench);
}
