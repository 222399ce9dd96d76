//! The datagen task driven directly, as the worker drives it, with an in-memory offset store.
//!
//! These run on tokio's paused clock: pacing sleeps advance virtual time instantly, so rate
//! checks are exact and nothing here waits on the wall clock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tributary_runtime::config::ConfigMap;
use tributary_runtime::connector::{
    Connector, OffsetReader, Plugins, SourceTask, SourceTaskContext, TaskError, TaskImpl,
    TaskProgress,
};
use tributary_runtime::data::{logical, Type, Value};
use tributary_runtime::envelope::Op;
use tributary_runtime::record::{SourceOffset, SourcePartition, SourceRecord};

use super::source::{source_offset, source_partition};
use super::*;

/// The committed offsets, as the worker's offset store would hand them back.
#[derive(Default)]
struct MemoryOffsets {
    offsets: Mutex<HashMap<String, SourceOffset>>,
}

impl MemoryOffsets {
    fn with(partition: &SourcePartition, offset: SourceOffset) -> Arc<MemoryOffsets> {
        let store = MemoryOffsets::default();
        store.offsets.lock().unwrap().insert(
            serde_json::Value::Object(partition.clone()).to_string(),
            offset,
        );
        Arc::new(store)
    }
}

#[async_trait]
impl OffsetReader for MemoryOffsets {
    async fn offset(&self, partition: &SourcePartition) -> Result<Option<SourceOffset>, TaskError> {
        let key = serde_json::Value::Object(partition.clone()).to_string();
        Ok(self.offsets.lock().unwrap().get(&key).cloned())
    }
}

fn config(pairs: &[(&str, &str)]) -> ConfigMap {
    let mut c: ConfigMap = [
        ("name", "demo"),
        ("connector.class", "datagen"),
        ("topic.prefix", "shop"),
        ("rate", "0"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    for (k, v) in pairs {
        c.insert((*k).to_owned(), (*v).to_owned());
    }
    c
}

async fn started(config: &ConfigMap, offsets: Arc<MemoryOffsets>) -> Box<dyn SourceTask> {
    let plugin = DatagenConnector;
    let task_configs = plugin.task_configs(config, 1).expect("task configs");
    let Ok(TaskImpl::Source(mut task)) = plugin.create_task(&task_configs[0]) else {
        panic!("datagen must create a source task");
    };
    let context = SourceTaskContext {
        connector: "demo".into(),
        task_id: 0,
        config: task_configs[0].clone(),
        offsets,
        progress: TaskProgress::default(),
    };
    task.start(context).await.expect("start");
    task
}

/// Polls until a poll comes back empty (the configured `max.records` is reached); bounded.
async fn drain(task: &mut Box<dyn SourceTask>) -> Vec<SourceRecord> {
    let mut all = Vec::new();
    for _ in 0..10_000 {
        let batch = task.poll().await.expect("poll");
        if batch.is_empty() {
            return all;
        }
        all.extend(batch);
    }
    panic!("the task never stopped producing");
}

/// Polls until at least `n` records arrived; bounded.
async fn poll_records(task: &mut Box<dyn SourceTask>, n: usize) -> Vec<SourceRecord> {
    let mut all = Vec::new();
    for _ in 0..100_000 {
        if all.len() >= n {
            return all;
        }
        all.extend(task.poll().await.expect("poll"));
    }
    panic!("only {} of {n} records arrived", all.len());
}

fn id_of(record: &SourceRecord) -> i64 {
    record
        .key
        .value
        .as_struct()
        .and_then(|k| k.get("id"))
        .and_then(Value::as_i64)
        .expect("key id")
}

/// `Some(op)` of a change event, `None` for a tombstone.
fn op_of(record: &SourceRecord) -> Option<&str> {
    match &record.value.value {
        Value::Null => None,
        v => v
            .as_struct()
            .and_then(|e| e.get("op"))
            .and_then(Value::as_str),
    }
}

fn seq_of(record: &SourceRecord) -> u64 {
    record.source_offset["seq"].as_u64().expect("seq")
}

fn summary(records: &[SourceRecord]) -> Vec<(i64, Option<String>, u64)> {
    records
        .iter()
        .map(|r| (id_of(r), op_of(r).map(str::to_owned), seq_of(r)))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn records_follow_the_predicted_sequence_with_a_tombstone_after_each_delete() {
    let c = config(&[("seed", "7"), ("keys", "10"), ("max.records", "300")]);
    let mut task = started(&c, Arc::default()).await;
    let records = drain(&mut task).await;
    let got: Vec<(i64, Option<&str>)> = records.iter().map(|r| (id_of(r), op_of(r))).collect();
    assert_eq!(got, expected_records(7, 10, 300, true));
    assert!(
        got.iter().any(|(_, op)| op.is_none()),
        "the sample has deletes"
    );
    for (i, r) in records.iter().enumerate() {
        if op_of(r).is_none() {
            let delete = &records[i - 1];
            assert_eq!(op_of(delete), Some("d"));
            assert_eq!(r.key, delete.key, "a tombstone has its delete's key");
            assert_eq!(r.topic, delete.topic);
        }
    }
}

#[tokio::test(start_paused = true)]
async fn offsets_count_fully_emitted_events_and_a_delete_is_done_only_with_its_tombstone() {
    let c = config(&[("keys", "4"), ("max.records", "200")]);
    let mut task = started(&c, Arc::default()).await;
    let records = drain(&mut task).await;
    let mut event = 0u64;
    for r in &records {
        match op_of(r) {
            Some("d") => assert_eq!(
                seq_of(r),
                event,
                "a delete is not done before its tombstone"
            ),
            None => {
                event += 1;
                assert_eq!(seq_of(r), event);
            }
            Some(_) => {
                event += 1;
                assert_eq!(seq_of(r), event);
            }
        }
        assert_eq!(r.source_partition, source_partition("shop"));
    }
    assert_eq!(event, 200);
}

#[tokio::test(start_paused = true)]
async fn resuming_from_any_stored_offset_neither_skips_nor_repeats_a_record() {
    let c = config(&[("keys", "3"), ("seed", "11"), ("max.records", "60")]);
    let all = summary(&drain(&mut started(&c, Arc::default()).await).await);
    assert!(
        all.iter().any(|(_, op, _)| op.is_none()),
        "the sample has deletes"
    );
    // A crash may leave any emitted record's offset as the last one stored.
    for (i, (_, op, stored)) in all.iter().enumerate() {
        let offsets = MemoryOffsets::with(&source_partition("shop"), source_offset(*stored));
        let resumed = summary(&drain(&mut started(&c, offsets).await).await);
        let expected_from = if op.as_deref() == Some("d") {
            // The delete is replayed with its tombstone: the tombstone is never lost.
            i
        } else {
            i + 1
        };
        assert_eq!(
            resumed,
            all[expected_from..],
            "resumed after record {i} (seq {stored})"
        );
    }
    // Nothing stored: from the start.
    let fresh = summary(&drain(&mut started(&c, Arc::default()).await).await);
    assert_eq!(fresh, all);
}

#[tokio::test(start_paused = true)]
async fn without_tombstones_a_delete_carries_the_done_offset() {
    let c = config(&[
        ("keys", "3"),
        ("max.records", "90"),
        ("tombstones.on.delete", "false"),
    ]);
    let records = drain(&mut started(&c, Arc::default()).await).await;
    let got: Vec<(i64, Option<&str>)> = records.iter().map(|r| (id_of(r), op_of(r))).collect();
    assert_eq!(got, expected_records(42, 3, 90, false));
    assert!(got.iter().any(|(_, op)| *op == Some("d")));
    for (n, r) in records.iter().enumerate() {
        assert_eq!(seq_of(r), n as u64 + 1);
    }
}

#[tokio::test(start_paused = true)]
async fn max_records_counts_events_across_restarts() {
    let c = config(&[("keys", "5"), ("max.records", "20")]);
    let offsets = MemoryOffsets::with(&source_partition("shop"), source_offset(15));
    let records = drain(&mut started(&c, offsets).await).await;
    let events: Vec<u64> = records
        .iter()
        .filter(|r| op_of(r).is_some())
        .map(|r| {
            let source = r
                .value
                .value
                .as_struct()
                .and_then(|e| e.get("source"))
                .cloned();
            source
                .and_then(|s| {
                    s.as_struct()
                        .and_then(|s| s.get("seq"))
                        .and_then(Value::as_i64)
                })
                .expect("source.seq") as u64
        })
        .collect();
    assert_eq!(events, vec![15, 16, 17, 18, 19]);
    let offsets = MemoryOffsets::with(&source_partition("shop"), source_offset(20));
    assert!(drain(&mut started(&c, offsets).await).await.is_empty());
}

#[tokio::test(start_paused = true)]
async fn schemas_are_named_after_the_topic_prefix_as_debeziums() {
    let c = config(&[("topic.prefix", "acme-1"), ("max.records", "1")]);
    let records = drain(&mut started(&c, Arc::default()).await).await;
    let r = &records[0];
    assert_eq!(r.topic, "acme-1.demo.customers");
    let key = r.key.schema.as_ref().expect("key schema");
    assert!(key.is_named("acme-1.demo.customers.Key"));
    assert_eq!(key.fields.len(), 1);
    assert_eq!(key.fields[0].name, "id");
    let envelope = r.value.schema.as_ref().expect("value schema");
    assert!(envelope.is_named("acme-1.demo.customers.Envelope"));
    let (_, after) = envelope.field("after").expect("after");
    assert!(after.schema.optional && after.schema.is_named("acme-1.demo.customers.Value"));
    let columns: Vec<(&str, Type, bool)> = after
        .schema
        .fields
        .iter()
        .map(|f| (f.name.as_str(), f.schema.ty, f.schema.optional))
        .collect();
    assert_eq!(
        columns,
        [
            ("id", Type::Int64, false),
            ("name", Type::String, false),
            ("email", Type::String, true),
            ("balance", Type::Bytes, false),
            ("updated_at", Type::Int64, false),
        ]
    );
    let balance = &after.schema.fields[3].schema;
    assert!(balance.is_named(logical::DECIMAL));
    assert_eq!(balance.parameter("scale"), Some("2"));
    assert_eq!(balance.parameter(logical::DECIMAL_PRECISION), Some("12"));
    let updated_at = &after.schema.fields[4].schema;
    assert!(updated_at.is_named("io.debezium.time.Timestamp"));
    assert_eq!(updated_at.version, Some(1));
    let (_, source) = envelope.field("source").expect("source");
    assert_eq!(source.schema, schemas::source());
}

#[tokio::test(start_paused = true)]
async fn record_contents_are_those_of_the_sequence() {
    let c = config(&[("seed", "5"), ("keys", "4"), ("max.records", "40")]);
    let records = drain(&mut started(&c, Arc::default()).await).await;
    let sequence = Sequence::new(5, 4);
    let events = records.iter().filter(|r| op_of(r).is_some());
    for (n, r) in events.enumerate() {
        let expected = sequence.event(n as u64);
        let envelope = r.value.value.as_struct().expect("envelope");
        assert_eq!(
            envelope.get("op").and_then(Value::as_str),
            Some(expected.op.code())
        );
        let row = |name: &str, want: &Option<Row>| match (envelope.get(name), want) {
            (Some(Value::Null), None) => {}
            (Some(Value::Struct(s)), Some(w)) => {
                assert_eq!(s.get("id"), Some(&Value::Int64(w.id)));
                assert_eq!(s.get("name"), Some(&Value::from(w.name.as_str())));
                assert_eq!(s.get("email"), Some(&Value::from(w.email.clone())));
                let balance = s
                    .get("balance")
                    .and_then(|v| logical::decimal_value_to_string(v, 2));
                let cents = w.balance_cents;
                assert_eq!(balance, Some(format!("{}.{:02}", cents / 100, cents % 100)));
                assert_eq!(s.get("updated_at"), Some(&Value::Int64(w.updated_at_ms)));
            }
            (got, want) => panic!("{name} of event {n}: got {got:?}, want {want:?}"),
        };
        row("before", &expected.before);
        row("after", &expected.after);
        let source = envelope
            .get("source")
            .and_then(Value::as_struct)
            .expect("source");
        assert_eq!(source.get("connector"), Some(&Value::from("datagen")));
        assert_eq!(source.get("name"), Some(&Value::from("shop")));
        assert_eq!(source.get("db"), Some(&Value::from("demo")));
        assert_eq!(source.get("table"), Some(&Value::from("customers")));
        assert_eq!(source.get("seq"), Some(&Value::Int64(n as i64)));
        assert_eq!(source.get("ts_ms"), Some(&Value::Int64(expected.ts_ms)));
        assert!(matches!(envelope.get("ts_ms"), Some(Value::Int64(_))));
    }
}

#[tokio::test(start_paused = true)]
async fn rate_holds_on_average() {
    let c = config(&[("rate", "100"), ("keys", "10")]);
    let mut task = started(&c, Arc::default()).await;
    let start = tokio::time::Instant::now();
    let records = poll_records(&mut task, 300).await;
    let events = records.iter().filter(|r| op_of(r).is_some()).count();
    let elapsed = start.elapsed().as_secs_f64();
    let rate = events as f64 / elapsed;
    assert!(
        (80.0..=120.0).contains(&rate),
        "{events} events in {elapsed} s"
    );
}

#[tokio::test(start_paused = true)]
async fn a_slow_rate_still_returns_from_poll_within_about_a_second() {
    let c = config(&[("rate", "1")]);
    let mut task = started(&c, Arc::default()).await;
    for _ in 0..5 {
        let start = tokio::time::Instant::now();
        let batch = task.poll().await.expect("poll");
        assert!(batch.len() <= 2);
        assert!(start.elapsed() <= Duration::from_millis(1_100));
    }
}

#[tokio::test(start_paused = true)]
async fn max_batch_size_bounds_every_poll_and_a_tombstone_that_does_not_fit_comes_next() {
    let c = config(&[
        ("keys", "2"),
        ("max.records", "50"),
        ("max.batch.size", "1"),
    ]);
    let mut task = started(&c, Arc::default()).await;
    let mut all = Vec::new();
    for _ in 0..1_000 {
        let batch = task.poll().await.expect("poll");
        assert!(batch.len() <= 1);
        if batch.is_empty() {
            break;
        }
        all.extend(batch);
    }
    let got: Vec<(i64, Option<&str>)> = all.iter().map(|r| (id_of(r), op_of(r))).collect();
    assert_eq!(got, expected_records(42, 2, 50, true));
}

#[tokio::test(start_paused = true)]
async fn a_malformed_stored_offset_fails_the_start_and_says_why() {
    let mut bad = SourceOffset::new();
    bad.insert("seq".into(), serde_json::json!("twelve"));
    let offsets = MemoryOffsets::with(&source_partition("shop"), bad);
    let plugin = DatagenConnector;
    let Ok(TaskImpl::Source(mut task)) = plugin.create_task(&config(&[])) else {
        panic!("source task");
    };
    let context = SourceTaskContext {
        connector: "demo".into(),
        task_id: 0,
        config: config(&[]),
        offsets,
        progress: TaskProgress::default(),
    };
    let err = task.start(context).await.expect_err("must refuse");
    assert!(!err.is_retriable());
    assert!(err.to_string().contains("\"seq\""), "{err}");
}

#[test]
fn delete_events_keep_the_row_in_before() {
    let sequence = Sequence::new(42, 3);
    let delete = (0..1_000)
        .map(|n| sequence.event(n))
        .find(|e| e.op == Op::Delete)
        .expect("a delete");
    assert!(delete.after.is_none());
    assert_eq!(delete.before.as_ref().map(|r| r.id), Some(delete.id));
}

#[test]
fn missing_topic_prefix_is_named_in_the_error() {
    let mut c = config(&[]);
    c.remove("topic.prefix");
    let err = Plugins::check(&DatagenConnector, &c).expect_err("must fail");
    assert_eq!(err.key(), Some("topic.prefix"));
    assert!(err.to_string().contains("topic.prefix"), "{err}");
}

#[test]
fn a_topic_prefix_that_cannot_name_a_topic_is_rejected() {
    let err = Plugins::check(&DatagenConnector, &config(&[("topic.prefix", "my shop")]))
        .expect_err("must fail");
    assert_eq!(err.key(), Some("topic.prefix"));
    assert!(DatagenConnector
        .create_task(&config(&[("topic.prefix", "a/b")]))
        .is_err());
}

#[test]
fn unknown_keys_are_rejected_naming_the_key() {
    let err = Plugins::check(&DatagenConnector, &config(&[("rates", "5")])).expect_err("must fail");
    assert!(err.to_string().contains("\"rates\""), "{err}");
}

#[test]
fn a_complete_config_with_common_keys_is_valid() {
    let c = config(&[
        ("tasks.max", "4"),
        ("transforms", ""),
        ("max.records", "-1"),
    ]);
    assert_eq!(Plugins::check(&DatagenConnector, &c), Ok(()));
    assert!(DatagenConnector.create_task(&c).is_ok());
}

#[test]
fn there_is_one_task_whatever_tasks_max_says() {
    let c = config(&[("tasks.max", "8")]);
    let tasks = DatagenConnector.task_configs(&c, 8).expect("task configs");
    assert_eq!(tasks.len(), 1);
}

#[test]
fn topics_are_known_from_the_config() {
    assert_eq!(
        DatagenConnector.topics(&config(&[])),
        ["shop.demo.customers"]
    );
}

#[test]
fn defaults_are_as_documented() {
    let c = DatagenConfig::parse(&config(&[])).expect("config");
    assert_eq!(
        (
            c.max_records,
            c.keys,
            c.seed,
            c.tombstones_on_delete,
            c.max_batch_size
        ),
        (None, 100, 42, true, 1000)
    );
    let mut without_rate = config(&[]);
    without_rate.remove("rate");
    assert_eq!(
        DatagenConfig::parse(&without_rate).expect("config").rate,
        1000
    );
}
