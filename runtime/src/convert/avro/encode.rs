//! Connect value → Avro binary, written straight from the Connect schema.
//!
//! This is the producer's hot path, so it allocates nothing per record beyond the output
//! buffer: no intermediate Avro values, no schema lookups. The union branch of each optional
//! value follows the translation of [`super::to_avro`] (null first, unless a non-null default
//! put the value first), so the bytes agree with the schema we register.

use crate::data::{Schema, Type, Value};

use super::to_avro::{is_union_struct, optional_branches};

/// Appends the Avro binary encoding of `value` (per `schema`) to `out`.
pub(crate) fn encode(schema: &Schema, value: &Value, out: &mut Vec<u8>) -> Result<(), String> {
    encode_value(schema, value, out, false)
}

/// `as_union_member` skips the optional wrapping: a union member is never itself a union.
fn encode_value(
    schema: &Schema,
    value: &Value,
    out: &mut Vec<u8>,
    as_union_member: bool,
) -> Result<(), String> {
    if is_union_struct(schema) {
        return encode_union_struct(schema, value, out);
    }
    if schema.optional && !as_union_member {
        let (null_branch, value_branch) = optional_branches(schema);
        if value.is_null() {
            write_long(out, i64::from(null_branch));
            return Ok(());
        }
        write_long(out, i64::from(value_branch));
    } else if value.is_null() {
        return Err(format!(
            "null value for a required {} schema{}",
            schema.ty,
            name_suffix(schema)
        ));
    }

    match (schema.ty, value) {
        (Type::Int8, Value::Int8(v)) => write_long(out, i64::from(*v)),
        (Type::Int16, Value::Int8(v)) => write_long(out, i64::from(*v)),
        (Type::Int16, Value::Int16(v)) => write_long(out, i64::from(*v)),
        (Type::Int32, Value::Int8(v)) => write_long(out, i64::from(*v)),
        (Type::Int32, Value::Int16(v)) => write_long(out, i64::from(*v)),
        (Type::Int32, Value::Int32(v)) => write_long(out, i64::from(*v)),
        (Type::Int64, Value::Int8(_) | Value::Int16(_) | Value::Int32(_) | Value::Int64(_)) => {
            write_long(out, value.as_i64().unwrap_or_default())
        }
        (Type::Float32, Value::Float32(v)) => out.extend_from_slice(&v.to_le_bytes()),
        (Type::Float64, Value::Float64(v)) => out.extend_from_slice(&v.to_le_bytes()),
        (Type::Float64, Value::Float32(v)) => out.extend_from_slice(&f64::from(*v).to_le_bytes()),
        (Type::Boolean, Value::Boolean(v)) => out.push(u8::from(*v)),
        (Type::String, Value::String(s)) => write_bytes(out, s.as_bytes()),
        (Type::Bytes, Value::Bytes(b)) => write_bytes(out, b),
        (Type::Array, Value::Array(items)) => {
            let elem = schema
                .value_schema
                .as_deref()
                .ok_or("array schema without element schema")?;
            if !items.is_empty() {
                write_long(out, items.len() as i64);
                for item in items {
                    encode_value(elem, item, out, false)?;
                }
            }
            out.push(0);
        }
        (Type::Map, Value::Map(entries)) => encode_map(schema, entries, out)?,
        (Type::Struct, Value::Struct(st)) => {
            if st.values.len() != schema.fields.len() {
                return Err(format!(
                    "struct has {} values but its schema{} has {} fields",
                    st.values.len(),
                    name_suffix(schema),
                    schema.fields.len()
                ));
            }
            for (field, v) in schema.fields.iter().zip(&st.values) {
                // Connect's Struct.get returns the field's default for a null.
                let v = match (v, &field.schema.default) {
                    (Value::Null, Some(d)) => d,
                    _ => v,
                };
                encode_value(&field.schema, v, out, false)
                    .map_err(|e| format!("field '{}': {e}", field.name))?;
            }
        }
        (ty, v) => {
            return Err(format!(
                "{} value {v:?} does not fit a {ty} schema{}",
                kind(v),
                name_suffix(schema)
            ))
        }
    }
    Ok(())
}

/// Maps with required string keys are Avro maps; others are arrays of `{key, value}` records.
fn encode_map(
    schema: &Schema,
    entries: &[(Value, Value)],
    out: &mut Vec<u8>,
) -> Result<(), String> {
    let (keys, values) = match (schema.key_schema.as_deref(), schema.value_schema.as_deref()) {
        (Some(k), Some(v)) => (k, v),
        _ => return Err("map schema without key or value schema".into()),
    };
    let string_keys = keys.ty == Type::String && !keys.optional;
    if !entries.is_empty() {
        write_long(out, entries.len() as i64);
        for (k, v) in entries {
            if string_keys {
                let Value::String(k) = k else {
                    return Err(format!("map key {k:?} is not a string"));
                };
                write_bytes(out, k.as_bytes());
            } else {
                encode_value(keys, k, out, false)?;
            }
            encode_value(values, v, out, false)?;
        }
    }
    out.push(0);
    Ok(())
}

/// A Connect union struct holds its value in the first non-null field; the Avro branch is that
/// field's position (after `null` when the union is optional).
fn encode_union_struct(schema: &Schema, value: &Value, out: &mut Vec<u8>) -> Result<(), String> {
    let offset = usize::from(schema.optional);
    if let Value::Struct(st) = value {
        for (i, (field, v)) in schema.fields.iter().zip(&st.values).enumerate() {
            let v = match (v, &field.schema.default) {
                (Value::Null, Some(d)) => d,
                _ => v,
            };
            if !v.is_null() {
                write_long(out, (i + offset) as i64);
                return encode_value(&field.schema, v, out, true);
            }
        }
    } else if !value.is_null() {
        return Err(format!("a union needs a struct value, got {value:?}"));
    }
    if schema.optional {
        write_long(out, 0);
        Ok(())
    } else {
        Err("union value has no member set and the union is not optional".into())
    }
}

/// Avro `int`/`long`: zigzag, then base-128 varint, least significant group first.
pub(crate) fn write_long(out: &mut Vec<u8>, n: i64) {
    let mut z = ((n << 1) ^ (n >> 63)) as u64;
    while z >= 0x80 {
        out.push((z as u8) | 0x80);
        z >>= 7;
    }
    out.push(z as u8);
}

fn write_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    write_long(out, bytes.len() as i64);
    out.extend_from_slice(bytes);
}

fn name_suffix(schema: &Schema) -> String {
    schema
        .name
        .as_deref()
        .map(|n| format!(" '{n}'"))
        .unwrap_or_default()
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Boolean(_) => "boolean",
        Value::Int8(_) => "int8",
        Value::Int16(_) => "int16",
        Value::Int32(_) => "int32",
        Value::Int64(_) => "int64",
        Value::Float32(_) => "float32",
        Value::Float64(_) => "float64",
        Value::String(_) => "string",
        Value::Bytes(_) => "bytes",
        Value::Array(_) => "array",
        Value::Map(_) => "map",
        Value::Struct(_) => "struct",
    }
}
