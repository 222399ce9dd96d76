//! Sink tasks of one connector form the consumer group `connect-<name>` and share the topic's
//! partitions; offsets are committed after the sink flushed, so the group's committed offsets
//! end at the topic's end.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use support::{kafka, map, start_worker, wait_for, worker_props, Http};
use tributary_runtime::config::{ConfigDef, ConfigMap};
use tributary_runtime::connector::{
    Connector, ConnectorType, SinkTask, SinkTaskContext, TaskError, TaskImpl,
};
use tributary_runtime::record::SinkRecord;

/// (task, partition, offset) of every record flushed by the recording sink.
fn flushed() -> &'static Mutex<Vec<(u32, i32, i64)>> {
    static CELL: OnceLock<Mutex<Vec<(u32, i32, i64)>>> = OnceLock::new();
    CELL.get_or_init(Default::default)
}

/// A sink connector of these tests: `tasks.max` tasks, task `id` made by `make`.
struct TestSink {
    class: &'static str,
    make: fn(u32) -> Box<dyn SinkTask>,
}

impl Connector for TestSink {
    fn class(&self) -> &'static str {
        self.class
    }
    fn connector_type(&self) -> ConnectorType {
        ConnectorType::Sink
    }
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
    }
    fn task_configs(
        &self,
        config: &ConfigMap,
        max_tasks: usize,
    ) -> Result<Vec<ConfigMap>, TaskError> {
        Ok((0..max_tasks)
            .map(|t| {
                let mut c = config.clone();
                c.insert("task.id".into(), t.to_string());
                c
            })
            .collect())
    }
    fn create_task(&self, config: &ConfigMap) -> Result<TaskImpl, TaskError> {
        let id = config
            .get("task.id")
            .and_then(|t| t.parse().ok())
            .unwrap_or(0);
        Ok(TaskImpl::Sink((self.make)(id)))
    }
}

/// Records what it flushed in [`flushed`].
fn recording_sink() -> TestSink {
    TestSink {
        class: "test.RecordingSinkConnector",
        make: |id| {
            Box::new(RecordingTask {
                id,
                pending: Vec::new(),
            })
        },
    }
}

struct RecordingTask {
    id: u32,
    pending: Vec<(u32, i32, i64)>,
}

#[async_trait]
impl SinkTask for RecordingTask {
    async fn start(&mut self, _context: SinkTaskContext) -> Result<(), TaskError> {
        Ok(())
    }
    async fn put(&mut self, records: &[SinkRecord]) -> Result<(), TaskError> {
        self.pending
            .extend(records.iter().map(|r| (self.id, r.partition, r.offset)));
        Ok(())
    }
    async fn flush(&mut self) -> Result<(), TaskError> {
        flushed().lock().expect("lock").append(&mut self.pending);
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_sink_tasks_split_the_partitions_and_commit_after_flush() {
    const PARTITIONS: i32 = 4;
    const PER_PARTITION: i64 = 100;
    let kafka = kafka();
    let topic = "orders";
    kafka.create_topic(topic, PARTITIONS, 1).expect("topic");
    let bootstrap = kafka.bootstrap_servers();
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .create()
        .expect("producer");
    for p in 0..PARTITIONS {
        for i in 0..PER_PARTITION {
            let payload = format!("p{p}-{i}");
            producer
                .send(
                    FutureRecord::<(), _>::to(topic)
                        .partition(p)
                        .payload(&payload),
                    Duration::from_secs(10),
                )
                .await
                .expect("produce");
        }
    }

    let dir = tempfile::tempdir().expect("tempdir");
    let mut plugins = tributary_connectors::plugins();
    plugins.register(Arc::new(recording_sink()));
    let props = worker_props(
        &bootstrap,
        dir.path(),
        &[(
            "value.converter",
            "org.apache.kafka.connect.storage.StringConverter",
        )],
    );
    let sink = map(&[
        ("name", "rec"),
        ("connector.class", "test.RecordingSinkConnector"),
        ("topics", topic),
        ("tasks.max", "2"),
    ]);
    let worker = start_worker(&props, plugins, vec![sink]).await;
    let api = Http::new(format!("http://{}", worker.rest_addr));
    let status = api
        .wait_state("rec", "RUNNING", Duration::from_secs(30))
        .await;
    assert_eq!(status["tasks"].as_array().map(Vec::len), Some(2));

    let total = (PARTITIONS as i64 * PER_PARTITION) as usize;
    let records = wait_for(
        "both tasks to flush every record",
        Duration::from_secs(60),
        || async {
            let all = flushed().lock().expect("lock").clone();
            (all.len() >= total).then_some(all)
        },
    )
    .await;

    let mut by_partition: BTreeMap<i32, Vec<i64>> = BTreeMap::new();
    let mut tasks_of_partition: BTreeMap<i32, BTreeSet<u32>> = BTreeMap::new();
    for (task, partition, offset) in &records {
        by_partition.entry(*partition).or_default().push(*offset);
        tasks_of_partition
            .entry(*partition)
            .or_default()
            .insert(*task);
    }
    for (p, offsets) in &by_partition {
        assert_eq!(
            offsets,
            &(0..PER_PARTITION).collect::<Vec<_>>(),
            "partition {p}: every record once, in order"
        );
    }
    let tasks_used: BTreeSet<u32> = tasks_of_partition.values().flatten().copied().collect();
    assert_eq!(
        tasks_used,
        BTreeSet::from([0, 1]),
        "both tasks got partitions: {tasks_of_partition:?}"
    );
    assert!(
        tasks_of_partition.values().all(|t| t.len() == 1),
        "each partition had one owner: {tasks_of_partition:?}"
    );

    // Not `wait_for`: a timeout shows how far the group's committed offsets got.
    let deadline = Instant::now() + Duration::from_secs(30);
    let offsets = loop {
        let (code, o) = api.get("/connectors/rec/offsets").await;
        let ends: Vec<i64> = o["offsets"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e["offset"]["kafka_offset"].as_i64())
                    .collect()
            })
            .unwrap_or_default();
        if code == 200
            && ends.len() == PARTITIONS as usize
            && ends.iter().all(|e| *e == PER_PARTITION)
        {
            break o;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after 30 s waiting for the group's committed offsets to reach the end of \
             every partition; the last answer: {code} {o}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(offsets["offsets"][0]["partition"]["kafka_topic"], topic);
    worker.shutdown().await;
}

/// Set once a [`StuckTask`] is inside `put`.
static STUCK_IN_PUT: AtomicBool = AtomicBool::new(false);

/// A sink whose `put` never returns: its stop times out and the worker abandons the runner.
struct StuckTask;

#[async_trait]
impl SinkTask for StuckTask {
    async fn start(&mut self, _context: SinkTaskContext) -> Result<(), TaskError> {
        Ok(())
    }
    async fn put(&mut self, _records: &[SinkRecord]) -> Result<(), TaskError> {
        STUCK_IN_PUT.store(true, Ordering::SeqCst);
        std::future::pending().await
    }
    async fn flush(&mut self) -> Result<(), TaskError> {
        Ok(())
    }
}

/// The worker's own runtime is shut down in the background at the end: a consumer whose close
/// never ends holds a runtime thread forever, and the test must fail, not hang, on that.
#[test]
fn a_sink_task_abandoned_mid_batch_leaves_its_group_to_the_next_consumer() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let outcome = runtime.block_on(abandoned_task_scenario());
    runtime.shutdown_background();
    if let Err(e) = outcome {
        panic!("{e}");
    }
}

async fn abandoned_task_scenario() -> Result<(), String> {
    let kafka = kafka();
    let topic = "stuck";
    kafka.create_topic(topic, 1, 1).map_err(|e| e.to_string())?;
    let bootstrap = kafka.bootstrap_servers();
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .create()
        .map_err(|e| e.to_string())?;
    producer
        .send(
            FutureRecord::<(), _>::to(topic).payload("x"),
            Duration::from_secs(10),
        )
        .await
        .map_err(|(e, _)| e.to_string())?;

    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut plugins = tributary_connectors::plugins();
    plugins.register(Arc::new(TestSink {
        class: "test.StuckSinkConnector",
        make: |_| Box::new(StuckTask),
    }));
    let props = worker_props(
        &bootstrap,
        dir.path(),
        &[
            (
                "value.converter",
                "org.apache.kafka.connect.storage.StringConverter",
            ),
            ("task.shutdown.graceful.timeout.ms", "200"),
        ],
    );
    let sink = map(&[
        ("name", "stuck"),
        ("connector.class", "test.StuckSinkConnector"),
        ("topics", topic),
    ]);
    let worker = start_worker(&props, plugins, vec![sink]).await;
    wait_for(
        "the stuck task to be inside put",
        Duration::from_secs(30),
        || async { STUCK_IN_PUT.load(Ordering::SeqCst).then_some(()) },
    )
    .await;
    // The stop times out (200 ms + the herder's 5 s margin) and the runner is dropped mid-put.
    tokio::time::timeout(Duration::from_secs(30), worker.shutdown())
        .await
        .map_err(|_| "the worker did not shut down within 30 s".to_owned())?;

    // Its consumer must have left the group: a new member gets the partition quickly, instead
    // of waiting for a member that is stuck closing.
    let next: rdkafka::consumer::BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .set("group.id", "connect-stuck")
        .set("partition.assignment.strategy", "cooperative-sticky")
        .set("session.timeout.ms", "30000")
        .set("auto.offset.reset", "earliest")
        .create()
        .map_err(|e| e.to_string())?;
    rdkafka::consumer::Consumer::subscribe(&next, &[topic]).map_err(|e| e.to_string())?;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let _ = next.poll(Duration::from_millis(100));
        let assigned = rdkafka::consumer::Consumer::assignment(&next)
            .map(|a| a.count())
            .unwrap_or(0);
        if assigned == 1 {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            return Err(
                "a new consumer of connect-stuck got no partition within 20 s: the abandoned \
                 task's consumer never left the group"
                    .to_owned(),
            );
        }
        tokio::task::yield_now().await;
    }
}
