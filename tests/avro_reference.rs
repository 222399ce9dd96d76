//! The Avro converter against its reference: what Debezium 3.6.3 behind Confluent's Java
//! `AvroConverter` registered and wrote (`tests/fixtures/debezium-3.6.3-mysql/`, whose README
//! tells how it was recorded): the key and value schemas (`<subject>.v<version>.avsc`) and every
//! record, decoded (`events.jsonl`: one `{topic, key, value}` a line, bytes as base64, decimals
//! as strings).
//!
//! Only the runtime's public converter and registry are used, with no database or broker: the
//! recorded events are built as Connect values and go through the converter, and the recorded
//! schemas through the schema translation. `mysql_debezium_events.rs` compares the same
//! recording with what our MySQL source writes, which needs a MariaDB server and a broker.
//! Whether the converter reads these schemas' records without apache-avro's generic values is
//! a property private to the runtime, tested there on schemas of the same shapes
//! (`convert/avro/codec_tests.rs`).

use std::collections::BTreeMap;
use std::sync::Arc;

use apache_avro::types::Value as Avro;
use apache_avro::writer::datum::GenericDatumWriter;
use base64::Engine;
use schema_registry_converter::async_impl::avro::AvroDecoder;
use schema_registry_converter::async_impl::schema_registry::SrSettings;
use serde_json::Value as Json;
use tributary_runtime::convert::avro::{
    avro_schema_from_connect, connect_schema_from_avro, AvroConverter,
};
use tributary_runtime::convert::{ConvertError, Converter, Side};
use tributary_runtime::data::logical::{decimal_from_bytes, decimal_to_bytes, DECIMAL_SCALE};
use tributary_runtime::data::{SchemaRef, Struct, Type, Value};
use tributary_runtime::record::SchemaAndValue;
use tributary_runtime::registry::{router, SchemaRegistry, VersionSpec};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// `(file name, text)` of a file of the recording.
macro_rules! recorded {
    ($file:literal) => {
        (
            $file,
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/debezium-3.6.3-mysql/",
                $file
            )),
        )
    };
}

/// Every registered schema of the recording.
const SCHEMAS: [(&str, &str); 8] = [
    recorded!("PREFIX-key.v1.avsc"),
    recorded!("PREFIX-value.v1.avsc"),
    recorded!("PREFIX.refdb.all_types-key.v1.avsc"),
    recorded!("PREFIX.refdb.all_types-value.v1.avsc"),
    recorded!("PREFIX.refdb.all_types-value.v2.avsc"),
    recorded!("PREFIX.refdb.composite-key.v1.avsc"),
    recorded!("PREFIX.refdb.composite-value.v1.avsc"),
    recorded!("PREFIX.refdb.no_pk-value.v1.avsc"),
];

/// The recorded events, one JSON object a line.
const EVENTS: &str = recorded!("events.jsonl").1;

/// Serves a fresh in-memory registry on a free port; returns it and its URL.
async fn serve_registry() -> Result<(Arc<SchemaRegistry>, String), Box<dyn std::error::Error>> {
    let registry = SchemaRegistry::in_memory();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let app = router(registry.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((registry, url))
}

fn converter(side: Side, url: &str) -> Result<AvroConverter, ConvertError> {
    let settings = BTreeMap::from([("schema.registry.url".to_owned(), url.to_owned())]);
    AvroConverter::from_settings(side, &settings, None)
}

/// The text of the recorded schema file `file` and its Connect schema.
fn reference_schema(file: &str) -> Result<(String, SchemaRef), Box<dyn std::error::Error>> {
    let text = SCHEMAS
        .iter()
        .find(|(name, _)| *name == file)
        .map(|(_, text)| *text)
        .ok_or_else(|| format!("no reference schema {file}"))?;
    Ok((
        text.to_owned(),
        connect_schema_from_avro(&serde_json::from_str(text)?)?,
    ))
}

/// A recorded event's JSON (`{"decimal": "…"}` for decimals, `{"base64": "…"}` for bytes) as
/// the Connect value Debezium built.
fn connect_from_event(schema: &SchemaRef, json: &Json) -> Result<Value, String> {
    if json.is_null() {
        return Ok(Value::Null);
    }
    let bad = || format!("event value {json} does not fit {:?}", schema.ty);
    Ok(match schema.ty {
        Type::Int8 => Value::Int8(json.as_i64().ok_or_else(bad)? as i8),
        Type::Int16 => Value::Int16(json.as_i64().ok_or_else(bad)? as i16),
        Type::Int32 => Value::Int32(json.as_i64().ok_or_else(bad)? as i32),
        Type::Int64 => Value::Int64(json.as_i64().ok_or_else(bad)?),
        Type::Float32 => Value::Float32(json.as_f64().ok_or_else(bad)? as f32),
        Type::Float64 => Value::Float64(json.as_f64().ok_or_else(bad)?),
        Type::Boolean => Value::Boolean(json.as_bool().ok_or_else(bad)?),
        Type::String => Value::String(json.as_str().ok_or_else(bad)?.to_owned()),
        Type::Bytes => {
            if let Some(text) = json.get("decimal").and_then(Json::as_str) {
                let scale = schema
                    .parameter(DECIMAL_SCALE)
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(bad)?;
                Value::Bytes(decimal_to_bytes(text, scale).ok_or_else(bad)?)
            } else {
                let b64 = json.get("base64").and_then(Json::as_str).ok_or_else(bad)?;
                Value::Bytes(
                    base64::engine::general_purpose::STANDARD
                        .decode(b64)
                        .map_err(|e| e.to_string())?,
                )
            }
        }
        Type::Array => {
            let elem = schema.value_schema.as_ref().ok_or_else(bad)?;
            let items = json.as_array().ok_or_else(bad)?;
            Value::Array(
                items
                    .iter()
                    .map(|i| connect_from_event(elem, i))
                    .collect::<Result<_, _>>()?,
            )
        }
        Type::Struct => {
            let obj = json.as_object().ok_or_else(bad)?;
            let mut st = Struct::new(schema.clone());
            for (i, field) in schema.fields.iter().enumerate() {
                st.values[i] =
                    connect_from_event(&field.schema, obj.get(&field.name).unwrap_or(&Json::Null))?;
            }
            Value::Struct(st)
        }
        Type::Map => return Err("no maps in the recorded events".into()),
    })
}

/// An apache-avro value (as decoded by the independent decoder) in the events' JSON form.
fn event_from_avro(schema: &SchemaRef, value: &Avro) -> Result<Json, String> {
    let value = match value {
        Avro::Union(_, inner) => inner.as_ref(),
        other => other,
    };
    Ok(match value {
        Avro::Null => Json::Null,
        Avro::Boolean(b) => Json::Bool(*b),
        Avro::Int(i) | Avro::Date(i) => Json::from(*i),
        Avro::Long(i) => Json::from(*i),
        Avro::Float(f) => Json::from(f64::from(*f)),
        Avro::Double(f) => Json::from(*f),
        Avro::String(s) => Json::from(s.as_str()),
        Avro::Bytes(b) => {
            serde_json::json!({"base64": base64::engine::general_purpose::STANDARD.encode(b)})
        }
        Avro::Decimal(d) => {
            let bytes = Vec::<u8>::try_from(d).map_err(|e| e.to_string())?;
            let scale = schema
                .parameter(DECIMAL_SCALE)
                .and_then(|s| s.parse().ok())
                .ok_or("decimal without scale")?;
            serde_json::json!({"decimal": decimal_from_bytes(&bytes, scale)})
        }
        Avro::Array(items) => {
            let elem = schema
                .value_schema
                .as_ref()
                .ok_or("array without element schema")?;
            Json::Array(
                items
                    .iter()
                    .map(|i| event_from_avro(elem, i))
                    .collect::<Result<_, _>>()?,
            )
        }
        Avro::Record(fields) => {
            let mut obj = serde_json::Map::new();
            for ((name, v), field) in fields.iter().zip(&schema.fields) {
                obj.insert(name.clone(), event_from_avro(&field.schema, v)?);
            }
            Json::Object(obj)
        }
        other => return Err(format!("unexpected Avro value {other:?}")),
    })
}

/// The reference schema file of a recorded event (v2 of all_types after the ALTER).
fn schema_file(topic: &str, side: &str, value: &Json) -> String {
    let table = topic.trim_start_matches("PREFIX").trim_start_matches('.');
    let has_added_column = ["before", "after"]
        .iter()
        .any(|k| value.get(k).and_then(|r| r.get("c_added")).is_some());
    let version = if has_added_column { 2 } else { 1 };
    if table.is_empty() {
        format!("PREFIX-{side}.v{version}.avsc")
    } else {
        format!("PREFIX.{table}-{side}.v{version}.avsc")
    }
}

#[test]
fn every_reference_schema_survives_avro_to_connect_to_avro() -> TestResult {
    for (file, text) in SCHEMAS {
        let original: Json = serde_json::from_str(text)?;
        let connect = connect_schema_from_avro(&original).map_err(|e| format!("{file}: {e}"))?;
        let back = avro_schema_from_connect(&connect).map_err(|e| format!("{file}: {e}"))?;
        assert_eq!(
            serde_json::to_string_pretty(&back)?,
            serde_json::to_string_pretty(&original)?,
            "{file} changed in the round trip"
        );
    }
    Ok(())
}

#[tokio::test]
async fn recorded_debezium_events_round_trip_and_register_the_reference_schemas() -> TestResult {
    let (registry, url) = serve_registry().await?;
    let keys = converter(Side::Key, &url)?;
    let values = converter(Side::Value, &url)?;
    let decoder = AvroDecoder::new(SrSettings::new(url.clone()));
    let mut checked = 0;
    for line in EVENTS.lines() {
        let event: Json = serde_json::from_str(line)?;
        let topic = event["topic"].as_str().ok_or("topic")?;
        for (side, converter, json) in [
            ("key", &keys, &event["key"]),
            ("value", &values, &event["value"]),
        ] {
            if json.is_null() {
                assert_eq!(
                    converter
                        .from_connect(topic, &SchemaAndValue::null())
                        .await?,
                    None
                );
                continue;
            }
            let file = schema_file(topic, side, json);
            let (_, schema) = reference_schema(&file)?;
            let value = connect_from_event(&schema, json)?;
            let bytes = converter
                .from_connect(topic, &SchemaAndValue::new(schema.clone(), value.clone()))
                .await?
                .ok_or("no bytes")?;

            // An independent decoder reads back exactly the recorded event.
            let decoded = decoder.decode(Some(&bytes)).await?;
            assert_eq!(
                event_from_avro(&schema, &decoded.value)?,
                *json,
                "{topic} {side} via AvroDecoder"
            );

            // Our own decoder gives back the Connect value.
            let back = converter.to_connect(topic, Some(&bytes)).await?;
            assert_eq!(back.value, value, "{topic} {side} via to_connect");
            assert_eq!(back.schema.as_deref(), Some(&*schema));
            checked += 1;
        }
    }
    assert!(checked > 40, "only {checked} records checked");

    // What got registered is, schema for schema, what Confluent's converter registered.
    for (subject, file, version) in [
        (
            "PREFIX.refdb.composite-value",
            "PREFIX.refdb.composite-value.v1.avsc",
            1,
        ),
        (
            "PREFIX.refdb.all_types-value",
            "PREFIX.refdb.all_types-value.v1.avsc",
            1,
        ),
        (
            "PREFIX.refdb.all_types-value",
            "PREFIX.refdb.all_types-value.v2.avsc",
            2,
        ),
        ("PREFIX-value", "PREFIX-value.v1.avsc", 1),
        ("PREFIX-key", "PREFIX-key.v1.avsc", 1),
    ] {
        let stored = registry
            .version(subject, VersionSpec::Number(version), false)
            .await?;
        let (reference, _) = reference_schema(file)?;
        assert_eq!(
            serde_json::from_str::<Json>(&stored.schema)?,
            serde_json::from_str::<Json>(&reference)?,
            "{subject} v{version}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn records_written_by_another_producer_decode() -> TestResult {
    let (registry, url) = serve_registry().await?;
    // Registered verbatim, as the Java converter did, and encoded by apache-avro.
    let (text, _) = reference_schema("PREFIX.refdb.composite-key.v1.avsc")?;
    let id = registry.register("x-key", &text, false).await?;
    let avro_schema = apache_avro::Schema::parse_str(&text)?;
    let record = Avro::Record(vec![
        ("k1".into(), Avro::Int(7)),
        ("k2".into(), Avro::String("b".into())),
    ]);
    let mut bytes = vec![0];
    bytes.extend_from_slice(&id.to_be_bytes());
    bytes.extend(
        GenericDatumWriter::builder(&avro_schema)
            .build()?
            .write_value_to_vec(record)?,
    );
    let conv = converter(Side::Key, &url)?;
    let back = conv.to_connect("x", Some(&bytes)).await?;
    let key = back.value.as_struct().ok_or("not a struct")?;
    assert_eq!(key.get("k1"), Some(&Value::Int32(7)));
    assert_eq!(key.get("k2"), Some(&Value::from("b")));
    assert!(back
        .schema
        .is_some_and(|s| s.is_named("PREFIX.refdb.composite.Key")));
    Ok(())
}
