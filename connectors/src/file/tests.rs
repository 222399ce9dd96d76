//! The FileStream tasks on real files, driven directly as the worker drives them.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tributary_runtime::config::ConfigMap;
use tributary_runtime::connector::{
    Connector, ErrantRecordReporter, OffsetReader, Plugins, SinkTask, SinkTaskContext, SourceTask,
    SourceTaskContext, TaskError, TaskImpl, TaskProgress,
};
use tributary_runtime::data::{logical, SchemaBuilder, Struct, Type, Value};
use tributary_runtime::record::{
    SchemaAndValue, SinkRecord, SourceOffset, SourcePartition, SourceRecord,
};

use super::source::{source_offset, source_partition};
use super::*;

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

fn props(pairs: &[(&str, &str)]) -> ConfigMap {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn source_config(file: &Path, extra: &[(&str, &str)]) -> ConfigMap {
    let mut c = props(&[
        ("name", "lines"),
        ("connector.class", "FileStreamSource"),
        ("topic", "lines"),
        ("file", file.to_str().expect("utf-8 path")),
    ]);
    c.extend(props(extra));
    c
}

async fn source_task(config: &ConfigMap, offsets: Arc<MemoryOffsets>) -> Box<dyn SourceTask> {
    let plugin = FileStreamSourceConnector;
    let tasks = plugin.task_configs(config, 1).expect("task configs");
    assert_eq!(tasks.len(), 1);
    let Ok(TaskImpl::Source(mut task)) = plugin.create_task(&tasks[0]) else {
        panic!("FileStreamSource must create a source task");
    };
    task.start(SourceTaskContext {
        connector: "lines".into(),
        task_id: 0,
        config: tasks[0].clone(),
        offsets,
        progress: TaskProgress::default(),
    })
    .await
    .expect("start");
    task
}

/// Polls until `n` records arrived; at most 20 polls (each returns within about a second).
async fn poll_records(task: &mut Box<dyn SourceTask>, n: usize) -> Vec<SourceRecord> {
    let mut all = Vec::new();
    for _ in 0..20 {
        if all.len() >= n {
            break;
        }
        all.extend(task.poll().await.expect("poll"));
    }
    assert_eq!(all.len(), n, "records: {all:?}");
    all
}

fn lines_and_positions(records: &[SourceRecord]) -> Vec<(String, u64)> {
    records
        .iter()
        .map(|r| {
            (
                r.value.value.as_str().expect("string value").to_owned(),
                r.source_offset["position"].as_u64().expect("position"),
            )
        })
        .collect()
}

fn owned(pairs: &[(&str, u64)]) -> Vec<(String, u64)> {
    pairs.iter().map(|(s, p)| ((*s).to_owned(), *p)).collect()
}

fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("open for append");
    f.write_all(text.as_bytes()).expect("append");
}

#[tokio::test]
async fn each_line_becomes_a_string_record_with_the_byte_position_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.txt");
    append(&path, "alpha\nbeta\r\nhéllo\n\nlast\n");
    let mut task = source_task(&source_config(&path, &[]), Arc::default()).await;
    let records = poll_records(&mut task, 5).await;
    assert_eq!(
        lines_and_positions(&records),
        owned(&[
            ("alpha", 6),
            ("beta", 12),
            ("héllo", 19),
            ("", 20),
            ("last", 25)
        ])
    );
    let r = &records[0];
    assert_eq!(r.topic, "lines");
    assert_eq!(r.key, SchemaAndValue::null());
    let schema = r.value.schema.as_ref().expect("value schema");
    assert_eq!(
        (schema.ty, schema.optional, schema.name.as_deref()),
        (Type::String, false, None)
    );
    assert_eq!(r.source_partition, source_partition(path.to_str().unwrap()));
    assert!(r.timestamp.is_some());
}

#[tokio::test]
async fn a_lone_carriage_return_also_ends_a_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.txt");
    append(&path, "a\rb\n");
    let mut task = source_task(&source_config(&path, &[]), Arc::default()).await;
    let records = poll_records(&mut task, 2).await;
    assert_eq!(lines_and_positions(&records), owned(&[("a", 2), ("b", 4)]));
}

#[tokio::test]
async fn reading_resumes_after_the_stored_position() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.txt");
    append(&path, "one\ntwo\nthree\n");
    let offsets = MemoryOffsets::with(&source_partition(path.to_str().unwrap()), source_offset(4));
    let mut task = source_task(&source_config(&path, &[]), offsets).await;
    let records = poll_records(&mut task, 2).await;
    assert_eq!(
        lines_and_positions(&records),
        owned(&[("two", 8), ("three", 14)])
    );
}

#[tokio::test]
async fn lines_appended_later_are_picked_up() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.txt");
    append(&path, "first\n");
    let mut task = source_task(&source_config(&path, &[]), Arc::default()).await;
    assert_eq!(
        lines_and_positions(&poll_records(&mut task, 1).await),
        owned(&[("first", 6)])
    );
    assert!(
        task.poll().await.expect("poll").is_empty(),
        "nothing new yet"
    );
    append(&path, "second\nthird\n");
    assert_eq!(
        lines_and_positions(&poll_records(&mut task, 2).await),
        owned(&[("second", 13), ("third", 19)])
    );
}

#[tokio::test]
async fn a_partial_last_line_waits_for_its_newline() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.txt");
    append(&path, "one\ntw");
    let mut task = source_task(&source_config(&path, &[]), Arc::default()).await;
    assert_eq!(
        lines_and_positions(&poll_records(&mut task, 1).await),
        owned(&[("one", 4)])
    );
    assert!(
        task.poll().await.expect("poll").is_empty(),
        "\"tw\" is not a line yet"
    );
    append(&path, "o\n");
    assert_eq!(
        lines_and_positions(&poll_records(&mut task, 1).await),
        owned(&[("two", 8)])
    );
}

#[tokio::test]
async fn a_poll_with_nothing_new_returns_within_about_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.txt");
    append(&path, "");
    let mut task = source_task(&source_config(&path, &[]), Arc::default()).await;
    let polled = tokio::time::timeout(Duration::from_secs(5), task.poll()).await;
    assert!(polled.expect("poll must return").expect("poll").is_empty());
}

#[tokio::test]
async fn batch_size_limits_the_records_of_each_poll() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.txt");
    append(&path, "1\n2\n3\n4\n5\n");
    let mut task = source_task(
        &source_config(&path, &[("batch.size", "2")]),
        Arc::default(),
    )
    .await;
    let sizes = [
        task.poll().await.expect("poll").len(),
        task.poll().await.expect("poll").len(),
        task.poll().await.expect("poll").len(),
    ];
    assert_eq!(sizes, [2, 2, 1]);
}

#[tokio::test]
async fn a_file_that_does_not_exist_yet_is_waited_for() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("later.txt");
    let mut task = source_task(&source_config(&path, &[]), Arc::default()).await;
    assert!(task.poll().await.expect("poll").is_empty());
    append(&path, "here\n");
    assert_eq!(
        lines_and_positions(&poll_records(&mut task, 1).await),
        owned(&[("here", 5)])
    );
}

#[tokio::test]
async fn a_stored_position_beyond_the_end_means_the_file_was_replaced_and_is_read_from_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.txt");
    append(&path, "new\n");
    let offsets = MemoryOffsets::with(
        &source_partition(path.to_str().unwrap()),
        source_offset(1_000),
    );
    let mut task = source_task(&source_config(&path, &[]), offsets).await;
    assert_eq!(
        lines_and_positions(&poll_records(&mut task, 1).await),
        owned(&[("new", 4)])
    );
}

#[tokio::test]
async fn a_file_truncated_in_place_is_read_again_from_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.txt");
    append(&path, "old line one\nold line two\n");
    let mut task = source_task(&source_config(&path, &[]), Arc::default()).await;
    poll_records(&mut task, 2).await;
    // `copytruncate` log rotation: same file, emptied, then written again.
    std::fs::write(&path, "fresh\n").unwrap();
    assert_eq!(
        lines_and_positions(&poll_records(&mut task, 1).await),
        owned(&[("fresh", 6)])
    );
}

#[tokio::test]
async fn without_a_file_the_task_refuses_to_start_because_stdin_is_not_supported() {
    let c = props(&[
        ("name", "x"),
        ("connector.class", "FileStreamSource"),
        ("topic", "t"),
    ]);
    assert_eq!(
        Plugins::check(&FileStreamSourceConnector, &c),
        Ok(()),
        "valid as in Kafka"
    );
    let Ok(TaskImpl::Source(mut task)) = FileStreamSourceConnector.create_task(&c) else {
        panic!("source task");
    };
    let err = task
        .start(SourceTaskContext {
            connector: "x".into(),
            task_id: 0,
            config: c.clone(),
            offsets: Arc::new(MemoryOffsets::default()),
            progress: TaskProgress::default(),
        })
        .await
        .expect_err("must refuse");
    assert!(err.to_string().contains("standard input"), "{err}");
}

struct NoErrant;

#[async_trait]
impl ErrantRecordReporter for NoErrant {
    async fn report(&self, _record: &SinkRecord, error: &TaskError) -> Result<(), TaskError> {
        Err(TaskError::fatal(error.to_string()))
    }
}

fn sink_config(file: &Path) -> ConfigMap {
    props(&[
        ("name", "out"),
        ("connector.class", "FileStreamSink"),
        ("topics", "a,b"),
        ("file", file.to_str().expect("utf-8 path")),
    ])
}

async fn sink_task(config: &ConfigMap) -> Box<dyn SinkTask> {
    let Ok(TaskImpl::Sink(mut task)) = FileStreamSinkConnector.create_task(config) else {
        panic!("FileStreamSink must create a sink task");
    };
    task.start(SinkTaskContext {
        connector: "out".into(),
        task_id: 0,
        config: config.clone(),
        errant: Arc::new(NoErrant),
        progress: TaskProgress::default(),
    })
    .await
    .expect("start");
    task
}

fn sink_record(offset: i64, value: SchemaAndValue) -> SinkRecord {
    SinkRecord {
        topic: "a".into(),
        partition: 0,
        offset,
        key: SchemaAndValue::null(),
        value,
        timestamp: None,
        headers: Vec::new(),
    }
}

#[tokio::test]
async fn structs_are_written_as_json_lines_with_decimals_as_text_and_nulls_as_null() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.jsonl");
    let schema = SchemaBuilder::structure()
        .name("shop.demo.customers.Value")
        .field("id", SchemaBuilder::int64().build_ref())
        .field("name", SchemaBuilder::string().build_ref())
        .field("email", SchemaBuilder::string().optional().build_ref())
        .field("balance", logical::decimal(Some(12), 2).build_ref())
        .build_ref();
    let row = Struct::new(schema.clone())
        .with("id", 7i64)
        .with("name", "Grace \"Amazing\" Hopper")
        .with("email", Value::Null)
        .with(
            "balance",
            Value::Bytes(logical::decimal_i128_to_bytes(123_450)),
        );
    let mut task = sink_task(&sink_config(&path)).await;
    task.put(&[sink_record(
        0,
        SchemaAndValue::new(schema, Value::Struct(row)),
    )])
    .await
    .expect("put");
    task.flush().await.expect("flush");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "{\"id\":7,\"name\":\"Grace \\\"Amazing\\\" Hopper\",\"email\":null,\"balance\":\"1234.50\"}\n"
    );
}

#[tokio::test]
async fn strings_are_written_as_is_and_a_tombstone_as_null() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.txt");
    let string = |s: &str| SchemaAndValue::new(SchemaBuilder::string().build_ref(), Value::from(s));
    let mut task = sink_task(&sink_config(&path)).await;
    task.put(&[
        sink_record(0, string("plain text")),
        sink_record(1, SchemaAndValue::null()),
        sink_record(2, string("{\"already\": \"json\"}")),
    ])
    .await
    .expect("put");
    task.flush().await.expect("flush");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "plain text\nnull\n{\"already\": \"json\"}\n"
    );
}

#[tokio::test]
async fn every_task_appends_to_the_same_file_keeping_what_was_there() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.txt");
    append(&path, "before\n");
    let config = sink_config(&path);
    let task_configs = FileStreamSinkConnector
        .task_configs(&config, 2)
        .expect("task configs");
    assert_eq!(task_configs.len(), 2);
    let mut first = sink_task(&task_configs[0]).await;
    let mut second = sink_task(&task_configs[1]).await;
    let string = |s: &str| SchemaAndValue::new(SchemaBuilder::string().build_ref(), Value::from(s));
    first
        .put(&[sink_record(0, string("one"))])
        .await
        .expect("put");
    second
        .put(&[sink_record(0, string("two"))])
        .await
        .expect("put");
    first.flush().await.expect("flush fsyncs");
    second.flush().await.expect("flush fsyncs");
    first.put(&[]).await.expect("an empty put is fine");
    first.stop().await;
    second.stop().await;
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "before\none\ntwo\n"
    );
}

#[tokio::test]
async fn a_sink_file_that_cannot_be_opened_fails_the_start_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-such-dir").join("out.txt");
    let Ok(TaskImpl::Sink(mut task)) = FileStreamSinkConnector.create_task(&sink_config(&path))
    else {
        panic!("sink task");
    };
    let err = task
        .start(SinkTaskContext {
            connector: "out".into(),
            task_id: 0,
            config: sink_config(&path),
            errant: Arc::new(NoErrant),
            progress: TaskProgress::default(),
        })
        .await
        .expect_err("must fail");
    assert!(err.to_string().contains("no-such-dir"), "{err}");
}

#[test]
fn a_missing_topic_is_named_in_the_error() {
    let c = props(&[
        ("name", "x"),
        ("connector.class", "FileStreamSource"),
        ("file", "/tmp/in"),
    ]);
    let err = Plugins::check(&FileStreamSourceConnector, &c).expect_err("must fail");
    assert_eq!(err.key(), Some("topic"));
    assert_eq!(
        err.to_string(),
        "Missing required configuration \"topic\" which has no default value."
    );
}

#[test]
fn an_unknown_key_is_rejected_naming_the_key() {
    let mut c = props(&[
        ("name", "x"),
        ("connector.class", "FileStreamSource"),
        ("topic", "t"),
    ]);
    c.insert("batch.sise".into(), "10".into());
    let err = Plugins::check(&FileStreamSourceConnector, &c).expect_err("must fail");
    assert_eq!(err.key(), Some("batch.sise"));
    assert!(err.to_string().contains("\"batch.sise\""), "{err}");
}

#[test]
fn the_source_topic_must_be_a_single_topic() {
    let c = props(&[
        ("name", "x"),
        ("connector.class", "FileStreamSource"),
        ("topic", "a,b"),
    ]);
    let err = Plugins::check(&FileStreamSourceConnector, &c).expect_err("must fail");
    assert_eq!(err.key(), Some("topic"));
}

#[test]
fn the_sink_requires_a_file() {
    let c = props(&[
        ("name", "x"),
        ("connector.class", "FileStreamSink"),
        ("topics", "t"),
    ]);
    let err = Plugins::check(&FileStreamSinkConnector, &c).expect_err("must fail");
    assert_eq!(err.key(), Some("file"));
}

#[test]
fn the_source_definition_is_kafkas() {
    // As recorded from Kafka Connect 4.3 (`GET /connector-plugins/FileStreamSource/config`).
    let def = FileStreamSourceConnector.config_def();
    let json: Vec<serde_json::Value> = def.keys.iter().map(|k| k.definition_json()).collect();
    let summary: Vec<(String, String, bool, String)> = json
        .iter()
        .map(|d| {
            (
                d["name"].as_str().unwrap().to_owned(),
                d["type"].as_str().unwrap().to_owned(),
                d["required"].as_bool().unwrap(),
                d["importance"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("file", "STRING", false, "HIGH"),
        ("topic", "STRING", true, "HIGH"),
        ("batch.size", "INT", false, "LOW"),
    ];
    let expected: Vec<(String, String, bool, String)> = expected
        .iter()
        .map(|(a, b, c, d)| ((*a).to_owned(), (*b).to_owned(), *c, (*d).to_owned()))
        .collect();
    assert_eq!(summary, expected);
    assert_eq!(json[2]["default_value"], "2000");
    assert_eq!(
        json[0]["documentation"],
        "Source filename. If not specified, the standard input will be used"
    );
    assert_eq!(json[1]["documentation"], "The topic to publish data to");
}

#[test]
fn topics_are_known_from_the_config() {
    let source = props(&[("topic", "lines"), ("file", "/tmp/x")]);
    assert_eq!(FileStreamSourceConnector.topics(&source), ["lines"]);
    let sink = props(&[("topics", " a, b ,,c"), ("file", "/tmp/x")]);
    assert_eq!(FileStreamSinkConnector.topics(&sink), ["a", "b", "c"]);
}

#[test]
fn the_sink_makes_tasks_max_tasks() {
    let c = props(&[("topics", "a"), ("file", "/tmp/x")]);
    assert_eq!(
        FileStreamSinkConnector
            .task_configs(&c, 3)
            .expect("configs")
            .len(),
        3
    );
    assert_eq!(
        FileStreamSourceConnector
            .task_configs(&props(&[("topic", "t")]), 3)
            .expect("configs")
            .len(),
        1
    );
}
