//! Decimal text and number formatting with Java's semantics, since Debezium's output is
//! whatever `BigDecimal` and `Double.toString` produce.

/// A decimal number as sign and digit strings (no leading/trailing zero normalization).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DecimalText {
    pub negative: bool,
    pub int_digits: String,
    pub frac_digits: String,
}

impl DecimalText {
    /// Parses `[-+]digits[.digits][e[-+]digits]` (MySQL decimal text, `BigDecimal` input).
    pub fn parse(text: &str) -> Option<DecimalText> {
        let t = text.trim();
        let (negative, t) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t.strip_prefix('+').unwrap_or(t)),
        };
        let (mantissa, exponent) = match t.find(['e', 'E']) {
            Some(i) => (&t[..i], t[i + 1..].parse::<i32>().ok()?),
            None => (t, 0),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) {
            return None;
        }
        // Shift the point by the exponent.
        let mut all: String = format!("{int}{frac}");
        let mut point = int.len() as i64 + i64::from(exponent);
        if point < 0 {
            all.insert_str(0, &"0".repeat(point.unsigned_abs() as usize));
            point = 0;
        }
        let point = point as usize;
        if point > all.len() {
            all.push_str(&"0".repeat(point - all.len()));
        }
        Some(DecimalText {
            negative,
            int_digits: all[..point].to_owned(),
            frac_digits: all[point..].to_owned(),
        })
    }

    fn is_zero(&self) -> bool {
        self.int_digits
            .bytes()
            .chain(self.frac_digits.bytes())
            .all(|b| b == b'0')
    }

    /// `BigDecimal.setScale(scale, RoundingMode.HALF_UP)`: exactly `scale` fraction digits,
    /// a dropped part of one half or more rounding away from zero.
    pub fn with_scale_half_up(&self, scale: u32) -> DecimalText {
        let scale = scale as usize;
        if self.frac_digits.len() <= scale {
            let mut out = self.clone();
            out.frac_digits
                .push_str(&"0".repeat(scale - self.frac_digits.len()));
            return out;
        }
        let round_up = self.frac_digits.as_bytes()[scale] >= b'5';
        let mut digits: Vec<u8> =
            format!("{}{}", self.int_digits, &self.frac_digits[..scale]).into_bytes();
        if round_up {
            let mut i = digits.len();
            loop {
                if i == 0 {
                    digits.insert(0, b'1');
                    break;
                }
                i -= 1;
                if digits[i] == b'9' {
                    digits[i] = b'0';
                } else {
                    digits[i] += 1;
                    break;
                }
            }
        }
        let split = digits.len() - scale;
        // Digits are ASCII throughout.
        let text = String::from_utf8_lossy(&digits).into_owned();
        DecimalText {
            negative: self.negative,
            int_digits: text[..split].to_owned(),
            frac_digits: text[split..].to_owned(),
        }
    }

    /// `BigDecimal.toPlainString()`: no leading zeros, `0` before the point when needed,
    /// no sign on zero.
    pub fn to_plain_string(&self) -> String {
        let int = self.int_digits.trim_start_matches('0');
        let mut out = String::with_capacity(int.len() + self.frac_digits.len() + 3);
        if self.negative && !self.is_zero() {
            out.push('-');
        }
        out.push_str(if int.is_empty() { "0" } else { int });
        if !self.frac_digits.is_empty() {
            out.push('.');
            out.push_str(&self.frac_digits);
        }
        out
    }
}

/// `Math.round(Double.parseDouble(text))` with Java's saturation: how Debezium reads an
/// integer column's default.
pub(crate) fn java_round(text: &str) -> Option<i64> {
    let t = text.trim();
    if let Ok(i) = t.parse::<i64>() {
        // Exact for integers that a double represents exactly; Java would lose precision
        // past 2⁵³, which no sane default reaches.
        return Some(i);
    }
    let x: f64 = t.parse().ok()?;
    if x.is_nan() {
        return Some(0);
    }
    let r = (x + 0.5).floor();
    Some(if r >= i64::MAX as f64 {
        i64::MAX
    } else if r <= i64::MIN as f64 {
        i64::MIN
    } else {
        r as i64
    })
}
