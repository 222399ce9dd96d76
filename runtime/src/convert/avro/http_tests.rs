//! The Avro converter against the built-in registry served over HTTP: what it registers and
//! caches, what its settings change, how it fails. Its output against Confluent's Java
//! converter's (a recording, read by an independent decoder) is checked by the workspace's
//! `tests/avro_reference.rs`.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{avro_schema_from_connect, AvroConverter};
use crate::convert::{ConvertError, Converter, Side};
use crate::data::logical::{decimal_from_bytes, decimal_to_bytes, DECIMAL};
use crate::data::{SchemaBuilder, Struct, Value};
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
