//! Calls to the schema registry (Confluent's REST API, through `schema_registry_converter`):
//! registering a writer schema, looking one up, and fetching the writer schema of an id.
//!
//! Writer schemas are cached by id for the converter's lifetime (ids are immutable in a
//! registry), each with its Connect schema derived once, so every record of one schema id
//! shares one `SchemaRef`.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use schema_registry_converter::async_impl::schema_registry::{
    get_schema_by_id, perform_sr_call, post_schema, SrSettings,
};
use schema_registry_converter::error::SRCError;
use schema_registry_converter::schema_registry_common::{SchemaType, SrCall, SuppliedSchema};

use super::settings::AvroSettings;
use super::writer_schema::WriterSchema;
use crate::convert::ConvertError;

pub(crate) struct RegistryClient {
    sr: SrSettings,
    /// The registry URL(s) as shown in messages (never with credentials).
    shown_url: String,
    /// Strings scrubbed from every message that leaves this client.
    secrets: Vec<String>,
    writers: RwLock<HashMap<u32, Arc<WriterSchema>>>,
}

/// The TLS setup every registry client of the process shares.
///
/// Building one reads the system's CA certificates and sets up OpenSSL, a delay every task
/// paid twice (its key and value converters) before its first record, whether or not the
/// registry speaks TLS. `None` when it cannot be built: each client then builds its own and
/// reports the failure.
fn shared_tls() -> Option<native_tls::TlsConnector> {
    static TLS: OnceLock<Option<native_tls::TlsConnector>> = OnceLock::new();
    TLS.get_or_init(|| native_tls::TlsConnector::new().ok())
        .clone()
}

impl RegistryClient {
    pub(crate) fn new(settings: &AvroSettings) -> Result<RegistryClient, ConvertError> {
        let secrets = settings.secrets();
        let shown_url = settings.urls.join(",");
        let mut urls = settings.urls.iter();
        let first = urls.next().cloned().unwrap_or_default();
        let mut builder = SrSettings::new_builder(first);
        for url in urls {
            builder.add_url(url.clone());
        }
        if let Some((user, password)) = &settings.credentials {
            builder.set_basic_authorization(user, password.as_deref());
        }
        let mut http = reqwest::Client::builder();
        if let Some(tls) = shared_tls() {
            http = http.tls_backend_preconfigured(tls);
        }
        let sr = builder.build_with(http).map_err(|e| ConvertError::Config {
            key: super::settings::URL.into(),
            message: scrub(&describe(&e), &secrets),
        })?;
        Ok(RegistryClient {
            sr,
            shown_url,
            secrets,
            writers: RwLock::new(HashMap::new()),
        })
    }

    /// Registers `schema` under `subject` (or finds it registered) and returns its id, as the
    /// Confluent serializer does with `auto.register.schemas=true`.
    pub(crate) async fn register(
        &self,
        subject: &str,
        schema: String,
    ) -> Result<u32, ConvertError> {
        let supplied = SuppliedSchema::new(None, SchemaType::Avro, schema);
        post_schema(&self.sr, subject.to_owned(), supplied)
            .await
            .map(|registered| registered.id)
            .map_err(|e| {
                self.error(
                    &format!("registering a schema under subject '{subject}'"),
                    &e,
                )
            })
    }

    /// The id of `schema` if it is registered under `subject` (`auto.register.schemas=false`).
    pub(crate) async fn lookup(&self, subject: &str, schema: &str) -> Result<u32, ConvertError> {
        let body = serde_json::json!({ "schema": schema, "schemaType": "AVRO" }).to_string();
        let found = perform_sr_call(&self.sr, SrCall::PostForVersion(subject, &body))
            .await
            .map_err(|e| self.error(&format!("looking up the schema under subject '{subject}' (auto.register.schemas=false)"), &e))?;
        found.id.ok_or_else(|| ConvertError::Registry {
            url: self.shown_url.clone(),
            message: format!("lookup under subject '{subject}' answered without an id"),
            retriable: false,
        })
    }

    /// The id of the latest schema under `subject` (`use.latest.version=true`).
    pub(crate) async fn latest(&self, subject: &str) -> Result<(u32, String), ConvertError> {
        let found = perform_sr_call(&self.sr, SrCall::GetLatest(subject))
            .await
            .map_err(|e| {
                self.error(
                    &format!("fetching the latest schema of subject '{subject}'"),
                    &e,
                )
            })?;
        match (found.id, found.schema) {
            (Some(id), Some(schema)) => Ok((id, schema)),
            _ => Err(ConvertError::Registry {
                url: self.shown_url.clone(),
                message: format!(
                    "latest version of subject '{subject}' answered without id or schema"
                ),
                retriable: false,
            }),
        }
    }

    /// The writer schema of `id`, fetched once.
    pub(crate) async fn writer(
        &self,
        topic: &str,
        id: u32,
    ) -> Result<Arc<WriterSchema>, ConvertError> {
        if let Some(found) = self.writers.read().ok().and_then(|w| w.get(&id).cloned()) {
            return Ok(found);
        }
        let deserialize = |message: String| ConvertError::Deserialize {
            topic: topic.to_owned(),
            message,
        };
        let registered = get_schema_by_id(id, &self.sr).await.map_err(|e| {
            if e.retriable {
                return self.error(&format!("fetching schema id {id} for topic '{topic}'"), &e);
            }
            deserialize(scrub(
                &format!(
                    "schema id {id} is unknown to the registry at {}: {}",
                    self.shown_url,
                    describe(&e)
                ),
                &self.secrets,
            ))
        })?;
        let writer = WriterSchema::parse(&registered.schema)
            .map_err(|e| deserialize(format!("writer schema {id}: {e}")))?;
        let writer = Arc::new(writer);
        if let Ok(mut writers) = self.writers.write() {
            // Another task may have fetched it meanwhile: keep the first, so one id keeps one Arc.
            return Ok(writers.entry(id).or_insert(writer).clone());
        }
        Ok(writer)
    }

    fn error(&self, what: &str, e: &SRCError) -> ConvertError {
        ConvertError::Registry {
            url: self.shown_url.clone(),
            message: scrub(&format!("{what}: {}", describe(e)), &self.secrets),
            retriable: e.retriable,
        }
    }
}

/// `SRCError`'s own Display adds retry/cache flags; keep the error and its cause.
fn describe(e: &SRCError) -> String {
    match &e.cause {
        Some(cause) => format!("{} ({cause})", e.error),
        None => e.error.clone(),
    }
}

/// Replaces every secret in `text`.
pub(crate) fn scrub(text: &str, secrets: &[String]) -> String {
    secrets
        .iter()
        .filter(|s| !s.is_empty())
        .fold(text.to_owned(), |acc, s| {
            acc.replace(s.as_str(), "[redacted]")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_removes_every_secret() {
        let text = "failed for alice:s3cr3t at http://h (password s3cr3t)";
        let out = scrub(text, &["s3cr3t".into(), "alice:s3cr3t".into()]);
        assert!(!out.contains("s3cr3t"));
    }

    #[test]
    fn writer_schemas_parse_for_both_decoding_and_connect() -> Result<(), String> {
        let w = WriterSchema::parse(
            r#"{"type":"record","name":"K","namespace":"n","fields":[{"name":"id","type":"long"}]}"#,
        )?;
        assert!(w.connect.is_named("n.K"));
        assert!(matches!(w.avro, apache_avro::Schema::Record(_)));
        Ok(())
    }
}
