//! The records of the registry's log, in Confluent Schema Registry's own `_schemas` format.
//!
//! Using Confluent's format means the topic looks familiar to operators and tools (and could be
//! read by a Confluent registry, or written by one). Keys must be byte-for-byte what Confluent
//! writes, field order included, because log compaction compares key *bytes*: a soft delete only
//! supersedes the original record if its key serialises identically.

use serde::{Deserialize, Serialize};

use super::model::CompatibilityLevel;

/// What a record in the log is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LogKey {
    /// One version of one subject (`keytype: SCHEMA`).
    Schema {
        /// The subject.
        subject: String,
        /// The version within the subject.
        version: u32,
    },
    /// A compatibility level; `None` is the global one (`keytype: CONFIG`).
    Config {
        /// Subject, or `None` for the global level.
        subject: Option<String>,
    },
    /// A marker written only to learn where the log ends (`keytype: NOOP`, as Confluent does).
    Noop,
    /// Any other key type Confluent writes (MODE, DELETE_SUBJECT, CLEAR_SUBJECT, …); ignored,
    /// because the SCHEMA and CONFIG records carry the state we need.
    Other(String),
}

#[derive(Serialize)]
struct SchemaKeyOut<'a> {
    keytype: &'static str,
    subject: &'a str,
    version: u32,
    magic: u32,
}

#[derive(Serialize)]
struct ConfigKeyOut<'a> {
    keytype: &'static str,
    subject: Option<&'a str>,
    magic: u32,
}

#[derive(Serialize)]
struct BareKeyOut<'a> {
    keytype: &'a str,
    magic: u32,
}

#[derive(Deserialize)]
struct KeyIn {
    keytype: String,
    #[serde(default)]
    subject: Option<String>,
    #[serde(default)]
    version: Option<u32>,
}

impl LogKey {
    /// Confluent's exact key bytes.
    pub(crate) fn to_bytes(&self) -> Result<Vec<u8>, serde_json::Error> {
        match self {
            Self::Schema { subject, version } => serde_json::to_vec(&SchemaKeyOut {
                keytype: "SCHEMA",
                subject,
                version: *version,
                magic: 1,
            }),
            Self::Config { subject } => serde_json::to_vec(&ConfigKeyOut {
                keytype: "CONFIG",
                subject: subject.as_deref(),
                magic: 0,
            }),
            Self::Noop => serde_json::to_vec(&BareKeyOut {
                keytype: "NOOP",
                magic: 0,
            }),
            Self::Other(keytype) => serde_json::to_vec(&BareKeyOut { keytype, magic: 0 }),
        }
    }

    /// Reads a key; a key that is not JSON with a `keytype` is an error (the caller skips it).
    pub(crate) fn parse(bytes: &[u8]) -> Result<Self, String> {
        let key: KeyIn = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        match key.keytype.as_str() {
            "SCHEMA" => match (key.subject, key.version) {
                (Some(subject), Some(version)) => Ok(Self::Schema { subject, version }),
                _ => Err("SCHEMA key without subject or version".to_string()),
            },
            "CONFIG" => Ok(Self::Config {
                subject: key.subject,
            }),
            "NOOP" => Ok(Self::Noop),
            _ => Ok(Self::Other(key.keytype)),
        }
    }
}

/// The value of a SCHEMA record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SchemaValue {
    /// Must equal the key's subject.
    pub subject: String,
    /// Must equal the key's version.
    pub version: u32,
    /// The global id.
    pub id: u32,
    /// The schema text.
    pub schema: String,
    /// Confluent writes this only for non-Avro schemas.
    #[serde(
        rename = "schemaType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub schema_type: Option<String>,
    /// Schema references (Confluent); kept verbatim so a rewrite (soft delete) does not lose them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub references: Option<serde_json::Value>,
    /// Soft-delete flag.
    #[serde(default)]
    pub deleted: bool,
}

/// The value of a CONFIG record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ConfigValue {
    /// The level; Confluent may write config records without one (e.g. only `normalize`).
    #[serde(
        rename = "compatibilityLevel",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub compatibility_level: Option<CompatibilityLevel>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_key_bytes_match_confluent() -> Result<(), serde_json::Error> {
        let key = LogKey::Schema {
            subject: "orders-value".into(),
            version: 3,
        };
        assert_eq!(
            String::from_utf8_lossy(&key.to_bytes()?),
            r#"{"keytype":"SCHEMA","subject":"orders-value","version":3,"magic":1}"#
        );
        Ok(())
    }

    #[test]
    fn config_key_bytes_match_confluent() -> Result<(), serde_json::Error> {
        let global = LogKey::Config { subject: None };
        assert_eq!(
            String::from_utf8_lossy(&global.to_bytes()?),
            r#"{"keytype":"CONFIG","subject":null,"magic":0}"#
        );
        let subject = LogKey::Config {
            subject: Some("s".into()),
        };
        assert_eq!(
            String::from_utf8_lossy(&subject.to_bytes()?),
            r#"{"keytype":"CONFIG","subject":"s","magic":0}"#
        );
        Ok(())
    }

    #[test]
    fn keys_round_trip_and_unknown_types_are_tolerated() -> Result<(), String> {
        for key in [
            LogKey::Schema {
                subject: "a".into(),
                version: 1,
            },
            LogKey::Config { subject: None },
            LogKey::Config {
                subject: Some("x".into()),
            },
            LogKey::Noop,
        ] {
            let bytes = key.to_bytes().map_err(|e| e.to_string())?;
            assert_eq!(LogKey::parse(&bytes)?, key);
        }
        assert_eq!(
            LogKey::parse(br#"{"keytype":"DELETE_SUBJECT","subject":"a","magic":0}"#)?,
            LogKey::Other("DELETE_SUBJECT".into())
        );
        assert!(LogKey::parse(b"not json").is_err());
        Ok(())
    }

    #[test]
    fn schema_value_matches_confluent_shape() -> Result<(), serde_json::Error> {
        let value = SchemaValue {
            subject: "s".into(),
            version: 1,
            id: 7,
            schema: "\"string\"".into(),
            schema_type: None,
            references: None,
            deleted: false,
        };
        assert_eq!(
            serde_json::to_string(&value)?,
            r#"{"subject":"s","version":1,"id":7,"schema":"\"string\"","deleted":false}"#
        );
        let config = ConfigValue {
            compatibility_level: Some(CompatibilityLevel::Full),
        };
        assert_eq!(
            serde_json::to_string(&config)?,
            r#"{"compatibilityLevel":"FULL"}"#
        );
        Ok(())
    }
}
