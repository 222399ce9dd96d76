//! MySQL binary JSON (as the binlog carries `JSON` columns) back to JSON text.
//!
//! A snapshot reads JSON as the server prints it (`{"k": [1, 2, {"x": null}]}`: a space after
//! every `:` and `,`, object keys in the server's storage order), so streaming writes the
//! same text: the two phases of one table then agree byte for byte. This is what Debezium's
//! `DatabaseJsonStringFormatter` does (its legacy formatter writes no spaces). Scalars follow
//! that formatter too: doubles as Java prints them, temporal scalars with six fractional
//! digits, other opaque values as `base64:type<N>:<data>`.

use std::fmt::Write as _;
use std::io;

use base64::Engine as _;
use mysql_async::binlog::jsonb::{
    self, Array, ComplexValue, JsonDom, JsonNumber, JsonScalar, Object, OpaqueValue, StorageFormat,
};
use mysql_async::consts::ColumnType;
use tributary_runtime::data::java_text;

use super::numeric::DecimalText;

/// The JSON text of a binary JSON value.
pub(crate) fn jsonb_to_text(value: &jsonb::Value<'_>) -> io::Result<String> {
    let mut out = String::new();
    write_value(value, &mut out)?;
    Ok(out)
}

fn write_value(value: &jsonb::Value<'_>, out: &mut String) -> io::Result<()> {
    use jsonb::Value as J;
    match value {
        J::Null => out.push_str("null"),
        J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        J::I16(x) => push_display(out, x),
        J::U16(x) => push_display(out, x),
        J::I32(x) => push_display(out, x),
        J::U32(x) => push_display(out, x),
        J::I64(x) => push_display(out, x),
        J::U64(x) => push_display(out, x),
        J::F64(x) => out.push_str(&java_text::double(*x)),
        J::String(s) => push_string(out, &String::from_utf8_lossy(s.str_raw())),
        J::SmallArray(a) => write_array(a, out)?,
        J::LargeArray(a) => write_array(a, out)?,
        J::SmallObject(o) => write_object(o, out)?,
        J::LargeObject(o) => write_object(o, out)?,
        J::Opaque(o) => write_opaque(value, o, out)?,
    }
    Ok(())
}

fn write_array<'a, T: StorageFormat>(
    array: &'a ComplexValue<'a, T, Array>,
    out: &mut String,
) -> io::Result<()> {
    out.push('[');
    for (i, element) in array.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_value(&element?, out)?;
    }
    out.push(']');
    Ok(())
}

fn write_object<'a, T: StorageFormat>(
    object: &'a ComplexValue<'a, T, Object>,
    out: &mut String,
) -> io::Result<()> {
    out.push('{');
    for (i, entry) in object.iter().enumerate() {
        let (key, value) = entry?;
        if i > 0 {
            out.push_str(", ");
        }
        push_string(out, &String::from_utf8_lossy(key.value_raw()));
        out.push_str(": ");
        write_value(&value, out)?;
    }
    out.push('}');
    Ok(())
}

fn write_opaque(
    value: &jsonb::Value<'_>,
    opaque: &OpaqueValue<'_>,
    out: &mut String,
) -> io::Result<()> {
    let value_type = opaque.value_type();
    match value_type {
        ColumnType::MYSQL_TYPE_NEWDECIMAL
        | ColumnType::MYSQL_TYPE_DATE
        | ColumnType::MYSQL_TYPE_TIME
        | ColumnType::MYSQL_TYPE_DATETIME
        | ColumnType::MYSQL_TYPE_TIMESTAMP => match value.clone().parse()? {
            JsonDom::Scalar(JsonScalar::Number(JsonNumber::Decimal(d))) => {
                let text = d.to_string();
                match DecimalText::parse(&text) {
                    Some(dec) => out.push_str(&dec.to_plain_string()),
                    None => out.push_str(&text),
                }
            }
            JsonDom::Scalar(JsonScalar::DateTime(t)) => {
                let text = match value_type {
                    ColumnType::MYSQL_TYPE_DATE => {
                        format!("{:04}-{:02}-{:02}", t.year, t.month, t.day)
                    }
                    ColumnType::MYSQL_TYPE_TIME => format!(
                        "{}{:02}:{:02}:{:02}.{:06}",
                        if t.neg { "-" } else { "" },
                        t.hour,
                        t.minute,
                        t.second,
                        t.second_part
                    ),
                    _ => format!(
                        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}",
                        t.year, t.month, t.day, t.hour, t.minute, t.second, t.second_part
                    ),
                };
                push_string(out, &text);
            }
            _ => push_opaque_base64(out, value_type, opaque.data_raw()),
        },
        _ => push_opaque_base64(out, value_type, opaque.data_raw()),
    }
    Ok(())
}

fn push_opaque_base64(out: &mut String, value_type: ColumnType, data: &[u8]) {
    let text = format!(
        "base64:type{}:{}",
        value_type as u8,
        base64::engine::general_purpose::STANDARD.encode(data)
    );
    push_string(out, &text);
}

fn push_display(out: &mut String, x: impl std::fmt::Display) {
    let _ = write!(out, "{x}");
}

/// A JSON string literal: quotes, backslashes and control characters escaped.
fn push_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}
