//! Calendar arithmetic for the temporal kinds: days and microseconds since the epoch to civil
//! dates and back, ISO-8601 parsing of Debezium's `ZonedTimestamp`, and the text forms the
//! databases read.
//!
//! Written out (proleptic Gregorian, Howard Hinnant's algorithms) rather than pulled from a
//! date crate because it is small and the sink needs exactly these few conversions.

pub use tributary_runtime::data::calendar::{civil_from_days, days_from_civil};

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// A date-time split into its parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateTime {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub micro: u32,
}

impl DateTime {
    pub fn from_micros(micros: i64) -> DateTime {
        let days = micros.div_euclid(MICROS_PER_DAY);
        let rest = micros.rem_euclid(MICROS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        let secs = rest / 1_000_000;
        DateTime {
            year,
            month,
            day,
            hour: (secs / 3600) as u32,
            minute: (secs / 60 % 60) as u32,
            second: (secs % 60) as u32,
            micro: (rest % 1_000_000) as u32,
        }
    }
}

/// `YYYY-MM-DD`.
pub fn format_date(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `YYYY-MM-DD HH:MM:SS.ffffff`.
pub fn format_timestamp(micros: i64) -> String {
    let t = DateTime::from_micros(micros);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}",
        t.year, t.month, t.day, t.hour, t.minute, t.second, t.micro
    )
}

/// `[-]H:MM:SS.ffffff`, hours unbounded (MySQL `TIME`, PostgreSQL `interval`).
pub fn format_duration(micros: i64) -> String {
    let sign = if micros < 0 { "-" } else { "" };
    let m = micros.unsigned_abs();
    let secs = m / 1_000_000;
    format!(
        "{sign}{}:{:02}:{:02}.{:06}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        m % 1_000_000
    )
}

/// Microseconds since the epoch (UTC) of an ISO-8601 date-time with an offset, as Debezium's
/// `ZonedTimestamp` writes it (`2024-02-29T12:00:00Z`, `…T12:00:00.123456+02:00`).
pub fn parse_zoned_timestamp(text: &str) -> Result<i64, String> {
    let bad = || format!("'{text}' is not an ISO-8601 timestamp with an offset");
    let s = text.trim();
    let (date, rest) = s.split_at_checked(10).ok_or_else(bad)?;
    let mut d = date.split('-');
    let (y, mo, da) = (d.next(), d.next(), d.next());
    let year: i64 = y.and_then(|v| v.parse().ok()).ok_or_else(bad)?;
    let month: u32 = mo.and_then(|v| v.parse().ok()).ok_or_else(bad)?;
    let day: u32 = da.and_then(|v| v.parse().ok()).ok_or_else(bad)?;
    let rest = rest
        .strip_prefix('T')
        .or_else(|| rest.strip_prefix(' '))
        .ok_or_else(bad)?;
    // Split the offset off: `Z`, or the last `+`/`-`.
    let (clock, offset_secs) = if let Some(c) = rest.strip_suffix('Z') {
        (c, 0)
    } else {
        let at = rest.rfind(['+', '-']).ok_or_else(bad)?;
        let (c, off) = rest.split_at(at);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let digits: String = off[1..].chars().filter(char::is_ascii_digit).collect();
        let (h, m) = match digits.len() {
            2 => (&digits[..2], "0"),
            4 => (&digits[..2], &digits[2..]),
            _ => return Err(bad()),
        };
        let h: i64 = h.parse().map_err(|_| bad())?;
        let m: i64 = m.parse().map_err(|_| bad())?;
        (c, sign * (h * 3600 + m * 60))
    };
    let (hms, fraction) = clock.split_once('.').unwrap_or((clock, ""));
    let mut parts = hms.split(':');
    let mut next = || -> Result<i64, String> {
        parts
            .next()
            .map(|p| p.parse::<i64>().map_err(|_| bad()))
            .unwrap_or(Ok(0))
    };
    let (h, mi, se) = (next()?, next()?, next()?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || h > 23 || mi > 59 || se > 60 {
        return Err(bad());
    }
    if !fraction.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let micros_text: String = fraction.chars().chain("000000".chars()).take(6).collect();
    let micro: i64 = micros_text.parse().map_err(|_| bad())?;
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + h * 3600 + mi * 60 + se - offset_secs;
    Ok(secs * 1_000_000 + micro)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_civil_dates_round_trip() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(-354_285), (1000, 1, 1));
        assert_eq!(days_from_civil(1, 1, 1), -719_162);
        for d in [-800_000, -1, 0, 1, 11_016, 2_932_896] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
    }

    #[test]
    fn text_forms_are_what_databases_read() {
        assert_eq!(format_date(19_782), "2024-02-29");
        assert_eq!(
            format_timestamp(946_684_799_123_456),
            "1999-12-31 23:59:59.123456"
        );
        assert_eq!(format_timestamp(-1), "1969-12-31 23:59:59.999999");
        assert_eq!(format_duration(-45_296_000_000), "-12:34:56.000000");
        assert_eq!(format_duration(3_020_399_999_999), "838:59:59.999999");
    }

    #[test]
    fn zoned_timestamps_become_utc_microseconds() {
        assert_eq!(
            parse_zoned_timestamp("2024-02-29T12:00:00Z"),
            Ok(1_709_208_000_000_000)
        );
        assert_eq!(
            parse_zoned_timestamp("2038-01-19T03:14:07.999999Z"),
            Ok(2_147_483_647_999_999)
        );
        assert_eq!(
            parse_zoned_timestamp("2024-02-29T14:00:00+02:00"),
            Ok(1_709_208_000_000_000)
        );
        assert_eq!(
            parse_zoned_timestamp("1970-01-01T00:00:00.5-0100"),
            Ok(3_600_500_000)
        );
        assert!(parse_zoned_timestamp("2024-02-29").is_err());
        assert!(parse_zoned_timestamp("yesterday at noon").is_err());
    }
}
