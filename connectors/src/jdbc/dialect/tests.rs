//! The generated SQL, statement by statement, for each dialect. SQL Server cannot run on our
//! machines, so these are its main tests.

use super::*;
use crate::jdbc::cell::Cell;
use crate::jdbc::types::TimeUnit;

fn col(name: &str, kind: ColumnKind, optional: bool) -> ColumnDef {
    ColumnDef {
        name: name.to_owned(),
        kind,
        optional,
    }
}

fn customers() -> (TableId, Vec<ColumnDef>) {
    (
        TableId::new(Some("shop"), "customers"),
        vec![
            col("id", ColumnKind::Int64, false),
            col("name", ColumnKind::Text, true),
            col(
                "balance",
                ColumnKind::Decimal {
                    precision: Some(12),
                    scale: 2,
                },
                true,
            ),
        ],
    )
}

#[test]
fn identifiers_are_quoted_with_the_quote_doubled() {
    assert_eq!(Dialect::MySql.quote("select"), "`select`");
    assert_eq!(Dialect::MySql.quote("a`b"), "`a``b`");
    assert_eq!(Dialect::Postgres.quote("a\"b"), "\"a\"\"b\"");
    assert_eq!(Dialect::SqlServer.quote("a]b[c"), "[a]]b[c]");
    // A name crafted to close the quote and inject stays one identifier.
    let evil = "x`); DROP TABLE t; --";
    assert_eq!(Dialect::MySql.quote(evil), "`x``); DROP TABLE t; --`");
    assert_eq!(
        Dialect::Postgres.table(&TableId::new(Some("s\"x"), "t")),
        "\"s\"\"x\".\"t\""
    );
}

#[test]
fn create_table_declares_the_key_and_nullability() {
    let (table, columns) = customers();
    let shape = Shape {
        table: &table,
        columns: &columns,
        pk: &[0],
    };
    assert_eq!(
        Dialect::MySql.create_table(shape),
        "CREATE TABLE IF NOT EXISTS `shop`.`customers` (\n  `id` BIGINT NOT NULL,\n  `name` LONGTEXT NULL,\n  `balance` DECIMAL(12,2) NULL,\n  PRIMARY KEY (`id`)\n)"
    );
    assert_eq!(
        Dialect::Postgres.create_table(shape),
        "CREATE TABLE IF NOT EXISTS \"shop\".\"customers\" (\n  \"id\" BIGINT NOT NULL,\n  \"name\" TEXT NULL,\n  \"balance\" NUMERIC(12,2) NULL,\n  PRIMARY KEY (\"id\")\n)"
    );
    assert_eq!(
        Dialect::SqlServer.create_table(shape),
        "IF OBJECT_ID(N'[shop].[customers]', N'U') IS NULL CREATE TABLE [shop].[customers] (\n  [id] BIGINT NOT NULL,\n  [name] NVARCHAR(MAX) NULL,\n  [balance] DECIMAL(12,2) NULL,\n  PRIMARY KEY ([id])\n)"
    );
}

#[test]
fn key_columns_get_indexable_types() {
    assert_eq!(
        Dialect::MySql.column_type(&ColumnKind::Text, true),
        "VARCHAR(255)"
    );
    assert_eq!(
        Dialect::MySql.column_type(&ColumnKind::Bytes, true),
        "VARBINARY(255)"
    );
    assert_eq!(
        Dialect::SqlServer.column_type(&ColumnKind::Text, true),
        "NVARCHAR(450)"
    );
    assert_eq!(
        Dialect::Postgres.column_type(&ColumnKind::Text, true),
        "TEXT"
    );
}

#[test]
fn every_mysql_source_type_has_a_column_type_in_each_dialect() {
    let kinds = [
        (ColumnKind::Int16, "SMALLINT", "SMALLINT", "SMALLINT"),
        (ColumnKind::Int32, "INT", "INTEGER", "INT"),
        (ColumnKind::Int64, "BIGINT", "BIGINT", "BIGINT"),
        (ColumnKind::Float32, "FLOAT", "REAL", "REAL"),
        (ColumnKind::Float64, "DOUBLE", "DOUBLE PRECISION", "FLOAT"),
        (ColumnKind::Boolean, "BOOLEAN", "BOOLEAN", "BIT"),
        (
            ColumnKind::Decimal {
                precision: Some(20),
                scale: 4,
            },
            "DECIMAL(20,4)",
            "NUMERIC(20,4)",
            "DECIMAL(20,4)",
        ),
        (ColumnKind::Date, "DATE", "DATE", "DATE"),
        (
            ColumnKind::Duration(TimeUnit::Micros),
            "TIME(6)",
            "INTERVAL",
            "TIME(6)",
        ),
        (
            ColumnKind::Timestamp(TimeUnit::Millis),
            "DATETIME(3)",
            "TIMESTAMP(3)",
            "DATETIME2(3)",
        ),
        (
            ColumnKind::Timestamp(TimeUnit::Micros),
            "DATETIME(6)",
            "TIMESTAMP(6)",
            "DATETIME2(6)",
        ),
        (
            ColumnKind::ZonedTimestamp,
            "DATETIME(6)",
            "TIMESTAMPTZ(6)",
            "DATETIMEOFFSET(6)",
        ),
        (ColumnKind::Year, "YEAR", "INTEGER", "INT"),
        (
            ColumnKind::Enum(vec!["red".into(), "it's".into()]),
            "ENUM('red','it''s')",
            "TEXT",
            "NVARCHAR(255)",
        ),
        (
            ColumnKind::EnumSet(vec!["a".into(), "b".into()]),
            "SET('a','b')",
            "TEXT",
            "NVARCHAR(MAX)",
        ),
        (
            ColumnKind::Bits(Some(12)),
            "BIT(12)",
            "BIT(12)",
            "VARBINARY(MAX)",
        ),
        (ColumnKind::Json, "JSON", "JSON", "NVARCHAR(MAX)"),
        (ColumnKind::Geometry, "LONGBLOB", "BYTEA", "VARBINARY(MAX)"),
        (ColumnKind::Bytes, "LONGBLOB", "BYTEA", "VARBINARY(MAX)"),
    ];
    for (kind, my, pg, ms) in kinds {
        assert_eq!(Dialect::MySql.column_type(&kind, false), my, "{kind:?}");
        assert_eq!(Dialect::Postgres.column_type(&kind, false), pg, "{kind:?}");
        assert_eq!(Dialect::SqlServer.column_type(&kind, false), ms, "{kind:?}");
    }
}

#[test]
fn enum_values_that_cannot_be_literals_fall_back_to_varchar() {
    let kind = ColumnKind::Enum(vec!["a\\".into()]);
    assert_eq!(Dialect::MySql.column_type(&kind, false), "VARCHAR(255)");
}

#[test]
fn mysql_upserts_are_one_multi_row_statement() {
    let (table, columns) = customers();
    let shape = Shape {
        table: &table,
        columns: &columns,
        pk: &[0],
    };
    assert_eq!(
        mysql::insert(shape, 2, InsertMode::Upsert),
        "INSERT INTO `shop`.`customers` (`id`,`name`,`balance`) VALUES (?,?,?),(?,?,?) \
         ON DUPLICATE KEY UPDATE `name`=VALUES(`name`),`balance`=VALUES(`balance`)"
    );
    assert_eq!(
        mysql::insert(shape, 1, InsertMode::Insert),
        "INSERT INTO `shop`.`customers` (`id`,`name`,`balance`) VALUES (?,?,?)"
    );
    assert_eq!(
        mysql::update(shape).as_deref(),
        Some("UPDATE `shop`.`customers` SET `name`=?,`balance`=? WHERE `id`=?")
    );
    assert_eq!(
        mysql::delete(shape, 3),
        "DELETE FROM `shop`.`customers` WHERE `id` IN (?,?,?)"
    );
}

#[test]
fn mysql_composite_and_key_only_tables() {
    let table = TableId::new(None, "pairs");
    let columns = vec![
        col("k1", ColumnKind::Int32, false),
        col("k2", ColumnKind::Text, false),
    ];
    let shape = Shape {
        table: &table,
        columns: &columns,
        pk: &[0, 1],
    };
    assert_eq!(
        mysql::delete(shape, 2),
        "DELETE FROM `pairs` WHERE (`k1`=? AND `k2`=?) OR (`k1`=? AND `k2`=?)"
    );
    assert_eq!(
        mysql::insert(shape, 1, InsertMode::Upsert),
        "INSERT INTO `pairs` (`k1`,`k2`) VALUES (?,?) ON DUPLICATE KEY UPDATE `k1`=`k1`"
    );
    assert_eq!(mysql::update(shape), None);
}

#[test]
fn postgres_stages_copies_and_merges() {
    let (table, columns) = customers();
    let shape = Shape {
        table: &table,
        columns: &columns,
        pk: &[0],
    };
    assert_eq!(
        postgres::create_stage("st", shape),
        "CREATE TEMP TABLE \"st\" ON COMMIT DELETE ROWS AS SELECT \"id\", \"name\", \"balance\" FROM \"shop\".\"customers\" WITH NO DATA"
    );
    assert_eq!(
        postgres::copy_into_stage("st", shape),
        "COPY pg_temp.\"st\" (\"id\", \"name\", \"balance\") FROM STDIN"
    );
    assert_eq!(
        postgres::copy_into_table(shape),
        "COPY \"shop\".\"customers\" (\"id\", \"name\", \"balance\") FROM STDIN"
    );
    assert_eq!(
        postgres::merge("st", shape, InsertMode::Upsert),
        "INSERT INTO \"shop\".\"customers\" (\"id\", \"name\", \"balance\") SELECT \"id\", \"name\", \"balance\" FROM pg_temp.\"st\" \
         ON CONFLICT (\"id\") DO UPDATE SET \"name\" = EXCLUDED.\"name\", \"balance\" = EXCLUDED.\"balance\""
    );
    assert_eq!(
        postgres::merge("st", shape, InsertMode::Update),
        "UPDATE \"shop\".\"customers\" AS t SET \"name\" = s.\"name\", \"balance\" = s.\"balance\" FROM pg_temp.\"st\" AS s WHERE t.\"id\" = s.\"id\""
    );
    let key = [columns[0].clone()];
    let key_shape = Shape {
        table: &table,
        columns: &key,
        pk: &[0],
    };
    assert_eq!(
        postgres::delete("sd", key_shape),
        "DELETE FROM \"shop\".\"customers\" AS t USING pg_temp.\"sd\" AS s WHERE t.\"id\" = s.\"id\""
    );
}

#[test]
fn postgres_copy_text_escapes_everything_copy_would_misread() {
    let mut out = Vec::new();
    let cells = [
        Cell::Int(1),
        Cell::Text("tab\there\nnew\\line".into()),
        Cell::Null,
        Cell::Bytes(vec![0, 0xff]),
        Cell::Bool(true),
        Cell::Float64(-2.5e300),
        Cell::Float64(f64::NAN),
        Cell::Date(19_782),
        Cell::Duration(-45_296_000_000),
        Cell::Timestamp(946_684_799_123_456),
        Cell::TimestampTz(0),
        Cell::Bits(vec![0xaa, 0x0a], Some(12)),
    ];
    let refs: Vec<&Cell> = cells.iter().collect();
    postgres::copy_row(&mut out, &refs);
    assert_eq!(
        String::from_utf8(out).expect("utf8"),
        "1\ttab\\there\\nnew\\\\line\t\\N\t\\\\x00ff\tt\t-2.5e300\tNaN\t2024-02-29\t-12:34:56.000000\t\
         1999-12-31 23:59:59.123456\t1970-01-01 00:00:00.000000+00\t101010101010\n"
    );
}

#[test]
fn sqlserver_upsert_is_a_merge_over_cast_parameters() {
    let (table, columns) = customers();
    let shape = Shape {
        table: &table,
        columns: &columns,
        pk: &[0],
    };
    assert_eq!(
        sqlserver::write(shape, 2, InsertMode::Upsert),
        "MERGE INTO [shop].[customers] WITH (HOLDLOCK) AS T\n\
         USING (VALUES\n  \
         (CAST(@P1 AS BIGINT), CAST(@P2 AS NVARCHAR(MAX)), CAST(@P3 AS DECIMAL(12,2))),\n  \
         (CAST(@P4 AS BIGINT), CAST(@P5 AS NVARCHAR(MAX)), CAST(@P6 AS DECIMAL(12,2)))\n\
         ) AS S ([id], [name], [balance])\n\
         ON (T.[id] = S.[id])\n\
         WHEN MATCHED THEN UPDATE SET T.[name] = S.[name], T.[balance] = S.[balance]\n\
         WHEN NOT MATCHED THEN INSERT ([id], [name], [balance]) VALUES (S.[id], S.[name], S.[balance]);"
    );
    assert_eq!(
        sqlserver::write(shape, 1, InsertMode::Update),
        "MERGE INTO [shop].[customers] WITH (HOLDLOCK) AS T\n\
         USING (VALUES\n  \
         (CAST(@P1 AS BIGINT), CAST(@P2 AS NVARCHAR(MAX)), CAST(@P3 AS DECIMAL(12,2)))\n\
         ) AS S ([id], [name], [balance])\n\
         ON (T.[id] = S.[id])\n\
         WHEN MATCHED THEN UPDATE SET T.[name] = S.[name], T.[balance] = S.[balance];"
    );
    assert_eq!(
        sqlserver::write(shape, 1, InsertMode::Insert),
        "INSERT INTO [shop].[customers] ([id], [name], [balance]) VALUES\n  \
         (CAST(@P1 AS BIGINT), CAST(@P2 AS NVARCHAR(MAX)), CAST(@P3 AS DECIMAL(12,2)));"
    );
}

#[test]
fn sqlserver_deletes_and_offsets() {
    let table = TableId::new(None, "pairs");
    let columns = vec![
        col("k1", ColumnKind::Int32, false),
        col("k2", ColumnKind::Text, false),
    ];
    let shape = Shape {
        table: &table,
        columns: &columns,
        pk: &[0, 1],
    };
    assert_eq!(
        sqlserver::delete(shape, 2),
        "DELETE FROM [pairs] WHERE ([k1] = CAST(@P1 AS INT) AND [k2] = CAST(@P2 AS NVARCHAR(450))) \
         OR ([k1] = CAST(@P3 AS INT) AND [k2] = CAST(@P4 AS NVARCHAR(450)));"
    );
    let offsets = TableId::new(None, "__tributary_sink_offsets");
    assert_eq!(
        Dialect::SqlServer.update_offset(&offsets),
        "UPDATE [__tributary_sink_offsets] SET next_offset = @P1 WHERE connector = @P2 AND topic = @P3 \
         AND kafka_partition = @P4 AND next_offset = @P5"
    );
    assert!(Dialect::SqlServer
        .create_offsets_table(&offsets)
        .starts_with("IF OBJECT_ID(N'[__tributary_sink_offsets]', N'U') IS NULL CREATE TABLE"));
    assert_eq!(
        Dialect::SqlServer.add_column(&table, &col("c", ColumnKind::Date, false)),
        "ALTER TABLE [pairs] ADD [c] DATE NULL"
    );
}

#[test]
fn a_quote_in_a_sqlserver_object_name_cannot_end_the_literal() {
    let table = TableId::new(None, "it's");
    let columns = vec![col("id", ColumnKind::Int32, false)];
    let sql = Dialect::SqlServer.create_table(Shape {
        table: &table,
        columns: &columns,
        pk: &[0],
    });
    assert!(
        sql.starts_with("IF OBJECT_ID(N'[it''s]', N'U') IS NULL"),
        "{sql}"
    );
}

#[test]
fn statements_stay_within_each_databases_parameter_limit() {
    assert_eq!(Dialect::MySql.rows_per_statement(3000, 6), 3000);
    assert_eq!(Dialect::MySql.rows_per_statement(3000, 40), 1638);
    assert_eq!(Dialect::SqlServer.rows_per_statement(3000, 6), 333);
    assert_eq!(Dialect::SqlServer.rows_per_statement(3000, 1), 1000);
    assert_eq!(Dialect::Postgres.rows_per_statement(3000, 500), 3000);
    assert_eq!(Dialect::MySql.rows_per_statement(10, 100_000), 1);
}
