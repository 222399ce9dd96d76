//! Our Avro encoder checked against apache-avro: what we write decodes with the schema we
//! register, re-encodes to the same bytes, and maps back to the same Connect value, through
//! apache-avro's generic values and through its serde deserializer alike.

use apache_avro::types::Value as Avro;
use apache_avro::writer::datum::GenericDatumWriter;

use super::decode::to_connect_value;
use super::encode::encode;
use super::to_avro::avro_schema_from_connect;
use super::writer_schema::WriterSchema;
use crate::data::logical::{self, decimal_to_bytes};
use crate::data::{SchemaBuilder, SchemaRef, Struct, Value};
use crate::envelope::TableSchemas;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Encodes with our encoder, decodes with apache-avro using the translated schema, checks the
/// re-encoding by apache-avro is byte-identical, and returns (bytes, apache value, Connect value
/// read back through the schema derived from the registered text).
fn round_trip(
    schema: &SchemaRef,
    value: &Value,
) -> Result<(Vec<u8>, Avro, Value), Box<dyn std::error::Error>> {
    let mut bytes = Vec::new();
    encode(schema, value, &mut bytes)?;
    let text = avro_schema_from_connect(schema)?.to_string();
    let writer = WriterSchema::parse(&text)?;
    let decoded = writer.decode(&bytes)?;
    // apache-avro holds maps in a HashMap: only single-entry maps re-encode deterministically.
    if !has_multi_entry_map(value) {
        let again = GenericDatumWriter::builder(writer.avro)
            .build()?
            .write_value_to_vec(decoded.clone())?;
        assert_eq!(again, bytes, "apache-avro re-encodes the value differently");
    }
    let connect = to_connect_value(&writer.connect, decoded.clone())?;
    assert_eq!(
        writer.to_connect(&bytes)?,
        connect,
        "the converter's decoding path and the generic one disagree"
    );
    Ok((bytes, decoded, connect))
}

/// Whether the converter decodes values of `schema` without apache-avro's generic values.
fn takes_the_serde_path(schema: &SchemaRef) -> Result<bool, Box<dyn std::error::Error>> {
    let text = avro_schema_from_connect(schema)?.to_string();
    Ok(WriterSchema::parse(&text)?.decodes_through_serde())
}

fn has_multi_entry_map(value: &Value) -> bool {
    match value {
        Value::Map(entries) => {
            // String keys: an Avro map (other keys travel as an ordered array).
            (entries.len() > 1 && entries.iter().all(|(k, _)| matches!(k, Value::String(_))))
                || entries
                    .iter()
                    .any(|(k, v)| has_multi_entry_map(k) || has_multi_entry_map(v))
        }
        Value::Array(items) => items.iter().any(has_multi_entry_map),
        Value::Struct(st) => st.values.iter().any(has_multi_entry_map),
        _ => false,
    }
}

/// Values read back carry the schema derived from the Avro text; compare through that schema.
fn same_data(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Struct(x), Value::Struct(y)) => {
            x.values.len() == y.values.len()
                && x.values.iter().zip(&y.values).all(|(p, q)| same_data(p, q))
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_data(p, q))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter().all(|(k, v)| {
                    y.iter()
                        .any(|(k2, v2)| same_data(k, k2) && same_data(v, v2))
                })
        }
        _ => a == b,
    }
}

fn everything_schema() -> SchemaRef {
    everything_schema_with(true)
}

/// `int_keyed_map`: with a map whose keys are not strings (an Avro array of key/value records).
fn everything_schema_with(int_keyed_map: bool) -> SchemaRef {
    let point = SchemaBuilder::structure()
        .name("t.Point")
        .field("x", SchemaBuilder::float64())
        .field("y", SchemaBuilder::float64())
        .build_ref();
    let builder = SchemaBuilder::structure()
        .name("t.Everything")
        .field("i8", SchemaBuilder::int8())
        .field("i16", SchemaBuilder::int16())
        .field("i32", SchemaBuilder::int32())
        .field("i64", SchemaBuilder::int64())
        .field("f32", SchemaBuilder::float32())
        .field("f64", SchemaBuilder::float64())
        .field("flag", SchemaBuilder::boolean())
        .field("text", SchemaBuilder::string())
        .field("blob", SchemaBuilder::bytes())
        .field("price", logical::decimal(Some(20), 4))
        .field("wide", logical::decimal(None, 2).optional())
        .field(
            "day",
            SchemaBuilder::int32()
                .name(logical::CONNECT_DATE)
                .version(1),
        )
        .field(
            "at",
            SchemaBuilder::int64()
                .name(logical::CONNECT_TIMESTAMP)
                .version(1),
        )
        .field("maybe", SchemaBuilder::string().optional())
        .field("absent", SchemaBuilder::int64().optional())
        .field(
            "with_default",
            SchemaBuilder::string()
                .optional()
                .default_value(Value::String("d".into())),
        )
        .field(
            "list",
            SchemaBuilder::array(SchemaBuilder::int32().optional().build_ref()),
        )
        .field(
            "empty",
            SchemaBuilder::array(SchemaBuilder::string().build_ref()),
        )
        .field(
            "tags",
            SchemaBuilder::map(
                SchemaBuilder::string().build_ref(),
                SchemaBuilder::int64().build_ref(),
            ),
        );
    let builder = if int_keyed_map {
        builder.field(
            "by_id",
            SchemaBuilder::map(
                SchemaBuilder::int32().build_ref(),
                SchemaBuilder::string().optional().build_ref(),
            ),
        )
    } else {
        builder
    };
    builder
        .field("point", point.clone())
        .field(
            "maybe_point",
            SchemaBuilder::structure()
                .name("t.Point")
                .field("x", SchemaBuilder::float64())
                .field("y", SchemaBuilder::float64())
                .optional(),
        )
        .field("points", SchemaBuilder::array(point))
        .build_ref()
}

fn everything_value(schema: &SchemaRef) -> Result<Value, Box<dyn std::error::Error>> {
    let point_schema = schema
        .field("point")
        .map(|(_, f)| f.schema.clone())
        .ok_or("point")?;
    let point = |x: f64, y: f64| {
        Value::Struct(
            Struct::new(point_schema.clone())
                .with("x", Value::Float64(x))
                .with("y", Value::Float64(y)),
        )
    };
    let maybe_point_schema = schema
        .field("maybe_point")
        .map(|(_, f)| f.schema.clone())
        .ok_or("maybe_point")?;
    let st = Struct::new(schema.clone())
        .with("i8", Value::Int8(-128))
        .with("i16", Value::Int16(32767))
        .with("i32", Value::Int32(-1))
        .with("i64", Value::Int64(i64::MIN))
        .with("f32", Value::Float32(1.5))
        .with("f64", Value::Float64(-2.25e300))
        .with("flag", true)
        .with("text", "héllo")
        .with("blob", Value::Bytes(vec![0, 1, 0xff]))
        .with(
            "price",
            Value::Bytes(decimal_to_bytes("-1234.5600", 4).ok_or("decimal")?),
        )
        .with(
            "wide",
            Value::Bytes(decimal_to_bytes("12345678901234567890123456789.01", 2).ok_or("decimal")?),
        )
        .with("day", Value::Int32(19000))
        .with("at", Value::Int64(1_700_000_000_123))
        .with("maybe", "here")
        .with("absent", Value::Null)
        .with("with_default", "set")
        .with(
            "list",
            Value::Array(vec![Value::Int32(1), Value::Null, Value::Int32(3)]),
        )
        .with("empty", Value::Array(vec![]))
        .with(
            "tags",
            // One entry: apache-avro's re-encoding of maps is unordered (see round_trip).
            Value::Map(vec![(Value::from("a"), Value::Int64(1))]),
        )
        .with("point", point(1.0, 2.0))
        .with(
            "maybe_point",
            Value::Struct(
                Struct::new(maybe_point_schema)
                    .with("x", Value::Float64(3.0))
                    .with("y", Value::Float64(4.0)),
            ),
        )
        .with("points", Value::Array(vec![point(5.0, 6.0)]));
    let st = if schema.field("by_id").is_some() {
        st.with(
            "by_id",
            Value::Map(vec![
                (Value::Int32(7), Value::from("seven")),
                (Value::Int32(8), Value::Null),
            ]),
        )
    } else {
        st
    };
    Ok(Value::Struct(st))
}

#[test]
fn every_type_round_trips_through_apache_avro() -> TestResult {
    let schema = everything_schema();
    let value = everything_value(&schema)?;
    let (_, decoded, back) = round_trip(&schema, &value)?;
    assert!(same_data(&back, &value), "{back:?}\n!=\n{value:?}");
    // Spot-check what apache-avro sees: logical types and union branches.
    let Avro::Record(fields) = decoded else {
        return Err("not a record".into());
    };
    let get = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(get("day"), Some(Avro::Date(19000)));
    assert_eq!(get("at"), Some(Avro::TimestampMillis(1_700_000_000_123)));
    assert_eq!(get("absent"), Some(Avro::Union(0, Box::new(Avro::Null))));
    assert_eq!(
        get("with_default"),
        Some(Avro::Union(0, Box::new(Avro::String("set".into()))))
    );
    assert_eq!(
        get("maybe"),
        Some(Avro::Union(1, Box::new(Avro::String("here".into()))))
    );
    assert!(matches!(get("price"), Some(Avro::Decimal(_))));
    Ok(())
}

/// A Debezium-like change event: six-column `before`/`after` rows (one Avro record, the second
/// a reference to the first), `op`, `ts_ms`.
fn envelope_schema() -> SchemaRef {
    let row = SchemaBuilder::structure()
        .name("p.db.t.Value")
        .field("id", SchemaBuilder::int64())
        .field("name", SchemaBuilder::string().optional())
        .field("qty", SchemaBuilder::int32().optional())
        .field("price", logical::decimal(Some(10), 2).optional())
        .field(
            "created",
            SchemaBuilder::int64()
                .name(logical::DBZ_TIMESTAMP)
                .version(1)
                .optional(),
        )
        .field("note", SchemaBuilder::string().optional())
        .optional()
        .build_ref();
    SchemaBuilder::structure()
        .name("p.db.t.Envelope")
        .field("before", row.clone())
        .field("after", row)
        .field("op", SchemaBuilder::string())
        .field("ts_ms", SchemaBuilder::int64().optional())
        .build_ref()
}

/// An event of `envelope_schema` with the row in `after` (`op` c, u, r) or `before` (d).
fn envelope_value(envelope: &SchemaRef, op: &str) -> Result<Value, Box<dyn std::error::Error>> {
    let row_schema = envelope
        .field("after")
        .map(|(_, f)| f.schema.clone())
        .ok_or("after")?;
    let row = Struct::new(row_schema)
        .with("id", Value::Int64(42))
        .with("name", "widget")
        .with("qty", Value::Null)
        .with(
            "price",
            Value::Bytes(decimal_to_bytes("-19.99", 2).ok_or("decimal")?),
        )
        .with("created", Value::Int64(1_700_000_000_000))
        .with("note", "a note of some length");
    let side = if op == "d" { "before" } else { "after" };
    Ok(Value::Struct(
        Struct::new(envelope.clone())
            .with(side, Value::Struct(row))
            .with("op", op)
            .with("ts_ms", Value::Int64(1)),
    ))
}

#[test]
fn debezium_envelopes_decode_without_apache_avros_generic_values() -> TestResult {
    let envelope = envelope_schema();
    assert!(takes_the_serde_path(&envelope)?);
    for op in ["c", "d"] {
        let value = envelope_value(&envelope, op)?;
        let (_, _, back) = round_trip(&envelope, &value)?;
        assert!(same_data(&back, &value), "{back:?}\n!=\n{value:?}");
    }
    Ok(())
}

/// Debezium's `source` block: required and optional strings and longs, an int, and
/// `snapshot`, an optional enum string whose default makes its union `[string, null]`.
fn debezium_source_block() -> SchemaRef {
    let string = || SchemaBuilder::string().build_ref();
    let optional_string = || SchemaBuilder::string().optional().build_ref();
    let long = || SchemaBuilder::int64().build_ref();
    let optional_long = || SchemaBuilder::int64().optional().build_ref();
    let snapshot = logical::debezium(SchemaBuilder::string(), logical::DBZ_ENUM)
        .parameter(
            "allowed",
            "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental",
        )
        .optional()
        .default_value(Value::from("false"));
    SchemaBuilder::structure()
        .name("io.debezium.connector.example.Source")
        .version(1)
        .field("version", string())
        .field("connector", string())
        .field("name", string())
        .field("ts_ms", long())
        .field("snapshot", snapshot)
        .field("db", string())
        .field("sequence", optional_string())
        .field("ts_us", optional_long())
        .field("ts_ns", optional_long())
        .field("table", optional_string())
        .field("server_id", long())
        .field("gtid", optional_string())
        .field("file", string())
        .field("pos", long())
        .field("row", SchemaBuilder::int32())
        .field("thread", optional_long())
        .field("query", optional_string())
        .build_ref()
}

/// A table's key and change-event schemas as a Debezium source builds them, one column of each
/// kind its columns come as: Connect primitives, decimals, Debezium's time, enum, set and bit
/// types, a geometry struct, and an added column whose default puts `null` second.
fn debezium_table_schemas() -> TableSchemas {
    let column = |b: SchemaBuilder| b.optional().build_ref();
    let debezium = |base: SchemaBuilder, name: &str| column(logical::debezium(base, name));
    let geometry = SchemaBuilder::structure()
        .name(logical::DBZ_GEOMETRY)
        .version(1)
        .doc("Geometry")
        .field("wkb", SchemaBuilder::bytes())
        .field("srid", SchemaBuilder::int32().optional());
    let id = SchemaBuilder::int64().build_ref();
    let row: Vec<(String, SchemaRef)> = [
        ("id", id.clone()),
        ("c_int16", column(SchemaBuilder::int16())),
        ("c_int32", column(SchemaBuilder::int32())),
        ("c_int64", column(SchemaBuilder::int64())),
        ("c_decimal", column(logical::decimal(Some(20), 4))),
        ("c_decimal0", column(logical::decimal(Some(10), 0))),
        ("c_float", column(SchemaBuilder::float32())),
        ("c_double", column(SchemaBuilder::float64())),
        ("c_string", column(SchemaBuilder::string())),
        ("c_bytes", column(SchemaBuilder::bytes())),
        ("c_boolean", column(SchemaBuilder::boolean())),
        (
            "c_date",
            debezium(SchemaBuilder::int32(), logical::DBZ_DATE),
        ),
        (
            "c_year",
            debezium(SchemaBuilder::int32(), logical::DBZ_YEAR),
        ),
        (
            "c_time",
            debezium(SchemaBuilder::int64(), logical::DBZ_MICRO_TIME),
        ),
        (
            "c_datetime",
            debezium(SchemaBuilder::int64(), logical::DBZ_TIMESTAMP),
        ),
        (
            "c_datetime6",
            debezium(SchemaBuilder::int64(), logical::DBZ_MICRO_TIMESTAMP),
        ),
        (
            "c_timestamp",
            debezium(SchemaBuilder::string(), logical::DBZ_ZONED_TIMESTAMP),
        ),
        (
            "c_enum",
            column(
                logical::debezium(SchemaBuilder::string(), logical::DBZ_ENUM)
                    .parameter("allowed", "red,green,blue"),
            ),
        ),
        (
            "c_set",
            column(
                logical::debezium(SchemaBuilder::string(), logical::DBZ_ENUM_SET)
                    .parameter("allowed", "a,b,c"),
            ),
        ),
        (
            "c_bits",
            column(
                logical::debezium(SchemaBuilder::bytes(), logical::DBZ_BITS)
                    .parameter("length", "12"),
            ),
        ),
        ("c_geometry", column(geometry)),
        (
            "c_added",
            column(SchemaBuilder::string().default_value(Value::from("dflt"))),
        ),
    ]
    .into_iter()
    .map(|(name, schema)| (name.to_owned(), schema))
    .collect();
    TableSchemas::new(
        "p.db.t",
        &[("id".to_owned(), id)],
        &row,
        debezium_source_block(),
    )
}

/// Debezium's schema-change records: the key, and the value with `tableChanges`, an array of
/// records holding an optional record with an array of records and optional string arrays.
fn debezium_schema_change_schemas() -> (SchemaRef, SchemaRef) {
    let string = || SchemaBuilder::string().build_ref();
    let optional_string = || SchemaBuilder::string().optional().build_ref();
    let optional_int = || SchemaBuilder::int32().optional().build_ref();
    let optional_boolean = || SchemaBuilder::boolean().optional().build_ref();
    let optional_strings = || SchemaBuilder::array(string()).optional().build_ref();
    let key = SchemaBuilder::structure()
        .name("io.debezium.connector.example.SchemaChangeKey")
        .version(1)
        .field("databaseName", string())
        .build_ref();
    let column = SchemaBuilder::structure()
        .name("io.debezium.connector.schema.Column")
        .version(1)
        .field("name", string())
        .field("jdbcType", SchemaBuilder::int32())
        .field("nativeType", optional_int())
        .field("typeName", string())
        .field("typeExpression", optional_string())
        .field("charsetName", optional_string())
        .field("length", optional_int())
        .field("scale", optional_int())
        .field("position", SchemaBuilder::int32())
        .field("optional", optional_boolean())
        .field("autoIncremented", optional_boolean())
        .field("generated", optional_boolean())
        .field("comment", optional_string())
        .field("defaultValueExpression", optional_string())
        .field("enumValues", optional_strings())
        .build_ref();
    let table = SchemaBuilder::structure()
        .name("io.debezium.connector.schema.Table")
        .version(1)
        .field("defaultCharsetName", optional_string())
        .field("primaryKeyColumnNames", optional_strings())
        .field("columns", SchemaBuilder::array(column))
        .field("comment", optional_string())
        .optional();
    let change = SchemaBuilder::structure()
        .name("io.debezium.connector.schema.Change")
        .version(1)
        .field("type", string())
        .field("id", string())
        .field("table", table)
        .build_ref();
    let value = SchemaBuilder::structure()
        .name("io.debezium.connector.example.SchemaChangeValue")
        .version(1)
        .field("source", debezium_source_block())
        .field("ts_ms", SchemaBuilder::int64())
        .field("databaseName", optional_string())
        .field("schemaName", optional_string())
        .field("ddl", optional_string())
        .field("tableChanges", SchemaBuilder::array(change))
        .build_ref();
    (key, value)
}

/// Every kind of schema a Debezium source registers (keys, change events, schema-change
/// records), built with the shapes of Debezium's own, is read without apache-avro's generic
/// values. Debezium's schemas themselves, as Confluent's converter registered them, are
/// checked end to end by the workspace's `tests/avro_reference.rs`.
#[test]
fn debezium_shaped_schemas_take_the_serde_path() -> TestResult {
    let table = debezium_table_schemas();
    let composite = TableSchemas::new(
        "p.db.composite",
        &[
            ("k1".to_owned(), SchemaBuilder::int32().build_ref()),
            ("k2".to_owned(), SchemaBuilder::string().build_ref()),
        ],
        &[
            ("k1".to_owned(), SchemaBuilder::int32().build_ref()),
            ("k2".to_owned(), SchemaBuilder::string().build_ref()),
            (
                "v".to_owned(),
                SchemaBuilder::int32().optional().build_ref(),
            ),
        ],
        debezium_source_block(),
    );
    let (schema_change_key, schema_change_value) = debezium_schema_change_schemas();
    for (what, schema) in [
        ("table key", table.key.ok_or("no key")?),
        ("change event", table.envelope),
        ("composite key", composite.key.ok_or("no key")?),
        ("composite change event", composite.envelope),
        ("schema-change key", schema_change_key),
        ("schema-change value", schema_change_value),
    ] {
        assert!(takes_the_serde_path(&schema)?, "{what}");
    }
    Ok(())
}

#[test]
fn every_type_with_a_single_connect_reading_takes_the_serde_path() -> TestResult {
    let schema = everything_schema_with(false);
    assert!(takes_the_serde_path(&schema)?);
    let value = everything_value(&schema)?;
    let (_, _, back) = round_trip(&schema, &value)?;
    assert!(same_data(&back, &value), "{back:?}\n!=\n{value:?}");
    // A map with int keys travels as an array of key/value records, read by their names.
    assert!(!takes_the_serde_path(&everything_schema())?);
    Ok(())
}

#[test]
fn general_unions_keep_the_generic_path() -> TestResult {
    let avro = serde_json::json!({"type": "record", "name": "U", "fields": [
        {"name": "u", "type": ["null", "int", "string"]}
    ]});
    let schema = super::connect_schema_from_avro(&avro)?;
    assert!(!takes_the_serde_path(&schema)?);
    Ok(())
}

#[test]
fn records_apache_avro_reads_as_rust_tuples_keep_the_generic_path() -> TestResult {
    let avro = serde_json::json!({"type": "record", "name": "T", "fields": [
        {"name": "a", "type": "int"}, {"name": "b", "type": "string"}
    ], "org.apache.avro.rust.tuple": true});
    let writer = WriterSchema::parse(&avro.to_string())?;
    assert!(!writer.decodes_through_serde());
    let bytes = GenericDatumWriter::builder(writer.avro)
        .build()?
        .write_value_to_vec(Avro::Record(vec![
            ("a".into(), Avro::Int(1)),
            ("b".into(), Avro::String("x".into())),
        ]))?;
    let Value::Struct(st) = writer.to_connect(&bytes)? else {
        return Err("not a struct".into());
    };
    assert_eq!(st.values, [Value::Int32(1), Value::String("x".into())]);
    Ok(())
}

/// Schemas no Connect writer produces (enums, fixed, null as the second branch), written by
/// apache-avro: both decoding paths give the same Connect value.
#[test]
fn foreign_writers_enums_and_fixed_decode_alike_on_both_paths() -> TestResult {
    let avro = serde_json::json!({"type": "record", "name": "F", "namespace": "x", "fields": [
        {"name": "color", "type": {"type": "enum", "name": "Color", "symbols": ["RED", "GREEN"]}},
        {"name": "hash", "type": {"type": "fixed", "name": "Hash", "size": 4}},
        {"name": "later", "type": ["string", "null"]},
        {"name": "amount", "type": {"type": "fixed", "name": "Amount", "size": 3,
            "logicalType": "decimal", "precision": 6, "scale": 2}},
        {"name": "attrs", "type": {"type": "map", "values": ["null", "long"]}},
        {"name": "again", "type": ["null", "Color"]}
    ]});
    let writer = WriterSchema::parse(&avro.to_string())?;
    assert!(writer.decodes_through_serde());
    let record = Avro::Record(vec![
        ("color".into(), Avro::Enum(1, "GREEN".into())),
        ("hash".into(), Avro::Fixed(4, vec![1, 2, 3, 4])),
        (
            "later".into(),
            Avro::Union(0, Box::new(Avro::String("s".into()))),
        ),
        (
            "amount".into(),
            Avro::Decimal(apache_avro::Decimal::from(vec![0xff, 0x85, 0xee])),
        ),
        (
            "attrs".into(),
            Avro::Map(
                [
                    ("b".to_owned(), Avro::Union(1, Box::new(Avro::Long(2)))),
                    ("a".to_owned(), Avro::Union(0, Box::new(Avro::Null))),
                ]
                .into(),
            ),
        ),
        (
            "again".into(),
            Avro::Union(1, Box::new(Avro::Enum(0, "RED".into()))),
        ),
    ]);
    let bytes = GenericDatumWriter::builder(writer.avro)
        .build()?
        .write_value_to_vec(record)?;
    let generic = to_connect_value(&writer.connect, writer.decode(&bytes)?)?;
    let direct = writer.to_connect(&bytes)?;
    assert_eq!(direct, generic);
    let Value::Struct(st) = direct else {
        return Err("not a struct".into());
    };
    assert_eq!(st.get("color"), Some(&Value::String("GREEN".into())));
    assert_eq!(st.get("again"), Some(&Value::String("RED".into())));
    assert_eq!(st.get("hash"), Some(&Value::Bytes(vec![1, 2, 3, 4])));
    Ok(())
}

#[test]
fn maps_with_several_entries_decode_to_the_same_entries() -> TestResult {
    let schema = SchemaBuilder::map(
        SchemaBuilder::string().build_ref(),
        SchemaBuilder::int64().build_ref(),
    )
    .build_ref();
    let value = Value::Map(
        (0..5)
            .map(|i| (Value::String(format!("k{i}")), Value::Int64(i)))
            .collect(),
    );
    let (_, _, back) = round_trip(&schema, &value)?;
    assert!(same_data(&back, &value), "{back:?}");
    Ok(())
}

#[test]
fn known_bytes_for_a_small_record() -> TestResult {
    let schema = SchemaBuilder::structure()
        .name("k")
        .field("id", SchemaBuilder::int64())
        .field("name", SchemaBuilder::string().optional())
        .build_ref();
    let value = Value::Struct(
        Struct::new(schema.clone())
            .with("id", Value::Int64(-3))
            .with("name", "ab"),
    );
    let mut out = Vec::new();
    encode(&schema, &value, &mut out)?;
    // zigzag(-3) = 5; union branch 1 = 2; length 2 = 4; "ab".
    assert_eq!(out, [5, 2, 4, b'a', b'b']);
    Ok(())
}

#[test]
fn null_field_with_a_default_is_written_as_the_default() -> TestResult {
    let schema = SchemaBuilder::structure()
        .name("d")
        .field(
            "s",
            SchemaBuilder::string()
                .optional()
                .default_value(Value::String("dflt".into())),
        )
        .field("n", SchemaBuilder::int32().default_value(Value::Int32(9)))
        .build_ref();
    let mut st = Struct::new(schema.clone());
    st.values = vec![Value::Null, Value::Null];
    let (_, _, back) = round_trip(&schema, &Value::Struct(st))?;
    let Value::Struct(back) = back else {
        return Err("not a struct".into());
    };
    assert_eq!(back.values, [Value::String("dflt".into()), Value::Int32(9)]);
    Ok(())
}

#[test]
fn connect_union_structs_write_the_set_member() -> TestResult {
    let avro = serde_json::json!({"type": "record", "name": "U", "fields": [
        {"name": "u", "type": ["null", "int", "string"]}
    ]});
    let schema = super::connect_schema_from_avro(&avro)?;
    let union = schema.fields[0].schema.clone();
    let member = Struct::new(union).with("string", "s");
    let value = Value::Struct(Struct::new(schema.clone()).with("u", Value::Struct(member)));
    let (bytes, _, back) = round_trip(&schema, &value)?;
    assert_eq!(bytes, [4, 2, b's']);
    assert!(same_data(&back, &value));
    Ok(())
}

#[test]
fn encoding_errors_name_the_field() {
    let schema = SchemaBuilder::structure()
        .name("e")
        .field("id", SchemaBuilder::int64())
        .build_ref();
    let mut out = Vec::new();
    let missing = Value::Struct(Struct {
        schema: schema.clone(),
        values: vec![Value::Null],
    });
    let err = encode(&schema, &missing, &mut out)
        .err()
        .unwrap_or_default();
    assert!(err.contains("'id'") && err.contains("null"), "{err}");
    let wrong = Value::Struct(Struct {
        schema: schema.clone(),
        values: vec![Value::from("x")],
    });
    let err = encode(&schema, &wrong, &mut out).err().unwrap_or_default();
    assert!(err.contains("'id'") && err.contains("int64"), "{err}");
}

#[test]
fn truncated_bodies_fail_to_decode() -> TestResult {
    let schema = everything_schema();
    let value = everything_value(&schema)?;
    let mut bytes = Vec::new();
    encode(&schema, &value, &mut bytes)?;
    let writer = WriterSchema::parse(&avro_schema_from_connect(&schema)?.to_string())?;
    assert!(writer.decode(&bytes[..bytes.len() / 2]).is_err());
    assert!(writer.to_connect(&bytes[..bytes.len() / 2]).is_err());
    let envelope = envelope_schema();
    bytes.clear();
    encode(&envelope, &envelope_value(&envelope, "c")?, &mut bytes)?;
    let writer = WriterSchema::parse(&avro_schema_from_connect(&envelope)?.to_string())?;
    assert!(writer.decodes_through_serde());
    assert!(writer.to_connect(&bytes[..bytes.len() - 3]).is_err());
    Ok(())
}

#[test]
fn corrupt_data_in_an_envelope_names_the_field_it_is_in() -> TestResult {
    let envelope = envelope_schema();
    let mut bytes = Vec::new();
    encode(&envelope, &envelope_value(&envelope, "c")?, &mut bytes)?;
    let at = bytes
        .windows(6)
        .position(|w| w == b"widget")
        .ok_or("the name's bytes")?;
    bytes[at] = 0xff;
    let writer = WriterSchema::parse(&avro_schema_from_connect(&envelope)?.to_string())?;
    assert!(writer.decodes_through_serde());
    let error = writer
        .to_connect(&bytes)
        .err()
        .ok_or("invalid UTF-8 decoded")?;
    assert!(
        error.starts_with(
            "Avro data does not match its writer schema: field 'after': field 'name': "
        ) && error.matches("field").count() == 2,
        "the error names the path to the value: {error}"
    );
    // The next record decodes: nothing is left behind by the failed one.
    bytes[at] = b'w';
    assert_eq!(writer.to_connect(&bytes)?, envelope_value(&envelope, "c")?);
    Ok(())
}

/// Encoding speed of a six-column Debezium-like row; run with `--ignored --nocapture` (the
/// numbers of a debug build are a floor, release is several times faster).
#[test]
#[ignore]
fn encode_throughput() -> TestResult {
    let envelope = envelope_schema();
    let value = envelope_value(&envelope, "c")?;
    let n = 200_000;
    let start = std::time::Instant::now();
    let mut total = 0;
    for _ in 0..n {
        let mut out = Vec::with_capacity(256);
        encode(&envelope, &value, &mut out)?;
        total += out.len();
    }
    let secs = start.elapsed().as_secs_f64();
    println!("{:.0} records/s ({total} bytes)", f64::from(n) / secs);
    Ok(())
}
