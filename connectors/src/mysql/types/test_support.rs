//! Shared by the unit and server tests: the recorded Debezium 3.6.3 schemas and events in
//! `tests/fixtures/debezium-3.6.3-mysql/`, the scenario's catalog, and helpers comparing our output with them.

use serde_json::{json, Value as Json};
use tributary_runtime::convert::avro::avro_schema_from_connect;
use tributary_runtime::data::{logical, Schema, SchemaBuilder, Value};

use super::*;

pub(super) const ALL_TYPES_V2: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/debezium-3.6.3-mysql/PREFIX.refdb.all_types-value.v2.avsc"
));
pub(super) const ALL_TYPES_V1: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/debezium-3.6.3-mysql/PREFIX.refdb.all_types-value.v1.avsc"
));
pub(super) const ALL_TYPES_KEY: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/debezium-3.6.3-mysql/PREFIX.refdb.all_types-key.v1.avsc"
));
pub(super) const COMPOSITE_VALUE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/debezium-3.6.3-mysql/PREFIX.refdb.composite-value.v1.avsc"
));
pub(super) const COMPOSITE_KEY: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/debezium-3.6.3-mysql/PREFIX.refdb.composite-key.v1.avsc"
));
pub(super) const NO_PK_VALUE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/debezium-3.6.3-mysql/PREFIX.refdb.no_pk-value.v1.avsc"
));
const EVENTS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/debezium-3.6.3-mysql/events.jsonl"
));

/// A catalog row: (name, DATA_TYPE, COLUMN_TYPE, nullable, COLUMN_DEFAULT, CHARACTER_SET_NAME,
/// NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION).
type CatalogRow = (
    &'static str,
    &'static str,
    &'static str,
    bool,
    Option<&'static str>,
    Option<&'static str>,
    Option<u64>,
    Option<u64>,
    Option<u64>,
);

/// `information_schema.COLUMNS` of `refdb.all_types` (after the scenario's ALTER) as MariaDB
/// 10.11 reports it (`NULL` default of nullable columns included, as MariaDB writes it).
#[rustfmt::skip]
const ALL_TYPES_CATALOG: &[CatalogRow] = &[
    ("id", "bigint", "bigint(20) unsigned", false, None, None, Some(20), Some(0), None),
    ("c_tinyint", "tinyint", "tinyint(4)", true, Some("NULL"), None, Some(3), Some(0), None),
    ("c_tinyint_u", "tinyint", "tinyint(3) unsigned", true, Some("NULL"), None, Some(3), Some(0), None),
    ("c_smallint", "smallint", "smallint(6)", true, Some("NULL"), None, Some(5), Some(0), None),
    ("c_smallint_u", "smallint", "smallint(5) unsigned", true, Some("NULL"), None, Some(5), Some(0), None),
    ("c_mediumint", "mediumint", "mediumint(9)", true, Some("NULL"), None, Some(7), Some(0), None),
    ("c_mediumint_u", "mediumint", "mediumint(8) unsigned", true, Some("NULL"), None, Some(8), Some(0), None),
    ("c_int", "int", "int(11)", true, Some("NULL"), None, Some(10), Some(0), None),
    ("c_int_u", "int", "int(10) unsigned", true, Some("NULL"), None, Some(10), Some(0), None),
    ("c_bigint", "bigint", "bigint(20)", true, Some("NULL"), None, Some(19), Some(0), None),
    ("c_bigint_u", "bigint", "bigint(20) unsigned", true, Some("NULL"), None, Some(20), Some(0), None),
    ("c_decimal", "decimal", "decimal(20,4)", true, Some("NULL"), None, Some(20), Some(4), None),
    ("c_decimal0", "decimal", "decimal(10,0)", true, Some("NULL"), None, Some(10), Some(0), None),
    ("c_float", "float", "float", true, Some("NULL"), None, Some(12), None, None),
    ("c_double", "double", "double", true, Some("NULL"), None, Some(22), None, None),
    ("c_char", "char", "char(10)", true, Some("NULL"), Some("utf8mb4"), None, None, None),
    ("c_varchar", "varchar", "varchar(100)", true, Some("NULL"), Some("utf8mb4"), None, None, None),
    ("c_text", "mediumtext", "mediumtext", true, Some("NULL"), Some("utf8mb4"), None, None, None),
    ("c_binary", "binary", "binary(4)", true, Some("NULL"), None, None, None, None),
    ("c_varbinary", "varbinary", "varbinary(16)", true, Some("NULL"), None, None, None, None),
    ("c_blob", "blob", "blob", true, Some("NULL"), None, None, None, None),
    ("c_date", "date", "date", true, Some("NULL"), None, None, None, None),
    ("c_time", "time", "time", true, Some("NULL"), None, None, None, Some(0)),
    ("c_time6", "time", "time(6)", true, Some("NULL"), None, None, None, Some(6)),
    ("c_datetime", "datetime", "datetime", true, Some("NULL"), None, None, None, Some(0)),
    ("c_datetime3", "datetime", "datetime(3)", true, Some("NULL"), None, None, None, Some(3)),
    ("c_datetime6", "datetime", "datetime(6)", true, Some("NULL"), None, None, None, Some(6)),
    ("c_timestamp", "timestamp", "timestamp", true, Some("NULL"), None, None, None, Some(0)),
    ("c_timestamp6", "timestamp", "timestamp(6)", true, Some("NULL"), None, None, None, Some(6)),
    ("c_year", "year", "year(4)", true, Some("NULL"), None, None, None, None),
    ("c_enum", "enum", "enum('red','green','blue')", true, Some("NULL"), Some("utf8mb4"), None, None, None),
    ("c_set", "set", "set('a','b','c')", true, Some("NULL"), Some("utf8mb4"), None, None, None),
    ("c_bit1", "bit", "bit(1)", true, Some("NULL"), None, Some(1), None, None),
    ("c_bit12", "bit", "bit(12)", true, Some("NULL"), None, Some(12), None, None),
    ("c_bool", "tinyint", "tinyint(1)", true, Some("NULL"), None, Some(3), Some(0), None),
    ("c_json", "longtext", "longtext", true, Some("NULL"), Some("utf8mb4"), None, None, None),
    ("c_geom", "geometry", "geometry", true, Some("NULL"), None, None, None, None),
    ("c_added", "varchar", "varchar(10)", true, Some("'dflt'"), Some("utf8mb4"), None, None, None),
];

fn column_of(row: &CatalogRow, position: usize) -> Column {
    let (name, data_type, column_type, nullable, default, charset, precision, scale, dt) = *row;
    Column::from_information_schema(ColumnInfo {
        name: name.into(),
        position: position as u32 + 1,
        data_type: data_type.into(),
        column_type: column_type.into(),
        nullable,
        default: default.map(str::to_owned),
        charset: charset.map(str::to_owned),
        char_max_length: None,
        numeric_precision: precision,
        numeric_scale: scale,
        datetime_precision: dt,
    })
}

pub(crate) fn all_types_columns() -> Vec<Column> {
    ALL_TYPES_CATALOG
        .iter()
        .enumerate()
        .map(|(i, r)| column_of(r, i))
        .collect()
}

/// A column from just its definition, as the catalog would describe it.
pub(super) fn col(name: &str, column_type: &str, nullable: bool, default: Option<&str>) -> Column {
    let parsed = Column::parse_column_type(column_type);
    let kind = ColumnKind::from_data_type(&parsed.base);
    Column::from_information_schema(ColumnInfo {
        name: name.into(),
        position: 1,
        data_type: parsed.base,
        column_type: column_type.into(),
        nullable,
        default: default.map(str::to_owned),
        charset: matches!(
            kind,
            ColumnKind::String | ColumnKind::Enum | ColumnKind::Set
        )
        .then(|| "utf8mb4".to_owned()),
        ..ColumnInfo::default()
    })
}

/// The `fields` of the record inside the `before` union of a recorded value schema.
pub(super) fn reference_row_fields(avsc: &str) -> Vec<Json> {
    let envelope: Json = serde_json::from_str(avsc).expect("reference avsc is JSON");
    envelope["fields"][0]["type"][1]["fields"]
        .as_array()
        .expect("before is [null, record]")
        .clone()
}

/// Our Avro `fields` for a row of these columns.
pub(super) fn our_row_fields(name: &str, columns: &[Column], modes: &TypeModes) -> Vec<Json> {
    let mut builder = SchemaBuilder::structure().name(name);
    for c in columns {
        builder = builder.field(c.name.clone(), connect_schema(c, modes));
    }
    let avro = avro_schema_from_connect(&builder.build()).expect("translates to Avro");
    avro["fields"].as_array().expect("record fields").clone()
}

pub(super) fn assert_fields_match(ours: &[Json], reference: &[Json]) {
    assert_eq!(ours.len(), reference.len(), "field count");
    for (o, r) in ours.iter().zip(reference) {
        assert_eq!(o, r, "field {}", r["name"]);
    }
}

/// The recorded `after` values (events.jsonl) of `refdb.all_types` rows by id, in the JSON
/// form the recorder wrote (bytes as `{"base64"}`, decimals as `{"decimal"}`).
pub(super) fn recorded_after(id: i64) -> serde_json::Map<String, Json> {
    for line in EVENTS.lines() {
        let event: Json = serde_json::from_str(line).expect("events.jsonl is JSON lines");
        if event["topic"] != "PREFIX.refdb.all_types" {
            continue;
        }
        let after = &event["value"]["after"];
        if after["id"] == json!(id) {
            return after.as_object().expect("after is a record").clone();
        }
    }
    panic!("no recorded row with id {id}");
}

/// A Connect value in the recording's JSON form, following its schema.
pub(super) fn recorded_form(schema: &Schema, value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Boolean(b) => json!(b),
        Value::Int8(v) => json!(v),
        Value::Int16(v) => json!(v),
        Value::Int32(v) => json!(v),
        Value::Int64(v) => json!(v),
        Value::Float32(v) => json!(f64::from(*v)),
        Value::Float64(v) => json!(v),
        Value::String(s) => json!(s),
        Value::Bytes(b) if schema.is_named(logical::DECIMAL) => {
            let scale = schema
                .parameter(logical::DECIMAL_SCALE)
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            json!({"decimal": logical::decimal_from_bytes(b, scale)})
        }
        Value::Bytes(b) => {
            json!({"base64": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, b)})
        }
        Value::Struct(s) => Json::Object(
            s.schema
                .fields
                .iter()
                .zip(&s.values)
                .map(|(f, v)| (f.name.clone(), recorded_form(&f.schema, v)))
                .collect(),
        ),
        Value::Array(_) | Value::Map(_) => json!("unsupported in this test"),
    }
}
