//! Debezium's MySQL schemas that do not depend on a table, compiled in from `schemas/*.avsc`
//! (see `schemas/README.md`): the `source` block of every event and the records of the
//! schema-change topic. The per-table parts are built from each table (`table.rs`) around the
//! runtime's envelope.

use tributary_runtime::data::SchemaRef;
use tributary_runtime::fixed_schema;

/// Debezium's MySQL `source` block.
pub fn source() -> SchemaRef {
    fixed_schema!("schemas/io.debezium.connector.mysql.Source.avsc")
}

/// Key of Debezium's MySQL schema-change topic (`<topic.prefix>`).
pub fn schema_change_key() -> SchemaRef {
    fixed_schema!("schemas/io.debezium.connector.mysql.SchemaChangeKey.avsc")
}

/// Value of Debezium's MySQL schema-change topic (`<topic.prefix>`).
pub fn schema_change_value() -> SchemaRef {
    fixed_schema!("schemas/io.debezium.connector.mysql.SchemaChangeValue.avsc")
}

#[cfg(test)]
mod tests {
    use serde_json::Value as Json;
    use tributary_runtime::convert::avro::{avro_schema_from_connect, connect_schema_from_avro};
    use tributary_runtime::data::logical::{self, DBZ_ENUM};
    use tributary_runtime::data::{SchemaBuilder, Type, Value};

    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    const COMPOSITE_VALUE: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/debezium-3.6.3-mysql/PREFIX.refdb.composite-value.v1.avsc"
    ));
    const ALL_TYPES_VALUE_V2: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/debezium-3.6.3-mysql/PREFIX.refdb.all_types-value.v2.avsc"
    ));

    fn opt(b: SchemaBuilder) -> SchemaRef {
        b.optional().build_ref()
    }

    /// Debezium's MySQL `source` block, as its connector builds it in Java.
    fn debeziums_source() -> SchemaRef {
        SchemaBuilder::structure()
            .name("io.debezium.connector.mysql.Source")
            .version(1)
            .field("version", SchemaBuilder::string())
            .field("connector", SchemaBuilder::string())
            .field("name", SchemaBuilder::string())
            .field("ts_ms", SchemaBuilder::int64())
            .field(
                "snapshot",
                logical::debezium(SchemaBuilder::string(), DBZ_ENUM)
                    .parameter("allowed", "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental")
                    .default_value(Value::String("false".into()))
                    .optional(),
            )
            .field("db", SchemaBuilder::string())
            .field("sequence", opt(SchemaBuilder::string()))
            .field("ts_us", opt(SchemaBuilder::int64()))
            .field("ts_ns", opt(SchemaBuilder::int64()))
            .field("table", opt(SchemaBuilder::string()))
            .field("server_id", SchemaBuilder::int64())
            .field("gtid", opt(SchemaBuilder::string()))
            .field("file", SchemaBuilder::string())
            .field("pos", SchemaBuilder::int64())
            .field("row", SchemaBuilder::int32())
            .field("thread", opt(SchemaBuilder::int64()))
            .field("query", opt(SchemaBuilder::string()))
            .build_ref()
    }

    /// The value schema of `refdb.composite` (k1 INT, k2 VARCHAR, v INT NULL), built by hand the
    /// way Debezium builds it.
    fn composite_envelope() -> SchemaRef {
        let row = SchemaBuilder::structure()
            .name("PREFIX.refdb.composite.Value")
            .field("k1", SchemaBuilder::int32())
            .field("k2", SchemaBuilder::string())
            .field("v", opt(SchemaBuilder::int32()))
            .optional()
            .build_ref();
        let transaction = SchemaBuilder::structure()
            .name("event.block")
            .version(1)
            .field("id", SchemaBuilder::string())
            .field("total_order", SchemaBuilder::int64())
            .field("data_collection_order", SchemaBuilder::int64())
            .optional()
            .build_ref();
        SchemaBuilder::structure()
            .name("PREFIX.refdb.composite.Envelope")
            .version(2)
            .field("before", row.clone())
            .field("after", row)
            .field("source", debeziums_source())
            .field("transaction", transaction)
            .field("op", SchemaBuilder::string())
            .field("ts_ms", opt(SchemaBuilder::int64()))
            .field("ts_us", opt(SchemaBuilder::int64()))
            .field("ts_ns", opt(SchemaBuilder::int64()))
            .build_ref()
    }

    #[test]
    fn every_schema_loads_with_its_connect_name() {
        assert!(source().is_named("io.debezium.connector.mysql.Source"));
        assert!(schema_change_key().is_named("io.debezium.connector.mysql.SchemaChangeKey"));
        assert!(schema_change_value().is_named("io.debezium.connector.mysql.SchemaChangeValue"));
    }

    /// `events::source_block` gives the values in this order rather than by name.
    #[test]
    fn source_block_has_debeziums_fields_in_order() {
        let source = source();
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

    #[test]
    fn the_compiled_in_source_block_is_the_one_debeziums_connector_builds() {
        assert_eq!(source(), debeziums_source());
    }

    #[test]
    fn debezium_envelope_translates_to_the_schema_confluent_registered() -> TestResult {
        let expected: Json = serde_json::from_str(COMPOSITE_VALUE)?;
        let ours = avro_schema_from_connect(&composite_envelope())?;
        // Compare the text we would register, re-parsed, so key order counts too.
        let ours: Json = serde_json::from_str(&serde_json::to_string(&ours)?)?;
        assert_eq!(
            serde_json::to_string_pretty(&ours)?,
            serde_json::to_string_pretty(&expected)?
        );
        Ok(())
    }

    #[test]
    fn reference_schemas_read_as_debeziums_connect_schemas() -> TestResult {
        let connect = connect_schema_from_avro(&serde_json::from_str(COMPOSITE_VALUE)?)?;
        assert_eq!(connect, composite_envelope());

        let envelope = connect_schema_from_avro(&serde_json::from_str(ALL_TYPES_VALUE_V2)?)?;
        let row = &envelope.fields[0].schema;
        assert!(row.optional && row.is_named("PREFIX.refdb.all_types.Value"));
        let field = |name: &str| {
            row.field(name)
                .map(|(_, f)| f.schema.clone())
                .ok_or(name.to_owned())
        };
        assert_eq!(field("c_tinyint")?.ty, Type::Int16);
        let decimal = field("c_decimal")?;
        assert!(decimal.is_named(logical::DECIMAL));
        assert_eq!(
            decimal.parameters,
            [
                ("scale".into(), "4".into()),
                ("connect.decimal.precision".into(), "20".into())
            ]
        );
        assert_eq!(
            field("c_added")?.default,
            Some(Value::String("dflt".into()))
        );
        assert_eq!(field("c_geom")?.doc.as_deref(), Some("Geometry"));
        Ok(())
    }
}
