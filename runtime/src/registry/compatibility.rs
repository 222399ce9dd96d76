//! Schema evolution rules: may a new schema join a subject, given its compatibility level?
//!
//! The actual Avro resolution rules come from apache-avro's
//! [`SchemaCompatibility::can_read`](apache_avro::schema_compatibility::SchemaCompatibility::can_read);
//! this module only decides *which* pairs to check in *which* direction, and turns failures into
//! messages a human can act on.
//!
//! A `Partial` verdict (e.g. the reader lacks one of the writer's enum symbols or union branches)
//! counts as incompatible: some data would fail to decode, which is exactly what the check is for,
//! and it is what Java Avro (and hence Confluent) reports.

use std::error::Error as _;

use apache_avro::schema_compatibility::{Compatibility, SchemaCompatibility};
use apache_avro::Schema;

use super::model::CompatibilityLevel;

/// An existing version the new schema is checked against.
pub(crate) struct PreviousVersion<'a> {
    /// Its version number, for messages.
    pub version: u32,
    /// Its parsed schema; `None` if the log holds something we cannot parse (then we refuse,
    /// because we cannot prove compatibility).
    pub schema: Option<&'a Schema>,
}

/// Checks `new` against `previous` (oldest first) under `level`. Returns one message per problem;
/// an empty list means compatible.
pub(crate) fn check(
    level: CompatibilityLevel,
    new: &Schema,
    previous: &[PreviousVersion<'_>],
) -> Vec<String> {
    if level == CompatibilityLevel::None {
        return Vec::new();
    }
    let against: &[PreviousVersion<'_>] = if level.is_transitive() {
        previous
    } else {
        match previous.last() {
            Some(_) => &previous[previous.len() - 1..],
            None => &[],
        }
    };
    let mut messages = Vec::new();
    for prev in against {
        let Some(old) = prev.schema else {
            messages.push(format!(
                "version {} is not an Avro schema this registry can parse, so compatibility cannot be checked",
                prev.version
            ));
            continue;
        };
        if level.checks_backward() {
            if let Some(problem) = can_read(old, new) {
                messages.push(format!(
                    "{problem} (the new schema cannot read data written with version {}; compatibility: {level})",
                    prev.version
                ));
            }
        }
        if level.checks_forward() {
            if let Some(problem) = can_read(new, old) {
                messages.push(format!(
                    "{problem} (version {} cannot read data written with the new schema; compatibility: {level})",
                    prev.version
                ));
            }
        }
    }
    messages
}

/// `None` if `reader` can read everything written with `writer`, else why not.
fn can_read(writer: &Schema, reader: &Schema) -> Option<String> {
    match SchemaCompatibility::can_read(writer, reader) {
        Ok(Compatibility::Full) => None,
        Ok(Compatibility::Partial) => Some(
            "only partially compatible: some values (an enum symbol or union branch missing from the reader) could not be read"
                .to_string(),
        ),
        Err(e) => {
            let mut text = e.to_string();
            let mut source = e.source();
            while let Some(inner) = source {
                text.push_str(": ");
                text.push_str(&inner.to_string());
                source = inner.source();
            }
            Some(text)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::avro::parse_avro;
    use crate::registry::error::RegistryError;
    use std::sync::Arc;

    const V1: &str = r#"{"type":"record","name":"user","fields":[{"name":"id","type":"long"}]}"#;
    const WITH_DEFAULT: &str = r#"{"type":"record","name":"user","fields":[{"name":"id","type":"long"},{"name":"email","type":"string","default":""}]}"#;
    const WITHOUT_DEFAULT: &str = r#"{"type":"record","name":"user","fields":[{"name":"id","type":"long"},{"name":"email","type":"string"}]}"#;
    const ID_AS_STRING: &str =
        r#"{"type":"record","name":"user","fields":[{"name":"id","type":"string"}]}"#;
    const ID_AS_INT: &str =
        r#"{"type":"record","name":"user","fields":[{"name":"id","type":"int"}]}"#;
    const EMPTY: &str = r#"{"type":"record","name":"user","fields":[]}"#;

    fn schema(text: &str) -> Result<Arc<Schema>, RegistryError> {
        Ok(parse_avro(text)?.schema)
    }

    /// Messages for registering `new` after `old` (oldest first) under `level`.
    fn verdict(
        level: CompatibilityLevel,
        old: &[&str],
        new: &str,
    ) -> Result<Vec<String>, RegistryError> {
        let olds = old
            .iter()
            .map(|s| schema(s))
            .collect::<Result<Vec<_>, _>>()?;
        let previous: Vec<PreviousVersion<'_>> = olds
            .iter()
            .enumerate()
            .map(|(i, s)| PreviousVersion {
                version: i as u32 + 1,
                schema: Some(s.as_ref()),
            })
            .collect();
        Ok(check(level, &*schema(new)?, &previous))
    }

    #[test]
    fn backward_accepts_a_new_field_with_default() -> Result<(), RegistryError> {
        assert!(verdict(CompatibilityLevel::Backward, &[V1], WITH_DEFAULT)?.is_empty());
        Ok(())
    }

    #[test]
    fn backward_rejects_a_new_field_without_default() -> Result<(), RegistryError> {
        let messages = verdict(CompatibilityLevel::Backward, &[V1], WITHOUT_DEFAULT)?;
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert!(messages[0].contains("email"), "{messages:?}");
        Ok(())
    }

    #[test]
    fn backward_accepts_removing_a_field() -> Result<(), RegistryError> {
        assert!(verdict(CompatibilityLevel::Backward, &[V1], EMPTY)?.is_empty());
        Ok(())
    }

    #[test]
    fn changing_a_field_type_incompatibly_is_rejected() -> Result<(), RegistryError> {
        for level in [
            CompatibilityLevel::Backward,
            CompatibilityLevel::Forward,
            CompatibilityLevel::Full,
        ] {
            let messages = verdict(level, &[V1], ID_AS_STRING)?;
            assert!(!messages.is_empty(), "{level} accepted long -> string");
        }
        Ok(())
    }

    #[test]
    fn type_promotion_is_backward_but_not_forward_compatible() -> Result<(), RegistryError> {
        // int data can be read as long (new=long reads old=int), not the other way round.
        assert!(verdict(CompatibilityLevel::Backward, &[ID_AS_INT], V1)?.is_empty());
        assert!(!verdict(CompatibilityLevel::Forward, &[ID_AS_INT], V1)?.is_empty());
        Ok(())
    }

    #[test]
    fn none_accepts_anything() -> Result<(), RegistryError> {
        assert!(verdict(CompatibilityLevel::None, &[V1], ID_AS_STRING)?.is_empty());
        assert!(verdict(CompatibilityLevel::None, &[V1], r#""string""#)?.is_empty());
        Ok(())
    }

    #[test]
    fn forward_accepts_a_new_field_without_default() -> Result<(), RegistryError> {
        // Old readers simply ignore the new field.
        assert!(verdict(CompatibilityLevel::Forward, &[V1], WITHOUT_DEFAULT)?.is_empty());
        Ok(())
    }

    #[test]
    fn forward_rejects_removing_a_field_without_default() -> Result<(), RegistryError> {
        assert!(!verdict(CompatibilityLevel::Forward, &[V1], EMPTY)?.is_empty());
        Ok(())
    }

    #[test]
    fn full_needs_both_directions() -> Result<(), RegistryError> {
        assert!(verdict(CompatibilityLevel::Full, &[V1], WITH_DEFAULT)?.is_empty());
        assert!(!verdict(CompatibilityLevel::Full, &[V1], WITHOUT_DEFAULT)?.is_empty());
        assert!(!verdict(CompatibilityLevel::Full, &[V1], EMPTY)?.is_empty());
        Ok(())
    }

    #[test]
    fn non_transitive_levels_only_look_at_the_latest_version() -> Result<(), RegistryError> {
        // v1 has `id` as a string, v2 dropped it. A v3 with `id: long` (default 0) reads v2 data
        // fine, but cannot read v1's strings: only the transitive level notices.
        let history = [ID_AS_STRING, EMPTY];
        let new =
            r#"{"type":"record","name":"user","fields":[{"name":"id","type":"long","default":0}]}"#;
        assert!(verdict(CompatibilityLevel::Backward, &history, new)?.is_empty());
        let transitive = verdict(CompatibilityLevel::BackwardTransitive, &history, new)?;
        assert_eq!(transitive.len(), 1, "{transitive:?}");
        assert!(transitive[0].contains("version 1"), "{transitive:?}");
        Ok(())
    }

    #[test]
    fn the_first_version_is_always_compatible() -> Result<(), RegistryError> {
        assert!(verdict(CompatibilityLevel::FullTransitive, &[], V1)?.is_empty());
        Ok(())
    }

    #[test]
    fn removing_an_enum_symbol_is_not_backward_compatible() -> Result<(), RegistryError> {
        let old = r#"{"type":"enum","name":"e","symbols":["A","B"]}"#;
        let new = r#"{"type":"enum","name":"e","symbols":["A"]}"#;
        assert!(!verdict(CompatibilityLevel::Backward, &[old], new)?.is_empty());
        assert!(verdict(CompatibilityLevel::Forward, &[old], new)?.is_empty());
        Ok(())
    }

    #[test]
    fn an_unparseable_previous_version_blocks_registration() -> Result<(), RegistryError> {
        let previous = [PreviousVersion {
            version: 1,
            schema: None,
        }];
        assert_eq!(
            check(CompatibilityLevel::Backward, &*schema(V1)?, &previous).len(),
            1
        );
        assert!(check(CompatibilityLevel::None, &*schema(V1)?, &previous).is_empty());
        Ok(())
    }
}
