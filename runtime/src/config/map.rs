use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use super::{ConfigDef, ConfigError};

thread_local! {
    /// The keys [`Parsed`] getters were asked for on this thread, while [`keys_read_by`] runs.
    static KEYS_READ: RefCell<Option<BTreeSet<String>>> = const { RefCell::new(None) };
}

/// Runs `f` and returns, with its result, every key a [`Parsed`] getter was asked for on this
/// thread meanwhile (whether or not the config set it). This is how the tests prove that every
/// key a definition accepts is read by the code that parses it: a key that is defined and never
/// asked for would be accepted and silently ignored.
pub fn keys_read_by<T>(f: impl FnOnce() -> T) -> (T, BTreeSet<String>) {
    let outer = KEYS_READ.with(|r| r.replace(Some(BTreeSet::new())));
    let result = f();
    let read = KEYS_READ.with(|r| r.replace(outer)).unwrap_or_default();
    // A nested audit: the enclosing one saw these reads too.
    KEYS_READ.with(|r| {
        if let Some(set) = r.borrow_mut().as_mut() {
            set.extend(read.iter().cloned());
        }
    });
    (result, read)
}

fn note_read(key: &str) {
    KEYS_READ.with(|r| {
        if let Some(set) = r.borrow_mut().as_mut() {
            set.insert(key.to_owned());
        }
    });
}

/// Connector and worker configs are flat string maps, as in Kafka Connect.
pub type ConfigMap = BTreeMap<String, String>;

/// A config checked against its definition, with typed getters that fall back to the
/// definition's defaults. Built only through [`Parsed::new`], so getters cannot meet a value
/// of the wrong type.
#[derive(Clone, Debug)]
pub struct Parsed {
    def: ConfigDef,
    props: ConfigMap,
}

impl Parsed {
    pub fn new(def: &ConfigDef, props: &ConfigMap) -> Result<Parsed, ConfigError> {
        def.check(props)?;
        Ok(Parsed {
            def: def.clone(),
            props: props.clone(),
        })
    }

    pub fn props(&self) -> &ConfigMap {
        &self.props
    }

    /// The raw value or the default; `None` only for an optional key without default.
    pub fn raw(&self, key: &str) -> Option<&str> {
        note_read(key);
        self.props
            .get(key)
            .map(String::as_str)
            .or_else(|| self.def.key(key).and_then(|k| k.default))
    }

    /// The value the config sets, without falling back to a default (to tell an unset key from
    /// one set to its default value, as aliases need).
    pub fn given(&self, key: &str) -> Option<&str> {
        note_read(key);
        self.props.get(key).map(String::as_str)
    }

    pub fn string(&self, key: &str) -> String {
        self.raw(key).unwrap_or_default().to_owned()
    }

    pub fn optional_string(&self, key: &str) -> Option<String> {
        self.raw(key)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    }

    pub fn bool(&self, key: &str) -> bool {
        self.raw(key)
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    }

    pub fn i64(&self, key: &str) -> i64 {
        self.raw(key)
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_default()
    }

    pub fn f64(&self, key: &str) -> f64 {
        self.raw(key)
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_default()
    }

    /// A comma-separated list, trimmed, without empty entries.
    pub fn list(&self, key: &str) -> Vec<String> {
        self.raw(key)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every key under `prefix` with the prefix removed (`producer.override.` → client settings).
    pub fn with_prefix(&self, prefix: &str) -> ConfigMap {
        note_read(prefix);
        self.props
            .iter()
            .filter_map(|(k, v)| k.strip_prefix(prefix).map(|r| (r.to_owned(), v.clone())))
            .collect()
    }
}
