//! KIP-875's offsets endpoints: read, alter and reset a connector's offsets. Sources keep
//! theirs in the offset store; sinks' are their consumer group's committed offsets.

use std::collections::BTreeSet;
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::{Offset, TopicPartitionList};
use serde_json::{json, Value as Json};

use super::error::HerderError;
use super::herder::Herder;
use super::sink_runner::group_id;
use crate::config::ConfigMap;
use crate::connector::ConnectorType;
use crate::record::{SourceOffset, SourcePartition};

const TIMEOUT: Duration = Duration::from_secs(10);

impl Herder {
    /// `GET /connectors/{name}/offsets`.
    pub async fn offsets(&self, name: &str) -> Result<Json, HerderError> {
        let (plugin, config) = self.plugin_and_config(name).await?;
        let entries: Vec<Json> = match plugin.connector_type() {
            ConnectorType::Source => self
                .env()
                .offsets
                .all(name)
                .await
                .map_err(|e| HerderError::Internal(e.to_string()))?
                .into_iter()
                .map(|(p, o)| json!({"partition": p, "offset": o}))
                .collect(),
            ConnectorType::Sink => self
                .sink_committed(name, &config)
                .await?
                .into_iter()
                .map(|(t, p, o)| json!({"partition": {"kafka_topic": t, "kafka_partition": p}, "offset": {"kafka_offset": o}}))
                .collect(),
        };
        Ok(json!({ "offsets": entries }))
    }

    /// `PATCH /connectors/{name}/offsets` (connector must be STOPPED).
    pub async fn alter_offsets(&self, name: &str, body: &Json) -> Result<Json, HerderError> {
        let (plugin, _) = self.require_stopped(name).await?;
        let list = body
            .get("offsets")
            .and_then(Json::as_array)
            .ok_or_else(|| {
                HerderError::BadRequest(
                    "The body must be {\"offsets\": [{\"partition\": {…}, \"offset\": {…}}]}"
                        .into(),
                )
            })?;
        match plugin.connector_type() {
            ConnectorType::Source => {
                let mut puts: Vec<(SourcePartition, Option<SourceOffset>)> = Vec::new();
                for item in list {
                    let partition = item
                        .get("partition")
                        .and_then(Json::as_object)
                        .cloned()
                        .ok_or_else(|| {
                            HerderError::BadRequest(
                                "Every entry needs a \"partition\" object".into(),
                            )
                        })?;
                    let offset = match item.get("offset") {
                        None | Some(Json::Null) => None,
                        Some(Json::Object(o)) => Some(o.clone()),
                        Some(other) => {
                            return Err(HerderError::BadRequest(format!(
                                "\"offset\" must be an object or null, got {other}"
                            )))
                        }
                    };
                    puts.push((partition, offset));
                }
                self.env()
                    .offsets
                    .put(name, &puts)
                    .await
                    .map_err(|e| HerderError::Internal(e.to_string()))?;
            }
            ConnectorType::Sink => {
                let mut tpl = TopicPartitionList::new();
                for item in list {
                    let p = item.get("partition");
                    let topic = p.and_then(|p| p.get("kafka_topic")).and_then(Json::as_str);
                    let partition = p
                        .and_then(|p| p.get("kafka_partition"))
                        .and_then(Json::as_i64);
                    let (Some(topic), Some(partition)) = (topic, partition) else {
                        return Err(HerderError::BadRequest("Sink offsets need \"partition\": {\"kafka_topic\": …, \"kafka_partition\": …}".into()));
                    };
                    let offset = item
                        .get("offset")
                        .and_then(|o| o.get("kafka_offset"))
                        .and_then(Json::as_i64);
                    let offset = offset.map_or(Offset::Beginning, Offset::Offset);
                    tpl.add_partition_offset(topic, partition as i32, offset)
                        .map_err(|e| HerderError::BadRequest(e.to_string()))?;
                }
                let consumer = self.group_consumer(name)?;
                tokio::task::block_in_place(|| consumer.commit(&tpl, CommitMode::Sync)).map_err(
                    |e| {
                        HerderError::Internal(format!(
                            "could not commit the offsets of group {}: {e}",
                            group_id(name)
                        ))
                    },
                )?;
            }
        }
        Ok(json!({"message": "The offsets for this connector have been altered successfully"}))
    }

    /// `DELETE /connectors/{name}/offsets` (connector must be STOPPED).
    pub async fn reset_offsets(&self, name: &str) -> Result<Json, HerderError> {
        let (plugin, _) = self.require_stopped(name).await?;
        match plugin.connector_type() {
            ConnectorType::Source => {
                self.env()
                    .offsets
                    .reset(name)
                    .await
                    .map_err(|e| HerderError::Internal(e.to_string()))?;
            }
            ConnectorType::Sink => {
                let admin: AdminClient<DefaultClientContext> = self
                    .env()
                    .kafka
                    .admin(&ConfigMap::new())
                    .create()
                    .map_err(|e| HerderError::Internal(e.to_string()))?;
                let group = group_id(name);
                let results = admin
                    .delete_groups(
                        &[group.as_str()],
                        &AdminOptions::new().operation_timeout(Some(TIMEOUT)),
                    )
                    .await
                    .map_err(|e| {
                        HerderError::Internal(format!("could not delete group {group}: {e}"))
                    })?;
                for r in results {
                    if let Err((g, code)) = r {
                        if code != rdkafka::types::RDKafkaErrorCode::GroupIdNotFound {
                            return Err(HerderError::Internal(format!(
                                "could not delete group {g}: {code}"
                            )));
                        }
                    }
                }
            }
        }
        Ok(json!({"message": "The offsets for this connector have been reset successfully"}))
    }

    fn group_consumer(&self, name: &str) -> Result<BaseConsumer, HerderError> {
        self.env()
            .kafka
            .consumer(&group_id(name), &ConfigMap::new())
            .create()
            .map_err(|e| HerderError::Internal(format!("cannot create a Kafka consumer: {e}")))
    }

    /// Committed offsets of the sink's group for the topics it reads.
    async fn sink_committed(
        &self,
        name: &str,
        config: &ConfigMap,
    ) -> Result<Vec<(String, i32, i64)>, HerderError> {
        let consumer = self.group_consumer(name)?;
        let topics: BTreeSet<String> = config
            .get("topics")
            .map(|t| {
                t.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        tokio::task::block_in_place(|| {
            let metadata = consumer
                .fetch_metadata(None, TIMEOUT)
                .map_err(|e| HerderError::Internal(format!("cannot read topic metadata: {e}")))?;
            let mut tpl = TopicPartitionList::new();
            for t in metadata
                .topics()
                .iter()
                .filter(|t| topics.contains(t.name()))
            {
                for p in t.partitions() {
                    tpl.add_partition(t.name(), p.id());
                }
            }
            let committed = consumer.committed_offsets(tpl, TIMEOUT).map_err(|e| {
                HerderError::Internal(format!(
                    "cannot read the committed offsets of {}: {e}",
                    group_id(name)
                ))
            })?;
            Ok(committed
                .elements()
                .iter()
                .filter_map(|e| match e.offset() {
                    Offset::Offset(o) => Some((e.topic().to_owned(), e.partition(), o)),
                    _ => None,
                })
                .collect())
        })
    }
}
