//! Kafka Connect's per-record error handling (`errors.*`) through real workers: failures
//! logged where they happened (`errors.log.enable`, `errors.log.include.messages`), and
//! retriable failures retried for `errors.retry.timeout` (a schema registry out of reach).

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use support::{free_port, kafka, map, start_plain_worker, wait_for, write_properties, Http};
use tributary_runtime::registry::{self, SchemaRegistry};

const SETTLE: Duration = Duration::from_secs(30);

async fn produce(bootstrap: &str, topic: &str, values: &[&str]) {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .expect("producer");
    for v in values {
        producer
            .send(
                FutureRecord::<(), str>::to(topic).payload(*v),
                Duration::from_secs(10),
            )
            .await
            .expect("the broker takes the record within 10 s");
    }
}

fn lines(path: &std::path::Path) -> usize {
    std::fs::read_to_string(path)
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_failed_record_is_logged_with_its_task_stage_and_coordinates() {
    let kafka = kafka();
    let bootstrap = kafka.bootstrap_servers();
    kafka.create_topic("in", 1, 1).expect("topic");
    produce(&bootstrap, "in", &[r#"{"a":1}"#, "{not json", r#"{"a":2}"#]).await;

    let dir = tempfile::tempdir().expect("tempdir");
    let worker_file = dir.path().join("worker.properties");
    let port = free_port();
    write_properties(
        &worker_file,
        &map(&[
            ("bootstrap.servers", &bootstrap),
            ("listeners", &format!("http://127.0.0.1:{port}")),
            (
                "offset.storage.file.filename",
                &dir.path().join("connect.offsets").display().to_string(),
            ),
            ("schema.registry.storage", "memory"),
            ("value.converter.schemas.enable", "false"),
        ]),
    );
    let sink = |name: &str, include: &str| -> (std::path::PathBuf, std::path::PathBuf) {
        let out = dir.path().join(format!("{name}.txt"));
        let file = dir.path().join(format!("{name}.properties"));
        write_properties(
            &file,
            &map(&[
                ("name", name),
                ("connector.class", "FileStreamSink"),
                ("topics", "in"),
                ("file", &out.display().to_string()),
                ("errors.tolerance", "all"),
                ("errors.log.enable", "true"),
                ("errors.log.include.messages", include),
            ]),
        );
        (file, out)
    };
    let (detailed, detailed_out) = sink("detailed", "true");
    let (plain, plain_out) = sink("plain", "false");
    let process = support::Process::spawn(
        &[
            "standalone",
            &worker_file.display().to_string(),
            &detailed.display().to_string(),
            &plain.display().to_string(),
        ],
        dir.path().join("worker.log"),
    );
    wait_for(
        "both sinks to write the two good records",
        SETTLE,
        || async { (lines(&detailed_out) == 2 && lines(&plain_out) == 2).then_some(()) },
    )
    .await;
    let log = process.log_text();
    let line_of = |task: &str| -> String {
        log.lines()
            .find(|l| l.contains(&format!("Error encountered in task {task}.")))
            .unwrap_or_else(|| panic!("no logged failure of task {task} in:\n{log}"))
            .to_owned()
    };
    let detailed = line_of("detailed-0");
    assert!(
        detailed.contains(
            "Executing stage 'VALUE_CONVERTER', where consumed record is {topic='in', partition=0, offset=1, timestamp="
        ) && detailed.contains(r#"value="{not json""#),
        "{detailed}"
    );
    let plain = line_of("plain-0");
    assert!(
        plain.contains(
            "Executing stage 'VALUE_CONVERTER', where consumed record is {topic='in', partition=0, offset=1}."
        ) && !plain.contains("not json\""),
        "{plain}"
    );
    assert_eq!(
        log.matches("Error encountered in task").count(),
        2,
        "one line per failed record and task:\n{log}"
    );
}

/// A source whose schema registry is not there yet: with `errors.retry.timeout=-1` its records
/// wait for the registry and arrive; with the default (no retries) the task fails at once,
/// naming the registry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_out_of_reach_is_waited_for_within_errors_retry_timeout() {
    let kafka = kafka();
    let bootstrap = kafka.bootstrap_servers();
    let dir = tempfile::tempdir().expect("tempdir");
    let registry_port = free_port();
    let registry_url = format!("http://127.0.0.1:{registry_port}");
    let source = |name: &str, retry: &[(&str, &str)]| {
        let mut config: BTreeMap<String, String> = map(&[
            ("name", name),
            ("connector.class", "datagen"),
            ("topic.prefix", name),
            ("rate", "20"),
            ("key.converter", "io.confluent.connect.avro.AvroConverter"),
            ("key.converter.schema.registry.url", &registry_url),
            ("value.converter", "io.confluent.connect.avro.AvroConverter"),
            ("value.converter.schema.registry.url", &registry_url),
        ]);
        config.extend(
            retry
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        config
    };
    let worker = start_plain_worker(
        &bootstrap,
        dir.path(),
        vec![
            source(
                "patient",
                &[
                    ("errors.retry.timeout", "-1"),
                    ("errors.retry.delay.max.ms", "500"),
                ],
            ),
            source("impatient", &[]),
        ],
    )
    .await;
    let api = Http::new(format!("http://{}", worker.rest_addr));
    let trace = wait_for("the task without retries to fail", SETTLE, || async {
        let (_, s) = api.get("/connectors/impatient/status").await;
        (s["tasks"][0]["state"] == "FAILED").then(|| s["tasks"][0]["trace"].to_string())
    })
    .await;
    assert!(trace.contains(&registry_url), "{trace}");
    let (_, s) = api.get("/connectors/patient/status").await;
    assert_eq!(s["tasks"][0]["state"], "RUNNING", "{s}");

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", registry_port))
        .await
        .expect("the registry's port is still free");
    let registry = SchemaRegistry::in_memory();
    tokio::spawn(async move {
        let _ = axum::serve(listener, registry::router(registry)).await;
    });
    let (_, subjects) = wait_for(
        "the waiting source to register its schemas",
        SETTLE,
        || async {
            let (code, subjects) = Http::new(&registry_url).get("/subjects").await;
            (subjects.as_array().is_some_and(|s| s.len() >= 2)).then_some((code, subjects))
        },
    )
    .await;
    assert!(
        subjects.as_array().is_some_and(|s| s
            .iter()
            .all(|s| s.as_str().is_some_and(|s| s.starts_with("patient.")))),
        "{subjects}"
    );
    let (_, s) = api.get("/connectors/patient/status").await;
    assert_eq!(s["tasks"][0]["state"], "RUNNING", "{s}");
    worker.shutdown().await;
}
