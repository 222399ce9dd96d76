//! Topics as Kafka Connect's `TopicAdmin` handles them: whether a topic exists, asked in a way
//! that cannot make the broker create it, and creating one with a partition count, a
//! replication factor and topic-level configs.
//!
//! The existence probe is a metadata request from an admin client with
//! `allow.auto.create.topics=false`. A metadata request naming a missing topic from a client
//! that allows auto-creation (librdkafka's producers and admin clients do by default) makes a
//! broker with `auto.create.topics.enable=true` (Apache Kafka's default) create it at once with
//! the broker's defaults, so the `CreateTopics` request that follows finds it existing and the
//! partition count, replication factor and `cleanup.policy` the connector asked for are lost.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use thiserror::Error;
use tracing::info;

use super::in_process::InProcessKafka;
use super::KafkaSettings;
use crate::config::ConfigMap;

/// How long a metadata probe or a creation may take before the caller gives up on this round.
const ADMIN_TIMEOUT: Duration = Duration::from_secs(30);

/// A topic to create: Kafka's `NewTopic`. `-1` partitions or replication factor leaves the
/// choice to the broker's defaults (KIP-464).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewTopicSpec {
    pub name: String,
    pub partitions: i32,
    pub replication_factor: i32,
    pub configs: BTreeMap<String, String>,
}

impl fmt::Display for NewTopicSpec {
    /// `'name' (partitions: 6, replication factor: 1, cleanup.policy=compact)`, as logs and
    /// statuses show the topic a connector asked for.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = |n: i32| {
            if n < 0 {
                "the broker's default".to_owned()
            } else {
                n.to_string()
            }
        };
        write!(
            f,
            "'{}' (partitions: {}, replication factor: {}",
            self.name,
            count(self.partitions),
            count(self.replication_factor)
        )?;
        for (k, v) in &self.configs {
            write!(f, ", {k}={v}")?;
        }
        write!(f, ")")
    }
}

#[derive(Debug, Error)]
pub enum TopicError {
    #[error("cannot create a Kafka admin client: {0}")]
    Client(#[source] KafkaError),
    /// The probe got no answer or an error other than "unknown topic": worth another try.
    #[error("cannot tell whether topic '{topic}' exists: {message}")]
    Probe { topic: String, message: String },
    /// The broker answered the creation with an error: trying again will not help.
    #[error("the broker refused to create topic {spec}: {answer}")]
    Refused { spec: String, answer: String },
    /// No answer to the creation in time, or the connection failed. Kafka Connect fails the
    /// task on this (a creation may have happened meanwhile, with whatever settings).
    #[error("Timed out while checking for or creating topic {spec} ({message}). This could indicate a connectivity issue, a broker that cannot create topics (one without a controller or without the CreateTopics API, such as librdkafka's mock cluster), or, if this is your first use of the topic, that it took too long to create")]
    Unavailable { spec: String, message: String },
}

impl TopicError {
    /// Whether asking again may succeed (the probe found no broker to answer it); as in Kafka
    /// Connect, a failed creation is not retried.
    pub fn is_retriable(&self) -> bool {
        matches!(self, TopicError::Probe { .. })
    }
}

/// What [`TopicAdmin::create`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Creation {
    Created,
    /// Someone else created it between the probe and the request.
    Existed,
}

/// Probes and creates topics. Cheap to clone.
#[derive(Clone)]
pub struct TopicAdmin {
    client: Arc<AdminClient<DefaultClientContext>>,
    /// Set when the worker owns an in-process Kafka, which has no `CreateTopics` API: topics
    /// are created through its own interface instead.
    in_process: Option<InProcessKafka>,
}

impl TopicAdmin {
    /// An admin client with the worker's settings and `overrides` (a connector's
    /// `admin.override.*`), which never lets a metadata request create a topic.
    pub fn new(
        kafka: &KafkaSettings,
        overrides: &ConfigMap,
        in_process: Option<InProcessKafka>,
    ) -> Result<TopicAdmin, TopicError> {
        Self::with_client_config(kafka.admin(overrides), in_process)
    }

    /// The same from a client config of the caller's (the schema registry's own settings).
    pub fn with_client_config(
        mut config: ClientConfig,
        in_process: Option<InProcessKafka>,
    ) -> Result<TopicAdmin, TopicError> {
        config.set("allow.auto.create.topics", "false");
        let client = config.create().map_err(TopicError::Client)?;
        Ok(TopicAdmin {
            client: Arc::new(client),
            in_process,
        })
    }

    /// Whether `topic` exists, without creating it (Kafka Connect's `TopicAdmin.describeTopics`).
    pub async fn exists(&self, topic: &str) -> Result<bool, TopicError> {
        let client = self.client.clone();
        let name = topic.to_owned();
        let probe = tokio::task::spawn_blocking(move || {
            client
                .inner()
                .fetch_metadata(Some(&name), ADMIN_TIMEOUT)
                .map(|m| {
                    m.topics()
                        .iter()
                        .find(|t| t.name() == name)
                        .map(|t| (t.error(), t.partitions().len()))
                })
        })
        .await
        .map_err(|e| TopicError::Probe {
            topic: topic.to_owned(),
            message: format!("the metadata request did not complete: {e}"),
        })?;
        let probe_error = |message: String| TopicError::Probe {
            topic: topic.to_owned(),
            message,
        };
        match probe.map_err(|e| probe_error(e.to_string()))? {
            None => Ok(false),
            Some((None, partitions)) => Ok(partitions > 0),
            Some((Some(code), _)) => match RDKafkaErrorCode::from(code) {
                RDKafkaErrorCode::UnknownTopicOrPartition => Ok(false),
                // Known to the controller, its partitions not led yet: being created.
                RDKafkaErrorCode::LeaderNotAvailable => Ok(true),
                other => Err(probe_error(format!("the broker answered: {other}"))),
            },
        }
    }

    /// Creates `spec` (Kafka Connect's `TopicAdmin.createOrFindTopics` for one topic).
    pub async fn create(&self, spec: &NewTopicSpec) -> Result<Creation, TopicError> {
        if let Some(kafka) = &self.in_process {
            return kafka.create_topic(spec).await;
        }
        let replication = TopicReplication::Fixed(spec.replication_factor);
        let new_topic = spec.configs.iter().fold(
            NewTopic::new(&spec.name, spec.partitions, replication),
            |t, (k, v)| t.set(k, v),
        );
        let options = AdminOptions::new()
            .operation_timeout(Some(ADMIN_TIMEOUT))
            .request_timeout(Some(ADMIN_TIMEOUT));
        let unavailable = |message: String| TopicError::Unavailable {
            spec: spec.to_string(),
            message,
        };
        let answers = tokio::time::timeout(
            ADMIN_TIMEOUT + Duration::from_secs(5),
            self.client.create_topics([&new_topic], &options),
        )
        .await
        .map_err(|_| unavailable(format!("no answer within {ADMIN_TIMEOUT:?}")))?;
        let answers = match answers {
            Ok(a) => a,
            Err(KafkaError::AdminOp(code)) => return Err(refused_or_unavailable(spec, code)),
            Err(e) => return Err(unavailable(e.to_string())),
        };
        match answers.into_iter().next() {
            Some(Ok(_)) => {
                info!(topic = %spec.name, "created topic {spec}");
                Ok(Creation::Created)
            }
            Some(Err((_, RDKafkaErrorCode::TopicAlreadyExists))) => Ok(Creation::Existed),
            Some(Err((_, code))) => Err(refused_or_unavailable(spec, code)),
            None => Err(unavailable("the broker's answer named no topic".into())),
        }
    }
}

/// Kafka Connect gives up at once on an answer from the broker and retries only when there
/// was none: the same split here.
fn refused_or_unavailable(spec: &NewTopicSpec, code: RDKafkaErrorCode) -> TopicError {
    match code {
        RDKafkaErrorCode::OperationTimedOut
        | RDKafkaErrorCode::RequestTimedOut
        | RDKafkaErrorCode::BrokerTransportFailure
        | RDKafkaErrorCode::AllBrokersDown
        | RDKafkaErrorCode::NotController
        | RDKafkaErrorCode::NetworkException => TopicError::Unavailable {
            spec: spec.to_string(),
            message: code.to_string(),
        },
        RDKafkaErrorCode::UnsupportedFeature | RDKafkaErrorCode::UnsupportedVersion => {
            TopicError::Refused {
                spec: spec.to_string(),
                answer: format!("{code} (the broker has no CreateTopics API)"),
            }
        }
        _ => TopicError::Refused {
            spec: spec.to_string(),
            answer: code.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_topic_shows_what_was_asked() {
        let spec = NewTopicSpec {
            name: "db.inventory.orders".into(),
            partitions: 6,
            replication_factor: -1,
            configs: [("cleanup.policy".to_owned(), "compact".to_owned())].into(),
        };
        assert_eq!(
            spec.to_string(),
            "'db.inventory.orders' (partitions: 6, replication factor: the broker's default, cleanup.policy=compact)"
        );
    }
}
