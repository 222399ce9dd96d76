//! Connect schema → Avro schema JSON, as Confluent's `AvroData.fromConnectSchema` with its
//! default settings (`connect.meta.data=true`, `enhanced.avro.schema.support=false`).
//!
//! The JSON must be the very text the Java converter registers — same unions, defaults,
//! `connect.*` properties and key order — because readers compare schemas by text (the registry
//! returns the existing id only for an equal schema) and consumers built against Debezium's
//! schemas must see no difference. Key order follows Avro Java's `Schema.toString`: `type`,
//! `name`, `namespace`, `doc`, `fields`/`items`/`values`, then properties in insertion order.

use std::collections::HashMap;

use serde_json::{Map, Value as Json};

use super::default_value::{default_to_json, DefaultSite};
use super::names::*;
use crate::data::logical::{
    CONNECT_DATE, CONNECT_TIME, CONNECT_TIMESTAMP, DECIMAL, DECIMAL_PRECISION, DECIMAL_SCALE,
};
use crate::data::{Schema, Type};

/// The Avro schema (as JSON) Confluent's `AvroConverter` registers for `schema`.
pub fn avro_schema_from_connect(schema: &Schema) -> Result<Json, String> {
    Translator::default().translate(schema, None, false)
}

/// Whether `schema` is the Connect struct standing for a general Avro union.
pub(crate) fn is_union_struct(schema: &Schema) -> bool {
    schema.ty == Type::Struct && schema.name.as_deref() == Some(AVRO_TYPE_UNION)
}

/// Branch indexes of an optional (non-union-struct) schema's `["null", T]` or `[T, "null"]`:
/// `(null, value)`. A non-null default puts the value first so the Avro field default can be
/// that value; structs always put null first (`AvroData` builds their union before it looks at
/// defaults).
pub(crate) fn optional_branches(schema: &Schema) -> (u8, u8) {
    if schema.ty != Type::Struct && has_default(schema) {
        (1, 0)
    } else {
        (0, 1)
    }
}

pub(crate) fn has_default(schema: &Schema) -> bool {
    schema.default.as_ref().is_some_and(|d| !d.is_null())
}

pub(crate) fn non_optional(schema: &Schema) -> Schema {
    Schema {
        optional: false,
        ..schema.clone()
    }
}

/// State of one translation: Avro defines each named type once per document, later uses are
/// references by name.
#[derive(Default)]
struct Translator {
    /// Full names of the records written so far, with the Connect schema each stands for.
    defined: HashMap<String, Schema>,
    /// Unnamed structs already given a `ConnectDefault` name.
    unnamed: Vec<(Schema, String)>,
    /// How many `ConnectDefault` names have been handed out.
    default_names: u32,
}

impl Translator {
    /// `namespace` is the enclosing record's namespace (Avro writes a record's `namespace` only
    /// where it differs, and references relative to it). `ignore_optional` is set for union
    /// members, which cannot themselves be unions.
    fn translate(
        &mut self,
        schema: &Schema,
        namespace: Option<&str>,
        ignore_optional: bool,
    ) -> Result<Json, String> {
        if is_union_struct(schema) {
            let mut members = Vec::with_capacity(schema.fields.len() + 1);
            if schema.optional {
                members.push(Json::from("null"));
            }
            for field in &schema.fields {
                members.push(self.translate(&non_optional(&field.schema), namespace, true)?);
            }
            return Ok(Json::Array(members));
        }
        if schema.ty == Type::Struct && schema.optional {
            let record = self.translate(&non_optional(schema), namespace, false)?;
            return Ok(Json::Array(vec![Json::from("null"), record]));
        }

        let mut avro = Map::new();
        let mut connect_type = None;
        match schema.ty {
            Type::Int8 => {
                avro.insert("type".into(), "int".into());
                connect_type = Some("int8");
            }
            Type::Int16 => {
                avro.insert("type".into(), "int".into());
                connect_type = Some("int16");
            }
            Type::Int32 => primitive(&mut avro, "int"),
            Type::Int64 => primitive(&mut avro, "long"),
            Type::Float32 => primitive(&mut avro, "float"),
            Type::Float64 => primitive(&mut avro, "double"),
            Type::Boolean => primitive(&mut avro, "boolean"),
            Type::String => primitive(&mut avro, "string"),
            Type::Bytes => {
                primitive(&mut avro, "bytes");
                if is_decimal(schema) {
                    let (precision, scale) = decimal_precision_scale(schema)?;
                    avro.insert("scale".into(), scale.into());
                    avro.insert("precision".into(), precision.into());
                }
            }
            Type::Array => {
                let items = schema
                    .value_schema
                    .as_deref()
                    .ok_or("array schema without element schema")?;
                avro.insert("type".into(), "array".into());
                avro.insert("items".into(), self.translate(items, namespace, false)?);
            }
            Type::Map => {
                let (keys, values) =
                    match (schema.key_schema.as_deref(), schema.value_schema.as_deref()) {
                        (Some(k), Some(v)) => (k, v),
                        _ => return Err("map schema without key or value schema".into()),
                    };
                if keys.ty == Type::String && !keys.optional {
                    avro.insert("type".into(), "map".into());
                    avro.insert("values".into(), self.translate(values, namespace, false)?);
                } else {
                    avro.insert("type".into(), "array".into());
                    avro.insert(
                        "items".into(),
                        self.map_entry(schema, keys, values, namespace)?,
                    );
                }
            }
            Type::Struct => return self.record(schema, namespace, connect_type),
        }
        add_properties(&mut avro, schema, connect_type)?;
        let base = if avro.len() == 1 {
            avro.remove("type").unwrap_or(Json::Null)
        } else {
            Json::Object(avro)
        };
        Ok(if schema.optional && !ignore_optional {
            if has_default(schema) {
                Json::Array(vec![base, Json::from("null")])
            } else {
                Json::Array(vec![Json::from("null"), base])
            }
        } else {
            base
        })
    }

    fn record(
        &mut self,
        schema: &Schema,
        namespace: Option<&str>,
        connect_type: Option<&str>,
    ) -> Result<Json, String> {
        let (space, name) = match &schema.name {
            Some(full) => {
                let (space, name) = split_name(full);
                (space.map(str::to_owned), name.to_owned())
            }
            None => match self.unnamed.iter().find(|(s, _)| s == schema) {
                Some((_, full)) => return Ok(reference(full, namespace)),
                None => {
                    self.default_names += 1;
                    let name = match self.default_names {
                        1 => DEFAULT_SCHEMA_NAME.to_owned(),
                        n => format!("{DEFAULT_SCHEMA_NAME}{n}"),
                    };
                    self.unnamed
                        .push((schema.clone(), full_name(Some(NAMESPACE), &name)));
                    (Some(NAMESPACE.to_owned()), name)
                }
            },
        };
        let full = full_name(space.as_deref(), &name);
        if let Some(reference) = self.existing(&full, schema, namespace)? {
            return Ok(reference);
        }

        let mut avro = Map::new();
        avro.insert("type".into(), "record".into());
        write_name(&mut avro, &name, space.as_deref(), namespace);
        if let Some(doc) = schema.parameter(AVRO_RECORD_DOC) {
            avro.insert("doc".into(), doc.into());
        }
        let mut fields = Vec::with_capacity(schema.fields.len());
        for field in &schema.fields {
            let doc = schema.parameter(&format!("{AVRO_FIELD_DOC_PREFIX}{}", field.name));
            fields.push(self.field(&field.name, &field.schema, doc, space.as_deref())?);
        }
        avro.insert("fields".into(), Json::Array(fields));
        add_properties(&mut avro, schema, connect_type)?;
        Ok(Json::Object(avro))
    }

    /// The entry record of a map with non-string keys: `{key, value}`, named `MapEntry` (or
    /// after the map when it has a name).
    fn map_entry(
        &mut self,
        map: &Schema,
        keys: &Schema,
        values: &Schema,
        namespace: Option<&str>,
    ) -> Result<Json, String> {
        let (space, name) = match &map.name {
            Some(full) => split_name(full),
            None => (Some(NAMESPACE), MAP_ENTRY_TYPE_NAME),
        };
        let full = full_name(space, name);
        if let Some(reference) = self.existing(&full, map, namespace)? {
            return Ok(reference);
        }
        let mut avro = Map::new();
        avro.insert("type".into(), "record".into());
        write_name(&mut avro, name, space, namespace);
        let fields = vec![
            self.field(KEY_FIELD, keys, None, space)?,
            self.field(VALUE_FIELD, values, None, space)?,
        ];
        avro.insert("fields".into(), Json::Array(fields));
        if map.name.is_some() {
            avro.insert(CONNECT_INTERNAL_TYPE.into(), MAP_ENTRY_TYPE_NAME.into());
        }
        Ok(Json::Object(avro))
    }

    /// A reference to `full` when it was already written; registers it otherwise. Two different
    /// schemas under one name cannot be expressed in Avro (Java fails with "Can't redefine").
    fn existing(
        &mut self,
        full: &str,
        schema: &Schema,
        namespace: Option<&str>,
    ) -> Result<Option<Json>, String> {
        let plain = non_optional(schema);
        match self.defined.get(full) {
            Some(previous) if *previous == plain => Ok(Some(reference(full, namespace))),
            Some(_) => Err(format!(
                "two different schemas are named '{full}'; Avro needs one definition per name"
            )),
            None => {
                self.defined.insert(full.to_owned(), plain);
                Ok(None)
            }
        }
    }

    /// A record field: `name`, `type`, `doc`, `default` (the Connect default, or null for an
    /// optional field), as `AvroData.addAvroRecordField`.
    fn field(
        &mut self,
        name: &str,
        schema: &Schema,
        doc: Option<&str>,
        namespace: Option<&str>,
    ) -> Result<Json, String> {
        let avro_type = self.translate(schema, namespace, false)?;
        let default = match &schema.default {
            Some(d) if !d.is_null() => Some(default_to_json(schema, d, DefaultSite::Field)?),
            _ if schema.optional => Some(Json::Null),
            _ => None,
        };
        // A default must fit the union's first branch; Confluent drops one that does not (an
        // optional struct with a default, whose union starts with null).
        let first_is_null = avro_type
            .as_array()
            .and_then(|m| m.first())
            .is_some_and(|f| f == "null");
        let default = default.filter(|d| !first_is_null || d.is_null());

        let mut field = Map::new();
        field.insert("name".into(), name.into());
        field.insert("type".into(), avro_type);
        if let Some(doc) = doc {
            field.insert("doc".into(), doc.into());
        }
        if let Some(d) = default {
            field.insert("default".into(), d);
        }
        Ok(Json::Object(field))
    }
}

fn primitive(avro: &mut Map<String, Json>, name: &str) {
    avro.insert("type".into(), name.into());
}

/// `name`, and `namespace` when it differs from the enclosing one (Avro Java's `writeName`).
fn write_name(
    avro: &mut Map<String, Json>,
    name: &str,
    space: Option<&str>,
    enclosing: Option<&str>,
) {
    avro.insert("name".into(), name.into());
    match (space, enclosing) {
        (Some(s), e) if Some(s) != e => {
            avro.insert("namespace".into(), s.into());
        }
        (None, Some(_)) => {
            avro.insert("namespace".into(), "".into());
        }
        _ => {}
    }
}

/// A reference to an already written named type, qualified only when its namespace differs
/// from the enclosing one (Avro Java's `Name.getQualified`).
fn reference(full: &str, enclosing: Option<&str>) -> Json {
    let (space, name) = split_name(full);
    match space {
        None => Json::from(name),
        Some(s) if Some(s) == enclosing => Json::from(name),
        Some(_) => Json::from(full),
    }
}

/// The `connect.*` and logical-type properties, in the order `AvroData` adds them.
fn add_properties(
    avro: &mut Map<String, Json>,
    schema: &Schema,
    connect_type: Option<&str>,
) -> Result<(), String> {
    if let Some(doc) = &schema.doc {
        avro.insert(CONNECT_DOC.into(), doc.as_str().into());
    }
    if let Some(version) = schema.version {
        avro.insert(CONNECT_VERSION.into(), version.into());
    }
    let mut params = Map::new();
    for (k, v) in &schema.parameters {
        if k != AVRO_FIELD_DEFAULT_FLAG {
            params.insert(k.clone(), v.as_str().into());
        }
    }
    if !params.is_empty() {
        avro.insert(CONNECT_PARAMETERS.into(), Json::Object(params));
    }
    if let Some(default) = schema.default.as_ref().filter(|d| !d.is_null()) {
        if schema.parameter(AVRO_FIELD_DEFAULT_FLAG).is_none() {
            avro.insert(
                CONNECT_DEFAULT.into(),
                default_to_json(schema, default, DefaultSite::ConnectProperty)?,
            );
        }
    }
    if let Some(name) = &schema.name {
        avro.insert(CONNECT_NAME.into(), name.as_str().into());
    }
    if let Some(t) = connect_type {
        avro.insert(CONNECT_TYPE.into(), t.into());
    }
    if let Some(logical) = logical_type(schema) {
        avro.insert(LOGICAL_TYPE.into(), logical.into());
    }
    for (k, v) in &schema.parameters {
        if k.starts_with(AVRO_PROP_PREFIX) {
            avro.entry(k.clone()).or_insert_with(|| v.as_str().into());
        }
    }
    Ok(())
}

fn logical_type(schema: &Schema) -> Option<&'static str> {
    let name = schema.name.as_deref()?;
    match schema.ty {
        Type::Bytes if is_decimal(schema) => Some(LOGICAL_DECIMAL),
        Type::Int32 if name.eq_ignore_ascii_case(CONNECT_DATE) => Some(LOGICAL_DATE),
        Type::Int32 if name.eq_ignore_ascii_case(CONNECT_TIME) => Some(LOGICAL_TIME_MILLIS),
        Type::Int64 if name.eq_ignore_ascii_case(CONNECT_TIMESTAMP) => {
            Some(LOGICAL_TIMESTAMP_MILLIS)
        }
        _ => None,
    }
}

fn is_decimal(schema: &Schema) -> bool {
    schema
        .name
        .as_deref()
        .is_some_and(|n| n.eq_ignore_ascii_case(DECIMAL))
}

/// A decimal's (precision, scale); precision defaults to 64 as in `AvroData`.
fn decimal_precision_scale(schema: &Schema) -> Result<(u32, i32), String> {
    let scale = schema
        .parameter(DECIMAL_SCALE)
        .ok_or("decimal schema without a 'scale' parameter")?
        .parse::<i32>()
        .map_err(|e| format!("decimal 'scale' parameter: {e}"))?;
    let precision = match schema.parameter(DECIMAL_PRECISION) {
        Some(p) => p
            .parse::<u32>()
            .map_err(|e| format!("decimal '{DECIMAL_PRECISION}' parameter: {e}"))?,
        None => DECIMAL_PRECISION_DEFAULT,
    };
    Ok((precision, scale))
}
