//! A consumed record as a change to one table row: which table, upsert or delete, the cells.
//!
//! Reads Debezium envelopes (`op` c/r/u upsert `after`, d deletes by key, t truncates when
//! enabled), tombstones (delete by key), flat structs (upsert), and schemaless JSON maps (the
//! same, with types inferred from the values). Where key and row come from follows `pk.mode`
//! as in the Confluent sink.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use tributary_runtime::data::{Schema, SchemaBuilder, SchemaRef, Struct, Type, Value};
use tributary_runtime::record::{SchemaAndValue, SinkRecord};

use super::cell::Cell;
use super::config::{JdbcSinkConfig, PkMode};
use super::ident::{NameSource, TableId, TableNameFormat};
use super::layout::{Interner, RowShape};
use super::types::{ColumnDef, ColumnKind};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeOp {
    Upsert,
    Delete,
    /// Empty the table (the shape names the table only).
    Truncate,
}

#[derive(Clone, Debug)]
pub struct Change {
    /// For deletes, the key columns only.
    pub shape: Arc<RowShape>,
    pub op: ChangeOp,
    /// One per column of `shape`.
    pub cells: Vec<Cell>,
    /// Index of the record in the batch handed to `put`.
    pub record: usize,
}

/// Where a column's value comes from in a record.
#[derive(Clone, Copy, Debug)]
enum Source {
    /// The whole (primitive) key.
    Key,
    KeyField(usize),
    RowField(usize),
    Topic,
    Partition,
    Offset,
}

struct Extractor {
    shape: Arc<RowShape>,
    sources: Vec<Source>,
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct ExtractorKey {
    key: usize,
    row: usize,
    table: Arc<TableId>,
    keys_only: bool,
}

/// The schemas an extractor was built for, held so their addresses stay unique while cached.
struct Cached {
    _schemas: (Option<SchemaRef>, Option<SchemaRef>),
    extractor: Arc<Extractor>,
}

/// Most extractors kept; records without a stable schema (schemaless JSON) each bring a new
/// one, so the cache is emptied when it grows past this.
const MAX_CACHED: usize = 1024;

const KAFKA_COLUMNS: [&str; 3] = ["__connect_topic", "__connect_partition", "__connect_offset"];

/// Turns records into changes, caching per schema what it worked out.
pub struct Mapper {
    pk_mode: PkMode,
    pk_fields: Vec<String>,
    include: Vec<String>,
    exclude: Vec<String>,
    delete_enabled: bool,
    truncate_enabled: bool,
    format: TableNameFormat,
    interner: Interner,
    extractors: HashMap<ExtractorKey, Cached>,
    topic_tables: HashMap<String, Arc<TableId>>,
}

impl Mapper {
    pub fn new(config: &JdbcSinkConfig) -> Mapper {
        Mapper {
            pk_mode: config.pk_mode,
            pk_fields: config.pk_fields.clone(),
            include: config.include_fields.clone(),
            exclude: config.exclude_fields.clone(),
            delete_enabled: config.delete_enabled,
            truncate_enabled: config.truncate_enabled,
            format: config.table_format.clone(),
            interner: Interner::default(),
            extractors: HashMap::new(),
            topic_tables: HashMap::new(),
        }
    }

    /// The change a record asks for; `Ok(None)` for records that change nothing (deletes and
    /// truncates when disabled, Debezium's other event kinds).
    pub fn change(&mut self, record: &SinkRecord, index: usize) -> Result<Option<Change>, String> {
        let key = normalize(&record.key)?;
        if record.value.is_null() {
            if !self.delete_enabled || self.format.uses_source() {
                // A tombstone follows Debezium's delete event, which already removed the row;
                // without the event's source block there is no table to route it to.
                return Ok(None);
            }
            let names = NameSource {
                topic: &record.topic,
                ..NameSource::default()
            };
            return self.delete(record, &key, &names, index).map(Some);
        }
        let value = normalize(&record.value)?;
        let Value::Struct(s) = &value.value else {
            return Err(format!(
                "the record value must be a struct or a JSON object, not {}",
                kind_name(&value.value)
            ));
        };
        if !is_envelope(&s.schema) {
            let names = NameSource {
                topic: &record.topic,
                ..NameSource::default()
            };
            return self.upsert(record, &key, s, &names, index).map(Some);
        }
        let op = s
            .get("op")
            .and_then(Value::as_str)
            .ok_or("a Debezium change event without 'op'")?;
        let source = s.get("source").and_then(Value::as_struct);
        let field = |name: &str| source.and_then(|s| s.get(name)).and_then(Value::as_str);
        let names = NameSource {
            topic: &record.topic,
            db: field("db"),
            schema: field("schema"),
            table: field("table"),
        };
        match op {
            "c" | "r" | "u" => {
                let after = s
                    .get("after")
                    .and_then(Value::as_struct)
                    .ok_or_else(|| format!("a Debezium '{op}' event without 'after'"))?;
                self.upsert(record, &key, after, &names, index).map(Some)
            }
            "d" if self.delete_enabled => self.delete(record, &key, &names, index).map(Some),
            "t" if self.truncate_enabled => {
                let table = self.table(&names)?;
                let shape = self.interner.shape(RowShape {
                    table,
                    columns: Vec::new(),
                    pk: Vec::new(),
                });
                Ok(Some(Change {
                    shape,
                    op: ChangeOp::Truncate,
                    cells: Vec::new(),
                    record: index,
                }))
            }
            _ => Ok(None),
        }
    }

    fn table(&mut self, names: &NameSource<'_>) -> Result<Arc<TableId>, String> {
        if !self.format.uses_source() {
            if let Some(t) = self.topic_tables.get(names.topic) {
                return Ok(t.clone());
            }
            let table = self.interner.table(self.format.render(names)?);
            self.topic_tables
                .insert(names.topic.to_owned(), table.clone());
            return Ok(table);
        }
        let rendered = self.format.render(names)?;
        Ok(self.interner.table(rendered))
    }

    fn upsert(
        &mut self,
        record: &SinkRecord,
        key: &SchemaAndValue,
        row: &Struct,
        names: &NameSource<'_>,
        index: usize,
    ) -> Result<Change, String> {
        let table = self.table(names)?;
        let extractor = self.extractor(record, key, Some(&row.schema), table, false)?;
        let cells = cells(&extractor, record, key, Some(row))?;
        Ok(Change {
            shape: extractor.shape.clone(),
            op: ChangeOp::Upsert,
            cells,
            record: index,
        })
    }

    fn delete(
        &mut self,
        record: &SinkRecord,
        key: &SchemaAndValue,
        names: &NameSource<'_>,
        index: usize,
    ) -> Result<Change, String> {
        let table = self.table(names)?;
        let extractor = self.extractor(record, key, None, table, true)?;
        let cells = cells(&extractor, record, key, None)?;
        Ok(Change {
            shape: extractor.shape.clone(),
            op: ChangeOp::Delete,
            cells,
            record: index,
        })
    }

    fn extractor(
        &mut self,
        record: &SinkRecord,
        key: &SchemaAndValue,
        row: Option<&SchemaRef>,
        table: Arc<TableId>,
        keys_only: bool,
    ) -> Result<Arc<Extractor>, String> {
        let ptr = |s: Option<&SchemaRef>| s.map_or(0, |s| Arc::as_ptr(s) as usize);
        let cache_key = ExtractorKey {
            key: ptr(key.schema.as_ref()),
            row: ptr(row),
            table,
            keys_only,
        };
        if let Some(cached) = self.extractors.get(&cache_key) {
            return Ok(cached.extractor.clone());
        }
        let extractor = Arc::new(self.build(
            record,
            key.schema.as_deref(),
            row.map(|r| &**r),
            cache_key.table.clone(),
            keys_only,
        )?);
        if self.extractors.len() >= MAX_CACHED {
            self.extractors.clear();
        }
        self.extractors.insert(
            cache_key,
            Cached {
                _schemas: (key.schema.clone(), row.cloned()),
                extractor: extractor.clone(),
            },
        );
        Ok(extractor)
    }

    fn build(
        &mut self,
        record: &SinkRecord,
        key: Option<&Schema>,
        row: Option<&Schema>,
        table: Arc<TableId>,
        keys_only: bool,
    ) -> Result<Extractor, String> {
        let mut columns: Vec<ColumnDef> = Vec::new();
        let mut sources: Vec<Source> = Vec::new();
        let key_column = |name: &str, kind: ColumnKind| ColumnDef {
            name: name.to_owned(),
            kind,
            optional: false,
        };
        match self.pk_mode {
            PkMode::None => {}
            PkMode::Kafka => {
                let names: Vec<&str> = if self.pk_fields.len() == 3 {
                    self.pk_fields.iter().map(String::as_str).collect()
                } else {
                    KAFKA_COLUMNS.to_vec()
                };
                columns.push(key_column(names[0], ColumnKind::Text));
                columns.push(key_column(names[1], ColumnKind::Int32));
                columns.push(key_column(names[2], ColumnKind::Int64));
                sources.extend([Source::Topic, Source::Partition, Source::Offset]);
            }
            PkMode::RecordKey => {
                let key = key.ok_or("pk.mode=record_key but the record has no key")?;
                if key.ty == Type::Struct {
                    for name in self.pk_names(key)? {
                        let (i, f) = key.field(&name).ok_or_else(|| {
                            format!("pk.fields names '{name}', which the record key does not have")
                        })?;
                        columns.push(key_column(&f.name, ColumnKind::of(&f.schema)));
                        sources.push(Source::KeyField(i));
                    }
                } else {
                    let name = self.pk_fields.first().ok_or(
                        "the record key is not a struct: name its column in pk.fields (pk.mode=record_key)",
                    )?;
                    columns.push(key_column(name, ColumnKind::of(key)));
                    sources.push(Source::Key);
                }
            }
            PkMode::RecordValue => {
                let row = row.ok_or("pk.mode=record_value but the record has no value")?;
                for name in self.pk_names(row)? {
                    let (i, f) = row.field(&name).ok_or_else(|| {
                        format!("pk.fields names '{name}', which the record value does not have")
                    })?;
                    columns.push(key_column(&f.name, ColumnKind::of(&f.schema)));
                    sources.push(Source::RowField(i));
                }
            }
        }
        let pk: Vec<usize> = (0..columns.len()).collect();
        if !keys_only {
            if let Some(row) = row {
                for (i, f) in row.fields.iter().enumerate() {
                    if columns.iter().any(|c| c.name == f.name)
                        || !self.wanted(&record.topic, &f.name)
                    {
                        continue;
                    }
                    columns.push(ColumnDef {
                        name: f.name.clone(),
                        kind: ColumnKind::of(&f.schema),
                        optional: f.schema.optional,
                    });
                    sources.push(Source::RowField(i));
                }
            }
        }
        if columns.is_empty() {
            return Err("the record has no fields to write".to_owned());
        }
        let shape = self.interner.shape(RowShape { table, columns, pk });
        Ok(Extractor { shape, sources })
    }

    /// `pk.fields`, or every field of the struct.
    fn pk_names(&self, schema: &Schema) -> Result<Vec<String>, String> {
        if self.pk_fields.is_empty() {
            if schema.fields.is_empty() {
                return Err("the primary key struct has no fields".to_owned());
            }
            Ok(schema.fields.iter().map(|f| f.name.clone()).collect())
        } else {
            Ok(self.pk_fields.clone())
        }
    }

    /// `fields.whitelist`/`field.include.list` and `field.exclude.list`, entries `field` or
    /// `topic:field`.
    fn wanted(&self, topic: &str, field: &str) -> bool {
        let matches = |entry: &String| {
            entry == field
                || entry
                    .split_once(':')
                    .is_some_and(|(t, f)| t == topic && f == field)
        };
        (self.include.is_empty() || self.include.iter().any(matches))
            && !self.exclude.iter().any(matches)
    }
}

fn cells(
    extractor: &Extractor,
    record: &SinkRecord,
    key: &SchemaAndValue,
    row: Option<&Struct>,
) -> Result<Vec<Cell>, String> {
    let shape = &extractor.shape;
    let mut out = Vec::with_capacity(shape.columns.len());
    for (i, (column, source)) in shape.columns.iter().zip(&extractor.sources).enumerate() {
        let cell = match source {
            Source::Topic => Ok(Cell::Text(record.topic.clone())),
            Source::Partition => Ok(Cell::Int(i64::from(record.partition))),
            Source::Offset => Ok(Cell::Int(record.offset)),
            Source::Key => Cell::from_value(&column.kind, &key.value),
            Source::KeyField(f) => match &key.value {
                Value::Struct(s) => {
                    Cell::from_value(&column.kind, s.values.get(*f).unwrap_or(&Value::Null))
                }
                other => Err(format!(
                    "the record key is {}, not a struct",
                    kind_name(other)
                )),
            },
            Source::RowField(f) => {
                let v = row.and_then(|r| r.values.get(*f)).unwrap_or(&Value::Null);
                Cell::from_value(&column.kind, v)
            }
        }
        .map_err(|e| format!("column '{}': {e}", column.name))?;
        if i < shape.pk.len() && cell == Cell::Null {
            return Err(format!("primary-key column '{}' is null", column.name));
        }
        out.push(cell);
    }
    Ok(out)
}

/// A Debezium envelope: a struct with a string `op`, and `before` and `after`, at least one of
/// them a struct (schemaless JSON gives a null one no struct schema).
fn is_envelope(schema: &Schema) -> bool {
    let ty = |name: &str| schema.field(name).map(|(_, f)| f.schema.ty);
    ty("op") == Some(Type::String)
        && ty("before").is_some()
        && ty("after").is_some()
        && (ty("before") == Some(Type::Struct) || ty("after") == Some(Type::Struct))
}

/// Gives schemaless data (JSON without schemas) a schema: objects become structs (nested ones
/// too), other values the matching primitive schema, so one code path reads everything.
fn normalize(data: &SchemaAndValue) -> Result<Cow<'_, SchemaAndValue>, String> {
    if data.schema.is_some() || data.value.is_null() {
        return Ok(Cow::Borrowed(data));
    }
    let (schema, value) = infer(&data.value)?;
    Ok(Cow::Owned(SchemaAndValue {
        schema: Some(schema),
        value,
    }))
}

fn infer(value: &Value) -> Result<(SchemaRef, Value), String> {
    Ok(match value {
        Value::Map(entries) if entries.iter().all(|(k, _)| k.as_str().is_some()) => {
            let mut builder = SchemaBuilder::structure().optional();
            let mut values = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                let (schema, v) = infer(v)?;
                builder = builder.field(k.as_str().unwrap_or_default(), schema);
                values.push(v);
            }
            let schema = builder.build_ref();
            (schema.clone(), Value::Struct(Struct { schema, values }))
        }
        other => {
            let builder = match other {
                Value::Boolean(_) => SchemaBuilder::boolean(),
                Value::Int8(_) | Value::Int16(_) | Value::Int32(_) | Value::Int64(_) => {
                    SchemaBuilder::int64()
                }
                Value::Float32(_) | Value::Float64(_) => SchemaBuilder::float64(),
                Value::Bytes(_) => SchemaBuilder::bytes(),
                Value::Null | Value::String(_) => SchemaBuilder::string(),
                Value::Array(_) | Value::Map(_) | Value::Struct(_) => {
                    SchemaBuilder::array(SchemaBuilder::string().optional().build_ref())
                }
            };
            let value = match other {
                Value::Int8(_) | Value::Int16(_) | Value::Int32(_) => {
                    Value::Int64(other.as_i64().unwrap_or_default())
                }
                Value::Float32(f) => Value::Float64(f64::from(*f)),
                v => v.clone(),
            };
            (builder.optional().build_ref(), value)
        }
    })
}

fn kind_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Boolean(_) => "a boolean",
        Value::Int8(_) | Value::Int16(_) | Value::Int32(_) | Value::Int64(_) => "an integer",
        Value::Float32(_) | Value::Float64(_) => "a number",
        Value::String(_) => "a string",
        Value::Bytes(_) => "bytes",
        Value::Array(_) => "an array",
        Value::Map(_) => "a map",
        Value::Struct(_) => "a struct",
    }
}
