//! Processors (Kafka Connect's single message transforms): a chain of functions applied to
//! every record between a source and Kafka, or between Kafka and a sink.
//!
//! No processor ships yet; the chain is built from the `transforms` key so that configs using
//! it fail loudly (naming the transform) instead of silently running without it.

use std::sync::Arc;

use crate::config::{ConfigError, ConfigMap};
use crate::record::{SinkRecord, SourceRecord};

/// One transformation. Returning `None` drops the record.
pub trait Processor: Send + Sync {
    fn apply_source(&self, record: SourceRecord) -> Option<SourceRecord> {
        Some(record)
    }
    fn apply_sink(&self, record: SinkRecord) -> Option<SinkRecord> {
        Some(record)
    }
}

/// The processors of one connector, in configured order.
#[derive(Clone, Default)]
pub struct ProcessorChain {
    processors: Vec<Arc<dyn Processor>>,
}

impl ProcessorChain {
    /// Builds the chain of `aliases` (the connector's `transforms`), each of type
    /// `transforms.<alias>.type` in `config`.
    pub fn new(aliases: &[String], config: &ConfigMap) -> Result<ProcessorChain, ConfigError> {
        let mut processors = Vec::new();
        for alias in aliases {
            let key = format!("transforms.{alias}.type");
            let Some(class) = config.get(&key) else {
                return Err(ConfigError::Missing { key });
            };
            processors.push(build(&key, class)?);
        }
        Ok(ProcessorChain { processors })
    }

    pub fn is_empty(&self) -> bool {
        self.processors.is_empty()
    }

    pub fn source(&self, record: SourceRecord) -> Option<SourceRecord> {
        self.processors
            .iter()
            .try_fold(record, |r, p| p.apply_source(r))
    }

    pub fn sink(&self, record: SinkRecord) -> Option<SinkRecord> {
        self.processors
            .iter()
            .try_fold(record, |r, p| p.apply_sink(r))
    }
}

/// The registry of processor types. Empty for now: adding one is one match arm.
fn build(key: &str, class: &str) -> Result<Arc<dyn Processor>, ConfigError> {
    Err(ConfigError::invalid(
        key,
        class,
        "no such transformation is available in this version of Tributary",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_transforms_is_an_empty_chain() {
        let chain = ProcessorChain::new(&[], &ConfigMap::new()).expect("empty chain");
        assert!(chain.is_empty());
    }

    #[test]
    fn unknown_transform_names_its_key() {
        let config: ConfigMap = [
            ("transforms".to_owned(), "unwrap".to_owned()),
            (
                "transforms.unwrap.type".to_owned(),
                "io.example.Nope".to_owned(),
            ),
        ]
        .into();
        let err = ProcessorChain::new(&["unwrap".to_owned()], &config)
            .err()
            .expect("rejected");
        assert_eq!(err.key(), Some("transforms.unwrap.type"));
    }

    #[test]
    fn transform_without_type_is_missing() {
        let config: ConfigMap = [("transforms".to_owned(), "x".to_owned())].into();
        let err = ProcessorChain::new(&["x".to_owned()], &config)
            .err()
            .expect("rejected");
        assert_eq!(err.key(), Some("transforms.x.type"));
    }
}
