//! A standalone worker process resumes its sources from the offset file after a restart: after
//! a clean stop (SIGTERM) no record is produced twice and none is missing; after kill -9 none is
//! missing and the only repeats are the records sent after the last offset flush.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::ClientConfig;
use support::{free_port, kafka, map, write_properties, Process};

const EVENTS: usize = 3000;

fn high_watermark(bootstrap: &str, topic: &str) -> i64 {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .expect("consumer");
    c.fetch_watermarks(topic, 0, Duration::from_secs(5))
        .map(|(_, h)| h)
        .unwrap_or(0)
}

fn wait_for_records(bootstrap: &str, topic: &str, at_least: i64, what: &str, process: &Process) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while high_watermark(bootstrap, topic) < at_least {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; log:\n{}",
            process.log_text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The `seq` of every event in the topic, in order.
fn sequence_numbers(bootstrap: &str, topic: &str, expected: usize) -> Vec<i64> {
    support::consume_all(bootstrap, topic, expected, Duration::from_secs(30))
        .into_iter()
        .filter_map(|(_, _, _, value)| value)
        .map(|v| {
            let json: serde_json::Value = serde_json::from_slice(&v).expect("JSON value");
            json["source"]["seq"].as_i64().expect("source.seq")
        })
        .collect()
}

fn start(dir: &Path, bootstrap: &str, port: u16) -> Process {
    let worker = dir.join("worker.properties");
    write_properties(
        &worker,
        &map(&[
            ("bootstrap.servers", bootstrap),
            ("listeners", &format!("http://127.0.0.1:{port}")),
            (
                "offset.storage.file.filename",
                &dir.join("connect.offsets").display().to_string(),
            ),
            ("offset.flush.interval.ms", "200"),
            ("schema.registry.storage", "memory"),
            ("value.converter.schemas.enable", "false"),
            ("key.converter.schemas.enable", "false"),
        ]),
    );
    let connector = dir.join("datagen.properties");
    let source: BTreeMap<String, String> = map(&[
        ("name", "gen"),
        ("connector.class", "datagen"),
        ("topic.prefix", "restart"),
        ("rate", "1500"),
        ("max.records", &EVENTS.to_string()),
        ("keys", "50"),
        ("tombstones.on.delete", "false"),
    ]);
    write_properties(&connector, &source);
    Process::spawn(
        &[
            "standalone",
            &worker.display().to_string(),
            &connector.display().to_string(),
        ],
        dir.join(format!("worker-{}.log", support::uniq())),
    )
}

fn run_with_interruption(signal: &str) -> Vec<i64> {
    let kafka = kafka();
    let topic = "restart.demo.customers";
    kafka.create_topic(topic, 1, 1).expect("topic");
    let bootstrap = kafka.bootstrap_servers();
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let mut first = start(dir.path(), &bootstrap, port);
    wait_for_records(
        &bootstrap,
        topic,
        (EVENTS / 3) as i64,
        "a third of the events before the interruption",
        &first,
    );
    first.signal(signal);
    let code = first.wait_exit(Duration::from_secs(30));
    if signal == "TERM" {
        assert_eq!(
            code,
            Some(0),
            "a clean stop exits 0; log:\n{}",
            first.log_text()
        );
    }
    assert!(
        high_watermark(&bootstrap, topic) < EVENTS as i64,
        "the interruption came before the end, or the test proves nothing"
    );
    let second = start(dir.path(), &bootstrap, port);
    wait_for_records(
        &bootstrap,
        topic,
        EVENTS as i64,
        "every event after the restart",
        &second,
    );
    sequence_numbers(&bootstrap, topic, EVENTS)
}

#[test]
fn after_a_clean_stop_no_record_is_missing_or_repeated() {
    let seqs = run_with_interruption("TERM");
    let expected: Vec<i64> = (0..EVENTS as i64).collect();
    assert_eq!(seqs, expected);
}

#[test]
fn after_kill_9_no_record_is_missing_and_repeats_are_one_replayed_window() {
    let seqs = run_with_interruption("KILL");
    let distinct: std::collections::BTreeSet<i64> = seqs.iter().copied().collect();
    let expected: std::collections::BTreeSet<i64> = (0..EVENTS as i64).collect();
    assert_eq!(distinct, expected, "every event arrived");
    // At-least-once: the restart replays from the last stored offset, so the sequence is
    // 0..k, then j..EVENTS for some j <= k: one contiguous replayed window and nothing else.
    let restart_at = seqs.windows(2).position(|w| w[1] != w[0] + 1);
    if let Some(i) = restart_at {
        let (before, after) = seqs.split_at(i + 1);
        assert!(
            before.windows(2).all(|w| w[1] == w[0] + 1),
            "first run in order"
        );
        assert!(
            after.windows(2).all(|w| w[1] == w[0] + 1),
            "second run in order"
        );
        assert!(
            after[0] <= before[before.len() - 1] + 1,
            "the second run starts at or before where the first stopped"
        );
    }
}
