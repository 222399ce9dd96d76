//! Connectors created through the REST API, kept across restarts of a standalone worker, with
//! their target state (a paused connector stays paused).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::config::ConfigMap;
use crate::offsets::write_atomically;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TargetState {
    Started,
    Paused,
    Stopped,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoredConnector {
    pub name: String,
    pub config: ConfigMap,
    pub target: TargetState,
}

pub struct ConfigStore {
    path: Option<PathBuf>,
}

impl ConfigStore {
    pub fn new(path: Option<PathBuf>) -> Self {
        ConfigStore { path }
    }

    pub fn load(&self) -> Result<Vec<StoredConnector>, String> {
        let Some(path) = &self.path else {
            return Ok(Vec::new());
        };
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| format!("{}: corrupt: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    pub fn save(&self, connectors: &[StoredConnector]) -> Result<(), String> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let bytes = serde_json::to_vec_pretty(connectors).map_err(|e| e.to_string())?;
        write_atomically(path, &bytes).map_err(|e| format!("{}: {e}", path.display()))
    }
}
