//! Decoding string bytes from the binlog, which carries them in the column's own character
//! set (a snapshot `SELECT` gets them already converted to the connection's `utf8mb4`).
//!
//! Malformed input decodes with U+FFFD replacements, as Java's `new String(bytes, charset)`
//! in Debezium does, rather than failing the event.

/// Character sets whose bytes are read as UTF-8 as they are (`ascii` is a subset of it;
/// text in the `binary` set is read the same way).
const UTF8: [&str; 5] = ["utf8mb4", "utf8mb3", "utf8", "ascii", "binary"];

/// Whether `charset`'s bytes are UTF-8 text as they are.
pub(crate) fn is_utf8(charset: &str) -> bool {
    let name = charset.trim();
    UTF8.iter().any(|c| name.eq_ignore_ascii_case(c))
}

/// UTF-8 `bytes` as text, reusing their buffer when they are valid.
pub(crate) fn utf8_text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// The text of `bytes` in MySQL character set `charset`; `None` for a set we cannot decode.
pub(crate) fn decode(bytes: &[u8], charset: &str) -> Option<String> {
    let name = charset.trim();
    let is = |candidates: &[&str]| candidates.iter().any(|c| name.eq_ignore_ascii_case(c));
    Some(if is_utf8(name) {
        String::from_utf8_lossy(bytes).into_owned()
    } else if is(&["latin1"]) {
        bytes.iter().map(|&b| latin1_char(b)).collect()
    } else if is(&["ucs2", "utf16"]) {
        utf16(bytes, u16::from_be_bytes)
    } else if is(&["utf16le"]) {
        utf16(bytes, u16::from_le_bytes)
    } else if is(&["utf32"]) {
        bytes
            .chunks(4)
            .map(|c| match <[u8; 4]>::try_from(c) {
                Ok(quad) => char::from_u32(u32::from_be_bytes(quad)).unwrap_or('\u{fffd}'),
                Err(_) => '\u{fffd}',
            })
            .collect()
    } else {
        return None;
    })
}

fn utf16(bytes: &[u8], read: fn([u8; 2]) -> u16) -> String {
    let units = bytes.chunks(2).map(|c| match <[u8; 2]>::try_from(c) {
        Ok(pair) => read(pair),
        Err(_) => 0xfffd,
    });
    char::decode_utf16(units)
        .map(|r| r.unwrap_or('\u{fffd}'))
        .collect()
}

/// MySQL's `latin1` is Windows-1252, except that the five bytes cp1252 leaves undefined map
/// to the C1 controls of the same value (what the server itself converts them to).
fn latin1_char(b: u8) -> char {
    const HIGH: [char; 32] = [
        '\u{20ac}', '\u{81}', '\u{201a}', '\u{192}', '\u{201e}', '\u{2026}', '\u{2020}',
        '\u{2021}', '\u{2c6}', '\u{2030}', '\u{160}', '\u{2039}', '\u{152}', '\u{8d}', '\u{17d}',
        '\u{8f}', '\u{90}', '\u{2018}', '\u{2019}', '\u{201c}', '\u{201d}', '\u{2022}', '\u{2013}',
        '\u{2014}', '\u{2dc}', '\u{2122}', '\u{161}', '\u{203a}', '\u{153}', '\u{9d}', '\u{17e}',
        '\u{178}',
    ];
    match b {
        0x80..=0x9f => HIGH[usize::from(b - 0x80)],
        _ => char::from(b),
    }
}
