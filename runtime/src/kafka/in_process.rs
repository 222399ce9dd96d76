//! A Kafka inside this process, for `tributary quickstart`: librdkafka's mock cluster, reached
//! over TCP like any broker. It auto-creates topics (4 partitions) as a default Apache Kafka does
//! but has no `CreateTopics` API, so a worker that owns one creates topics through the mock's own
//! interface instead (see [`super::topics::TopicAdmin`]): a connector's `topic.creation.*`
//! partition counts hold there too.
//!
//! The mock cluster's handle is a raw pointer, neither `Send` nor `Sync`; it lives on a thread
//! of its own, which serves requests from any task until the last [`InProcessKafka`] is dropped.

use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::mocking::MockCluster;
use tokio::sync::oneshot;
use tracing::{info, warn};

use super::topics::{Creation, NewTopicSpec, TopicError};

/// Partitions of a topic created with `-1` (the broker's default): the mock's own default for
/// topics it auto-creates (`defaults.partition_cnt` in librdkafka's `rdkafka_mock.c`).
const DEFAULT_PARTITIONS: i32 = 4;

enum Request {
    CreateTopic {
        name: String,
        partitions: i32,
        replication_factor: i32,
        reply: oneshot::Sender<Result<(), KafkaError>>,
    },
}

struct Inner {
    bootstrap: String,
    requests: Option<mpsc::Sender<Request>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Closing the channel ends the thread, which destroys the cluster.
        self.requests.take();
        if let Some(thread) = self.thread.lock().ok().and_then(|mut t| t.take()) {
            if thread.join().is_err() {
                warn!("the in-process Kafka's thread panicked");
            }
        }
    }
}

/// A running in-process Kafka. Cheap to clone; it stops when the last clone is dropped.
#[derive(Clone)]
pub struct InProcessKafka {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for InProcessKafka {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InProcessKafka")
            .field("bootstrap", &self.inner.bootstrap)
            .finish()
    }
}

impl InProcessKafka {
    /// Starts a cluster of `brokers` brokers listening on loopback ports.
    pub fn start(brokers: i32) -> Result<InProcessKafka, KafkaError> {
        let (requests, incoming) = mpsc::channel::<Request>();
        let (ready, started) = mpsc::channel::<Result<String, KafkaError>>();
        let thread = std::thread::Builder::new()
            .name("in-process-kafka".into())
            .spawn(move || {
                let cluster = match MockCluster::new(brokers) {
                    Ok(c) => c,
                    Err(e) => {
                        let _ = ready.send(Err(e));
                        return;
                    }
                };
                if ready.send(Ok(cluster.bootstrap_servers())).is_err() {
                    return;
                }
                for request in incoming {
                    match request {
                        Request::CreateTopic {
                            name,
                            partitions,
                            replication_factor,
                            reply,
                        } => {
                            let _ = reply.send(cluster.create_topic(
                                &name,
                                partitions,
                                replication_factor,
                            ));
                        }
                    }
                }
            })
            .map_err(|_| KafkaError::MockCluster(RDKafkaErrorCode::Fail))?;
        let bootstrap = started
            .recv()
            .map_err(|_| KafkaError::MockCluster(RDKafkaErrorCode::Fail))??;
        Ok(InProcessKafka {
            inner: Arc::new(Inner {
                bootstrap,
                requests: Some(requests),
                thread: Mutex::new(Some(thread)),
            }),
        })
    }

    pub fn bootstrap_servers(&self) -> &str {
        &self.inner.bootstrap
    }

    /// Creates a topic with the asked partition count. Topic configs cannot be set on the mock
    /// cluster, which keeps every record anyway; they are logged as not applied.
    pub async fn create_topic(&self, spec: &NewTopicSpec) -> Result<Creation, TopicError> {
        let refused = |answer: String| TopicError::Refused {
            spec: spec.to_string(),
            answer,
        };
        let (reply, answer) = oneshot::channel();
        let request = Request::CreateTopic {
            name: spec.name.clone(),
            partitions: if spec.partitions < 0 {
                DEFAULT_PARTITIONS
            } else {
                spec.partitions
            },
            replication_factor: spec.replication_factor.max(1),
            reply,
        };
        let sent = self
            .inner
            .requests
            .as_ref()
            .is_some_and(|r| r.send(request).is_ok());
        if !sent {
            return Err(refused("the in-process Kafka has stopped".into()));
        }
        match answer.await {
            Ok(Ok(())) => {
                if !spec.configs.is_empty() {
                    warn!(topic = %spec.name, configs = ?spec.configs,
                        "the in-process Kafka keeps no topic configs; these are not applied");
                }
                info!(topic = %spec.name, "created topic {spec} in the in-process Kafka");
                Ok(Creation::Created)
            }
            Ok(Err(KafkaError::MockCluster(RDKafkaErrorCode::TopicAlreadyExists))) => {
                Ok(Creation::Existed)
            }
            Ok(Err(e)) => Err(refused(e.to_string())),
            Err(_) => Err(refused("the in-process Kafka has stopped".into())),
        }
    }
}
