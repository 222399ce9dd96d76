//! The registry's vocabulary: compatibility levels, version selectors and the views of registered
//! schemas that the API hands out.
//!
//! These are plain values, independent of storage and HTTP, so that both the state machine and the
//! REST layer speak the same types and Confluent's spellings live in exactly one place.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::error::RegistryError;

/// The schema type this registry understands. Confluent omits `schemaType` for Avro in its
/// responses, and so do we.
pub const AVRO: &str = "AVRO";

/// How a new schema must relate to the existing versions of its subject.
///
/// BACKWARD is Confluent's default: consumers upgraded to the new schema can still read everything
/// already in the topic, which is what a CDC pipeline (new columns appear, old data stays) needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CompatibilityLevel {
    /// No checks at all.
    None,
    /// The new schema can read data written with the latest version.
    #[default]
    Backward,
    /// The new schema can read data written with every earlier version.
    BackwardTransitive,
    /// The latest version can read data written with the new schema.
    Forward,
    /// Every earlier version can read data written with the new schema.
    ForwardTransitive,
    /// Backward and forward against the latest version.
    Full,
    /// Backward and forward against every earlier version.
    FullTransitive,
}

impl CompatibilityLevel {
    /// Confluent's spelling (`BACKWARD_TRANSITIVE`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "NONE",
            Self::Backward => "BACKWARD",
            Self::BackwardTransitive => "BACKWARD_TRANSITIVE",
            Self::Forward => "FORWARD",
            Self::ForwardTransitive => "FORWARD_TRANSITIVE",
            Self::Full => "FULL",
            Self::FullTransitive => "FULL_TRANSITIVE",
        }
    }

    /// Whether the check runs against all earlier versions rather than only the latest.
    pub fn is_transitive(self) -> bool {
        matches!(
            self,
            Self::BackwardTransitive | Self::ForwardTransitive | Self::FullTransitive
        )
    }

    /// Whether the new schema must be able to read old data.
    pub fn checks_backward(self) -> bool {
        matches!(
            self,
            Self::Backward | Self::BackwardTransitive | Self::Full | Self::FullTransitive
        )
    }

    /// Whether old schemas must be able to read new data.
    pub fn checks_forward(self) -> bool {
        matches!(
            self,
            Self::Forward | Self::ForwardTransitive | Self::Full | Self::FullTransitive
        )
    }
}

impl fmt::Display for CompatibilityLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CompatibilityLevel {
    type Err = RegistryError;

    /// Case-insensitive, because Confluent's own error message lists the levels in lower case and
    /// people type what they read.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "NONE" => Ok(Self::None),
            "BACKWARD" => Ok(Self::Backward),
            "BACKWARD_TRANSITIVE" => Ok(Self::BackwardTransitive),
            "FORWARD" => Ok(Self::Forward),
            "FORWARD_TRANSITIVE" => Ok(Self::ForwardTransitive),
            "FULL" => Ok(Self::Full),
            "FULL_TRANSITIVE" => Ok(Self::FullTransitive),
            _ => Err(RegistryError::InvalidCompatibilityLevel(s.to_string())),
        }
    }
}

/// Which version of a subject a request means: Confluent accepts a number, `latest` or `-1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionSpec {
    /// The highest live version.
    Latest,
    /// An explicit version number (≥ 1).
    Number(u32),
}

impl VersionSpec {
    /// Parses a path segment; anything but a positive 32-bit integer, `latest` or `-1` is 42202.
    pub fn parse(s: &str) -> Result<Self, RegistryError> {
        if s.eq_ignore_ascii_case("latest") || s == "-1" {
            return Ok(Self::Latest);
        }
        match s.parse::<i64>() {
            Ok(n) if n >= 1 && n <= i64::from(i32::MAX) => Ok(Self::Number(n as u32)),
            _ => Err(RegistryError::InvalidVersion(s.to_string())),
        }
    }
}

impl fmt::Display for VersionSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Latest => f.write_str("latest"),
            Self::Number(n) => write!(f, "{n}"),
        }
    }
}

/// One version of one subject, as `GET /subjects/{s}/versions/{v}` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubjectVersion {
    /// The subject.
    pub subject: String,
    /// The version within the subject (1, 2, …).
    pub version: u32,
    /// The global schema id (what goes into the 5-byte wire prefix).
    pub id: u32,
    /// The schema text, as it was first registered under this id.
    pub schema: String,
    /// Only present for non-Avro schemas found in the log (Confluent omits it for Avro).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_type: Option<String>,
}

/// A (subject, version) pair, as `GET /schemas/ids/{id}/versions` lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectVersionRef {
    /// The subject.
    pub subject: String,
    /// The version within the subject.
    pub version: u32,
}

/// The answer of a compatibility test: a verdict and, if it failed, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompatibilityReport {
    /// Whether the schema may be registered.
    pub is_compatible: bool,
    /// One line per violated rule (empty when compatible).
    pub messages: Vec<String>,
}
