//! Connector and task states as Kafka Connect reports them.

use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::connector::TaskProgress;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum State {
    Unassigned,
    Running,
    Paused,
    Stopped,
    Failed,
    Restarting,
}

/// The live state of one task or connector, shared between its runner and the REST API.
#[derive(Clone)]
pub struct StatusCell {
    inner: Arc<Mutex<(State, Option<String>)>>,
    pub progress: TaskProgress,
}

impl StatusCell {
    pub fn new(state: State) -> Self {
        StatusCell {
            inner: Arc::new(Mutex::new((state, None))),
            progress: TaskProgress::default(),
        }
    }

    pub fn set(&self, state: State) {
        if let Ok(mut g) = self.inner.lock() {
            *g = (state, None);
        }
    }

    /// FAILED with the error as the status `trace`.
    pub fn fail(&self, trace: impl Into<String>) {
        if let Ok(mut g) = self.inner.lock() {
            *g = (State::Failed, Some(trace.into()));
        }
    }

    pub fn get(&self) -> (State, Option<String>) {
        self.inner
            .lock()
            .map(|g| g.clone())
            .unwrap_or((State::Failed, Some("status lock poisoned".to_owned())))
    }

    pub fn state(&self) -> State {
        self.get().0
    }
}

/// `{"state", "worker_id", "version", "trace"?}` of a connector.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ConnectorState {
    pub state: State,
    pub worker_id: String,
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
}

/// `{"id", "state", "worker_id", "version", "trace"?}` of a task; `progress` is ours (snapshot
/// progress, reconnecting …), absent when there is nothing to say.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TaskState {
    pub id: u32,
    pub state: State,
    pub worker_id: String,
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<String>,
}

/// `GET /connectors/{name}/status`.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ConnectorStatus {
    pub name: String,
    pub connector: ConnectorState,
    pub tasks: Vec<TaskState>,
    #[serde(rename = "type")]
    pub connector_type: crate::connector::ConnectorType,
}
