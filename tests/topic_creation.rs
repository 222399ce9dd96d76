//! Topic creation by source connectors (KIP-158) against the brokers we can run: librdkafka's
//! mock cluster, which auto-creates topics on a metadata request (as a default Apache Kafka
//! does) and has no `CreateTopics` API; tansu's memory build, which auto-creates too and creates
//! topics with configs; tansu's SQLite build, which never auto-creates. Each topic is read back
//! with the admin API.
//!
//! A test-only source connector writes one record to each topic of its `to.topics` list, so
//! that group matching is tried on several topics at once.

mod support;

#[path = "e2e/stack.rs"]
#[allow(dead_code)]
mod stack;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rdkafka::admin::{AdminClient, AdminOptions, ResourceSpecifier};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseProducer, Producer};
use rdkafka::ClientConfig;
use serde_json::json;
use stack::{Broker, Storage};
use support::{map, start_worker, wait_for, worker_props, Http};
use tributary_runtime::config::{ConfigDef, ConfigKey, ConfigMap, ConfigType, Importance};
use tributary_runtime::connector::{
    Connector, ConnectorType, Plugins, SourceTask, SourceTaskContext, TaskError, TaskImpl,
};
use tributary_runtime::data::Value;
use tributary_runtime::kafka::{InProcessKafka, KafkaSettings, TopicAdmin};
use tributary_runtime::record::{SchemaAndValue, SourceRecord};
use tributary_runtime::worker::WorkerConfig;

const SETTLE: Duration = Duration::from_secs(30);

/// Writes one string record to each topic of `to.topics`, then nothing.
struct TopicsSource;

impl Connector for TopicsSource {
    fn class(&self) -> &'static str {
        "test.TopicsSource"
    }
    fn connector_type(&self) -> ConnectorType {
        ConnectorType::Source
    }
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new().define(ConfigKey::new(
            "to.topics",
            ConfigType::List,
            None,
            Importance::High,
            "Topics to write one record to.",
        ))
    }
    fn task_configs(&self, config: &ConfigMap, _: usize) -> Result<Vec<ConfigMap>, TaskError> {
        Ok(vec![config.clone()])
    }
    fn create_task(&self, config: &ConfigMap) -> Result<TaskImpl, TaskError> {
        let topics = config
            .get("to.topics")
            .map(|t| t.split(',').map(|s| s.trim().to_owned()).collect())
            .unwrap_or_default();
        Ok(TaskImpl::Source(Box::new(TopicsTask { topics })))
    }
}

struct TopicsTask {
    topics: Vec<String>,
}

#[async_trait]
impl SourceTask for TopicsTask {
    async fn start(&mut self, _: SourceTaskContext) -> Result<(), TaskError> {
        Ok(())
    }
    async fn poll(&mut self) -> Result<Vec<SourceRecord>, TaskError> {
        if self.topics.is_empty() {
            tokio::time::sleep(Duration::from_millis(100)).await;
            return Ok(Vec::new());
        }
        Ok(std::mem::take(&mut self.topics)
            .into_iter()
            .map(|topic| SourceRecord {
                source_partition: Default::default(),
                source_offset: Default::default(),
                value: SchemaAndValue {
                    schema: None,
                    value: Value::String(format!("a record for {topic}")),
                },
                topic,
                partition: None,
                key: SchemaAndValue::null(),
                timestamp: None,
                headers: Vec::new(),
            })
            .collect())
    }
}

fn plugins() -> Plugins {
    let mut plugins = Plugins::new();
    plugins.register(Arc::new(TopicsSource));
    plugins
}

fn source(name: &str, topics: &[&str], extra: &[(&str, &str)]) -> ConfigMap {
    let mut config = map(&[
        ("name", name),
        ("connector.class", "test.TopicsSource"),
        ("to.topics", &topics.join(",")),
        (
            "value.converter",
            "org.apache.kafka.connect.storage.StringConverter",
        ),
    ]);
    config.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    config
}

/// Every topic of the cluster with its partition count, from a metadata request for all
/// topics (which creates nothing).
fn topics_of(bootstrap: &str) -> Vec<(String, usize)> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .expect("metadata client");
    let metadata = consumer
        .fetch_metadata(None, Duration::from_secs(10))
        .expect("the broker answers a metadata request within 10 s");
    let mut topics: Vec<(String, usize)> = metadata
        .topics()
        .iter()
        // Brokers' own topics (tansu's consumer offsets) are not ours.
        .filter(|t| t.error().is_none() && !t.name().starts_with("__"))
        .map(|t| (t.name().to_owned(), t.partitions().len()))
        .collect();
    topics.sort();
    topics
}

fn partitions_of(bootstrap: &str, topic: &str) -> Option<usize> {
    topics_of(bootstrap)
        .into_iter()
        .find(|(t, _)| t == topic)
        .map(|(_, n)| n)
}

/// A topic's config as the broker describes it.
async fn topic_config(bootstrap: &str, topic: &str, key: &str) -> Option<String> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .expect("admin client");
    let described = admin
        .describe_configs([&ResourceSpecifier::Topic(topic)], &AdminOptions::new())
        .await
        .expect("DescribeConfigs");
    let resource = described
        .into_iter()
        .next()
        .expect("one resource")
        .expect("the topic's configs");
    resource.get(key).and_then(|e| e.value.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_existence_probe_creates_nothing_on_a_broker_that_auto_creates_topics() {
    let kafka = support::kafka();
    let bootstrap = kafka.bootstrap_servers();
    let admin = TopicAdmin::new(&KafkaSettings::new(&bootstrap), &ConfigMap::new(), None)
        .expect("admin client");
    assert!(!admin.exists("orders").await.expect("probe answered"));
    assert_eq!(
        partitions_of(&bootstrap, "orders"),
        None,
        "the probe made the broker create the topic"
    );

    // What the probe must not be: a metadata request naming the topic from a client that
    // allows auto-creation (a producer's default) creates it with the broker's 4 partitions.
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .create()
        .expect("producer");
    let _ = producer
        .client()
        .fetch_metadata(Some("payments"), Duration::from_secs(10));
    assert_eq!(partitions_of(&bootstrap, "payments"), Some(4));
    assert!(admin.exists("payments").await.expect("probe answered"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_without_create_topics_fails_the_task_naming_the_topic_and_its_answer() {
    let kafka = support::kafka();
    let bootstrap = kafka.bootstrap_servers();
    let dir = tempfile::tempdir().expect("tempdir");
    let worker = start_worker(
        &worker_props(&bootstrap, dir.path(), &[]),
        plugins(),
        vec![source(
            "creates",
            &["inventory.orders"],
            &[
                ("topic.creation.default.partitions", "1"),
                ("topic.creation.default.replication.factor", "1"),
            ],
        )],
    )
    .await;
    let api = Http::new(format!("http://{}", worker.rest_addr));
    // librdkafka waits for a controller to send CreateTopics to, which the mock never names, for
    // its 30 s request timeout.
    let trace = wait_for("the task to fail", Duration::from_secs(60), || async {
        let (_, s) = api.get("/connectors/creates/status").await;
        (s["tasks"][0]["state"] == "FAILED").then(|| s["tasks"][0]["trace"].to_string())
    })
    .await;
    assert!(
        trace.contains("'inventory.orders' (partitions: 1, replication factor: 1)")
            && trace.contains("Timed out while checking for or creating topic"),
        "{trace}"
    );
    assert_eq!(
        partitions_of(&bootstrap, "inventory.orders"),
        None,
        "nothing auto-created the topic with the broker's defaults"
    );
    worker.shutdown().await;
}

/// The quickstart's broker: the worker owns it and creates topics through its own interface.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_owning_its_kafka_creates_topics_with_the_asked_partitions() {
    let kafka = InProcessKafka::start(1).expect("in-process Kafka");
    let bootstrap = kafka.bootstrap_servers().to_owned();
    let dir = tempfile::tempdir().expect("tempdir");
    support::init_logs();
    let mut config =
        WorkerConfig::parse(&worker_props(&bootstrap, dir.path(), &[])).expect("worker config");
    config.in_process_kafka = Some(kafka.clone());
    let worker = tributary_runtime::worker::Standalone::start(config, plugins(), vec![])
        .await
        .expect("worker starts");
    let api = Http::new(format!("http://{}", worker.rest_addr));
    let config = source(
        "qs",
        &["app", "app.db.orders", "app.db.customers"],
        &[
            ("topic.creation.default.partitions", "1"),
            ("topic.creation.default.replication.factor", "1"),
            ("topic.creation.groups", "wide"),
            ("topic.creation.wide.include", "app\\.db\\..*"),
            ("topic.creation.wide.exclude", ".*customers"),
            ("topic.creation.wide.partitions", "6"),
        ],
    );
    let (code, body) = api
        .call(
            "POST",
            "/connectors",
            Some(json!({"name": "qs", "config": config})),
        )
        .await;
    assert_eq!(code, 201, "{body}");
    wait_for("the three topics", SETTLE, || async {
        (topics_of(&bootstrap).len() >= 3).then_some(())
    })
    .await;
    assert_eq!(
        topics_of(&bootstrap),
        [
            ("app".to_owned(), 1),
            ("app.db.customers".to_owned(), 1),
            ("app.db.orders".to_owned(), 6)
        ]
    );
    worker.shutdown().await;
}

/// On tansu's memory build, which also auto-creates topics on a metadata request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topics_are_created_on_tansu_with_the_partitions_and_configs_of_their_group() {
    groups_on_tansu(Storage::Memory).await;
}

/// On tansu's SQLite build, which never auto-creates topics.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topics_are_created_on_a_broker_that_never_auto_creates_as_their_group_says() {
    groups_on_tansu(Storage::Sqlite).await;
}

async fn groups_on_tansu(storage: Storage) {
    let state = tempfile::tempdir().expect("tempdir");
    let broker = Broker::start(state.path(), "topics", storage);
    let bootstrap = broker.bootstrap();
    let worker = start_worker(
        &worker_props(&bootstrap, state.path(), &[]),
        plugins(),
        vec![source(
            "cdc",
            &[
                "shop",
                "shop.sales.orders",
                "shop.sales.audit_log",
                "shop.crm.contacts",
            ],
            &[
                ("topic.creation.default.partitions", "1"),
                ("topic.creation.default.replication.factor", "1"),
                ("topic.creation.groups", "compacted,wide"),
                (
                    "topic.creation.compacted.include",
                    "shop\\.crm\\..*,.*\\.audit_log",
                ),
                ("topic.creation.compacted.cleanup.policy", "compact"),
                ("topic.creation.wide.include", "shop\\.sales\\..*"),
                ("topic.creation.wide.partitions", "6"),
                ("topic.creation.wide.retention.ms", "3600000"),
            ],
        )],
    )
    .await;
    wait_for("the four topics", SETTLE, || async {
        (topics_of(&bootstrap).len() >= 4).then_some(())
    })
    .await;
    assert_eq!(
        topics_of(&bootstrap),
        [
            ("shop".to_owned(), 1),
            ("shop.crm.contacts".to_owned(), 1),
            ("shop.sales.audit_log".to_owned(), 1),
            ("shop.sales.orders".to_owned(), 6)
        ],
        "audit_log is taken by the first group that matches it"
    );
    for (topic, policy, retention) in [
        ("shop", "delete", None),
        ("shop.crm.contacts", "compact", None),
        ("shop.sales.audit_log", "compact", None),
        ("shop.sales.orders", "delete", Some("3600000")),
    ] {
        assert_eq!(
            topic_config(&bootstrap, topic, "cleanup.policy")
                .await
                .as_deref()
                .unwrap_or("delete"),
            policy,
            "{topic}"
        );
        if let Some(r) = retention {
            assert_eq!(
                topic_config(&bootstrap, topic, "retention.ms")
                    .await
                    .as_deref(),
                Some(r),
                "{topic}"
            );
        }
    }
    let api = Http::new(format!("http://{}", worker.rest_addr));
    let (_, status) = api.get("/connectors/cdc/status").await;
    assert_eq!(status["tasks"][0]["state"], "RUNNING", "{status}");
    worker.shutdown().await;
}

/// A worker with `topic.creation.enable=false` running a source that asks for 6 partitions and
/// writes to `existing` and `missing`, once the record for `watched` is in its topic.
async fn disabled_creation_worker(
    bootstrap: &str,
    dir: &std::path::Path,
    watched: &str,
) -> tributary_runtime::worker::Standalone {
    let worker = start_worker(
        &worker_props(
            bootstrap,
            dir,
            &[
                ("topic.creation.enable", "false"),
                // A record for a topic that never comes is not waited for at the end.
                ("task.shutdown.graceful.timeout.ms", "1000"),
            ],
        ),
        plugins(),
        vec![source(
            "off",
            &["existing", "missing"],
            &[
                ("topic.creation.default.partitions", "6"),
                ("topic.creation.default.replication.factor", "1"),
            ],
        )],
    )
    .await;
    let (b, t) = (bootstrap.to_owned(), watched.to_owned());
    let got = tokio::task::spawn_blocking(move || support::consume_all(&b, &t, 1, SETTLE))
        .await
        .expect("consumer thread");
    assert_eq!(got.len(), 1, "the record for {watched} within {SETTLE:?}");
    worker
}

/// With the worker's `topic.creation.enable=false` a connector's `topic.creation.*` is not
/// used: on a broker that auto-creates topics (the mock cluster, where a creation attempt would
/// fail the task) a new topic gets the broker's defaults, and an existing one is left alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_with_topic_creation_disabled_leaves_topics_to_the_broker() {
    let kafka = support::kafka();
    let bootstrap = kafka.bootstrap_servers();
    kafka.create_topic("existing", 2, 1).expect("topic");
    let dir = tempfile::tempdir().expect("tempdir");
    let worker = disabled_creation_worker(&bootstrap, dir.path(), "missing").await;
    assert_eq!(
        topics_of(&bootstrap),
        [("existing".to_owned(), 2), ("missing".to_owned(), 4)],
        "the existing topic unchanged, the new one with the broker's 4 partitions"
    );
    let api = Http::new(format!("http://{}", worker.rest_addr));
    let (_, status) = api.get("/connectors/off/status").await;
    assert_eq!(status["tasks"][0]["state"], "RUNNING", "{status}");
    worker.shutdown().await;
}

/// The same on a broker that never auto-creates topics (tansu with SQLite storage, crates.io's
/// build): with `topic.creation.enable=false` the missing topic is not created by anyone, and
/// the existing one gets its record and keeps its partitions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_with_topic_creation_disabled_creates_nothing_where_the_broker_does_not() {
    let state = tempfile::tempdir().expect("tempdir");
    let broker = Broker::start(state.path(), "no-create", Storage::Sqlite);
    let bootstrap = broker.bootstrap();
    broker.create_topics(&["existing".to_owned()], 2).await;
    let worker = disabled_creation_worker(&bootstrap, state.path(), "existing").await;
    assert_eq!(
        topics_of(&bootstrap),
        [("existing".to_owned(), 2)],
        "no topic created, the existing one unchanged"
    );
    worker.shutdown().await;
}
