//! The worker: runs connectors' tasks, tracks their status, and answers the REST API through
//! the [`Herder`] (Kafka Connect's name for the component that owns connector lifecycle).

mod c_heap;
mod config;
mod config_store;
mod delivery;
mod dlq;
mod error;
mod errors;
mod herder;
mod offsets_api;
mod sink_batch;
mod sink_commits;
mod sink_runner;
mod source_runner;
mod standalone;
mod status;
mod task_env;
mod topic_creator;

pub use config::{
    config_def as worker_config_def, json_object_to_config, parse_properties, read_config_file,
    RegistryMode, WorkerConfig,
};
pub use error::HerderError;
pub use herder::{ConnectorInfo, Herder, PluginInfo, ServerInfo, TaskInfo};
pub use sink_runner::group_id;
pub use standalone::{Standalone, StartError};
pub use status::{ConnectorState, ConnectorStatus, State, TaskState};
pub use task_env::WorkerEnv;
