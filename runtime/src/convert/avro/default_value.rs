//! Connect default values as the JSON Avro schemas carry them (`"default"` of a field and the
//! `connect.default` property), both ways, following `AvroData.defaultValueFromConnect` and
//! `defaultValueFromAvro`.

use serde_json::{Map, Number, Value as Json};

use crate::data::{Schema, Struct, Type, Value};

/// Where a default is written: Avro re-reads a field's `"default"` through Java objects, which
/// widens a float to a double, while `connect.default` keeps Jackson's float node.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum DefaultSite {
    Field,
    ConnectProperty,
}

/// The JSON of a Connect default value.
pub(crate) fn default_to_json(
    schema: &Schema,
    value: &Value,
    site: DefaultSite,
) -> Result<Json, String> {
    if value.is_null() {
        return Ok(Json::Null);
    }
    let mismatch = || {
        format!(
            "default value {value:?} does not fit a {} schema",
            schema.ty
        )
    };
    Ok(match (schema.ty, value) {
        (Type::Int8 | Type::Int16 | Type::Int32 | Type::Int64, v) => {
            Json::from(v.as_i64().ok_or_else(mismatch)?)
        }
        (Type::Float32, Value::Float32(f)) => float_json(*f, site)?,
        (Type::Float64, Value::Float64(f)) => finite(*f)?,
        (Type::Float64, Value::Float32(f)) => finite(f64::from(*f))?,
        (Type::Boolean, Value::Boolean(b)) => Json::Bool(*b),
        (Type::String, Value::String(s)) => Json::String(s.clone()),
        // Avro's JSON encoding of bytes: one char per byte (ISO-8859-1).
        (Type::Bytes, Value::Bytes(b)) => Json::String(b.iter().map(|&c| char::from(c)).collect()),
        (Type::Array, Value::Array(items)) => {
            let elem = schema
                .value_schema
                .as_deref()
                .ok_or("array schema without element schema")?;
            Json::Array(
                items
                    .iter()
                    .map(|v| default_to_json(elem, v, site))
                    .collect::<Result<_, _>>()?,
            )
        }
        (Type::Map, Value::Map(entries)) => {
            let (key_schema, value_schema) = map_schemas(schema)?;
            if key_schema.ty == Type::String && !key_schema.optional {
                let mut obj = Map::new();
                for (k, v) in entries {
                    let key = k.as_str().ok_or_else(mismatch)?;
                    obj.insert(key.to_owned(), default_to_json(value_schema, v, site)?);
                }
                Json::Object(obj)
            } else {
                let mut pairs = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    pairs.push(Json::Array(vec![
                        default_to_json(key_schema, k, site)?,
                        default_to_json(value_schema, v, site)?,
                    ]));
                }
                Json::Array(pairs)
            }
        }
        (Type::Struct, Value::Struct(st)) => {
            let mut obj = Map::new();
            for (field, v) in schema.fields.iter().zip(&st.values) {
                // Connect's Struct.get falls back to the field's own default.
                let v = match (v, &field.schema.default) {
                    (Value::Null, Some(d)) => d,
                    _ => v,
                };
                obj.insert(field.name.clone(), default_to_json(&field.schema, v, site)?);
            }
            Json::Object(obj)
        }
        _ => return Err(mismatch()),
    })
}

/// The Connect value of an Avro default. `avro_type` is the (resolved) Avro type the default
/// belongs to; `resolve` looks up named types referenced inside it.
pub(crate) fn default_from_json<'a>(
    schema: &Schema,
    avro_type: &'a Json,
    json: &Json,
    resolve: &dyn Fn(&'a Json) -> Option<&'a Json>,
) -> Result<Option<Value>, String> {
    if json.is_null() {
        return Ok(None);
    }
    let avro_type = resolve(avro_type).unwrap_or(avro_type);
    let type_name = match avro_type {
        Json::String(s) => s.as_str(),
        Json::Object(o) => o.get("type").and_then(Json::as_str).unwrap_or(""),
        Json::Array(_) => "union",
        _ => "",
    };
    let bad = || format!("invalid default {json} for Avro type {type_name}");
    let value = match type_name {
        "int" => {
            let i = json.as_i64().ok_or_else(bad)?;
            match schema.ty {
                Type::Int8 => Value::Int8(i as i8),
                Type::Int16 => Value::Int16(i as i16),
                _ => Value::Int32(i as i32),
            }
        }
        "long" => Value::Int64(json.as_i64().ok_or_else(bad)?),
        "float" => Value::Float32(json.as_f64().ok_or_else(bad)? as f32),
        "double" => Value::Float64(json.as_f64().ok_or_else(bad)?),
        "boolean" => Value::Boolean(json.as_bool().ok_or_else(bad)?),
        "string" | "enum" => Value::String(match json {
            Json::String(s) => s.clone(),
            other => other.to_string(),
        }),
        "bytes" | "fixed" => match json {
            Json::String(s) => Value::Bytes(latin1_bytes(s).ok_or_else(bad)?),
            _ => return Err(bad()),
        },
        "array" => {
            let items_type = avro_type.get("items").ok_or("array without items")?;
            let elem = schema
                .value_schema
                .as_deref()
                .ok_or("array schema without element schema")?;
            let mut out = Vec::new();
            for item in json.as_array().ok_or_else(bad)? {
                out.push(
                    default_from_json(elem, items_type, item, resolve)?.unwrap_or(Value::Null),
                );
            }
            Value::Array(out)
        }
        "map" => {
            let values_type = avro_type.get("values").ok_or("map without values")?;
            let (_, value_schema) = map_schemas(schema)?;
            let mut out = Vec::new();
            for (k, v) in json.as_object().ok_or_else(bad)? {
                let v = default_from_json(value_schema, values_type, v, resolve)?;
                out.push((Value::String(k.clone()), v.unwrap_or(Value::Null)));
            }
            Value::Map(out)
        }
        "record" | "error" => {
            let obj = json.as_object().ok_or_else(bad)?;
            let avro_fields = avro_type
                .get("fields")
                .and_then(Json::as_array)
                .ok_or("record without fields")?;
            let schema_ref = std::sync::Arc::new(schema.clone());
            let mut st = Struct::new(schema_ref);
            for avro_field in avro_fields {
                let name = avro_field.get("name").and_then(Json::as_str).unwrap_or("");
                let (Some((i, field)), Some(field_type)) =
                    (schema.field(name), avro_field.get("type"))
                else {
                    continue;
                };
                let v = match obj.get(name) {
                    Some(j) => default_from_json(&field.schema, field_type, j, resolve)?,
                    None => None,
                };
                st.values[i] = v.unwrap_or(Value::Null);
            }
            Value::Struct(st)
        }
        // A union's default belongs to its first member; Connect holds it in the union struct's
        // field for that member.
        "union" => {
            let first = avro_type
                .as_array()
                .and_then(|m| m.first())
                .ok_or("empty union")?;
            let first = resolve(first).unwrap_or(first);
            if is_null_type(first) {
                return Ok(None);
            }
            let Some(field) = schema.fields.first() else {
                return Ok(None);
            };
            let inner = default_from_json(&field.schema, first, json, resolve)?;
            let mut st = Struct::new(std::sync::Arc::new(schema.clone()));
            st.values[0] = inner.unwrap_or(Value::Null);
            Value::Struct(st)
        }
        _ => return Ok(None),
    };
    Ok(Some(value))
}

pub(crate) fn is_null_type(avro_type: &Json) -> bool {
    match avro_type {
        Json::String(s) => s == "null",
        Json::Object(o) => o.get("type").and_then(Json::as_str) == Some("null"),
        _ => false,
    }
}

fn map_schemas(schema: &Schema) -> Result<(&Schema, &Schema), String> {
    match (schema.key_schema.as_deref(), schema.value_schema.as_deref()) {
        (Some(k), Some(v)) => Ok((k, v)),
        _ => Err("map schema without key or value schema".into()),
    }
}

fn finite(f: f64) -> Result<Json, String> {
    Number::from_f64(f)
        .map(Json::Number)
        .ok_or_else(|| format!("default value {f} cannot be written in JSON"))
}

fn float_json(f: f32, site: DefaultSite) -> Result<Json, String> {
    match site {
        DefaultSite::Field => finite(f64::from(f)),
        // Jackson prints a float node with the float's own shortest digits (1.1, not
        // 1.100000023841858); reading those digits as a double prints them back unchanged.
        DefaultSite::ConnectProperty => {
            let shortest: f64 = f
                .to_string()
                .parse()
                .map_err(|_| format!("default value {f} is not finite"))?;
            finite(shortest)
        }
    }
}

/// Bytes of a string of chars ≤ U+00FF (Avro's JSON encoding of bytes).
fn latin1_bytes(s: &str) -> Option<Vec<u8>> {
    s.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::SchemaBuilder;

    #[test]
    fn bytes_defaults_are_latin1_strings_both_ways() {
        let schema = SchemaBuilder::bytes().build();
        let json = default_to_json(
            &schema,
            &Value::Bytes(vec![0, 0x41, 0xff]),
            DefaultSite::Field,
        );
        assert_eq!(json, Ok(Json::String("\u{0}A\u{ff}".into())));
        let back = default_from_json(
            &schema,
            &Json::from("bytes"),
            &Json::String("\u{0}A\u{ff}".into()),
            &|_| None,
        );
        assert_eq!(back, Ok(Some(Value::Bytes(vec![0, 0x41, 0xff]))));
    }

    #[test]
    fn float_property_keeps_float_digits() {
        let schema = SchemaBuilder::float32().build();
        let prop = default_to_json(&schema, &Value::Float32(1.1), DefaultSite::ConnectProperty);
        assert_eq!(prop.map(|j| j.to_string()), Ok("1.1".to_owned()));
    }
}
