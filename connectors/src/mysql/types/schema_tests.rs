//! Catalog → schema: column parsing, defaults, modes, and schemas equal to the Avro that
//! Debezium 3.6.3 registered.

use serde_json::{json, Value as Json};
use tributary_runtime::convert::avro::avro_schema_from_connect;
use tributary_runtime::data::{logical, SchemaBuilder, Value};

use super::test_support::*;
use super::*;

#[test]
fn every_all_types_column_has_debeziums_schema() {
    let columns = all_types_columns();
    let modes = TypeModes::default();
    assert_fields_match(
        &our_row_fields("PREFIX.refdb.all_types.Value", &columns, &modes),
        &reference_row_fields(ALL_TYPES_V2),
    );
    // v1: before the ALTER TABLE that added c_added.
    assert_fields_match(
        &our_row_fields(
            "PREFIX.refdb.all_types.Value",
            &columns[..columns.len() - 1],
            &modes,
        ),
        &reference_row_fields(ALL_TYPES_V1),
    );
}

#[test]
fn key_schemas_match_debezium() {
    let modes = TypeModes::default();
    let id = &all_types_columns()[0];
    let key = SchemaBuilder::structure()
        .name("PREFIX.refdb.all_types.Key")
        .field("id", connect_schema(id, &modes))
        .build();
    let expected: Json = serde_json::from_str(ALL_TYPES_KEY).expect("json");
    assert_eq!(avro_schema_from_connect(&key).expect("avro"), expected);

    let k1 = col("k1", "int(11)", false, None);
    let k2 = col("k2", "varchar(20)", false, None);
    let key = SchemaBuilder::structure()
        .name("PREFIX.refdb.composite.Key")
        .field("k1", connect_schema(&k1, &modes))
        .field("k2", connect_schema(&k2, &modes))
        .build();
    let expected: Json = serde_json::from_str(COMPOSITE_KEY).expect("json");
    assert_eq!(avro_schema_from_connect(&key).expect("avro"), expected);
}

#[test]
fn composite_and_no_pk_rows_match_debezium() {
    let modes = TypeModes::default();
    let composite = [
        col("k1", "int(11)", false, None),
        col("k2", "varchar(20)", false, None),
        col("v", "int(11)", true, Some("NULL")),
    ];
    assert_fields_match(
        &our_row_fields("PREFIX.refdb.composite.Value", &composite, &modes),
        &reference_row_fields(COMPOSITE_VALUE),
    );
    let no_pk = [
        col("a", "int(11)", true, Some("NULL")),
        col("b", "varchar(10)", true, Some("NULL")),
    ];
    assert_fields_match(
        &our_row_fields("PREFIX.refdb.no_pk.Value", &no_pk, &modes),
        &reference_row_fields(NO_PK_VALUE),
    );
}

#[test]
fn column_types_parse_into_base_arguments_and_attributes() {
    let p = Column::parse_column_type("decimal(20,4) unsigned zerofill");
    assert_eq!(p.base, "decimal");
    assert_eq!(p.args, ["20", "4"]);
    assert!(p.unsigned && p.zerofill);
    let p = Column::parse_column_type("bigint unsigned");
    assert_eq!(
        (p.base.as_str(), p.args.len(), p.unsigned),
        ("bigint", 0, true)
    );
    let p = Column::parse_column_type("TIME(6)");
    assert_eq!(
        (p.base.as_str(), p.args.as_slice()),
        ("time", &["6".to_owned()][..])
    );

    let c = col("b", "bit(12)", true, None);
    assert_eq!((c.kind, c.bit_length()), (ColumnKind::Bit, 12));
    let c = col("t", "time(6)", true, None);
    assert_eq!(c.time_precision(), 6);
    let c = col("d", "decimal", true, None);
    assert_eq!(c.decimal_precision_scale(), (10, 0));
    assert!(col("f", "float", true, None).is_float32());
    assert!(!col("f", "float(7,3)", true, None).is_float32());
    assert!(col("u", "int(10) unsigned", true, None).unsigned);
    assert_eq!(col("j", "json", true, None).kind, ColumnKind::Json);
    assert_eq!(col("j", "longtext", true, None).kind, ColumnKind::String);
    assert_eq!(
        col("g", "multipolygon", true, None).kind,
        ColumnKind::Geometry
    );
    assert_eq!(col("p", "point", true, None).kind, ColumnKind::Point);
    assert_eq!(col("x", "inet6", true, None).kind, ColumnKind::Unsupported);
}

#[test]
fn enum_members_keep_quotes_commas_and_backslashes() {
    // As MariaDB writes `ENUM('x\\y', 'q''r', 's,t', '', 'a(b)')`.
    let members = Column::parse_enum_values(r"enum('x\\y','q''r','s,t','','a(b)')");
    assert_eq!(
        members,
        Some(vec![
            r"x\y".to_owned(),
            "q'r".to_owned(),
            "s,t".to_owned(),
            String::new(),
            "a(b)".to_owned()
        ])
    );
    let c = col("e", r"enum('q''r','s,t')", true, None);
    let schema = connect_schema(&c, &TypeModes::default());
    // Debezium escapes a comma inside a member.
    assert_eq!(schema.parameter("allowed"), Some(r"q'r,s\,t"));
    assert_eq!(
        Column::parse_enum_values("set('a','b','c')"),
        Some(vec!["a".into(), "b".into(), "c".into()])
    );
}

#[test]
fn defaults_read_in_both_server_styles() {
    use ColumnDefault as D;
    let maria = |raw: &str, kind| Column::parse_default(Some(raw), DefaultStyle::MariaDb, kind);
    let mysql = |raw: &str, kind| Column::parse_default(Some(raw), DefaultStyle::MySql, kind);
    let detect = |raw: &str, kind| Column::parse_default(Some(raw), DefaultStyle::Detect, kind);
    let s = ColumnKind::String;
    assert_eq!(maria("'dflt'", s), D::Literal("dflt".into()));
    assert_eq!(maria(r"'it''s a\\b'", s), D::Literal(r"it's a\b".into()));
    assert_eq!(maria("NULL", s), D::None);
    assert_eq!(maria("'NULL'", s), D::Literal("NULL".into()));
    assert_eq!(maria("5", ColumnKind::Int), D::Literal("5".into()));
    assert_eq!(
        maria("-1.5e3", ColumnKind::Double),
        D::Literal("-1.5e3".into())
    );
    assert_eq!(
        maria("b'101'", ColumnKind::Bit),
        D::Literal("b'101'".into())
    );
    assert_eq!(
        maria("current_timestamp()", ColumnKind::Timestamp),
        D::CurrentTimestamp
    );
    assert_eq!(
        maria("current_timestamp(6)", ColumnKind::DateTime),
        D::CurrentTimestamp
    );
    assert_eq!(
        maria("concat('a','b')", s),
        D::Expression("concat('a','b')".into())
    );
    assert_eq!(
        maria("(1 + 1)", ColumnKind::Int),
        D::Expression("(1 + 1)".into())
    );

    assert_eq!(mysql("dflt", s), D::Literal("dflt".into()));
    assert_eq!(mysql("it's", s), D::Literal("it's".into()));
    assert_eq!(mysql("NULL", s), D::Literal("NULL".into()));
    assert_eq!(
        mysql("CURRENT_TIMESTAMP", ColumnKind::Timestamp),
        D::CurrentTimestamp
    );
    assert_eq!(
        mysql("CURRENT_TIMESTAMP", s),
        D::Literal("CURRENT_TIMESTAMP".into())
    );
    assert_eq!(Column::parse_default(None, DefaultStyle::MySql, s), D::None);

    // Detection reads both.
    assert_eq!(detect("'dflt'", s), D::Literal("dflt".into()));
    assert_eq!(detect("dflt", s), D::Literal("dflt".into()));
    assert_eq!(
        detect("hello (world)", s),
        D::Literal("hello (world)".into())
    );
    assert_eq!(detect("uuid()", s), D::Expression("uuid()".into()));
    assert_eq!(
        detect("CURRENT_TIMESTAMP(3)", ColumnKind::Timestamp),
        D::CurrentTimestamp
    );
    assert_eq!(detect("_utf8mb4\\'abc\\'", s), D::Literal("abc".into()));
    assert_eq!(
        detect("2020-01-02", ColumnKind::Date),
        D::Literal("2020-01-02".into())
    );
}

#[test]
fn defaults_become_values_of_the_column_schema() {
    let modes = TypeModes::default();
    let default_of = |column_type: &str, nullable: bool, raw: &str| {
        default_value(&col("c", column_type, nullable, Some(raw)), &modes)
    };
    assert_eq!(
        default_of("varchar(10)", true, "'dflt'"),
        Some(Value::String("dflt".into()))
    );
    assert_eq!(
        default_of("varchar(10)", true, "dflt"),
        Some(Value::String("dflt".into()))
    );
    assert_eq!(default_of("varchar(10)", true, "NULL"), None);
    assert_eq!(default_of("int(11)", true, "5"), Some(Value::Int32(5)));
    assert_eq!(
        default_of("tinyint(3) unsigned", true, "255"),
        Some(Value::Int16(255))
    );
    assert_eq!(
        default_of("smallint(5) unsigned", true, "65535"),
        Some(Value::Int32(65535))
    );
    assert_eq!(default_of("tinyint(1)", true, "1"), Some(Value::Int16(1)));
    assert_eq!(
        default_of("int(10) unsigned", false, "4294967295"),
        Some(Value::Int64(4_294_967_295))
    );
    assert_eq!(
        default_of("double", true, "-10000000000"),
        Some(Value::Float64(-1e10))
    );
    assert_eq!(default_of("float", true, "1.5"), Some(Value::Float32(1.5)));
    assert_eq!(
        default_of("decimal(5,2)", true, "1.50"),
        Some(Value::Bytes(
            logical::decimal_to_bytes("1.50", 2).expect("decimal")
        ))
    );
    assert_eq!(
        default_of("bit(1)", true, "b'1'"),
        Some(Value::Boolean(true))
    );
    assert_eq!(
        default_of("bit(1)", true, "b'0'"),
        Some(Value::Boolean(false))
    );
    assert_eq!(
        default_of("bit(12)", true, "b'101'"),
        Some(Value::Bytes(vec![0x05, 0x00]))
    );
    assert_eq!(
        default_of("date", true, "'2020-01-02'"),
        Some(Value::Int32(18263))
    );
    assert_eq!(default_of("date", true, "'0000-00-00'"), None);
    assert_eq!(
        default_of("date", false, "'0000-00-00'"),
        Some(Value::Int32(0))
    );
    assert_eq!(
        default_of("datetime(3)", true, "'2020-01-01 00:00:00.500'"),
        Some(Value::Int64(1_577_836_800_500))
    );
    assert_eq!(
        default_of("time(3)", true, "'-01:02:03.500'"),
        Some(Value::Int64(-3_723_500_000))
    );
    assert_eq!(
        default_of("enum('x','y')", true, "'y'"),
        Some(Value::String("y".into()))
    );
    assert_eq!(
        default_of("set('p','q')", true, "'p,q'"),
        Some(Value::String("p,q".into()))
    );
    assert_eq!(
        default_of("year(4)", true, "2000"),
        Some(Value::Int32(2000))
    );
    assert_eq!(default_of("year(4)", true, "0000"), Some(Value::Int32(0)));
    assert_eq!(
        default_of("binary(3)", true, r"'ab\0'"),
        Some(Value::Bytes(b"ab\0".to_vec()))
    );
    assert_eq!(
        default_of("timestamp(3)", true, "'2020-01-01 10:00:00'"),
        Some(Value::String("2020-01-01T10:00:00.000Z".into()))
    );
    // CURRENT_TIMESTAMP: Debezium's epoch, but none on a nullable TIMESTAMP.
    assert_eq!(
        default_of("timestamp", false, "current_timestamp()"),
        Some(Value::String("1970-01-01T00:00:00Z".into()))
    );
    assert_eq!(default_of("timestamp", true, "current_timestamp()"), None);
    assert_eq!(
        default_of("datetime", true, "current_timestamp()"),
        Some(Value::Int64(0))
    );
    // Expressions have no default.
    assert_eq!(default_of("varchar(20)", true, "concat('a','b')"), None);
    assert_eq!(default_of("int(11)", true, "(1 + 1)"), None);
}

#[test]
fn non_null_default_puts_the_value_first_in_the_avro_union() {
    let modes = TypeModes::default();
    let c = col("c_added", "varchar(10)", true, Some("'dflt'"));
    let fields = our_row_fields("X.Value", &[c], &modes);
    assert_eq!(
        fields[0],
        json!({"name": "c_added", "type": [{"type": "string", "connect.default": "dflt"}, "null"], "default": "dflt"})
    );
}

#[test]
fn modes_parse_case_insensitively_and_name_allowed_values() {
    assert_eq!("PRECISE".parse(), Ok(DecimalHandlingMode::Precise));
    assert_eq!(" string ".parse(), Ok(DecimalHandlingMode::String));
    assert_eq!(
        "adaptive_time_microseconds".parse(),
        Ok(TimePrecisionMode::AdaptiveTimeMicroseconds)
    );
    assert_eq!("connect".parse(), Ok(TimePrecisionMode::Connect));
    assert_eq!("precise".parse(), Ok(BigIntUnsignedHandlingMode::Precise));
    assert_eq!(
        "base64-url-safe".parse(),
        Ok(BinaryHandlingMode::Base64UrlSafe)
    );
    let err = "exact".parse::<DecimalHandlingMode>().expect_err("invalid");
    assert_eq!(
        err.to_string(),
        "invalid value `exact` for decimal.handling.mode; allowed values: precise, double, string"
    );
    assert_eq!(TypeModes::default().binary, BinaryHandlingMode::Bytes);
}
