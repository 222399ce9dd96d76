//! README command 1: `tributary quickstart` runs a demo pipeline with no external services and
//! says where to look; the REST API and the registry answer while it runs, and SIGTERM stops it
//! cleanly.

mod support;

use std::time::Duration;

use support::{free_port, wait_for, Http, Process};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quickstart_runs_a_pipeline_end_to_end_without_external_services() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let out_dir = dir.path().join("qs");
    let mut process = Process::spawn(
        &[
            "quickstart",
            "--dir",
            &out_dir.display().to_string(),
            "--port",
            &port.to_string(),
            "--rate",
            "200",
        ],
        dir.path().join("quickstart.log"),
    );
    let output = out_dir.join("customers.jsonl");
    let lines = wait_for(
        "the quickstart's sink to write 50 change events",
        Duration::from_secs(60),
        || async {
            let text = std::fs::read_to_string(&output).unwrap_or_default();
            (text.lines().count() >= 50).then_some(text)
        },
    )
    .await;
    let first: serde_json::Value =
        serde_json::from_str(lines.lines().next().expect("a line")).expect("JSON line");
    assert_eq!(first["op"], "c", "{first}");
    assert_eq!(first["source"]["connector"], "datagen");

    let api = Http::new(format!("http://127.0.0.1:{port}"));
    let (code, status) = api.get("/connectors?expand=status").await;
    assert_eq!(code, 200);
    assert_eq!(
        status["demo-source"]["status"]["tasks"][0]["state"], "RUNNING",
        "{status}"
    );
    assert_eq!(
        status["demo-sink"]["status"]["tasks"][0]["state"], "RUNNING",
        "{status}"
    );
    let (code, subjects) = api.get("/subjects").await;
    assert_eq!(code, 200);
    assert!(
        subjects
            .as_array()
            .is_some_and(|s| s.iter().any(|s| s == "quickstart.demo.customers-value")),
        "{subjects}"
    );

    let log = process.log_text();
    assert!(
        log.contains(&output.display().to_string()),
        "it says where the output is:\n{log}"
    );
    assert!(
        log.contains("/connectors"),
        "it says how to query the REST API:\n{log}"
    );
    process.signal("TERM");
    assert_eq!(
        process.wait_exit(Duration::from_secs(30)),
        Some(0),
        "log:\n{}",
        process.log_text()
    );
}
