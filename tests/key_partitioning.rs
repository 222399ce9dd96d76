//! A keyed record lands in the partition Kafka's Java producer picks for the same key bytes
//! (murmur2 of the key, modulo the partition count), as with Kafka Connect and Debezium: a key's
//! events stay in one partition when a connector moves between the two stacks, and our topics
//! co-partition with Java-written ones.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use support::{consume_all, kafka, map, start_worker, worker_props};

const PARTITIONS: i32 = 8;
const KEYS: u64 = 40;
const EVENTS: u64 = 200;

/// Kafka's `Utils.murmur2`, the hash of the Java producer's default partitioner.
fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let mut h = SEED ^ data.len() as u32;
    let mut words = data.chunks_exact(4);
    for w in &mut words {
        let mut k = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M) ^ k;
    }
    let tail = words.remainder();
    if !tail.is_empty() {
        for (i, b) in tail.iter().enumerate().rev() {
            h ^= u32::from(*b) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// `Utils.toPositive(Utils.murmur2(key)) % numPartitions`, Java's choice for a keyed record.
fn java_partition(key: &[u8], partitions: i32) -> i32 {
    (murmur2(key) & 0x7fff_ffff) % partitions
}

#[test]
fn the_murmur2_of_these_tests_is_kafkas() {
    // Kafka's own `UtilsTest.testMurmur2` vectors.
    for (key, expected) in [
        (&b"21"[..], -973_932_308),
        (b"foobar", -790_332_482),
        (b"a-little-bit-long-string", -985_981_536),
        (b"a-little-bit-longer-string", -1_486_304_829),
        (
            b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
            -58_897_971,
        ),
        (b"abc", 479_470_107),
    ] {
        assert_eq!(murmur2(key), expected, "{}", String::from_utf8_lossy(key));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyed_record_lands_in_the_partition_the_java_producer_picks() {
    let kafka = kafka();
    let topic = "part.demo.customers";
    kafka.create_topic(topic, PARTITIONS, 1).expect("topic");
    let bootstrap = kafka.bootstrap_servers();
    let dir = tempfile::tempdir().expect("tempdir");
    let props = worker_props(&bootstrap, dir.path(), &[]);
    let source = map(&[
        ("name", "gen"),
        ("connector.class", "datagen"),
        ("topic.prefix", "part"),
        ("rate", "0"),
        ("max.records", &EVENTS.to_string()),
        ("keys", &KEYS.to_string()),
    ]);
    let _worker = start_worker(&props, tributary_connectors::plugins(), vec![source]).await;

    let expected = tributary_connectors::datagen::expected_records(42, KEYS, EVENTS, true).len();
    let bootstrap2 = bootstrap.clone();
    let records = tokio::task::spawn_blocking(move || {
        consume_all(&bootstrap2, topic, expected, Duration::from_secs(60))
    })
    .await
    .expect("consumer");
    assert_eq!(
        records.len(),
        expected,
        "every change event and tombstone, once"
    );

    let mut keys = BTreeSet::new();
    let mut used = BTreeSet::new();
    for (partition, offset, key, _) in &records {
        let key = key.as_deref().expect("every record has a key");
        assert_eq!(
            *partition,
            java_partition(key, PARTITIONS),
            "the record at offset {offset} with key {}",
            String::from_utf8_lossy(key)
        );
        keys.insert(key.to_vec());
        used.insert(*partition);
    }
    assert_eq!(keys.len() as u64, KEYS, "every key was produced");
    assert!(
        used.len() > 1,
        "the keys spread over several partitions: {used:?}"
    );
}
