//! The `source` block of datagen's events, compiled in from
//! `schemas/io.tributary.connector.datagen.Source.avsc`: Debezium's common fields (`version`,
//! `connector`, `name`, `ts_ms`, `db`, `table`) and `seq`, the event's number in the sequence.

use tributary_runtime::data::SchemaRef;
use tributary_runtime::fixed_schema;

/// The `source` block of every event.
pub fn source() -> SchemaRef {
    fixed_schema!("schemas/io.tributary.connector.datagen.Source.avsc")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_source_block_loads_with_its_connect_name() {
        let source = source();
        assert!(source.is_named("io.tributary.connector.datagen.Source"));
        let names: Vec<&str> = source.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "version",
                "connector",
                "name",
                "ts_ms",
                "db",
                "table",
                "seq"
            ]
        );
    }
}
