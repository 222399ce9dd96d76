use std::fmt;
use std::sync::Arc;

use super::Value;

/// Kafka Connect's physical types. Logical types (decimals, dates, enums …) are one of these
/// plus a schema name and parameters, exactly as in Connect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    Int8,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    Boolean,
    String,
    Bytes,
    Array,
    Map,
    Struct,
}

impl Type {
    /// The name Kafka Connect uses in JSON schemas (`"int32"`, `"struct"` …).
    pub fn connect_name(self) -> &'static str {
        match self {
            Type::Int8 => "int8",
            Type::Int16 => "int16",
            Type::Int32 => "int32",
            Type::Int64 => "int64",
            Type::Float32 => "float",
            Type::Float64 => "double",
            Type::Boolean => "boolean",
            Type::String => "string",
            Type::Bytes => "bytes",
            Type::Array => "array",
            Type::Map => "map",
            Type::Struct => "struct",
        }
    }

    pub fn from_connect_name(name: &str) -> Option<Type> {
        Some(match name {
            "int8" => Type::Int8,
            "int16" => Type::Int16,
            "int32" => Type::Int32,
            "int64" => Type::Int64,
            "float" | "float32" => Type::Float32,
            "double" | "float64" => Type::Float64,
            "boolean" => Type::Boolean,
            "string" => Type::String,
            "bytes" => Type::Bytes,
            "array" => Type::Array,
            "map" => Type::Map,
            "struct" => Type::Struct,
            _ => return None,
        })
    }

    pub fn is_primitive(self) -> bool {
        !matches!(self, Type::Array | Type::Map | Type::Struct)
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.connect_name())
    }
}

/// Shared, immutable schema. Records of one table share one `Arc`, which also lets converters
/// cache per-schema work (Avro translation, registry ids) by pointer.
pub type SchemaRef = Arc<Schema>;

/// A Kafka Connect schema. Parameters keep their insertion order because the Avro converter
/// writes them as `connect.parameters` and conformance with Debezium compares that JSON.
#[derive(Clone, Debug, PartialEq)]
pub struct Schema {
    pub ty: Type,
    pub optional: bool,
    pub default: Option<Value>,
    pub name: Option<String>,
    pub version: Option<i32>,
    pub doc: Option<String>,
    pub parameters: Vec<(String, String)>,
    pub fields: Vec<Field>,
    /// Key schema of a map.
    pub key_schema: Option<SchemaRef>,
    /// Value schema of a map, element schema of an array.
    pub value_schema: Option<SchemaRef>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub name: String,
    pub schema: SchemaRef,
}

impl Schema {
    pub fn field(&self, name: &str) -> Option<(usize, &Field)> {
        self.fields.iter().enumerate().find(|(_, f)| f.name == name)
    }

    pub fn parameter(&self, key: &str) -> Option<&str> {
        self.parameters
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn is_named(&self, name: &str) -> bool {
        self.name.as_deref() == Some(name)
    }

    /// The same schema marked optional (used for `before`/`after` of an envelope).
    pub fn to_optional(&self) -> Schema {
        Schema {
            optional: true,
            ..self.clone()
        }
    }
}

/// Builds schemas the way Connect's `SchemaBuilder` does, so connector code reads like the
/// Debezium code it mirrors.
#[derive(Clone, Debug)]
pub struct SchemaBuilder {
    schema: Schema,
}

impl SchemaBuilder {
    pub fn new(ty: Type) -> Self {
        SchemaBuilder {
            schema: Schema {
                ty,
                optional: false,
                default: None,
                name: None,
                version: None,
                doc: None,
                parameters: Vec::new(),
                fields: Vec::new(),
                key_schema: None,
                value_schema: None,
            },
        }
    }
    pub fn int8() -> Self {
        Self::new(Type::Int8)
    }
    pub fn int16() -> Self {
        Self::new(Type::Int16)
    }
    pub fn int32() -> Self {
        Self::new(Type::Int32)
    }
    pub fn int64() -> Self {
        Self::new(Type::Int64)
    }
    pub fn float32() -> Self {
        Self::new(Type::Float32)
    }
    pub fn float64() -> Self {
        Self::new(Type::Float64)
    }
    pub fn boolean() -> Self {
        Self::new(Type::Boolean)
    }
    pub fn string() -> Self {
        Self::new(Type::String)
    }
    pub fn bytes() -> Self {
        Self::new(Type::Bytes)
    }
    pub fn structure() -> Self {
        Self::new(Type::Struct)
    }
    pub fn array(elements: SchemaRef) -> Self {
        let mut b = Self::new(Type::Array);
        b.schema.value_schema = Some(elements);
        b
    }
    pub fn map(keys: SchemaRef, values: SchemaRef) -> Self {
        let mut b = Self::new(Type::Map);
        b.schema.key_schema = Some(keys);
        b.schema.value_schema = Some(values);
        b
    }
    pub fn optional(mut self) -> Self {
        self.schema.optional = true;
        self
    }
    pub fn optional_if(mut self, optional: bool) -> Self {
        self.schema.optional = optional;
        self
    }
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.schema.name = Some(name.into());
        self
    }
    pub fn version(mut self, version: i32) -> Self {
        self.schema.version = Some(version);
        self
    }
    pub fn doc(mut self, doc: impl Into<String>) -> Self {
        self.schema.doc = Some(doc.into());
        self
    }
    pub fn default_value(mut self, value: Value) -> Self {
        self.schema.default = Some(value);
        self
    }
    pub fn parameter(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.schema.parameters.push((key.into(), value.into()));
        self
    }
    pub fn field(mut self, name: impl Into<String>, schema: impl Into<SchemaRef>) -> Self {
        self.schema.fields.push(Field {
            name: name.into(),
            schema: schema.into(),
        });
        self
    }
    pub fn build(self) -> Schema {
        self.schema
    }
    pub fn build_ref(self) -> SchemaRef {
        Arc::new(self.schema)
    }
}

impl From<SchemaBuilder> for SchemaRef {
    fn from(b: SchemaBuilder) -> SchemaRef {
        b.build_ref()
    }
}
