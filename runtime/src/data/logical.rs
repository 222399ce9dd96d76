//! Logical types: the schema names Kafka Connect and Debezium give to physical types, and the
//! conversions between their physical form and what a database or a person reads.
//!
//! Names are matched as strings by downstream readers (Flink, ClickHouse, the JDBC sinks), so
//! they are spelled here once and used everywhere.

use super::{SchemaBuilder, Value};

pub const DECIMAL: &str = "org.apache.kafka.connect.data.Decimal";
pub const CONNECT_DATE: &str = "org.apache.kafka.connect.data.Date";
pub const CONNECT_TIME: &str = "org.apache.kafka.connect.data.Time";
pub const CONNECT_TIMESTAMP: &str = "org.apache.kafka.connect.data.Timestamp";
/// Parameter holding a decimal's scale (Connect).
pub const DECIMAL_SCALE: &str = "scale";
/// Parameter holding a decimal's precision (Confluent's Avro converter and Debezium).
pub const DECIMAL_PRECISION: &str = "connect.decimal.precision";

pub const DBZ_DATE: &str = "io.debezium.time.Date";
pub const DBZ_TIME: &str = "io.debezium.time.Time";
pub const DBZ_MICRO_TIME: &str = "io.debezium.time.MicroTime";
pub const DBZ_NANO_TIME: &str = "io.debezium.time.NanoTime";
pub const DBZ_TIMESTAMP: &str = "io.debezium.time.Timestamp";
pub const DBZ_MICRO_TIMESTAMP: &str = "io.debezium.time.MicroTimestamp";
pub const DBZ_NANO_TIMESTAMP: &str = "io.debezium.time.NanoTimestamp";
pub const DBZ_ZONED_TIMESTAMP: &str = "io.debezium.time.ZonedTimestamp";
pub const DBZ_ZONED_TIME: &str = "io.debezium.time.ZonedTime";
pub const DBZ_YEAR: &str = "io.debezium.time.Year";
pub const DBZ_ENUM: &str = "io.debezium.data.Enum";
pub const DBZ_ENUM_SET: &str = "io.debezium.data.EnumSet";
pub const DBZ_BITS: &str = "io.debezium.data.Bits";
pub const DBZ_JSON: &str = "io.debezium.data.Json";
pub const DBZ_UUID: &str = "io.debezium.data.Uuid";
pub const DBZ_GEOMETRY: &str = "io.debezium.data.geometry.Geometry";

/// `bytes` holding an exact decimal, as Connect's `Decimal.builder(scale)` plus the precision
/// parameter Debezium adds.
pub fn decimal(precision: Option<u32>, scale: u32) -> SchemaBuilder {
    let b = SchemaBuilder::bytes()
        .name(DECIMAL)
        .version(1)
        .parameter(DECIMAL_SCALE, scale.to_string());
    match precision {
        Some(p) => b.parameter(DECIMAL_PRECISION, p.to_string()),
        None => b,
    }
}

/// A Debezium logical type: the given physical type named `name`, version 1.
pub fn debezium(base: SchemaBuilder, name: &str) -> SchemaBuilder {
    base.name(name).version(1)
}

/// The unscaled value of a decimal string (`-123.4500` with scale 4 → −1234500) as Connect's
/// big-endian two's-complement bytes, for decimals wider than any machine integer (a database
/// column may have 65 digits). Returns `None` for text that is not a plain decimal number.
pub fn decimal_to_bytes(text: &str, scale: u32) -> Option<Vec<u8>> {
    let text = text.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (int_part, frac_part) = digits.split_once('.').unwrap_or((digits, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let scale = scale as usize;
    let mut decimal_digits: Vec<u8> = Vec::with_capacity(int_part.len() + scale);
    for c in int_part.bytes() {
        decimal_digits.push(digit(c)?);
    }
    for (i, c) in frac_part.bytes().enumerate() {
        let d = digit(c)?;
        if i < scale {
            decimal_digits.push(d);
        } else if d != 0 {
            // More fractional digits than the scale allows: refuse rather than round silently.
            return None;
        }
    }
    decimal_digits.extend(std::iter::repeat_n(
        0,
        scale.saturating_sub(frac_part.len()),
    ));
    let magnitude = decimal_digits_to_base256(&decimal_digits);
    Some(twos_complement(magnitude, negative))
}

/// The decimal text of Connect's unscaled two's-complement bytes at `scale`.
pub fn decimal_from_bytes(bytes: &[u8], scale: u32) -> String {
    let negative = bytes.first().is_some_and(|b| b & 0x80 != 0);
    let magnitude: Vec<u8> = if negative {
        negate(bytes)
    } else {
        bytes.to_vec()
    };
    let mut digits = base256_to_decimal_digits(&magnitude);
    let scale = scale as usize;
    while digits.len() <= scale {
        digits.insert(0, 0);
    }
    let split = digits.len() - scale;
    let mut out = String::with_capacity(digits.len() + 2);
    if negative && digits.iter().any(|&d| d != 0) {
        out.push('-');
    }
    out.extend(digits[..split].iter().map(|d| char::from(b'0' + d)));
    if scale > 0 {
        out.push('.');
        out.extend(digits[split..].iter().map(|d| char::from(b'0' + d)));
    }
    out
}

/// An `i128` unscaled value as Connect decimal bytes (minimal length, as Java's
/// `BigInteger.toByteArray`).
pub fn decimal_i128_to_bytes(unscaled: i128) -> Vec<u8> {
    let full = unscaled.to_be_bytes();
    let mut start = 0;
    while start < full.len() - 1 {
        let (b, next) = (full[start], full[start + 1]);
        if (b == 0 && next & 0x80 == 0) || (b == 0xff && next & 0x80 != 0) {
            start += 1;
        } else {
            break;
        }
    }
    full[start..].to_vec()
}

/// The value of a `Decimal` field as text, given its schema's scale parameter.
pub fn decimal_value_to_string(value: &Value, scale: u32) -> Option<String> {
    match value {
        Value::Bytes(b) => Some(decimal_from_bytes(b, scale)),
        _ => None,
    }
}

fn digit(c: u8) -> Option<u8> {
    c.is_ascii_digit().then(|| c - b'0')
}

fn decimal_digits_to_base256(digits: &[u8]) -> Vec<u8> {
    // Little-endian base-256 accumulator: acc = acc * 10 + d.
    let mut acc: Vec<u8> = vec![0];
    for &d in digits {
        let mut carry = u32::from(d);
        for byte in acc.iter_mut() {
            let v = u32::from(*byte) * 10 + carry;
            *byte = (v & 0xff) as u8;
            carry = v >> 8;
        }
        while carry > 0 {
            acc.push((carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    acc.reverse();
    acc
}

fn base256_to_decimal_digits(bytes: &[u8]) -> Vec<u8> {
    // Little-endian base-10 accumulator: acc = acc * 256 + b.
    let mut acc: Vec<u8> = vec![0];
    for &b in bytes {
        let mut carry = u32::from(b);
        for d in acc.iter_mut() {
            let v = u32::from(*d) * 256 + carry;
            *d = (v % 10) as u8;
            carry = v / 10;
        }
        while carry > 0 {
            acc.push((carry % 10) as u8);
            carry /= 10;
        }
    }
    while acc.len() > 1 && acc.last() == Some(&0) {
        acc.pop();
    }
    acc.reverse();
    acc
}

/// Minimal two's-complement encoding of a magnitude with a sign.
fn twos_complement(mut magnitude: Vec<u8>, negative: bool) -> Vec<u8> {
    while magnitude.len() > 1 && magnitude[0] == 0 {
        magnitude.remove(0);
    }
    if magnitude.iter().all(|&b| b == 0) {
        return vec![0];
    }
    if magnitude[0] & 0x80 != 0 {
        magnitude.insert(0, 0);
    }
    if !negative {
        return magnitude;
    }
    let mut out = negate(&magnitude);
    // Drop redundant leading 0xff bytes (keep the sign bit).
    while out.len() > 1 && out[0] == 0xff && out[1] & 0x80 != 0 {
        out.remove(0);
    }
    out
}

/// Two's-complement negation of a big-endian number.
fn negate(bytes: &[u8]) -> Vec<u8> {
    let mut out: Vec<u8> = bytes.iter().map(|b| !b).collect();
    for byte in out.iter_mut().rev() {
        let (v, overflow) = byte.overflowing_add(1);
        *byte = v;
        if !overflow {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str, scale: u32) -> String {
        let bytes = decimal_to_bytes(text, scale).expect("valid decimal");
        decimal_from_bytes(&bytes, scale)
    }

    #[test]
    fn decimal_bytes_match_java_big_integer_encoding() {
        // BigInteger.valueOf(x).toByteArray() for these values.
        assert_eq!(decimal_to_bytes("0", 0), Some(vec![0]));
        assert_eq!(decimal_to_bytes("127", 0), Some(vec![0x7f]));
        assert_eq!(decimal_to_bytes("128", 0), Some(vec![0x00, 0x80]));
        assert_eq!(decimal_to_bytes("-1", 0), Some(vec![0xff]));
        assert_eq!(decimal_to_bytes("-128", 0), Some(vec![0x80]));
        assert_eq!(decimal_to_bytes("-129", 0), Some(vec![0xff, 0x7f]));
        assert_eq!(decimal_to_bytes("1.5", 2), Some(vec![0x00, 0x96]));
    }

    #[test]
    fn decimal_text_survives_the_round_trip_at_any_width() {
        assert_eq!(
            round_trip("-1234567890123456.7890", 4),
            "-1234567890123456.7890"
        );
        assert_eq!(round_trip("0.0001", 4), "0.0001");
        assert_eq!(round_trip("9999999999", 0), "9999999999");
        assert_eq!(round_trip("12.5", 3), "12.500");
        let wide = "-12345678901234567890123456789012345678901234567890123456789.012345";
        assert_eq!(round_trip(wide, 6), wide);
    }

    #[test]
    fn i128_encoding_agrees_with_text_encoding() {
        for v in [
            0i128,
            1,
            -1,
            127,
            128,
            -128,
            -129,
            255,
            256,
            i64::MAX as i128,
            -(1i128 << 100),
        ] {
            assert_eq!(
                Some(decimal_i128_to_bytes(v)),
                decimal_to_bytes(&v.to_string(), 0),
                "{v}"
            );
        }
    }

    #[test]
    fn decimal_refuses_text_it_would_have_to_round() {
        assert_eq!(decimal_to_bytes("1.234", 2), None);
        assert_eq!(decimal_to_bytes("abc", 2), None);
        assert_eq!(decimal_to_bytes("1.230", 2), decimal_to_bytes("1.23", 2));
    }
}
