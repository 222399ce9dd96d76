//! Kafka Connect's REST API, call by call as recorded from Kafka Connect 4.3.0
//! (`../shared/reference/kafka-connect-4.3.0-rest.txt`), against a worker in this process with
//! a real Kafka-protocol cluster.

mod support;

use std::time::Duration;

use serde_json::json;
use support::{kafka, start_worker, wait_for, worker_props, Http};

const WAIT: Duration = Duration::from_secs(30);

fn file_source(file: &str) -> serde_json::Value {
    json!({
        "connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
        "file": file, "topic": "judge-file", "tasks.max": "1"
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_answers_like_kafka_connect() {
    let kafka = kafka();
    kafka.create_topic("judge-file", 1, 1).expect("topic");
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in.txt");
    std::fs::write(&input, "a\nbb\n").expect("input");
    let input = input.display().to_string();
    let worker = start_worker(
        &worker_props(&kafka.bootstrap_servers(), dir.path(), &[]),
        tributary_connectors::plugins(),
        vec![],
    )
    .await;
    let api = Http::new(format!("http://{}", worker.rest_addr));

    let (code, root) = api.get("/").await;
    assert_eq!(code, 200);
    assert!(
        root["version"].is_string()
            && root["commit"].is_string()
            && root["kafka_cluster_id"].is_string(),
        "{root}"
    );

    // Create, duplicate, malformed.
    let (code, created) = api
        .call(
            "POST",
            "/connectors",
            Some(json!({"name": "t1", "config": file_source(&input)})),
        )
        .await;
    assert_eq!(code, 201, "{created}");
    assert_eq!(created["name"], "t1");
    assert_eq!(created["type"], "source");
    assert_eq!(created["config"]["name"], "t1");
    assert_eq!(created["tasks"], json!([{"connector": "t1", "task": 0}]));
    let (code, dup) = api
        .call(
            "POST",
            "/connectors",
            Some(json!({"name": "t1", "config": file_source(&input)})),
        )
        .await;
    assert_eq!(
        (code, dup),
        (
            409,
            json!({"error_code": 409, "message": "Connector t1 already exists"})
        )
    );
    let (code, e) = api
        .call("POST", "/connectors", Some(json!({"name": "t2"})))
        .await;
    assert_eq!(code, 400, "a body without config is a client error: {e}");
    assert_eq!(e["error_code"], 400);
    let (code, e) = api
        .call(
            "POST",
            "/connectors",
            Some(json!({"name": "t3", "config": {"connector.class": "NoSuchConnector"}})),
        )
        .await;
    assert_eq!(code, 400);
    assert!(
        e["message"]
            .as_str()
            .is_some_and(|m| m.contains("NoSuchConnector")),
        "{e}"
    );
    let (code, e) = api.raw("POST", "/connectors", "{not json").await;
    assert_eq!(code, 400, "malformed JSON is a client error: {e}");

    // Listing.
    assert_eq!(api.get("/connectors").await, (200, json!(["t1"])));
    api.wait_state("t1", "RUNNING", WAIT).await;
    let (code, expanded) = api.get("/connectors?expand=status&expand=info").await;
    assert_eq!(code, 200);
    assert_eq!(expanded["t1"]["info"]["name"], "t1");
    assert_eq!(expanded["t1"]["status"]["connector"]["state"], "RUNNING");
    let (code, info) = api.get("/connectors/t1").await;
    assert_eq!(
        (code, &info["tasks"]),
        (200, &json!([{"connector": "t1", "task": 0}]))
    );
    let (code, config) = api.get("/connectors/t1/config").await;
    assert_eq!((code, &config["file"]), (200, &json!(input)));

    // Reconfigure, create through PUT.
    let mut updated = file_source(&input);
    updated["batch.size"] = json!("100");
    let (code, info) = api
        .call("PUT", "/connectors/t1/config", Some(updated))
        .await;
    assert_eq!((code, &info["config"]["batch.size"]), (200, &json!("100")));
    let (code, info) = api
        .call("PUT", "/connectors/t4/config", Some(file_source(&input)))
        .await;
    assert_eq!((code, &info["name"]), (201, &json!("t4")));

    // Status and tasks.
    let status = api.wait_state("t1", "RUNNING", WAIT).await;
    assert_eq!(status["type"], "source");
    assert_eq!(
        status["connector"]["worker_id"],
        json!(worker.herder.worker_id())
    );
    let (code, tasks) = api.get("/connectors/t1/tasks").await;
    assert_eq!(code, 200);
    assert_eq!(tasks[0]["id"], json!({"connector": "t1", "task": 0}));
    assert_eq!(tasks[0]["config"]["batch.size"], "100");
    let (code, t0) = api.get("/connectors/t1/tasks/0/status").await;
    assert_eq!(
        (code, &t0["id"], &t0["state"]),
        (200, &json!(0), &json!("RUNNING"))
    );
    assert_eq!(
        api.get("/connectors/t1/tasks/7/status").await,
        (
            404,
            json!({"error_code": 404, "message": "No status found for task t1-7"})
        )
    );
    assert_eq!(
        api.get("/connectors/t1/topics").await,
        (200, json!({"t1": {"topics": ["judge-file"]}}))
    );

    // Restarts.
    assert_eq!(
        api.call("POST", "/connectors/t1/restart", None).await.0,
        204
    );
    let (code, restarting) = api
        .call(
            "POST",
            "/connectors/t1/restart?includeTasks=true&onlyFailed=false",
            None,
        )
        .await;
    assert_eq!(code, 202);
    assert_eq!(restarting["connector"]["state"], "RESTARTING");
    assert_eq!(restarting["tasks"][0]["state"], "RESTARTING");
    assert_eq!(
        api.call("POST", "/connectors/t1/tasks/0/restart", None)
            .await
            .0,
        204
    );
    api.wait_state("t1", "RUNNING", WAIT).await;

    // Pause, resume.
    assert_eq!(api.call("PUT", "/connectors/t1/pause", None).await.0, 202);
    api.wait_state("t1", "PAUSED", WAIT).await;
    assert_eq!(api.call("PUT", "/connectors/t1/resume", None).await.0, 202);
    api.wait_state("t1", "RUNNING", WAIT).await;

    // Offsets: the source read both lines (positions are byte offsets after each line).
    let offsets = wait_for(
        "the file source's offset to reach the end of the file",
        WAIT,
        || async {
            let (code, o) = api.get("/connectors/t1/offsets").await;
            (code == 200 && o["offsets"][0]["offset"]["position"] == 5).then_some(o)
        },
    )
    .await;
    assert_eq!(
        offsets["offsets"][0]["partition"],
        json!({"filename": input})
    );
    let (code, e) = api.call("DELETE", "/connectors/t1/offsets", None).await;
    assert_eq!(code, 400);
    assert!(
        e["message"].as_str().is_some_and(|m| m.contains("STOPPED")),
        "{e}"
    );
    assert_eq!(api.call("PUT", "/connectors/t1/stop", None).await.0, 204);
    let (_, stopped) = api.get("/connectors/t1/status").await;
    assert_eq!(stopped["connector"]["state"], "STOPPED");
    assert_eq!(stopped["tasks"], json!([]));
    let (code, o) = api
        .call(
            "PATCH",
            "/connectors/t1/offsets",
            Some(
                json!({"offsets": [{"partition": {"filename": input}, "offset": {"position": 0}}]}),
            ),
        )
        .await;
    assert_eq!(
        (code, o),
        (
            200,
            json!({"message": "The offsets for this connector have been altered successfully"})
        )
    );
    assert_eq!(
        api.get("/connectors/t1/offsets").await.1["offsets"][0]["offset"]["position"],
        0
    );
    let (code, o) = api.call("DELETE", "/connectors/t1/offsets", None).await;
    assert_eq!(
        (code, o),
        (
            200,
            json!({"message": "The offsets for this connector have been reset successfully"})
        )
    );
    assert_eq!(
        api.get("/connectors/t1/offsets").await.1,
        json!({"offsets": []})
    );

    // Unknown connectors.
    assert_eq!(
        api.get("/connectors/nope").await,
        (
            404,
            json!({"error_code": 404, "message": "Connector nope not found"})
        )
    );
    assert_eq!(
        api.call("DELETE", "/connectors/nope", None).await,
        (
            404,
            json!({"error_code": 404, "message": "Connector nope not found"})
        )
    );

    // Plugins and validation.
    let (code, v) = api
        .call(
            "PUT",
            "/connector-plugins/FileStreamSource/config/validate",
            Some(json!({"connector.class": "FileStreamSource", "topic": "x"})),
        )
        .await;
    assert_eq!(code, 200);
    assert_eq!(v["error_count"], 1, "only the missing name: {v}");
    let name_errors = v["configs"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["value"]["name"] == "name"))
        .map(|c| c["value"]["errors"].clone());
    assert_eq!(
        name_errors,
        Some(json!([
            "Missing required configuration \"name\" which has no default value."
        ]))
    );
    let (_, v) = api.call("PUT", "/connector-plugins/FileStreamSource/config/validate", Some(json!({"connector.class": "FileStreamSource", "name": "v", "topic": "x", "tasks.max": "abc"}))).await;
    assert_eq!(v["error_count"], 1, "{v}");
    let (code, plugins) = api.get("/connector-plugins?connectorsOnly=true").await;
    assert_eq!(code, 200);
    let classes: Vec<&str> = plugins
        .as_array()
        .map(|p| p.iter().filter_map(|p| p["class"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        classes.contains(&"org.apache.kafka.connect.file.FileStreamSourceConnector"),
        "{plugins}"
    );
    assert!(
        classes.contains(&"org.apache.kafka.connect.file.FileStreamSinkConnector"),
        "{plugins}"
    );
    let (code, defs) = api.get("/connector-plugins/FileStreamSource/config").await;
    assert_eq!(code, 200);
    assert_eq!(
        defs[0]["name"], "file",
        "the plugin's own keys come first: {defs}"
    );
    assert_eq!(api.get("/connector-plugins/Nope/config").await.0, 404);

    // Delete.
    assert_eq!(api.call("DELETE", "/connectors/t1", None).await.0, 204);
    assert_eq!(api.call("DELETE", "/connectors/t4", None).await.0, 204);
    assert_eq!(api.get("/connectors").await, (200, json!([])));
    let (code, e) = api.get("/no/such/path").await;
    assert_eq!((code, &e["error_code"]), (404, &json!(404)));
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_configs_are_rejected_naming_the_key() {
    let kafka = kafka();
    let dir = tempfile::tempdir().expect("tempdir");
    let worker = start_worker(
        &worker_props(&kafka.bootstrap_servers(), dir.path(), &[]),
        tributary_connectors::plugins(),
        vec![],
    )
    .await;
    let api = Http::new(format!("http://{}", worker.rest_addr));
    let mut config = file_source("/tmp/x");
    config["batch.sise"] = json!("10");
    let (code, e) = api
        .call(
            "POST",
            "/connectors",
            Some(json!({"name": "c", "config": config})),
        )
        .await;
    assert_eq!(code, 400);
    let message = e["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("batch.sise") && message.contains("batch.size"),
        "{message}"
    );
    let (code, e) = api.call("POST", "/connectors", Some(json!({"name": "c", "config": {"connector.class": "FileStreamSource", "file": "/tmp/x"}}))).await;
    assert_eq!(code, 400);
    assert!(
        e["message"]
            .as_str()
            .is_some_and(|m| m.contains("\"topic\"")),
        "{e}"
    );
    let mut config = file_source("/tmp/x");
    config["tasks.max"] = json!("many");
    let (code, e) = api
        .call(
            "POST",
            "/connectors",
            Some(json!({"name": "c", "config": config})),
        )
        .await;
    assert_eq!(code, 400);
    assert!(
        e["message"]
            .as_str()
            .is_some_and(|m| m.contains("tasks.max")),
        "{e}"
    );
    assert_eq!(
        api.get("/connectors").await,
        (200, json!([])),
        "nothing was created"
    );
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_are_never_echoed_and_survive_a_round_trip() {
    let kafka = kafka();
    kafka.create_topic("judge-file", 1, 1).expect("topic");
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in.txt");
    std::fs::write(&input, "").expect("input");
    let worker = start_worker(
        &worker_props(&kafka.bootstrap_servers(), dir.path(), &[]),
        tributary_connectors::plugins(),
        vec![],
    )
    .await;
    let api = Http::new(format!("http://{}", worker.rest_addr));
    let mut config = file_source(&input.display().to_string());
    config["value.converter"] = json!("io.confluent.connect.avro.AvroConverter");
    config["value.converter.basic.auth.user.info"] = json!("alice:s3cr3t-pa55");
    let (code, created) = api
        .call(
            "POST",
            "/connectors",
            Some(json!({"name": "s", "config": config})),
        )
        .await;
    assert_eq!(code, 201, "{created}");
    for path in [
        "/connectors/s",
        "/connectors/s/config",
        "/connectors/s/tasks",
        "/connectors?expand=info",
    ] {
        let (_, body) = api.get(path).await;
        assert!(
            !body.to_string().contains("s3cr3t-pa55"),
            "{path} leaked the secret: {body}"
        );
        assert!(
            body.to_string().contains("[hidden]"),
            "{path} should show the key as hidden: {body}"
        );
    }
    // Sending back what GET showed keeps the stored secret.
    let (_, shown) = api.get("/connectors/s/config").await;
    assert_eq!(
        api.call("PUT", "/connectors/s/config", Some(shown)).await.0,
        200
    );
    let stored =
        std::fs::read_to_string(dir.path().join("connectors.json")).expect("connector store");
    assert!(
        stored.contains("s3cr3t-pa55"),
        "the real secret is kept for the worker's own use"
    );
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_task_is_failed_with_its_trace_until_restarted() {
    let kafka = kafka();
    kafka.create_topic("in", 1, 1).expect("topic");
    let dir = tempfile::tempdir().expect("tempdir");
    let worker = start_worker(
        &worker_props(&kafka.bootstrap_servers(), dir.path(), &[]),
        tributary_connectors::plugins(),
        vec![],
    )
    .await;
    let api = Http::new(format!("http://{}", worker.rest_addr));
    // A sink whose output path is a directory cannot start.
    let out_dir = dir.path().display().to_string();
    let config = json!({"connector.class": "FileStreamSink", "topics": "in", "file": out_dir});
    assert_eq!(
        api.call(
            "POST",
            "/connectors",
            Some(json!({"name": "bad", "config": config}))
        )
        .await
        .0,
        201
    );
    let failed = wait_for("the sink task to fail", WAIT, || async {
        let (_, s) = api.get("/connectors/bad/status").await;
        (s["tasks"][0]["state"] == "FAILED").then_some(s)
    })
    .await;
    assert!(
        failed["tasks"][0]["trace"]
            .as_str()
            .is_some_and(|t| !t.is_empty()),
        "{failed}"
    );
    let (code, r) = api
        .call(
            "POST",
            "/connectors/bad/restart?includeTasks=true&onlyFailed=true",
            None,
        )
        .await;
    assert_eq!(code, 202);
    assert_eq!(r["tasks"][0]["state"], "RESTARTING");
    worker.shutdown().await;
}
