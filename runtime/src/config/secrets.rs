//! Secrets are never echoed: GET endpoints and logs show `[hidden]` for them, as Kafka Connect
//! shows `[hidden]` for PASSWORD-typed settings.

use std::collections::BTreeMap;

pub const REDACTED: &str = "[hidden]";

/// Whether a key names secret material: passwords, secrets, tokens, credentials and key
/// material (`ssl.key.password`, `sasl.jaas.config`, `basic.auth.user.info` …), but not keys
/// that merely mention "key" as in record keys (`key.converter`, `pk.fields`).
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    const WORDS: [&str; 7] = [
        "password",
        "secret",
        "token",
        "credential",
        "jaas.config",
        "user.info",
        "private",
    ];
    if WORDS.iter().any(|w| k.contains(w)) {
        return true;
    }
    // Key material: `ssl.key`, `ssl.keystore.key`, `*.key.pem`, `api.key` …, not `key.converter`.
    k.ends_with(".key")
        || k.contains("keystore.key")
        || k.contains("key.pem")
        || k.ends_with("apikey")
        || k.ends_with("api.key")
}

/// The value to show for `key`.
pub fn redact(key: &str, value: &str) -> String {
    if is_secret_key(key) && !value.is_empty() {
        REDACTED.to_owned()
    } else {
        value.to_owned()
    }
}

pub fn redacted_map(config: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    config
        .iter()
        .map(|(k, v)| (k.clone(), redact(k, v)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_tokens_and_key_material_are_secret() {
        for k in [
            "database.password",
            "connection.password",
            "ssl.key.password",
            "sasl.jaas.config",
            "basic.auth.user.info",
            "value.converter.basic.auth.user.info",
            "aws.secret.access.key",
            "oauth.token",
            "ssl.key",
        ] {
            assert!(is_secret_key(k), "{k} should be secret");
        }
    }

    #[test]
    fn record_key_settings_are_not_secret() {
        for k in [
            "key.converter",
            "key.converter.schemas.enable",
            "pk.fields",
            "pk.mode",
            "message.key.columns",
            "database.user",
        ] {
            assert!(!is_secret_key(k), "{k} should not be secret");
        }
    }

    #[test]
    fn redaction_hides_the_value_but_not_its_absence() {
        assert_eq!(redact("database.password", "hunter2"), REDACTED);
        assert_eq!(redact("database.password", ""), "");
        assert_eq!(redact("database.user", "root"), "root");
    }
}
