//! The property names and naming rules of Confluent's `AvroData`, spelled once.
//!
//! Readers of our topics (Confluent's Java and Python deserializers, ksqlDB, Flink) recover the
//! Connect schema from these exact property names, so they must match `AvroData` character for
//! character.

/// Namespace `AvroData` gives to the records it invents (unnamed structs, map entries).
pub(crate) const NAMESPACE: &str = "io.confluent.connect.avro";
/// Name of an unnamed struct's record; the second and later ones get a number appended.
pub(crate) const DEFAULT_SCHEMA_NAME: &str = "ConnectDefault";
/// Record name of the entries of a map whose keys are not plain strings.
pub(crate) const MAP_ENTRY_TYPE_NAME: &str = "MapEntry";
pub(crate) const KEY_FIELD: &str = "key";
pub(crate) const VALUE_FIELD: &str = "value";

pub(crate) const CONNECT_NAME: &str = "connect.name";
pub(crate) const CONNECT_DOC: &str = "connect.doc";
pub(crate) const CONNECT_VERSION: &str = "connect.version";
pub(crate) const CONNECT_DEFAULT: &str = "connect.default";
pub(crate) const CONNECT_PARAMETERS: &str = "connect.parameters";
/// Marks Connect's int8/int16, which Avro can only hold as `int`.
pub(crate) const CONNECT_TYPE: &str = "connect.type";
/// Marks a named map's entry record (`MapEntry`).
pub(crate) const CONNECT_INTERNAL_TYPE: &str = "connect.internal.type";

/// Parameter keeping an Avro record's `doc` on the Connect side.
pub(crate) const AVRO_RECORD_DOC: &str = "io.confluent.connect.avro.record.doc";
/// Parameter prefix keeping an Avro field's `doc` on the Connect side.
pub(crate) const AVRO_FIELD_DOC_PREFIX: &str = "io.confluent.connect.avro.field.doc.";
/// Parameter saying a Connect default came from an Avro field default (not `connect.default`).
pub(crate) const AVRO_FIELD_DEFAULT_FLAG: &str = "io.confluent.connect.avro.field.default";
pub(crate) const AVRO_ENUM_DOC_PREFIX: &str = "io.confluent.connect.avro.enum.doc.";
pub(crate) const AVRO_ENUM_DEFAULT_PREFIX: &str = "io.confluent.connect.avro.enum.default.";
/// Schema name of the Connect struct standing for a general Avro union.
pub(crate) const AVRO_TYPE_UNION: &str = "io.confluent.connect.avro.Union";
/// Parameter naming the Avro enum a Connect string came from.
pub(crate) const AVRO_TYPE_ENUM: &str = "io.confluent.connect.avro.Enum";
/// Parameters with this prefix are copied to Avro properties unchanged (`avro.java.string` …).
pub(crate) const AVRO_PROP_PREFIX: &str = "avro";

pub(crate) const LOGICAL_TYPE: &str = "logicalType";
pub(crate) const LOGICAL_DECIMAL: &str = "decimal";
pub(crate) const LOGICAL_DATE: &str = "date";
pub(crate) const LOGICAL_TIME_MILLIS: &str = "time-millis";
pub(crate) const LOGICAL_TIMESTAMP_MILLIS: &str = "timestamp-millis";
/// Precision `AvroData` assumes for a decimal without `connect.decimal.precision`.
pub(crate) const DECIMAL_PRECISION_DEFAULT: u32 = 64;

/// Splits a full name at its last dot into (namespace, name), as `AvroData.splitName`.
pub(crate) fn split_name(full: &str) -> (Option<&str>, &str) {
    match full.rfind('.') {
        Some(i) => (Some(&full[..i]), &full[i + 1..]),
        None => (None, full),
    }
}

/// `namespace.name`, or `name` without a namespace.
pub(crate) fn full_name(namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) if !ns.is_empty() => format!("{ns}.{name}"),
        _ => name.to_owned(),
    }
}

/// Whether `name` is one of the names `AvroData` invents for unnamed structs
/// (`io.confluent.connect.avro.ConnectDefault`, `…ConnectDefault2` …), which do not become a
/// Connect schema name when read back.
pub(crate) fn is_default_schema_name(name: &str) -> bool {
    let Some(rest) = name
        .strip_prefix(NAMESPACE)
        .and_then(|r| r.strip_prefix('.'))
        .and_then(|r| r.strip_prefix(DEFAULT_SCHEMA_NAME))
    else {
        return false;
    };
    rest.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_name_cuts_at_the_last_dot() {
        assert_eq!(split_name("a.b.C"), (Some("a.b"), "C"));
        assert_eq!(split_name("C"), (None, "C"));
    }

    #[test]
    fn default_names_are_recognised_with_or_without_number() {
        assert!(is_default_schema_name(
            "io.confluent.connect.avro.ConnectDefault"
        ));
        assert!(is_default_schema_name(
            "io.confluent.connect.avro.ConnectDefault12"
        ));
        assert!(!is_default_schema_name(
            "io.confluent.connect.avro.ConnectDefaultX"
        ));
        assert!(!is_default_schema_name("ConnectDefault"));
    }
}
