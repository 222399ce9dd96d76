//! Kafka Connect's error handling around each record (`errors.*`): retriable failures retried
//! for `errors.retry.timeout`, every failure logged when `errors.log.enable` is set, then the
//! record skipped (`errors.tolerance=all`) or the task failed.

use std::fmt::Write as _;
use std::future::Future;
use tokio::time::Instant;

use tracing::{error, warn};

use crate::connector::ErrorHandling;
use crate::record::{Headers, SourceOffset, SourcePartition};

/// Where in a record's way a failure happened (Kafka Connect's `Stage`, as the dead-letter
/// queue's `__connect.errors.stage` header and the log name it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stage {
    KeyConverter,
    ValueConverter,
    KafkaProduce,
    TaskPut,
}

impl Stage {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Stage::KeyConverter => "KEY_CONVERTER",
            Stage::ValueConverter => "VALUE_CONVERTER",
            Stage::KafkaProduce => "KAFKA_PRODUCE",
            Stage::TaskPut => "TASK_PUT",
        }
    }
}

/// A failure that may or may not go away by trying again.
pub(crate) trait Retriable {
    fn is_retriable(&self) -> bool;
}

impl Retriable for crate::convert::ConvertError {
    fn is_retriable(&self) -> bool {
        crate::convert::ConvertError::is_retriable(self)
    }
}

/// Runs `attempt` until it succeeds, fails with an error that is not retriable, the retry
/// timeout passes, or `stopping` says the task is stopping; the last error is returned.
pub(crate) async fn with_retries<T, E, F, Fut>(
    errors: &ErrorHandling,
    stopping: impl Fn() -> bool,
    mut attempt: F,
) -> Result<T, E>
where
    E: Retriable + std::fmt::Display,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    match attempt().await {
        Ok(v) => Ok(v),
        // This wraps every conversion: the retry loop (with its clock and timer) lives on the
        // heap and is built only once something failed, so the common path stays small.
        Err(first) => Box::pin(retry_after(errors, stopping, first, attempt)).await,
    }
}

async fn retry_after<T, E, F, Fut>(
    errors: &ErrorHandling,
    stopping: impl Fn() -> bool,
    first: E,
    mut attempt: F,
) -> Result<T, E>
where
    E: Retriable + std::fmt::Display,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let started = Instant::now();
    let mut e = first;
    let mut n = 1u32;
    loop {
        if !e.is_retriable() || stopping() {
            return Err(e);
        }
        match errors.delay_before_retry(n, started.elapsed()) {
            Some(delay) => {
                warn!(attempt = n, retry_in_ms = delay.as_millis() as u64, error = %e,
                    "retrying a failed operation (errors.retry.timeout)");
                tokio::time::sleep(delay).await;
            }
            None => return Err(e),
        }
        n += 1;
        e = match attempt().await {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
    }
}

/// The record a failure is about, as the log shows it.
pub(crate) enum FailedRecord<'a> {
    /// A consumed record, before or after conversion.
    Consumed {
        topic: &'a str,
        partition: i32,
        offset: i64,
        timestamp: Option<i64>,
        key: Option<&'a [u8]>,
        value: Option<&'a [u8]>,
        headers: &'a Headers,
    },
    /// A source record on its way to Kafka.
    Produced {
        topic: &'a str,
        source_partition: &'a SourcePartition,
        source_offset: &'a SourceOffset,
        /// The record's content; `None` once it was handed to the producer.
        content: Option<(
            &'a dyn std::fmt::Debug,
            &'a dyn std::fmt::Debug,
            &'a Headers,
        )>,
    },
}

/// Logs one failure as Kafka Connect's `LogReporter` does, when `errors.log.enable` is set: at
/// ERROR, naming the task, the stage and the record's coordinates; its content only with
/// `errors.log.include.messages` (it may hold personal data).
pub(crate) fn log_failure(
    errors: &ErrorHandling,
    connector: &str,
    task: u32,
    stage: Stage,
    record: &FailedRecord<'_>,
    failure: &dyn std::fmt::Display,
) {
    if !errors.log {
        return;
    }
    let text = failure_text(errors.log_messages, connector, task, stage, record);
    error!(connector, task, stage = stage.name(), error = %failure, "{text}");
}

/// Kafka Connect's `LogReporter` message: where the failure happened, and the record's
/// content when `with_content`.
fn failure_text(
    with_content: bool,
    connector: &str,
    task: u32,
    stage: Stage,
    record: &FailedRecord<'_>,
) -> String {
    let mut text = format!(
        "Error encountered in task {connector}-{task}. Executing stage '{}'",
        stage.name()
    );
    match record {
        FailedRecord::Consumed {
            topic,
            partition,
            offset,
            timestamp,
            key,
            value,
            headers,
        } => {
            let _ = write!(
                text,
                ", where consumed record is {{topic='{topic}', partition={partition}, offset={offset}"
            );
            if with_content {
                if let Some(ts) = timestamp {
                    let _ = write!(text, ", timestamp={ts}");
                }
                let _ = write!(
                    text,
                    ", key={}, value={}, headers={}",
                    shown_bytes(*key),
                    shown_bytes(*value),
                    shown_headers(headers)
                );
            }
            text.push('}');
        }
        FailedRecord::Produced {
            topic,
            source_partition,
            source_offset,
            content,
        } => {
            let json = |m: &serde_json::Map<String, serde_json::Value>| {
                serde_json::to_string(m).unwrap_or_default()
            };
            let _ = write!(
                text,
                ", where source record is {{topic='{topic}', sourcePartition={}, sourceOffset={}",
                json(source_partition),
                json(source_offset)
            );
            if let (true, Some((key, value, headers))) = (with_content, content) {
                let _ = write!(
                    text,
                    ", key={key:?}, value={value:?}, headers={}",
                    shown_headers(headers)
                );
            }
            text.push('}');
        }
    }
    text.push('.');
    text
}

/// Bytes as text where they are UTF-8, else as hex; at most 1 KiB of either.
fn shown_bytes(bytes: Option<&[u8]>) -> String {
    const MAX: usize = 1024;
    let Some(b) = bytes else {
        return "null".into();
    };
    let cut = &b[..b.len().min(MAX)];
    let more = if b.len() > MAX { "…" } else { "" };
    match std::str::from_utf8(cut) {
        Ok(s) => format!("{s:?}{more}"),
        Err(_) => {
            let hex: String = cut.iter().map(|x| format!("{x:02x}")).collect();
            format!("0x{hex}{more}")
        }
    }
}

fn shown_headers(headers: &Headers) -> String {
    let shown: Vec<String> = headers
        .iter()
        .map(|(k, v)| format!("{k}={}", shown_bytes(v.as_deref())))
        .collect();
    format!("[{}]", shown.join(", "))
}

/// Says once per task that records are being skipped without a log line each, so that a
/// tolerated failure is never entirely silent.
#[derive(Default)]
pub(crate) struct SkipNotice {
    said: bool,
}

impl SkipNotice {
    pub(crate) fn skipped(
        &mut self,
        errors: &ErrorHandling,
        connector: &str,
        stage: Stage,
        failure: &dyn std::fmt::Display,
    ) {
        if errors.log || self.said {
            return;
        }
        self.said = true;
        warn!(connector, stage = stage.name(), error = %failure,
            "skipping a record that failed (errors.tolerance=all); further skipped records are not logged unless errors.log.enable=true");
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Duration;

    use super::*;

    #[derive(Debug)]
    struct Failure(bool);
    impl std::fmt::Display for Failure {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "failure (retriable: {})", self.0)
        }
    }
    impl Retriable for Failure {
        fn is_retriable(&self) -> bool {
            self.0
        }
    }

    fn handling(timeout_ms: i64, max_delay_ms: u64) -> ErrorHandling {
        ErrorHandling {
            retry_timeout: u64::try_from(timeout_ms).ok().map(Duration::from_millis),
            retry_delay_max: Duration::from_millis(max_delay_ms),
            ..ErrorHandling::default()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn retriable_failures_are_retried_until_the_timeout() {
        let calls = AtomicU32::new(0);
        let started = tokio::time::Instant::now();
        let r: Result<(), Failure> = with_retries(
            &handling(2_000, 60_000),
            || false,
            || async {
                calls.fetch_add(1, Ordering::Relaxed);
                Err(Failure(true))
            },
        )
        .await;
        assert!(r.is_err());
        // 300 + 600 + 1100 (cut at the deadline): four attempts in two seconds.
        assert_eq!(calls.load(Ordering::Relaxed), 4);
        assert_eq!(started.elapsed(), Duration::from_millis(2_000));
    }

    #[tokio::test(start_paused = true)]
    async fn no_retry_by_default_nor_for_failures_that_cannot_pass() {
        for (handling, failure) in [
            (ErrorHandling::default(), Failure(true)),
            (handling(-1, 1_000), Failure(false)),
        ] {
            let calls = AtomicU32::new(0);
            let retriable = failure.0;
            let r: Result<(), Failure> = with_retries(
                &handling,
                || false,
                || async {
                    calls.fetch_add(1, Ordering::Relaxed);
                    Err(Failure(retriable))
                },
            )
            .await;
            assert!(r.is_err());
            assert_eq!(calls.load(Ordering::Relaxed), 1);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn retries_end_with_success_or_when_stopping() {
        let calls = AtomicU32::new(0);
        let r: Result<u32, Failure> = with_retries(
            &handling(-1, 1_000),
            || false,
            || async {
                match calls.fetch_add(1, Ordering::Relaxed) {
                    0..=4 => Err(Failure(true)),
                    n => Ok(n),
                }
            },
        )
        .await;
        assert_eq!(r.ok(), Some(5));
        let r: Result<(), Failure> = with_retries(
            &handling(-1, 1_000),
            || true,
            || async { Err(Failure(true)) },
        )
        .await;
        assert!(r.is_err(), "a stopping task does not wait for a retry");
    }

    #[test]
    fn a_failure_names_its_task_stage_and_record_and_shows_content_only_when_asked() {
        let headers = vec![("h".to_owned(), Some(b"v".to_vec()))];
        let consumed = FailedRecord::Consumed {
            topic: "orders",
            partition: 2,
            offset: 41,
            timestamp: Some(1_700_000_000_000),
            key: Some(b"k1"),
            value: Some(&[0xff, 0x00]),
            headers: &headers,
        };
        assert_eq!(
            failure_text(false, "sink", 0, Stage::ValueConverter, &consumed),
            "Error encountered in task sink-0. Executing stage 'VALUE_CONVERTER', where consumed record is {topic='orders', partition=2, offset=41}."
        );
        assert_eq!(
            failure_text(true, "sink", 0, Stage::ValueConverter, &consumed),
            "Error encountered in task sink-0. Executing stage 'VALUE_CONVERTER', where consumed record is {topic='orders', partition=2, offset=41, timestamp=1700000000000, key=\"k1\", value=0xff00, headers=[h=\"v\"]}."
        );
        let partition = serde_json::Map::from_iter([("server".to_owned(), "db1".into())]);
        let offset = serde_json::Map::from_iter([("pos".to_owned(), 7.into())]);
        let produced = FailedRecord::Produced {
            topic: "db1.shop.orders",
            source_partition: &partition,
            source_offset: &offset,
            content: Some((&"the key", &"the value", &headers)),
        };
        assert_eq!(
            failure_text(false, "src", 1, Stage::KeyConverter, &produced),
            "Error encountered in task src-1. Executing stage 'KEY_CONVERTER', where source record is {topic='db1.shop.orders', sourcePartition={\"server\":\"db1\"}, sourceOffset={\"pos\":7}}."
        );
        assert!(failure_text(true, "src", 1, Stage::KeyConverter, &produced)
            .ends_with("key=\"the key\", value=\"the value\", headers=[h=\"v\"]}."));
    }

    #[test]
    fn the_delay_doubles_up_to_its_maximum_then_jitters_below_it() {
        let h = handling(-1, 1_000);
        let delays: Vec<Duration> = (1..=3)
            .filter_map(|n| h.delay_before_retry(n, Duration::ZERO))
            .collect();
        assert_eq!(delays.len(), 3);
        assert_eq!(delays[..2], [300, 600].map(Duration::from_millis));
        assert!(delays[2] < Duration::from_secs(1), "{delays:?}");
        assert_eq!(
            handling(0, 1_000).delay_before_retry(1, Duration::ZERO),
            None
        );
    }
}
