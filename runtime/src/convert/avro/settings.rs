//! The `key.converter.*` / `value.converter.*` settings of the Avro converter, under the names
//! Confluent's `AvroConverter` reads, validated without any I/O.

use std::collections::BTreeMap;

use crate::convert::{ConvertError, Side};

/// How the registry subject of a record is chosen (Confluent's `*.subject.name.strategy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SubjectStrategy {
    /// `<topic>-key` / `<topic>-value` (the default).
    Topic,
    /// The record's full name.
    Record,
    /// `<topic>-<record full name>`.
    TopicRecord,
}

/// Validated settings. Credentials are kept apart from the URLs so that no message built from
/// a URL can reveal them.
#[derive(Clone)]
pub(crate) struct AvroSettings {
    /// Registry base URLs, without credentials or trailing slash.
    pub urls: Vec<String>,
    /// Basic-auth user and password.
    pub credentials: Option<(String, Option<String>)>,
    pub auto_register: bool,
    pub use_latest_version: bool,
    pub subject_strategy: SubjectStrategy,
}

impl std::fmt::Debug for AvroSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AvroSettings")
            .field("urls", &self.urls)
            .field(
                "credentials",
                &self.credentials.as_ref().map(|_| "[redacted]"),
            )
            .field("auto_register", &self.auto_register)
            .field("use_latest_version", &self.use_latest_version)
            .field("subject_strategy", &self.subject_strategy)
            .finish()
    }
}

pub(crate) const URL: &str = "schema.registry.url";
const AUTO_REGISTER: &str = "auto.register.schemas";
const USE_LATEST: &str = "use.latest.version";
const CREDENTIALS_SOURCE: &str = "basic.auth.credentials.source";
const USER_INFO: &str = "basic.auth.user.info";
const LEGACY_USER_INFO: &str = "schema.registry.basic.auth.user.info";
const CONNECT_META_DATA: &str = "connect.meta.data";
const ENHANCED_SCHEMA_SUPPORT: &str = "enhanced.avro.schema.support";

impl AvroSettings {
    /// Reads the settings; the worker's built-in registry serves when no URL is configured.
    pub(crate) fn parse(
        side: Side,
        settings: &BTreeMap<String, String>,
        default_registry_url: Option<&str>,
    ) -> Result<AvroSettings, ConvertError> {
        let configured = settings
            .get(URL)
            .map(String::as_str)
            .filter(|u| !u.trim().is_empty());
        let url_list = configured.or(default_registry_url).ok_or_else(|| ConvertError::Config {
            key: URL.into(),
            message: "the Avro converter needs a schema registry: set it, or run the worker with its built-in registry".into(),
        })?;
        let mut urls = Vec::new();
        let mut url_credentials = None;
        for raw in url_list.split(',').map(str::trim).filter(|u| !u.is_empty()) {
            let (url, userinfo) = split_userinfo(raw);
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(ConvertError::Config {
                    key: URL.into(),
                    message: format!("'{url}' is not an http(s) URL"),
                });
            }
            url_credentials = url_credentials.or(userinfo);
            urls.push(url.trim_end_matches('/').to_owned());
        }
        if urls.is_empty() {
            return Err(ConvertError::Config {
                key: URL.into(),
                message: "no URL given".into(),
            });
        }

        let source = settings
            .get(CREDENTIALS_SOURCE)
            .map(|s| s.trim().to_ascii_uppercase());
        let credentials = match source.as_deref().unwrap_or("URL") {
            "URL" => url_credentials,
            "USER_INFO" => {
                let info = settings
                    .get(USER_INFO)
                    .or_else(|| settings.get(LEGACY_USER_INFO))
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| ConvertError::Config {
                        key: USER_INFO.into(),
                        message: format!(
                            "required when {CREDENTIALS_SOURCE}=USER_INFO (format user:password)"
                        ),
                    })?;
                Some(user_password(info))
            }
            other => {
                return Err(ConvertError::Config {
                    key: CREDENTIALS_SOURCE.into(),
                    message: format!("'{other}' is not supported; use URL or USER_INFO"),
                })
            }
        };

        let strategy_key = match side {
            Side::Key => "key.subject.name.strategy",
            Side::Value => "value.subject.name.strategy",
        };
        let subject_strategy = match settings.get(strategy_key).map(|s| s.trim()) {
            None | Some("") => SubjectStrategy::Topic,
            Some(class) => match class.rsplit('.').next().unwrap_or(class) {
                "TopicNameStrategy" => SubjectStrategy::Topic,
                "RecordNameStrategy" => SubjectStrategy::Record,
                "TopicRecordNameStrategy" => SubjectStrategy::TopicRecord,
                _ => {
                    return Err(ConvertError::Config {
                        key: strategy_key.into(),
                        message: format!("unknown subject name strategy '{class}'"),
                    })
                }
            },
        };

        // Only the defaults of these are implemented; refuse rather than write other schemas.
        if !flag(settings, CONNECT_META_DATA, true)? {
            return Err(unsupported(CONNECT_META_DATA, "false"));
        }
        if flag(settings, ENHANCED_SCHEMA_SUPPORT, false)? {
            return Err(unsupported(ENHANCED_SCHEMA_SUPPORT, "true"));
        }

        Ok(AvroSettings {
            urls,
            credentials,
            auto_register: flag(settings, AUTO_REGISTER, true)?,
            use_latest_version: flag(settings, USE_LATEST, false)?,
            subject_strategy,
        })
    }

    /// The secrets that must never appear in a message.
    pub(crate) fn secrets(&self) -> Vec<String> {
        match &self.credentials {
            Some((user, Some(password))) if !password.is_empty() => {
                vec![password.clone(), format!("{user}:{password}")]
            }
            _ => Vec::new(),
        }
    }
}

fn flag(
    settings: &BTreeMap<String, String>,
    key: &str,
    default: bool,
) -> Result<bool, ConvertError> {
    match settings.get(key).map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(default),
        Some(v) if v == "true" => Ok(true),
        Some(v) if v == "false" => Ok(false),
        Some(v) => Err(ConvertError::Config {
            key: key.into(),
            message: format!("expected true or false, got '{v}'"),
        }),
    }
}

fn unsupported(key: &str, value: &str) -> ConvertError {
    ConvertError::Config {
        key: key.into(),
        message: format!("{key}={value} is not supported by this Avro converter"),
    }
}

/// Splits `scheme://user:pass@host/...` into the URL without credentials and the credentials.
fn split_userinfo(url: &str) -> (String, Option<(String, Option<String>)>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_owned(), None);
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => {
            let info = &rest[..at];
            (
                format!("{scheme}://{}", &rest[at + 1..]),
                Some(user_password(info)),
            )
        }
        None => (url.to_owned(), None),
    }
}

fn user_password(info: &str) -> (String, Option<String>) {
    match info.split_once(':') {
        Some((user, password)) => (user.to_owned(), Some(password.to_owned())),
        None => (info.to_owned(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn missing_registry_is_a_config_error_naming_the_key() {
        let err = AvroSettings::parse(Side::Value, &settings(&[]), None).err();
        assert!(matches!(err, Some(ConvertError::Config { key, .. }) if key == URL));
    }

    #[test]
    fn built_in_registry_is_the_fallback() -> Result<(), ConvertError> {
        let s = AvroSettings::parse(Side::Value, &settings(&[]), Some("http://127.0.0.1:8081/"))?;
        assert_eq!(s.urls, ["http://127.0.0.1:8081"]);
        assert!(s.auto_register);
        assert_eq!(s.subject_strategy, SubjectStrategy::Topic);
        Ok(())
    }

    #[test]
    fn user_info_credentials_are_read_and_never_debug_printed() -> Result<(), ConvertError> {
        let s = AvroSettings::parse(
            Side::Key,
            &settings(&[
                (URL, "https://sr.example:8081"),
                (CREDENTIALS_SOURCE, "USER_INFO"),
                (USER_INFO, "alice:s3cr3t"),
            ]),
            None,
        )?;
        assert_eq!(s.credentials, Some(("alice".into(), Some("s3cr3t".into()))));
        assert!(!format!("{s:?}").contains("s3cr3t"));
        Ok(())
    }

    #[test]
    fn url_credentials_are_stripped_from_the_url() -> Result<(), ConvertError> {
        let s = AvroSettings::parse(
            Side::Value,
            &settings(&[(URL, "http://bob:pw@host:8081/x")]),
            None,
        )?;
        assert_eq!(s.urls, ["http://host:8081/x"]);
        assert_eq!(s.credentials, Some(("bob".into(), Some("pw".into()))));
        Ok(())
    }

    #[test]
    fn bad_flags_and_unsupported_modes_are_refused() {
        let base = [(URL, "http://h:1")];
        let bad = |extra: (&str, &str)| {
            let mut pairs = base.to_vec();
            pairs.push(extra);
            AvroSettings::parse(Side::Value, &settings(&pairs), None).is_err()
        };
        assert!(bad((AUTO_REGISTER, "maybe")));
        assert!(bad((CONNECT_META_DATA, "false")));
        assert!(bad((ENHANCED_SCHEMA_SUPPORT, "true")));
        assert!(bad(("value.subject.name.strategy", "com.example.Mine")));
        assert!(!bad((
            "value.subject.name.strategy",
            "io.confluent.kafka.serializers.subject.RecordNameStrategy"
        )));
    }
}
