//! The datagen source task: turns the [`Sequence`] into Debezium change-event records, paced.

use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;
use tokio::time::Instant;
use tracing::info;
use tributary_runtime::connector::{SourceTask, SourceTaskContext, TaskError, TaskProgress};
use tributary_runtime::data::{logical, SchemaBuilder, SchemaRef, Struct, Value};
use tributary_runtime::envelope::{self, EventTime, Op, TableSchemas};
use tributary_runtime::record::{SchemaAndValue, SourceOffset, SourcePartition, SourceRecord};

use super::config::DatagenConfig;
use super::schemas;
use super::sequence::{ChangeEvent, Row, Sequence};
use super::{CONNECTOR_NAME, DATABASE, TABLE};

/// How long a poll waits when there is nothing left to produce (`max.records` reached), so
/// that the runner does not spin yet can still pause or stop the task promptly.
const IDLE_POLL: Duration = Duration::from_secs(1);

/// The key, row and envelope schemas of `demo.customers` under a topic prefix.
pub fn table_schemas(topic_prefix: &str) -> TableSchemas {
    let id = SchemaBuilder::int64().build_ref();
    let row_fields: Vec<(String, SchemaRef)> = vec![
        ("id".into(), id.clone()),
        ("name".into(), SchemaBuilder::string().build_ref()),
        (
            "email".into(),
            SchemaBuilder::string().optional().build_ref(),
        ),
        ("balance".into(), logical::decimal(Some(12), 2).build_ref()),
        (
            "updated_at".into(),
            logical::debezium(SchemaBuilder::int64(), logical::DBZ_TIMESTAMP).build_ref(),
        ),
    ];
    let base = format!("{topic_prefix}.{DATABASE}.{TABLE}");
    TableSchemas::new(&base, &[("id".into(), id)], &row_fields, schemas::source())
}

/// The source partition of a datagen connector: one per topic prefix, as Debezium's
/// `{"server": <topic.prefix>}`.
pub fn source_partition(topic_prefix: &str) -> SourcePartition {
    let mut partition = SourcePartition::new();
    partition.insert("server".into(), json!(topic_prefix));
    partition
}

/// The offset meaning "events `0..seq` are fully emitted; resume at event `seq`".
pub fn source_offset(seq: u64) -> SourceOffset {
    let mut offset = SourceOffset::new();
    offset.insert("seq".into(), json!(seq));
    offset
}

/// Builds the Kafka records of events: a pure function of the config, the event and the
/// processing time (`ts_ms`/`ts_us`/`ts_ns` of the envelope), shared by the task and tests.
pub struct RecordBuilder {
    config: DatagenConfig,
    schemas: TableSchemas,
    topic: String,
    partition: SourcePartition,
}

impl RecordBuilder {
    pub fn new(config: &DatagenConfig) -> RecordBuilder {
        RecordBuilder {
            schemas: table_schemas(&config.topic_prefix),
            topic: config.base_name(),
            partition: source_partition(&config.topic_prefix),
            config: config.clone(),
        }
    }

    pub fn schemas(&self) -> &TableSchemas {
        &self.schemas
    }

    /// The event's record, and its tombstone when it is a delete and tombstones are on.
    ///
    /// Offsets: a record's offset is where to resume once it is stored, so it counts the
    /// events *fully* emitted. A delete followed by a tombstone is complete only with its
    /// tombstone: the delete carries `seq = n` (resume at this same event) and the tombstone
    /// `seq = n + 1`. A crash after the delete was stored but before the tombstone replays the
    /// delete and its tombstone, so the tombstone is never lost.
    pub fn records(&self, event: &ChangeEvent, at: EventTime) -> Vec<SourceRecord> {
        let key = match &self.schemas.key {
            Some(schema) => SchemaAndValue::new(
                schema.clone(),
                Value::Struct(Struct::new(schema.clone()).with("id", event.id)),
            ),
            None => SchemaAndValue::null(),
        };
        let source = Struct::new(schemas::source())
            .with("version", env!("CARGO_PKG_VERSION"))
            .with("connector", CONNECTOR_NAME)
            .with("name", self.config.topic_prefix.as_str())
            .with("ts_ms", event.ts_ms)
            .with("db", DATABASE)
            .with("table", TABLE)
            .with("seq", i64::try_from(event.seq).unwrap_or(i64::MAX));
        let value = self.schemas.envelope(
            event.op,
            event.before.as_ref().map(|r| self.row(r)),
            event.after.as_ref().map(|r| self.row(r)),
            source,
            None,
            at,
        );
        let with_tombstone = event.op == Op::Delete && self.config.tombstones_on_delete;
        let done = event.seq.saturating_add(1);
        let record = SourceRecord {
            source_partition: self.partition.clone(),
            source_offset: source_offset(if with_tombstone { event.seq } else { done }),
            topic: self.topic.clone(),
            partition: None,
            key,
            value: SchemaAndValue::new(self.schemas.envelope.clone(), value),
            timestamp: None,
            headers: Vec::new(),
        };
        if with_tombstone {
            let mut tombstone = envelope::tombstone(&record);
            tombstone.source_offset = source_offset(done);
            vec![record, tombstone]
        } else {
            vec![record]
        }
    }

    fn row(&self, row: &Row) -> Struct {
        Struct::new(self.schemas.row.clone())
            .with("id", row.id)
            .with("name", row.name.as_str())
            .with("email", row.email.clone())
            .with(
                "balance",
                Value::Bytes(logical::decimal_i128_to_bytes(i128::from(
                    row.balance_cents,
                ))),
            )
            .with("updated_at", row.updated_at_ms)
    }
}

/// Spreads events evenly so that `rate` holds on average: event `i` after the pacer's base
/// instant is due at `base + i / rate`.
struct Pacer {
    /// Events per second; 0 = unpaced.
    rate: u64,
    base: Instant,
    granted: u64,
}

impl Pacer {
    fn new(rate: u64) -> Pacer {
        Pacer {
            rate,
            base: Instant::now(),
            granted: 0,
        }
    }

    fn due_by(&self, now: Instant) -> u64 {
        let nanos = now.saturating_duration_since(self.base).as_nanos();
        u64::try_from(nanos * u128::from(self.rate) / 1_000_000_000).unwrap_or(u64::MAX)
    }

    /// How many events may be produced now, at most `want`; waits (at most about a second)
    /// until at least one is due. May return 0 when the next one is still not due.
    async fn take(&mut self, want: u64) -> u64 {
        if self.rate == 0 || want == 0 {
            return want;
        }
        let now = Instant::now();
        let mut due = self.due_by(now);
        if due > self.granted.saturating_add(self.rate) {
            // More than a second behind (the task was paused, or Kafka was slow): do not
            // burst to catch up on all of it, restart the schedule with one second's worth.
            self.base = now.checked_sub(Duration::from_secs(1)).unwrap_or(now);
            self.granted = 0;
            due = self.due_by(now);
        }
        if due <= self.granted {
            let next_nanos = u128::from(self.granted + 1) * 1_000_000_000 / u128::from(self.rate);
            let next =
                self.base + Duration::from_nanos(u64::try_from(next_nanos).unwrap_or(u64::MAX));
            tokio::time::sleep_until(next.min(now + Duration::from_secs(1))).await;
            due = self.due_by(Instant::now());
        }
        let grant = due.saturating_sub(self.granted).min(want);
        self.granted += grant;
        grant
    }

    /// Gives back events granted but not produced.
    fn refund(&mut self, unused: u64) {
        self.granted = self.granted.saturating_sub(unused);
    }
}

struct Running {
    builder: RecordBuilder,
    sequence: Sequence,
    /// The next event to produce.
    next: u64,
    pacer: Pacer,
    /// A tombstone that did not fit in the last batch.
    pending: Option<SourceRecord>,
    progress: TaskProgress,
}

/// The datagen source task. See the module docs of [`super`] for what it emits.
pub struct DatagenTask {
    config: DatagenConfig,
    running: Option<Running>,
}

impl DatagenTask {
    pub fn new(config: DatagenConfig) -> DatagenTask {
        DatagenTask {
            config,
            running: None,
        }
    }
}

#[async_trait]
impl SourceTask for DatagenTask {
    async fn start(&mut self, context: SourceTaskContext) -> Result<(), TaskError> {
        let partition = source_partition(&self.config.topic_prefix);
        let next = match context.offsets.offset(&partition).await? {
            None => 0,
            Some(offset) => offset.get("seq").and_then(serde_json::Value::as_u64).ok_or_else(|| {
                TaskError::fatal(format!(
                    "the stored offset {} of source partition {} has no non-negative integer \"seq\"; \
                     reset the connector's offsets to start over",
                    serde_json::Value::Object(offset.clone()),
                    serde_json::Value::Object(partition.clone()),
                ))
            })?,
        };
        info!(
            connector = %context.connector,
            topic = %self.config.base_name(),
            seq = next,
            "datagen starting at event {next}"
        );
        context.progress.set(format!("{next} events produced"));
        self.running = Some(Running {
            builder: RecordBuilder::new(&self.config),
            sequence: Sequence::new(self.config.seed, self.config.keys),
            next,
            pacer: Pacer::new(self.config.rate),
            pending: None,
            progress: context.progress,
        });
        Ok(())
    }

    async fn poll(&mut self) -> Result<Vec<SourceRecord>, TaskError> {
        let max_batch = self.config.max_batch_size;
        let max_records = self.config.max_records;
        let Some(run) = self.running.as_mut() else {
            return Err(TaskError::fatal(
                "datagen task polled before it was started",
            ));
        };
        let exhausted = max_records.is_some_and(|max| run.next >= max);
        let mut records = Vec::new();
        if let Some(tombstone) = run.pending.take() {
            records.push(tombstone);
        }
        if exhausted {
            if records.is_empty() {
                tokio::time::sleep(IDLE_POLL).await;
            }
            return Ok(records);
        }
        let remaining = max_records.map_or(u64::MAX, |max| max.saturating_sub(run.next));
        let want = u64::try_from(max_batch.saturating_sub(records.len()))
            .unwrap_or(u64::MAX)
            .min(remaining);
        let granted = run.pacer.take(want).await;
        let at = EventTime::now();
        let mut produced = 0;
        while produced < granted && records.len() < max_batch {
            let event = run.sequence.event(run.next);
            let mut event_records = run.builder.records(&event, at).into_iter();
            records.extend(event_records.next());
            if let Some(tombstone) = event_records.next() {
                if records.len() < max_batch {
                    records.push(tombstone);
                } else {
                    run.pending = Some(tombstone);
                }
            }
            run.next += 1;
            produced += 1;
        }
        run.pacer.refund(granted - produced);
        if produced > 0 {
            run.progress.set(format!("{} events produced", run.next));
        }
        Ok(records)
    }

    async fn stop(&mut self) {
        if let Some(run) = &self.running {
            info!(topic = %run.builder.topic, seq = run.next, "datagen stopped");
        }
    }
}
