//! Value conversion: binlog-shaped and result-set-shaped values against Debezium's
//! encodings.

use mysql_async::binlog::value::BinlogValue;
use mysql_async::Value as My;
use tributary_runtime::data::{logical, SchemaRef, Type, Value};

use super::test_support::*;
use super::*;

#[test]
fn decimal_text_becomes_the_unscaled_value_at_the_column_scale() {
    let c = col("d", "decimal(12,2)", true, None);
    let precise = TypeModes::default();
    for (text, value) in [
        ("1234567890.12", "1234567890.12"),
        ("0.00", "0"),
        ("-0.00", "0"),
        ("-1.5", "-1.50"),
        ("+7", "7.00"),
        ("007.10", "7.10"),
        (".5", "0.50"),
        ("12.340", "12.34"),
        // More fraction digits than the scale: rounded half up, as BigDecimal.setScale.
        ("1.005", "1.01"),
        ("-1.995", "-2.00"),
        ("1.5e2", "150.00"),
    ] {
        let expected = logical::decimal_to_bytes(value, 2).expect("a decimal");
        let from_text = My::Bytes(text.as_bytes().to_vec());
        assert_eq!(
            from_row(&c, &from_text, &precise),
            Ok(Value::Bytes(expected.clone())),
            "{text}"
        );
        assert_eq!(
            from_binlog(&c, &BinlogValue::Value(from_text), &precise),
            Ok(Value::Bytes(expected)),
            "{text} from the binlog"
        );
    }
    assert!(from_row(&c, &My::Bytes(b"1.2.3".to_vec()), &precise).is_err());
}

#[test]
fn decimal_modes_change_schema_and_value() {
    let c = col("d", "decimal(20,4)", true, None);
    let text = My::Bytes(b"-1234567890123456.7890".to_vec());
    let precise = TypeModes::default();
    let double = TypeModes {
        decimal: DecimalHandlingMode::Double,
        ..TypeModes::default()
    };
    let string = TypeModes {
        decimal: DecimalHandlingMode::String,
        ..TypeModes::default()
    };
    assert_eq!(
        connect_schema(&c, &precise).name.as_deref(),
        Some(logical::DECIMAL)
    );
    assert_eq!(connect_schema(&c, &double).ty, Type::Float64);
    assert_eq!(connect_schema(&c, &string).ty, Type::String);
    assert_eq!(
        from_row(&c, &text, &precise),
        Ok(Value::Bytes(
            logical::decimal_to_bytes("-1234567890123456.7890", 4).expect("d")
        ))
    );
    assert_eq!(
        from_row(&c, &text, &double),
        Ok(Value::Float64(-1_234_567_890_123_456.8))
    );
    assert_eq!(
        from_row(&c, &text, &string),
        Ok(Value::String("-1234567890123456.7890".into()))
    );
    // Text with leading zeros or fewer digits (mysql_common, the text protocol) normalizes.
    assert_eq!(
        from_row(&c, &My::Bytes(b"0000000005.5".to_vec()), &string),
        Ok(Value::String("5.5000".into()))
    );
    // BIGINT UNSIGNED in precise mode is a Decimal(20,0).
    let u = col("u", "bigint(20) unsigned", true, None);
    let precise_u = TypeModes {
        bigint_unsigned: BigIntUnsignedHandlingMode::Precise,
        ..TypeModes::default()
    };
    let schema = connect_schema(&u, &precise_u);
    assert_eq!(schema.parameter("connect.decimal.precision"), Some("20"));
    let max = from_binlog(&u, &BinlogValue::Value(My::Int(-1)), &precise_u).expect("converts");
    assert_eq!(
        logical::decimal_value_to_string(&max, 0).as_deref(),
        Some("18446744073709551615")
    );
    assert_eq!(
        from_binlog(&u, &BinlogValue::Value(My::Int(-1)), &precise),
        Ok(Value::Int64(-1))
    );
}

#[test]
fn unsigned_integers_are_reinterpreted_from_the_binlogs_signed_bits() {
    let modes = TypeModes::default();
    let bin = |column_type: &str, v: i64| {
        from_binlog(
            &col("c", column_type, true, None),
            &BinlogValue::Value(My::Int(v)),
            &modes,
        )
    };
    assert_eq!(bin("tinyint(3) unsigned", -1), Ok(Value::Int16(255)));
    assert_eq!(bin("smallint(5) unsigned", -1), Ok(Value::Int32(65535)));
    assert_eq!(
        bin("mediumint(8) unsigned", -1),
        Ok(Value::Int32(16_777_215))
    );
    assert_eq!(bin("int(10) unsigned", -1), Ok(Value::Int64(4_294_967_295)));
    assert_eq!(bin("tinyint(4)", -128), Ok(Value::Int16(-128)));
    // Signed MEDIUMINT arrives without sign extension.
    assert_eq!(bin("mediumint(9)", 0x80_0000), Ok(Value::Int32(-8_388_608)));
    assert_eq!(bin("mediumint(9)", 0xff_ffff), Ok(Value::Int32(-1)));
    assert_eq!(bin("mediumint(9)", 8_388_607), Ok(Value::Int32(8_388_607)));
    assert_eq!(
        bin("int(11)", i64::from(i32::MIN)),
        Ok(Value::Int32(i32::MIN))
    );
    // With binlog_row_metadata=FULL mysql_common already reads them unsigned.
    let c = col("c", "int(10) unsigned", true, None);
    assert_eq!(
        from_binlog(&c, &BinlogValue::Value(My::UInt(4_294_967_295)), &modes),
        Ok(Value::Int64(4_294_967_295))
    );
    // The text protocol.
    assert_eq!(
        from_row(&c, &My::Bytes(b"4294967295".to_vec()), &modes),
        Ok(Value::Int64(4_294_967_295))
    );
}

#[test]
fn bits_are_little_endian_and_bit1_is_boolean() {
    let modes = TypeModes::default();
    let b12 = col("b", "bit(12)", true, None);
    // b'101010101010' = 0x0AAA, sent big-endian.
    let v = from_row(&b12, &My::Bytes(vec![0x0a, 0xaa]), &modes).expect("converts");
    assert_eq!(v, Value::Bytes(vec![0xaa, 0x0a]));
    let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [0xaa, 0x0a]);
    assert_eq!(b64, "qgo=");
    let b1 = col("b", "bit(1)", true, None);
    assert_eq!(
        from_row(&b1, &My::Bytes(vec![1]), &modes),
        Ok(Value::Boolean(true))
    );
    assert_eq!(
        from_row(&b1, &My::Bytes(vec![0]), &modes),
        Ok(Value::Boolean(false))
    );
    let schema = connect_schema(&b12, &modes);
    assert_eq!(
        (schema.name.as_deref(), schema.parameter("length")),
        (Some(logical::DBZ_BITS), Some("12"))
    );
    // A BIT(12) holding 0 still has two bytes.
    assert_eq!(
        from_row(&b12, &My::Bytes(vec![0, 0]), &modes),
        Ok(Value::Bytes(vec![0, 0]))
    );
}

#[test]
fn temporal_values_follow_debezium() {
    let modes = TypeModes::default();
    let conv = |column_type: &str, v: My| from_row(&col("t", column_type, true, None), &v, &modes);
    assert_eq!(
        conv("time", My::Time(true, 0, 12, 34, 56, 0)),
        Ok(Value::Int64(-45_296_000_000))
    );
    assert_eq!(
        conv("time(6)", My::Time(false, 34, 22, 59, 59, 999_999)),
        Ok(Value::Int64(3_020_399_999_999))
    );
    assert_eq!(
        conv("time(6)", My::Bytes(b"838:59:59.999999".to_vec())),
        Ok(Value::Int64(3_020_399_999_999))
    );
    assert_eq!(
        conv("time", My::Bytes(b"-12:34:56".to_vec())),
        Ok(Value::Int64(-45_296_000_000))
    );
    assert_eq!(
        conv("date", My::Date(2024, 2, 29, 0, 0, 0, 0)),
        Ok(Value::Int32(19782))
    );
    assert_eq!(
        conv("date", My::Date(1000, 1, 1, 0, 0, 0, 0)),
        Ok(Value::Int32(-354_285))
    );
    assert_eq!(
        conv("date", My::Bytes(b"1000-01-01".to_vec())),
        Ok(Value::Int32(-354_285))
    );
    assert_eq!(
        conv("datetime", My::Date(1970, 1, 1, 0, 0, 0, 0)),
        Ok(Value::Int64(0))
    );
    assert_eq!(
        conv("datetime(3)", My::Date(2024, 2, 29, 23, 59, 59, 999_000)),
        Ok(Value::Int64(1_709_251_199_999))
    );
    assert_eq!(
        conv("datetime(6)", My::Date(1999, 12, 31, 23, 59, 59, 123_456)),
        Ok(Value::Int64(946_684_799_123_456))
    );
    // Two-digit years move to 2000–2069 (enable.time.adjuster).
    assert_eq!(
        conv("datetime(6)", My::Date(1, 1, 1, 0, 0, 0, 1)),
        Ok(Value::Int64(978_307_200_000_001))
    );
    // Zero dates: null when nullable, the epoch otherwise.
    assert_eq!(conv("date", My::Date(0, 0, 0, 0, 0, 0, 0)), Ok(Value::Null));
    assert_eq!(
        conv("datetime", My::Bytes(b"0000-00-00 00:00:00".to_vec())),
        Ok(Value::Null)
    );
    let not_null = col("t", "date", false, None);
    assert_eq!(
        from_row(&not_null, &My::Date(0, 0, 0, 0, 0, 0, 0), &modes),
        Ok(Value::Int32(0))
    );
    assert_eq!(from_row(&not_null, &My::NULL, &modes), Ok(Value::Int32(0)));
    // YEAR: binlog text, binary protocol integer.
    let y = col("y", "year(4)", true, None);
    assert_eq!(
        from_binlog(&y, &BinlogValue::Value(My::Bytes(b"2155".to_vec())), &modes),
        Ok(Value::Int32(2155))
    );
    assert_eq!(from_row(&y, &My::Int(2155), &modes), Ok(Value::Int32(2155)));
}

#[test]
fn timestamps_are_utc_text_with_the_columns_precision() {
    let modes = TypeModes::default();
    let ts = col("t", "timestamp", true, None);
    let ts6 = col("t", "timestamp(6)", true, None);
    let ts3 = col("t", "timestamp(3)", true, None);
    let bin = |c: &Column, text: &str| {
        from_binlog(
            c,
            &BinlogValue::Value(My::Bytes(text.as_bytes().to_vec())),
            &modes,
        )
    };
    assert_eq!(
        bin(&ts, "1709208000"),
        Ok(Value::String("2024-02-29T12:00:00Z".into()))
    );
    assert_eq!(
        bin(&ts6, "2147483647.999999"),
        Ok(Value::String("2038-01-19T03:14:07.999999Z".into()))
    );
    assert_eq!(
        bin(&ts6, "2147483647"),
        Ok(Value::String("2038-01-19T03:14:07.000000Z".into()))
    );
    assert_eq!(
        bin(&ts3, "0.120000"),
        Ok(Value::String("1970-01-01T00:00:00.120Z".into()))
    );
    // MariaDB 11.5+ stores up to 2106; mysql_common reads the seconds as i32.
    assert_eq!(
        bin(&ts, "-1"),
        Ok(Value::String("2106-02-07T06:28:15Z".into()))
    );
    let row = |c: &Column, v: My| from_row(c, &v, &modes);
    assert_eq!(
        row(&ts, My::Date(2024, 2, 29, 12, 0, 0, 0)),
        Ok(Value::String("2024-02-29T12:00:00Z".into()))
    );
    assert_eq!(
        row(&ts6, My::Bytes(b"2038-01-19 03:14:07.999999".to_vec())),
        Ok(Value::String("2038-01-19T03:14:07.999999Z".into()))
    );
    assert_eq!(row(&ts, My::Date(0, 0, 0, 0, 0, 0, 0)), Ok(Value::Null));
    let not_null = col("t", "timestamp", false, None);
    assert_eq!(
        from_row(&not_null, &My::NULL, &modes),
        Ok(Value::String("1970-01-01T00:00:00Z".into()))
    );
}

#[test]
fn time_precision_modes_change_temporal_schemas() {
    let adaptive = TypeModes {
        time_precision: TimePrecisionMode::Adaptive,
        ..TypeModes::default()
    };
    let connect = TypeModes {
        time_precision: TimePrecisionMode::Connect,
        ..TypeModes::default()
    };
    let t0 = col("t", "time", true, None);
    let t6 = col("t", "time(6)", true, None);
    let d = col("d", "date", true, None);
    let dt6 = col("d", "datetime(6)", true, None);
    let name = |c: &Column, m: &TypeModes| {
        let s = connect_schema(c, m);
        (s.ty, s.name.clone().unwrap_or_default())
    };
    assert_eq!(
        name(&t0, &adaptive),
        (Type::Int32, logical::DBZ_TIME.into())
    );
    assert_eq!(
        name(&t6, &adaptive),
        (Type::Int64, logical::DBZ_MICRO_TIME.into())
    );
    assert_eq!(
        name(&t0, &connect),
        (Type::Int32, logical::CONNECT_TIME.into())
    );
    assert_eq!(
        name(&d, &connect),
        (Type::Int32, logical::CONNECT_DATE.into())
    );
    assert_eq!(
        name(&dt6, &connect),
        (Type::Int64, logical::CONNECT_TIMESTAMP.into())
    );
    assert_eq!(
        name(&dt6, &adaptive),
        (Type::Int64, logical::DBZ_MICRO_TIMESTAMP.into())
    );
    assert_eq!(connect_schema(&t0, &connect).version, Some(1));
    assert_eq!(
        from_row(&t0, &My::Time(false, 0, 1, 0, 0, 0), &adaptive),
        Ok(Value::Int32(3_600_000))
    );
    assert_eq!(
        from_row(&t0, &My::Time(false, 0, 1, 0, 0, 0), &connect),
        Ok(Value::Int32(3_600_000))
    );
    assert!(from_row(&t0, &My::Time(true, 0, 1, 0, 0, 0), &connect).is_err());
    assert_eq!(
        from_row(&dt6, &My::Date(1999, 12, 31, 23, 59, 59, 123_456), &connect),
        Ok(Value::Int64(946_684_799_123))
    );
}

#[test]
fn enum_and_set_from_binlog_indexes_and_from_rows_text() {
    let modes = TypeModes::default();
    let e = col("e", "enum('red','green','blue')", true, None);
    let s = col("s", "set('a','b','c')", true, None);
    let bin = |c: &Column, v: My| from_binlog(c, &BinlogValue::Value(v), &modes);
    assert_eq!(bin(&e, My::Int(2)), Ok(Value::String("green".into())));
    assert_eq!(bin(&e, My::Int(0)), Ok(Value::String(String::new())));
    assert!(matches!(
        bin(&e, My::Int(4)),
        Err(TypeError::InvalidValue { .. })
    ));
    assert_eq!(
        bin(&s, My::Bytes(vec![0b101])),
        Ok(Value::String("a,c".into()))
    );
    assert_eq!(
        bin(&s, My::Bytes(vec![0])),
        Ok(Value::String(String::new()))
    );
    assert_eq!(
        from_row(&s, &My::Bytes(b"a,c".to_vec()), &modes),
        Ok(Value::String("a,c".into()))
    );
    assert_eq!(
        from_row(&e, &My::Bytes(b"green".to_vec()), &modes),
        Ok(Value::String("green".into()))
    );
}

#[test]
fn a_value_given_up_converts_as_the_same_value_borrowed() {
    // The owned path reuses a UTF-8 string's buffer; every other value must come out as the
    // borrowed path makes it, errors included.
    let modes = TypeModes::default();
    let mut latin1 = col("l", "varchar(10)", true, None);
    latin1.charset = Some("latin1".into());
    let mut gbk = col("g", "varchar(10)", true, None);
    gbk.charset = Some("gbk".into());
    let mut ascii = col("a", "varchar(10)", true, None);
    ascii.charset = Some("ASCII".into());
    let cases: Vec<(Column, My)> = vec![
        (
            col("u", "varchar(10)", true, None),
            My::Bytes("héllo ✓".as_bytes().to_vec()),
        ),
        (
            col("u", "varchar(10)", true, None),
            My::Bytes(b"bad \xff utf-8".to_vec()),
        ),
        (col("u", "varchar(10)", false, Some("x")), My::NULL),
        (col("u", "text", true, None), My::Int(42)),
        (ascii, My::Bytes(b"plain".to_vec())),
        (latin1, My::Bytes(b"ch\xe4r \x80".to_vec())),
        (gbk, My::Bytes(b"x".to_vec())),
        (col("b", "binary(4)", true, None), My::Bytes(vec![1, 2])),
        (
            col("j", "json", true, None),
            My::Bytes(br#"{"a":1}"#.to_vec()),
        ),
        (
            col("d", "decimal(12,2)", true, None),
            My::Bytes(b"12.5".to_vec()),
        ),
        (col("i", "bigint", true, None), My::Int(-7)),
    ];
    for (column, value) in cases {
        let binlog = BinlogValue::Value(value.clone());
        assert_eq!(
            from_binlog_owned(&column, binlog.clone(), &modes),
            from_binlog(&column, &binlog, &modes),
            "{} {value:?} from the binlog",
            column.column_type
        );
        assert_eq!(
            from_row_owned(&column, value.clone(), &modes),
            from_row(&column, &value, &modes),
            "{} {value:?} from a result set",
            column.column_type
        );
    }
}

#[test]
fn strings_decode_in_the_columns_charset_and_binary_keeps_bytes() {
    let modes = TypeModes::default();
    let mut latin1 = col("l", "varchar(10)", true, None);
    latin1.charset = Some("latin1".into());
    let bin =
        |c: &Column, b: &[u8]| from_binlog(c, &BinlogValue::Value(My::Bytes(b.to_vec())), &modes);
    assert_eq!(
        bin(&latin1, b"ch\xe4r \x80"),
        Ok(Value::String("chär €".into()))
    );
    let utf8 = col("u", "varchar(10)", true, None);
    assert_eq!(
        bin(&utf8, "héllo ✓".as_bytes()),
        Ok(Value::String("héllo ✓".into()))
    );
    let mut odd = col("o", "varchar(10)", true, None);
    odd.charset = Some("gbk".into());
    assert!(matches!(
        bin(&odd, b"x"),
        Err(TypeError::UnsupportedCharset { .. })
    ));
    // The binlog drops trailing zero bytes of BINARY(n); they are padded back.
    let b4 = col("b", "binary(4)", true, None);
    assert_eq!(bin(&b4, &[1, 2]), Ok(Value::Bytes(vec![1, 2, 0, 0])));
    let hex = TypeModes {
        binary: BinaryHandlingMode::Hex,
        ..TypeModes::default()
    };
    let b64 = TypeModes {
        binary: BinaryHandlingMode::Base64,
        ..TypeModes::default()
    };
    let url = TypeModes {
        binary: BinaryHandlingMode::Base64UrlSafe,
        ..TypeModes::default()
    };
    let blob = col("b", "blob", true, None);
    let raw = My::Bytes(vec![0xde, 0xad, 0xbe, 0xef, 0xfb, 0xff]);
    assert_eq!(
        from_row(&blob, &raw, &hex),
        Ok(Value::String("deadbeeffbff".into()))
    );
    assert_eq!(
        from_row(&blob, &raw, &b64),
        Ok(Value::String("3q2+7/v/".into()))
    );
    assert_eq!(
        from_row(&blob, &raw, &url),
        Ok(Value::String("3q2-7_v_".into()))
    );
    assert_eq!(connect_schema(&blob, &hex).ty, Type::String);
}

#[test]
fn geometry_splits_srid_and_wkb() {
    let modes = TypeModes::default();
    let wkb: Vec<u8> = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        "AQEAAAAAAAAAAADwPwAAAAAAAABA",
    )
    .expect("base64");
    let mut stored = 4326i32.to_le_bytes().to_vec();
    stored.extend(&wkb);
    let g = col("g", "geometry", true, None);
    let v = from_row(&g, &My::Bytes(stored.clone()), &modes).expect("converts");
    let s = v.as_struct().expect("struct");
    assert_eq!(s.get("wkb"), Some(&Value::Bytes(wkb.clone())));
    assert_eq!(s.get("srid"), Some(&Value::Int32(4326)));
    assert!(std::sync::Arc::ptr_eq(
        &s.schema,
        &connect_schema(&g, &modes)
    ));
    // POINT gets its coordinates too.
    let p = col("p", "point", true, None);
    let v = from_binlog(&p, &BinlogValue::Value(My::Bytes(stored)), &modes).expect("converts");
    let s = v.as_struct().expect("struct");
    assert_eq!(
        (s.get("x"), s.get("y")),
        (Some(&Value::Float64(1.0)), Some(&Value::Float64(2.0)))
    );
    // SRID 0 is "unset".
    let mut unset = vec![0, 0, 0, 0];
    unset.extend(&wkb);
    let v = from_row(&g, &My::Bytes(unset), &modes).expect("converts");
    assert_eq!(
        v.as_struct().and_then(|s| s.get("srid")),
        Some(&Value::Null)
    );
}

#[test]
fn json_scalars_from_binary_json_follow_the_database_formatter() {
    use mysql_async::binlog::jsonb;
    let j = col("j", "json", true, None);
    let modes = TypeModes::default();
    let conv = |v: jsonb::Value<'static>| from_binlog(&j, &BinlogValue::Jsonb(v), &modes);
    assert_eq!(
        conv(jsonb::Value::String(jsonb::JsonbString::new(
            &b"a\"b\n"[..]
        ))),
        Ok(Value::String(r#""a\"b\n""#.into()))
    );
    assert_eq!(
        conv(jsonb::Value::F64(1e300)),
        Ok(Value::String("1.0E300".into()))
    );
    assert_eq!(
        conv(jsonb::Value::F64(3.0)),
        Ok(Value::String("3.0".into()))
    );
    assert_eq!(conv(jsonb::Value::I64(-5)), Ok(Value::String("-5".into())));
    assert_eq!(conv(jsonb::Value::Null), Ok(Value::String("null".into())));
    assert_eq!(
        connect_schema(&j, &modes).name.as_deref(),
        Some(logical::DBZ_JSON)
    );
    // Text (snapshot, MariaDB) passes through.
    assert_eq!(
        from_row(&j, &My::Bytes(br#"{"k": [1]}"#.to_vec()), &modes),
        Ok(Value::String(r#"{"k": [1]}"#.into()))
    );
}

#[test]
fn not_null_columns_without_a_value_get_their_default_or_zero() {
    let modes = TypeModes::default();
    let conv = |column_type: &str, default: Option<&str>| {
        from_row(&col("c", column_type, false, default), &My::NULL, &modes)
    };
    assert_eq!(
        conv("varchar(10)", Some("'x'")),
        Ok(Value::String("x".into()))
    );
    assert_eq!(conv("int(11)", None), Ok(Value::Int32(0)));
    assert_eq!(conv("json", None), Ok(Value::String("{}".into())));
    assert_eq!(conv("datetime(6)", None), Ok(Value::Int64(0)));
    assert_eq!(
        from_row(&col("c", "int(11)", true, None), &My::NULL, &modes),
        Ok(Value::Null)
    );
}

#[test]
fn unsupported_types_are_reported_or_fall_back_to_strings() {
    let modes = TypeModes::default();
    let c = col("ip", "inet6", true, None);
    assert!(matches!(
        try_connect_schema(&c, &modes),
        Err(TypeError::UnsupportedType { .. })
    ));
    let schema: SchemaRef = connect_schema(&c, &modes);
    assert_eq!((schema.ty, schema.optional), (Type::String, true));
    assert_eq!(
        from_row(&c, &My::Bytes(b"::1".to_vec()), &modes),
        Ok(Value::String("::1".into()))
    );
}

#[test]
fn errors_name_the_column() {
    let modes = TypeModes::default();
    let c = col("c_when", "date", true, None);
    let err = from_row(&c, &My::Double(1.0), &modes).expect_err("a double is no date");
    let text = err.to_string();
    assert!(text.contains("c_when") && text.contains("date"), "{text}");
}
