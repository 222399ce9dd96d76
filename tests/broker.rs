//! The test broker itself, before anything is tested against it: a consumer that starts at an
//! offset inside a stored record batch must get that record first, as Kafka's fetch gives it
//! (the broker returns the whole batch and the client drops the records before the offset).
//!
//! Every sink that resumes from a committed offset fetches from wherever that offset falls. A
//! broker that skips the rest of the batch instead (crates.io's tansu 0.6.0 with memory
//! storage: a fetch at 10, 50 or 99 of a 100-record batch at 0 starts at 100, one at 250 of the
//! last batch returns nothing) makes every such resume lose records silently, and the
//! end-to-end tests would blame the connectors for it. So each storage engine the suite
//! starts is checked here, naming the build `scripts/tansu.sh` picked when it fails.

mod support;

#[path = "e2e/stack.rs"]
#[allow(dead_code)]
mod stack;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer, ProducerContext};
use rdkafka::{ClientConfig, ClientContext, Offset, Statistics, TopicPartitionList};
use stack::{Broker, Storage};

const TOPIC: &str = "batches";
const BATCHES: i64 = 3;
const BATCH: i64 = 100;
/// Inside the first batch (its second record, its middle, its last), inside the second and
/// inside the last.
const STARTS: [i64; 5] = [10, 50, 99, 150, 250];
/// How long a consumer may take to return its first record: a fetch from a local broker that
/// has the data answers in well under a second.
const FIRST_RECORD_WITHIN: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fetch_from_inside_a_stored_batch_starts_at_the_asked_offset_with_memory_storage() {
    fetches_start_at_the_asked_offset(Storage::Memory).await;
}

/// The broker kill -9 test's storage.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fetch_from_inside_a_stored_batch_starts_at_the_asked_offset_with_sqlite_storage() {
    fetches_start_at_the_asked_offset(Storage::Sqlite).await;
}

async fn fetches_start_at_the_asked_offset(storage: Storage) {
    let state = tempfile::Builder::new()
        .prefix("broker-test-")
        .tempdir()
        .expect("state folder");
    let broker = Broker::start(state.path(), "broker", storage);
    let build = broker.build();
    eprintln!("checking {build} on {}", broker.bootstrap());
    broker.create_topics(&[TOPIC.to_owned()], 1).await;

    let bootstrap = broker.bootstrap();
    let batches = tokio::task::spawn_blocking(move || produce_in_batches(&bootstrap))
        .await
        .expect("producer thread");
    assert_eq!(
        batches,
        vec![BATCH; BATCHES as usize],
        "the producer was to send {BATCHES} batches of {BATCH} records (librdkafka's \
         batchcnt statistics), or the offsets asked for below are not inside stored batches"
    );

    let bootstrap = broker.bootstrap();
    let firsts = tokio::task::spawn_blocking(move || {
        STARTS
            .iter()
            .map(|&start| (start, read_from(&bootstrap, start)))
            .collect::<Vec<_>>()
    })
    .await
    .expect("consumer thread");
    let wrong: Vec<String> = firsts
        .iter()
        .filter(|(start, got)| got.as_ref() != Ok(&(*start, value(*start))))
        .map(|(start, got)| match got {
            Ok((offset, value)) => {
                format!("at {start}: the first record was offset {offset} ({value:?})")
            }
            Err(e) => format!("at {start}: {e}"),
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "{build} does not start a fetch at the asked offset inside a stored batch of \
         {BATCH} records (offsets 0-{}); a sink resuming from such an offset would lose \
         records. scripts/tansu.sh must run memory storage on the fixed build:\n  {}",
        BATCHES * BATCH - 1,
        wrong.join("\n  ")
    );
}

fn value(offset: i64) -> String {
    format!("record-{offset}")
}

/// Keeps the producer's statistics: each one's batch-size window covers the batches sent since
/// the one before.
#[derive(Clone, Default)]
struct BatchCounts(Arc<Mutex<Vec<i64>>>);

impl ClientContext for BatchCounts {
    fn stats(&self, statistics: Statistics) {
        let Some(topic) = statistics.topics.get(TOPIC) else {
            return;
        };
        let window = &topic.batchcnt;
        if window.cnt == 0 {
            return;
        }
        let mut counts = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if window.min == window.max {
            counts.extend(std::iter::repeat_n(window.min, window.cnt as usize));
        } else {
            // Batches of different sizes in one window: not the batches this test needs.
            counts.push(window.min);
            counts.push(window.max);
        }
    }
}

impl ProducerContext for BatchCounts {
    type DeliveryOpaque = ();
    fn delivery(&self, _: &rdkafka::message::DeliveryResult<'_>, _: ()) {}
}

/// Produces `BATCHES` × `BATCH` records to partition 0, one flush per batch, and returns the
/// record count of each batch the producer sent. A batch leaves when it holds `BATCH` records
/// (`batch.num.messages`), never earlier: the linger (shorter than `message.timeout.ms`, as
/// librdkafka requires) is far longer than producing a batch takes.
fn produce_in_batches(bootstrap: &str) -> Vec<i64> {
    let context = BatchCounts::default();
    let producer: BaseProducer<BatchCounts> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("linger.ms", "20000")
        .set("batch.num.messages", BATCH.to_string())
        .set("statistics.interval.ms", "100")
        .set("message.timeout.ms", "30000")
        .create_with_context(context.clone())
        .expect("producer");
    for batch in 0..BATCHES {
        for offset in batch * BATCH..(batch + 1) * BATCH {
            let payload = value(offset);
            producer
                .send(
                    BaseRecord::<(), _>::to(TOPIC)
                        .partition(0)
                        .payload(&payload),
                )
                .map_err(|(e, _)| e)
                .expect("queue a record");
        }
        producer
            .flush(Duration::from_secs(30))
            .unwrap_or_else(|e| panic!("batch {batch} was not delivered within 30 s: {e}"));
    }
    // The last batch shows in the statistics at the next interval.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let counts = context.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if counts.len() >= BATCHES as usize || Instant::now() >= deadline {
            return counts;
        }
        producer.poll(Duration::from_millis(100));
    }
}

/// The first record a fresh consumer assigned at `start` gets, and then that the rest of the
/// partition follows without a gap.
fn read_from(bootstrap: &str, start: i64) -> Result<(i64, String), String> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", format!("broker-test-{}", support::uniq()))
        .set("enable.auto.commit", "false")
        .set("fetch.wait.max.ms", "100")
        .create()
        .map_err(|e| format!("consumer: {e}"))?;
    let mut assignment = TopicPartitionList::new();
    assignment
        .add_partition_offset(TOPIC, 0, Offset::Offset(start))
        .map_err(|e| format!("assignment: {e}"))?;
    consumer
        .assign(&assignment)
        .map_err(|e| format!("assign: {e}"))?;
    let deadline = Instant::now() + FIRST_RECORD_WITHIN;
    let mut first: Option<(i64, String)> = None;
    let mut next = start;
    while Instant::now() < deadline {
        let Some(polled) = consumer.poll(Duration::from_millis(100)) else {
            continue;
        };
        let m = polled.map_err(|e| format!("consumer error: {e}"))?;
        let got = (
            m.offset(),
            String::from_utf8_lossy(m.payload().unwrap_or_default()).into_owned(),
        );
        if first.is_none() {
            first = Some(got.clone());
            if got.0 != start {
                break;
            }
        }
        if got != (next, value(next)) {
            return Err(format!(
                "after {} the next record was offset {} ({:?})",
                next - 1,
                got.0,
                got.1
            ));
        }
        next += 1;
        if next == BATCHES * BATCH {
            break;
        }
    }
    match first {
        Some(first) if first.0 == start && next < BATCHES * BATCH => Err(format!(
            "the records after {} did not come within {FIRST_RECORD_WITHIN:?}",
            next - 1
        )),
        Some(first) => Ok(first),
        None => Err(format!("no record within {FIRST_RECORD_WITHIN:?}")),
    }
}
