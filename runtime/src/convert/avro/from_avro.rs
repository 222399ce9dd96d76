//! Avro schema JSON → Connect schema, as Confluent's `AvroData.toConnectSchema` with its
//! default settings.
//!
//! Used for the writer schemas of records we consume (Debezium's, other producers') and for the
//! `.avsc` files compiled into the binary. Reading back what [`super::to_avro`] writes gives the
//! original Connect schema, so Avro → Connect → Avro is the identity on `AvroData`'s output.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::Value as Json;

use super::default_value::{default_from_json, is_null_type};
use super::names::*;
use crate::data::logical::{
    CONNECT_DATE, CONNECT_TIME, CONNECT_TIMESTAMP, DECIMAL, DECIMAL_PRECISION, DECIMAL_SCALE,
};
use crate::data::{Field, Schema, SchemaBuilder, SchemaRef, Type};

const PRIMITIVES: [&str; 8] = [
    "null", "boolean", "int", "long", "float", "double", "bytes", "string",
];

/// The Connect schema of an Avro schema.
pub fn connect_schema_from_avro_json(avro: &Json) -> Result<SchemaRef, String> {
    let mut parser = Parser::default();
    parser.collect_names(avro, None);
    parser.convert(avro, None, false, None).map(Arc::new)
}

/// Named types by full name, with the namespace their definition sits in (needed to resolve
/// the relative names inside it).
#[derive(Default)]
struct Parser<'a> {
    named: HashMap<String, (&'a Json, Option<String>)>,
    /// Named types being converted, to refuse recursive types (Connect schemas are trees).
    in_progress: HashSet<String>,
}

impl<'a> Parser<'a> {
    /// Records every named type of the document first, so references work wherever they appear.
    fn collect_names(&mut self, avro: &'a Json, namespace: Option<&str>) {
        match avro {
            Json::Array(members) => members
                .iter()
                .for_each(|m| self.collect_names(m, namespace)),
            Json::Object(obj) => {
                let kind = obj.get("type");
                match kind.and_then(Json::as_str) {
                    Some("record" | "error" | "enum" | "fixed") => {
                        let Some(full) = definition_name(avro, namespace) else {
                            return;
                        };
                        let (space, _) = split_name(&full);
                        let space = space.map(str::to_owned);
                        self.named
                            .entry(full.clone())
                            .or_insert((avro, namespace.map(str::to_owned)));
                        if let Some(fields) = obj.get("fields").and_then(Json::as_array) {
                            for f in fields {
                                if let Some(t) = f.get("type") {
                                    self.collect_names(t, space.as_deref());
                                }
                            }
                        }
                    }
                    Some("array") => {
                        if let Some(items) = obj.get("items") {
                            self.collect_names(items, namespace);
                        }
                    }
                    Some("map") => {
                        if let Some(values) = obj.get("values") {
                            self.collect_names(values, namespace);
                        }
                    }
                    _ => {
                        if let Some(inner @ (Json::Object(_) | Json::Array(_))) = kind {
                            self.collect_names(inner, namespace);
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// The definition a type name refers to, from inside `namespace`.
    fn lookup(&self, name: &str, namespace: Option<&str>) -> Option<&(&'a Json, Option<String>)> {
        if !name.contains('.') {
            if let Some(ns) = namespace.filter(|ns| !ns.is_empty()) {
                if let Some(found) = self.named.get(&format!("{ns}.{name}")) {
                    return Some(found);
                }
            }
        }
        self.named.get(name)
    }

    /// `field_default` is the Avro field's `"default"` (Some(null) for an explicit null), which
    /// Connect keeps on the field's schema.
    fn convert(
        &mut self,
        avro: &'a Json,
        namespace: Option<&str>,
        force_optional: bool,
        field_default: Option<&'a Json>,
    ) -> Result<Schema, String> {
        let obj = match avro {
            Json::String(name) if !PRIMITIVES.contains(&name.as_str()) => {
                let (definition, def_ns) = self
                    .lookup(name, namespace)
                    .cloned()
                    .ok_or_else(|| format!("unknown Avro type '{name}'"))?;
                let full =
                    definition_name(definition, def_ns.as_deref()).unwrap_or_else(|| name.clone());
                if !self.in_progress.insert(full.clone()) {
                    return Err(format!(
                        "recursive Avro type '{full}' has no Connect equivalent"
                    ));
                }
                let result =
                    self.convert(definition, def_ns.as_deref(), force_optional, field_default);
                self.in_progress.remove(&full);
                return result;
            }
            Json::Array(_) => return self.union(avro, namespace, force_optional, field_default),
            Json::Object(obj) => Some(obj),
            Json::String(_) => None,
            other => return Err(format!("not an Avro schema: {other}")),
        };
        let kind = match (avro, obj.and_then(|o| o.get("type"))) {
            (Json::String(s), _) => s.as_str(),
            (_, Some(Json::String(s))) => s.as_str(),
            // `{"type": {...}}` / `{"type": [...]}`: the inner schema is the type.
            (_, Some(inner @ (Json::Object(_) | Json::Array(_)))) => {
                return self.convert(inner, namespace, force_optional, field_default)
            }
            _ => return Err(format!("Avro schema without a type: {avro}")),
        };
        if obj.is_some() && !PRIMITIVES.contains(&kind) && !is_complex(kind) {
            // `{"type": "SomeName"}`: a reference with (ignored) properties.
            let name_ref = obj.and_then(|o| o.get("type")).ok_or("missing type")?;
            return self.convert(name_ref, namespace, force_optional, field_default);
        }
        let prop = |key: &str| obj.and_then(|o| o.get(key));
        let prop_str = |key: &str| prop(key).and_then(Json::as_str);
        let connect_type = prop_str(CONNECT_TYPE);
        let logical = prop_str(LOGICAL_TYPE);

        let mut schema = match kind {
            "boolean" => SchemaBuilder::boolean().build(),
            "bytes" | "fixed" => {
                if logical.is_some_and(|l| l.eq_ignore_ascii_case(LOGICAL_DECIMAL)) {
                    let scale = prop("scale")
                        .and_then(Json::as_i64)
                        .ok_or("decimal: scale must be specified and must be a number")?;
                    let mut s = SchemaBuilder::bytes()
                        .name(DECIMAL)
                        .version(1)
                        .parameter(DECIMAL_SCALE, scale.to_string())
                        .build();
                    if let Some(p) = prop("precision") {
                        let p = p
                            .as_i64()
                            .ok_or("decimal: precision must be a JSON integer")?;
                        if p != i64::from(DECIMAL_PRECISION_DEFAULT) {
                            set_parameter(&mut s, DECIMAL_PRECISION, &p.to_string());
                        }
                    }
                    s
                } else {
                    SchemaBuilder::bytes().build()
                }
            }
            "double" => SchemaBuilder::float64().build(),
            "float" => SchemaBuilder::float32().build(),
            "int" => match (connect_type, logical) {
                (None, None) => SchemaBuilder::int32().build(),
                (_, Some(l)) if l.eq_ignore_ascii_case(LOGICAL_DATE) => {
                    logical_builder(Type::Int32, CONNECT_DATE)
                }
                (_, Some(l)) if l.eq_ignore_ascii_case(LOGICAL_TIME_MILLIS) => {
                    logical_builder(Type::Int32, CONNECT_TIME)
                }
                (_, Some(_)) => SchemaBuilder::int32().build(),
                (Some("int8"), None) => SchemaBuilder::int8().build(),
                (Some("int16"), None) => SchemaBuilder::int16().build(),
                (Some(other), None) => {
                    return Err(format!("unknown {CONNECT_TYPE} '{other}' on an Avro int"))
                }
            },
            "long" => match logical {
                Some(l) if l.eq_ignore_ascii_case(LOGICAL_TIMESTAMP_MILLIS) => {
                    logical_builder(Type::Int64, CONNECT_TIMESTAMP)
                }
                _ => SchemaBuilder::int64().build(),
            },
            "string" => SchemaBuilder::string().build(),
            "array" => {
                let items = prop("items").ok_or("array without items")?;
                match self.map_entry_fields(items, namespace) {
                    Some((key, value, entry_ns)) => {
                        let key = self.convert(key, entry_ns.as_deref(), false, None)?;
                        let value = self.convert(value, entry_ns.as_deref(), false, None)?;
                        SchemaBuilder::map(Arc::new(key), Arc::new(value)).build()
                    }
                    None => {
                        SchemaBuilder::array(Arc::new(self.convert(items, namespace, false, None)?))
                            .build()
                    }
                }
            }
            "map" => {
                let values = prop("values").ok_or("map without values")?;
                let values = self.convert(values, namespace, false, None)?;
                SchemaBuilder::map(SchemaBuilder::string().build_ref(), Arc::new(values)).build()
            }
            "record" | "error" => {
                let full = definition_name(avro, namespace).ok_or("record without a name")?;
                let own_namespace = split_name(&full).0.map(str::to_owned);
                let mut s = SchemaBuilder::structure().build();
                if let Some(doc) = prop_str("doc") {
                    set_parameter(&mut s, AVRO_RECORD_DOC, doc);
                }
                let fields = prop("fields")
                    .and_then(Json::as_array)
                    .ok_or("record without fields")?;
                self.in_progress.insert(full.clone());
                for f in fields {
                    let name = f
                        .get("name")
                        .and_then(Json::as_str)
                        .ok_or("record field without a name")?;
                    if let Some(doc) = f.get("doc").and_then(Json::as_str) {
                        set_parameter(&mut s, &format!("{AVRO_FIELD_DOC_PREFIX}{name}"), doc);
                    }
                    let field_type = f
                        .get("type")
                        .ok_or_else(|| format!("field '{name}' without a type"))?;
                    let field_schema = self.convert(
                        field_type,
                        own_namespace.as_deref(),
                        false,
                        f.get("default"),
                    );
                    let field_schema = field_schema.map_err(|e| format!("field '{name}': {e}"))?;
                    s.fields.push(Field {
                        name: name.to_owned(),
                        schema: Arc::new(field_schema),
                    });
                }
                self.in_progress.remove(&full);
                s
            }
            "enum" => {
                let full = definition_name(avro, namespace).ok_or("enum without a name")?;
                let short = split_name(&full).1.to_owned();
                let mut s = SchemaBuilder::string().build();
                if let Some(doc) = prop_str("doc") {
                    set_parameter(&mut s, &format!("{AVRO_ENUM_DOC_PREFIX}{short}"), doc);
                }
                if let Some(default) = prop_str("default") {
                    set_parameter(
                        &mut s,
                        &format!("{AVRO_ENUM_DEFAULT_PREFIX}{short}"),
                        default,
                    );
                }
                set_parameter(&mut s, AVRO_TYPE_ENUM, &full);
                for symbol in prop("symbols")
                    .and_then(Json::as_array)
                    .ok_or("enum without symbols")?
                {
                    let symbol = symbol.as_str().ok_or("enum symbol is not a string")?;
                    set_parameter(&mut s, &format!("{AVRO_TYPE_ENUM}.{symbol}"), symbol);
                }
                s
            }
            "null" => return Err("standalone null schemas have no Connect equivalent".into()),
            other => return Err(format!("unsupported Avro type '{other}'")),
        };

        if let Some(doc) = prop_str(CONNECT_DOC) {
            schema.doc = Some(doc.to_owned());
        }
        if let Some(version) = prop(CONNECT_VERSION) {
            let version = version
                .as_i64()
                .and_then(|v| i32::try_from(v).ok())
                .ok_or_else(|| format!("invalid {CONNECT_VERSION}: {version}"))?;
            match schema.version {
                Some(v) if v != version => {
                    return Err(format!(
                        "{CONNECT_VERSION} {version} contradicts the logical type's version {v}"
                    ))
                }
                _ => schema.version = Some(version),
            }
        }
        if let Some(params) = prop(CONNECT_PARAMETERS) {
            let params = params
                .as_object()
                .ok_or("connect.parameters is not a JSON object")?;
            for (k, v) in params {
                let v = v
                    .as_str()
                    .ok_or("connect.parameters values must be strings")?;
                set_parameter(&mut schema, k, v);
            }
        }
        if let Some(obj) = obj {
            for (k, v) in obj {
                if k.starts_with(AVRO_PROP_PREFIX) {
                    let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                    set_parameter(&mut schema, k, &text);
                }
            }
        }
        let connect_default = prop(CONNECT_DEFAULT);
        let default = match field_default {
            None => connect_default,
            Some(d) => {
                if connect_default.is_none() {
                    set_parameter(&mut schema, AVRO_FIELD_DEFAULT_FLAG, "true");
                }
                Some(d)
            }
        };
        if let Some(d) = default {
            schema.default = self.default_value(&schema, avro, d, namespace)?;
        }

        let name = match prop(CONNECT_NAME) {
            Some(Json::String(n)) => Some(n.clone()),
            Some(other) => return Err(format!("invalid {CONNECT_NAME}: {other}")),
            None if matches!(kind, "record" | "error" | "enum") => definition_name(avro, namespace),
            None => None,
        };
        if let Some(name) = name.filter(|n| !is_default_schema_name(n)) {
            match &schema.name {
                Some(existing) if *existing != name => {
                    return Err(format!(
                        "schema name '{name}' contradicts the logical type '{existing}'"
                    ))
                }
                _ => schema.name = Some(name),
            }
        }
        if force_optional {
            schema.optional = true;
        }
        Ok(schema)
    }

    /// `["null", T]` (either order) is an optional T; any other union is a Connect struct named
    /// `io.confluent.connect.avro.Union` with one optional field per non-null member.
    fn union(
        &mut self,
        avro: &'a Json,
        namespace: Option<&str>,
        force_optional: bool,
        field_default: Option<&'a Json>,
    ) -> Result<Schema, String> {
        let members = avro.as_array().map(Vec::as_slice).unwrap_or_default();
        if members.len() == 2 {
            if let Some(i) = members.iter().position(is_null_type) {
                return self.convert(&members[1 - i], namespace, true, None);
            }
        }
        let mut schema = SchemaBuilder::structure().name(AVRO_TYPE_UNION).build();
        for member in members {
            if is_null_type(member) {
                schema.optional = true;
                continue;
            }
            let field_name = self.union_member_name(member, namespace)?;
            if schema.field(&field_name).is_some() {
                return Err(format!(
                    "two union members map to the Connect union field '{field_name}'"
                ));
            }
            let member_schema = self.convert(member, namespace, true, None)?;
            schema.fields.push(Field {
                name: field_name,
                schema: Arc::new(member_schema),
            });
        }
        if let Some(d) = field_default {
            set_parameter(&mut schema, AVRO_FIELD_DEFAULT_FLAG, "true");
            // Defaults of a union are written against its first member.
            schema.default = self.default_value(&schema, avro, d, namespace)?;
        }
        if force_optional {
            schema.optional = true;
        }
        Ok(schema)
    }

    /// Field name of a union member: a record's or enum's short name, else the Avro type name.
    fn union_member_name(
        &self,
        member: &'a Json,
        namespace: Option<&str>,
    ) -> Result<String, String> {
        let resolved = self.resolve(member, namespace);
        let kind = match resolved {
            Json::String(s) => s.as_str(),
            Json::Object(o) => o.get("type").and_then(Json::as_str).unwrap_or(""),
            _ => "",
        };
        Ok(match kind {
            "record" | "error" | "enum" => {
                let ns = self.lookup_namespace(member, namespace);
                let full = definition_name(resolved, ns.as_deref())
                    .ok_or("union member without a name")?;
                split_name(&full).1.to_owned()
            }
            "" => return Err(format!("union member without a type: {member}")),
            other => other.to_owned(),
        })
    }

    /// The definition a reference points to, or the schema itself.
    fn resolve(&self, avro: &'a Json, namespace: Option<&str>) -> &'a Json {
        match avro {
            Json::String(name) if !PRIMITIVES.contains(&name.as_str()) => {
                self.lookup(name, namespace).map_or(avro, |(def, _)| *def)
            }
            _ => avro,
        }
    }

    fn lookup_namespace(&self, avro: &Json, namespace: Option<&str>) -> Option<String> {
        match avro {
            Json::String(name) => self.lookup(name, namespace).and_then(|(_, ns)| ns.clone()),
            _ => namespace.map(str::to_owned),
        }
    }

    /// The (key, value) field types and namespace when `items` is the entry record of a map
    /// with non-string keys.
    fn map_entry_fields(
        &self,
        items: &'a Json,
        namespace: Option<&str>,
    ) -> Option<(&'a Json, &'a Json, Option<String>)> {
        let record = self.resolve(items, namespace);
        let obj = record.as_object()?;
        if !matches!(
            obj.get("type").and_then(Json::as_str),
            Some("record" | "error")
        ) {
            return None;
        }
        let ns = self.lookup_namespace(items, namespace);
        let full = definition_name(record, ns.as_deref())?;
        let is_entry = full == full_name(Some(NAMESPACE), MAP_ENTRY_TYPE_NAME)
            || obj.get(CONNECT_INTERNAL_TYPE).and_then(Json::as_str) == Some(MAP_ENTRY_TYPE_NAME);
        if !is_entry {
            return None;
        }
        let fields = obj.get("fields")?.as_array()?;
        let field_type = |name: &str| {
            fields
                .iter()
                .find(|f| f.get("name").and_then(Json::as_str) == Some(name))
                .and_then(|f| f.get("type"))
        };
        if fields.len() != 2 {
            return None;
        }
        Some((
            field_type(KEY_FIELD)?,
            field_type(VALUE_FIELD)?,
            split_name(&full).0.map(str::to_owned),
        ))
    }

    fn default_value(
        &self,
        schema: &Schema,
        avro: &'a Json,
        default: &Json,
        namespace: Option<&str>,
    ) -> Result<Option<crate::data::Value>, String> {
        let resolve = |t: &'a Json| Some(self.resolve(t, namespace));
        default_from_json(schema, avro, default, &resolve)
            .map_err(|e| format!("default value: {e}"))
    }
}

fn is_complex(kind: &str) -> bool {
    matches!(
        kind,
        "record" | "error" | "enum" | "fixed" | "array" | "map"
    )
}

/// Full name of a named type's definition: its `name` (full when dotted), else in its
/// `namespace`, else in the enclosing namespace.
fn definition_name(avro: &Json, enclosing: Option<&str>) -> Option<String> {
    let name = avro.get("name")?.as_str()?;
    if name.contains('.') {
        return Some(name.to_owned());
    }
    let space = match avro.get("namespace").and_then(Json::as_str) {
        Some(ns) => Some(ns),
        None => enclosing,
    };
    Some(full_name(space, name))
}

/// Connect's logical-type builders (`Date.builder()` …): the physical type, the name, version 1.
fn logical_builder(ty: Type, name: &str) -> Schema {
    SchemaBuilder::new(ty).name(name).version(1).build()
}

/// Sets a parameter keeping the position of an existing key, as Connect's `LinkedHashMap`.
fn set_parameter(schema: &mut Schema, key: &str, value: &str) {
    match schema.parameters.iter_mut().find(|(k, _)| k == key) {
        Some((_, v)) => *v = value.to_owned(),
        None => schema.parameters.push((key.to_owned(), value.to_owned())),
    }
}
