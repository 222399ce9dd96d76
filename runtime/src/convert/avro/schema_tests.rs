//! Schema translation, case by case. The Avro schemas Confluent's Java converter registered
//! for Debezium's events are translated both ways by the workspace's `tests/avro_reference.rs`.

use std::sync::Arc;

use serde_json::{json, Value as Json};

use super::{avro_schema_from_connect, connect_schema_from_avro};
use crate::data::logical;
use crate::data::{Schema, SchemaBuilder, SchemaRef, Type, Value};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn opt(b: SchemaBuilder) -> SchemaRef {
    b.optional().build_ref()
}

#[test]
fn primitive_types_follow_avro_data() -> TestResult {
    let cases: [(SchemaBuilder, Json); 9] = [
        (
            SchemaBuilder::int8(),
            json!({"type": "int", "connect.type": "int8"}),
        ),
        (
            SchemaBuilder::int16(),
            json!({"type": "int", "connect.type": "int16"}),
        ),
        (SchemaBuilder::int32(), json!("int")),
        (SchemaBuilder::int64(), json!("long")),
        (SchemaBuilder::float32(), json!("float")),
        (SchemaBuilder::float64(), json!("double")),
        (SchemaBuilder::boolean(), json!("boolean")),
        (SchemaBuilder::string(), json!("string")),
        (SchemaBuilder::bytes(), json!("bytes")),
    ];
    for (builder, expected) in cases {
        let schema = builder.build();
        assert_eq!(avro_schema_from_connect(&schema)?, expected, "{schema:?}");
        assert_eq!(*connect_schema_from_avro(&expected)?, schema);
    }
    Ok(())
}

#[test]
fn decimal_without_precision_gets_avro_datas_default_of_64() -> TestResult {
    let schema = logical::decimal(None, 2).build();
    let avro = avro_schema_from_connect(&schema)?;
    let expected = json!({
        "type": "bytes", "scale": 2, "precision": 64, "connect.version": 1,
        "connect.parameters": {"scale": "2"},
        "connect.name": "org.apache.kafka.connect.data.Decimal", "logicalType": "decimal"
    });
    assert_eq!(
        serde_json::to_string(&avro)?,
        serde_json::to_string(&expected)?
    );
    assert_eq!(*connect_schema_from_avro(&avro)?, schema);
    Ok(())
}

#[test]
fn connect_date_time_and_timestamp_become_avro_logical_types() -> TestResult {
    let cases = [
        (
            Type::Int32,
            logical::CONNECT_DATE,
            json!({"type":"int","connect.version":1,"connect.name":"org.apache.kafka.connect.data.Date","logicalType":"date"}),
        ),
        (
            Type::Int32,
            logical::CONNECT_TIME,
            json!({"type":"int","connect.version":1,"connect.name":"org.apache.kafka.connect.data.Time","logicalType":"time-millis"}),
        ),
        (
            Type::Int64,
            logical::CONNECT_TIMESTAMP,
            json!({"type":"long","connect.version":1,"connect.name":"org.apache.kafka.connect.data.Timestamp","logicalType":"timestamp-millis"}),
        ),
    ];
    for (ty, name, expected) in cases {
        let schema = SchemaBuilder::new(ty).name(name).version(1).build();
        let avro = avro_schema_from_connect(&schema)?;
        assert_eq!(
            serde_json::to_string(&avro)?,
            serde_json::to_string(&expected)?
        );
        assert_eq!(*connect_schema_from_avro(&avro)?, schema);
    }
    Ok(())
}

#[test]
fn unnamed_structs_are_numbered_connect_defaults_and_reused_when_equal() -> TestResult {
    let inner = SchemaBuilder::structure()
        .field("a", SchemaBuilder::int32())
        .build_ref();
    let other = SchemaBuilder::structure()
        .field("b", SchemaBuilder::string())
        .build_ref();
    let outer = SchemaBuilder::structure()
        .field("x", inner.clone())
        .field("y", inner)
        .field("z", other)
        .build();
    let avro = avro_schema_from_connect(&outer)?;
    assert_eq!(avro["name"], "ConnectDefault");
    assert_eq!(avro["namespace"], "io.confluent.connect.avro");
    assert_eq!(avro["fields"][0]["type"]["name"], "ConnectDefault2");
    assert_eq!(avro["fields"][1]["type"], "ConnectDefault2");
    assert_eq!(avro["fields"][2]["type"]["name"], "ConnectDefault3");
    // Read back, the invented names are not Connect names.
    assert_eq!(*connect_schema_from_avro(&avro)?, outer);
    Ok(())
}

#[test]
fn maps_with_string_keys_are_avro_maps_others_arrays_of_map_entries() -> TestResult {
    let string_keys = SchemaBuilder::map(
        SchemaBuilder::string().build_ref(),
        opt(SchemaBuilder::int64()),
    )
    .build();
    assert_eq!(
        avro_schema_from_connect(&string_keys)?,
        json!({"type": "map", "values": ["null", "long"]})
    );
    assert_eq!(
        *connect_schema_from_avro(&avro_schema_from_connect(&string_keys)?)?,
        string_keys
    );

    let int_keys = SchemaBuilder::map(
        SchemaBuilder::int32().build_ref(),
        SchemaBuilder::string().build_ref(),
    )
    .build();
    let avro = avro_schema_from_connect(&int_keys)?;
    let expected = json!({"type": "array", "items": {
        "type": "record", "name": "MapEntry", "namespace": "io.confluent.connect.avro",
        "fields": [{"name": "key", "type": "int"}, {"name": "value", "type": "string"}]
    }});
    assert_eq!(
        serde_json::to_string(&avro)?,
        serde_json::to_string(&expected)?
    );
    assert_eq!(*connect_schema_from_avro(&avro)?, int_keys);
    Ok(())
}

#[test]
fn defaults_doc_and_parameters_are_carried_as_connect_properties() -> TestResult {
    let schema = SchemaBuilder::structure()
        .name("x.R")
        .doc("a record")
        .field("n", SchemaBuilder::int32().default_value(Value::Int32(5)))
        .field(
            "s",
            SchemaBuilder::string()
                .optional()
                .default_value(Value::String("d".into())),
        )
        .field(
            "l",
            SchemaBuilder::array(SchemaBuilder::string().build_ref()).optional(),
        )
        .build();
    let avro = avro_schema_from_connect(&schema)?;
    let expected = json!({
        "type": "record", "name": "R", "namespace": "x",
        "fields": [
            {"name": "n", "type": {"type": "int", "connect.default": 5}, "default": 5},
            {"name": "s", "type": [{"type": "string", "connect.default": "d"}, "null"], "default": "d"},
            {"name": "l", "type": ["null", {"type": "array", "items": "string"}], "default": null}
        ],
        "connect.doc": "a record", "connect.name": "x.R"
    });
    assert_eq!(
        serde_json::to_string(&avro)?,
        serde_json::to_string(&expected)?
    );
    assert_eq!(*connect_schema_from_avro(&avro)?, schema);
    Ok(())
}

#[test]
fn general_avro_unions_become_connect_union_structs_and_back() -> TestResult {
    let avro = json!({"type": "record", "name": "U", "fields": [
        {"name": "u", "type": ["null", "int", "string", {"type": "record", "name": "P", "fields": [{"name": "a", "type": "long"}]}]}
    ]});
    let connect = connect_schema_from_avro(&avro)?;
    let union = &connect.fields[0].schema;
    assert!(union.optional && union.is_named("io.confluent.connect.avro.Union"));
    let names: Vec<&str> = union.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["int", "string", "P"]);
    let back = avro_schema_from_connect(&connect)?;
    assert_eq!(
        back["fields"][0]["type"],
        json!(["null", "int", "string", {
            "type": "record", "name": "P", "fields": [{"name": "a", "type": "long"}], "connect.name": "P"
        }])
    );
    Ok(())
}

#[test]
fn plain_avro_from_other_producers_reads_as_connect() -> TestResult {
    let avro = json!({"type": "record", "name": "Order", "namespace": "shop", "doc": "an order", "fields": [
        {"name": "id", "type": "long"},
        {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "DONE"]}},
        {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}},
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
        {"name": "tags", "type": {"type": "map", "values": "string"}, "default": {}},
        {"name": "again", "type": ["null", "Status"], "default": null}
    ]});
    let connect = connect_schema_from_avro(&avro)?;
    assert!(connect.is_named("shop.Order"));
    assert_eq!(
        connect.parameter("io.confluent.connect.avro.record.doc"),
        Some("an order")
    );
    let status = &connect.fields[1].schema;
    assert_eq!(status.ty, Type::String);
    assert_eq!(
        status.parameter("io.confluent.connect.avro.Enum"),
        Some("shop.Status")
    );
    assert_eq!(
        status.parameter("io.confluent.connect.avro.Enum.DONE"),
        Some("DONE")
    );
    let amount = &connect.fields[2].schema;
    assert!(amount.is_named(logical::DECIMAL));
    assert_eq!(amount.parameter("connect.decimal.precision"), Some("9"));
    assert!(connect.fields[3].schema.is_named(logical::CONNECT_DATE));
    let tags = &connect.fields[4].schema;
    assert_eq!(tags.default, Some(Value::Map(Vec::new())));
    assert_eq!(
        tags.parameter("io.confluent.connect.avro.field.default"),
        Some("true")
    );
    assert!(connect.fields[5].schema.optional);
    Ok(())
}

#[test]
fn recursive_and_invalid_schemas_are_refused_with_a_message() {
    let recursive = json!({"type": "record", "name": "Node", "fields": [{"name": "next", "type": ["null", "Node"]}]});
    let err = connect_schema_from_avro(&recursive)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("recursive"), "{err}");
    assert!(connect_schema_from_avro(&json!("nope")).is_err());
    assert!(connect_schema_from_avro(&json!({"type": "int", "connect.type": "int128"})).is_err());
}

#[test]
fn two_different_structs_with_one_name_are_refused() {
    let a = SchemaBuilder::structure()
        .name("n.S")
        .field("a", SchemaBuilder::int32())
        .build_ref();
    let b = SchemaBuilder::structure()
        .name("n.S")
        .field("b", SchemaBuilder::int32())
        .build_ref();
    let outer: Schema = SchemaBuilder::structure()
        .field("a", a)
        .field("b", b)
        .build();
    assert!(avro_schema_from_connect(&outer).is_err());
}

#[test]
fn optional_struct_with_default_keeps_null_first_and_drops_the_field_default() -> TestResult {
    let inner = SchemaBuilder::structure()
        .name("n.In")
        .field("a", SchemaBuilder::int32())
        .build_ref();
    let dflt = crate::data::Struct::new(inner.clone()).with("a", 1);
    let field = SchemaBuilder::structure()
        .name("n.In")
        .field("a", SchemaBuilder::int32())
        .optional()
        .default_value(Value::Struct(dflt))
        .build_ref();
    let outer = SchemaBuilder::structure()
        .name("n.Out")
        .field("f", Arc::clone(&field))
        .build();
    let avro = avro_schema_from_connect(&outer)?;
    assert_eq!(avro["fields"][0]["type"][0], "null");
    assert_eq!(
        avro["fields"][0]["type"][1]["connect.default"],
        json!({"a": 1})
    );
    assert!(avro["fields"][0].get("default").is_none());
    Ok(())
}
