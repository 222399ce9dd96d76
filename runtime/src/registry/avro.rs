//! Parsing Avro schema text and deciding when two texts are "the same schema".
//!
//! Identity matters twice: re-registering a schema must return its existing id (serializers do it
//! on every start), and two subjects holding the same schema share one global id. Byte equality is
//! too strict (whitespace, key order), Avro's Parsing Canonical Form is too loose: it strips
//! `default` and `logicalType`, so "add a default to a field" or "int → date" would silently map
//! to the old id and writers would then encode with a schema that is not the one they asked for.
//! We therefore compare the *parsed* schema re-serialized by apache-avro: whitespace, key order
//! and name qualification are normalised away, defaults / logical types / docs are kept (this is
//! what Confluent does too: it compares the parsed schema's canonical string, defaults included).

use std::sync::Arc;

use apache_avro::Schema;

use super::error::RegistryError;

/// A schema that parsed, together with the key that decides identity.
#[derive(Debug, Clone)]
pub(crate) struct ParsedSchema {
    /// The parsed schema, for compatibility checks.
    pub schema: Arc<Schema>,
    /// Normalised JSON form; equal keys mean "the same schema".
    pub identity: String,
}

/// Parses Avro schema text; failure is Confluent's 42201.
pub(crate) fn parse_avro(text: &str) -> Result<ParsedSchema, RegistryError> {
    let schema =
        Schema::parse_str(text).map_err(|e| RegistryError::InvalidSchema(e.to_string()))?;
    let identity = serde_json::to_string(&schema)
        .map_err(|e| RegistryError::InvalidSchema(format!("cannot normalise schema: {e}")))?;
    Ok(ParsedSchema {
        schema: Arc::new(schema),
        identity,
    })
}

/// Identity key for a schema read back from the log. Records we cannot parse (e.g. a Protobuf
/// schema written by a real Confluent registry sharing the topic) still need a stable key so that
/// id-conflict detection stays deterministic; their raw text, tagged by type, serves.
pub(crate) fn identity_for_log(
    schema_type: Option<&str>,
    text: &str,
) -> (String, Option<Arc<Schema>>) {
    let is_avro = schema_type.is_none_or(|t| t.eq_ignore_ascii_case(super::model::AVRO));
    if is_avro {
        if let Ok(parsed) = parse_avro(text) {
            return (parsed.identity, Some(parsed.schema));
        }
    }
    (
        format!(
            "unparsed:{}:{text}",
            schema_type.unwrap_or(super::model::AVRO)
        ),
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_and_key_order_do_not_change_identity() -> Result<(), RegistryError> {
        let a = parse_avro(r#"{"type":"record","name":"r","fields":[{"name":"a","type":"int"}]}"#)?;
        let b = parse_avro(
            r#" { "fields" : [ { "type" : "int", "name" : "a" } ], "name" : "r", "type" : "record" } "#,
        )?;
        assert_eq!(a.identity, b.identity);
        Ok(())
    }

    #[test]
    fn a_default_changes_identity() -> Result<(), RegistryError> {
        let a = parse_avro(r#"{"type":"record","name":"r","fields":[{"name":"a","type":"int"}]}"#)?;
        let b = parse_avro(
            r#"{"type":"record","name":"r","fields":[{"name":"a","type":"int","default":0}]}"#,
        )?;
        assert_ne!(a.identity, b.identity);
        Ok(())
    }

    #[test]
    fn a_logical_type_changes_identity() -> Result<(), RegistryError> {
        let a = parse_avro(r#""int""#)?;
        let b = parse_avro(r#"{"type":"int","logicalType":"date"}"#)?;
        assert_ne!(a.identity, b.identity);
        Ok(())
    }

    #[test]
    fn garbage_is_an_invalid_schema() {
        let err = parse_avro(r#"{"type":"recrod"}"#).err();
        assert_eq!(err.map(|e| e.error_code()), Some(42201));
    }
}
