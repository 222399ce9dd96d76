//! The converter's reference: a recording of Debezium 3.6.3 behind Confluent's Java
//! `AvroConverter` (`tests/fixtures/`, whose README tells how it was made): the key and value
//! schemas it registered (`<subject>.v<version>.avsc`) and every record it wrote, decoded
//! (`events.jsonl`: one `{topic, key, value}` a line, bytes as base64, decimals as strings).

/// `(file name, text)` of a file of the recording.
macro_rules! recorded {
    ($file:literal) => {
        (
            $file,
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../tests/fixtures/debezium-3.6.3-mysql/",
                $file
            )),
        )
    };
}

/// Every registered schema of the recording.
pub(super) const SCHEMAS: [(&str, &str); 8] = [
    recorded!("PREFIX-key.v1.avsc"),
    recorded!("PREFIX-value.v1.avsc"),
    recorded!("PREFIX.refdb.all_types-key.v1.avsc"),
    recorded!("PREFIX.refdb.all_types-value.v1.avsc"),
    recorded!("PREFIX.refdb.all_types-value.v2.avsc"),
    recorded!("PREFIX.refdb.composite-key.v1.avsc"),
    recorded!("PREFIX.refdb.composite-value.v1.avsc"),
    recorded!("PREFIX.refdb.no_pk-value.v1.avsc"),
];

/// The recorded events, one JSON object a line.
pub(super) const EVENTS: &str = recorded!("events.jsonl").1;

/// The text of the recorded schema file `file`.
pub(super) fn schema(file: &str) -> Option<&'static str> {
    SCHEMAS
        .iter()
        .find(|(name, _)| *name == file)
        .map(|(_, text)| *text)
}
