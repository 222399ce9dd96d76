//! A source task's topic creation (Kafka Connect's `AbstractWorkerSourceTask.maybeCreateTopic`):
//! before the first record to a topic, ask whether it exists without letting the broker create
//! it, and if not create it as the connector's topic creation groups say.

use std::collections::HashSet;
use std::time::Duration;

use tracing::{info, warn};

use super::task_env::{Target, TaskRun};
use crate::connector::topic_creation::TopicCreation;
use crate::connector::TaskError;
use crate::kafka::{Creation, TopicAdmin, TopicError};

pub(crate) struct TopicCreator {
    /// `None` when this connector does not create topics (no `topic.creation.*` keys, or the
    /// worker's `topic.creation.enable=false`): the broker's auto-creation, if any, applies.
    creation: Option<(TopicCreation, TopicAdmin)>,
    known: HashSet<String>,
}

impl TopicCreator {
    pub(crate) fn new(run: &TaskRun) -> Result<TopicCreator, TaskError> {
        let wanted = run
            .settings
            .source
            .as_ref()
            .and_then(|s| s.topic_creation.clone());
        let creation = match wanted {
            Some(_) if !run.env.topic_creation_enable => {
                warn!(connector = %run.connector,
                    "the connector's topic.creation.* settings are not used: this worker has topic.creation.enable=false");
                None
            }
            Some(tc) => {
                let admin = run
                    .topic_admin()
                    .map_err(|e| TaskError::fatal(e.to_string()))?;
                Some((tc, admin))
            }
            None => None,
        };
        Ok(TopicCreator {
            creation,
            known: HashSet::new(),
        })
    }

    /// Makes sure `topic` exists before a record is sent to it. Waits (with backoff, while the
    /// task runs) when the broker cannot be asked; fails the task when the broker refuses the
    /// creation, naming the topic and the broker's answer.
    pub(crate) async fn ensure(&mut self, run: &TaskRun, topic: &str) -> Result<(), TaskError> {
        let Some((creation, admin)) = &self.creation else {
            return Ok(());
        };
        if self.known.contains(topic) {
            return Ok(());
        }
        let mut backoff = Duration::from_millis(100);
        loop {
            match create_if_missing(creation, admin, topic).await {
                Ok(()) => {
                    run.status.progress.clear();
                    self.known.insert(topic.to_owned());
                    return Ok(());
                }
                Err(e) if e.is_retriable() && run.target() != Target::Stopped => {
                    warn!(connector = %run.connector, error = %e, "retrying topic creation");
                    run.status.progress.set(format!("retrying: {e}"));
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                }
                Err(TopicError::Refused { spec, answer }) => {
                    return Err(TaskError::fatal(format!(
                        "Task failed to create new topic {spec}: the broker answered: {answer}. Ensure that the task is authorized to create topics or that the topic exists, then restart the task"
                    )))
                }
                Err(e) => return Err(TaskError::fatal(e.to_string())),
            }
        }
    }
}

async fn create_if_missing(
    creation: &TopicCreation,
    admin: &TopicAdmin,
    topic: &str,
) -> Result<(), TopicError> {
    if admin.exists(topic).await? {
        info!(topic, "topic already exists");
        return Ok(());
    }
    let spec = creation.new_topic(topic);
    let group = &creation.group_for(topic).name;
    match admin.create(&spec).await? {
        Creation::Created => info!(topic, group, "created topic {spec}"),
        Creation::Existed => info!(topic, "found existing topic {spec}"),
    }
    Ok(())
}
