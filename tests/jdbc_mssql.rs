//! The jdbc sink against a real SQL Server, when one is available: set
//! `TRIBUTARY_TEST_MSSQL_URL` (for example
//! `sqlserver://127.0.0.1:1433;databaseName=tempdb;user=sa;password=…;trustServerCertificate=true`).
//! Without it the test passes after saying it was skipped; the generated T-SQL is covered by
//! the unit tests in `connectors/src/jdbc/dialect/tests.rs` either way.

#[path = "support/jdbc.rs"]
mod jdbc_support;
mod support;

use std::time::{Duration, Instant};

use jdbc_support::{sink_config, Feed};
use support::{kafka, start_plain_worker};
use tiberius::{AuthMethod, Client, Config, EncryptionLevel};
use tokio::net::TcpStream;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};
use tributary_connectors::jdbc::url::ConnectionUrl;
use tributary_runtime::data::{logical, SchemaBuilder, Struct, Value};
use tributary_runtime::record::SchemaAndValue;

async fn client(url: &ConnectionUrl) -> Client<Compat<TcpStream>> {
    let mut config = Config::new();
    config.host(&url.host);
    config.port(url.port);
    if let Some(db) = &url.database {
        config.database(db);
    }
    config.authentication(AuthMethod::sql_server(
        url.user.as_deref().unwrap_or("sa"),
        url.password.as_deref().unwrap_or(""),
    ));
    if url
        .property("trustServerCertificate")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    {
        config.trust_cert();
    }
    if url
        .property("encrypt")
        .is_some_and(|v| v.eq_ignore_ascii_case("false"))
    {
        config.encryption(EncryptionLevel::Off);
    }
    let tcp = TcpStream::connect(config.get_addr())
        .await
        .expect("connect to SQL Server");
    tcp.set_nodelay(true).expect("nodelay");
    Client::connect(config, tcp.compat_write())
        .await
        .expect("log in to SQL Server")
}

/// Every row, every value as text; `Err` while the table does not exist yet.
async fn rows(
    client: &mut Client<Compat<TcpStream>>,
    sql: &str,
) -> Result<Vec<Vec<Option<String>>>, String> {
    let result = client
        .simple_query(sql)
        .await
        .map_err(|e| e.to_string())?
        .into_first_result()
        .await
        .map_err(|e| e.to_string())?;
    Ok(result
        .iter()
        .map(|r| {
            (0..r.len())
                .map(|i| r.get::<&str, _>(i).map(str::to_owned))
                .collect()
        })
        .collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upserts_and_deletes_land_in_sql_server() {
    let Ok(url) = std::env::var("TRIBUTARY_TEST_MSSQL_URL") else {
        eprintln!("skipped: TRIBUTARY_TEST_MSSQL_URL is not set");
        return;
    };
    let parsed = ConnectionUrl::parse(&url).expect("TRIBUTARY_TEST_MSSQL_URL parses");
    let mut sql = client(&parsed).await;
    let table = format!(
        "jdbc_test_{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0)
    );
    let kafka = kafka();
    let bootstrap = kafka.bootstrap_servers();
    kafka.create_topic("mssql", 1, 1).expect("topic");
    let dir = tempfile::tempdir().expect("tempdir");
    let json = "org.apache.kafka.connect.json.JsonConverter";
    let sink = sink_config(
        "mssql",
        "mssql",
        &url,
        &[
            ("key.converter", json),
            ("value.converter", json),
            ("insert.mode", "upsert"),
            ("pk.mode", "record_key"),
            ("delete.enabled", "true"),
            ("auto.create", "true"),
            ("table.name.format", &table),
        ],
    );
    let worker = start_plain_worker(&bootstrap, dir.path(), vec![sink]).await;
    let key_schema = SchemaBuilder::structure()
        .field("id", SchemaBuilder::int64().build_ref())
        .build_ref();
    let value_schema = SchemaBuilder::structure()
        .field("id", SchemaBuilder::int64().build_ref())
        .field("select", SchemaBuilder::string().optional().build_ref())
        .field(
            "amount",
            logical::decimal(Some(10), 2).optional().build_ref(),
        )
        .field(
            "at",
            logical::debezium(SchemaBuilder::int64(), logical::DBZ_MICRO_TIMESTAMP)
                .optional()
                .build_ref(),
        )
        .build_ref();
    let key = |id: i64| {
        SchemaAndValue::new(
            key_schema.clone(),
            Value::Struct(Struct::new(key_schema.clone()).with("id", id)),
        )
    };
    let value = |id: i64, name: &str, amount: &str| {
        let row = Struct::new(value_schema.clone())
            .with("id", id)
            .with("select", name)
            .with(
                "amount",
                Value::Bytes(logical::decimal_to_bytes(amount, 2).expect("decimal")),
            )
            .with("at", Value::Int64(946_684_799_123_456));
        SchemaAndValue::new(value_schema.clone(), Value::Struct(row))
    };
    let feed = Feed::json(&bootstrap, true);
    for (k, v) in [
        (key(1), value(1, "ann", "1.50")),
        (key(2), value(2, "bob", "-2.25")),
        (key(3), value(3, "cy", "3.00")),
        (key(2), value(2, "bob2", "20.00")),
        (key(3), SchemaAndValue::null()),
    ] {
        feed.send("mssql", None, &k, &v).await;
    }
    let query = format!(
        "SELECT CAST(id AS NVARCHAR(20)), [select], CAST(amount AS NVARCHAR(40)), \
         CONVERT(NVARCHAR(40), [at], 126) FROM [{table}] ORDER BY id"
    );
    let s = |v: &str| Some(v.to_owned());
    let expected = vec![
        vec![s("1"), s("ann"), s("1.50"), s("1999-12-31T23:59:59.123456")],
        vec![
            s("2"),
            s("bob2"),
            s("20.00"),
            s("1999-12-31T23:59:59.123456"),
        ],
    ];
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let got = rows(&mut sql, &query).await;
        if got.as_ref() == Ok(&expected) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for the rows in SQL Server: expected {expected:?}, got {got:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    worker.shutdown().await;
    let _ = sql.simple_query(format!("DROP TABLE [{table}]")).await;
}
