//! Support for the jdbc sink's end-to-end tests: a private database (MariaDB database or
//! PostgreSQL schema) per test, a producer that writes Connect data through the runtime's own
//! converters (Avro through the worker's registry, or JSON), Debezium change events, and
//! bounded waits on the target's state that show what they last saw.
//!
//! Included by the `jdbc_*` tests with `#[path = "support/jdbc.rs"] mod jdbc_support;`; it
//! does not depend on `support` (the other tests' helpers), so those stay independent.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use tributary_connectors::mysql::schemas;
use tributary_runtime::config::ConfigMap;
use tributary_runtime::convert::{self, Converter, Side};
use tributary_runtime::data::{SchemaBuilder, SchemaRef, Struct, Value};
use tributary_runtime::envelope::{EventTime, Op, TableSchemas};
use tributary_runtime::record::SchemaAndValue;

pub fn mariadb_base() -> String {
    std::env::var("TRIBUTARY_TEST_MARIADB_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3317".to_owned())
        .trim_end_matches('/')
        .to_owned()
}

pub fn postgres_base() -> String {
    std::env::var("TRIBUTARY_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn uniq() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64 ^ d.as_secs())
        .unwrap_or(0);
    (nanos % 1_000_000) * 100 + N.fetch_add(1, Ordering::Relaxed) % 100
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    MariaDb,
    Postgres,
}

enum Admin {
    My(mysql_async::Conn),
    Pg(tokio_postgres::Client),
}

/// A database (MariaDB) or schema (PostgreSQL) of its own for one test, dropped by
/// [`TestDb::drop`].
pub struct TestDb {
    pub kind: Kind,
    pub name: String,
    /// `connection.url` for the sink.
    pub url: String,
    admin: Admin,
}

impl TestDb {
    pub async fn new(kind: Kind, label: &str) -> TestDb {
        match kind {
            Kind::MariaDb => TestDb::mariadb_at(&mariadb_base(), label).await,
            Kind::Postgres => TestDb::postgres(label).await,
        }
    }

    /// A fresh database on the MariaDB server at `base` (`mysql://user@host:port`).
    pub async fn mariadb_at(base: &str, label: &str) -> TestDb {
        let name = format!("jdbc_{label}_{}", uniq());
        let mut conn = mysql_async::Conn::from_url(base)
            .await
            .unwrap_or_else(|e| panic!("MariaDB at {base} (scripts/test.sh starts it): {e}"));
        conn.query_drop(format!("CREATE DATABASE `{name}`"))
            .await
            .expect("create database");
        conn.query_drop(format!("USE `{name}`"))
            .await
            .expect("use database");
        TestDb {
            kind: Kind::MariaDb,
            url: format!("{base}/{name}"),
            name,
            admin: Admin::My(conn),
        }
    }

    pub async fn postgres(label: &str) -> TestDb {
        let base = postgres_base();
        let name = format!("jdbc_{label}_{}", uniq());
        let (client, connection) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {base}: {e}"));
        tokio::spawn(connection);
        client
            .batch_execute(&format!(
                "CREATE SCHEMA \"{name}\"; SET search_path TO \"{name}\""
            ))
            .await
            .expect("create schema");
        let sep = if base.contains('?') { '&' } else { '?' };
        TestDb {
            kind: Kind::Postgres,
            url: format!("{base}{sep}currentSchema={name}"),
            name,
            admin: Admin::Pg(client),
        }
    }

    /// An identifier quoted for this database.
    pub fn q(&self, ident: &str) -> String {
        match self.kind {
            Kind::MariaDb => format!("`{}`", ident.replace('`', "``")),
            Kind::Postgres => format!("\"{}\"", ident.replace('"', "\"\"")),
        }
    }

    pub async fn exec(&mut self, sql: &str) {
        let r = match &mut self.admin {
            Admin::My(c) => c.query_drop(sql).await.map_err(|e| e.to_string()),
            Admin::Pg(c) => c.batch_execute(sql).await.map_err(|e| e.to_string()),
        };
        if let Err(e) = r {
            panic!("{sql}: {e}");
        }
    }

    /// Every row of a query, every value as text (None for NULL); `Err` with the database's
    /// message (a table that does not exist yet, …).
    pub async fn try_rows(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, String> {
        match &mut self.admin {
            Admin::My(c) => {
                let rows: Vec<mysql_async::Row> = c.query(sql).await.map_err(|e| e.to_string())?;
                Ok(rows
                    .into_iter()
                    .map(|r| {
                        r.unwrap()
                            .into_iter()
                            .map(|v| match v {
                                mysql_async::Value::NULL => None,
                                mysql_async::Value::Bytes(b) => {
                                    Some(String::from_utf8_lossy(&b).into_owned())
                                }
                                other => Some(other.as_sql(true)),
                            })
                            .collect()
                    })
                    .collect())
            }
            Admin::Pg(c) => {
                let messages = c.simple_query(sql).await.map_err(|e| e.to_string())?;
                Ok(messages
                    .into_iter()
                    .filter_map(|m| match m {
                        tokio_postgres::SimpleQueryMessage::Row(r) => {
                            Some((0..r.len()).map(|i| r.get(i).map(str::to_owned)).collect())
                        }
                        _ => None,
                    })
                    .collect())
            }
        }
    }

    pub async fn rows(&mut self, sql: &str) -> Vec<Vec<Option<String>>> {
        self.try_rows(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    pub async fn scalar(&mut self, sql: &str) -> Option<String> {
        self.rows(sql)
            .await
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next().flatten())
    }

    /// Polls `sql` until it returns `expected`, or panics after `timeout` with the last answer.
    pub async fn wait_rows(
        &mut self,
        what: &str,
        sql: &str,
        expected: &[&[Option<&str>]],
        timeout: Duration,
    ) {
        let expected: Vec<Vec<Option<String>>> = expected
            .iter()
            .map(|r| r.iter().map(|v| v.map(str::to_owned)).collect())
            .collect();
        let deadline = Instant::now() + timeout;
        loop {
            let got = self.try_rows(sql).await;
            if got.as_ref() == Ok(&expected) {
                return;
            }
            if Instant::now() >= deadline {
                panic!(
                    "timed out after {timeout:?} waiting for {what}\n  query: {sql}\n  expected: {expected:?}\n  last answer: {got:?}"
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn drop(mut self) {
        let sql = match self.kind {
            Kind::MariaDb => format!("DROP DATABASE IF EXISTS `{}`", self.name),
            Kind::Postgres => format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.name),
        };
        self.exec(&sql).await;
    }
}

/// Writes Connect data to Kafka through the runtime's converters, as a source connector would.
pub struct Feed {
    producer: FutureProducer,
    key: Arc<dyn Converter>,
    value: Arc<dyn Converter>,
}

impl Feed {
    /// Avro in Confluent's wire format through the registry at `registry`.
    pub fn avro(bootstrap: &str, registry: &str) -> Feed {
        let avro = "io.confluent.connect.avro.AvroConverter";
        Feed::new(
            bootstrap,
            &[("key.converter", avro), ("value.converter", avro)],
            Some(registry),
        )
    }

    /// JSON with schemas (`schemas.enable=true`) or without.
    pub fn json(bootstrap: &str, schemas: bool) -> Feed {
        let json = "org.apache.kafka.connect.json.JsonConverter";
        let enable = if schemas { "true" } else { "false" };
        Feed::new(
            bootstrap,
            &[
                ("key.converter", json),
                ("value.converter", json),
                ("key.converter.schemas.enable", enable),
                ("value.converter.schemas.enable", enable),
            ],
            None,
        )
    }

    fn new(bootstrap: &str, settings: &[(&str, &str)], registry: Option<&str>) -> Feed {
        let config: ConfigMap = settings
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Feed {
            producer: ClientConfig::new()
                .set("bootstrap.servers", bootstrap)
                .set("linger.ms", "5")
                .create()
                .expect("producer"),
            key: convert::build(Side::Key, &config, registry).expect("key converter"),
            value: convert::build(Side::Value, &config, registry).expect("value converter"),
        }
    }

    pub async fn send(
        &self,
        topic: &str,
        partition: Option<i32>,
        key: &SchemaAndValue,
        value: &SchemaAndValue,
    ) {
        let key = self
            .key
            .from_connect(topic, key)
            .await
            .expect("key converts");
        let value = self
            .value
            .from_connect(topic, value)
            .await
            .expect("value converts");
        self.send_raw(topic, partition, key.as_deref(), value.as_deref())
            .await;
    }

    /// Sends many records at once (pipelined), returning when Kafka acknowledged all of them.
    pub async fn send_all(
        &self,
        topic: &str,
        records: &[(Option<i32>, SchemaAndValue, SchemaAndValue)],
    ) {
        let mut pending = Vec::with_capacity(records.len());
        for (partition, key, value) in records {
            let key = self
                .key
                .from_connect(topic, key)
                .await
                .expect("key converts");
            let value = self
                .value
                .from_connect(topic, value)
                .await
                .expect("value converts");
            let mut record: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(topic);
            if let Some(p) = partition {
                record = record.partition(*p);
            }
            if let Some(k) = key.as_deref() {
                record = record.key(k);
            }
            if let Some(v) = value.as_deref() {
                record = record.payload(v);
            }
            let delivery = self
                .producer
                .send_result(record)
                .map_err(|(e, _)| e)
                .expect("enqueue");
            pending.push(delivery);
        }
        for delivery in pending {
            delivery
                .await
                .expect("delivery report")
                .map_err(|(e, _)| e)
                .expect("produce");
        }
    }

    pub async fn send_raw(
        &self,
        topic: &str,
        partition: Option<i32>,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
    ) {
        let mut record: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(topic);
        if let Some(p) = partition {
            record = record.partition(p);
        }
        if let Some(k) = key {
            record = record.key(k);
        }
        if let Some(v) = value {
            record = record.payload(v);
        }
        self.producer
            .send(record, Duration::from_secs(10))
            .await
            .map_err(|(e, _)| e)
            .expect("produce");
    }
}

/// A captured table: Debezium's key, row and envelope schemas and its topic
/// (`<prefix>.<db>.<table>`).
pub struct Table {
    pub schemas: TableSchemas,
    pub prefix: String,
    pub db: String,
    pub table: String,
    key_fields: Vec<String>,
}

impl Table {
    pub fn new(
        prefix: &str,
        db: &str,
        table: &str,
        key: &[&str],
        fields: &[(&str, SchemaRef)],
    ) -> Table {
        let fields: Vec<(String, SchemaRef)> = fields
            .iter()
            .map(|(n, s)| ((*n).to_owned(), s.clone()))
            .collect();
        let key_fields: Vec<(String, SchemaRef)> = key
            .iter()
            .filter_map(|k| fields.iter().find(|(n, _)| n == k).cloned())
            .collect();
        Table {
            schemas: TableSchemas::new(
                &format!("{prefix}.{db}.{table}"),
                &key_fields,
                &fields,
                schemas::source(),
            ),
            prefix: prefix.to_owned(),
            db: db.to_owned(),
            table: table.to_owned(),
            key_fields: key.iter().map(|k| (*k).to_owned()).collect(),
        }
    }

    pub fn topic(&self) -> String {
        format!("{}.{}.{}", self.prefix, self.db, self.table)
    }

    pub fn row(&self, values: &[(&str, Value)]) -> Struct {
        let mut row = Struct::new(self.schemas.row.clone());
        for (name, value) in values {
            assert!(row.put(name, value.clone()), "no field {name}");
        }
        row
    }

    pub fn key_of(&self, row: &Struct) -> SchemaAndValue {
        match &self.schemas.key {
            Some(schema) => {
                let mut key = Struct::new(schema.clone());
                for name in &self.key_fields {
                    key.put(name, row.get(name).cloned().unwrap_or(Value::Null));
                }
                SchemaAndValue::new(schema.clone(), Value::Struct(key))
            }
            None => SchemaAndValue::null(),
        }
    }

    fn source(&self) -> Struct {
        let mut s = Struct::new(schemas::source());
        for (k, v) in [
            ("version", Value::from("3.6.3.Final")),
            ("connector", Value::from("mysql")),
            ("name", Value::from(self.prefix.as_str())),
            ("ts_ms", Value::Int64(0)),
            ("db", Value::from(self.db.as_str())),
            ("table", Value::from(self.table.as_str())),
            ("server_id", Value::Int64(1)),
            ("file", Value::from("binlog.000001")),
            ("pos", Value::Int64(4)),
            ("row", Value::Int32(0)),
        ] {
            s.put(k, v);
        }
        s
    }

    /// The (key, value) of a change event.
    pub fn event(
        &self,
        op: Op,
        before: Option<Struct>,
        after: Option<Struct>,
    ) -> (SchemaAndValue, SchemaAndValue) {
        let key_row = after.as_ref().or(before.as_ref()).cloned();
        let key = key_row
            .map(|r| self.key_of(&r))
            .unwrap_or_else(SchemaAndValue::null);
        let value = self.schemas.envelope(
            op,
            before,
            after,
            self.source(),
            None,
            EventTime { nanos: 0 },
        );
        (
            key,
            SchemaAndValue::new(self.schemas.envelope.clone(), value),
        )
    }

    /// A delete event followed by its tombstone, as Debezium emits them.
    pub fn delete(&self, before: Struct) -> [(SchemaAndValue, SchemaAndValue); 2] {
        let (key, value) = self.event(Op::Delete, Some(before), None);
        [(key.clone(), value), (key, SchemaAndValue::null())]
    }
}

/// The sink's connector config: name, class, topics, URL, plus `extra`.
pub fn sink_config(name: &str, topics: &str, url: &str, extra: &[(&str, &str)]) -> ConfigMap {
    let mut c: ConfigMap = [
        ("name", name),
        ("connector.class", "jdbc-sink"),
        ("topics", topics),
        ("connection.url", url),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    for (k, v) in extra {
        c.insert((*k).to_owned(), (*v).to_owned());
    }
    c
}

/// A sink of the JSON tests' `accounts` topic: plain rows (JSON with schemas) upserted by
/// their `id` field, plus `extra`.
pub fn accounts_sink(name: &str, url: &str, extra: &[(&str, &str)]) -> ConfigMap {
    let json = "org.apache.kafka.connect.json.JsonConverter";
    let mut pairs = vec![
        ("key.converter", json),
        ("value.converter", json),
        ("insert.mode", "upsert"),
        ("pk.mode", "record_value"),
        ("pk.fields", "id"),
    ];
    pairs.extend_from_slice(extra);
    sink_config(name, "accounts", url, &pairs)
}

/// A plain (not Debezium) row of the `accounts` table the JSON tests write.
pub fn account(id: i64, name: &str, balance: i32) -> SchemaAndValue {
    let schema = SchemaBuilder::structure()
        .name("accounts")
        .field("id", SchemaBuilder::int64().build_ref())
        .field("name", SchemaBuilder::string().build_ref())
        .field("balance", SchemaBuilder::int32().build_ref())
        .build_ref();
    SchemaAndValue::new(
        schema.clone(),
        Value::Struct(
            Struct::new(schema)
                .with("id", id)
                .with("name", name)
                .with("balance", balance),
        ),
    )
}
