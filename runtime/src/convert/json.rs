//! Kafka's `org.apache.kafka.connect.json.JsonConverter`.
//!
//! With `schemas.enable=true` (the default) every record is the envelope
//! `{"schema":{…},"payload":…}`, the schema in Connect's JSON form; consumers of Debezium's JSON
//! topics parse exactly that text, so the output follows Kafka's byte for byte: key order,
//! compact separators, Jackson's escaping, Java's number formatting, base64 for bytes, and
//! decimals as base64 of the unscaled integer (`decimal.format=BASE64`, the default) or as JSON
//! numbers (`NUMERIC`). With `schemas.enable=false` only the payload is written, and reading
//! infers a schemaless value (objects become maps, integers `int64`, other numbers `float64`).
//!
//! The JSON text of each schema is built once per schema `Arc` and reused, so the per-record
//! cost is writing the payload.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use base64::Engine as _;
use serde_json::Value as Json;

use super::{ConvertError, Converter, Side};
use crate::data::logical::{decimal_to_bytes, DECIMAL, DECIMAL_SCALE};
use crate::data::{java_text, Schema, SchemaBuilder, SchemaRef, Struct, Type, Value};
use crate::record::SchemaAndValue;

const SCHEMAS_ENABLE: &str = "schemas.enable";
const DECIMAL_FORMAT: &str = "decimal.format";
const REPLACE_NULL_WITH_DEFAULT: &str = "replace.null.with.default";
/// Bounds the schema caches; past it they are emptied (a connector rebuilding schemas per
/// record must not grow them forever).
const MAX_CACHED_SCHEMAS: usize = 1024;

const BASE64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// How decimals are written (`decimal.format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DecimalFormat {
    /// Base64 of the unscaled two's-complement integer, as Connect's `Decimal` bytes.
    Base64,
    /// A JSON number with the decimal's digits.
    Numeric,
}

#[derive(Clone, Copy, Debug)]
struct Options {
    decimal_format: DecimalFormat,
    replace_null_with_default: bool,
}

/// `org.apache.kafka.connect.json.JsonConverter`.
pub struct JsonConverter {
    schemas_enable: bool,
    options: Options,
    /// Schema JSON text by schema pointer; the entry keeps the `Arc` alive so the address is
    /// not reused by another schema.
    schema_text: RwLock<HashMap<usize, (SchemaRef, Arc<str>)>>,
    /// Connect schemas read from envelopes, by a hash of the schema JSON, so records sharing a
    /// schema share one `Arc`.
    schemas_read: RwLock<HashMap<u64, Vec<(Json, SchemaRef)>>>,
}

impl JsonConverter {
    /// Builds the converter from its `*.converter.*` settings (prefix stripped).
    pub fn from_settings(
        _side: Side,
        settings: &BTreeMap<String, String>,
    ) -> Result<JsonConverter, ConvertError> {
        let decimal_format = match settings
            .get(DECIMAL_FORMAT)
            .map(|v| v.trim().to_ascii_uppercase())
        {
            None => DecimalFormat::Base64,
            Some(v) if v == "BASE64" => DecimalFormat::Base64,
            Some(v) if v == "NUMERIC" => DecimalFormat::Numeric,
            Some(v) => {
                return Err(ConvertError::Config {
                    key: DECIMAL_FORMAT.into(),
                    message: format!("expected BASE64 or NUMERIC, got '{v}'"),
                })
            }
        };
        Ok(JsonConverter {
            schemas_enable: flag(settings, SCHEMAS_ENABLE, true)?,
            options: Options {
                decimal_format,
                replace_null_with_default: flag(settings, REPLACE_NULL_WITH_DEFAULT, true)?,
            },
            schema_text: RwLock::new(HashMap::new()),
            schemas_read: RwLock::new(HashMap::new()),
        })
    }

    /// The schema's JSON text, built once per `Arc`.
    fn schema_json(&self, schema: &SchemaRef) -> Result<Arc<str>, String> {
        let key = Arc::as_ptr(schema) as usize;
        if let Some((_, text)) = self
            .schema_text
            .read()
            .ok()
            .and_then(|c| c.get(&key).cloned())
        {
            return Ok(text);
        }
        let mut text = String::new();
        write_schema(&mut text, schema, self.options)?;
        let text: Arc<str> = text.into();
        if let Ok(mut cache) = self.schema_text.write() {
            if cache.len() >= MAX_CACHED_SCHEMAS {
                cache.clear();
            }
            cache.insert(key, (schema.clone(), text.clone()));
        }
        Ok(text)
    }

    /// The Connect schema of an envelope's schema JSON, shared between equal schemas.
    fn read_schema(&self, json: &Json) -> Result<SchemaRef, String> {
        let mut hasher = DefaultHasher::new();
        hash_json(json, &mut hasher);
        let key = hasher.finish();
        if let Some(found) = self.schemas_read.read().ok().and_then(|c| {
            c.get(&key)
                .and_then(|v| v.iter().find(|(j, _)| j == json).map(|(_, s)| s.clone()))
        }) {
            return Ok(found);
        }
        let schema = Arc::new(parse_schema(json, self.options)?);
        if let Ok(mut cache) = self.schemas_read.write() {
            if cache.len() >= MAX_CACHED_SCHEMAS {
                cache.clear();
            }
            cache
                .entry(key)
                .or_default()
                .push((json.clone(), schema.clone()));
        }
        Ok(schema)
    }
}

#[async_trait]
impl Converter for JsonConverter {
    async fn from_connect(
        &self,
        topic: &str,
        data: &SchemaAndValue,
    ) -> Result<Option<Vec<u8>>, ConvertError> {
        if data.value.is_null() {
            return Ok(None);
        }
        let serialize = |message: String| ConvertError::Serialize {
            topic: topic.to_owned(),
            message,
        };
        let mut out = String::with_capacity(256);
        if self.schemas_enable {
            out.push_str("{\"schema\":");
            match &data.schema {
                Some(schema) => out.push_str(&self.schema_json(schema).map_err(serialize)?),
                None => out.push_str("null"),
            }
            out.push_str(",\"payload\":");
        }
        write_value(&mut out, data.schema.as_deref(), &data.value, self.options)
            .map_err(serialize)?;
        if self.schemas_enable {
            out.push('}');
        }
        Ok(Some(out.into_bytes()))
    }

    async fn to_connect(
        &self,
        topic: &str,
        bytes: Option<&[u8]>,
    ) -> Result<SchemaAndValue, ConvertError> {
        let Some(bytes) = bytes else {
            return Ok(SchemaAndValue::null());
        };
        let deserialize = |message: String| ConvertError::Deserialize {
            topic: topic.to_owned(),
            message,
        };
        let json: Json =
            serde_json::from_slice(bytes).map_err(|e| deserialize(format!("not JSON: {e}")))?;
        if !self.schemas_enable {
            let value = read_value(None, &json, self.options).map_err(deserialize)?;
            return Ok(SchemaAndValue {
                schema: None,
                value,
            });
        }
        let envelope = match &json {
            Json::Object(obj) if obj.len() == 2 && obj.contains_key("schema") && obj.contains_key("payload") => obj,
            _ => {
                return Err(deserialize(
                    "JsonConverter with schemas.enable requires \"schema\" and \"payload\" fields and may not contain \
                     additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in \
                     your converter configuration."
                        .into(),
                ))
            }
        };
        let schema = match &envelope["schema"] {
            Json::Null => None,
            s => Some(
                self.read_schema(s)
                    .map_err(|e| deserialize(format!("invalid schema: {e}")))?,
            ),
        };
        let value =
            read_value(schema.as_ref(), &envelope["payload"], self.options).map_err(deserialize)?;
        Ok(SchemaAndValue { schema, value })
    }
}

fn flag(
    settings: &BTreeMap<String, String>,
    key: &str,
    default: bool,
) -> Result<bool, ConvertError> {
    match settings.get(key).map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(default),
        Some(v) if v == "true" => Ok(true),
        Some(v) if v == "false" => Ok(false),
        Some(v) => Err(ConvertError::Config {
            key: key.into(),
            message: format!("expected true or false, got '{v}'"),
        }),
    }
}

// ---------------------------------------------------------------------------------------------
// Writing

/// Connect's schema JSON (`asJsonSchema`): `type`, `items`/`keys`+`values`/`fields`, `optional`,
/// `name`, `version`, `doc`, `parameters`, `default`.
fn write_schema(out: &mut String, schema: &Schema, options: Options) -> Result<(), String> {
    write_schema_members(out, schema, options)?;
    out.push('}');
    Ok(())
}

/// Everything of a schema object but its closing brace (struct fields append `"field"`).
fn write_schema_members(out: &mut String, schema: &Schema, options: Options) -> Result<(), String> {
    out.push_str("{\"type\":\"");
    out.push_str(schema.ty.connect_name());
    out.push('"');
    match schema.ty {
        Type::Array => {
            out.push_str(",\"items\":");
            write_schema(
                out,
                schema
                    .value_schema
                    .as_deref()
                    .ok_or("array schema without element schema")?,
                options,
            )?;
        }
        Type::Map => {
            out.push_str(",\"keys\":");
            write_schema(
                out,
                schema
                    .key_schema
                    .as_deref()
                    .ok_or("map schema without key schema")?,
                options,
            )?;
            out.push_str(",\"values\":");
            write_schema(
                out,
                schema
                    .value_schema
                    .as_deref()
                    .ok_or("map schema without value schema")?,
                options,
            )?;
        }
        Type::Struct => {
            out.push_str(",\"fields\":[");
            for (i, field) in schema.fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_schema_members(out, &field.schema, options)?;
                out.push_str(",\"field\":");
                write_string(out, &field.name);
                out.push('}');
            }
            out.push(']');
        }
        _ => {}
    }
    out.push_str(if schema.optional {
        ",\"optional\":true"
    } else {
        ",\"optional\":false"
    });
    if let Some(name) = &schema.name {
        out.push_str(",\"name\":");
        write_string(out, name);
    }
    if let Some(version) = schema.version {
        let _ = write!(out, ",\"version\":{version}");
    }
    if let Some(doc) = &schema.doc {
        out.push_str(",\"doc\":");
        write_string(out, doc);
    }
    if !schema.parameters.is_empty() {
        out.push_str(",\"parameters\":{");
        // A repeated key keeps its first position and its last value, as Connect's map does.
        let mut seen: Vec<&str> = Vec::with_capacity(schema.parameters.len());
        for (k, _) in &schema.parameters {
            if seen.contains(&k.as_str()) {
                continue;
            }
            seen.push(k);
            let last = schema
                .parameters
                .iter()
                .rev()
                .find(|(key, _)| key == k)
                .map_or("", |(_, v)| v.as_str());
            if seen.len() > 1 {
                out.push(',');
            }
            write_string(out, k);
            out.push(':');
            write_string(out, last);
        }
        out.push('}');
    }
    if let Some(default) = schema.default.as_ref().filter(|d| !d.is_null()) {
        out.push_str(",\"default\":");
        write_value(out, Some(schema), default, options)?;
    }
    Ok(())
}

/// A value as Kafka's `convertToJson` writes it. `schema` is `None` for schemaless data.
fn write_value(
    out: &mut String,
    schema: Option<&Schema>,
    value: &Value,
    options: Options,
) -> Result<(), String> {
    let Some(schema) = schema else {
        return write_schemaless(out, value, options);
    };
    if value.is_null() {
        return match &schema.default {
            Some(d) if !d.is_null() && options.replace_null_with_default => {
                write_value(out, Some(schema), d, options)
            }
            _ if schema.optional => {
                out.push_str("null");
                Ok(())
            }
            _ => Err(format!("null value for a required {} field", schema.ty)),
        };
    }
    if schema.name.as_deref() == Some(DECIMAL) {
        let Value::Bytes(unscaled) = value else {
            return Err(format!("decimal value must be bytes, got {value:?}"));
        };
        return match options.decimal_format {
            DecimalFormat::Base64 => {
                write_base64(out, unscaled);
                Ok(())
            }
            DecimalFormat::Numeric => {
                out.push_str(&java_text::big_decimal(unscaled, decimal_scale(schema)?));
                Ok(())
            }
        };
    }
    let mismatch = || format!("{value:?} does not fit a {} schema", schema.ty);
    match (schema.ty, value) {
        (Type::Int8 | Type::Int16 | Type::Int32 | Type::Int64, v) => {
            let n = match (schema.ty, v) {
                (Type::Int8, Value::Int8(_))
                | (Type::Int16, Value::Int8(_) | Value::Int16(_))
                | (Type::Int32, Value::Int8(_) | Value::Int16(_) | Value::Int32(_))
                | (Type::Int64, _) => v.as_i64().ok_or_else(mismatch)?,
                _ => return Err(mismatch()),
            };
            let _ = write!(out, "{n}");
        }
        (Type::Float32, Value::Float32(f)) => write_java_number(out, java_text::float(*f)),
        (Type::Float64, Value::Float64(f)) => write_java_number(out, java_text::double(*f)),
        (Type::Float64, Value::Float32(f)) => {
            write_value(out, Some(schema), &Value::Float64(f64::from(*f)), options)?
        }
        (Type::Boolean, Value::Boolean(b)) => out.push_str(if *b { "true" } else { "false" }),
        (Type::String, Value::String(s)) => write_string(out, s),
        (Type::Bytes, Value::Bytes(b)) => write_base64(out, b),
        (Type::Array, Value::Array(items)) => {
            let elem = schema
                .value_schema
                .as_deref()
                .ok_or("array schema without element schema")?;
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, Some(elem), item, options)?;
            }
            out.push(']');
        }
        (Type::Map, Value::Map(entries)) => {
            let (keys, values) =
                match (schema.key_schema.as_deref(), schema.value_schema.as_deref()) {
                    (Some(k), Some(v)) => (k, v),
                    _ => return Err("map schema without key or value schema".into()),
                };
            write_map(
                out,
                Some(keys),
                Some(values),
                keys.ty == Type::String,
                entries,
                options,
            )?;
        }
        (Type::Struct, Value::Struct(st)) => {
            if st.values.len() != schema.fields.len() {
                return Err(format!(
                    "struct has {} values for {} fields",
                    st.values.len(),
                    schema.fields.len()
                ));
            }
            out.push('{');
            for (i, (field, v)) in schema.fields.iter().zip(&st.values).enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, &field.name);
                out.push(':');
                write_value(out, Some(&field.schema), v, options)
                    .map_err(|e| format!("field '{}': {e}", field.name))?;
            }
            out.push('}');
        }
        _ => return Err(mismatch()),
    }
    Ok(())
}

/// Schemaless data: the JSON type follows the value.
fn write_schemaless(out: &mut String, value: &Value, options: Options) -> Result<(), String> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int8(_) | Value::Int16(_) | Value::Int32(_) | Value::Int64(_) => {
            let _ = write!(out, "{}", value.as_i64().unwrap_or_default());
        }
        Value::Float32(f) => write_java_number(out, java_text::float(*f)),
        Value::Float64(f) => write_java_number(out, java_text::double(*f)),
        Value::String(s) => write_string(out, s),
        Value::Bytes(b) => write_base64(out, b),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_schemaless(out, item, options)?;
            }
            out.push(']');
        }
        Value::Map(entries) => {
            let object_mode = entries.iter().all(|(k, _)| matches!(k, Value::String(_)));
            write_map(out, None, None, object_mode, entries, options)?;
        }
        Value::Struct(st) => write_value(out, Some(&st.schema), value, options)?,
    }
    Ok(())
}

/// A map as a JSON object (string keys) or an array of `[key, value]` pairs.
fn write_map(
    out: &mut String,
    keys: Option<&Schema>,
    values: Option<&Schema>,
    object_mode: bool,
    entries: &[(Value, Value)],
    options: Options,
) -> Result<(), String> {
    out.push(if object_mode { '{' } else { '[' });
    for (i, (k, v)) in entries.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if object_mode {
            match k {
                Value::String(s) => write_string(out, s),
                other => return Err(format!("map key {other:?} is not a string")),
            }
            out.push(':');
            write_value_or_schemaless(out, values, v, options)?;
        } else {
            out.push('[');
            write_value_or_schemaless(out, keys, k, options)?;
            out.push(',');
            write_value_or_schemaless(out, values, v, options)?;
            out.push(']');
        }
    }
    out.push(if object_mode { '}' } else { ']' });
    Ok(())
}

fn write_value_or_schemaless(
    out: &mut String,
    schema: Option<&Schema>,
    value: &Value,
    options: Options,
) -> Result<(), String> {
    match schema {
        Some(s) => write_value(out, Some(s), value, options),
        None => write_schemaless(out, value, options),
    }
}

/// A JSON string escaped as Jackson does (`\"`, `\\`, short escapes for \b \t \n \f \r, `\u00XX`
/// for other control characters, everything else verbatim).
fn write_string(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            let _ = write!(out, "\\u{:04X}", b);
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

fn write_base64(out: &mut String, bytes: &[u8]) {
    out.push('"');
    BASE64.encode_string(bytes, out);
    out.push('"');
}

/// A Java number's text as Jackson writes it: the non-finite doubles as quoted names.
fn write_java_number(out: &mut String, text: String) {
    if matches!(text.as_str(), "NaN" | "Infinity" | "-Infinity") {
        out.push('"');
        out.push_str(&text);
        out.push('"');
    } else {
        out.push_str(&text);
    }
}

fn decimal_scale(schema: &Schema) -> Result<i32, String> {
    schema
        .parameter(DECIMAL_SCALE)
        .ok_or("decimal schema without a 'scale' parameter")?
        .parse()
        .map_err(|e| format!("decimal 'scale' parameter: {e}"))
}

// ---------------------------------------------------------------------------------------------
// Reading

/// Connect's `asConnectSchema`.
fn parse_schema(json: &Json, options: Options) -> Result<Schema, String> {
    let ty = json
        .get("type")
        .and_then(Json::as_str)
        .ok_or("schema must contain a 'type' field")?;
    let mut schema = match ty {
        "boolean" => SchemaBuilder::boolean().build(),
        "int8" => SchemaBuilder::int8().build(),
        "int16" => SchemaBuilder::int16().build(),
        "int32" => SchemaBuilder::int32().build(),
        "int64" => SchemaBuilder::int64().build(),
        "float" => SchemaBuilder::float32().build(),
        "double" => SchemaBuilder::float64().build(),
        "bytes" => SchemaBuilder::bytes().build(),
        "string" => SchemaBuilder::string().build(),
        "array" => {
            let items = json
                .get("items")
                .filter(|i| !i.is_null())
                .ok_or("array schema did not specify the element type")?;
            SchemaBuilder::array(Arc::new(parse_schema(items, options)?)).build()
        }
        "map" => {
            let keys = json
                .get("keys")
                .ok_or("map schema did not specify the key type")?;
            let values = json
                .get("values")
                .ok_or("map schema did not specify the value type")?;
            SchemaBuilder::map(
                Arc::new(parse_schema(keys, options)?),
                Arc::new(parse_schema(values, options)?),
            )
            .build()
        }
        "struct" => {
            let fields = json
                .get("fields")
                .and_then(Json::as_array)
                .ok_or("struct schema's \"fields\" is not an array")?;
            let mut builder = SchemaBuilder::structure();
            for field in fields {
                let name = field
                    .get("field")
                    .and_then(Json::as_str)
                    .ok_or("struct field name not specified properly")?;
                builder = builder.field(name, Arc::new(parse_schema(field, options)?));
            }
            builder.build()
        }
        other => return Err(format!("unknown schema type: {other}")),
    };
    schema.optional = json
        .get("optional")
        .and_then(Json::as_bool)
        .unwrap_or(false);
    schema.name = json.get("name").and_then(Json::as_str).map(str::to_owned);
    schema.version = json
        .get("version")
        .and_then(Json::as_i64)
        .and_then(|v| i32::try_from(v).ok());
    schema.doc = json.get("doc").and_then(Json::as_str).map(str::to_owned);
    if let Some(params) = json.get("parameters").and_then(Json::as_object) {
        for (k, v) in params {
            let v = v
                .as_str()
                .ok_or("schema parameters must have string values")?;
            schema.parameters.push((k.clone(), v.to_owned()));
        }
    }
    if let Some(default) = json.get("default") {
        let as_ref = Arc::new(schema.clone());
        let value = read_value(Some(&as_ref), default, options)
            .map_err(|e| format!("default value: {e}"))?;
        schema.default = Some(value).filter(|v| !v.is_null());
    }
    Ok(schema)
}

/// Kafka's `convertToConnect`: `schema` is `None` for schemaless data.
fn read_value(schema: Option<&SchemaRef>, json: &Json, options: Options) -> Result<Value, String> {
    let Some(schema) = schema else {
        return read_schemaless(json);
    };
    if json.is_null() {
        return match &schema.default {
            Some(d) if !d.is_null() && options.replace_null_with_default => Ok(d.clone()),
            _ if schema.optional => Ok(Value::Null),
            _ => Err(format!(
                "invalid null value for required {} field",
                schema.ty
            )),
        };
    }
    let bad = || format!("JSON {json} does not fit a {} schema", schema.ty);
    if schema.name.as_deref() == Some(DECIMAL) {
        return match json {
            Json::Number(n) => {
                let scale = decimal_scale(schema)?;
                let plain = plain_decimal(&n.to_string()).ok_or_else(bad)?;
                let scale = u32::try_from(scale)
                    .map_err(|_| format!("negative decimal scale {scale} is not supported"))?;
                decimal_to_bytes(&plain, scale)
                    .map(Value::Bytes)
                    .ok_or_else(|| {
                        format!("decimal {n} has more fractional digits than scale {scale}")
                    })
            }
            Json::String(s) => BASE64
                .decode(s)
                .map(Value::Bytes)
                .map_err(|e| format!("invalid bytes for decimal: {e}")),
            _ => Err(bad()),
        };
    }
    Ok(match schema.ty {
        Type::Boolean => Value::Boolean(json.as_bool().ok_or_else(bad)?),
        Type::Int8 => Value::Int8(integer(json).ok_or_else(bad)? as i8),
        Type::Int16 => Value::Int16(integer(json).ok_or_else(bad)? as i16),
        Type::Int32 => Value::Int32(integer(json).ok_or_else(bad)? as i32),
        Type::Int64 => Value::Int64(integer(json).ok_or_else(bad)?),
        Type::Float32 => Value::Float32(float(json).ok_or_else(bad)? as f32),
        Type::Float64 => Value::Float64(float(json).ok_or_else(bad)?),
        Type::String => Value::String(json.as_str().ok_or_else(bad)?.to_owned()),
        Type::Bytes => Value::Bytes(
            BASE64
                .decode(json.as_str().ok_or_else(bad)?)
                .map_err(|e| format!("invalid bytes field: {e}"))?,
        ),
        Type::Array => {
            let elem = schema
                .value_schema
                .as_ref()
                .ok_or("array schema without element schema")?;
            let items = json.as_array().ok_or_else(bad)?;
            Value::Array(
                items
                    .iter()
                    .map(|i| read_value(Some(elem), i, options))
                    .collect::<Result<_, _>>()?,
            )
        }
        Type::Map => {
            let (keys, values) = match (&schema.key_schema, &schema.value_schema) {
                (Some(k), Some(v)) => (k, v),
                _ => return Err("map schema without key or value schema".into()),
            };
            if keys.ty == Type::String {
                let obj = json.as_object().ok_or_else(|| {
                    format!("maps with string keys should be JSON objects, found {json}")
                })?;
                let mut out = Vec::with_capacity(obj.len());
                for (k, v) in obj {
                    out.push((
                        Value::String(k.clone()),
                        read_value(Some(values), v, options)?,
                    ));
                }
                Value::Map(out)
            } else {
                let pairs = json.as_array().ok_or_else(|| {
                    format!(
                        "maps with non-string keys should be JSON arrays of pairs, found {json}"
                    )
                })?;
                let mut out = Vec::with_capacity(pairs.len());
                for pair in pairs {
                    match pair.as_array().map(Vec::as_slice) {
                        Some([k, v]) => out.push((
                            read_value(Some(keys), k, options)?,
                            read_value(Some(values), v, options)?,
                        )),
                        _ => {
                            return Err(format!(
                                "invalid map entry {pair}: expected a [key, value] array"
                            ))
                        }
                    }
                }
                Value::Map(out)
            }
        }
        Type::Struct => {
            let obj = json
                .as_object()
                .ok_or_else(|| format!("structs should be JSON objects, found {json}"))?;
            let mut values = Vec::with_capacity(schema.fields.len());
            for field in &schema.fields {
                let v = read_value(
                    Some(&field.schema),
                    obj.get(&field.name).unwrap_or(&Json::Null),
                    options,
                )
                .map_err(|e| format!("field '{}': {e}", field.name))?;
                values.push(v);
            }
            Value::Struct(Struct {
                schema: schema.clone(),
                values,
            })
        }
    })
}

/// Plain JSON with no schema: objects → maps with string keys, integers → int64, other
/// numbers → float64.
fn read_schemaless(json: &Json) -> Result<Value, String> {
    Ok(match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Boolean(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int64(i),
            None if n.is_u64() => Value::Int64(n.as_u64().unwrap_or_default() as i64),
            None => Value::Float64(n.as_f64().ok_or_else(|| format!("unreadable number {n}"))?),
        },
        Json::String(s) => Value::String(s.clone()),
        Json::Array(items) => Value::Array(
            items
                .iter()
                .map(read_schemaless)
                .collect::<Result<_, _>>()?,
        ),
        Json::Object(obj) => {
            let mut out = Vec::with_capacity(obj.len());
            for (k, v) in obj {
                out.push((Value::String(k.clone()), read_schemaless(v)?));
            }
            Value::Map(out)
        }
    })
}

/// An integer from a JSON number (Jackson's `intValue`/`longValue` truncate floats).
fn integer(json: &Json) -> Option<i64> {
    match json {
        Json::Number(n) => n
            .as_i64()
            .or_else(|| n.as_u64().map(|u| u as i64))
            .or_else(|| n.as_f64().map(|f| f as i64)),
        _ => None,
    }
}

/// A float from a JSON number, or the quoted names Jackson writes for non-finite values.
fn float(json: &Json) -> Option<f64> {
    match json {
        Json::Number(n) => n.as_f64(),
        Json::String(s) => match s.as_str() {
            "NaN" => Some(f64::NAN),
            "Infinity" => Some(f64::INFINITY),
            "-Infinity" => Some(f64::NEG_INFINITY),
            _ => None,
        },
        _ => None,
    }
}

/// A JSON number's text (possibly with an exponent) as a plain decimal string.
fn plain_decimal(text: &str) -> Option<String> {
    let (negative, rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text),
    };
    let (mantissa, exponent) = match rest.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.trim_start_matches('+').parse::<i64>().ok()?),
        None => (rest, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits: String = format!("{int_part}{frac_part}");
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Position of the decimal point within `digits` after applying the exponent.
    let point = i64::try_from(int_part.len()).ok()? + exponent;
    let len = i64::try_from(digits.len()).ok()?;
    let mut out = String::with_capacity(digits.len() + 4);
    if negative {
        out.push('-');
    }
    if point <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', usize::try_from(-point).ok()?));
        out.push_str(&digits);
    } else if point >= len {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', usize::try_from(point - len).ok()?));
    } else {
        let p = usize::try_from(point).ok()?;
        out.push_str(&digits[..p]);
        out.push('.');
        out.push_str(&digits[p..]);
    }
    Some(out)
}

/// A structural hash of a JSON value (serde_json's `Value` does not implement `Hash`).
fn hash_json(json: &Json, h: &mut DefaultHasher) {
    match json {
        Json::Null => 0u8.hash(h),
        Json::Bool(b) => (1u8, b).hash(h),
        Json::Number(n) => (2u8, n.to_string()).hash(h),
        Json::String(s) => (3u8, s).hash(h),
        Json::Array(items) => {
            (4u8, items.len()).hash(h);
            items.iter().for_each(|i| hash_json(i, h));
        }
        Json::Object(obj) => {
            (5u8, obj.len()).hash(h);
            for (k, v) in obj {
                k.hash(h);
                hash_json(v, h);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::logical;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn converter(pairs: &[(&str, &str)]) -> Result<JsonConverter, ConvertError> {
        let settings = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        JsonConverter::from_settings(Side::Value, &settings)
    }

    async fn to_text(
        conv: &JsonConverter,
        data: &SchemaAndValue,
    ) -> Result<String, Box<dyn std::error::Error>> {
        let bytes = conv.from_connect("t", data).await?.ok_or("no bytes")?;
        Ok(String::from_utf8(bytes)?)
    }

    async fn round_trip(
        conv: &JsonConverter,
        data: &SchemaAndValue,
    ) -> Result<SchemaAndValue, Box<dyn std::error::Error>> {
        let bytes = conv.from_connect("t", data).await?;
        Ok(conv.to_connect("t", bytes.as_deref()).await?)
    }

    fn person_schema() -> SchemaRef {
        SchemaBuilder::structure()
            .name("com.example.Person")
            .version(1)
            .field("id", SchemaBuilder::int32())
            .field("name", SchemaBuilder::string().optional())
            .field(
                "tags",
                SchemaBuilder::array(SchemaBuilder::string().build_ref()).optional(),
            )
            .build_ref()
    }

    #[tokio::test]
    async fn envelope_text_is_what_kafkas_json_converter_writes() -> TestResult {
        let schema = person_schema();
        let value = Value::Struct(
            Struct::new(schema.clone())
                .with("id", 7)
                .with("name", "Zoë \"Z\"\n")
                .with("tags", Value::Array(vec!["a".into()])),
        );
        let text = to_text(&converter(&[])?, &SchemaAndValue::new(schema, value)).await?;
        // As produced by org.apache.kafka.connect.json.JsonConverter (schemas.enable=true).
        let expected = concat!(
            r#"{"schema":{"type":"struct","fields":["#,
            r#"{"type":"int32","optional":false,"field":"id"},"#,
            r#"{"type":"string","optional":true,"field":"name"},"#,
            r#"{"type":"array","items":{"type":"string","optional":false},"optional":true,"field":"tags"}],"#,
            r#""optional":false,"name":"com.example.Person","version":1},"#,
            r#""payload":{"id":7,"name":"Zoë \"Z\"\n","tags":["a"]}}"#
        );
        assert_eq!(text, expected);
        Ok(())
    }

    #[tokio::test]
    async fn debezium_logical_types_write_name_version_parameters_and_default() -> TestResult {
        let schema = SchemaBuilder::structure()
            .field(
                "snapshot",
                logical::debezium(SchemaBuilder::string(), logical::DBZ_ENUM)
                    .parameter("allowed", "true,last,false")
                    .default_value(Value::from("false"))
                    .optional(),
            )
            .field("amount", logical::decimal(Some(10), 2))
            .build_ref();
        let value = Struct::new(schema.clone()).with("snapshot", "last").with(
            "amount",
            Value::Bytes(logical::decimal_to_bytes("1.50", 2).ok_or("decimal")?),
        );
        let text = to_text(
            &converter(&[])?,
            &SchemaAndValue::new(schema.clone(), Value::Struct(value.clone())),
        )
        .await?;
        let expected = concat!(
            r#"{"schema":{"type":"struct","fields":["#,
            r#"{"type":"string","optional":true,"name":"io.debezium.data.Enum","version":1,"parameters":{"allowed":"true,last,false"},"default":"false","field":"snapshot"},"#,
            r#"{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2","connect.decimal.precision":"10"},"field":"amount"}],"#,
            r#""optional":false},"payload":{"snapshot":"last","amount":"AJY="}}"#
        );
        assert_eq!(text, expected);

        let numeric = converter(&[("decimal.format", "NUMERIC")])?;
        let text = to_text(
            &numeric,
            &SchemaAndValue::new(schema.clone(), Value::Struct(value.clone())),
        )
        .await?;
        assert!(
            text.ends_with(r#""payload":{"snapshot":"last","amount":1.50}}"#),
            "{text}"
        );
        let back = round_trip(
            &numeric,
            &SchemaAndValue::new(schema.clone(), Value::Struct(value.clone())),
        )
        .await?;
        assert_eq!(back.value, Value::Struct(value));
        Ok(())
    }

    #[tokio::test]
    async fn every_type_round_trips_with_schemas() -> TestResult {
        let point = SchemaBuilder::structure()
            .name("p.Point")
            .field("x", SchemaBuilder::float64())
            .field("y", SchemaBuilder::float32())
            .optional()
            .build_ref();
        let schema = SchemaBuilder::structure()
            .name("p.All")
            .doc("all types")
            .field("i8", SchemaBuilder::int8())
            .field("i16", SchemaBuilder::int16())
            .field("i32", SchemaBuilder::int32())
            .field("i64", SchemaBuilder::int64())
            .field("f32", SchemaBuilder::float32())
            .field("f64", SchemaBuilder::float64())
            .field("b", SchemaBuilder::boolean())
            .field("s", SchemaBuilder::string())
            .field("bytes", SchemaBuilder::bytes())
            .field("dec", logical::decimal(Some(30), 5))
            .field(
                "day",
                SchemaBuilder::int32()
                    .name(logical::CONNECT_DATE)
                    .version(1),
            )
            .field("none", SchemaBuilder::string().optional())
            .field(
                "list",
                SchemaBuilder::array(SchemaBuilder::int64().optional().build_ref()),
            )
            .field(
                "smap",
                SchemaBuilder::map(
                    SchemaBuilder::string().build_ref(),
                    SchemaBuilder::int32().build_ref(),
                ),
            )
            .field(
                "imap",
                SchemaBuilder::map(
                    SchemaBuilder::int32().build_ref(),
                    SchemaBuilder::string().build_ref(),
                ),
            )
            .field("point", point.clone())
            .field("nopoint", point.clone())
            .field(
                "dflt",
                SchemaBuilder::int32().default_value(Value::Int32(3)),
            )
            .build_ref();
        let value = Struct::new(schema.clone())
            .with("i8", Value::Int8(-8))
            .with("i16", Value::Int16(-16))
            .with("i32", Value::Int32(i32::MIN))
            .with("i64", Value::Int64(i64::MAX))
            .with("f32", Value::Float32(0.1))
            .with("f64", Value::Float64(1e300))
            .with("b", false)
            .with("s", "\u{1}ctl\ttab")
            .with("bytes", Value::Bytes(vec![0, 255, 7]))
            .with(
                "dec",
                Value::Bytes(logical::decimal_to_bytes("-1234567.00001", 5).ok_or("decimal")?),
            )
            .with("day", Value::Int32(19000))
            .with("none", Value::Null)
            .with("list", Value::Array(vec![Value::Int64(1), Value::Null]))
            .with(
                "smap",
                Value::Map(vec![(Value::from("k"), Value::Int32(1))]),
            )
            .with(
                "imap",
                Value::Map(vec![(Value::Int32(1), Value::from("one"))]),
            )
            .with(
                "point",
                Value::Struct(
                    Struct::new(point)
                        .with("x", Value::Float64(0.5))
                        .with("y", Value::Float32(2.5)),
                ),
            )
            .with("nopoint", Value::Null)
            .with("dflt", Value::Int32(4));
        for settings in [&[][..], &[("decimal.format", "NUMERIC")][..]] {
            let conv = converter(settings)?;
            let data = SchemaAndValue::new(schema.clone(), Value::Struct(value.clone()));
            let back = round_trip(&conv, &data).await?;
            assert_eq!(back, data, "{settings:?}");
        }
        let text = to_text(
            &converter(&[])?,
            &SchemaAndValue::new(schema, Value::Struct(value)),
        )
        .await?;
        assert!(text.contains(r#""s":"\u0001ctl\ttab""#), "{text}");
        assert!(text.contains(r#""f64":1.0E300"#), "{text}");
        assert!(text.contains(r#""imap":[[1,"one"]]"#), "{text}");
        assert!(text.contains(r#""bytes":"AP8H""#), "{text}");
        Ok(())
    }

    #[tokio::test]
    async fn records_sharing_a_schema_read_back_with_one_arc() -> TestResult {
        let conv = converter(&[])?;
        let schema = person_schema();
        let data = SchemaAndValue::new(
            schema.clone(),
            Value::Struct(Struct::new(schema).with("id", 1)),
        );
        let a = round_trip(&conv, &data).await?;
        let b = round_trip(&conv, &data).await?;
        match (a.schema, b.schema) {
            (Some(x), Some(y)) => assert!(Arc::ptr_eq(&x, &y)),
            _ => return Err("no schema".into()),
        }
        Ok(())
    }

    #[tokio::test]
    async fn null_fields_take_their_default_and_required_nulls_fail() -> TestResult {
        let schema = SchemaBuilder::structure()
            .field("d", SchemaBuilder::int32().default_value(Value::Int32(5)))
            .field("r", SchemaBuilder::int32())
            .build_ref();
        let mut st = Struct::new(schema.clone());
        st.values = vec![Value::Null, Value::Int32(1)];
        let text = to_text(
            &converter(&[("schemas.enable", "false")])?,
            &SchemaAndValue::new(schema.clone(), Value::Struct(st.clone())),
        )
        .await?;
        assert_eq!(text, r#"{"d":5,"r":1}"#);
        st.values[1] = Value::Null;
        let err = converter(&[])?
            .from_connect("t", &SchemaAndValue::new(schema, Value::Struct(st)))
            .await;
        assert!(
            matches!(err, Err(ConvertError::Serialize { message, .. }) if message.contains("'r'"))
        );
        Ok(())
    }

    #[tokio::test]
    async fn without_schemas_only_the_payload_is_written_and_read_schemaless() -> TestResult {
        let conv = converter(&[("schemas.enable", "false")])?;
        let schema = person_schema();
        let data = SchemaAndValue::new(
            schema.clone(),
            Value::Struct(Struct::new(schema).with("id", 3).with("name", "x")),
        );
        assert_eq!(
            to_text(&conv, &data).await?,
            r#"{"id":3,"name":"x","tags":null}"#
        );
        let back = conv
            .to_connect(
                "t",
                Some(br#"{"a":1,"b":[true,2.5,"s",null],"c":{"d":null}}"#),
            )
            .await?;
        assert_eq!(back.schema, None);
        let expected = Value::Map(vec![
            (Value::from("a"), Value::Int64(1)),
            (
                Value::from("b"),
                Value::Array(vec![
                    Value::Boolean(true),
                    Value::Float64(2.5),
                    Value::from("s"),
                    Value::Null,
                ]),
            ),
            (
                Value::from("c"),
                Value::Map(vec![(Value::from("d"), Value::Null)]),
            ),
        ]);
        assert_eq!(back.value, expected);
        Ok(())
    }

    #[tokio::test]
    async fn schemaless_values_under_schemas_enable_carry_a_null_schema() -> TestResult {
        let conv = converter(&[])?;
        let data = SchemaAndValue {
            schema: None,
            value: Value::Map(vec![(Value::from("k"), Value::Int32(1))]),
        };
        assert_eq!(
            to_text(&conv, &data).await?,
            r#"{"schema":null,"payload":{"k":1}}"#
        );
        let back = round_trip(&conv, &data).await?;
        assert_eq!(
            back.value,
            Value::Map(vec![(Value::from("k"), Value::Int64(1))])
        );
        Ok(())
    }

    #[tokio::test]
    async fn nulls_are_tombstones_both_ways() -> TestResult {
        let conv = converter(&[])?;
        assert_eq!(conv.from_connect("t", &SchemaAndValue::null()).await?, None);
        assert_eq!(
            conv.from_connect("t", &SchemaAndValue::new(person_schema(), Value::Null))
                .await?,
            None
        );
        assert_eq!(conv.to_connect("t", None).await?, SchemaAndValue::null());
        Ok(())
    }

    #[tokio::test]
    async fn envelope_problems_are_explained() -> TestResult {
        let conv = converter(&[])?;
        for (input, expected) in [
            (&br#"{"a":1}"#[..], "schemas.enable=false"),
            (
                &br#"{"schema":null,"payload":1,"x":2}"#[..],
                "schemas.enable=false",
            ),
            (&b"not json"[..], "not JSON"),
            (
                &br#"{"schema":{"type":"nope"},"payload":1}"#[..],
                "unknown schema type",
            ),
            (
                &br#"{"schema":{"type":"int32"},"payload":"x"}"#[..],
                "int32",
            ),
        ] {
            match conv.to_connect("topic-x", Some(input)).await {
                Err(ConvertError::Deserialize { topic, message }) => {
                    assert_eq!(topic, "topic-x");
                    assert!(message.contains(expected), "{message}");
                }
                other => {
                    return Err(format!("expected an error for {input:?}, got {other:?}").into())
                }
            }
        }
        Ok(())
    }

    #[test]
    fn settings_are_validated() {
        assert!(converter(&[("schemas.enable", "yes")]).is_err());
        assert!(converter(&[("decimal.format", "HEX")]).is_err());
        assert!(converter(&[("decimal.format", "numeric"), ("schemas.enable", "FALSE")]).is_ok());
    }

    #[test]
    fn numbers_are_java_texts_with_jacksons_names_for_non_finite_doubles() {
        let f = |x: f64| {
            let mut s = String::new();
            write_java_number(&mut s, java_text::double(x));
            s
        };
        assert_eq!(f(1e7), "1.0E7");
        assert_eq!(f(f64::NAN), "\"NaN\"");
        assert_eq!(f(f64::INFINITY), "\"Infinity\"");
        assert_eq!(plain_decimal("1.5e-7").as_deref(), Some("0.00000015"));
        assert_eq!(plain_decimal("-12E2").as_deref(), Some("-1200"));
        assert_eq!(plain_decimal("3.25").as_deref(), Some("3.25"));
    }
}
