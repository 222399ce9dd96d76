//! The source database's workload: three tables (one with a composite key) changed by a
//! steady stream of inserts, updates, deletes and multi-statement transactions, with a schema
//! change halfway. The stream is deterministic (a seeded generator) but the tests never predict
//! its result: they compare the target with whatever the source holds at the end, so a
//! statement lost to a fault (the source restarting) changes nothing.

use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use mysql_async::Conn;

/// The database every run captures.
pub const DB: &str = "shop";
pub const TABLES: [&str; 3] = ["customers", "orders", "notes"];

/// Longest `notes.body` the workload writes; the poison test's target holds no more.
pub const NOTE_WIDTH: usize = 20;

const SCHEMA: &[&str] = &[
    "CREATE DATABASE shop",
    "CREATE TABLE shop.customers (id INT PRIMARY KEY, name VARCHAR(64) NOT NULL, \
     balance DECIMAL(12,2) NOT NULL, visits INT NOT NULL)",
    "CREATE TABLE shop.orders (order_id INT, line SMALLINT, sku VARCHAR(32) NOT NULL, \
     qty INT NOT NULL, PRIMARY KEY (order_id, line))",
    "CREATE TABLE shop.notes (id BIGINT PRIMARY KEY, body VARCHAR(200))",
];

/// The schema change made halfway: a nullable column, so that rows written before it read the
/// same (NULL) on both sides without a backfill.
const DDL: &str = "ALTER TABLE shop.customers ADD COLUMN tier INT NULL";

/// How much change, how fast.
#[derive(Clone, Copy)]
pub struct Load {
    pub steps: u64,
    pub per_second: u64,
    /// Make the schema change after this many steps.
    pub ddl_at: Option<u64>,
    pub seed: u64,
}

/// What the generator did: steps that committed, and those a fault made fail.
#[derive(Debug, Default)]
pub struct Done {
    pub committed: u64,
    pub failed: u64,
}

/// A small deterministic generator (xorshift64*): no dependency, same stream for a seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick(&mut self, from: &[i64]) -> Option<i64> {
        (!from.is_empty()).then(|| from[self.below(from.len() as u64) as usize])
    }
}

/// The generator's idea of what exists, to aim updates and deletes at real rows.
struct Model {
    rng: Rng,
    customers: Vec<i64>,
    orders: Vec<i64>,
    notes: Vec<i64>,
    next_id: i64,
    altered: bool,
}

/// Creates the schema and a first population (what the initial snapshot reads).
pub async fn prepare(url: &str) {
    let mut conn = Conn::from_url(url).await.expect("source MariaDB");
    for sql in SCHEMA {
        conn.query_drop(*sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    let mut model = Model::new(1);
    for _ in 0..200 {
        model
            .insert_customer(&mut conn)
            .await
            .expect("first customers");
    }
    for _ in 0..50 {
        model.new_order(&mut conn).await.expect("first orders");
        model.insert_note(&mut conn).await.expect("first notes");
    }
}

/// Runs `load` against the source at `url`; statements that fail (the server restarting) are
/// counted and the generator reconnects and goes on.
pub async fn run(url: String, load: Load) -> Done {
    let mut model = Model::new(load.seed);
    // Ids apart from the first population's and from other generators'.
    model.next_id = 1_000_000 * (load.seed as i64 % 1000 + 1);
    let mut done = Done::default();
    let mut conn: Option<Conn> = None;
    let started = Instant::now();
    for step in 0..load.steps {
        let due = started + Duration::from_micros(step * 1_000_000 / load.per_second.max(1));
        tokio::time::sleep_until(due.into()).await;
        if conn.is_none() {
            conn = Conn::from_url(url.as_str()).await.ok();
        }
        let Some(c) = conn.as_mut() else {
            done.failed += 1;
            continue;
        };
        let result = if load.ddl_at == Some(step) {
            model.altered = true;
            c.query_drop(DDL).await
        } else {
            model.step(c).await
        };
        match result {
            Ok(()) => done.committed += 1,
            Err(_) => {
                done.failed += 1;
                conn = None;
            }
        }
    }
    done
}

impl Model {
    fn new(seed: u64) -> Model {
        Model {
            rng: Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1),
            customers: Vec::new(),
            orders: Vec::new(),
            notes: Vec::new(),
            next_id: 1,
            altered: false,
        }
    }

    fn id(&mut self) -> i64 {
        self.next_id += 1;
        self.next_id
    }

    async fn step(&mut self, c: &mut Conn) -> mysql_async::Result<()> {
        match self.rng.below(100) {
            0..=24 => self.insert_customer(c).await,
            25..=49 => self.update_customer(c).await,
            50..=57 => self.delete_customer(c).await,
            58..=74 => self.new_order(c).await,
            75..=84 => self.update_order(c).await,
            85..=89 => self.delete_order(c).await,
            90..=94 => self.insert_note(c).await,
            _ => self.update_note(c).await,
        }
    }

    async fn insert_customer(&mut self, c: &mut Conn) -> mysql_async::Result<()> {
        let id = self.id();
        let balance = format!("{}.{:02}", self.rng.below(10_000), self.rng.below(100));
        c.exec_drop(
            "INSERT INTO shop.customers (id, name, balance, visits) VALUES (?, ?, ?, 0)",
            (id, format!("customer {id}"), balance),
        )
        .await?;
        self.customers.push(id);
        Ok(())
    }

    async fn update_customer(&mut self, c: &mut Conn) -> mysql_async::Result<()> {
        let Some(id) = self.rng.pick(&self.customers) else {
            return Ok(());
        };
        let delta = format!("{}.{:02}", self.rng.below(100), self.rng.below(100));
        if self.altered {
            let tier = self.rng.below(5);
            c.exec_drop(
                "UPDATE shop.customers SET balance = balance + ?, visits = visits + 1, tier = ? WHERE id = ?",
                (delta, tier, id),
            )
            .await
        } else {
            c.exec_drop(
                "UPDATE shop.customers SET balance = balance + ?, visits = visits + 1 WHERE id = ?",
                (delta, id),
            )
            .await
        }
    }

    async fn delete_customer(&mut self, c: &mut Conn) -> mysql_async::Result<()> {
        let Some(id) = self.rng.pick(&self.customers) else {
            return Ok(());
        };
        c.exec_drop("DELETE FROM shop.customers WHERE id = ?", (id,))
            .await?;
        self.customers.retain(|&x| x != id);
        Ok(())
    }

    /// A multi-statement transaction: the order's lines and the customer's balance together.
    async fn new_order(&mut self, c: &mut Conn) -> mysql_async::Result<()> {
        let order = self.id();
        let lines = 1 + self.rng.below(3);
        let customer = self.rng.pick(&self.customers);
        let mut tx = c.start_transaction(Default::default()).await?;
        for line in 1..=lines {
            let qty = 1 + self.rng.below(9);
            tx.exec_drop(
                "INSERT INTO shop.orders (order_id, line, sku, qty) VALUES (?, ?, ?, ?)",
                (order, line, format!("sku-{}", self.rng.below(500)), qty),
            )
            .await?;
        }
        if let Some(customer) = customer {
            tx.exec_drop(
                "UPDATE shop.customers SET balance = balance - 1.25 WHERE id = ?",
                (customer,),
            )
            .await?;
        }
        tx.commit().await?;
        self.orders.push(order);
        Ok(())
    }

    async fn update_order(&mut self, c: &mut Conn) -> mysql_async::Result<()> {
        let Some(order) = self.rng.pick(&self.orders) else {
            return Ok(());
        };
        c.exec_drop(
            "UPDATE shop.orders SET qty = qty + 1 WHERE order_id = ? AND line = 1",
            (order,),
        )
        .await
    }

    /// Deletes every line of an order: one statement, several rows.
    async fn delete_order(&mut self, c: &mut Conn) -> mysql_async::Result<()> {
        let Some(order) = self.rng.pick(&self.orders) else {
            return Ok(());
        };
        c.exec_drop("DELETE FROM shop.orders WHERE order_id = ?", (order,))
            .await?;
        self.orders.retain(|&x| x != order);
        Ok(())
    }

    async fn insert_note(&mut self, c: &mut Conn) -> mysql_async::Result<()> {
        let id = self.id();
        let body = self.note_body();
        c.exec_drop(
            "INSERT INTO shop.notes (id, body) VALUES (?, ?)",
            (id, body),
        )
        .await?;
        self.notes.push(id);
        Ok(())
    }

    async fn update_note(&mut self, c: &mut Conn) -> mysql_async::Result<()> {
        let Some(id) = self.rng.pick(&self.notes) else {
            return Ok(());
        };
        let body = self.note_body();
        c.exec_drop("UPDATE shop.notes SET body = ? WHERE id = ?", (body, id))
            .await
    }

    fn note_body(&mut self) -> String {
        let mut s = format!("note {}", self.rng.below(1_000_000));
        s.truncate(NOTE_WIDTH);
        s
    }
}
