//! Where source offsets live between runs. Standalone workers keep them in a local file
//! ([`FileOffsetStore`], Kafka Connect's `offset.storage.file.filename`); the trait is the seam
//! for a Kafka-topic store in distributed mode.

mod file;
mod memory;

use async_trait::async_trait;
use thiserror::Error;

pub use file::{write_atomically, FileOffsetStore};
pub use memory::MemoryOffsetStore;

use crate::record::{SourceOffset, SourcePartition};

#[derive(Debug, Error)]
pub enum OffsetError {
    #[error("offset file {path}: {message}")]
    File { path: String, message: String },
}

/// Offsets of every source connector, by connector name and source partition.
#[async_trait]
pub trait OffsetStore: Send + Sync {
    async fn get(
        &self,
        connector: &str,
        partition: &SourcePartition,
    ) -> Result<Option<SourceOffset>, OffsetError>;

    async fn all(
        &self,
        connector: &str,
    ) -> Result<Vec<(SourcePartition, SourceOffset)>, OffsetError>;

    /// Stores offsets durably before returning; `None` removes a partition's offset.
    async fn put(
        &self,
        connector: &str,
        offsets: &[(SourcePartition, Option<SourceOffset>)],
    ) -> Result<(), OffsetError>;

    /// Forgets every offset of a connector (`DELETE /connectors/{name}/offsets`).
    async fn reset(&self, connector: &str) -> Result<(), OffsetError>;
}
