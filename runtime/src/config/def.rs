use std::collections::BTreeMap;

use serde::Serialize;

use super::{redact, ConfigError};

/// Kafka Connect's config types, named as `/connector-plugins/{p}/config` shows them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ConfigType {
    Boolean,
    String,
    Int,
    Long,
    Double,
    List,
    Class,
    Password,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Importance {
    High,
    Medium,
    Low,
}

/// How wide a UI should make a key's input field (Kafka's `ConfigDef.Width`), shown by
/// `/connector-plugins/{p}/config` and `config/validate`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Width {
    None,
    Short,
    Medium,
    Long,
}

/// Checks a value beyond its type.
#[derive(Clone, Debug)]
pub enum Validator {
    /// One of these strings (case-insensitive, as Connect's `ValidString` with `CaseInsensitiveValidString`).
    OneOf(&'static [&'static str]),
    /// An integer in this inclusive range.
    Range(i64, i64),
    /// Not empty after trimming.
    NonEmpty,
    /// `-1` (let the broker choose) or a positive integer (Kafka Connect's topic creation counts).
    MinusOneOrAtLeastOne,
}

/// One configuration key: everything the parser, `config/validate` and the docs need.
#[derive(Clone, Debug)]
pub struct ConfigKey {
    pub name: &'static str,
    pub ty: ConfigType,
    /// `None`: no default; the key is required unless [`ConfigKey::optional`] was called.
    pub default: Option<&'static str>,
    /// Optional although it has no default (Kafka Connect's `null` default).
    pub optional_without_default: bool,
    pub importance: Importance,
    pub documentation: &'static str,
    pub group: Option<&'static str>,
    pub order_in_group: i32,
    pub width: Width,
    pub display_name: &'static str,
    pub validator: Option<Validator>,
}

impl ConfigKey {
    pub const fn new(
        name: &'static str,
        ty: ConfigType,
        default: Option<&'static str>,
        importance: Importance,
        documentation: &'static str,
    ) -> ConfigKey {
        ConfigKey {
            name,
            ty,
            default,
            importance,
            documentation,
            group: None,
            order_in_group: -1,
            width: Width::None,
            display_name: name,
            validator: None,
            optional_without_default: false,
        }
    }

    /// An optional key with no default value (shown as `"default_value": null`).
    pub fn optional(mut self) -> Self {
        self.optional_without_default = true;
        self
    }

    pub fn validator(mut self, validator: Validator) -> Self {
        self.validator = Some(validator);
        self
    }

    pub fn group(mut self, group: &'static str, order: i32) -> Self {
        self.group = Some(group);
        self.order_in_group = order;
        self
    }

    pub fn display(mut self, display_name: &'static str) -> Self {
        self.display_name = display_name;
        self
    }

    pub fn width(mut self, width: Width) -> Self {
        self.width = width;
        self
    }

    pub fn required(&self) -> bool {
        self.default.is_none() && !self.optional_without_default
    }

    /// Checks one raw value against the type and validator.
    pub fn check(&self, raw: &str) -> Result<(), ConfigError> {
        let invalid = |message: String| ConfigError::invalid(self.name, raw, message);
        let trimmed = raw.trim();
        match self.ty {
            ConfigType::Boolean => {
                if !trimmed.eq_ignore_ascii_case("true") && !trimmed.eq_ignore_ascii_case("false") {
                    return Err(invalid("Expected value to be either true or false".into()));
                }
            }
            ConfigType::Int => {
                trimmed
                    .parse::<i32>()
                    .map_err(|_| invalid("Not a number of type INT".into()))?;
            }
            ConfigType::Long => {
                trimmed
                    .parse::<i64>()
                    .map_err(|_| invalid("Not a number of type LONG".into()))?;
            }
            ConfigType::Double => {
                trimmed
                    .parse::<f64>()
                    .map_err(|_| invalid("Not a number of type DOUBLE".into()))?;
            }
            ConfigType::String | ConfigType::List | ConfigType::Class | ConfigType::Password => {}
        }
        match &self.validator {
            None => Ok(()),
            Some(Validator::OneOf(allowed)) => {
                if allowed.iter().any(|a| a.eq_ignore_ascii_case(trimmed)) {
                    Ok(())
                } else {
                    Err(invalid(format!(
                        "String must be one of: {}",
                        allowed.join(", ")
                    )))
                }
            }
            Some(Validator::Range(min, max)) => match trimmed.parse::<i64>() {
                Ok(v) if v >= *min && v <= *max => Ok(()),
                _ => Err(invalid(format!("Value must be in [{min}, {max}]"))),
            },
            Some(Validator::MinusOneOrAtLeastOne) => match trimmed.parse::<i64>() {
                Ok(v) if v == -1 || v >= 1 => Ok(()),
                _ => Err(invalid("Value must be -1 or at least 1".into())),
            },
            Some(Validator::NonEmpty) => {
                if trimmed.is_empty() {
                    Err(invalid("String may not be empty".into()))
                } else {
                    Ok(())
                }
            }
        }
    }

    /// The JSON definition `/connector-plugins/{p}/config` and `config/validate` answer.
    pub fn definition_json(&self) -> serde_json::Value {
        serde_json::json!({
            "name": self.name,
            "type": self.ty,
            "required": self.required(),
            "default_value": self.default,
            "importance": self.importance,
            "documentation": self.documentation,
            "group": self.group,
            "order_in_group": self.order_in_group,
            "width": self.width,
            "display_name": self.display_name,
            "dependents": [],
        })
    }
}

/// The result of validating one key, as Kafka Connect's `ConfigValue`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConfigValue {
    pub name: String,
    pub value: Option<String>,
    pub recommended_values: Vec<String>,
    pub errors: Vec<String>,
    pub visible: bool,
}

/// A set of keys plus the key prefixes whose members are passed through uninterpreted
/// (`key.converter.*`, `producer.override.*` …).
#[derive(Clone, Debug, Default)]
pub struct ConfigDef {
    pub keys: Vec<ConfigKey>,
    pub prefixes: Vec<&'static str>,
}

impl ConfigDef {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn define(mut self, key: ConfigKey) -> Self {
        self.keys.push(key);
        self
    }

    pub fn allow_prefix(mut self, prefix: &'static str) -> Self {
        self.prefixes.push(prefix);
        self
    }

    /// This definition followed by `other`'s keys and prefixes.
    pub fn merged(mut self, other: &ConfigDef) -> Self {
        for key in &other.keys {
            if self.key(key.name).is_none() {
                self.keys.push(key.clone());
            }
        }
        self.prefixes.extend(other.prefixes.iter().copied());
        self
    }

    pub fn key(&self, name: &str) -> Option<&ConfigKey> {
        self.keys.iter().find(|k| k.name == name)
    }

    /// The entries of `config` this definition knows (its keys and prefixed keys): a
    /// definition's share of a config that also holds other definitions' keys.
    pub fn known_subset(&self, config: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        config
            .iter()
            .filter(|(k, _)| self.is_known(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    fn is_known(&self, name: &str) -> bool {
        self.key(name).is_some() || self.prefixes.iter().any(|p| name.starts_with(p))
    }

    /// Per-key results for every defined key, then one entry per unknown key, each carrying
    /// its errors (Kafka Connect's `config/validate` shape). Secret values are redacted.
    pub fn validate(&self, props: &BTreeMap<String, String>) -> Vec<ConfigValue> {
        let mut out: Vec<ConfigValue> = self
            .keys
            .iter()
            .map(|key| {
                let raw = props.get(key.name);
                let mut errors = Vec::new();
                match raw {
                    None if key.required() => errors.push(
                        ConfigError::Missing {
                            key: key.name.to_owned(),
                        }
                        .to_string(),
                    ),
                    None => {}
                    Some(v) => {
                        if let Err(e) = key.check(v) {
                            errors.push(e.to_string());
                        }
                    }
                }
                let recommended_values = match &key.validator {
                    Some(Validator::OneOf(values)) => {
                        values.iter().map(|v| (*v).to_owned()).collect()
                    }
                    _ => Vec::new(),
                };
                ConfigValue {
                    name: key.name.to_owned(),
                    value: raw.map(|v| redact(key.name, v)),
                    recommended_values,
                    errors,
                    visible: true,
                }
            })
            .collect();
        for (name, value) in props {
            if !self.is_known(name) {
                out.push(ConfigValue {
                    name: name.clone(),
                    value: Some(redact(name, value)),
                    recommended_values: Vec::new(),
                    errors: vec![self.unknown(name).to_string()],
                    visible: true,
                });
            }
        }
        out
    }

    /// All problems at once, or nothing.
    pub fn check(&self, props: &BTreeMap<String, String>) -> Result<(), ConfigError> {
        let mut errors = Vec::new();
        for key in &self.keys {
            match props.get(key.name) {
                None if key.required() => errors.push(ConfigError::Missing {
                    key: key.name.to_owned(),
                }),
                None => {}
                Some(v) => {
                    if let Err(e) = key.check(v) {
                        errors.push(e);
                    }
                }
            }
        }
        for name in props.keys() {
            if !self.is_known(name) {
                errors.push(self.unknown(name));
            }
        }
        ConfigError::all(errors)
    }

    fn unknown(&self, name: &str) -> ConfigError {
        let hint = closest(name, self.keys.iter().map(|k| k.name))
            .map(|k| format!("; did you mean \"{k}\"?"))
            .unwrap_or_default();
        ConfigError::Unknown {
            key: name.to_owned(),
            hint,
        }
    }
}

/// The defined key nearest to a misspelt one, if any is close (edit distance ≤ 3).
fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= 3)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def() -> ConfigDef {
        ConfigDef::new()
            .define(ConfigKey::new(
                "topic",
                ConfigType::String,
                None,
                Importance::High,
                "Where to write.",
            ))
            .define(
                ConfigKey::new(
                    "batch.size",
                    ConfigType::Int,
                    Some("2000"),
                    Importance::Low,
                    "Records per poll.",
                )
                .validator(Validator::Range(1, 1_000_000)),
            )
            .define(
                ConfigKey::new(
                    "mode",
                    ConfigType::String,
                    Some("upsert"),
                    Importance::Low,
                    "How to write.",
                )
                .validator(Validator::OneOf(&["insert", "upsert"])),
            )
            .allow_prefix("key.converter.")
    }

    fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn missing_required_key_is_named() {
        let err = def().check(&props(&[])).unwrap_err();
        assert_eq!(err.key(), Some("topic"));
        assert!(err.to_string().contains("\"topic\""), "{err}");
    }

    #[test]
    fn wrong_type_names_key_and_value() {
        let err = def()
            .check(&props(&[("topic", "t"), ("batch.size", "abc")]))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Invalid value abc for configuration batch.size: Not a number of type INT"
        );
    }

    #[test]
    fn value_outside_allowed_set_lists_the_choices() {
        let err = def()
            .check(&props(&[("topic", "t"), ("mode", "merge")]))
            .unwrap_err();
        assert!(err.to_string().contains("insert, upsert"), "{err}");
    }

    #[test]
    fn unknown_key_is_rejected_with_a_suggestion() {
        let err = def()
            .check(&props(&[("topic", "t"), ("batch.sise", "5")]))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Unknown configuration \"batch.sise\"; did you mean \"batch.size\"?"
        );
    }

    #[test]
    fn prefixed_keys_pass_through() {
        assert!(def()
            .check(&props(&[
                ("topic", "t"),
                ("key.converter.schemas.enable", "false")
            ]))
            .is_ok());
    }

    #[test]
    fn validate_reports_every_key_and_the_unknown_ones() {
        let values = def().validate(&props(&[("batch.size", "0"), ("nope", "1")]));
        let errors: Vec<(&str, usize)> = values
            .iter()
            .map(|v| (v.name.as_str(), v.errors.len()))
            .collect();
        assert_eq!(
            errors,
            vec![("topic", 1), ("batch.size", 1), ("mode", 0), ("nope", 1)]
        );
    }
}
