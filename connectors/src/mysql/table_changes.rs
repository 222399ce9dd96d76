//! Debezium's `tableChanges`: the structure of a table as it stands after a schema change, the
//! part of a schema-change record (`io.debezium.connector.schema.Change`) that lets a reader
//! rebuild the table without parsing the DDL.
//!
//! Debezium fills it from its DDL parser's table model; we fill it from ours, the server's
//! catalog, mapping each column as that parser does (`MySqlAntlrDdlParser`'s data-type table and
//! `ColumnDefinitionParserListener`): `jdbcType` is the `java.sql.Types` code the parser
//! registers for the type word (TINYINT and SMALLINT are `SMALLINT`, TEXT types `VARCHAR`,
//! TIMESTAMP `TIMESTAMP_WITH_TIMEZONE` …), `typeName` the type word in upper case with
//! `UNSIGNED`/`ZEROFILL`, `length`/`scale` the type's dimensions as written by `SHOW CREATE
//! TABLE` (which `COLUMN_TYPE` mirrors: `int(11)`, `decimal(20,4)`, `time(6)`), ENUM length 1,
//! SET length 2n−1, `enumValues` the members still quoted, `defaultValueExpression` the
//! unquoted constant (`1970-01-01 00:00:00` for `CURRENT_TIMESTAMP`, none for expressions).
//! Comments stay null, as with Debezium's default `include.schema.comments=false`.

use std::sync::OnceLock;

use tributary_runtime::data::{SchemaRef, Struct, Value};

use super::schemas;
use super::table::Table;
use super::types::{Column, ColumnDefault, ColumnKind};

/// What a schema change did to a table (Debezium's `TableChangeType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeType {
    Create,
    Alter,
    Drop,
}

impl ChangeType {
    fn name(self) -> &'static str {
        match self {
            ChangeType::Create => "CREATE",
            ChangeType::Alter => "ALTER",
            ChangeType::Drop => "DROP",
        }
    }
}

/// Facts about a table that only `tableChanges` needs, read from the catalog with the columns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableExtras {
    /// The table's default character set (`DEFAULT CHARSET=` of `SHOW CREATE TABLE`).
    pub default_charset: Option<String>,
    /// Names of the columns with `AUTO_INCREMENT`.
    pub auto_increment: Vec<String>,
}

/// The compiled-in schema-change schema lacks a part this module fills: a build defect.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the schema io.debezium.connector.mysql.SchemaChangeValue has no {0}; mysql/schemas/ and table_changes.rs disagree")]
pub struct TableChangesError(&'static str);

/// `java.sql.Types` codes Debezium's MySQL DDL parser assigns.
mod jdbc {
    pub const BIT: i32 = -7;
    pub const SMALLINT: i32 = 5;
    pub const INTEGER: i32 = 4;
    pub const BIGINT: i32 = -5;
    pub const FLOAT: i32 = 6;
    pub const REAL: i32 = 7;
    pub const DOUBLE: i32 = 8;
    pub const NUMERIC: i32 = 2;
    pub const DECIMAL: i32 = 3;
    pub const CHAR: i32 = 1;
    pub const VARCHAR: i32 = 12;
    pub const NCHAR: i32 = -15;
    pub const NVARCHAR: i32 = -9;
    pub const DATE: i32 = 91;
    pub const TIME: i32 = 92;
    pub const TIMESTAMP: i32 = 93;
    pub const TIMESTAMP_WITH_TIMEZONE: i32 = 2014;
    pub const BINARY: i32 = -2;
    pub const VARBINARY: i32 = -3;
    pub const BLOB: i32 = 2004;
    pub const BOOLEAN: i32 = 16;
    pub const OTHER: i32 = 1111;
}

/// The `jdbcType` of a type word (lower case), as Debezium's parser registers it.
pub fn jdbc_type(base: &str) -> i32 {
    match base {
        "tinyint" | "int1" | "smallint" | "int2" => jdbc::SMALLINT,
        "mediumint" | "int3" | "middleint" | "int" | "integer" | "int4" | "year" => jdbc::INTEGER,
        "bigint" | "int8" | "serial" => jdbc::BIGINT,
        "float" | "float4" => jdbc::FLOAT,
        "real" => jdbc::REAL,
        "double" | "float8" | "double precision" => jdbc::DOUBLE,
        "decimal" | "dec" | "fixed" => jdbc::DECIMAL,
        "numeric" => jdbc::NUMERIC,
        "bit" => jdbc::BIT,
        "bool" | "boolean" => jdbc::BOOLEAN,
        "char" | "character" | "enum" | "set" => jdbc::CHAR,
        "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" | "long" | "long varchar" => {
            jdbc::VARCHAR
        }
        "nchar" => jdbc::NCHAR,
        "nvarchar" => jdbc::NVARCHAR,
        "binary" => jdbc::BINARY,
        "varbinary" => jdbc::VARBINARY,
        "tinyblob" | "blob" | "mediumblob" | "longblob" | "long varbinary" => jdbc::BLOB,
        "date" => jdbc::DATE,
        "time" => jdbc::TIME,
        "datetime" => jdbc::TIMESTAMP,
        "timestamp" => jdbc::TIMESTAMP_WITH_TIMEZONE,
        // json, the geometry types, and what the parser does not know.
        _ => jdbc::OTHER,
    }
}

/// One column as Debezium's `io.debezium.connector.schema.Column` describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnStructure {
    pub name: String,
    pub jdbc_type: i32,
    pub type_name: String,
    pub charset: Option<String>,
    pub length: Option<i32>,
    pub scale: Option<i32>,
    pub position: i32,
    pub optional: bool,
    pub auto_incremented: bool,
    pub default_expression: Option<String>,
    pub enum_values: Option<Vec<String>>,
}

fn to_i32(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl ColumnStructure {
    pub fn of(column: &Column, auto_incremented: bool) -> ColumnStructure {
        let parsed = Column::parse_column_type(&column.column_type);
        let base = if parsed.base.is_empty() {
            column.data_type.clone()
        } else {
            parsed.base.clone()
        };
        let mut type_name = base.to_ascii_uppercase();
        if parsed.unsigned {
            type_name.push_str(" UNSIGNED");
        }
        if parsed.zerofill {
            type_name.push_str(" ZEROFILL");
        }
        let length = column.length.map(to_i32);
        let scale = column.scale.map(to_i32);
        let (length, scale) = match column.kind {
            ColumnKind::Enum => (Some(1), None),
            ColumnKind::Set => {
                let n = i32::try_from(parsed.args.len()).unwrap_or(i32::MAX / 2);
                (Some((2 * n - 1).max(0)), None)
            }
            // The parser's default dimensions: DECIMAL(10,0), BIT(1).
            ColumnKind::Decimal => (length.or(Some(10)), scale.or(Some(0))),
            ColumnKind::Bit => (length.or(Some(1)), scale),
            _ => (length, scale),
        };
        let charset = match column.kind {
            ColumnKind::String | ColumnKind::Enum | ColumnKind::Set => column.charset.clone(),
            _ => None,
        };
        let enum_values = matches!(column.kind, ColumnKind::Enum | ColumnKind::Set)
            .then(|| parsed.args.clone())
            .filter(|v| !v.is_empty());
        ColumnStructure {
            name: column.name.clone(),
            jdbc_type: jdbc_type(&base),
            type_name,
            charset,
            length,
            scale,
            position: to_i32(column.position),
            optional: column.nullable,
            auto_incremented,
            default_expression: default_expression(&column.default),
            enum_values,
        }
    }
}

/// `defaultValueExpression` as Debezium's `DefaultValueParserListener` sets it.
fn default_expression(default: &ColumnDefault) -> Option<String> {
    match default {
        ColumnDefault::None | ColumnDefault::Expression(_) => None,
        ColumnDefault::CurrentTimestamp => Some("1970-01-01 00:00:00".to_owned()),
        ColumnDefault::Literal(text) => {
            // A bit literal b'101' keeps its digits only.
            let lower = text.to_ascii_lowercase();
            match lower.strip_prefix("b'").and_then(|r| r.strip_suffix('\'')) {
                Some(bits) => Some(bits.to_owned()),
                None => Some(text.clone()),
            }
        }
    }
}

/// The nested schemas of `tableChanges`, taken from the compiled-in schema-change value.
struct ChangeSchemas {
    change: SchemaRef,
    table: SchemaRef,
    column: SchemaRef,
}

fn field_schema(schema: &SchemaRef, name: &'static str) -> Result<SchemaRef, TableChangesError> {
    schema
        .field(name)
        .map(|(_, f)| f.schema.clone())
        .ok_or(TableChangesError(name))
}

fn element_schema(schema: &SchemaRef, what: &'static str) -> Result<SchemaRef, TableChangesError> {
    schema.value_schema.clone().ok_or(TableChangesError(what))
}

fn change_schemas() -> Result<&'static ChangeSchemas, TableChangesError> {
    static CELL: OnceLock<Result<ChangeSchemas, TableChangesError>> = OnceLock::new();
    CELL.get_or_init(|| {
        let value = schemas::schema_change_value();
        let change = element_schema(
            &field_schema(&value, "tableChanges")?,
            "tableChanges element",
        )?;
        let table = field_schema(&change, "table")?;
        let column = element_schema(&field_schema(&table, "columns")?, "columns element")?;
        Ok(ChangeSchemas {
            change,
            table,
            column,
        })
    })
    .as_ref()
    .map_err(Clone::clone)
}

fn strings(items: &[String]) -> Value {
    Value::Array(items.iter().map(|s| Value::String(s.clone())).collect())
}

fn column_struct(schema: &SchemaRef, c: &ColumnStructure) -> Struct {
    let mut s = Struct::new(schema.clone());
    s.put("name", c.name.as_str());
    s.put("jdbcType", c.jdbc_type);
    s.put("nativeType", Value::Null);
    s.put("typeName", c.type_name.as_str());
    s.put("typeExpression", c.type_name.as_str());
    s.put("charsetName", c.charset.clone());
    s.put("length", c.length);
    s.put("scale", c.scale);
    s.put("position", c.position);
    s.put("optional", c.optional);
    s.put("autoIncremented", c.auto_incremented);
    // Debezium marks auto-increment columns as generated (and nothing else).
    s.put("generated", c.auto_incremented);
    s.put("comment", Value::Null);
    s.put("defaultValueExpression", c.default_expression.clone());
    s.put(
        "enumValues",
        c.enum_values.as_deref().map_or(Value::Null, strings),
    );
    s
}

/// The structures of a table's columns, in ordinal order.
pub fn column_structures(table: &Table) -> Vec<ColumnStructure> {
    table
        .columns
        .iter()
        .map(|c| ColumnStructure::of(c, table.extras.auto_increment.contains(&c.name)))
        .collect()
}

/// Debezium's table id text, `"db"."table"`.
pub fn table_id(db: &str, name: &str) -> String {
    format!("\"{db}\".\"{name}\"")
}

/// One entry of `tableChanges`. `table` is the structure after the change (none for a DROP,
/// which Debezium publishes without one).
pub fn change(
    kind: ChangeType,
    db: &str,
    name: &str,
    table: Option<&Table>,
) -> Result<Value, TableChangesError> {
    let schemas = change_schemas()?;
    let mut change = Struct::new(schemas.change.clone());
    change.put("type", kind.name());
    change.put("id", table_id(db, name));
    let structure = match (kind, table) {
        (ChangeType::Drop, _) | (_, None) => Value::Null,
        (_, Some(t)) => {
            let mut s = Struct::new(schemas.table.clone());
            s.put("defaultCharsetName", t.extras.default_charset.clone());
            let key: Vec<String> = t.key.iter().map(|i| t.columns[*i].name.clone()).collect();
            s.put("primaryKeyColumnNames", strings(&key));
            s.put(
                "columns",
                Value::Array(
                    column_structures(t)
                        .iter()
                        .map(|c| Value::Struct(column_struct(&schemas.column, c)))
                        .collect(),
                ),
            );
            s.put("comment", Value::Null);
            Value::Struct(s)
        }
    };
    change.put("table", structure);
    Ok(Value::Struct(change))
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value as Json};

    use super::*;
    use crate::mysql::types::test_support::all_types_columns;

    fn to_json(v: &Value) -> Json {
        match v {
            Value::Null => Json::Null,
            Value::Boolean(b) => json!(b),
            Value::Int32(i) => json!(i),
            Value::String(s) => json!(s),
            Value::Array(items) => Json::Array(items.iter().map(to_json).collect()),
            Value::Struct(s) => {
                Json::Object(s.iter().map(|(n, v)| (n.to_owned(), to_json(v))).collect())
            }
            other => json!(format!("{other:?}")),
        }
    }

    /// The `tableChanges` of Debezium's recorded ALTER of `all_types` (38 columns).
    fn recorded_alter() -> Json {
        let events = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/debezium-3.6.3-mysql/events.jsonl"
        ));
        events
            .lines()
            .filter_map(|l| serde_json::from_str::<Json>(l).ok())
            .find(|e| {
                e["topic"] == "PREFIX"
                    && e["value"]["ddl"]
                        .as_str()
                        .is_some_and(|d| d.starts_with("ALTER TABLE"))
            })
            .map(|e| e["value"]["tableChanges"].clone())
            .unwrap_or(Json::Null)
    }

    #[test]
    fn every_column_of_the_recorded_table_is_described_as_debezium_did() {
        let config = crate::mysql::config::MySqlConfig::parse(
            &[
                ("database.hostname", "127.0.0.1"),
                ("database.user", "root"),
                ("topic.prefix", "PREFIX"),
            ]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        )
        .expect("config");
        let mut table = Table::new(
            "refdb",
            "all_types",
            all_types_columns(),
            &["id".to_owned()],
            &config,
        );
        table.extras.default_charset = Some("utf8mb4".into());
        let ours = to_json(
            &change(ChangeType::Alter, "refdb", "all_types", Some(&table)).expect("schema"),
        );
        let recorded = recorded_alter();
        let want = &recorded[0];
        assert_eq!(ours["type"], want["type"]);
        assert_eq!(ours["id"], want["id"]);
        let (ours_t, want_t) = (&ours["table"], &want["table"]);
        for k in ["defaultCharsetName", "primaryKeyColumnNames", "comment"] {
            assert_eq!(ours_t[k], want_t[k], "{k}");
        }
        let (ours_c, want_c) = (
            ours_t["columns"].as_array().cloned().unwrap_or_default(),
            want_t["columns"].as_array().cloned().unwrap_or_default(),
        );
        assert_eq!(ours_c.len(), want_c.len());
        for (o, w) in ours_c.iter().zip(&want_c) {
            assert_eq!(o, w, "column {}", w["name"]);
        }
    }

    #[test]
    fn a_drop_has_no_structure() {
        let v = to_json(&change(ChangeType::Drop, "d", "t", None).expect("schema"));
        assert_eq!(
            v,
            json!({"type": "DROP", "id": "\"d\".\"t\"", "table": null})
        );
    }

    #[test]
    fn defaults_read_as_debeziums_parser_reads_them() {
        assert_eq!(default_expression(&ColumnDefault::None), None);
        assert_eq!(
            default_expression(&ColumnDefault::Literal("b'101'".into())),
            Some("101".into())
        );
        assert_eq!(
            default_expression(&ColumnDefault::CurrentTimestamp),
            Some("1970-01-01 00:00:00".into())
        );
        assert_eq!(
            default_expression(&ColumnDefault::Expression("uuid()".into())),
            None
        );
    }

    #[test]
    fn type_words_map_to_the_parsers_jdbc_types() {
        assert_eq!(jdbc_type("tinyint"), 5);
        assert_eq!(jdbc_type("json"), 1111);
        assert_eq!(jdbc_type("timestamp"), 2014);
        assert_eq!(jdbc_type("longblob"), 2004);
        assert_eq!(jdbc_type("numeric"), 2);
    }
}
