use super::SchemaRef;

/// A value in Connect's model. Logical types use their physical form (a decimal is the
/// big-endian two's-complement unscaled integer as `Bytes`, a date is `Int32` days …), as
/// Connect's converters put them on the wire; [`super::logical`] converts to and from them.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Boolean(bool),
    Int8(i8),
    Int16(i16),
    Int32(i32),
    Int64(i64),
    Float32(f32),
    Float64(f64),
    String(String),
    Bytes(Vec<u8>),
    Array(Vec<Value>),
    Map(Vec<(Value, Value)>),
    Struct(Struct),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn as_struct(&self) -> Option<&Struct> {
        match self {
            Value::Struct(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// Any integer as i64 (sinks and tests compare integers regardless of width).
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::Int8(v) => Some(v.into()),
            Value::Int16(v) => Some(v.into()),
            Value::Int32(v) => Some(v.into()),
            Value::Int64(v) => Some(v),
            _ => None,
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_owned())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Int64(v)
    }
}
impl From<i32> for Value {
    fn from(v: i32) -> Value {
        Value::Int32(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Boolean(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

/// A struct value: its schema and one value per field, in field order.
#[derive(Clone, Debug, PartialEq)]
pub struct Struct {
    pub schema: SchemaRef,
    pub values: Vec<Value>,
}

impl Struct {
    /// A struct with every field null (or its default), to be filled with [`Struct::put`].
    pub fn new(schema: SchemaRef) -> Struct {
        let values = schema
            .fields
            .iter()
            .map(|f| f.schema.default.clone().unwrap_or(Value::Null))
            .collect();
        Struct { schema, values }
    }

    /// Sets a field by name; returns false when the schema has no such field.
    pub fn put(&mut self, name: &str, value: impl Into<Value>) -> bool {
        match self.schema.field(name) {
            Some((i, _)) => {
                self.values[i] = value.into();
                true
            }
            None => false,
        }
    }

    pub fn with(mut self, name: &str, value: impl Into<Value>) -> Struct {
        self.put(name, value);
        self
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.schema.field(name).map(|(i, _)| &self.values[i])
    }

    /// Field names with their values, in schema order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.schema
            .fields
            .iter()
            .map(|f| f.name.as_str())
            .zip(self.values.iter())
    }
}
