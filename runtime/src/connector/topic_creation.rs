//! Topic creation for source connectors (KIP-158), as Kafka Connect defines it in
//! `SourceConnectorConfig`, `TopicCreationConfig` and `TopicCreationGroup`:
//!
//! - a connector uses topic creation when any of its keys starts with `topic.creation.` (and the
//!   worker's `topic.creation.enable` is true, its default);
//! - the `default` group then needs `topic.creation.default.replication.factor` and
//!   `.partitions` (each `-1` for the broker's default, or at least 1);
//! - `topic.creation.groups` names more groups, each with `.include` and `.exclude` lists of
//!   regular expressions matched against the whole topic name (exclusion wins), and
//!   `.replication.factor`/`.partitions` that default to the default group's;
//! - every other key under `topic.creation.<group>.` is a topic-level config given to the
//!   broker with the creation (`cleanup.policy`, `retention.ms`, `min.insync.replicas` …);
//! - a topic gets the first listed group that matches it, else the default group.
//!
//! Unlike Kafka Connect, keys that would have no effect are refused rather than ignored:
//! `include`/`exclude` on the default group (it takes every topic no other group takes), and
//! keys of a group not listed in `topic.creation.groups`.

use std::collections::BTreeMap;

use regex::Regex;

use crate::config::{
    ConfigDef, ConfigError, ConfigKey, ConfigMap, ConfigType, Importance, Parsed, Validator, Width,
};
use crate::kafka::NewTopicSpec;

pub const PREFIX: &str = "topic.creation.";
pub const GROUPS: &str = "topic.creation.groups";
pub const DEFAULT_GROUP: &str = "default";

const INCLUDE: &str = "include";
const EXCLUDE: &str = "exclude";
const REPLICATION_FACTOR: &str = "replication.factor";
const PARTITIONS: &str = "partitions";

const INCLUDE_DOC: &str = "A list of strings that represent regular expressions that may match topic names. This list is used to include topics that match their values and apply this group's specific configuration to the topics that match this inclusion list. $alias applies to any group defined in topic.creation.groups but not the default";
const EXCLUDE_DOC: &str = "A list of strings that represent regular expressions that may match topic names. This list is used to exclude topics that match their values and refrain from applying this group's specific configuration to the topics that match this exclusion list. $alias applies to any group defined in topic.creation.groups but not the default. Note that exclusion rules have precedent and override any inclusion rules for topics. ";
const REPLICATION_FACTOR_DOC: &str = "The replication factor for new topics created for this connector. This value must not be larger than the number of brokers in the Kafka cluster, or otherwise an error will be thrown when the connector will attempt to create a topic. For the default group this configuration is required. For any other group defined in topic.creation.groups this config is optional and if it's missing it gets the value the default group";
const PARTITIONS_DOC: &str = "The number of partitions new topics created for this connector. For the default group this configuration is required. For any other group defined in topic.creation.groups this config is optional and if it's missing it gets the value the default group";

/// The keys of one group, relative to `topic.creation.<group>.` (Kafka's
/// `TopicCreationConfig.configDef` and `defaultGroupConfigDef`). Any other key under the prefix
/// is a topic-level config for the broker.
pub fn group_config_def(default_group: bool) -> ConfigDef {
    let count = |name: &'static str, doc: &'static str, order: i32| {
        let key = ConfigKey::new(name, ConfigType::Int, None, Importance::Low, doc)
            .group("Topic Creation", order)
            .width(Width::Long)
            .validator(Validator::MinusOneOrAtLeastOne);
        if default_group {
            key
        } else {
            key.optional()
        }
    };
    let mut def = ConfigDef::new();
    if !default_group {
        def = def
            .define(
                ConfigKey::new(
                    INCLUDE,
                    ConfigType::List,
                    Some(""),
                    Importance::Low,
                    INCLUDE_DOC,
                )
                .group("Topic Creation", 1)
                .width(Width::Long),
            )
            .define(
                ConfigKey::new(
                    EXCLUDE,
                    ConfigType::List,
                    Some(""),
                    Importance::Low,
                    EXCLUDE_DOC,
                )
                .group("Topic Creation", 2)
                .width(Width::Long),
            );
    }
    def.define(count(REPLICATION_FACTOR, REPLICATION_FACTOR_DOC, 3))
        .define(count(PARTITIONS, PARTITIONS_DOC, 4))
        // Topic-level configs: the broker is the judge of their names and values.
        .allow_prefix("")
}

/// One group: which topics it takes and what they are created with.
#[derive(Clone, Debug)]
pub struct TopicCreationGroup {
    pub name: String,
    /// `None` matches nothing (an empty list), as Kafka's empty pattern matches no topic name.
    include: Option<Regex>,
    exclude: Option<Regex>,
    pub partitions: i32,
    pub replication_factor: i32,
    pub configs: BTreeMap<String, String>,
}

impl TopicCreationGroup {
    /// Kafka's `TopicCreationGroup.matches`: not excluded, and included.
    pub fn matches(&self, topic: &str) -> bool {
        let full = |r: &Option<Regex>| r.as_ref().is_some_and(|r| r.is_match(topic));
        !full(&self.exclude) && full(&self.include)
    }
}

/// A source connector's topic creation settings.
#[derive(Clone, Debug)]
pub struct TopicCreation {
    /// The listed groups, in `topic.creation.groups` order.
    groups: Vec<TopicCreationGroup>,
    default: TopicCreationGroup,
}

impl TopicCreation {
    /// The settings, `None` when the config has no `topic.creation.*` key (Kafka's
    /// `usesTopicCreation`). `p` holds the keys of [`config_def`] (a source connector's config
    /// does). Every problem is reported at once, each naming its key.
    pub fn parse(p: &Parsed) -> Result<Option<TopicCreation>, ConfigError> {
        // Keys without `topic.creation.`: `groups`, `<group>.<key>`.
        let keys = p.with_prefix(PREFIX);
        let mut errors = Vec::new();
        let names = group_names(p, &mut errors);
        if keys.is_empty() {
            return Ok(None);
        }
        for rest in keys.keys().filter(|k| **k != GROUPS[PREFIX.len()..]) {
            let listed = std::iter::once(DEFAULT_GROUP)
                .chain(names.iter().map(String::as_str))
                .any(|g| rest.strip_prefix(g).is_some_and(|r| r.starts_with('.')));
            if !listed {
                let key = format!("{PREFIX}{rest}");
                errors.push(ConfigError::Message {
                    message: format!(
                        "{key}: no topic creation group of this name is listed in {GROUPS}, so this key would have no effect; add the group to {GROUPS} or remove the key"
                    ),
                    key,
                });
            }
        }
        let default = parse_group(&keys, DEFAULT_GROUP, None, &mut errors);
        let groups = names
            .iter()
            .filter_map(|name| {
                let default = default.as_ref()?;
                parse_group(&keys, name, Some(default), &mut errors)
            })
            .collect();
        // A group that did not parse has pushed its errors.
        ConfigError::all(errors)?;
        Ok(default.map(|default| TopicCreation { groups, default }))
    }

    /// Kafka's `findFirstGroup`: the first listed group that matches, else the default group.
    pub fn group_for(&self, topic: &str) -> &TopicCreationGroup {
        self.groups
            .iter()
            .find(|g| g.matches(topic))
            .unwrap_or(&self.default)
    }

    /// The topic to create for `topic`, from its group.
    pub fn new_topic(&self, topic: &str) -> NewTopicSpec {
        let group = self.group_for(topic);
        NewTopicSpec {
            name: topic.to_owned(),
            partitions: group.partitions,
            replication_factor: group.replication_factor,
            configs: group.configs.clone(),
        }
    }
}

/// `topic.creation.groups` and the prefix of every group's keys, as source connectors accept
/// them.
pub fn config_def() -> ConfigDef {
    ConfigDef::new()
        .define(
            ConfigKey::new(
                GROUPS,
                ConfigType::List,
                Some(""),
                Importance::Low,
                "Groups of configurations for topics created by source connectors",
            )
            .group("Topic Creation", 1)
            .width(Width::Long)
            .display("Topic Creation Groups"),
        )
        .allow_prefix(PREFIX)
}

/// `topic.creation.groups` without `default` (always defined; Kafka Connect drops it with a
/// warning), refusing duplicates as Kafka Connect does.
fn group_names(p: &Parsed, errors: &mut Vec<ConfigError>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for name in p.list(GROUPS) {
        if names.contains(&name) {
            errors.push(ConfigError::invalid(
                GROUPS,
                &p.string(GROUPS),
                "Duplicate alias provided.",
            ));
            return Vec::new();
        }
        names.push(name);
    }
    if names.iter().any(|n| n == DEFAULT_GROUP) {
        tracing::warn!(
            "'{DEFAULT_GROUP}' topic creation group always exists and does not need to be listed explicitly"
        );
        names.retain(|n| n != DEFAULT_GROUP);
    }
    names
}

/// One group's settings from the `topic.creation.` keys without that prefix; `None` after
/// pushing its errors.
fn parse_group(
    keys: &ConfigMap,
    name: &str,
    default: Option<&TopicCreationGroup>,
    errors: &mut Vec<ConfigError>,
) -> Option<TopicCreationGroup> {
    let own = format!("{name}.");
    let prefix = format!("{PREFIX}{own}");
    let props: ConfigMap = keys
        .iter()
        .filter_map(|(k, v)| k.strip_prefix(&own).map(|r| (r.to_owned(), v.clone())))
        .collect();
    let before = errors.len();
    if default.is_none() {
        for key in [INCLUDE, EXCLUDE] {
            if props.contains_key(key) {
                errors.push(ConfigError::Message {
                    key: format!("{prefix}{key}"),
                    message: format!(
                        "{prefix}{key}: the default group takes every topic that no group of {GROUPS} takes, so it has no {INCLUDE}/{EXCLUDE} lists; define a group in {GROUPS} for this"
                    ),
                });
            }
        }
    }
    let def = group_config_def(default.is_none());
    let checked: ConfigMap = props
        .iter()
        .filter(|(k, _)| default.is_some() || (*k != INCLUDE && *k != EXCLUDE))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let parsed = match Parsed::new(&def, &checked) {
        Ok(p) => p,
        Err(e) => {
            errors.extend(e.flatten().into_iter().map(|e| prefixed(e, &prefix)));
            return None;
        }
    };
    let pattern = |key: &str, errors: &mut Vec<ConfigError>| -> Option<Regex> {
        default?;
        let list = parsed.list(key);
        if list.is_empty() {
            return None;
        }
        let joined = list.join("|");
        match Regex::new(&format!("^(?:{joined})$")) {
            Ok(r) => Some(r),
            Err(e) => {
                errors.push(ConfigError::invalid(
                    &format!("{prefix}{key}"),
                    &parsed.string(key),
                    format!("not a regular expression: {e}"),
                ));
                None
            }
        }
    };
    let include = match default {
        None => Regex::new("^(?:.*)$").ok(),
        Some(_) => pattern(INCLUDE, errors),
    };
    let exclude = pattern(EXCLUDE, errors);
    let count = |key: &str, inherited: Option<i32>| {
        parsed
            .raw(key)
            .and_then(|v| v.trim().parse::<i32>().ok())
            .or(inherited)
            .unwrap_or(-1)
    };
    let configs = parsed
        .props()
        .iter()
        .filter(|(k, _)| def.key(k).is_none())
        .map(|(k, v)| (k.clone(), v.trim().to_owned()))
        .collect();
    let group = TopicCreationGroup {
        name: name.to_owned(),
        include,
        exclude,
        partitions: count(PARTITIONS, default.map(|d| d.partitions)),
        replication_factor: count(REPLICATION_FACTOR, default.map(|d| d.replication_factor)),
        configs,
    };
    (errors.len() == before).then_some(group)
}

/// A group key's error under its full name (`partitions` → `topic.creation.compacted.partitions`).
fn prefixed(e: ConfigError, prefix: &str) -> ConfigError {
    let full = |key: &str| format!("{prefix}{key}");
    match e {
        ConfigError::Missing { key } => ConfigError::Missing { key: full(&key) },
        ConfigError::Invalid {
            key,
            value,
            message,
        } => ConfigError::Invalid {
            key: full(&key),
            value,
            message,
        },
        ConfigError::Unknown { key, hint } => ConfigError::Unknown {
            key: full(&key),
            hint,
        },
        ConfigError::Message { key, message } => ConfigError::Message {
            key: full(&key),
            message,
        },
        ConfigError::Several(all) => {
            ConfigError::Several(all.into_iter().map(|e| prefixed(e, prefix)).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Parsed {
        let map: ConfigMap = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let def = config_def();
        Parsed::new(&def, &def.known_subset(&map)).expect("parses")
    }

    #[test]
    fn no_topic_creation_key_means_no_topic_creation() {
        let c = config(&[("connector.class", "datagen")]);
        assert!(TopicCreation::parse(&c).expect("parses").is_none());
    }

    #[test]
    fn groups_are_matched_in_order_and_the_default_takes_the_rest() {
        let c = config(&[
            ("topic.creation.default.partitions", "1"),
            ("topic.creation.default.replication.factor", "1"),
            ("topic.creation.default.retention.ms", "86400000"),
            ("topic.creation.groups", "compacted,wide"),
            ("topic.creation.compacted.include", "db\\.inv\\..*, audit"),
            ("topic.creation.compacted.exclude", ".*\\.orders"),
            ("topic.creation.compacted.partitions", "6"),
            ("topic.creation.compacted.cleanup.policy", "compact"),
            ("topic.creation.wide.include", ".*orders"),
            ("topic.creation.wide.partitions", "-1"),
            ("topic.creation.wide.replication.factor", "3"),
        ]);
        let tc = TopicCreation::parse(&c).expect("parses").expect("used");
        let t = tc.new_topic("db.inv.customers");
        assert_eq!((t.partitions, t.replication_factor), (6, 1));
        assert_eq!(
            t.configs,
            BTreeMap::from([("cleanup.policy".to_owned(), "compact".to_owned())])
        );
        assert_eq!(tc.group_for("audit").name, "compacted");
        assert_eq!(
            tc.group_for("xaudit").name,
            "default",
            "whole names only, as Java's Matcher.matches"
        );
        let t = tc.new_topic("db.inv.orders");
        assert_eq!(
            (
                t.partitions,
                t.replication_factor,
                tc.group_for("db.inv.orders").name.as_str()
            ),
            (-1, 3, "wide"),
            "excluded from the first group, taken by the second"
        );
        let t = tc.new_topic("db");
        assert_eq!((t.partitions, t.replication_factor), (1, 1));
        assert_eq!(
            t.configs.get("retention.ms").map(String::as_str),
            Some("86400000")
        );
    }

    #[test]
    fn the_default_group_needs_its_counts() {
        let c = config(&[
            ("topic.creation.groups", "a"),
            ("topic.creation.a.include", "x"),
        ]);
        let e = TopicCreation::parse(&c).expect_err("no default counts");
        let text = e.to_string();
        assert!(
            text.contains("\"topic.creation.default.replication.factor\"")
                && text.contains("\"topic.creation.default.partitions\""),
            "{text}"
        );
    }

    #[test]
    fn keys_that_would_do_nothing_are_refused_by_name() {
        let c = config(&[
            ("topic.creation.default.partitions", "1"),
            ("topic.creation.default.replication.factor", "1"),
            ("topic.creation.default.include", "x"),
            ("topic.creation.compacted.partitions", "6"),
        ]);
        let e = TopicCreation::parse(&c).expect_err("refused");
        let keys: Vec<String> = e
            .flatten()
            .iter()
            .filter_map(|e| e.key().map(str::to_owned))
            .collect();
        assert!(
            keys.contains(&"topic.creation.default.include".to_owned()),
            "{keys:?}"
        );
        assert!(
            keys.contains(&"topic.creation.compacted.partitions".to_owned()),
            "{keys:?}"
        );
    }

    #[test]
    fn bad_values_are_named() {
        let c = config(&[
            ("topic.creation.default.partitions", "0"),
            ("topic.creation.default.replication.factor", "1"),
            ("topic.creation.groups", "a,b,a"),
        ]);
        let text = TopicCreation::parse(&c).expect_err("bad").to_string();
        assert!(
            text.contains("topic.creation.default.partitions")
                && text.contains("Value must be -1 or at least 1"),
            "{text}"
        );
        assert!(text.contains("Duplicate alias provided."), "{text}");
        let c = config(&[
            ("topic.creation.default.partitions", "1"),
            ("topic.creation.default.replication.factor", "1"),
            ("topic.creation.groups", "a"),
            ("topic.creation.a.include", "("),
        ]);
        let text = TopicCreation::parse(&c).expect_err("bad regex").to_string();
        assert!(text.contains("topic.creation.a.include"), "{text}");
    }
}
