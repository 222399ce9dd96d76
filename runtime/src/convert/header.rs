//! Kafka Connect's default header converter, `SimpleHeaderConverter`: a header's bytes are the
//! UTF-8 text `Values.convertToString` makes of its Connect value.
//!
//! Debezium's headers (the new key on the delete of a primary-key change, the old key on its
//! create) reach Kafka through it, so their readers expect exactly this text: a struct as
//! `{"id":20,"name":"a \"b\""}`, bytes in base64, a decimal as `BigDecimal.toString`, Connect's
//! dates and times as `java.util.Date` formatted by `Values.dateFormatFor` (in UTC, the zone
//! Kafka Connect's images run in).

use std::fmt::Write as _;

use base64::Engine as _;

use crate::data::logical::{CONNECT_DATE, CONNECT_TIME, CONNECT_TIMESTAMP, DECIMAL, DECIMAL_SCALE};
use crate::data::{calendar, java_text, Schema, Value};

const MILLIS_PER_DAY: i64 = 86_400_000;

/// The header bytes Kafka Connect writes for `value` of `schema`; `None` for a null value
/// (a header without a value).
pub fn simple_header_value(schema: &Schema, value: &Value) -> Option<Vec<u8>> {
    if value.is_null() {
        return None;
    }
    let mut out = String::new();
    append(&mut out, Some(schema), value, false);
    Some(out.into_bytes())
}

/// `Values.append`: `embedded` values (inside a struct, array or map) quote their strings.
fn append(out: &mut String, schema: Option<&Schema>, value: &Value, embedded: bool) {
    match (schema.and_then(|s| s.name.as_deref()), value) {
        (Some(DECIMAL), Value::Bytes(unscaled)) => {
            let scale = schema
                .and_then(|s| s.parameter(DECIMAL_SCALE))
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            out.push_str(&java_text::big_decimal(unscaled, scale));
            return;
        }
        (Some(CONNECT_DATE), Value::Int32(days)) => {
            return append_date(out, i64::from(*days) * MILLIS_PER_DAY);
        }
        (Some(CONNECT_TIME), Value::Int32(millis)) => {
            return append_date(out, i64::from(*millis));
        }
        (Some(CONNECT_TIMESTAMP), Value::Int64(millis)) => return append_date(out, *millis),
        _ => {}
    }
    let quoted = |out: &mut String, text: &str| {
        if embedded {
            out.push('"');
            out.push_str(text);
            out.push('"');
        } else {
            out.push_str(text);
        }
    };
    match value {
        Value::Null => out.push_str("null"),
        Value::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int8(_) | Value::Int16(_) | Value::Int32(_) | Value::Int64(_) => {
            let _ = write!(out, "{}", value.as_i64().unwrap_or_default());
        }
        Value::Float32(f) => out.push_str(&java_text::float(*f)),
        Value::Float64(f) => out.push_str(&java_text::double(*f)),
        Value::String(s) if embedded => quoted(out, &escape(s)),
        Value::String(s) => out.push_str(s),
        Value::Bytes(b) => quoted(out, &base64::engine::general_purpose::STANDARD.encode(b)),
        Value::Array(items) => {
            let item_schema = schema.and_then(|s| s.value_schema.as_deref());
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                append(out, item_schema, item, true);
            }
            out.push(']');
        }
        Value::Map(entries) => {
            let key_schema = schema.and_then(|s| s.key_schema.as_deref());
            let value_schema = schema.and_then(|s| s.value_schema.as_deref());
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                append(out, key_schema, k, true);
                out.push(':');
                append(out, value_schema, v, true);
            }
            out.push('}');
        }
        Value::Struct(st) => {
            out.push('{');
            for (i, (field, v)) in st.schema.fields.iter().zip(&st.values).enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push('"');
                out.push_str(&escape(&field.name));
                out.push_str("\":");
                append(out, Some(&field.schema), v, true);
            }
            out.push('}');
        }
    }
}

/// `Values.escape`: backslashes doubled, then double quotes preceded by a backslash.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// `Values.dateFormatFor` applied to a `java.util.Date` of `millis` since the epoch: a time of
/// day below one day, a date on a whole day, else a timestamp; never quoted.
fn append_date(out: &mut String, millis: i64) {
    let days = millis.div_euclid(MILLIS_PER_DAY);
    let in_day = millis.rem_euclid(MILLIS_PER_DAY);
    let (h, m, s, ms) = (
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000,
    );
    let (year, month, day) = calendar::civil_from_days(days);
    let _ = if millis < MILLIS_PER_DAY {
        write!(out, "{h:02}:{m:02}:{s:02}.{ms:03}Z")
    } else if millis % MILLIS_PER_DAY == 0 {
        write!(out, "{year:04}-{month:02}-{day:02}")
    } else {
        write!(
            out,
            "{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{ms:03}Z"
        )
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::logical::{self, decimal_to_bytes};
    use crate::data::{SchemaBuilder, Struct};

    fn text(schema: &Schema, value: &Value) -> String {
        String::from_utf8(simple_header_value(schema, value).expect("a value")).expect("UTF-8")
    }

    #[test]
    fn a_key_struct_reads_as_connects_values_to_string() {
        let schema = SchemaBuilder::structure()
            .name("shop.inventory.customers.Key")
            .field("id", SchemaBuilder::int64().build_ref())
            .field("code", SchemaBuilder::string().build_ref())
            .field("amount", logical::decimal(Some(12), 2).build_ref())
            .field("raw", SchemaBuilder::bytes().optional().build_ref())
            .field("note", SchemaBuilder::string().optional().build_ref())
            .field("ratio", SchemaBuilder::float64().build_ref())
            .build_ref();
        let key = Struct::new(schema.clone())
            .with("id", 20i64)
            .with("code", r#"a "quoted" \ path"#)
            .with(
                "amount",
                Value::Bytes(decimal_to_bytes("-12.50", 2).expect("decimal")),
            )
            .with("raw", Value::Bytes(vec![0, 1, 2, 250]))
            .with("ratio", Value::Float64(1e7));
        assert_eq!(
            text(&schema, &Value::Struct(key)),
            r#"{"id":20,"code":"a \"quoted\" \\ path","amount":-12.50,"raw":"AAEC+g==","note":null,"ratio":1.0E7}"#
        );
    }

    #[test]
    fn top_level_strings_and_bytes_are_not_quoted_and_null_is_no_value() {
        let string = SchemaBuilder::string().optional().build();
        assert_eq!(text(&string, &Value::String("a \"b\"".into())), "a \"b\"");
        assert_eq!(simple_header_value(&string, &Value::Null), None);
        let bytes = SchemaBuilder::bytes().build();
        assert_eq!(text(&bytes, &Value::Bytes(vec![255])), "/w==");
    }

    #[test]
    fn connect_dates_and_times_read_as_java_util_date_formats() {
        let date = SchemaBuilder::int32().name(logical::CONNECT_DATE).build();
        let time = SchemaBuilder::int32().name(logical::CONNECT_TIME).build();
        let timestamp = SchemaBuilder::int64()
            .name(logical::CONNECT_TIMESTAMP)
            .build();
        assert_eq!(text(&date, &Value::Int32(19_782)), "2024-02-29");
        assert_eq!(text(&time, &Value::Int32(45_296_789)), "12:34:56.789Z");
        assert_eq!(
            text(&timestamp, &Value::Int64(1_709_210_096_789)),
            "2024-02-29T12:34:56.789Z"
        );
        // Below one day after the epoch Java picks the time format, dates before it included.
        assert_eq!(text(&date, &Value::Int32(-1)), "00:00:00.000Z");
    }
}
