//! A writer schema of the registry, parsed once for decoding and translated to Connect.
//!
//! apache-avro's datum reader resolves the named types of its schema when it is built; built
//! per record, that cost more than decoding a small Debezium event. So each writer schema
//! keeps its reader, which borrows the parsed schema for as long as the process runs: parsed
//! schemas are interned by their text, one per distinct schema ever read (registry ids are
//! immutable, and every converter's cache already keeps its writer schemas forever).
//!
//! Decoding goes through [`super::serde_decode`] where the schema allows, through apache-avro's
//! generic values ([`super::decode`]) otherwise; both give the same Connect value.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::schema::ResolvedSchema;
use apache_avro::types::Value as Avro;
use serde_json::Value as Json;

use super::decode::to_connect_value;
use super::from_avro::connect_schema_from_avro_json;
use super::serde_decode;
use crate::data::{SchemaRef, Value};

pub(crate) struct WriterSchema {
    /// For tests that re-encode what they decoded.
    #[cfg(test)]
    pub avro: &'static apache_avro::Schema,
    reader: GenericDatumReader<'static>,
    pub connect: SchemaRef,
    /// Whether [`serde_decode`] can read this schema's values.
    serde: bool,
}

impl WriterSchema {
    /// Parses a writer schema both for apache-avro (decoding) and for Connect.
    pub(crate) fn parse(text: &str) -> Result<WriterSchema, String> {
        let json: Json = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let avro = interned(text, &json)?;
        let reader = GenericDatumReader::builder(avro)
            .build()
            .map_err(|e| format!("unusable writer schema: {e}"))?;
        let connect = connect_schema_from_avro_json(&json)?;
        let names =
            ResolvedSchema::try_from(avro).map_err(|e| format!("unusable writer schema: {e}"))?;
        let serde = serde_decode::supported(avro, &connect, names.get_names());
        Ok(WriterSchema {
            #[cfg(test)]
            avro,
            reader,
            connect,
            serde,
        })
    }

    /// The Connect value of an Avro body (without the wire-format header) written with this
    /// schema.
    pub(crate) fn to_connect(&self, body: &[u8]) -> Result<Value, String> {
        if !self.serde {
            return to_connect_value(&self.connect, self.decode(body)?);
        }
        serde_decode::decode(&self.reader, body, &self.connect).map_err(not_matching)
    }

    /// Whether values take the [`serde_decode`] path, for tests that mean to cover both.
    #[cfg(test)]
    pub(crate) fn decodes_through_serde(&self) -> bool {
        self.serde
    }

    /// apache-avro's generic value of an Avro body (without the wire-format header) written
    /// with this schema.
    pub(crate) fn decode(&self, mut body: &[u8]) -> Result<Avro, String> {
        self.reader.read_value(&mut body).map_err(not_matching)
    }
}

/// A decoding failure of either path, said alike.
fn not_matching(e: impl std::fmt::Display) -> String {
    format!("Avro data does not match its writer schema: {e}")
}

/// The parsed schema of `text`, parsed once per process.
fn interned(text: &str, json: &Json) -> Result<&'static apache_avro::Schema, String> {
    static SCHEMAS: OnceLock<Mutex<HashMap<String, &'static apache_avro::Schema>>> =
        OnceLock::new();
    let schemas = SCHEMAS.get_or_init(Default::default);
    let mut schemas = schemas
        .lock()
        .map_err(|_| "the writer schema cache was poisoned by a panic".to_owned())?;
    if let Some(found) = schemas.get(text) {
        return Ok(found);
    }
    let parsed =
        apache_avro::Schema::parse(json).map_err(|e| format!("not a valid Avro schema: {e}"))?;
    let parsed: &'static apache_avro::Schema = Box::leak(Box::new(parsed));
    schemas.insert(text.to_owned(), parsed);
    Ok(parsed)
}
