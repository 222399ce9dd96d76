//! [`SchemaRegistry`]: the registry's public operations and its write protocol.
//!
//! State only ever changes by applying log records (see `state.rs`). A write is therefore:
//!
//! 1. catch up to the end of the log (so our plan sees every earlier write, from any worker);
//! 2. plan (choose id and version, check compatibility) against the state;
//! 3. append the record and wait until our own follower has applied it;
//! 4. look at the state: if another worker's record got there first (same version, or our id
//!    bound to a different schema), our record was ignored by *every* replica — retry.
//!    When we lost a same-key race, we also re-append the winner's record, so that log
//!    compaction (which keeps the *last* record per key) keeps the winner and not our loser.
//!
//! Local writers are serialised by a mutex, so races only happen between workers and stay rare.
//! For the in-memory registry "append" is just "apply", and the protocol degenerates to a
//! plain locked update.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Mutex, RwLock};
use tracing::{info, warn};

use super::avro::parse_avro;
use super::error::RegistryError;
use super::kafka_log::KafkaLog;
use super::log_record::{ConfigValue, LogKey, SchemaValue};
use super::model::{
    CompatibilityLevel, CompatibilityReport, SubjectVersion, SubjectVersionRef, VersionSpec,
};
use super::state::{RegisterPlan, RegistryState, WriteOutcome};

/// How long startup may take to read the whole topic.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
/// Bound for catching up before a write and for reading our own record back.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// How many lost races a registration tolerates before giving up (each loss means another
/// worker made progress, so this only trips under pathological contention).
const MAX_WRITE_ATTEMPTS: usize = 16;

/// A Confluent-compatible schema registry, in memory or persisted in a Kafka topic.
///
/// Cheap to share as `Arc<SchemaRegistry>`: the converters, the REST API and the workers all use
/// the same instance. Reads are served from memory; writes go through the log (see module docs).
pub struct SchemaRegistry {
    state: Arc<RwLock<RegistryState>>,
    /// `None` for the volatile registry.
    log: Option<KafkaLog>,
    /// Serialises this process's writers (cross-process races are settled by the log).
    write_lock: Mutex<()>,
}

impl std::fmt::Debug for SchemaRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchemaRegistry")
            .field("persistent", &self.log.is_some())
            .finish_non_exhaustive()
    }
}

impl SchemaRegistry {
    /// Volatile registry (tests, quickstart without persistence). Ids start at 1 on every start,
    /// so data written with it cannot be decoded after a restart.
    pub fn in_memory() -> Arc<SchemaRegistry> {
        Arc::new(SchemaRegistry {
            state: Arc::new(RwLock::new(RegistryState::default())),
            log: None,
            write_lock: Mutex::new(()),
        })
    }

    /// Persistent registry stored in a compacted Kafka topic (normally `_schemas`).
    ///
    /// Creates the topic if missing (1 partition, `cleanup.policy=compact`, the given replication
    /// factor), reads it to the end before returning, and keeps following it in a background
    /// task so that several workers see the same ids. `client_config` is passed to rdkafka as is
    /// (`bootstrap.servers`, security settings, …). The follower stops when the registry is
    /// dropped.
    pub async fn with_kafka_log(
        client_config: &HashMap<String, String>,
        topic: &str,
        replication_factor: i32,
    ) -> Result<Arc<SchemaRegistry>, RegistryError> {
        let state = Arc::new(RwLock::new(RegistryState::default()));
        let log = KafkaLog::open(
            client_config,
            topic,
            replication_factor,
            Arc::clone(&state),
            STARTUP_TIMEOUT,
        )
        .await?;
        Ok(Arc::new(SchemaRegistry {
            state,
            log: Some(log),
            write_lock: Mutex::new(()),
        }))
    }

    /// Waits until this registry has applied everything in the log as of now (read-your-writes
    /// across workers). A no-op for the in-memory registry.
    pub async fn catch_up(&self) -> Result<(), RegistryError> {
        match &self.log {
            Some(log) => log.catch_up(WRITE_TIMEOUT).await,
            None => Ok(()),
        }
    }

    /// Appends a record and returns once it has been applied to our state.
    async fn append(&self, key: &LogKey, value: Option<Vec<u8>>) -> Result<(), RegistryError> {
        let key = key
            .to_bytes()
            .map_err(|e| RegistryError::Store(format!("encoding a log key: {e}")))?;
        match &self.log {
            None => {
                self.state.write().await.apply(&key, value.as_deref());
                Ok(())
            }
            Some(log) => {
                let offset = log.append(&key, value.as_deref()).await?;
                log.wait_until_applied(offset + 1, WRITE_TIMEOUT).await
            }
        }
    }

    async fn append_schema(&self, value: &SchemaValue) -> Result<(), RegistryError> {
        let key = LogKey::Schema {
            subject: value.subject.clone(),
            version: value.version,
        };
        let bytes = serde_json::to_vec(value)
            .map_err(|e| RegistryError::Store(format!("encoding a schema record: {e}")))?;
        self.append(&key, Some(bytes)).await
    }

    // ----------------------------------------------------------------------------------------
    // Schemas
    // ----------------------------------------------------------------------------------------

    /// Registers an Avro schema under a subject and returns its global id.
    ///
    /// An identical schema (same parsed form, whitespace and key order aside) already live in
    /// the subject returns its id without a new version; the same schema under another subject
    /// reuses its id. Otherwise the schema must satisfy the subject's compatibility level (409)
    /// and becomes version `last + 1`. With `normalize`, a *new* id stores the normalised text
    /// instead of the text as given (Confluent's `?normalize=true`); identity is always
    /// decided on the parsed form.
    pub async fn register(
        &self,
        subject: &str,
        schema: &str,
        normalize: bool,
    ) -> Result<u32, RegistryError> {
        let parsed = parse_avro(schema)?;
        let text = if normalize {
            parsed.identity.clone()
        } else {
            schema.to_string()
        };
        let _writer = self.write_lock.lock().await;
        for attempt in 1..=MAX_WRITE_ATTEMPTS {
            self.catch_up().await?;
            let plan = self
                .state
                .read()
                .await
                .plan_register(subject, &parsed, &text)?;
            let record = match plan {
                RegisterPlan::Existing { id } => return Ok(id),
                RegisterPlan::New(record) => record,
            };
            self.append_schema(&record).await?;
            let outcome = self
                .state
                .read()
                .await
                .outcome_of(&record, &parsed.identity);
            match outcome {
                WriteOutcome::Won => {
                    info!(
                        subject,
                        version = record.version,
                        id = record.id,
                        "registered schema"
                    );
                    return Ok(record.id);
                }
                WriteOutcome::LostTo(winner) => {
                    warn!(
                        subject,
                        version = record.version,
                        attempt,
                        "another worker registered this version first; re-asserting its record and retrying"
                    );
                    self.append_schema(&winner).await?;
                }
                WriteOutcome::Missing => {
                    warn!(
                        subject,
                        id = record.id,
                        attempt,
                        "another worker bound this id to a different schema first; retrying"
                    );
                }
            }
        }
        Err(RegistryError::Store(format!(
            "gave up registering a schema under '{subject}' after {MAX_WRITE_ATTEMPTS} attempts: other workers kept taking the chosen id or version"
        )))
    }

    /// The schema text of a global id (soft-deleted versions included: old data must stay
    /// decodable). 40403 if unknown.
    pub async fn schema_by_id(&self, id: u32) -> Result<String, RegistryError> {
        Ok(self.schema_and_type_by_id(id).await?.0)
    }

    /// Like [`schema_by_id`](Self::schema_by_id), plus the schema type if it is not Avro.
    ///
    /// On a miss we catch up once before answering: a producer on another worker may have just
    /// registered the id, and a decoder asking here must not fail for that.
    pub async fn schema_and_type_by_id(
        &self,
        id: u32,
    ) -> Result<(String, Option<String>), RegistryError> {
        if let Some(found) = self.state.read().await.schema_by_id(id) {
            return Ok(found);
        }
        if self.log.is_some() {
            self.catch_up().await?;
            if let Some(found) = self.state.read().await.schema_by_id(id) {
                return Ok(found);
            }
        }
        Err(RegistryError::SchemaNotFound(format!(
            "Schema {id} not found"
        )))
    }

    /// Live subjects, sorted.
    pub async fn subjects(&self) -> Vec<String> {
        self.state.read().await.subjects(false)
    }

    /// Subjects including those whose versions are all soft-deleted, sorted.
    pub async fn subjects_including_deleted(&self) -> Vec<String> {
        self.state.read().await.subjects(true)
    }

    /// Live version numbers of a subject, ascending; 40401 if none.
    pub async fn versions(&self, subject: &str) -> Result<Vec<u32>, RegistryError> {
        self.state.read().await.versions(subject, false)
    }

    /// Version numbers including soft-deleted ones; 40401 if none.
    pub async fn versions_including_deleted(
        &self,
        subject: &str,
    ) -> Result<Vec<u32>, RegistryError> {
        self.state.read().await.versions(subject, true)
    }

    /// One version of a subject (40401 subject not found, 40402 version not found).
    pub async fn version(
        &self,
        subject: &str,
        version: VersionSpec,
        include_deleted: bool,
    ) -> Result<SubjectVersion, RegistryError> {
        self.state
            .read()
            .await
            .subject_version(subject, version, include_deleted)
    }

    /// Which version of `subject` holds `schema` (40401 no subject, 40403 not registered there,
    /// 42201 invalid schema).
    pub async fn lookup(
        &self,
        subject: &str,
        schema: &str,
        include_deleted: bool,
    ) -> Result<SubjectVersion, RegistryError> {
        let parsed = parse_avro(schema)?;
        self.state
            .read()
            .await
            .lookup(subject, &parsed, include_deleted)
    }

    /// Subjects using an id (40403 if the id is unknown).
    pub async fn subjects_for_id(
        &self,
        id: u32,
        include_deleted: bool,
    ) -> Result<Vec<String>, RegistryError> {
        let mut subjects: Vec<String> = self
            .versions_for_id(id, include_deleted)
            .await?
            .into_iter()
            .map(|usage| usage.subject)
            .collect();
        subjects.dedup();
        Ok(subjects)
    }

    /// (subject, version) pairs using an id (40403 if the id is unknown).
    pub async fn versions_for_id(
        &self,
        id: u32,
        include_deleted: bool,
    ) -> Result<Vec<SubjectVersionRef>, RegistryError> {
        let state = self.state.read().await;
        if state.schema_by_id(id).is_none() {
            return Err(RegistryError::SchemaNotFound(format!(
                "Schema {id} not found"
            )));
        }
        Ok(state.usages_of_id(id, include_deleted))
    }

    /// Deletes every version of a subject and returns the deleted version numbers.
    ///
    /// Soft delete (the default) hides the versions but keeps their ids resolvable; permanent
    /// delete (only after a soft delete, 40405 otherwise) writes tombstones so compaction
    /// removes them for good.
    pub async fn delete_subject(
        &self,
        subject: &str,
        permanent: bool,
    ) -> Result<Vec<u32>, RegistryError> {
        let _writer = self.write_lock.lock().await;
        self.catch_up().await?;
        let (versions, records) = self
            .state
            .read()
            .await
            .plan_delete_subject(subject, permanent)?;
        for (key, value) in records {
            self.append_value(&key, value).await?;
        }
        info!(subject, permanent, ?versions, "deleted subject");
        Ok(versions)
    }

    /// Deletes one version of a subject and returns its number (soft unless `permanent`, which
    /// requires a soft delete first: 40407).
    pub async fn delete_version(
        &self,
        subject: &str,
        version: VersionSpec,
        permanent: bool,
    ) -> Result<u32, RegistryError> {
        let _writer = self.write_lock.lock().await;
        self.catch_up().await?;
        let (number, key, value) = self
            .state
            .read()
            .await
            .plan_delete_version(subject, version, permanent)?;
        self.append_value(&key, value).await?;
        info!(
            subject,
            version = number,
            permanent,
            "deleted schema version"
        );
        Ok(number)
    }

    async fn append_value(
        &self,
        key: &LogKey,
        value: Option<SchemaValue>,
    ) -> Result<(), RegistryError> {
        match value {
            Some(value) => self.append_schema(&value).await,
            None => self.append(key, None).await,
        }
    }

    // ----------------------------------------------------------------------------------------
    // Compatibility configuration
    // ----------------------------------------------------------------------------------------

    /// The global compatibility level (BACKWARD unless configured).
    pub async fn global_compatibility(&self) -> CompatibilityLevel {
        self.state.read().await.global_level()
    }

    /// Sets the global compatibility level.
    pub async fn set_global_compatibility(
        &self,
        level: CompatibilityLevel,
    ) -> Result<(), RegistryError> {
        self.write_config(None, Some(level)).await
    }

    /// Resets the global level to the default (BACKWARD) and returns the previous one.
    pub async fn delete_global_compatibility(&self) -> Result<CompatibilityLevel, RegistryError> {
        let _writer = self.write_lock.lock().await;
        self.catch_up().await?;
        let previous = self.state.read().await.global_level();
        self.write_config_locked(None, None).await?;
        Ok(previous)
    }

    /// The subject's own level, if it has one.
    pub async fn subject_compatibility(&self, subject: &str) -> Option<CompatibilityLevel> {
        self.state.read().await.subject_level(subject)
    }

    /// The level that governs a subject: its own, else the global one.
    pub async fn effective_compatibility(&self, subject: &str) -> CompatibilityLevel {
        self.state.read().await.effective_level(subject)
    }

    /// Sets a subject's own level (the subject need not exist yet, as in Confluent).
    pub async fn set_subject_compatibility(
        &self,
        subject: &str,
        level: CompatibilityLevel,
    ) -> Result<(), RegistryError> {
        self.write_config(Some(subject), Some(level)).await
    }

    /// Removes a subject's own level (it falls back to the global one) and returns the removed
    /// level; 40408 if it had none.
    pub async fn delete_subject_compatibility(
        &self,
        subject: &str,
    ) -> Result<CompatibilityLevel, RegistryError> {
        let _writer = self.write_lock.lock().await;
        self.catch_up().await?;
        let previous = self
            .state
            .read()
            .await
            .subject_level(subject)
            .ok_or_else(|| {
                RegistryError::SubjectLevelCompatibilityNotConfigured(subject.to_string())
            })?;
        self.write_config_locked(Some(subject), None).await?;
        Ok(previous)
    }

    async fn write_config(
        &self,
        subject: Option<&str>,
        level: Option<CompatibilityLevel>,
    ) -> Result<(), RegistryError> {
        let _writer = self.write_lock.lock().await;
        self.write_config_locked(subject, level).await
    }

    async fn write_config_locked(
        &self,
        subject: Option<&str>,
        level: Option<CompatibilityLevel>,
    ) -> Result<(), RegistryError> {
        let key = LogKey::Config {
            subject: subject.map(str::to_string),
        };
        let value = match level {
            Some(level) => Some(
                serde_json::to_vec(&ConfigValue {
                    compatibility_level: Some(level),
                })
                .map_err(|e| RegistryError::Store(format!("encoding a config record: {e}")))?,
            ),
            None => None,
        };
        self.append(&key, value).await?;
        info!(
            subject = subject.unwrap_or("<global>"),
            ?level,
            "compatibility level changed"
        );
        Ok(())
    }

    /// Would `schema` be accepted by `subject`? Against one version, the latest (all versions
    /// under a transitive level) or, with `version: None`, all versions as registration would.
    pub async fn test_compatibility(
        &self,
        subject: &str,
        version: Option<VersionSpec>,
        schema: &str,
    ) -> Result<CompatibilityReport, RegistryError> {
        let parsed = parse_avro(schema)?;
        self.state
            .read()
            .await
            .compatibility_report(subject, version, &parsed)
    }

    /// For tests: the Kafka plumbing, to provoke situations the mock cluster cannot produce.
    #[cfg(test)]
    pub(crate) fn kafka_log(&self) -> Option<&KafkaLog> {
        self.log.as_ref()
    }

    /// For tests: a dump of the whole state, to compare replicas.
    #[cfg(test)]
    pub(crate) async fn fingerprint(&self) -> String {
        self.state.read().await.fingerprint()
    }
}
