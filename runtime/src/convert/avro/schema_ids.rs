//! Registry ids of the Connect schemas a converter has written, so each schema is registered
//! once per subject and the per-record lookup is one pointer-keyed hash probe.
//!
//! Connectors build a schema once and share its `Arc` across records, so the fast path keys on
//! `Arc::as_ptr`. The entry keeps the `Arc` alive, which keeps the address from being reused by
//! another schema. A pointer miss falls back to structural equality per subject, so a connector
//! that rebuilds equal schemas does not register again; the pointer table is bounded so such a
//! connector cannot grow it forever.

use std::collections::HashMap;
use std::sync::RwLock;

use crate::data::{Schema, SchemaRef};

/// Above this many distinct `Arc`s the pointer table is emptied (the structural table stays).
const MAX_POINTER_ENTRIES: usize = 4096;

#[derive(Default)]
pub(crate) struct SchemaIds {
    by_pointer: RwLock<HashMap<usize, PointerEntry>>,
    by_subject: RwLock<HashMap<String, Vec<(SchemaRef, u32)>>>,
}

struct PointerEntry {
    /// Holds the schema alive so its address stays unique.
    _schema: SchemaRef,
    /// (topic, id): one schema may be written to several topics.
    ids: Vec<(String, u32)>,
}

impl SchemaIds {
    /// The id of `schema` on `topic`, if known by pointer.
    pub(crate) fn by_pointer(&self, topic: &str, schema: &SchemaRef) -> Option<u32> {
        let table = self.by_pointer.read().ok()?;
        let entry = table.get(&pointer(schema))?;
        entry
            .ids
            .iter()
            .find(|(t, _)| t == topic)
            .map(|(_, id)| *id)
    }

    /// The id of a schema equal to `schema` already registered under `subject`; remembers it
    /// for `schema`'s pointer.
    pub(crate) fn by_structure(
        &self,
        topic: &str,
        subject: &str,
        schema: &SchemaRef,
    ) -> Option<u32> {
        let id = {
            let table = self.by_subject.read().ok()?;
            let known = table.get(subject)?;
            known
                .iter()
                .find(|(s, _)| same_schema(s, schema))
                .map(|(_, id)| *id)?
        };
        self.remember_pointer(topic, schema, id);
        Some(id)
    }

    /// Records a newly registered schema.
    pub(crate) fn insert(&self, topic: &str, subject: &str, schema: &SchemaRef, id: u32) {
        if let Ok(mut table) = self.by_subject.write() {
            let known = table.entry(subject.to_owned()).or_default();
            if !known.iter().any(|(s, _)| same_schema(s, schema)) {
                known.push((schema.clone(), id));
            }
        }
        self.remember_pointer(topic, schema, id);
    }

    fn remember_pointer(&self, topic: &str, schema: &SchemaRef, id: u32) {
        let Ok(mut table) = self.by_pointer.write() else {
            return;
        };
        if table.len() >= MAX_POINTER_ENTRIES && !table.contains_key(&pointer(schema)) {
            table.clear();
        }
        let entry = table
            .entry(pointer(schema))
            .or_insert_with(|| PointerEntry {
                _schema: schema.clone(),
                ids: Vec::new(),
            });
        if !entry.ids.iter().any(|(t, _)| t == topic) {
            entry.ids.push((topic.to_owned(), id));
        }
    }
}

fn pointer(schema: &SchemaRef) -> usize {
    std::sync::Arc::as_ptr(schema) as usize
}

fn same_schema(a: &SchemaRef, b: &SchemaRef) -> bool {
    std::sync::Arc::ptr_eq(a, b) || Schema::eq(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::SchemaBuilder;

    fn key_schema() -> SchemaRef {
        SchemaBuilder::structure()
            .name("k")
            .field("id", SchemaBuilder::int64())
            .build_ref()
    }

    #[test]
    fn pointer_hits_are_per_topic() {
        let ids = SchemaIds::default();
        let s = key_schema();
        ids.insert("t1", "t1-key", &s, 7);
        assert_eq!(ids.by_pointer("t1", &s), Some(7));
        assert_eq!(ids.by_pointer("t2", &s), None);
    }

    #[test]
    fn equal_schema_in_a_new_arc_is_found_structurally() {
        let ids = SchemaIds::default();
        ids.insert("t", "t-key", &key_schema(), 3);
        let fresh = key_schema();
        assert_eq!(ids.by_pointer("t", &fresh), None);
        assert_eq!(ids.by_structure("t", "t-key", &fresh), Some(3));
        assert_eq!(ids.by_pointer("t", &fresh), Some(3));
        assert_eq!(ids.by_structure("t", "other-key", &fresh), None);
    }
}
