//! The registry's persistence: a single-partition compacted Kafka topic (default `_schemas`),
//! written and followed with rdkafka.
//!
//! Why a Kafka topic: the worker already depends on Kafka and nothing else, the topic survives
//! restarts, and every worker that follows it converges on the same state — the same trick
//! Confluent Schema Registry and Kafka Connect's config topic use.
//!
//! This module is plumbing only: it creates the topic, appends records (acks=all), and runs a
//! follower task that applies every record, in log order, to the shared [`RegistryState`]
//! and publishes how far it has read. The write protocol built on top lives in `store.rs`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::client::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{Consumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Message, Offset, TopicPartitionList};
use tokio::sync::{watch, RwLock};
use tracing::{debug, info, warn};

use super::error::RegistryError;
use super::log_record::LogKey;
use super::state::{Applied, RegistryState};
use crate::kafka::{Creation, NewTopicSpec, TopicAdmin, TopicError};

/// The consumer that follows the registry topic.
type Follower = rdkafka::consumer::StreamConsumer<QuietEof>;

/// The follower asks for partition-EOF events to know it has read the log to the end, and
/// librdkafka also passes each one to the client's error callback, which rdkafka's default
/// context logs at ERROR: a worker would log an error for every schema registered. They are
/// logged at debug here; real errors stay errors.
struct QuietEof;

impl ClientContext for QuietEof {
    fn error(&self, error: KafkaError, reason: &str) {
        if matches!(
            error,
            KafkaError::PartitionEOF(_) | KafkaError::Global(RDKafkaErrorCode::PartitionEOF)
        ) {
            debug!(%reason, "registry topic follower reached the end of the log");
        } else {
            tracing::error!(%error, %reason, "registry topic client error");
        }
    }
}

impl ConsumerContext for QuietEof {}

/// The only partition of the registry topic (Confluent insists on exactly one: one total order).
const PARTITION: i32 = 0;
/// Bound for metadata / watermark requests.
const METADATA_TIMEOUT: Duration = Duration::from_secs(10);
/// Bound for creating the topic and seeing it in metadata.
const CREATE_TOPIC_TIMEOUT: Duration = Duration::from_secs(30);
/// Bound for one produce, delivery report included.
const PRODUCE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the follower may sit at end-of-partition below the high watermark before we assume
/// the log ends in a gap (compaction, transaction markers) and fall back to a NOOP marker.
const EOF_GRACE: Duration = Duration::from_millis(500);
/// Pause after a consumer error, so a broken connection does not turn into a busy loop.
const ERROR_BACKOFF: Duration = Duration::from_millis(500);

/// How far the follower has read. Published *after* the state includes the records.
#[derive(Debug, Clone, Copy, Default)]
struct Progress {
    /// Offset of the next record to read (last applied offset + 1).
    position: i64,
    /// Whether the follower's last event was "end of partition".
    at_eof: bool,
}

/// Handle on the registry topic: producer, follower task and its progress.
///
/// Dropping it stops the follower (its shutdown channel closes).
pub(crate) struct KafkaLog {
    topic: String,
    producer: FutureProducer,
    consumer: Arc<Follower>,
    progress: watch::Receiver<Progress>,
    _shutdown: watch::Sender<()>,
}

impl KafkaLog {
    /// Creates the topic if needed, starts following it from the beginning into `state` and
    /// returns once everything written before the call has been applied.
    pub(crate) async fn open(
        client_config: &HashMap<String, String>,
        topic: &str,
        replication_factor: i32,
        state: Arc<RwLock<RegistryState>>,
        startup_timeout: Duration,
    ) -> Result<Self, RegistryError> {
        let mut base = ClientConfig::new();
        for (key, value) in client_config {
            base.set(key, value);
        }

        let mut consumer_config = base.clone();
        // The follower only ever assigns partition 0 and never commits: every worker reads the
        // whole log on start. The group id is only needed because librdkafka wants one.
        if !client_config.contains_key("group.id") {
            consumer_config.set("group.id", "tributary-schema-registry");
        }
        consumer_config
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("enable.partition.eof", "true")
            .set("auto.offset.reset", "earliest");
        if !client_config.contains_key("fetch.wait.max.ms") {
            // Every registration waits until the follower reads its own record back: the
            // broker must not hold fetches for the default 500 ms.
            consumer_config.set("fetch.wait.max.ms", "10");
        }
        let consumer: Follower = consumer_config
            .create_with_context(QuietEof)
            .map_err(|e| RegistryError::kafka("creating the registry topic consumer", e))?;
        let consumer = Arc::new(consumer);

        ensure_topic(&base, &consumer, topic, replication_factor).await?;

        let mut producer_config = base.clone();
        producer_config.set("acks", "all");
        if !client_config.contains_key("linger.ms") {
            // Registry writes are rare and someone waits for each: do not batch.
            producer_config.set("linger.ms", "0");
        }
        if !client_config.contains_key("message.timeout.ms") {
            producer_config.set(
                "message.timeout.ms",
                PRODUCE_TIMEOUT.as_millis().to_string(),
            );
        }
        let producer: FutureProducer = producer_config
            .create()
            .map_err(|e| RegistryError::kafka("creating the registry topic producer", e))?;

        let mut assignment = TopicPartitionList::new();
        assignment
            .add_partition_offset(topic, PARTITION, Offset::Beginning)
            .map_err(|e| RegistryError::kafka(format!("assigning {topic}[{PARTITION}]"), e))?;
        consumer
            .assign(&assignment)
            .map_err(|e| RegistryError::kafka(format!("assigning {topic}[{PARTITION}]"), e))?;

        let (progress_tx, progress) = watch::channel(Progress::default());
        let (shutdown, shutdown_rx) = watch::channel(());
        tokio::spawn(follow(
            Arc::clone(&consumer),
            topic.to_string(),
            state,
            progress_tx,
            shutdown_rx,
        ));

        let log = Self {
            topic: topic.to_string(),
            producer,
            consumer,
            progress,
            _shutdown: shutdown,
        };
        log.catch_up(startup_timeout).await?;
        info!(
            topic,
            position = log.position(),
            "schema registry read its topic to the end"
        );
        Ok(log)
    }

    /// Offset of the next record the follower will apply.
    fn position(&self) -> i64 {
        self.progress.borrow().position
    }

    /// Appends one record (value `None` = tombstone) and returns its offset. Does not wait for
    /// the follower; see [`wait_until_applied`](Self::wait_until_applied).
    pub(crate) async fn append(
        &self,
        key: &[u8],
        value: Option<&[u8]>,
    ) -> Result<i64, RegistryError> {
        let mut record = FutureRecord::<[u8], [u8]>::to(&self.topic)
            .partition(PARTITION)
            .key(key);
        if let Some(value) = value {
            record = record.payload(value);
        }
        let send = self.producer.send(record, Duration::from_secs(5));
        match tokio::time::timeout(PRODUCE_TIMEOUT, send).await {
            Err(_) => Err(RegistryError::Timeout(format!(
                "no delivery report within {PRODUCE_TIMEOUT:?} for a record written to '{}'",
                self.topic
            ))),
            Ok(Err((e, _))) => Err(RegistryError::kafka(
                format!("writing to the registry topic '{}'", self.topic),
                e,
            )),
            Ok(Ok(delivery)) => Ok(delivery.offset),
        }
    }

    /// Waits until the follower has applied every record before `target` (i.e. position ≥ target).
    pub(crate) async fn wait_until_applied(
        &self,
        target: i64,
        timeout: Duration,
    ) -> Result<(), RegistryError> {
        let mut progress = self.progress.clone();
        let waited = tokio::time::timeout(timeout, async {
            loop {
                if progress.borrow_and_update().position >= target {
                    return Ok(());
                }
                if progress.changed().await.is_err() {
                    return Err(self.follower_stopped());
                }
            }
        })
        .await;
        match waited {
            Ok(result) => result,
            Err(_) => Err(RegistryError::Timeout(format!(
                "waited {timeout:?} for the registry follower to read topic '{}' partition {PARTITION} up to offset {target}, it has read up to {}",
                self.topic,
                self.position()
            ))),
        }
    }

    /// Waits until the follower has applied everything that was in the log when this was called.
    ///
    /// Normally that is "position ≥ high watermark". A log can end in offsets that carry no
    /// record (compacted away, transaction markers); the follower then sits at end-of-partition
    /// below the watermark. In that case we append a NOOP marker (Confluent does the same) and
    /// wait for it, which is exact because the marker is a real record.
    pub(crate) async fn catch_up(&self, timeout: Duration) -> Result<(), RegistryError> {
        let high = self.high_watermark().await?;
        self.catch_up_to(high, timeout).await
    }

    /// [`catch_up`](Self::catch_up) to a given high watermark.
    pub(crate) async fn catch_up_to(
        &self,
        high: i64,
        timeout: Duration,
    ) -> Result<(), RegistryError> {
        let started = Instant::now();
        let mut progress = self.progress.clone();
        loop {
            let now = *progress.borrow_and_update();
            if now.position >= high {
                return Ok(());
            }
            let elapsed = started.elapsed();
            if elapsed >= timeout {
                return Err(RegistryError::Timeout(format!(
                    "waited {timeout:?} for the registry follower to read topic '{}' partition {PARTITION} up to the high watermark {high}, it has read up to {}",
                    self.topic, now.position
                )));
            }
            if now.at_eof && elapsed >= EOF_GRACE {
                debug!(
                    topic = %self.topic,
                    position = now.position,
                    high,
                    "follower is at end of partition below the high watermark; using a NOOP marker"
                );
                let key = LogKey::Noop
                    .to_bytes()
                    .map_err(|e| RegistryError::Store(format!("encoding NOOP key: {e}")))?;
                let offset = self.append(&key, None).await?;
                let remaining = timeout.saturating_sub(started.elapsed());
                return self.wait_until_applied(offset + 1, remaining).await;
            }
            let tick = EOF_GRACE.min(timeout.saturating_sub(elapsed));
            if let Ok(Err(_)) = tokio::time::timeout(tick, progress.changed()).await {
                return Err(self.follower_stopped());
            }
        }
    }

    pub(crate) async fn high_watermark(&self) -> Result<i64, RegistryError> {
        let consumer = Arc::clone(&self.consumer);
        let topic = self.topic.clone();
        let (_, high) =
            blocking(move || consumer.fetch_watermarks(&topic, PARTITION, METADATA_TIMEOUT))
                .await
                .map_err(|e| {
                    RegistryError::kafka(
                        format!(
                            "fetching the high watermark of '{}' partition {PARTITION}",
                            self.topic
                        ),
                        e,
                    )
                })?;
        Ok(high)
    }

    fn follower_stopped(&self) -> RegistryError {
        RegistryError::Store(format!(
            "the follower of the registry topic '{}' has stopped",
            self.topic
        ))
    }
}

/// Runs a blocking rdkafka call off the async runtime.
async fn blocking<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, KafkaError> + Send + 'static,
) -> Result<T, KafkaError> {
    match tokio::task::spawn_blocking(call).await {
        Ok(result) => result,
        Err(e) => {
            warn!(error = %e, "blocking Kafka call panicked or was cancelled");
            Err(KafkaError::Canceled)
        }
    }
}

/// Makes sure the topic exists with exactly one partition, creating it (compacted) if missing.
async fn ensure_topic(
    config: &ClientConfig,
    consumer: &Arc<Follower>,
    topic: &str,
    replication_factor: i32,
) -> Result<(), RegistryError> {
    if let Some(partitions) = partition_count(consumer, topic).await? {
        return check_partitions(topic, partitions);
    }

    info!(
        topic,
        replication_factor, "creating the schema registry topic"
    );
    let admin = TopicAdmin::with_client_config(config.clone(), None)
        .map_err(|e| RegistryError::Store(e.to_string()))?;
    let spec = NewTopicSpec {
        name: topic.to_owned(),
        partitions: 1,
        replication_factor,
        configs: [("cleanup.policy".to_owned(), "compact".to_owned())].into(),
    };
    match admin.create(&spec).await {
        Ok(Creation::Created) => info!(topic, "created the schema registry topic"),
        Ok(Creation::Existed) => debug!(topic, "another worker created the registry topic first"),
        Err(e @ TopicError::Unavailable { .. }) => {
            return Err(RegistryError::Timeout(e.to_string()))
        }
        Err(e) => return Err(RegistryError::Store(e.to_string())),
    }

    // Creation is asynchronous on the broker side: wait until metadata shows the topic.
    let deadline = Instant::now() + CREATE_TOPIC_TIMEOUT;
    loop {
        if let Some(partitions) = partition_count(consumer, topic).await? {
            return check_partitions(topic, partitions);
        }
        if Instant::now() >= deadline {
            return Err(RegistryError::Timeout(format!(
                "waited {CREATE_TOPIC_TIMEOUT:?} for topic '{topic}' to appear in the cluster metadata after creating it"
            )));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn check_partitions(topic: &str, partitions: usize) -> Result<(), RegistryError> {
    if partitions == 1 {
        Ok(())
    } else {
        Err(RegistryError::Store(format!(
            "the schema registry topic '{topic}' must have exactly 1 partition (a single total order of writes) but has {partitions}"
        )))
    }
}

/// Partition count of the topic, `None` if it does not exist. Asks for *all* topics' metadata
/// because a metadata request naming the topic may auto-create it with the broker's defaults
/// (not compacted), which would silently lose schemas to retention later.
async fn partition_count(
    consumer: &Arc<Follower>,
    topic: &str,
) -> Result<Option<usize>, RegistryError> {
    let consumer = Arc::clone(consumer);
    let metadata = blocking(move || consumer.fetch_metadata(None, METADATA_TIMEOUT))
        .await
        .map_err(|e| RegistryError::kafka("fetching cluster metadata", e))?;
    Ok(metadata
        .topics()
        .iter()
        .find(|t| t.name() == topic && t.error().is_none() && !t.partitions().is_empty())
        .map(|t| t.partitions().len()))
}

/// The follower: applies every record of the topic, in order, and publishes its position.
async fn follow(
    consumer: Arc<Follower>,
    topic: String,
    state: Arc<RwLock<RegistryState>>,
    progress: watch::Sender<Progress>,
    mut shutdown: watch::Receiver<()>,
) {
    loop {
        let event = tokio::select! {
            _ = shutdown.changed() => break,
            event = consumer.recv() => event.map(|m| {
                (m.offset(), m.key().map(<[u8]>::to_vec), m.payload().map(<[u8]>::to_vec))
            }),
        };
        match event {
            Ok((offset, key, value)) => {
                match key {
                    Some(key) => {
                        let applied = state.write().await.apply(&key, value.as_deref());
                        match applied {
                            Applied::Accepted => debug!(%topic, offset, "applied registry record"),
                            Applied::Ignored(why) => {
                                debug!(%topic, offset, %why, "registry record had no effect")
                            }
                        }
                    }
                    None => warn!(%topic, offset, "skipping registry record without a key"),
                }
                progress.send_modify(|p| {
                    p.position = p.position.max(offset + 1);
                    p.at_eof = false;
                });
            }
            Err(KafkaError::PartitionEOF(_)) => progress.send_modify(|p| p.at_eof = true),
            Err(e) => {
                warn!(%topic, error = %e, "error while following the registry topic; retrying");
                tokio::time::sleep(ERROR_BACKOFF).await;
            }
        }
    }
    debug!(%topic, "registry follower stopped");
}
