//! Avro binary → Connect value through apache-avro's schema-aware serde deserializer, for the
//! writer schemas whose every part has one Connect counterpart: records, `[null, T]` unions,
//! primitives and their logical types, arrays, string-keyed maps and enums. Every Debezium
//! envelope and every schema Confluent's converter registers for flat rows is one.
//!
//! Why not apache-avro's generic `Value` ([`super::decode`]) for these: it gives every record
//! field an owned copy of its name and every optional value a box of its own, and that was most
//! of a sink worker's allocations. Deserialized into [`Datum`], a record is only its values in
//! writer order, which is the Connect schema's order (the Connect schema is derived from the
//! same writer schema), so mapping onto Connect moves each string and byte buffer once.
//! [`supported`] decides once per writer schema; the rest (general unions, maps with
//! non-string keys, UUID, duration and big-decimal types, records apache-avro reads as Rust
//! tuples) keeps the generic path.

use std::collections::HashMap;
use std::fmt;

use apache_avro::schema::{Name, Schema as Avro};
use serde::de::{self, Deserialize, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess};

use super::decode::{array, null, string_map};
use super::to_avro::is_union_struct;
use crate::data::{Schema, SchemaRef, Struct, Type, Value};

/// How deep [`supported`] follows named references before giving up: a recursive schema
/// (a linked list, say) takes the generic path instead of looping.
const MAX_DEPTH: usize = 32;

/// Whether values of `avro` can be deserialized into [`Datum`] and mapped onto `connect`
/// without losing anything the generic path would keep.
pub(crate) fn supported(avro: &Avro, connect: &Schema, names: &HashMap<Name, &Avro>) -> bool {
    supported_at(avro, connect, names, 0)
}

fn supported_at(avro: &Avro, connect: &Schema, names: &HashMap<Name, &Avro>, depth: usize) -> bool {
    if depth > MAX_DEPTH || is_union_struct(connect) {
        return false;
    }
    let next = depth + 1;
    match avro {
        Avro::Ref { name } => names
            .get(name)
            .is_some_and(|target| supported_at(target, connect, names, next)),
        Avro::Union(union) => {
            let variants = union.variants();
            connect.optional
                && variants.len() == 2
                && match variants {
                    [Avro::Null, other] | [other, Avro::Null] => {
                        !matches!(other, Avro::Null | Avro::Union(_))
                            && supported_at(other, connect, names, next)
                    }
                    _ => false,
                }
        }
        Avro::Boolean => connect.ty == Type::Boolean,
        Avro::Int | Avro::Date | Avro::TimeMillis => {
            matches!(connect.ty, Type::Int8 | Type::Int16 | Type::Int32)
        }
        Avro::Long
        | Avro::TimeMicros
        | Avro::TimestampMillis
        | Avro::TimestampMicros
        | Avro::TimestampNanos
        | Avro::LocalTimestampMillis
        | Avro::LocalTimestampMicros
        | Avro::LocalTimestampNanos => connect.ty == Type::Int64,
        Avro::Float => connect.ty == Type::Float32,
        Avro::Double => connect.ty == Type::Float64,
        Avro::String | Avro::Enum(_) => connect.ty == Type::String,
        Avro::Bytes | Avro::Fixed(_) | Avro::Decimal(_) => connect.ty == Type::Bytes,
        Avro::Array(array) => {
            connect.ty == Type::Array
                && connect
                    .value_schema
                    .as_deref()
                    .is_some_and(|items| supported_at(&array.items, items, names, next))
        }
        Avro::Map(map) => {
            connect.ty == Type::Map
                && connect
                    .key_schema
                    .as_deref()
                    .is_some_and(|k| k.ty == Type::String && !k.optional)
                && connect
                    .value_schema
                    .as_deref()
                    .is_some_and(|values| supported_at(&map.types, values, names, next))
        }
        Avro::Record(record) => {
            connect.ty == Type::Struct
                // apache-avro reads records marked as Rust tuples or unions as something else.
                && !record
                    .attributes
                    .keys()
                    .any(|k| k.starts_with("org.apache.avro.rust."))
                && record.fields.len() == connect.fields.len()
                && record.fields.iter().zip(&connect.fields).all(|(a, c)| {
                    a.name == c.name && supported_at(&a.schema, &c.schema, names, next)
                })
        }
        Avro::Null | Avro::BigDecimal | Avro::Uuid(_) | Avro::Duration(_) => false,
    }
}

/// A decoded Avro datum without its schema: what the writer schema already says (field names,
/// which union branch) is not kept.
#[derive(Debug)]
pub(crate) enum Datum {
    Null,
    Boolean(bool),
    Int(i32),
    Long(i64),
    Float(f32),
    Double(f64),
    String(String),
    Bytes(Vec<u8>),
    Array(Vec<Datum>),
    /// A record (no keys: its values in writer order) or a map (every key present).
    Entries(Vec<(Option<String>, Datum)>),
}

impl<'de> Deserialize<'de> for Datum {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Datum, D::Error> {
        deserializer.deserialize_any(DatumVisitor)
    }
}

struct DatumVisitor;

impl<'de> de::Visitor<'de> for DatumVisitor {
    type Value = Datum;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an Avro datum")
    }

    fn visit_unit<E>(self) -> Result<Datum, E> {
        Ok(Datum::Null)
    }

    fn visit_none<E>(self) -> Result<Datum, E> {
        Ok(Datum::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, inner: D) -> Result<Datum, D::Error> {
        Datum::deserialize(inner)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Datum, E> {
        Ok(Datum::Boolean(v))
    }

    fn visit_i32<E>(self, v: i32) -> Result<Datum, E> {
        Ok(Datum::Int(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Datum, E> {
        Ok(Datum::Long(v))
    }

    fn visit_f32<E>(self, v: f32) -> Result<Datum, E> {
        Ok(Datum::Float(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Datum, E> {
        Ok(Datum::Double(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Datum, E> {
        Ok(Datum::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Datum, E> {
        Ok(Datum::String(v))
    }

    fn visit_bytes<E>(self, v: &[u8]) -> Result<Datum, E> {
        Ok(Datum::Bytes(v.to_vec()))
    }

    fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Datum, E> {
        Ok(Datum::Bytes(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Datum, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Datum::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Datum, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(8));
        while let Some(EntryKey(key)) = map.next_key()? {
            entries.push((key, map.next_value()?));
        }
        Ok(Datum::Entries(entries))
    }

    /// An Avro enum: its symbol.
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Datum, A::Error> {
        let (Symbol(symbol), variant) = data.variant()?;
        variant.unit_variant()?;
        Ok(Datum::String(symbol))
    }
}

/// The key of a record field or of a map entry. apache-avro hands a record's field names over
/// borrowed from its schema and a map's keys as strings it read: the first are dropped (the
/// schema knows them), the second kept.
struct EntryKey(Option<String>);

impl<'de> Deserialize<'de> for EntryKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<EntryKey, D::Error> {
        struct KeyVisitor;
        impl de::Visitor<'_> for KeyVisitor {
            type Value = EntryKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name or map key")
            }
            fn visit_str<E>(self, _field: &str) -> Result<EntryKey, E> {
                Ok(EntryKey(None))
            }
            fn visit_string<E>(self, key: String) -> Result<EntryKey, E> {
                Ok(EntryKey(Some(key)))
            }
        }
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

struct Symbol(String);

impl<'de> Deserialize<'de> for Symbol {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Symbol, D::Error> {
        struct SymbolVisitor;
        impl de::Visitor<'_> for SymbolVisitor {
            type Value = Symbol;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an enum symbol")
            }
            fn visit_str<E>(self, symbol: &str) -> Result<Symbol, E> {
                Ok(Symbol(symbol.to_owned()))
            }
        }
        deserializer.deserialize_identifier(SymbolVisitor)
    }
}

/// The Connect value of a datum decoded with a writer schema that [`supported`] accepted for
/// `schema`.
pub(crate) fn to_connect(schema: &SchemaRef, datum: Datum) -> Result<Value, String> {
    if matches!(datum, Datum::Null) {
        return null(schema);
    }
    Ok(match (schema.ty, datum) {
        (Type::Boolean, Datum::Boolean(b)) => Value::Boolean(b),
        // Java's AvroData narrows with byteValue()/shortValue(): truncation, not an error.
        (Type::Int8, Datum::Int(i)) => Value::Int8(i as i8),
        (Type::Int16, Datum::Int(i)) => Value::Int16(i as i16),
        (Type::Int32, Datum::Int(i)) => Value::Int32(i),
        (Type::Int64, Datum::Long(i)) => Value::Int64(i),
        (Type::Float32, Datum::Float(f)) => Value::Float32(f),
        (Type::Float64, Datum::Double(f)) => Value::Float64(f),
        (Type::String, Datum::String(s)) => Value::String(s),
        (Type::Bytes, Datum::Bytes(b)) => Value::Bytes(b),
        (Type::Array, Datum::Array(items)) => array(schema, items, to_connect)?,
        (Type::Map, Datum::Entries(entries)) => string_map(
            schema,
            entries
                .into_iter()
                .map(|(key, v)| Ok((key.ok_or("a map entry without its key")?, v))),
            to_connect,
        )?,
        (Type::Struct, Datum::Entries(values)) => {
            if values.len() != schema.fields.len() {
                return Err(format!(
                    "a record of {} fields for a struct of {}",
                    values.len(),
                    schema.fields.len()
                ));
            }
            let mut out = Vec::with_capacity(values.len());
            for (field, (_, v)) in schema.fields.iter().zip(values) {
                out.push(
                    to_connect(&field.schema, v)
                        .map_err(|e| format!("field '{}': {e}", field.name))?,
                );
            }
            Value::Struct(Struct {
                schema: schema.clone(),
                values: out,
            })
        }
        (ty, other) => {
            return Err(format!(
                "Avro value {other:?} does not fit a Connect {ty} schema"
            ))
        }
    })
}
