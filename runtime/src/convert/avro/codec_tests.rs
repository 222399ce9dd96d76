//! Our Avro encoder checked against apache-avro: what we write decodes with the schema we
//! register, re-encodes to the same bytes, and maps back to the same Connect value.

use apache_avro::types::Value as Avro;
use apache_avro::writer::datum::GenericDatumWriter;

use super::decode::to_connect_value;
use super::encode::encode;
use super::to_avro::avro_schema_from_connect;
use super::writer_schema::WriterSchema;
use crate::data::logical::{self, decimal_to_bytes};
use crate::data::{SchemaBuilder, SchemaRef, Struct, Value};

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
    Ok((bytes, decoded, connect))
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
    let point = SchemaBuilder::structure()
        .name("t.Point")
        .field("x", SchemaBuilder::float64())
        .field("y", SchemaBuilder::float64())
        .build_ref();
    SchemaBuilder::structure()
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
        )
        .field(
            "by_id",
            SchemaBuilder::map(
                SchemaBuilder::int32().build_ref(),
                SchemaBuilder::string().optional().build_ref(),
            ),
        )
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
        .with(
            "by_id",
            Value::Map(vec![
                (Value::Int32(7), Value::from("seven")),
                (Value::Int32(8), Value::Null),
            ]),
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
    Ok(())
}

/// Encoding speed of a six-column Debezium-like row; run with `--ignored --nocapture` (the
/// numbers of a debug build are a floor, release is several times faster).
#[test]
#[ignore]
fn encode_throughput() -> TestResult {
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
    let envelope = SchemaBuilder::structure()
        .name("p.db.t.Envelope")
        .field("before", row.clone())
        .field("after", row.clone())
        .field("op", SchemaBuilder::string())
        .field("ts_ms", SchemaBuilder::int64().optional())
        .build_ref();
    let after = Struct::new(row)
        .with("id", Value::Int64(42))
        .with("name", "widget")
        .with("qty", Value::Int32(7))
        .with(
            "price",
            Value::Bytes(decimal_to_bytes("19.99", 2).ok_or("decimal")?),
        )
        .with("created", Value::Int64(1_700_000_000_000))
        .with("note", "a note of some length");
    let value = Value::Struct(
        Struct::new(envelope.clone())
            .with("after", Value::Struct(after))
            .with("op", "c")
            .with("ts_ms", Value::Int64(1)),
    );
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
