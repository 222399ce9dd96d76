//! Calendar arithmetic and the text forms of MySQL temporal values.
//!
//! MySQL hands temporal values over as broken-down fields (binlog and binary protocol) or as
//! text (text protocol, column defaults); Debezium emits them as epoch counts or ISO-8601
//! strings. Everything here is proleptic Gregorian and zone-free, as `java.time` is, so the
//! counts agree with Debezium's for every year MySQL accepts (0001–9999).

pub(crate) use tributary_runtime::data::calendar::{civil_from_days, days_from_civil};

/// A date and time of day as MySQL stores it (no zone), microsecond precision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DateTimeParts {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub micros: u32,
}

impl DateTimeParts {
    pub fn date(year: i64, month: u32, day: u32) -> Self {
        DateTimeParts {
            year,
            month,
            day,
            hour: 0,
            minute: 0,
            second: 0,
            micros: 0,
        }
    }

    /// MySQL's "zero" dates (`0000-00-00`, `2024-00-10` …) have no calendar meaning; Debezium's
    /// binlog reader turns any date with a zero year, month or day into NULL.
    pub fn is_zero_date(&self) -> bool {
        self.year == 0 || self.month == 0 || self.day == 0
    }

    /// Debezium's `enable.time.adjuster` (on by default): MySQL reads two-digit years as
    /// 1970–2069, so years 0–69 move to 2000–2069 and 70–99 to 1970–1999.
    pub fn adjusted(mut self) -> Self {
        self.year = adjust_year(self.year);
        self
    }

    pub fn epoch_days(&self) -> i64 {
        days_from_civil(self.year, self.month, self.day)
    }

    /// Microseconds since 1970-01-01T00:00:00 reading the fields as UTC.
    pub fn epoch_micros(&self) -> i64 {
        let seconds = self.epoch_days() * 86_400
            + i64::from(self.hour) * 3_600
            + i64::from(self.minute) * 60
            + i64::from(self.second);
        seconds * 1_000_000 + i64::from(self.micros)
    }

    pub fn from_epoch_micros(micros: i64) -> Self {
        let days = micros.div_euclid(86_400_000_000);
        let rest = micros.rem_euclid(86_400_000_000);
        let (year, month, day) = civil_from_days(days);
        let secs = rest / 1_000_000;
        DateTimeParts {
            year,
            month,
            day,
            hour: (secs / 3_600) as u32,
            minute: (secs % 3_600 / 60) as u32,
            second: (secs % 60) as u32,
            micros: (rest % 1_000_000) as u32,
        }
    }
}

/// The two-digit-year rule of [`DateTimeParts::adjusted`] on a bare year.
pub(crate) fn adjust_year(year: i64) -> i64 {
    match year {
        0..=69 => year + 2000,
        70..=99 => year + 1900,
        _ => year,
    }
}

/// `io.debezium.time.ZonedTimestamp` text of a UTC instant, as `ZonedTimestamp.toIsoString`
/// writes it: with `fraction_width` 1–9 exactly that many fractional digits (Debezium passes
/// the column's precision); otherwise `ISO_OFFSET_DATE_TIME`, whose fraction has as many
/// digits as needed (none for whole seconds). UTC is written `Z`.
pub(crate) fn zoned_timestamp(epoch_micros: i64, fraction_width: u32) -> String {
    let t = DateTimeParts::from_epoch_micros(epoch_micros);
    let mut out = format!(
        "{}-{:02}-{:02}T{:02}:{:02}:{:02}",
        iso_year(t.year),
        t.month,
        t.day,
        t.hour,
        t.minute,
        t.second
    );
    let digits = format!("{:06}", t.micros);
    if (1..=9).contains(&fraction_width) {
        out.push('.');
        let width = fraction_width as usize;
        if width <= 6 {
            out.push_str(&digits[..width]);
        } else {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', width - 6));
        }
    } else if t.micros != 0 {
        // `appendFraction(NANO_OF_SECOND, 0, 9, true)`: the digits needed, trailing zeros cut.
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

/// `java.time` writes years beyond four digits with a sign; MySQL never has any, but a
/// corrupt value must still give text rather than a panic.
fn iso_year(year: i64) -> String {
    if (0..=9999).contains(&year) {
        format!("{year:04}")
    } else if year > 9999 {
        format!("+{year}")
    } else {
        format!("-{:04}", year.unsigned_abs())
    }
}

/// Parses `YYYY-MM-DD[( |T)HH:MM:SS[.ffffff]]` (text protocol, column defaults). Zero dates
/// parse (their fields are zero); only the shape is checked here.
pub(crate) fn parse_datetime(text: &str) -> Option<DateTimeParts> {
    let text = text.trim();
    let (date, time) = match text.find([' ', 'T']) {
        Some(i) => (&text[..i], Some(text[i + 1..].trim())),
        None => (text, None),
    };
    let mut parts = date.split('-');
    let year: i64 = parse_digits(parts.next()?)?;
    let month: u32 = parse_digits(parts.next()?)?;
    let day: u32 = parse_digits(parts.next()?)?;
    if parts.next().is_some() || month > 12 || day > 31 {
        return None;
    }
    let mut out = DateTimeParts::date(year, month, day);
    if let Some(time) = time.filter(|t| !t.is_empty()) {
        let d = parse_duration_micros(time)?;
        if !(0..86_400_000_000).contains(&d) {
            return None;
        }
        let secs = d / 1_000_000;
        out.hour = (secs / 3_600) as u32;
        out.minute = (secs % 3_600 / 60) as u32;
        out.second = (secs % 60) as u32;
        out.micros = (d % 1_000_000) as u32;
    }
    Some(out)
}

/// Parses a MySQL `TIME` text `[-]H+:MM[:SS[.ffffff]]` into signed microseconds (the pattern
/// of Debezium's `stringToDuration`; hours may exceed 24, MySQL allows ±838:59:59.999999).
pub(crate) fn parse_duration_micros(text: &str) -> Option<i64> {
    let text = text.trim();
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (hms, fraction) = match body.split_once('.') {
        Some((hms, f)) => (hms, Some(f)),
        None => (body, None),
    };
    let mut fields = hms.split(':');
    let hours: i64 = parse_digits(fields.next()?)?;
    let minutes: i64 = parse_digits(fields.next()?)?;
    let seconds: i64 = match fields.next() {
        Some(s) => parse_digits(s)?,
        None => 0,
    };
    if fields.next().is_some() || minutes > 59 || seconds > 59 {
        return None;
    }
    let micros = match fraction {
        Some(f) => fraction_micros(f)?,
        None => 0,
    };
    let total = ((hours * 60 + minutes) * 60 + seconds) * 1_000_000 + micros;
    Some(if negative { -total } else { total })
}

/// Fractional-second digits as microseconds (`"5"` → 500000); digits past the sixth are cut,
/// as MySQL's own precision ends there.
pub(crate) fn fraction_micros(digits: &str) -> Option<i64> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut padded: String = digits.chars().take(6).collect();
    while padded.len() < 6 {
        padded.push('0');
    }
    padded.parse().ok()
}

fn parse_digits<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}
