//! Numbers as Java prints them (`Double.toString`, `Float.toString`, `BigDecimal.toString`).
//!
//! Kafka Connect's JSON and header converters and Debezium write numbers as text this way;
//! output that readers compare byte for byte, or parse back with Java, needs the same text.

use std::fmt;

use super::logical::decimal_from_bytes;

/// Java's `Double.toString`: the shortest digits that read back the same, laid out plain with
/// at least one fraction digit for 10⁻³ ≤ |x| < 10⁷, else as `d.dddEn`.
pub fn double(x: f64) -> String {
    layout(x, &x)
}

/// Java's `Float.toString`: as [`double`], with the float's own shortest digits.
pub fn float(x: f32) -> String {
    layout(f64::from(x), &x)
}

/// `shortest` is `x` in its own type, whose `{}` and `{:e}` give the shortest digits; only the
/// rendering the layout needs is made.
fn layout(x: f64, shortest: &(impl fmt::Display + fmt::LowerExp)) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if x == 0.0 || (1e-3..1e7).contains(&x.abs()) {
        let mut plain = shortest.to_string();
        if !plain.contains('.') {
            plain.push_str(".0");
        }
        return plain;
    }
    let scientific = format!("{shortest:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let mut out = String::with_capacity(scientific.len() + 3);
    out.push_str(mantissa);
    if !mantissa.contains('.') {
        out.push_str(".0");
    }
    out.push('E');
    out.push_str(exponent);
    out
}

/// Java's `BigDecimal.toString()` of Connect's unscaled two's-complement bytes and a scale:
/// plain, unless the scale is negative or the adjusted exponent below -6, then scientific.
pub fn big_decimal(unscaled: &[u8], scale: i32) -> String {
    let integer = decimal_from_bytes(unscaled, 0);
    let (negative, digits) = match integer.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, integer.as_str()),
    };
    let adjusted = digits.len() as i64 - 1 - i64::from(scale);
    if scale >= 0 && adjusted >= -6 {
        return decimal_from_bytes(unscaled, scale.unsigned_abs());
    }
    let mut out = String::with_capacity(digits.len() + 8);
    if negative {
        out.push('-');
    }
    out.push_str(&digits[..1]);
    if digits.len() > 1 {
        out.push('.');
        out.push_str(&digits[1..]);
    }
    out.push('E');
    if adjusted >= 0 {
        out.push('+');
    }
    out.push_str(&adjusted.to_string());
    out
}

#[cfg(test)]
mod tests {
    use super::super::logical::decimal_to_bytes;
    use super::*;

    #[test]
    fn doubles_and_floats_read_as_javas_to_string() {
        assert_eq!(double(1.0), "1.0");
        assert_eq!(double(0.001), "0.001");
        assert_eq!(double(1234567.5), "1234567.5");
        assert_eq!(double(1e7), "1.0E7");
        assert_eq!(double(-2.5e-5), "-2.5E-5");
        assert_eq!(double(0.0), "0.0");
        assert_eq!(double(-0.0), "-0.0");
        assert_eq!(double(f64::NAN), "NaN");
        assert_eq!(double(f64::NEG_INFINITY), "-Infinity");
        // The float's own shortest digits, not those of its widening to double.
        assert_eq!(float(0.1), "0.1");
        assert_eq!(float(3.0e10), "3.0E10");
    }

    #[test]
    fn decimals_read_as_java_big_decimal_to_string() {
        let d = |text: &str, scale: i32| {
            big_decimal(&decimal_to_bytes(text, 0).unwrap_or_default(), scale)
        };
        assert_eq!(d("150", 2), "1.50");
        assert_eq!(d("1", 6), "0.000001");
        assert_eq!(d("1", 7), "1E-7");
        assert_eq!(d("-123", 10), "-1.23E-8");
        assert_eq!(d("-123", 0), "-123");
        assert_eq!(d("1", -3), "1E+3");
    }
}
