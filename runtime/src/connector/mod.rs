//! The seams between the runtime and connectors.
//!
//! A connector plugin ([`Connector`]) validates its config and splits the work into task
//! configs; each task is a [`SourceTask`] or a [`SinkTask`] that the worker runs. Adding a
//! connector is one folder in `connectors/` implementing these, plus one line in its registry.

mod common;
mod error;
mod plugin;
mod sink;
mod source;
pub mod topic_creation;

pub use common::{
    common_config_def, sink_config_def, source_config_def, ConnectorSettings,
    DeadLetterQueueSettings, ErrorHandling, SinkSettings, SourceSettings,
};
pub use error::TaskError;
pub use plugin::{Connector, ConnectorType, Plugins, TaskImpl};
pub use sink::{
    ErrantRecordReporter, Prepared, SinkPreparer, SinkTask, SinkTaskContext, TopicPartition,
};
pub use source::{OffsetReader, SourceTask, SourceTaskContext, TaskProgress};
