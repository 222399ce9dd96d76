//! Avro binary → Connect value: apache-avro decodes the body with the writer schema
//! ([`super::writer_schema`]), then the result is mapped onto the Connect schema derived from
//! that same writer schema ([`super::from_avro`]), as `AvroData.toConnectData` does.

use std::collections::HashMap;

use apache_avro::types::Value as Avro;

use super::to_avro::is_union_struct;
use crate::data::{Schema, SchemaRef, Struct, Type, Value};

/// The Connect value of a decoded Avro value, following `schema`.
pub(crate) fn to_connect_value(schema: &SchemaRef, value: Avro) -> Result<Value, String> {
    let value = match value {
        Avro::Union(branch, inner) => {
            if is_union_struct(schema) {
                return union_struct(schema, branch, *inner);
            }
            *inner
        }
        other => other,
    };
    if matches!(value, Avro::Null) {
        return null(schema);
    }
    let mismatch = |v: &Avro| {
        format!(
            "Avro value {v:?} does not fit a Connect {} schema",
            schema.ty
        )
    };
    Ok(match (schema.ty, value) {
        (Type::Boolean, Avro::Boolean(b)) => Value::Boolean(b),
        // Java's AvroData narrows with byteValue()/shortValue(): truncation, not an error.
        (Type::Int8, Avro::Int(i)) => Value::Int8(i as i8),
        (Type::Int16, Avro::Int(i)) => Value::Int16(i as i16),
        (Type::Int32, Avro::Int(i) | Avro::Date(i) | Avro::TimeMillis(i)) => Value::Int32(i),
        (
            Type::Int64,
            Avro::Long(i)
            | Avro::TimestampMillis(i)
            | Avro::TimestampMicros(i)
            | Avro::TimestampNanos(i)
            | Avro::TimeMicros(i)
            | Avro::LocalTimestampMillis(i)
            | Avro::LocalTimestampMicros(i)
            | Avro::LocalTimestampNanos(i),
        ) => Value::Int64(i),
        (Type::Float32, Avro::Float(f)) => Value::Float32(f),
        (Type::Float64, Avro::Double(f)) => Value::Float64(f),
        (Type::String, Avro::String(s) | Avro::Enum(_, s)) => Value::String(s),
        (Type::String, Avro::Uuid(u)) => Value::String(u.to_string()),
        (Type::Bytes, Avro::Bytes(b) | Avro::Fixed(_, b)) => Value::Bytes(b),
        (Type::Bytes, Avro::Decimal(d)) => {
            Value::Bytes(Vec::<u8>::try_from(&d).map_err(|e| format!("decimal: {e}"))?)
        }
        (Type::Bytes, Avro::Uuid(u)) => Value::Bytes(u.as_bytes().to_vec()),
        (Type::Array, Avro::Array(items)) => array(schema, items)?,
        (Type::Map, Avro::Map(entries)) => string_map(schema, entries)?,
        // Maps with non-string keys travel as arrays of {key, value} records.
        (Type::Map, Avro::Array(entries)) => {
            let (keys, values) = match (&schema.key_schema, &schema.value_schema) {
                (Some(k), Some(v)) => (k, v),
                _ => return Err("map schema without key or value schema".into()),
            };
            let mut out = Vec::with_capacity(entries.len());
            for entry in entries {
                let Avro::Record(fields) = entry else {
                    return Err(format!("map entry is not a record: {entry:?}"));
                };
                let mut key = None;
                let mut value = None;
                for (name, v) in fields {
                    match name.as_str() {
                        "key" => key = Some(to_connect_value(keys, v)?),
                        "value" => value = Some(to_connect_value(values, v)?),
                        _ => {}
                    }
                }
                match (key, value) {
                    (Some(k), Some(v)) => out.push((k, v)),
                    _ => return Err("map entry record without key or value".into()),
                }
            }
            Value::Map(out)
        }
        (Type::Struct, Avro::Record(fields)) => record(schema, fields)?,
        (_, other) => return Err(mismatch(&other)),
    })
}

/// A null read for `schema`: Connect's null where the schema is optional.
pub(super) fn null(schema: &Schema) -> Result<Value, String> {
    if schema.optional {
        Ok(Value::Null)
    } else {
        Err(format!("null for a required {} schema", schema.ty))
    }
}

/// The Connect array of `items`, each mapped onto the element schema.
fn array(schema: &Schema, items: Vec<Avro>) -> Result<Value, String> {
    let elem = schema
        .value_schema
        .as_ref()
        .ok_or("array schema without element schema")?;
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        out.push(to_connect_value(elem, item)?);
    }
    Ok(Value::Array(out))
}

/// The Connect map of an Avro map's entries, each value mapped onto the map's value schema.
fn string_map(schema: &Schema, entries: HashMap<String, Avro>) -> Result<Value, String> {
    let values = schema
        .value_schema
        .as_ref()
        .ok_or("map schema without value schema")?;
    let mut out = Vec::with_capacity(entries.len());
    for (k, v) in entries {
        out.push((Value::String(k), to_connect_value(values, v)?));
    }
    Ok(in_key_order(out))
}

/// A Connect map of an Avro map's entries in key order: Avro maps are unordered, and a stable
/// order keeps equal records equal.
pub(super) fn in_key_order(mut entries: Vec<(Value, Value)>) -> Value {
    entries.sort_by(|a, b| a.0.as_str().cmp(&b.0.as_str()));
    Value::Map(entries)
}

fn record(schema: &SchemaRef, fields: Vec<(String, Avro)>) -> Result<Value, String> {
    // The usual case, the writer's own fields in its order: taken as they come.
    if fields.len() == schema.fields.len()
        && fields
            .iter()
            .zip(&schema.fields)
            .all(|((name, _), f)| *name == f.name)
    {
        return record_in_order(schema, fields.into_iter().map(|(_, v)| Some(v)));
    }
    let mut values: Vec<Option<Avro>> = Vec::with_capacity(schema.fields.len());
    values.resize_with(schema.fields.len(), || None);
    for (i, (name, v)) in fields.into_iter().enumerate() {
        // Fields normally come in schema order; look the name up only when they do not.
        let index = match schema.fields.get(i) {
            Some(f) if f.name == name => Some(i),
            _ => schema.field(&name).map(|(j, _)| j),
        };
        if let Some(j) = index {
            values[j] = Some(v);
        }
    }
    record_in_order(schema, values.into_iter())
}

/// The struct of `values` given in the schema's field order (`None`: the writer lacks it).
fn record_in_order(
    schema: &SchemaRef,
    values: impl Iterator<Item = Option<Avro>>,
) -> Result<Value, String> {
    let mut out = Vec::with_capacity(schema.fields.len());
    for (field, v) in schema.fields.iter().zip(values) {
        let v = match v {
            Some(v) => to_connect_value(&field.schema, v)
                .map_err(|e| format!("field '{}': {e}", field.name))?,
            None => Value::Null,
        };
        out.push(v);
    }
    Ok(Value::Struct(Struct {
        schema: schema.clone(),
        values: out,
    }))
}

/// A general Avro union as Connect's union struct: the member's field holds the value. The
/// Connect schema does not record where `null` sat in the union, so the branch is matched to a
/// field by position (null assumed first, as every Connect writer puts it) and checked by type.
fn union_struct(schema: &SchemaRef, branch: u32, inner: Avro) -> Result<Value, String> {
    if matches!(inner, Avro::Null) {
        return if schema.optional {
            Ok(Value::Null)
        } else {
            Err("null for a required union".into())
        };
    }
    let branch = branch as usize;
    let candidates = if schema.optional {
        [branch.checked_sub(1), Some(branch)]
    } else {
        [Some(branch), None]
    };
    let index = candidates
        .into_iter()
        .flatten()
        .find(|&i| {
            schema
                .fields
                .get(i)
                .is_some_and(|f| fits(&f.schema, &inner))
        })
        .or_else(|| schema.fields.iter().position(|f| fits(&f.schema, &inner)))
        .ok_or_else(|| format!("no union member fits {inner:?}"))?;
    let mut st = Struct::new(schema.clone());
    st.values.iter_mut().for_each(|v| *v = Value::Null);
    st.values[index] = to_connect_value(&schema.fields[index].schema, inner)?;
    Ok(Value::Struct(st))
}

/// Whether an Avro value has the physical type a Connect schema expects.
fn fits(schema: &Schema, value: &Avro) -> bool {
    match schema.ty {
        Type::Boolean => matches!(value, Avro::Boolean(_)),
        Type::Int8 | Type::Int16 | Type::Int32 => {
            matches!(value, Avro::Int(_) | Avro::Date(_) | Avro::TimeMillis(_))
        }
        Type::Int64 => matches!(
            value,
            Avro::Long(_)
                | Avro::TimestampMillis(_)
                | Avro::TimestampMicros(_)
                | Avro::TimeMicros(_)
        ),
        Type::Float32 => matches!(value, Avro::Float(_)),
        Type::Float64 => matches!(value, Avro::Double(_)),
        Type::String => matches!(value, Avro::String(_) | Avro::Enum(..) | Avro::Uuid(_)),
        Type::Bytes => matches!(value, Avro::Bytes(_) | Avro::Fixed(..) | Avro::Decimal(_)),
        Type::Array => matches!(value, Avro::Array(_)),
        Type::Map => matches!(value, Avro::Map(_) | Avro::Array(_)),
        Type::Struct => match value {
            Avro::Record(fields) => {
                fields.len() == schema.fields.len()
                    && fields
                        .iter()
                        .zip(&schema.fields)
                        .all(|((name, _), f)| *name == f.name)
            }
            _ => false,
        },
    }
}
