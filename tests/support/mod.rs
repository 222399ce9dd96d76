//! Shared test support: a real Kafka-protocol cluster (librdkafka's mock cluster, serving TCP
//! on 127.0.0.1), workers started in-process or as `tributary` processes, HTTP helpers and
//! bounded waits that say what they waited for.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{BorrowedMessage, Message};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;
use rdkafka::ClientConfig;
use tributary_runtime::config::ConfigMap;
use tributary_runtime::connector::Plugins;
use tributary_runtime::kafka::message_headers;
use tributary_runtime::record::Headers;
use tributary_runtime::worker::{Standalone, WorkerConfig};

pub type Kafka = MockCluster<'static, DefaultProducerContext>;

pub fn kafka() -> Kafka {
    MockCluster::new(1).expect("mock Kafka cluster")
}

pub fn map(pairs: &[(&str, &str)]) -> ConfigMap {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Polls `check` every 50 ms until it returns `Some`, or panics after `timeout` naming `what`.
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Worker properties for a worker on a free port, state in `dir`.
pub fn worker_props(bootstrap: &str, dir: &Path, extra: &[(&str, &str)]) -> ConfigMap {
    let mut props = map(&[
        ("bootstrap.servers", bootstrap),
        ("listeners", "http://127.0.0.1:0"),
        ("schema.registry.storage", "memory"),
        ("offset.flush.interval.ms", "100"),
    ]);
    props.insert(
        "offset.storage.file.filename".into(),
        dir.join("connect.offsets").display().to_string(),
    );
    props.insert(
        "connector.config.file".into(),
        dir.join("connectors.json").display().to_string(),
    );
    for (k, v) in extra {
        props.insert((*k).to_owned(), (*v).to_owned());
    }
    props
}

/// Logs of in-process workers go to the test's output (shown for failing tests).
pub fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,rdkafka=warn".into()),
        )
        .with_test_writer()
        .try_init();
}

/// A worker in this process.
pub async fn start_worker(
    props: &ConfigMap,
    plugins: Plugins,
    connectors: Vec<ConfigMap>,
) -> Standalone {
    init_logs();
    let config = WorkerConfig::parse(props).expect("worker config");
    Standalone::start(config, plugins, connectors)
        .await
        .expect("worker starts")
}

/// A worker with default settings and every connector of this build, running `connectors`.
pub async fn start_plain_worker(
    bootstrap: &str,
    dir: &Path,
    connectors: Vec<ConfigMap>,
) -> Standalone {
    start_worker(
        &worker_props(bootstrap, dir, &[]),
        tributary_connectors::plugins(),
        connectors,
    )
    .await
}

pub struct Http {
    pub base: String,
    client: reqwest::Client,
}

impl Http {
    pub fn new(base: impl Into<String>) -> Http {
        Http {
            base: base.into(),
            client: reqwest::Client::new(),
        }
    }

    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self
            .client
            .request(method, format!("{}{}", self.base, path));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("HTTP request");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("HTTP body");
        let json = if text.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))
        };
        (status, json)
    }

    pub async fn raw(&self, method: &str, path: &str, body: &str) -> (u16, serde_json::Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let resp = self
            .client
            .request(method, format!("{}{}", self.base, path))
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .expect("HTTP request");
        let status = resp.status().as_u16();
        let json = resp.json().await.unwrap_or(serde_json::Value::Null);
        (status, json)
    }

    pub async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        self.call("GET", path, None).await
    }

    /// A GET that answers `None` while nothing listens (a worker starting or killed).
    pub async fn try_get(&self, path: &str) -> Option<(u16, serde_json::Value)> {
        let resp = self
            .client
            .get(format!("{}{}", self.base, path))
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .ok()?;
        let status = resp.status().as_u16();
        let json = resp.json().await.unwrap_or(serde_json::Value::Null);
        Some((status, json))
    }

    /// Waits until the connector and all its tasks report `state`.
    pub async fn wait_state(
        &self,
        connector: &str,
        state: &str,
        timeout: Duration,
    ) -> serde_json::Value {
        let what = format!("connector {connector} and its tasks to be {state}");
        wait_for(&what, timeout, || async {
            // Nothing listening yet (a worker starting) counts as not there yet.
            let (code, s) = self
                .try_get(&format!("/connectors/{connector}/status"))
                .await
                .unwrap_or((0, serde_json::Value::Null));
            let all = code == 200
                && s["connector"]["state"] == state
                && s["tasks"]
                    .as_array()
                    .is_some_and(|t| !t.is_empty() && t.iter().all(|t| t["state"] == state));
            all.then_some(s)
        })
        .await
    }
}

/// (partition, offset, key, value) of one consumed record.
pub type Consumed = (i32, i64, Option<Vec<u8>>, Option<Vec<u8>>);

/// Every record of `topic` from the beginning, read until `expected` records came or `timeout`
/// passed (the caller asserts on what it got).
pub fn consume_all(
    bootstrap: &str,
    topic: &str,
    expected: usize,
    timeout: Duration,
) -> Vec<Consumed> {
    consume_all_as(bootstrap, topic, expected, timeout, consumed)
}

/// As [`consume_all`], each record with its headers.
pub fn consume_all_with_headers(
    bootstrap: &str,
    topic: &str,
    expected: usize,
    timeout: Duration,
) -> Vec<(Consumed, Headers)> {
    consume_all_as(bootstrap, topic, expected, timeout, |m| {
        (consumed(m), message_headers(m))
    })
}

fn consumed(m: &BorrowedMessage<'_>) -> Consumed {
    (
        m.partition(),
        m.offset(),
        m.key().map(<[u8]>::to_vec),
        m.payload().map(<[u8]>::to_vec),
    )
}

fn consume_all_as<T>(
    bootstrap: &str,
    topic: &str,
    expected: usize,
    timeout: Duration,
    read: impl Fn(&BorrowedMessage<'_>) -> T,
) -> Vec<T> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", format!("test-reader-{}", uniq()))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    consumer.subscribe(&[topic]).expect("subscribe");
    let deadline = Instant::now() + timeout;
    let mut out = Vec::new();
    while out.len() < expected && Instant::now() < deadline {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
            out.push(read(&m));
        }
    }
    // Anything beyond the expected count (duplicates) arrives within a short grace period.
    let grace = Instant::now() + Duration::from_millis(500);
    while Instant::now() < grace {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(50)) {
            out.push(read(&m));
        }
    }
    out
}

/// Every record of `topic` from the beginning, read until none came for `idle` (at most `max`).
pub fn consume_until_idle(
    bootstrap: &str,
    topic: &str,
    idle: Duration,
    max: Duration,
) -> Vec<Consumed> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", format!("test-reader-{}", uniq()))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    consumer.subscribe(&[topic]).expect("subscribe");
    let deadline = Instant::now() + max;
    let mut last = Instant::now();
    let mut out = Vec::new();
    // The group join takes a moment before the first record: don't count it as idle.
    let mut started = false;
    while Instant::now() < deadline && (!started || last.elapsed() < idle) {
        match consumer.poll(Duration::from_millis(50)) {
            Some(Ok(m)) => {
                started = true;
                last = Instant::now();
                out.push(consumed(&m));
            }
            _ => {
                if !started
                    && !consumer
                        .assignment()
                        .map(|a| a.count() == 0)
                        .unwrap_or(true)
                    && last.elapsed() > Duration::from_secs(5)
                {
                    started = true;
                }
            }
        }
    }
    out
}

pub fn uniq() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    nanos ^ N.fetch_add(1, Ordering::Relaxed)
}

/// A `tributary` process.
pub struct Process {
    pub child: Child,
    pub log: PathBuf,
}

impl Process {
    pub fn spawn(args: &[&str], log: PathBuf) -> Process {
        let out = std::fs::File::create(&log).expect("log file");
        let err = out.try_clone().expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_tributary"))
            .args(args)
            // The benches that start workers through this take their log filter from
            // `TRIBUTARY_BENCH_WORKER_LOG`, as jdbc_sink's does.
            .env(
                "RUST_LOG",
                std::env::var("TRIBUTARY_BENCH_WORKER_LOG")
                    .unwrap_or_else(|_| "info,rdkafka=warn".to_owned()),
            )
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("spawn tributary");
        Process { child, log }
    }

    pub fn signal(&self, sig: &str) {
        let status = Command::new("kill")
            .args([&format!("-{sig}"), &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success(), "kill -{sig} failed");
    }

    /// Waits for the process to exit (bounded), returning its exit code.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status.code();
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                panic!(
                    "tributary did not exit within {timeout:?}; log:\n{}",
                    self.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

pub fn write_properties(path: &Path, props: &BTreeMap<String, String>) {
    let text: String = props.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    std::fs::write(path, text).expect("write properties");
}
