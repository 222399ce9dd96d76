//! Kafka Connect's `StringConverter` and `ByteArrayConverter`: no schema, raw payloads.

use async_trait::async_trait;

use super::{ConvertError, Converter};
use crate::data::{SchemaBuilder, Value};
use crate::record::SchemaAndValue;

pub struct StringConverter;

#[async_trait]
impl Converter for StringConverter {
    async fn from_connect(
        &self,
        topic: &str,
        data: &SchemaAndValue,
    ) -> Result<Option<Vec<u8>>, ConvertError> {
        match &data.value {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(s.as_bytes().to_vec())),
            other => Err(ConvertError::Serialize {
                topic: topic.to_owned(),
                message: format!("StringConverter needs a string, got {other:?}"),
            }),
        }
    }

    async fn to_connect(
        &self,
        topic: &str,
        bytes: Option<&[u8]>,
    ) -> Result<SchemaAndValue, ConvertError> {
        let Some(bytes) = bytes else {
            return Ok(SchemaAndValue::null());
        };
        let text = std::str::from_utf8(bytes).map_err(|e| ConvertError::Deserialize {
            topic: topic.to_owned(),
            message: format!("not UTF-8: {e}"),
        })?;
        Ok(SchemaAndValue::new(
            SchemaBuilder::string().optional().build_ref(),
            Value::String(text.to_owned()),
        ))
    }
}

pub struct ByteArrayConverter;

#[async_trait]
impl Converter for ByteArrayConverter {
    async fn from_connect(
        &self,
        topic: &str,
        data: &SchemaAndValue,
    ) -> Result<Option<Vec<u8>>, ConvertError> {
        match &data.value {
            Value::Null => Ok(None),
            Value::Bytes(b) => Ok(Some(b.clone())),
            other => Err(ConvertError::Serialize {
                topic: topic.to_owned(),
                message: format!("ByteArrayConverter needs bytes, got {other:?}"),
            }),
        }
    }

    async fn to_connect(
        &self,
        _topic: &str,
        bytes: Option<&[u8]>,
    ) -> Result<SchemaAndValue, ConvertError> {
        Ok(match bytes {
            None => SchemaAndValue::null(),
            Some(b) => SchemaAndValue::new(
                SchemaBuilder::bytes().optional().build_ref(),
                Value::Bytes(b.to_vec()),
            ),
        })
    }
}
