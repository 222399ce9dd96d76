//! Change events go through the Avro converter in the Confluent wire format, their schemas are
//! registered in the worker's built-in registry under TopicNameStrategy subjects, and an
//! independent reader (schema_registry_converter's decoder, over HTTP) reads them back; a sink
//! on the same worker decodes them too.

mod support;

use std::time::Duration;

use apache_avro::types::Value as Avro;
use schema_registry_converter::async_impl::avro::AvroDecoder;
use schema_registry_converter::async_impl::schema_registry::SrSettings;
use support::{consume_all, kafka, map, start_worker, wait_for, worker_props, Http};

const EVENTS: u64 = 300;
const KEYS: u64 = 20;

fn field<'a>(record: &'a Avro, name: &str) -> &'a Avro {
    match record {
        Avro::Record(fields) => fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
            .unwrap_or_else(|| panic!("no field {name} in {record:?}")),
        other => panic!("not a record: {other:?}"),
    }
}

fn unwrap_union(v: &Avro) -> &Avro {
    match v {
        Avro::Union(_, inner) => inner,
        other => other,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn change_events_round_trip_through_the_registry_in_confluent_wire_format() {
    let kafka = kafka();
    let topic = "avro.demo.customers";
    kafka.create_topic(topic, 1, 1).expect("topic");
    let bootstrap = kafka.bootstrap_servers();
    let dir = tempfile::tempdir().expect("tempdir");
    let avro = "io.confluent.connect.avro.AvroConverter";
    let props = worker_props(
        &bootstrap,
        dir.path(),
        &[("key.converter", avro), ("value.converter", avro)],
    );
    let output = dir.path().join("out.jsonl");
    let source = map(&[
        ("name", "gen"),
        ("connector.class", "datagen"),
        ("topic.prefix", "avro"),
        ("rate", "0"),
        ("max.records", &EVENTS.to_string()),
        ("keys", &KEYS.to_string()),
    ]);
    let sink = map(&[
        ("name", "out"),
        ("connector.class", "FileStreamSink"),
        ("topics", topic),
        ("file", &output.display().to_string()),
    ]);
    let worker = start_worker(&props, tributary_connectors::plugins(), vec![source, sink]).await;
    let registry = worker.registry_url.clone().expect("built-in registry");

    let expected = tributary_connectors::datagen::expected_records(42, KEYS, EVENTS, true);
    let bootstrap2 = bootstrap.clone();
    let n = expected.len();
    let records = tokio::task::spawn_blocking(move || {
        consume_all(&bootstrap2, topic, n, Duration::from_secs(60))
    })
    .await
    .expect("consumer");
    assert_eq!(
        records.len(),
        expected.len(),
        "every change event and tombstone, once"
    );

    let decoder = AvroDecoder::new(SrSettings::new(registry.clone()));
    for (i, ((_, _, key, value), (id, op))) in records.iter().zip(&expected).enumerate() {
        let key = key.as_deref().expect("every record has a key");
        assert_eq!(key[0], 0, "magic byte");
        let decoded_key = decoder.decode(Some(key)).await.expect("key decodes");
        assert_eq!(
            field(&decoded_key.value, "id"),
            &Avro::Long(*id),
            "record {i}"
        );
        match (value, op) {
            (None, None) => {}
            (Some(value), Some(op)) => {
                assert_eq!(value[0], 0, "magic byte");
                let decoded = decoder.decode(Some(value)).await.expect("value decodes");
                assert_eq!(
                    field(&decoded.value, "op"),
                    &Avro::String((*op).to_owned()),
                    "record {i}"
                );
                let row = if *op == "d" {
                    field(&decoded.value, "before")
                } else {
                    field(&decoded.value, "after")
                };
                assert_eq!(
                    field(unwrap_union(row), "id"),
                    &Avro::Long(*id),
                    "record {i}"
                );
                let source = field(&decoded.value, "source");
                assert_eq!(field(source, "connector"), &Avro::String("datagen".into()));
            }
            other => panic!("record {i}: expected {op:?}, got {other:?}"),
        }
    }

    let api = Http::new(registry.clone());
    let (code, subjects) = api.get("/subjects").await;
    assert_eq!(code, 200);
    assert_eq!(
        subjects,
        serde_json::json!(["avro.demo.customers-key", "avro.demo.customers-value"])
    );
    let (_, latest) = api
        .get("/subjects/avro.demo.customers-value/versions/latest")
        .await;
    let schema: serde_json::Value =
        serde_json::from_str(latest["schema"].as_str().expect("schema text")).expect("schema JSON");
    assert_eq!(schema["name"], "Envelope");
    assert_eq!(schema["namespace"], "avro.demo.customers");
    assert_eq!(schema["connect.name"], "avro.demo.customers.Envelope");
    let fields: Vec<&str> = schema["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["name"].as_str())
        .collect();
    assert_eq!(
        fields,
        [
            "before",
            "after",
            "source",
            "transaction",
            "op",
            "ts_ms",
            "ts_us",
            "ts_ns"
        ]
    );

    // The file sink on the same worker decoded the same records.
    let lines = wait_for(
        "the file sink to write every record",
        Duration::from_secs(60),
        || async {
            let text = std::fs::read_to_string(&output).unwrap_or_default();
            (text.lines().count() >= expected.len()).then_some(text)
        },
    )
    .await;
    let first: serde_json::Value =
        serde_json::from_str(lines.lines().next().expect("a line")).expect("JSON line");
    assert_eq!(first["op"], "c");
    assert_eq!(first["after"]["id"], expected[0].0);
    assert_eq!(
        lines.lines().filter(|l| *l == "null").count(),
        expected.iter().filter(|(_, op)| op.is_none()).count(),
        "tombstones"
    );
    worker.shutdown().await;
}
