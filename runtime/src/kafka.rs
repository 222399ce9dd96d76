//! Kafka client settings shared by everything a worker creates (producers, consumers, admin
//! clients); topics probed and created as Kafka Connect does ([`topics`]); the in-process Kafka
//! of the quickstart ([`in_process`]).

pub mod in_process;
pub mod topics;

pub use in_process::InProcessKafka;
pub use topics::{Creation, NewTopicSpec, TopicAdmin, TopicError};

use std::collections::BTreeMap;

use rdkafka::config::ClientConfig;
use rdkafka::message::{BorrowedMessage, Headers as _, Message as _};

use crate::config::{redact, ConfigMap};
use crate::record::Headers;

/// Worker-level client settings: `bootstrap.servers`, security settings that every client
/// needs (`security.protocol`, `ssl.*`, `sasl.*`), and the per-kind `producer.*`, `consumer.*`,
/// `admin.*` settings, as Kafka Connect's worker config has them.
#[derive(Clone, Debug, Default)]
pub struct KafkaSettings {
    pub bootstrap_servers: String,
    pub common: ConfigMap,
    pub producer: ConfigMap,
    pub consumer: ConfigMap,
    pub admin: ConfigMap,
}

/// Prefixes of client settings that every client of the worker gets.
pub const COMMON_CLIENT_PREFIXES: [&str; 5] =
    ["security.", "ssl.", "sasl.", "client.dns.lookup", "socket."];

impl KafkaSettings {
    pub fn new(bootstrap_servers: impl Into<String>) -> Self {
        KafkaSettings {
            bootstrap_servers: bootstrap_servers.into(),
            ..Self::default()
        }
    }

    fn base(&self, kind: &ConfigMap, overrides: &ConfigMap) -> ClientConfig {
        let mut cfg = ClientConfig::new();
        cfg.set("bootstrap.servers", &self.bootstrap_servers);
        for (k, v) in self.common.iter().chain(kind).chain(overrides) {
            cfg.set(k, v);
        }
        cfg
    }

    /// An idempotent, acks=all producer: a record is acknowledged only once every in-sync
    /// replica has it, and retries cannot reorder or duplicate within a partition.
    pub fn producer(&self, overrides: &ConfigMap) -> ClientConfig {
        let mut defaults = ClientConfig::new();
        defaults
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("linger.ms", "5")
            .set("batch.num.messages", "10000")
            .set("queue.buffering.max.messages", "200000")
            // Kafka's Java producer, and so Kafka Connect and Debezium, puts a keyed record in
            // partition murmur2(key) mod n; librdkafka's default hashes keys with CRC32. With
            // Java's choice a key's events stay in the partition they were in when a connector
            // moves from Debezium to Tributary (a consumer's per-key order holds across the
            // switch), and our topics co-partition with Java-written ones for Kafka Streams or
            // ksqlDB joins. Records without a key are spread at random, as Java's are.
            .set("partitioner", "murmur2_random");
        let mut cfg = self.base(&self.producer, overrides);
        for (k, v) in defaults.config_map() {
            if cfg.get(k).is_none() {
                cfg.set(k, v);
            }
        }
        cfg
    }

    /// A consumer in `group`, committing offsets only when told to.
    pub fn consumer(&self, group: &str, overrides: &ConfigMap) -> ClientConfig {
        let mut cfg = self.base(&self.consumer, overrides);
        cfg.set("group.id", group)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false");
        for (k, v) in [
            ("auto.offset.reset", "earliest"),
            ("partition.assignment.strategy", "cooperative-sticky"),
            ("session.timeout.ms", "10000"),
            ("heartbeat.interval.ms", "1000"),
            // librdkafka prefetches up to 64 MB by default; a sink writing 1,000-row batches
            // needs a fraction of that, and the rest is resident memory for nothing.
            ("queued.max.messages.kbytes", "16384"),
            // Once that queue is full, librdkafka postpones the next fetch of each partition by
            // this much (default 1 s): the sink then drained the queue and sat idle for up to a
            // second. A short backoff refills the
            // queue as soon as the sink has taken from it.
            ("fetch.queue.backoff.ms", "20"),
        ] {
            if cfg.get(k).is_none() {
                cfg.set(k, v);
            }
        }
        cfg
    }

    pub fn admin(&self, overrides: &ConfigMap) -> ClientConfig {
        self.base(&self.admin, overrides)
    }

    /// Every setting, secrets hidden, for logs.
    pub fn describe(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        out.insert(
            "bootstrap.servers".to_owned(),
            self.bootstrap_servers.clone(),
        );
        for (k, v) in &self.common {
            out.insert(k.clone(), redact(k, v));
        }
        out
    }
}

/// A consumed message's headers, in order, as a record holds them.
pub fn message_headers(m: &BorrowedMessage<'_>) -> Headers {
    m.headers()
        .map(|hs| {
            hs.iter()
                .map(|h| (h.key.to_owned(), h.value.map(<[u8]>::to_vec)))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn producers_partition_keys_as_the_java_producer_unless_told_otherwise() {
        let settings = KafkaSettings::new("localhost:9092");
        let cfg = settings.producer(&ConfigMap::new());
        assert_eq!(cfg.get("partitioner"), Some("murmur2_random"));

        let overrides = ConfigMap::from([("partitioner".to_owned(), "consistent".to_owned())]);
        let cfg = settings.producer(&overrides);
        assert_eq!(
            cfg.get("partitioner"),
            Some("consistent"),
            "a connector's override wins"
        );
    }
}
