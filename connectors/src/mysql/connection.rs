//! Connections to the server, with the settings every connection of the connector needs.

use std::time::Duration;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder};

use super::config::MySqlConfig;

/// What a connection is for: `database.initial.statements` run on query connections only, as
/// Debezium runs them on its JDBC connections and not on the one reading the binlog.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    Query,
    Binlog,
}

/// Opens a connection. TLS (`database.ssl.mode` other than disabled/preferred) is refused
/// because this build has no TLS for MySQL connections; it says so rather than connecting in
/// clear text.
pub async fn connect(config: &MySqlConfig, purpose: Purpose) -> Result<Conn, String> {
    if matches!(
        config.ssl_mode.as_str(),
        "required" | "verify_ca" | "verify_identity"
    ) {
        return Err(format!(
            "database.ssl.mode={} is not supported by this build (MySQL connections without TLS only); use disabled or preferred",
            config.ssl_mode
        ));
    }
    let opts = OptsBuilder::default()
        .ip_or_hostname(config.hostname.clone())
        .tcp_port(config.port)
        .user(Some(config.user.clone()))
        .pass(Some(config.password.clone()))
        .prefer_socket(false)
        .conn_ttl(None)
        .tcp_keepalive(Some(Duration::from_secs(10)))
        .stmt_cache_size(64);
    let timeout = Duration::from_millis(config.connect_timeout_ms);
    let mut conn = tokio::time::timeout(timeout, Conn::new(opts))
        .await
        .map_err(|_| {
            format!(
                "no answer from {}:{} within {timeout:?}",
                config.hostname, config.port
            )
        })?
        .map_err(|e| {
            format!(
                "cannot connect to {}:{} as {}: {e}",
                config.hostname, config.port, config.user
            )
        })?;
    // Values in UTC and text as utf8mb4, whatever the server's defaults.
    conn.query_drop("SET time_zone = '+00:00', NAMES utf8mb4")
        .await
        .map_err(|e| format!("cannot set the session time zone: {e}"))?;
    if purpose == Purpose::Query {
        for statement in &config.initial_statements {
            conn.query_drop(statement)
                .await
                .map_err(|e| format!("database.initial.statements: '{statement}' failed: {e}"))?;
        }
    }
    Ok(conn)
}

/// Whether the server is MariaDB (decided from the server, never from a version string a
/// proxy or a `--version` option can change).
pub async fn is_mariadb(conn: &mut Conn) -> bool {
    let vars: Vec<(String, String)> = conn
        .query("SHOW VARIABLES WHERE Variable_name IN ('version_comment', 'gtid_domain_id')")
        .await
        .unwrap_or_default();
    vars.iter()
        .any(|(k, v)| k == "gtid_domain_id" || v.to_ascii_lowercase().contains("mariadb"))
}

/// The binlog files the server still has, oldest first.
pub async fn binlog_files(conn: &mut Conn) -> Result<Vec<String>, String> {
    let rows: Vec<mysql_async::Row> = conn
        .query("SHOW BINARY LOGS")
        .await
        .map_err(|e| format!("SHOW BINARY LOGS failed (is binary logging on?): {e}"))?;
    Ok(rows
        .into_iter()
        .filter_map(|mut r| r.take::<String, _>(0))
        .collect())
}

/// The server's current binlog position.
pub async fn current_position(conn: &mut Conn) -> Result<(String, u64), String> {
    let row: Option<mysql_async::Row> = conn
        .query_first("SHOW MASTER STATUS")
        .await
        .map_err(|e| format!("SHOW MASTER STATUS failed: {e}"))?;
    let mut row = row.ok_or("binary logging is off on the server (SHOW MASTER STATUS is empty); start it with --log-bin --binlog-format=ROW")?;
    let file: String = row.take(0).ok_or("SHOW MASTER STATUS has no file")?;
    let pos: u64 = row.take(1).ok_or("SHOW MASTER STATUS has no position")?;
    Ok((file, pos))
}

/// Checks the server settings CDC needs, naming the one that is wrong.
pub async fn check_binlog_settings(conn: &mut Conn) -> Result<(), String> {
    let vars: Vec<(String, String)> = conn
        .query("SHOW GLOBAL VARIABLES WHERE Variable_name IN ('log_bin', 'binlog_format', 'binlog_row_image')")
        .await
        .map_err(|e| format!("cannot read the server's binlog settings: {e}"))?;
    for (name, want) in [
        ("log_bin", "ON"),
        ("binlog_format", "ROW"),
        ("binlog_row_image", "FULL"),
    ] {
        let have = vars
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str());
        if !have.is_some_and(|h| h.eq_ignore_ascii_case(want)) {
            return Err(format!(
                "the server's {name} is {} but change data capture needs {want}",
                have.unwrap_or("unset")
            ));
        }
    }
    Ok(())
}
