//! Connect values as readable JSON, for the lines the FileStream sink writes.
//!
//! Kafka's sink writes Java's `toString()` of a value (`Struct{id=1,…}`), which nothing can
//! parse. We write JSON instead so that the quickstart's output file is JSON lines: the
//! payload as Connect's `JsonConverter` would show it without its schema envelope, except
//! that decimals are shown as their decimal text rather than base64.

use base64::Engine;
use serde_json::{Map, Number};
use tributary_runtime::data::{logical, Schema, Value};
use tributary_runtime::record::SchemaAndValue;

/// The line written for a record's value: a string as is, anything else as JSON.
pub fn render_line(value: &SchemaAndValue) -> String {
    match &value.value {
        Value::String(s) => s.clone(),
        other => to_json(value.schema.as_deref(), other).to_string(),
    }
}

/// A Connect value as JSON. Structs become objects (fields in schema order), decimals their
/// decimal text (`"12.50"`, using the schema's `scale`), other bytes base64, maps with string
/// keys objects (other maps arrays of `[key, value]` pairs), non-finite floats strings.
pub fn to_json(schema: Option<&Schema>, value: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        Value::Null => J::Null,
        Value::Boolean(b) => J::Bool(*b),
        Value::Int8(v) => J::from(*v),
        Value::Int16(v) => J::from(*v),
        Value::Int32(v) => J::from(*v),
        Value::Int64(v) => J::from(*v),
        Value::Float32(v) => float(f64::from(*v)),
        Value::Float64(v) => float(*v),
        Value::String(s) => J::String(s.clone()),
        Value::Bytes(b) => match schema.filter(|s| s.is_named(logical::DECIMAL)) {
            Some(s) => {
                let scale = s
                    .parameter(logical::DECIMAL_SCALE)
                    .and_then(|p| p.trim().parse::<u32>().ok())
                    .unwrap_or(0);
                J::String(logical::decimal_from_bytes(b, scale))
            }
            None => J::String(base64::engine::general_purpose::STANDARD.encode(b)),
        },
        Value::Array(items) => {
            let element = schema.and_then(|s| s.value_schema.as_deref());
            J::Array(items.iter().map(|v| to_json(element, v)).collect())
        }
        Value::Map(entries) => {
            let key_schema = schema.and_then(|s| s.key_schema.as_deref());
            let value_schema = schema.and_then(|s| s.value_schema.as_deref());
            if entries.iter().all(|(k, _)| matches!(k, Value::String(_))) {
                let mut object = Map::new();
                for (k, v) in entries {
                    if let Value::String(k) = k {
                        object.insert(k.clone(), to_json(value_schema, v));
                    }
                }
                J::Object(object)
            } else {
                J::Array(
                    entries
                        .iter()
                        .map(|(k, v)| {
                            J::Array(vec![to_json(key_schema, k), to_json(value_schema, v)])
                        })
                        .collect(),
                )
            }
        }
        Value::Struct(s) => {
            let mut object = Map::new();
            for (field, v) in s.schema.fields.iter().zip(&s.values) {
                object.insert(field.name.clone(), to_json(Some(&field.schema), v));
            }
            J::Object(object)
        }
    }
}

fn float(v: f64) -> serde_json::Value {
    Number::from_f64(v).map_or_else(
        || serde_json::Value::String(v.to_string()),
        serde_json::Value::Number,
    )
}

#[cfg(test)]
mod tests {
    use tributary_runtime::data::{SchemaBuilder, Struct};

    use super::*;

    #[test]
    fn decimals_use_the_scale_of_their_schema() {
        let schema = logical::decimal(Some(12), 2).build();
        let v = Value::Bytes(logical::decimal_i128_to_bytes(-1250));
        assert_eq!(to_json(Some(&schema), &v), serde_json::json!("-12.50"));
    }

    #[test]
    fn bytes_without_a_decimal_schema_are_base64() {
        let schema = SchemaBuilder::bytes().build();
        let v = Value::Bytes(vec![0, 1, 2, 255]);
        assert_eq!(to_json(Some(&schema), &v), serde_json::json!("AAEC/w=="));
        assert_eq!(to_json(None, &v), serde_json::json!("AAEC/w=="));
    }

    #[test]
    fn maps_with_string_keys_are_objects_others_are_pairs() {
        let by_name = Value::Map(vec![(Value::from("a"), Value::Int32(1))]);
        assert_eq!(to_json(None, &by_name), serde_json::json!({"a": 1}));
        let by_number = Value::Map(vec![(Value::Int32(7), Value::from("x"))]);
        assert_eq!(to_json(None, &by_number), serde_json::json!([[7, "x"]]));
    }

    #[test]
    fn non_finite_floats_become_strings() {
        assert_eq!(
            to_json(None, &Value::Float64(f64::NAN)),
            serde_json::json!("NaN")
        );
        assert_eq!(to_json(None, &Value::Float32(1.5)), serde_json::json!(1.5));
    }

    #[test]
    fn nested_structs_and_arrays_keep_field_order() {
        let inner = SchemaBuilder::structure()
            .name("inner")
            .field("z", SchemaBuilder::int8().build_ref())
            .field("a", SchemaBuilder::boolean().build_ref())
            .build_ref();
        let outer = SchemaBuilder::structure()
            .field("list", SchemaBuilder::array(inner.clone()).build_ref())
            .build_ref();
        let item = Struct::new(inner).with("z", Value::Int8(1)).with("a", true);
        let value =
            Struct::new(outer.clone()).with("list", Value::Array(vec![Value::Struct(item)]));
        let line = render_line(&SchemaAndValue::new(outer, Value::Struct(value)));
        assert_eq!(line, r#"{"list":[{"z":1,"a":true}]}"#);
    }
}
