use std::collections::BTreeMap;

use async_trait::async_trait;
use tokio::sync::Mutex;

use super::{OffsetError, OffsetStore};
use crate::record::{SourceOffset, SourcePartition};

/// Offsets grouped by connector, partitions keyed by their canonical JSON text.
pub(super) type OffsetTable = BTreeMap<String, BTreeMap<String, (SourcePartition, SourceOffset)>>;

pub(super) fn partition_key(partition: &SourcePartition) -> String {
    // serde_json maps keep insertion order; sort keys so equal maps give equal text.
    let sorted: BTreeMap<&String, &serde_json::Value> = partition.iter().collect();
    serde_json::to_string(&sorted).unwrap_or_default()
}

pub(super) fn lookup(
    table: &OffsetTable,
    connector: &str,
    partition: &SourcePartition,
) -> Option<SourceOffset> {
    table
        .get(connector)
        .and_then(|m| m.get(&partition_key(partition)))
        .map(|(_, o)| o.clone())
}

pub(super) fn list(table: &OffsetTable, connector: &str) -> Vec<(SourcePartition, SourceOffset)> {
    table
        .get(connector)
        .map(|m| m.values().cloned().collect())
        .unwrap_or_default()
}

pub(super) fn apply(
    table: &mut OffsetTable,
    connector: &str,
    offsets: &[(SourcePartition, Option<SourceOffset>)],
) {
    let entry = table.entry(connector.to_owned()).or_default();
    for (partition, offset) in offsets {
        let key = partition_key(partition);
        match offset {
            Some(o) => {
                entry.insert(key, (partition.clone(), o.clone()));
            }
            None => {
                entry.remove(&key);
            }
        }
    }
}

/// Volatile offsets, for tests and the quickstart.
#[derive(Default)]
pub struct MemoryOffsetStore {
    table: Mutex<OffsetTable>,
}

impl MemoryOffsetStore {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl OffsetStore for MemoryOffsetStore {
    async fn get(
        &self,
        connector: &str,
        partition: &SourcePartition,
    ) -> Result<Option<SourceOffset>, OffsetError> {
        Ok(lookup(&*self.table.lock().await, connector, partition))
    }

    async fn all(
        &self,
        connector: &str,
    ) -> Result<Vec<(SourcePartition, SourceOffset)>, OffsetError> {
        Ok(list(&*self.table.lock().await, connector))
    }

    async fn put(
        &self,
        connector: &str,
        offsets: &[(SourcePartition, Option<SourceOffset>)],
    ) -> Result<(), OffsetError> {
        apply(&mut *self.table.lock().await, connector, offsets);
        Ok(())
    }

    async fn reset(&self, connector: &str) -> Result<(), OffsetError> {
        self.table.lock().await.remove(connector);
        Ok(())
    }
}
