//! The fixed Avro schemas of `schemas/`, compiled in and turned into Connect schemas once.
//!
//! Keeping them as `.avsc` files (rather than building them in code) means the Avro we register
//! for these parts is byte-for-byte the file a reviewer can diff against Debezium's.

use std::sync::OnceLock;

use crate::convert::avro::connect_schema_from_avro;
use crate::data::SchemaRef;

macro_rules! fixed_schema {
    ($(#[$doc:meta])* $fn_name:ident, $file:literal) => {
        $(#[$doc])*
        pub fn $fn_name() -> SchemaRef {
            static CELL: OnceLock<SchemaRef> = OnceLock::new();
            CELL.get_or_init(|| {
                let text = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../schemas/", $file));
                parse(text, $file)
            })
            .clone()
        }
    };
}

/// A compiled-in schema that fails to parse is a build defect caught by the tests below, not a
/// runtime condition, so this panics with the file name.
fn parse(text: &str, file: &str) -> SchemaRef {
    let json: serde_json::Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => panic!("schemas/{file} is not JSON: {e}"),
    };
    match connect_schema_from_avro(&json) {
        Ok(s) => s,
        Err(e) => panic!("schemas/{file} is not a valid Avro schema: {e}"),
    }
}

fixed_schema!(
    /// Debezium's MySQL `source` block.
    mysql_source, "io.debezium.connector.mysql.Source.avsc");
fixed_schema!(
    /// Debezium's transaction block (`event.block`).
    transaction_block, "event.block.avsc");
fixed_schema!(
    /// Key of Debezium's MySQL schema-change topic.
    mysql_schema_change_key, "io.debezium.connector.mysql.SchemaChangeKey.avsc");
fixed_schema!(
    /// Value of Debezium's MySQL schema-change topic.
    mysql_schema_change_value, "io.debezium.connector.mysql.SchemaChangeValue.avsc");
fixed_schema!(
    /// `source` block of the demo `datagen` connector.
    datagen_source, "io.tributary.connector.datagen.Source.avsc");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fixed_schema_loads_with_its_connect_name() {
        assert!(mysql_source().is_named("io.debezium.connector.mysql.Source"));
        assert!(transaction_block().is_named("event.block"));
        assert!(mysql_schema_change_key().is_named("io.debezium.connector.mysql.SchemaChangeKey"));
        assert!(
            mysql_schema_change_value().is_named("io.debezium.connector.mysql.SchemaChangeValue")
        );
        assert!(datagen_source().is_named("io.tributary.connector.datagen.Source"));
    }

    #[test]
    fn mysql_source_block_has_debeziums_fields_in_order() {
        let source = mysql_source();
        let names: Vec<&str> = source.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "version",
                "connector",
                "name",
                "ts_ms",
                "snapshot",
                "db",
                "sequence",
                "ts_us",
                "ts_ns",
                "table",
                "server_id",
                "gtid",
                "file",
                "pos",
                "row",
                "thread",
                "query"
            ]
        );
    }
}
