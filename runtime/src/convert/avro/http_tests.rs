//! The Avro converter against the built-in registry served over HTTP, checked with an
//! independent decoder (`schema_registry_converter`'s `AvroDecoder`) and with the recorded
//! Debezium events ([`super::reference`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use apache_avro::types::Value as Avro;
use apache_avro::writer::datum::GenericDatumWriter;
use base64::Engine;
use schema_registry_converter::async_impl::avro::AvroDecoder;
use schema_registry_converter::async_impl::schema_registry::SrSettings;
use serde_json::Value as Json;

use super::{avro_schema_from_connect, connect_schema_from_avro, reference, AvroConverter};
use crate::convert::{ConvertError, Converter, Side};
use crate::data::logical::{decimal_from_bytes, decimal_to_bytes, DECIMAL, DECIMAL_SCALE};
use crate::data::{SchemaBuilder, SchemaRef, Struct, Type, Value};
use crate::record::SchemaAndValue;
use crate::registry::{router, SchemaRegistry, VersionSpec};

type TestResult = Result<(), Box<dyn std::error::Error>>;

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

fn converter(side: Side, url: &str, extra: &[(&str, &str)]) -> Result<AvroConverter, ConvertError> {
    let mut settings: BTreeMap<String, String> = extra
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    settings.insert("schema.registry.url".into(), url.into());
    AvroConverter::from_settings(side, &settings, None)
}

fn reference_schema(file: &str) -> Result<(String, SchemaRef), Box<dyn std::error::Error>> {
    let text = reference::schema(file).ok_or_else(|| format!("no reference schema {file}"))?;
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

#[tokio::test]
async fn recorded_debezium_events_round_trip_and_register_the_reference_schemas() -> TestResult {
    let (registry, url) = serve_registry().await?;
    let keys = converter(Side::Key, &url, &[])?;
    let values = converter(Side::Value, &url, &[])?;
    let decoder = AvroDecoder::new(SrSettings::new(url.clone()));
    let mut checked = 0;
    for line in reference::EVENTS.lines() {
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
async fn each_schema_is_registered_once_and_decoded_records_share_one_schema() -> TestResult {
    let (registry, url) = serve_registry().await?;
    let conv = converter(Side::Value, &url, &[])?;
    let build = || {
        SchemaBuilder::structure()
            .name("t.V")
            .field("id", SchemaBuilder::int64())
            .build_ref()
    };
    let schema = build();
    let mut payloads = Vec::new();
    for i in 0..50 {
        let v = Value::Struct(Struct::new(schema.clone()).with("id", Value::Int64(i)));
        payloads.push(
            conv.from_connect("t", &SchemaAndValue::new(schema.clone(), v))
                .await?
                .ok_or("bytes")?,
        );
    }
    // An equal schema in a new Arc, and the same schema on another topic.
    let again = build();
    let v = Value::Struct(Struct::new(again.clone()).with("id", Value::Int64(99)));
    let other = conv
        .from_connect("t", &SchemaAndValue::new(again, v.clone()))
        .await?
        .ok_or("bytes")?;
    assert_eq!(other[..5], payloads[0][..5]);
    let v2 = Value::Struct(Struct::new(schema.clone()).with("id", Value::Int64(1)));
    conv.from_connect("u", &SchemaAndValue::new(schema.clone(), v2))
        .await?;
    assert_eq!(registry.versions("t-value").await?, [1]);
    assert_eq!(registry.versions("u-value").await?, [1]);

    let reader = converter(Side::Value, &url, &[])?;
    let a = reader.to_connect("t", Some(&payloads[0])).await?;
    let b = reader.to_connect("t", Some(&payloads[1])).await?;
    match (&a.schema, &b.schema) {
        (Some(x), Some(y)) => assert!(Arc::ptr_eq(x, y)),
        _ => return Err("no schema".into()),
    }
    assert_eq!(
        a.value.as_struct().and_then(|s| s.get("id")),
        Some(&Value::Int64(0))
    );
    Ok(())
}

#[tokio::test]
async fn registered_text_is_our_translation_and_primitive_keys_work() -> TestResult {
    let (registry, url) = serve_registry().await?;
    let conv = converter(Side::Key, &url, &[])?;
    let schema = SchemaBuilder::string().optional().build_ref();
    let bytes = conv
        .from_connect("p", &SchemaAndValue::new(schema.clone(), Value::from("k1")))
        .await?
        .ok_or("bytes")?;
    let stored = registry
        .version("p-key", VersionSpec::Latest, false)
        .await?;
    assert_eq!(
        stored.schema,
        avro_schema_from_connect(&schema)?.to_string()
    );
    assert_eq!(stored.schema, r#"["null","string"]"#);
    let back = conv.to_connect("p", Some(&bytes)).await?;
    assert_eq!(back.value, Value::from("k1"));
    // Null values are tombstones, whatever the schema.
    assert_eq!(
        conv.from_connect("p", &SchemaAndValue::new(schema, Value::Null))
            .await?,
        None
    );
    assert_eq!(conv.to_connect("p", None).await?, SchemaAndValue::null());
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
    let conv = converter(Side::Key, &url, &[])?;
    let back = conv.to_connect("x", Some(&bytes)).await?;
    let key = back.value.as_struct().ok_or("not a struct")?;
    assert_eq!(key.get("k1"), Some(&Value::Int32(7)));
    assert_eq!(key.get("k2"), Some(&Value::from("b")));
    assert!(back
        .schema
        .is_some_and(|s| s.is_named("PREFIX.refdb.composite.Key")));
    Ok(())
}

#[tokio::test]
async fn bad_payloads_are_deserialize_errors_naming_the_topic() -> TestResult {
    let (_registry, url) = serve_registry().await?;
    let conv = converter(Side::Value, &url, &[])?;
    for (bytes, expected) in [
        (&[1u8, 0, 0, 0, 1, 2][..], "magic byte"),
        (&[0u8, 0, 0][..], "too short"),
        (&[0u8, 0, 0, 0x30, 0x39, 2][..], "12345"),
    ] {
        match conv.to_connect("orders", Some(bytes)).await {
            Err(ConvertError::Deserialize { topic, message }) => {
                assert_eq!(topic, "orders");
                assert!(message.contains(expected), "{message}");
            }
            other => return Err(format!("expected a deserialize error, got {other:?}").into()),
        }
    }
    // A truncated body of a known id.
    let schema = SchemaBuilder::structure()
        .name("t.T")
        .field("s", SchemaBuilder::string())
        .build_ref();
    let value = Value::Struct(Struct::new(schema.clone()).with("s", "a long enough string"));
    let bytes = conv
        .from_connect("orders", &SchemaAndValue::new(schema, value))
        .await?
        .ok_or("bytes")?;
    let truncated = &bytes[..bytes.len() - 4];
    assert!(matches!(
        conv.to_connect("orders", Some(truncated)).await,
        Err(ConvertError::Deserialize { .. })
    ));
    Ok(())
}

#[tokio::test]
async fn without_auto_register_only_registered_schemas_are_written() -> TestResult {
    let (_registry, url) = serve_registry().await?;
    let strict = converter(Side::Value, &url, &[("auto.register.schemas", "false")])?;
    let schema = SchemaBuilder::structure()
        .name("t.S")
        .field("a", SchemaBuilder::int32())
        .build_ref();
    let data = SchemaAndValue::new(
        schema.clone(),
        Value::Struct(Struct::new(schema.clone()).with("a", 1)),
    );
    assert!(matches!(
        strict.from_connect("s", &data).await,
        Err(ConvertError::Registry { .. })
    ));
    let registered = converter(Side::Value, &url, &[])?
        .from_connect("s", &data)
        .await?
        .ok_or("bytes")?;
    assert_eq!(
        strict.from_connect("s", &data).await?,
        Some(registered.clone())
    );
    let latest = converter(
        Side::Value,
        &url,
        &[
            ("auto.register.schemas", "false"),
            ("use.latest.version", "true"),
        ],
    )?;
    assert_eq!(latest.from_connect("s", &data).await?, Some(registered));
    Ok(())
}

#[tokio::test]
async fn registry_errors_never_show_the_password() -> TestResult {
    // A port nobody listens on.
    let port = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await?
        .local_addr()?
        .port();
    let schema = SchemaBuilder::int64().build_ref();
    let data = SchemaAndValue::new(schema, Value::Int64(1));
    for settings in [
        vec![
            ("basic.auth.credentials.source", "USER_INFO"),
            ("basic.auth.user.info", "alice:hunter2-secret"),
        ],
        vec![],
    ] {
        let url = if settings.is_empty() {
            format!("http://alice:hunter2-secret@127.0.0.1:{port}")
        } else {
            format!("http://127.0.0.1:{port}")
        };
        let conv = converter(Side::Value, &url, &settings)?;
        let err = conv
            .from_connect("t", &data)
            .await
            .err()
            .ok_or("expected an error")?;
        let text = format!("{err} {err:?}");
        assert!(!text.contains("hunter2"), "{text}");
        let err = conv
            .to_connect("t", Some(&[0, 0, 0, 0, 1, 2]))
            .await
            .err()
            .ok_or("expected an error")?;
        let text = format!("{err} {err:?}");
        assert!(!text.contains("hunter2"), "{text}");
    }
    Ok(())
}

#[tokio::test]
async fn decimals_keep_their_exact_digits() -> TestResult {
    let (_registry, url) = serve_registry().await?;
    let conv = converter(Side::Value, &url, &[])?;
    let schema = SchemaBuilder::structure()
        .name("t.D")
        .field("d", crate::data::logical::decimal(Some(65), 30).optional())
        .build_ref();
    let digits = "-12345678901234567890123456789012345.123456789012345678901234567890";
    let st = Struct::new(schema.clone()).with(
        "d",
        Value::Bytes(decimal_to_bytes(digits, 30).ok_or("decimal")?),
    );
    let bytes = conv
        .from_connect("d", &SchemaAndValue::new(schema, Value::Struct(st)))
        .await?
        .ok_or("bytes")?;
    let back = conv.to_connect("d", Some(&bytes)).await?;
    let d = back
        .value
        .as_struct()
        .and_then(|s| s.get("d"))
        .ok_or("no d")?;
    let Value::Bytes(b) = d else {
        return Err("not bytes".into());
    };
    assert_eq!(decimal_from_bytes(b, 30), digits);
    assert!(back
        .schema
        .and_then(|s| s.field("d").map(|(_, f)| f.schema.is_named(DECIMAL)))
        .unwrap_or(false));
    Ok(())
}

/// Records per second through `from_connect` and `to_connect` (schema cached, registry warm)
/// for a six-column row; run with `--ignored --nocapture` (a debug build gives a floor).
#[tokio::test]
#[ignore]
async fn converter_throughput() -> TestResult {
    let (_registry, url) = serve_registry().await?;
    let conv = converter(Side::Value, &url, &[])?;
    let schema = SchemaBuilder::structure()
        .name("p.db.t.Value")
        .field("id", SchemaBuilder::int64())
        .field("name", SchemaBuilder::string().optional())
        .field("qty", SchemaBuilder::int32().optional())
        .field(
            "price",
            crate::data::logical::decimal(Some(10), 2).optional(),
        )
        .field("created", SchemaBuilder::int64().optional())
        .field("note", SchemaBuilder::string().optional())
        .build_ref();
    let value = Value::Struct(
        Struct::new(schema.clone())
            .with("id", Value::Int64(42))
            .with("name", "widget")
            .with("qty", Value::Int32(7))
            .with(
                "price",
                Value::Bytes(decimal_to_bytes("19.99", 2).ok_or("decimal")?),
            )
            .with("created", Value::Int64(1_700_000_000_000))
            .with("note", "a note of some length"),
    );
    let data = SchemaAndValue::new(schema, value);
    let bytes = conv.from_connect("bench", &data).await?.ok_or("bytes")?;
    let n = 100_000u32;
    let start = std::time::Instant::now();
    for _ in 0..n {
        conv.from_connect("bench", &data).await?;
    }
    println!(
        "from_connect: {:.0} records/s",
        f64::from(n) / start.elapsed().as_secs_f64()
    );
    conv.to_connect("bench", Some(&bytes)).await?;
    let start = std::time::Instant::now();
    for _ in 0..n {
        conv.to_connect("bench", Some(&bytes)).await?;
    }
    println!(
        "to_connect: {:.0} records/s",
        f64::from(n) / start.elapsed().as_secs_f64()
    );
    Ok(())
}
