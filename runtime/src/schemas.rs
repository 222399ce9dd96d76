//! Fixed Avro schemas: `.avsc` files compiled into the binary and turned into Connect schemas
//! once.
//!
//! Keeping the parts of change-event schemas that do not depend on a table as `.avsc` files
//! (rather than building them in code) means the Avro we register for them is byte-for-byte the
//! file a reviewer can diff against Debezium's. The runtime keeps here only what every source's
//! envelope shares (the transaction block, `schemas/event.block.avsc`); a connector keeps its own
//! (its `source` block, its schema-change records) next to its code, in its own `schemas/`
//! folder, and loads them with [`fixed_schema!`].

use std::path::Path;
use std::sync::OnceLock;

use crate::convert::avro::connect_schema_from_avro;
use crate::data::SchemaRef;

/// The Connect schema of an `.avsc` file next to the calling source file, parsed on first use
/// and shared afterwards:
///
/// ```ignore
/// /// The connector's `source` block.
/// pub fn source() -> SchemaRef {
///     tributary_runtime::fixed_schema!("schemas/com.example.Source.avsc")
/// }
/// ```
///
/// The path is relative to the file that calls the macro, as for `include_str!`. A file that
/// is not a valid Avro schema panics on first use with the file's path: it is a build defect,
/// which the connector's test of its schemas catches, not a runtime condition.
#[macro_export]
macro_rules! fixed_schema {
    ($file:literal) => {{
        static SCHEMA: $crate::schemas::FixedSchema =
            $crate::schemas::FixedSchema::new(file!(), $file, include_str!($file));
        SCHEMA.get()
    }};
}

/// One compiled-in `.avsc` file and its Connect schema, built on first use. Declared by
/// [`fixed_schema!`].
pub struct FixedSchema {
    /// The source file that included it (`file!()`), to name the `.avsc` file in a panic.
    included_by: &'static str,
    /// Its path relative to `included_by`'s folder.
    file: &'static str,
    text: &'static str,
    schema: OnceLock<SchemaRef>,
}

impl FixedSchema {
    pub const fn new(included_by: &'static str, file: &'static str, text: &'static str) -> Self {
        FixedSchema {
            included_by,
            file,
            text,
            schema: OnceLock::new(),
        }
    }

    pub fn get(&self) -> SchemaRef {
        self.schema.get_or_init(|| self.parse()).clone()
    }

    fn parse(&self) -> SchemaRef {
        let path = Path::new(self.included_by)
            .parent()
            .unwrap_or(Path::new(""))
            .join(self.file);
        let path = path.display();
        let json: serde_json::Value = match serde_json::from_str(self.text) {
            Ok(v) => v,
            Err(e) => panic!("{path} is not JSON: {e}"),
        };
        match connect_schema_from_avro(&json) {
            Ok(s) => s,
            Err(e) => panic!("{path} is not a valid Avro schema: {e}"),
        }
    }
}

/// Debezium's transaction block (`event.block`), the `transaction` field of every envelope.
pub fn transaction_block() -> SchemaRef {
    fixed_schema!("schemas/event.block.avsc")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_transaction_block_loads_with_its_connect_name() {
        let block = transaction_block();
        assert!(block.is_named("event.block"));
        let names: Vec<&str> = block.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["id", "total_order", "data_collection_order"]);
    }

    #[test]
    fn a_schema_is_parsed_once_and_shared() {
        assert!(std::sync::Arc::ptr_eq(
            &transaction_block(),
            &transaction_block()
        ));
    }

    #[test]
    #[should_panic(expected = "connectors/src/x/schemas/broken.avsc is not JSON")]
    fn a_file_that_is_not_json_is_named_in_the_panic() {
        FixedSchema::new("connectors/src/x/schemas.rs", "schemas/broken.avsc", "{").get();
    }

    #[test]
    #[should_panic(expected = "connectors/src/x/schemas/odd.avsc is not a valid Avro schema")]
    fn a_file_that_is_not_avro_is_named_in_the_panic() {
        FixedSchema::new(
            "connectors/src/x/schemas.rs",
            "schemas/odd.avsc",
            r#""nope""#,
        )
        .get();
    }
}
