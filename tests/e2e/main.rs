//! End to end, across real processes: MariaDB (binlog) → `tributary` source worker → tansu
//! broker → `tributary` sink worker(s) → MariaDB and PostgreSQL, under one fault per test.
//! Each test ends with both targets equal to the source, compared by SQL (every key, and an
//! MD5 of every row), whatever the fault cost the workload on the way.
//!
//! Needs what `scripts/test.sh` provides: `scripts/mariadb.sh` (a private server per run), the
//! cached tansu builds (`scripts/tansu.sh install`) and PostgreSQL on 127.0.0.1:5432.

#[path = "../support/mod.rs"]
mod support;

mod compare;
mod pipeline;
mod stack;
mod workload;

use std::time::Duration;

use mysql_async::prelude::Queryable;
use pipeline::{dlq_topic, Options, Pipeline, SINKS, SOURCE};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use stack::Storage;
use support::Http;
use workload::{Load, DB, NOTE_WIDTH};

/// About 15 s of change at 100 steps/s, with the schema change halfway.
fn steady(seed: u64) -> Load {
    Load {
        steps: 1500,
        per_second: 100,
        ddl_at: Some(700),
        seed,
    }
}

async fn sleep(s: u64) {
    tokio::time::sleep(Duration::from_secs(s)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_9_of_the_source_worker_loses_no_change() {
    let mut p = Pipeline::start("srckill", Options::default()).await;
    let load = p.load(steady(11));
    sleep(5).await;
    p.source_worker.kill9();
    sleep(2).await;
    p.source_worker.resume();
    p.source_worker.wait_running(&[SOURCE]).await;
    let done = load.await.expect("workload");
    assert!(done.committed > 1000, "the workload ran: {done:?}");
    p.wait_converged("after a kill -9 of the source worker", &[])
        .await;
    p.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_9_of_the_sink_worker_loses_no_change() {
    let mut p = Pipeline::start("sinkkill", Options::default()).await;
    let load = p.load(steady(12));
    sleep(5).await;
    p.sink_workers[0].kill9();
    // Back while the killed member's session (6 s) still runs, as after a quick restart: the
    // group must settle on the new member once that session expires, as Kafka's does.
    sleep(2).await;
    p.sink_workers[0].resume();
    p.sink_workers[0].wait_running(&SINKS).await;
    load.await.expect("workload");
    p.wait_converged("after a kill -9 of the sink worker", &[])
        .await;
    p.finish().await;
}

/// Two workers run the same sinks (one consumer group per sink): when one dies, the group's
/// coordinator gives its partitions to the survivor once the dead member's session expired.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_sink_workers_partitions_move_to_the_survivor_until_it_returns() {
    let mut p = Pipeline::start(
        "sinkpair",
        Options {
            sink_workers: 2,
            ..Options::default()
        },
    )
    .await;
    for (victim, survivor, seed) in [(1, 0, 12), (0, 1, 13)] {
        let load = p.load(Load {
            steps: 700,
            ddl_at: (seed == 12).then_some(300),
            ..steady(seed)
        });
        sleep(3).await;
        // The group has settled with work for the victim: killing it must move that work.
        let victim_worker = &p.sink_workers[victim];
        support::wait_for(
            &format!("sink worker {victim} to hold partitions of both sinks"),
            Duration::from_secs(60),
            || async {
                let logs = victim_worker.logs();
                SINKS
                    .iter()
                    .all(|sink| holds_partitions(&logs, sink))
                    .then_some(())
            },
        )
        .await;
        p.sink_workers[victim].kill9();
        load.await.expect("workload");
        // Only the survivor runs the sinks now: the targets catch up only if it took over
        // the killed worker's partitions.
        p.wait_converged(
            &format!("with sink worker {victim} killed and {survivor} left"),
            &[],
        )
        .await;
        p.sink_workers[victim].resume();
        p.sink_workers[victim].wait_running(&SINKS).await;
    }
    p.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_source_database_restarting_mid_stream_loses_no_change() {
    let p = Pipeline::start("srcdb", Options::default()).await;
    let load = p.load(steady(14));
    sleep(5).await;
    p.source_db.stop();
    sleep(3).await;
    p.source_db.resume();
    let done = load.await.expect("workload");
    assert!(
        done.failed > 0,
        "the restart cost the workload some statements: {done:?}"
    );
    p.wait_converged("after the source database restarted", &[])
        .await;
    p.source_worker.wait_running(&[SOURCE]).await;
    p.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_target_database_down_for_30_s_loses_no_change() {
    let p = Pipeline::start("dstdb", Options::default()).await;
    let load = p.load(Load {
        steps: 2000,
        per_second: 50,
        ddl_at: Some(1000),
        seed: 15,
    });
    sleep(4).await;
    p.target_db.stop();
    sleep(30).await;
    p.target_db.resume();
    load.await.expect("workload");
    p.wait_converged("after the target database was down for 30 s", &[])
        .await;
    p.sink_workers[0].wait_running(&SINKS).await;
    p.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_9_of_the_broker_loses_no_change() {
    let p = Pipeline::start(
        "broker",
        Options {
            storage: Storage::Sqlite,
            ..Options::default()
        },
    )
    .await;
    let load = p.load(steady(16));
    sleep(5).await;
    p.broker.kill9();
    sleep(2).await;
    p.broker.resume();
    load.await.expect("workload");
    p.wait_converged("after a kill -9 and restart of the broker", &[])
        .await;
    p.finish().await;
}

/// Whether a worker's log says its current process holds partitions of `sink`. Consumers
/// rebalance cooperatively, so each logged assignment or revocation is a change to what the
/// task holds, not the whole of it: an empty assignment (a rebalance that moved nothing to this
/// member) leaves what it held. The changes are replayed since the process's last start.
fn holds_partitions(logs: &str, sink: &str) -> bool {
    let plain = strip_ansi(logs);
    let since_start = plain
        .rsplit("----- restart -----")
        .next()
        .unwrap_or_default();
    let connector = format!("connector={sink} ");
    let mut held = std::collections::BTreeSet::new();
    for line in since_start.lines().filter(|l| l.contains(&connector)) {
        if line.contains("partitions assigned") {
            held.extend(topic_partitions(line));
        } else if line.contains("partitions revoked") {
            for tp in topic_partitions(line) {
                held.remove(&tp);
            }
        }
    }
    !held.is_empty()
}

/// The `TopicPartition { topic: "…", partition: N }` entries of a log line.
fn topic_partitions(line: &str) -> Vec<(String, u32)> {
    line.split("TopicPartition { topic: \"")
        .skip(1)
        .filter_map(|entry| {
            let (topic, rest) = entry.split_once("\", partition: ")?;
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            Some((topic.to_owned(), digits.parse().ok()?))
        })
        .collect()
}

#[test]
fn a_cooperative_rebalance_that_moves_nothing_leaves_what_a_task_holds() {
    let line = |what: &str, sink: &str, tps: &str| {
        format!("INFO task{{connector={sink} task=0}}: sink_runner: partitions {what} connector={sink} task=0 partitions=[{tps}]")
    };
    let a = r#"TopicPartition { topic: "e2e.shop.orders", partition: 2 }"#;
    let b = r#"TopicPartition { topic: "e2e.shop.notes", partition: 10 }"#;
    let log = [
        line("assigned", "sink-mariadb", &format!("{a}, {b}")),
        line("assigned", "sink-postgres", a),
        line("revoked", "sink-mariadb", b),
        line("assigned", "sink-mariadb", ""),
        line("revoked", "sink-postgres", a),
        line("assigned", "sink-postgres", ""),
    ]
    .join("\n");
    assert!(
        holds_partitions(&log, "sink-mariadb"),
        "orders-2 is still held"
    );
    assert!(
        !holds_partitions(&log, "sink-postgres"),
        "its only partition was revoked"
    );
    let restarted = format!(
        "{log}\n----- restart -----\n{}",
        line("assigned", "sink-postgres", "")
    );
    assert!(
        !holds_partitions(&restarted, "sink-mariadb"),
        "a new process holds nothing yet"
    );
}

fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A value the targets' `notes.body` cannot hold.
const POISON_ID: i64 = 42_424_242;

async fn insert_poison(p: &Pipeline) {
    let mut c = mysql_async::Conn::from_url(p.source_db.url().as_str())
        .await
        .expect("source");
    c.exec_drop(
        format!("INSERT INTO {DB}.notes (id, body) VALUES (?, ?)"),
        (POISON_ID, "x".repeat(NOTE_WIDTH * 5)),
    )
    .await
    .expect("poison row");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_record_goes_to_the_dead_letter_topic_and_every_other_row_arrives() {
    let p = Pipeline::start(
        "poison",
        Options {
            narrow_notes: true,
            sink_extra: vec![
                ("errors.tolerance", "all"),
                ("errors.deadletterqueue.topic.name", "${dlq}"),
                ("errors.deadletterqueue.context.headers.enable", "true"),
            ],
            ..Options::default()
        },
    )
    .await;
    let load = p.load(Load {
        steps: 1000,
        ..steady(17)
    });
    sleep(3).await;
    insert_poison(&p).await;
    load.await.expect("workload");
    let poison_key = POISON_ID.to_string();
    p.wait_converged(
        "with a poison record tolerated",
        &[("notes", poison_key.as_str())],
    )
    .await;
    for sink in SINKS {
        let dead = dead_letters(&p.broker.bootstrap(), &dlq_topic(sink));
        assert_eq!(
            dead.len(),
            1,
            "{sink}: exactly the poison record in its dead-letter topic: {dead:?}"
        );
        let (topic, message) = &dead[0];
        assert_eq!(
            topic,
            &format!("e2e.{DB}.notes"),
            "{sink}: the record's topic header"
        );
        assert!(!message.is_empty(), "{sink}: the error message header");
    }
    p.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_sink_shows_running_failed_with_trace_then_running_after_a_rest_restart() {
    let p = Pipeline::start(
        "status",
        Options {
            narrow_notes: true,
            ..Options::default()
        },
    )
    .await;
    let worker = p.sink_workers[0].api();
    let watch = StatusWatch::start(worker.base.clone(), SINKS[0]);
    let load = p.load(Load {
        steps: 600,
        ..steady(18)
    });
    sleep(2).await;
    insert_poison(&p).await;
    // As in Kafka Connect, the task fails; the connector itself stays RUNNING.
    let failed = support::wait_for(
        "the sink-mariadb task to be FAILED",
        Duration::from_secs(120),
        || async {
            let (_, s) = worker
                .try_get(&format!("/connectors/{}/status", SINKS[0]))
                .await?;
            (s["tasks"][0]["state"] == "FAILED").then_some(s)
        },
    )
    .await;
    assert_eq!(failed["connector"]["state"], "RUNNING", "{failed}");
    let trace = failed["tasks"][0]["trace"].as_str().unwrap_or_default();
    assert!(
        trace.contains("notes"),
        "the FAILED task's trace names the table it could not write: {failed}"
    );
    load.await.expect("workload");

    // The operator widens the column and restarts the failed tasks through the REST API.
    let mut target = mysql_async::Conn::from_url(p.target_db.url().as_str())
        .await
        .expect("target");
    target
        .query_drop(format!("ALTER TABLE {DB}.notes MODIFY body VARCHAR(200)"))
        .await
        .expect("widen the target column");
    let (status, body) = worker
        .call(
            "POST",
            &format!(
                "/connectors/{}/restart?includeTasks=true&onlyFailed=true",
                SINKS[0]
            ),
            None,
        )
        .await;
    assert_eq!(status, 202, "restart accepted: {body}");
    worker
        .wait_state(SINKS[0], "RUNNING", Duration::from_secs(60))
        .await;
    let source = p.source();
    let [(name, mariadb), _] = p.targets();
    compare::wait_equal(
        &format!("{name} after the restart"),
        &source,
        &mariadb,
        &[],
        Duration::from_secs(240),
    )
    .await;
    let seen = watch.stop().await;
    let states: Vec<&str> = seen.iter().map(|(s, _)| s.as_str()).collect();
    let running_failed_running = states
        .iter()
        .position(|s| *s == "RUNNING")
        .and_then(|a| {
            states[a..]
                .iter()
                .position(|s| *s == "FAILED")
                .map(|b| a + b)
        })
        .and_then(|b| states[b..].iter().position(|s| *s == "RUNNING"))
        .is_some();
    assert!(
        running_failed_running,
        "the task went RUNNING → FAILED → RUNNING: {states:?}"
    );
    assert!(
        seen.iter()
            .any(|(s, trace)| s == "FAILED" && trace.is_some()),
        "FAILED came with a trace: {seen:?}"
    );
    p.finish().await;
}

/// Records each change of a connector's first task state as `/status` shows it.
struct StatusWatch {
    stop: tokio::sync::watch::Sender<bool>,
    join: tokio::task::JoinHandle<Vec<(String, Option<String>)>>,
}

impl StatusWatch {
    fn start(base: String, connector: &'static str) -> StatusWatch {
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let join = tokio::spawn(async move {
            let api = Http::new(base);
            let mut seen: Vec<(String, Option<String>)> = Vec::new();
            while !*stopped.borrow() {
                if let Some((200, s)) = api
                    .try_get(&format!("/connectors/{connector}/status"))
                    .await
                {
                    if let Some(state) = s["tasks"][0]["state"].as_str() {
                        if seen.last().map(|(l, _)| l.as_str()) != Some(state) {
                            let trace = s["tasks"][0]["trace"].as_str().map(str::to_owned);
                            seen.push((state.to_owned(), trace));
                        }
                    }
                }
                let _ = tokio::time::timeout(Duration::from_millis(200), stopped.changed()).await;
            }
            seen
        });
        StatusWatch { stop, join }
    }

    async fn stop(self) -> Vec<(String, Option<String>)> {
        let _ = self.stop.send(true);
        self.join.await.expect("status watch")
    }
}

/// (original topic header, error message header) of every record in a dead-letter topic, read
/// until none came for 3 s after the first (bounded at 60 s). Partitions are assigned, not
/// subscribed: no group to join.
fn dead_letters(bootstrap: &str, topic: &str) -> Vec<(String, String)> {
    use rdkafka::{Offset, TopicPartitionList};
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", format!("e2e-dlq-{}", support::uniq()))
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    let mut tpl = TopicPartitionList::new();
    for p in 0..pipeline::PARTITIONS {
        tpl.add_partition_offset(topic, p, Offset::Beginning)
            .expect("partition");
    }
    consumer.assign(&tpl).expect("assign");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut last: Option<std::time::Instant> = None;
    let mut out = Vec::new();
    while std::time::Instant::now() < deadline
        && last.is_none_or(|l| l.elapsed() < Duration::from_secs(3))
    {
        let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        last = Some(std::time::Instant::now());
        let header = |name: &str| -> String {
            m.headers()
                .and_then(|h| {
                    h.iter()
                        .find(|x| x.key == name)
                        .and_then(|x| x.value)
                        .map(|v| String::from_utf8_lossy(v).into_owned())
                })
                .unwrap_or_default()
        };
        out.push((
            header("__connect.errors.topic"),
            header("__connect.errors.exception.message"),
        ));
    }
    out
}
