//! Avro binary → Connect value through apache-avro's schema-aware serde deserializer, for the
//! writer schemas whose every part has one Connect counterpart: records, `[null, T]` unions,
//! primitives and their logical types, arrays, string-keyed maps and enums. Every Debezium
//! envelope and every schema Confluent's converter registers for flat rows is one.
//!
//! Why not apache-avro's generic `Value` ([`super::decode`]) for these: it gives every record
//! field an owned copy of its name and every optional value a box of its own, and that was most
//! of a sink worker's allocations. Here apache-avro's deserializer hands each value to a
//! [`ConnectSeed`] that carries the value's Connect schema, so the Connect value is built as
//! the bytes are read: a record's values come in writer order, which is the Connect schema's
//! order (the Connect schema is derived from the same writer schema), and nothing is built in
//! between (an intermediate datum mapped onto Connect afterwards would be built and dropped
//! for every record).
//! [`supported`] decides once per writer schema; the rest (general unions, maps with
//! non-string keys, UUID, duration and big-decimal types, records apache-avro reads as Rust
//! tuples) keeps the generic path.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;

use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::schema::{Name, Schema as Avro};
use serde::de::{
    self, Deserialize, DeserializeSeed, Deserializer, EnumAccess, Error as _, MapAccess, SeqAccess,
    VariantAccess,
};

use super::decode::{in_key_order, null};
use super::to_avro::is_union_struct;
use crate::data::{Schema, SchemaRef, Struct, Type, Value};

/// How deep [`supported`] follows named references before giving up: a recursive schema
/// (a linked list, say) takes the generic path instead of looping.
const MAX_DEPTH: usize = 32;

/// Whether values of `avro` can be deserialized as Connect values of `connect` without losing
/// anything the generic path would keep.
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

/// The Connect value of an Avro body written with the schema `reader` was built for, which
/// [`supported`] accepted for `schema`. A failure inside a record starts with the path of
/// fields to it (`field 'after': field 'name': …`).
pub(crate) fn decode(
    reader: &GenericDatumReader<'_>,
    body: &[u8],
    schema: &SchemaRef,
) -> Result<Value, String> {
    DECODING.with(|state| {
        let mut state = state.borrow_mut();
        state.root = Some(schema.clone());
        state.path.clear();
    });
    let decoded = reader.read_deser::<Root>(&mut &body[..]);
    // The root is taken by `Root` unless apache-avro failed before reaching it.
    let (_, path) = DECODING.with(|state| {
        let mut state = state.borrow_mut();
        (state.root.take(), std::mem::take(&mut state.path))
    });
    decoded.map(|Root(value)| value).map_err(|e| {
        let fields: String = path
            .iter()
            .rev()
            .map(|name| format!("field '{name}': "))
            .collect();
        format!("{fields}{e}")
    })
}

/// What a decoding on this thread needs besides apache-avro's deserializer.
#[derive(Default)]
struct Decoding {
    /// The Connect schema of the datum. apache-avro builds the root value through
    /// `Deserialize`, which takes no seed, so the root's schema comes this way; every value
    /// under it gets its schema from its parent's [`ConnectSeed`].
    root: Option<SchemaRef>,
    /// Where a failure happened, innermost field first: an error passed up through apache-avro
    /// can only be rewrapped as a new message, which would repeat its prefix at every level.
    path: Vec<String>,
}

thread_local! {
    static DECODING: RefCell<Decoding> = RefCell::new(Decoding::default());
}

struct Root(Value);

impl<'de> Deserialize<'de> for Root {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Root, D::Error> {
        let schema = DECODING
            .with(|state| state.borrow_mut().root.take())
            .ok_or_else(|| D::Error::custom("no Connect schema to decode into"))?;
        ConnectSeed(&schema).deserialize(deserializer).map(Root)
    }
}

/// Decodes one value as the Connect value of its schema.
#[derive(Clone, Copy)]
struct ConnectSeed<'a>(&'a SchemaRef);

impl<'de> DeserializeSeed<'de> for ConnectSeed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl ConnectSeed<'_> {
    fn mismatch<E: de::Error>(self, avro: impl fmt::Debug) -> E {
        E::custom(format!(
            "Avro value {avro:?} does not fit a Connect {} schema",
            self.0.ty
        ))
    }

    fn expect<E: de::Error>(self, ty: Type, value: Value) -> Result<Value, E> {
        if self.0.ty == ty {
            Ok(value)
        } else {
            Err(self.mismatch(value))
        }
    }

    fn record<'de, A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let schema = self.0;
        let mut values = Vec::with_capacity(schema.fields.len());
        for field in &schema.fields {
            if map.next_key::<EntryKey>()?.is_none() {
                return Err(A::Error::custom(format!(
                    "a record of {} fields for a struct of {}",
                    values.len(),
                    schema.fields.len()
                )));
            }
            let value = map
                .next_value_seed(ConnectSeed(&field.schema))
                .inspect_err(|_| {
                    DECODING.with(|state| state.borrow_mut().path.push(field.name.clone()))
                })?;
            values.push(value);
        }
        if map.next_key::<EntryKey>()?.is_some() {
            return Err(A::Error::custom(format!(
                "a record of more fields than the {} of its struct",
                schema.fields.len()
            )));
        }
        Ok(Value::Struct(Struct {
            schema: schema.clone(),
            values,
        }))
    }

    fn map<'de, A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let values = self
            .0
            .value_schema
            .as_ref()
            .ok_or_else(|| A::Error::custom("map schema without value schema"))?;
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(8));
        while let Some(EntryKey(key)) = map.next_key()? {
            let key = key.ok_or_else(|| A::Error::custom("a map entry without its key"))?;
            entries.push((
                Value::String(key),
                map.next_value_seed(ConnectSeed(values))?,
            ));
        }
        Ok(in_key_order(entries))
    }
}

impl<'de> de::Visitor<'de> for ConnectSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an Avro value for a Connect {} schema", self.0.ty)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        null(self.0).map_err(E::custom)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        null(self.0).map_err(E::custom)
    }

    fn visit_some<D: Deserializer<'de>>(self, inner: D) -> Result<Value, D::Error> {
        self.deserialize(inner)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        self.expect(Type::Boolean, Value::Boolean(v))
    }

    fn visit_i32<E: de::Error>(self, v: i32) -> Result<Value, E> {
        // Java's AvroData narrows with byteValue()/shortValue(): truncation, not an error.
        match self.0.ty {
            Type::Int8 => Ok(Value::Int8(v as i8)),
            Type::Int16 => Ok(Value::Int16(v as i16)),
            Type::Int32 => Ok(Value::Int32(v)),
            _ => Err(self.mismatch(v)),
        }
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        self.expect(Type::Int64, Value::Int64(v))
    }

    fn visit_f32<E: de::Error>(self, v: f32) -> Result<Value, E> {
        self.expect(Type::Float32, Value::Float32(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        self.expect(Type::Float64, Value::Float64(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        self.expect(Type::String, Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        self.expect(Type::String, Value::String(v))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
        self.expect(Type::Bytes, Value::Bytes(v.to_vec()))
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Value, E> {
        self.expect(Type::Bytes, Value::Bytes(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        if self.0.ty != Type::Array {
            return Err(self.mismatch("an array"));
        }
        let items = self
            .0
            .value_schema
            .as_ref()
            .ok_or_else(|| A::Error::custom("array schema without element schema"))?;
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element_seed(ConnectSeed(items))? {
            out.push(item);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Value, A::Error> {
        match self.0.ty {
            Type::Struct => self.record(map),
            Type::Map => self.map(map),
            _ => Err(self.mismatch("a record or map")),
        }
    }

    /// An Avro enum: its symbol.
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Value, A::Error> {
        let (Symbol(symbol), variant) = data.variant()?;
        variant.unit_variant()?;
        self.expect(Type::String, Value::String(symbol))
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
