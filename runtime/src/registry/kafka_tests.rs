//! Persistence tests against librdkafka's in-process mock cluster: real Kafka protocol, real
//! clients, no broker to install.
//!
//! The mock cluster does not implement CreateTopics, so tests create the topic through the mock
//! API first (the registry then finds it existing, as it would on a second start).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;
use rdkafka::{Message, Offset, TopicPartitionList};

use super::{CompatibilityLevel, RegistryError, SchemaRegistry, VersionSpec, DEFAULT_TOPIC};

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type TestResult = Result<(), BoxError>;
/// (key, value) of a topic record, as text.
type TextRecord = (String, Option<String>);
type Mock = MockCluster<'static, DefaultProducerContext>;

/// Bound for any single step of a test (opening a registry, a batch of registrations, …).
const STEP_TIMEOUT: Duration = Duration::from_secs(60);

const USER_V1: &str = r#"{"type":"record","name":"user","fields":[{"name":"id","type":"long"}]}"#;
const USER_V2: &str = r#"{"type":"record","name":"user","fields":[{"name":"id","type":"long"},{"name":"email","type":"string","default":""}]}"#;

/// A mock cluster with the registry topic created (1 partition, replication factor 3).
fn cluster(topic: &str) -> Result<(Mock, HashMap<String, String>), BoxError> {
    let mock = MockCluster::new(3)?;
    mock.create_topic(topic, 1, 3)?;
    let config = HashMap::from([("bootstrap.servers".to_string(), mock.bootstrap_servers())]);
    Ok((mock, config))
}

/// Runs `step` with a deadline; the error says which step did not finish.
async fn within<T>(
    what: &str,
    step: impl std::future::Future<Output = Result<T, RegistryError>>,
) -> Result<T, BoxError> {
    match tokio::time::timeout(STEP_TIMEOUT, step).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(format!("timed out after {STEP_TIMEOUT:?} waiting for: {what}").into()),
    }
}

async fn open(
    config: &HashMap<String, String>,
    topic: &str,
) -> Result<Arc<SchemaRegistry>, BoxError> {
    within(
        &format!("a registry to open and read topic '{topic}'"),
        SchemaRegistry::with_kafka_log(config, topic, 3),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_registry_reads_the_same_ids_versions_and_configs() -> TestResult {
    let (_mock, config) = cluster(DEFAULT_TOPIC)?;
    let a = open(&config, DEFAULT_TOPIC).await?;
    let v1 = within("register v1", a.register("users-value", USER_V1, false)).await?;
    let v2 = within("register v2", a.register("users-value", USER_V2, false)).await?;
    let shared = within(
        "register v1 elsewhere",
        a.register("copy-value", USER_V1, false),
    )
    .await?;
    let gone = within(
        "register doomed",
        a.register("gone-value", r#""string""#, false),
    )
    .await?;
    within(
        "set global level",
        a.set_global_compatibility(CompatibilityLevel::Full),
    )
    .await?;
    within(
        "set subject level",
        a.set_subject_compatibility("users-value", CompatibilityLevel::None),
    )
    .await?;
    within("soft delete", a.delete_subject("gone-value", false)).await?;
    assert_eq!((v1, v2, shared, gone), (1, 2, 1, 3));

    let b = open(&config, DEFAULT_TOPIC).await?;
    assert_eq!(b.fingerprint().await, a.fingerprint().await);
    assert_eq!(b.subjects().await, vec!["copy-value", "users-value"]);
    assert_eq!(b.versions("users-value").await?, vec![1, 2]);
    assert_eq!(b.schema_by_id(v2).await?, USER_V2);
    assert_eq!(
        b.schema_by_id(gone).await?,
        r#""string""#,
        "soft-deleted ids stay resolvable"
    );
    assert_eq!(
        b.versions("gone-value").await.err().map(|e| e.error_code()),
        Some(40401),
        "deleted subjects stay deleted"
    );
    assert_eq!(b.global_compatibility().await, CompatibilityLevel::Full);
    assert_eq!(
        b.subject_compatibility("users-value").await,
        Some(CompatibilityLevel::None)
    );
    let latest = b.version("users-value", VersionSpec::Latest, false).await?;
    assert_eq!((latest.version, latest.id), (2, v2));

    // B continues the sequences where A left them.
    let next = within(
        "register on B",
        b.register("users-value", r#""long""#, false),
    )
    .await?;
    assert_eq!(next, 4);
    assert_eq!(b.versions("users-value").await?, vec![1, 2, 3]);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_sees_what_another_one_registers_later() -> TestResult {
    let (_mock, config) = cluster("_schemas_follow")?;
    let a = open(&config, "_schemas_follow").await?;
    let b = open(&config, "_schemas_follow").await?;
    let id = within("register on A", a.register("users-value", USER_V1, false)).await?;
    // A miss on B catches up with the log before answering 40403.
    assert_eq!(within("lookup on B", b.schema_by_id(id)).await?, USER_V1);
    assert_eq!(
        within(
            "same schema on B",
            b.register("other-value", USER_V1, false)
        )
        .await?,
        id
    );
    within("catch up A", a.catch_up()).await?;
    within("catch up B", b.catch_up()).await?;
    assert_eq!(a.fingerprint().await, b.fingerprint().await);

    within(
        "permanent delete, step 1",
        b.delete_subject("other-value", false),
    )
    .await?;
    within(
        "permanent delete, step 2",
        b.delete_subject("other-value", true),
    )
    .await?;
    within("catch up A", a.catch_up()).await?;
    assert_eq!(
        a.subjects_including_deleted().await,
        vec!["users-value".to_string()]
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_registrations_never_hand_out_one_id_for_two_schemas() -> TestResult {
    let topic = "_schemas_race";
    let (_mock, config) = cluster(topic)?;
    let a = open(&config, topic).await?;
    let b = open(&config, topic).await?;
    within(
        "global NONE",
        a.set_global_compatibility(CompatibilityLevel::None),
    )
    .await?;
    within("catch up B", b.catch_up()).await?;

    // Both registries race on the same subject (version conflicts) and on fresh subjects
    // (id conflicts); every schema is different.
    let mut tasks = Vec::new();
    for i in 0..12u32 {
        let registry = Arc::clone(if i % 2 == 0 { &a } else { &b });
        let schema =
            format!(r#"{{"type":"record","name":"r{i}","fields":[{{"name":"f","type":"long"}}]}}"#);
        let subject = if i % 3 == 0 {
            "shared-value".to_string()
        } else {
            format!("s{i}-value")
        };
        tasks.push(tokio::spawn(async move {
            let id = registry.register(&subject, &schema, false).await;
            (subject, schema, id)
        }));
    }
    let mut ids: BTreeMap<u32, String> = BTreeMap::new();
    let results = tokio::time::timeout(STEP_TIMEOUT, futures::future::join_all(tasks))
        .await
        .map_err(|_| {
            format!("timed out after {STEP_TIMEOUT:?} waiting for 12 concurrent registrations")
        })?;
    let mut registered = Vec::new();
    for result in results {
        let (subject, schema, id) = result?;
        let id = id?;
        if let Some(previous) = ids.insert(id, schema.clone()) {
            return Err(format!("id {id} was handed out for {previous} and for {schema}").into());
        }
        registered.push((subject, schema, id));
    }
    assert_eq!(ids.len(), 12);

    within("catch up A", a.catch_up()).await?;
    within("catch up B", b.catch_up()).await?;
    assert_eq!(a.fingerprint().await, b.fingerprint().await);
    for (subject, schema, id) in &registered {
        assert_eq!(&a.schema_by_id(*id).await?, schema);
        assert_eq!(&b.schema_by_id(*id).await?, schema);
        let found = a.lookup(subject, schema, false).await?;
        assert_eq!(found.id, *id, "{subject}");
    }
    assert_eq!(a.versions("shared-value").await?, vec![1, 2, 3, 4]);
    // A third replica reading the log from scratch agrees too.
    let c = open(&config, topic).await?;
    assert_eq!(c.fingerprint().await, a.fingerprint().await);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_topic_holds_confluent_formatted_records() -> TestResult {
    let topic = "_schemas_format";
    let (mock, config) = cluster(topic)?;
    let registry = open(&config, topic).await?;
    within(
        "register",
        registry.register("users-value", r#""string""#, false),
    )
    .await?;
    within("soft delete", registry.delete_subject("users-value", false)).await?;
    within(
        "config",
        registry.set_global_compatibility(CompatibilityLevel::Full),
    )
    .await?;

    let records = tokio::task::spawn_blocking({
        let bootstrap = mock.bootstrap_servers();
        let topic = topic.to_string();
        move || read_all(&bootstrap, &topic, 3)
    })
    .await??;
    assert_eq!(
        records,
        vec![
            (
                r#"{"keytype":"SCHEMA","subject":"users-value","version":1,"magic":1}"#.to_string(),
                Some(r#"{"subject":"users-value","version":1,"id":1,"schema":"\"string\"","deleted":false}"#.to_string())
            ),
            (
                r#"{"keytype":"SCHEMA","subject":"users-value","version":1,"magic":1}"#.to_string(),
                Some(r#"{"subject":"users-value","version":1,"id":1,"schema":"\"string\"","deleted":true}"#.to_string())
            ),
            (
                r#"{"keytype":"CONFIG","subject":null,"magic":0}"#.to_string(),
                Some(r#"{"compatibilityLevel":"FULL"}"#.to_string())
            ),
        ]
    );
    Ok(())
}

/// Reads the first `count` records of partition 0 as (key, value) strings.
fn read_all(bootstrap: &str, topic: &str, count: usize) -> Result<Vec<TextRecord>, BoxError> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "format-check")
        .set("enable.auto.commit", "false")
        .create()?;
    let mut assignment = TopicPartitionList::new();
    assignment.add_partition_offset(topic, 0, Offset::Beginning)?;
    consumer.assign(&assignment)?;
    let deadline = std::time::Instant::now() + STEP_TIMEOUT;
    let mut records = Vec::new();
    while records.len() < count {
        if std::time::Instant::now() >= deadline {
            return Err(format!(
                "read only {} of {count} records from {topic} within {STEP_TIMEOUT:?}",
                records.len()
            )
            .into());
        }
        if let Some(message) = consumer.poll(Duration::from_millis(200)) {
            let message = message?;
            let text =
                |bytes: Option<&[u8]>| bytes.map(|b| String::from_utf8_lossy(b).into_owned());
            if let Some(key) = text(message.key()) {
                records.push((key, text(message.payload())));
            }
        }
    }
    Ok(records)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catching_up_finishes_when_the_log_ends_below_the_high_watermark() -> TestResult {
    // A log whose last offsets carry no record a consumer is handed (compacted away, or
    // transaction markers) leaves the follower at end-of-partition below the high watermark.
    // The mock cluster cannot compact or write markers, so we ask for one offset more than the
    // log will ever hand out: only the NOOP-marker fallback can satisfy that.
    let topic = "_schemas_gap";
    let (_mock, config) = cluster(topic)?;
    let registry = open(&config, topic).await?;
    within("register", registry.register("a-value", USER_V1, false)).await?;
    let log = registry
        .kafka_log()
        .ok_or("a Kafka-backed registry has a Kafka log")?;
    let high = within("high watermark", log.high_watermark()).await?;
    within(
        "catching up to one past the last record",
        log.catch_up_to(high + 1, Duration::from_secs(20)),
    )
    .await?;
    // The marker changed nothing.
    assert_eq!(
        within(
            "register again",
            registry.register("a-value", USER_V1, false)
        )
        .await?,
        1
    );
    assert_eq!(registry.versions("a-value").await?, vec![1]);
    Ok(())
}
