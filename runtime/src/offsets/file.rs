use std::io::Write;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use super::memory::{apply, list, lookup, partition_key, OffsetTable};
use super::{OffsetError, OffsetStore};
use crate::record::{SourceOffset, SourcePartition};

/// Offsets in one JSON file, rewritten atomically on every store: written to a temporary file
/// in the same directory, fsynced, renamed over the old one, and the directory fsynced. A
/// crash at any moment leaves either the old or the new file, never a torn one.
pub struct FileOffsetStore {
    path: PathBuf,
    table: Mutex<OffsetTable>,
}

#[derive(Serialize, Deserialize)]
struct FileEntry {
    connector: String,
    partition: SourcePartition,
    offset: SourceOffset,
}

impl FileOffsetStore {
    /// Opens (or starts) the offset file at `path`.
    pub fn open(path: impl Into<PathBuf>) -> Result<FileOffsetStore, OffsetError> {
        let path = path.into();
        let err = |message: String| OffsetError::File {
            path: path.display().to_string(),
            message,
        };
        let mut table = OffsetTable::new();
        match std::fs::read(&path) {
            Ok(bytes) => {
                let entries: Vec<FileEntry> =
                    serde_json::from_slice(&bytes).map_err(|e| err(format!("corrupt: {e}")))?;
                for e in entries {
                    table
                        .entry(e.connector)
                        .or_default()
                        .insert(partition_key(&e.partition), (e.partition, e.offset));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
                }
            }
            Err(e) => return Err(err(e.to_string())),
        }
        Ok(FileOffsetStore {
            path,
            table: Mutex::new(table),
        })
    }

    fn write(&self, table: &OffsetTable) -> Result<(), OffsetError> {
        let entries: Vec<FileEntry> = table
            .iter()
            .flat_map(|(connector, m)| {
                m.values().map(move |(p, o)| FileEntry {
                    connector: connector.clone(),
                    partition: p.clone(),
                    offset: o.clone(),
                })
            })
            .collect();
        let bytes = serde_json::to_vec_pretty(&entries).map_err(|e| self.err(e.to_string()))?;
        write_atomically(&self.path, &bytes).map_err(|e| self.err(e.to_string()))
    }

    fn err(&self, message: String) -> OffsetError {
        OffsetError::File {
            path: self.path.display().to_string(),
            message,
        }
    }
}

/// Replaces `path` with `bytes` so that a crash leaves the old or the new content.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "offsets".to_owned());
    let tmp = dir.join(format!(".{file_name}.tmp"));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(dir)?.sync_all()
}

#[async_trait]
impl OffsetStore for FileOffsetStore {
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
        let mut table = self.table.lock().await;
        let mut next = table.clone();
        apply(&mut next, connector, offsets);
        self.write(&next)?;
        *table = next;
        Ok(())
    }

    async fn reset(&self, connector: &str) -> Result<(), OffsetError> {
        let mut table = self.table.lock().await;
        let mut next = table.clone();
        next.remove(connector);
        self.write(&next)?;
        *table = next;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(v: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
        v.as_object().cloned().expect("object")
    }

    #[tokio::test]
    async fn offsets_survive_reopening_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sub/connect.offsets");
        let p = map(serde_json::json!({"server": "db1"}));
        {
            let store = FileOffsetStore::open(&path).expect("open");
            store
                .put(
                    "c1",
                    &[(p.clone(), Some(map(serde_json::json!({"pos": 7}))))],
                )
                .await
                .expect("put");
        }
        let store = FileOffsetStore::open(&path).expect("reopen");
        let got = store.get("c1", &p).await.expect("get");
        assert_eq!(got, Some(map(serde_json::json!({"pos": 7}))));
        assert_eq!(store.get("c2", &p).await.expect("get"), None);
    }

    #[tokio::test]
    async fn partitions_match_regardless_of_key_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = FileOffsetStore::open(dir.path().join("o")).expect("open");
        let a = map(serde_json::json!({"a": 1, "b": 2}));
        let b = map(serde_json::json!({"b": 2, "a": 1}));
        store
            .put("c", &[(a, Some(map(serde_json::json!({"x": 1}))))])
            .await
            .expect("put");
        assert!(store.get("c", &b).await.expect("get").is_some());
    }

    #[tokio::test]
    async fn reset_forgets_only_that_connector() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("o");
        let store = FileOffsetStore::open(&path).expect("open");
        let p = map(serde_json::json!({"f": "x"}));
        let o = map(serde_json::json!({"position": 3}));
        store
            .put("a", &[(p.clone(), Some(o.clone()))])
            .await
            .expect("put");
        store
            .put("b", &[(p.clone(), Some(o.clone()))])
            .await
            .expect("put");
        store.reset("a").await.expect("reset");
        let reopened = FileOffsetStore::open(&path).expect("reopen");
        assert!(reopened.all("a").await.expect("all").is_empty());
        assert_eq!(reopened.all("b").await.expect("all").len(), 1);
    }

    #[test]
    fn a_corrupt_file_is_reported_with_its_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("o");
        std::fs::write(&path, b"{torn").expect("write");
        let err = FileOffsetStore::open(&path)
            .err()
            .expect("rejected")
            .to_string();
        assert!(err.contains(&path.display().to_string()), "{err}");
    }
}
