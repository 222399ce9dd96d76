//! The registry's state machine: everything it knows, derived *only* from log records applied in
//! log order.
//!
//! Several workers share one log. Each keeps its own copy of this state, and because applying is
//! deterministic (no clocks, no local knowledge), two workers that have read the same prefix of
//! the log are in the same state. That is what makes the log the arbiter of write races:
//!
//! * **first record wins**: a SCHEMA record for a (subject, version) that already holds a
//!   different schema, or that claims an id already bound to a different schema, is ignored;
//! * everything else (soft deletes, tombstones, compatibility levels) is last-writer-wins.
//!
//! Writers plan against this state ([`RegistryState::plan_register`] etc.), append, read their own
//! record back and check whether it took effect (see `store.rs`).
//!
//! This module does no I/O; it is exercised directly by the in-memory registry.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use apache_avro::Schema;

use super::avro::{identity_for_log, ParsedSchema};
use super::compatibility::{self, PreviousVersion};
use super::error::RegistryError;
use super::log_record::{ConfigValue, LogKey, SchemaValue};
use super::model::{
    CompatibilityLevel, CompatibilityReport, SubjectVersion, SubjectVersionRef, VersionSpec, AVRO,
};

/// One (subject, version) as the log defines it.
#[derive(Debug, Clone, PartialEq)]
struct VersionEntry {
    id: u32,
    /// Text of this record (for ids we wrote, the text first registered under the id).
    schema: String,
    schema_type: Option<String>,
    references: Option<serde_json::Value>,
    deleted: bool,
}

/// What an id stands for. Created by the first record that uses the id.
#[derive(Debug, Clone)]
struct IdEntry {
    /// The text first registered under this id; `/schemas/ids/{id}` returns it.
    schema: String,
    schema_type: Option<String>,
    /// Identity key; a record claiming this id with another identity is ignored.
    identity: String,
    /// Parsed schema for compatibility checks (`None` for schemas we cannot parse).
    parsed: Option<Arc<Schema>>,
    /// SCHEMA records (soft-deleted or not) that use the id; zero after permanent deletes,
    /// which makes the id unresolvable, as in Confluent.
    uses: usize,
}

/// What applying one record did; `Ignored` explains why (lost a race, malformed, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Applied {
    /// The state changed (or the record confirmed what was there).
    Accepted,
    /// The record had no effect.
    Ignored(String),
}

/// Result of planning a registration.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RegisterPlan {
    /// The schema already is a live version of the subject.
    Existing {
        /// Its id.
        id: u32,
    },
    /// Append this record.
    New(SchemaValue),
}

/// After reading our own record back: did it take effect?
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum WriteOutcome {
    /// The (subject, version) holds our schema under our id.
    Won,
    /// Another schema holds the (subject, version); here is its current record.
    LostTo(SchemaValue),
    /// The (subject, version) is empty: our id was already bound to another schema.
    Missing,
}

/// Deleted version numbers, and the records (value `None` = tombstone) that delete them.
pub(crate) type DeletePlan = (Vec<u32>, Vec<(LogKey, Option<SchemaValue>)>);

/// Everything the registry knows. See the module docs for the apply rules.
#[derive(Debug, Default)]
pub(crate) struct RegistryState {
    subjects: BTreeMap<String, BTreeMap<u32, VersionEntry>>,
    ids: BTreeMap<u32, IdEntry>,
    /// First id registered for each identity; new registrations of the same schema reuse it.
    by_identity: HashMap<String, u32>,
    /// Highest id ever applied; new ids are `max_id + 1`.
    max_id: u32,
    global_level: Option<CompatibilityLevel>,
    subject_levels: BTreeMap<String, CompatibilityLevel>,
}

impl RegistryState {
    // ----------------------------------------------------------------------------------------
    // Applying records
    // ----------------------------------------------------------------------------------------

    /// Applies one log record (key bytes, value bytes or `None` for a tombstone).
    pub(crate) fn apply(&mut self, key: &[u8], value: Option<&[u8]>) -> Applied {
        let key = match LogKey::parse(key) {
            Ok(key) => key,
            Err(e) => return Applied::Ignored(format!("unreadable key: {e}")),
        };
        match key {
            LogKey::Schema { subject, version } => match value {
                None => self.apply_schema_tombstone(&subject, version),
                Some(bytes) => match serde_json::from_slice::<SchemaValue>(bytes) {
                    Ok(value) if value.subject == subject && value.version == version => {
                        self.apply_schema(value)
                    }
                    Ok(value) => Applied::Ignored(format!(
                        "SCHEMA value for {}/{} under key {subject}/{version}",
                        value.subject, value.version
                    )),
                    Err(e) => Applied::Ignored(format!("unreadable SCHEMA value: {e}")),
                },
            },
            LogKey::Config { subject } => {
                let level = match value {
                    None => None,
                    Some(bytes) => match serde_json::from_slice::<ConfigValue>(bytes) {
                        Ok(config) => config.compatibility_level,
                        Err(e) => return Applied::Ignored(format!("unreadable CONFIG value: {e}")),
                    },
                };
                match (subject, level) {
                    (None, level) => self.global_level = level,
                    (Some(subject), Some(level)) => {
                        self.subject_levels.insert(subject, level);
                    }
                    (Some(subject), None) => {
                        self.subject_levels.remove(&subject);
                    }
                }
                Applied::Accepted
            }
            LogKey::Noop => Applied::Ignored("NOOP marker".to_string()),
            LogKey::Other(keytype) => Applied::Ignored(format!("key type {keytype} not used")),
        }
    }

    fn apply_schema(&mut self, value: SchemaValue) -> Applied {
        let (identity, parsed) = identity_for_log(value.schema_type.as_deref(), &value.schema);
        if let Some(existing) = self.ids.get(&value.id) {
            if existing.identity != identity {
                return Applied::Ignored(format!(
                    "id {} is already bound to a different schema",
                    value.id
                ));
            }
        }
        let versions = self.subjects.entry(value.subject.clone()).or_default();
        if let Some(entry) = versions.get_mut(&value.version) {
            if entry.id != value.id {
                return Applied::Ignored(format!(
                    "{}/{} already holds id {}",
                    value.subject, value.version, entry.id
                ));
            }
            // Same schema, same id: only the soft-delete flag can change, and never back to
            // live (Confluent has no "undelete"; re-registering creates a new version).
            entry.deleted |= value.deleted;
            return Applied::Accepted;
        }
        versions.insert(
            value.version,
            VersionEntry {
                id: value.id,
                schema: value.schema.clone(),
                schema_type: value.schema_type.clone(),
                references: value.references.clone(),
                deleted: value.deleted,
            },
        );
        self.max_id = self.max_id.max(value.id);
        self.by_identity.entry(identity.clone()).or_insert(value.id);
        self.ids
            .entry(value.id)
            .or_insert_with(|| IdEntry {
                schema: value.schema,
                schema_type: value.schema_type,
                identity,
                parsed,
                uses: 0,
            })
            .uses += 1;
        Applied::Accepted
    }

    fn apply_schema_tombstone(&mut self, subject: &str, version: u32) -> Applied {
        let Some(versions) = self.subjects.get_mut(subject) else {
            return Applied::Ignored(format!("tombstone for unknown {subject}/{version}"));
        };
        let Some(entry) = versions.remove(&version) else {
            return Applied::Ignored(format!("tombstone for unknown {subject}/{version}"));
        };
        if versions.is_empty() {
            // Like Confluent: after a permanent delete, versions start again at 1.
            self.subjects.remove(subject);
        }
        if let Some(id) = self.ids.get_mut(&entry.id) {
            id.uses = id.uses.saturating_sub(1);
        }
        Applied::Accepted
    }

    // ----------------------------------------------------------------------------------------
    // Reading
    // ----------------------------------------------------------------------------------------

    fn versions_of(
        &self,
        subject: &str,
        include_deleted: bool,
    ) -> impl Iterator<Item = (u32, &VersionEntry)> {
        self.subjects
            .get(subject)
            .into_iter()
            .flat_map(|versions| versions.iter())
            .filter(move |(_, entry)| include_deleted || !entry.deleted)
            .map(|(version, entry)| (*version, entry))
    }

    /// Subjects with at least one (live, unless `include_deleted`) version, sorted.
    pub(crate) fn subjects(&self, include_deleted: bool) -> Vec<String> {
        self.subjects
            .iter()
            .filter(|(_, versions)| include_deleted || versions.values().any(|e| !e.deleted))
            .map(|(subject, _)| subject.clone())
            .collect()
    }

    /// Version numbers of a subject; 40401 if it has none.
    pub(crate) fn versions(
        &self,
        subject: &str,
        include_deleted: bool,
    ) -> Result<Vec<u32>, RegistryError> {
        let versions: Vec<u32> = self
            .versions_of(subject, include_deleted)
            .map(|(version, _)| version)
            .collect();
        if versions.is_empty() {
            return Err(RegistryError::SubjectNotFound(subject.to_string()));
        }
        Ok(versions)
    }

    fn resolve(
        &self,
        subject: &str,
        spec: VersionSpec,
        include_deleted: bool,
    ) -> Result<(u32, &VersionEntry), RegistryError> {
        let mut versions = self.versions_of(subject, include_deleted).peekable();
        if versions.peek().is_none() {
            return Err(RegistryError::SubjectNotFound(subject.to_string()));
        }
        let found = match spec {
            VersionSpec::Latest => versions.last(),
            VersionSpec::Number(n) => versions.find(|(version, _)| *version == n),
        };
        found.ok_or_else(|| RegistryError::VersionNotFound {
            subject: subject.to_string(),
            version: spec.to_string(),
        })
    }

    fn view(&self, subject: &str, version: u32, entry: &VersionEntry) -> SubjectVersion {
        SubjectVersion {
            subject: subject.to_string(),
            version,
            id: entry.id,
            schema: entry.schema.clone(),
            schema_type: entry
                .schema_type
                .clone()
                .filter(|t| !t.eq_ignore_ascii_case(AVRO)),
        }
    }

    /// One version of a subject (40401 / 40402).
    pub(crate) fn subject_version(
        &self,
        subject: &str,
        spec: VersionSpec,
        include_deleted: bool,
    ) -> Result<SubjectVersion, RegistryError> {
        let (version, entry) = self.resolve(subject, spec, include_deleted)?;
        Ok(self.view(subject, version, entry))
    }

    /// The schema text (and non-Avro type) of an id that is still used by some version,
    /// soft-deleted versions included (decoders must be able to read old data).
    pub(crate) fn schema_by_id(&self, id: u32) -> Option<(String, Option<String>)> {
        self.ids
            .get(&id)
            .filter(|entry| entry.uses > 0)
            .map(|entry| {
                (
                    entry.schema.clone(),
                    entry
                        .schema_type
                        .clone()
                        .filter(|t| !t.eq_ignore_ascii_case(AVRO)),
                )
            })
    }

    /// (subject, version) pairs using an id, sorted.
    pub(crate) fn usages_of_id(&self, id: u32, include_deleted: bool) -> Vec<SubjectVersionRef> {
        self.subjects
            .iter()
            .flat_map(|(subject, versions)| {
                versions
                    .iter()
                    .filter(move |(_, e)| e.id == id && (include_deleted || !e.deleted))
                    .map(move |(version, _)| SubjectVersionRef {
                        subject: subject.clone(),
                        version: *version,
                    })
            })
            .collect()
    }

    /// Which version of the subject holds this schema (40401 / 40403).
    pub(crate) fn lookup(
        &self,
        subject: &str,
        parsed: &ParsedSchema,
        include_deleted: bool,
    ) -> Result<SubjectVersion, RegistryError> {
        if self.versions_of(subject, include_deleted).next().is_none() {
            return Err(RegistryError::SubjectNotFound(subject.to_string()));
        }
        self.versions_of(subject, include_deleted)
            .filter(|(_, entry)| self.identity_of(entry.id) == Some(parsed.identity.as_str()))
            .last()
            .map(|(version, entry)| self.view(subject, version, entry))
            .ok_or_else(|| RegistryError::SchemaNotFound("Schema not found".to_string()))
    }

    fn identity_of(&self, id: u32) -> Option<&str> {
        self.ids.get(&id).map(|entry| entry.identity.as_str())
    }

    /// The level that applies to a subject: its own, else the global one, else BACKWARD.
    pub(crate) fn effective_level(&self, subject: &str) -> CompatibilityLevel {
        self.subject_levels
            .get(subject)
            .copied()
            .unwrap_or_else(|| self.global_level())
    }

    /// The global level (BACKWARD unless configured).
    pub(crate) fn global_level(&self) -> CompatibilityLevel {
        self.global_level.unwrap_or_default()
    }

    /// The subject's own level, if it has one.
    pub(crate) fn subject_level(&self, subject: &str) -> Option<CompatibilityLevel> {
        self.subject_levels.get(subject).copied()
    }

    /// The full record currently stored for (subject, version).
    pub(crate) fn schema_value(&self, subject: &str, version: u32) -> Option<SchemaValue> {
        let entry = self.subjects.get(subject)?.get(&version)?;
        Some(SchemaValue {
            subject: subject.to_string(),
            version,
            id: entry.id,
            schema: entry.schema.clone(),
            schema_type: entry.schema_type.clone(),
            references: entry.references.clone(),
            deleted: entry.deleted,
        })
    }

    // ----------------------------------------------------------------------------------------
    // Planning writes
    // ----------------------------------------------------------------------------------------

    fn previous_versions(&self, subject: &str) -> Vec<(u32, Option<Arc<Schema>>)> {
        self.versions_of(subject, false)
            .map(|(version, entry)| {
                let parsed = self.ids.get(&entry.id).and_then(|id| id.parsed.clone());
                (version, parsed)
            })
            .collect()
    }

    /// Decides what registering `parsed` (text `text`) under `subject` means right now.
    pub(crate) fn plan_register(
        &self,
        subject: &str,
        parsed: &ParsedSchema,
        text: &str,
    ) -> Result<RegisterPlan, RegistryError> {
        if let Some((_, entry)) = self
            .versions_of(subject, false)
            .find(|(_, entry)| self.identity_of(entry.id) == Some(parsed.identity.as_str()))
        {
            return Ok(RegisterPlan::Existing { id: entry.id });
        }

        let level = self.effective_level(subject);
        let previous = self.previous_versions(subject);
        let details = compatibility::check(level, &parsed.schema, &as_previous(&previous));
        if !details.is_empty() {
            return Err(RegistryError::Incompatible {
                subject: subject.to_string(),
                details,
            });
        }

        let (id, schema) = match self.by_identity.get(&parsed.identity) {
            Some(id) => {
                let text = self
                    .ids
                    .get(id)
                    .map(|entry| entry.schema.clone())
                    .unwrap_or_else(|| text.to_string());
                (*id, text)
            }
            None => {
                let id = self
                    .max_id
                    .checked_add(1)
                    .ok_or_else(|| RegistryError::Store("schema id space exhausted".to_string()))?;
                (id, text.to_string())
            }
        };
        // Soft-deleted versions keep their numbers, so the next version is above them too.
        let version = self
            .subjects
            .get(subject)
            .and_then(|versions| versions.keys().next_back())
            .map_or(1, |last| last + 1);
        Ok(RegisterPlan::New(SchemaValue {
            subject: subject.to_string(),
            version,
            id,
            schema,
            schema_type: None,
            references: None,
            deleted: false,
        }))
    }

    /// After our record for `written` was applied: did it take effect?
    pub(crate) fn outcome_of(&self, written: &SchemaValue, identity: &str) -> WriteOutcome {
        match self.schema_value(&written.subject, written.version) {
            Some(current)
                if current.id == written.id && self.identity_of(current.id) == Some(identity) =>
            {
                WriteOutcome::Won
            }
            Some(current) => WriteOutcome::LostTo(current),
            None => WriteOutcome::Missing,
        }
    }

    /// Compatibility of `parsed` with the subject: against all live versions (`None`, and
    /// `Latest` under a transitive level), or the latest, or one given version.
    pub(crate) fn compatibility_report(
        &self,
        subject: &str,
        spec: Option<VersionSpec>,
        parsed: &ParsedSchema,
    ) -> Result<CompatibilityReport, RegistryError> {
        let previous = self.previous_versions(subject);
        if previous.is_empty() && spec.is_some() {
            return Err(RegistryError::SubjectNotFound(subject.to_string()));
        }
        let against: Vec<(u32, Option<Arc<Schema>>)> = match spec {
            None | Some(VersionSpec::Latest) => previous,
            Some(VersionSpec::Number(n)) => {
                let chosen: Vec<_> = previous.into_iter().filter(|(v, _)| *v == n).collect();
                if chosen.is_empty() {
                    return Err(RegistryError::VersionNotFound {
                        subject: subject.to_string(),
                        version: n.to_string(),
                    });
                }
                chosen
            }
        };
        let level = self.effective_level(subject);
        let messages = compatibility::check(level, &parsed.schema, &as_previous(&against));
        Ok(CompatibilityReport {
            is_compatible: messages.is_empty(),
            messages,
        })
    }

    /// Records that soft- or permanently delete a subject, and the versions they delete.
    pub(crate) fn plan_delete_subject(
        &self,
        subject: &str,
        permanent: bool,
    ) -> Result<DeletePlan, RegistryError> {
        let all: Vec<(u32, &VersionEntry)> = self.versions_of(subject, true).collect();
        if all.is_empty() {
            return Err(RegistryError::SubjectNotFound(subject.to_string()));
        }
        let live: Vec<u32> = all
            .iter()
            .filter(|(_, e)| !e.deleted)
            .map(|(v, _)| *v)
            .collect();
        let key = |version| LogKey::Schema {
            subject: subject.to_string(),
            version,
        };
        if permanent {
            if !live.is_empty() {
                return Err(RegistryError::SubjectNotSoftDeleted(subject.to_string()));
            }
            let versions: Vec<u32> = all.iter().map(|(v, _)| *v).collect();
            let records = versions.iter().map(|v| (key(*v), None)).collect();
            return Ok((versions, records));
        }
        if live.is_empty() {
            return Err(RegistryError::SubjectSoftDeleted(subject.to_string()));
        }
        let records = live
            .iter()
            .filter_map(|v| {
                let mut value = self.schema_value(subject, *v)?;
                value.deleted = true;
                Some((key(*v), Some(value)))
            })
            .collect();
        Ok((live, records))
    }

    /// The record that soft- or permanently deletes one version, and that version.
    pub(crate) fn plan_delete_version(
        &self,
        subject: &str,
        spec: VersionSpec,
        permanent: bool,
    ) -> Result<(u32, LogKey, Option<SchemaValue>), RegistryError> {
        // A permanent delete targets soft-deleted versions, so it must see them; an explicit
        // number must see them too, to answer "already soft-deleted" (40406) rather than 40402.
        let see_deleted = permanent || matches!(spec, VersionSpec::Number(_));
        let (version, entry) = self.resolve(subject, spec, see_deleted)?;
        let key = LogKey::Schema {
            subject: subject.to_string(),
            version,
        };
        if permanent {
            if !entry.deleted {
                return Err(RegistryError::VersionNotSoftDeleted {
                    subject: subject.to_string(),
                    version,
                });
            }
            return Ok((version, key, None));
        }
        if entry.deleted {
            return Err(RegistryError::VersionSoftDeleted {
                subject: subject.to_string(),
                version,
            });
        }
        let mut value =
            self.schema_value(subject, version)
                .ok_or_else(|| RegistryError::VersionNotFound {
                    subject: subject.to_string(),
                    version: version.to_string(),
                })?;
        value.deleted = true;
        Ok((version, key, Some(value)))
    }

    /// For tests: a comparable dump of everything, to prove two replicas agree.
    #[cfg(test)]
    pub(crate) fn fingerprint(&self) -> String {
        let subjects: Vec<String> = self
            .subjects
            .iter()
            .flat_map(|(s, versions)| {
                versions.iter().map(move |(v, e)| {
                    format!("{s}/{v}=id{}:{}:deleted={}", e.id, e.schema, e.deleted)
                })
            })
            .collect();
        format!(
            "{subjects:?} max_id={} global={:?} subjects={:?}",
            self.max_id, self.global_level, self.subject_levels
        )
    }
}

fn as_previous(versions: &[(u32, Option<Arc<Schema>>)]) -> Vec<PreviousVersion<'_>> {
    versions
        .iter()
        .map(|(version, schema)| PreviousVersion {
            version: *version,
            schema: schema.as_deref(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::avro::parse_avro;

    fn record(subject: &str, version: u32, id: u32, schema: &str, deleted: bool) -> Vec<u8> {
        serde_json::to_vec(&SchemaValue {
            subject: subject.into(),
            version,
            id,
            schema: schema.into(),
            schema_type: None,
            references: None,
            deleted,
        })
        .unwrap_or_default()
    }

    fn key(subject: &str, version: u32) -> Vec<u8> {
        LogKey::Schema {
            subject: subject.into(),
            version,
        }
        .to_bytes()
        .unwrap_or_default()
    }

    #[test]
    fn first_record_for_a_version_wins() {
        let mut state = RegistryState::default();
        assert_eq!(
            state.apply(&key("s", 1), Some(&record("s", 1, 1, r#""string""#, false))),
            Applied::Accepted
        );
        assert!(matches!(
            state.apply(&key("s", 1), Some(&record("s", 1, 2, r#""long""#, false))),
            Applied::Ignored(_)
        ));
        assert_eq!(
            state.schema_by_id(1).map(|s| s.0),
            Some(r#""string""#.into())
        );
        assert_eq!(state.schema_by_id(2), None);
    }

    #[test]
    fn an_id_bound_to_another_schema_is_not_rebound() {
        let mut state = RegistryState::default();
        state.apply(&key("a", 1), Some(&record("a", 1, 1, r#""string""#, false)));
        assert!(matches!(
            state.apply(&key("b", 1), Some(&record("b", 1, 1, r#""long""#, false))),
            Applied::Ignored(_)
        ));
        assert_eq!(state.subjects(false), vec!["a".to_string()]);
    }

    #[test]
    fn the_same_schema_may_share_an_id_across_subjects() {
        let mut state = RegistryState::default();
        state.apply(&key("a", 1), Some(&record("a", 1, 1, r#""string""#, false)));
        assert_eq!(
            state.apply(
                &key("b", 1),
                Some(&record("b", 1, 1, r#" "string" "#, false))
            ),
            Applied::Accepted
        );
        assert_eq!(state.usages_of_id(1, false).len(), 2);
    }

    #[test]
    fn a_soft_delete_cannot_be_undone_by_a_stale_rewrite() {
        let mut state = RegistryState::default();
        state.apply(&key("a", 1), Some(&record("a", 1, 1, r#""string""#, false)));
        state.apply(&key("a", 1), Some(&record("a", 1, 1, r#""string""#, true)));
        state.apply(&key("a", 1), Some(&record("a", 1, 1, r#""string""#, false)));
        assert!(state.subjects(false).is_empty());
        assert_eq!(state.subjects(true), vec!["a".to_string()]);
    }

    #[test]
    fn tombstones_remove_versions_and_unresolve_unused_ids() {
        let mut state = RegistryState::default();
        state.apply(&key("a", 1), Some(&record("a", 1, 1, r#""string""#, true)));
        state.apply(&key("a", 1), None);
        assert!(state.subjects(true).is_empty());
        assert_eq!(state.schema_by_id(1), None);
    }

    #[test]
    fn malformed_records_are_skipped() {
        let mut state = RegistryState::default();
        assert!(matches!(
            state.apply(b"nope", Some(b"{}")),
            Applied::Ignored(_)
        ));
        assert!(matches!(
            state.apply(&key("a", 1), Some(b"not json")),
            Applied::Ignored(_)
        ));
        assert!(matches!(
            state.apply(&key("a", 2), Some(&record("a", 1, 1, r#""string""#, false))),
            Applied::Ignored(_)
        ));
    }

    #[test]
    fn new_versions_number_above_soft_deleted_ones() -> Result<(), RegistryError> {
        let mut state = RegistryState::default();
        state.apply(&key("a", 1), Some(&record("a", 1, 1, r#""string""#, true)));
        let parsed = parse_avro(r#""string""#)?;
        match state.plan_register("a", &parsed, r#""string""#)? {
            RegisterPlan::New(value) => {
                assert_eq!((value.version, value.id), (2, 1));
            }
            other => panic!("expected a new version, got {other:?}"),
        }
        Ok(())
    }
}
