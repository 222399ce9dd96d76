//! Streaming the binlog as a replica and turning rows events into change records.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use mysql_async::binlog::events::{Event, EventData, RowsEventData, TableMapEvent};
use mysql_async::prelude::Queryable;
use mysql_async::BinlogStreamRequest;
use tokio::sync::{mpsc, watch, Mutex};
use tracing::{debug, info, warn};
use tributary_runtime::connector::{TaskError, TaskProgress};
use tributary_runtime::data::Value;
use tributary_runtime::envelope::Op;
use tributary_runtime::record::SourceRecord;

use super::catalog::{describe, Catalog};
use super::config::EventFailureMode;
use super::config::{GtidMode, MySqlConfig};
use super::connection::{connect, is_mariadb, Purpose};
use super::ddl::{classify, DdlTarget, TableName};
use super::events::{
    change_records, heartbeat_record, key_change_header, same_key, schema_change_record,
    set_offset, truncate_record, RowChange, SchemaChange, SourceInfo, NEW_KEY_HEADER,
    OLD_KEY_HEADER,
};
use super::offset::{BinlogPosition, MySqlOffset};
use super::row_images::{RowImage, RowImages};
use super::table::Table;
use super::table_changes::{change as table_change, ChangeType};
use super::types::{from_binlog, from_binlog_owned};

const MARIADB_ANNOTATE_ROWS: u8 = 160;
const MARIADB_GTID: u8 = 162;
/// How often an idle server sends a heartbeat event on the binlog connection.
const SERVER_HEARTBEAT: Duration = Duration::from_secs(1);
/// The most records a rows event's list starts with room for (an event holds at most
/// `binlog_row_event_max_size` bytes, 8 KB by default: ~60 small rows).
const MAX_RECORDS_HINT: usize = 256;
/// Silence after which the binlog connection is taken for dead and reopened.
const SILENCE_LIMIT: Duration = Duration::from_secs(10);

pub struct StreamContext {
    pub config: Arc<MySqlConfig>,
    pub catalog: Arc<Mutex<Catalog>>,
    pub out: mpsc::Sender<Vec<SourceRecord>>,
    pub progress: TaskProgress,
    pub stop: watch::Receiver<bool>,
}

enum StreamError {
    /// The connection failed: reconnect and resume.
    Connection(String),
    Fatal(String),
}

/// Streams from `start` until stopped, reconnecting with backoff when the connection drops.
pub async fn run(ctx: StreamContext, start: BinlogPosition) -> Result<(), TaskError> {
    let mut state = State::new(start);
    let mut backoff = Duration::from_millis(500);
    loop {
        if *ctx.stop.borrow() {
            return Ok(());
        }
        let began = Instant::now();
        match stream_once(&ctx, &mut state).await {
            Ok(()) => return Ok(()),
            Err(StreamError::Fatal(m)) => return Err(TaskError::fatal(m)),
            Err(StreamError::Connection(m)) if !ctx.config.keep_alive => {
                return Err(TaskError::fatal(format!(
                    "the binlog connection was lost and connect.keep.alive=false: {m}"
                )))
            }
            Err(StreamError::Connection(m)) => {
                if began.elapsed() > Duration::from_secs(30) {
                    backoff = Duration::from_millis(500);
                }
                warn!(error = %m, retry_in_ms = backoff.as_millis() as u64, position = ?state.resume, "binlog connection lost; reconnecting");
                ctx.progress.set(format!("reconnecting to the binlog: {m}"));
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
        }
    }
}

/// Where the reader is in the binlog.
struct State {
    /// The offset of the last record handed out: where a reconnect resumes.
    resume: BinlogPosition,
    file: String,
    txn_start: u64,
    in_txn: bool,
    /// Rows events seen in the current transaction.
    event_index: u64,
    /// From a resume: rows events / rows of the first transaction already published.
    skip_events: u64,
    skip_rows: u64,
    gtid: Option<String>,
    /// MariaDB GTID positions by domain, or MySQL's last GTID.
    gtids: BTreeMap<u32, String>,
    thread: Option<i64>,
    query: Option<String>,
    ts_sec: i64,
    server_id: u32,
    /// The server checksums its binlog events (`binlog_checksum=CRC32`).
    checksums: bool,
    /// Records of the last rows event, the next one's first guess.
    records_hint: usize,
    /// A format description event came on this connection: until then the reader does not
    /// know events carry checksums, so the server's first (artificial) rotate event still ends
    /// in its four checksum bytes.
    seen_format: bool,
}

impl State {
    fn new(start: BinlogPosition) -> State {
        State {
            file: start.file.clone(),
            txn_start: start.pos,
            in_txn: false,
            event_index: 0,
            skip_events: start.event,
            skip_rows: start.row,
            gtid: None,
            gtids: BTreeMap::new(),
            thread: None,
            query: None,
            ts_sec: 0,
            server_id: 0,
            checksums: false,
            records_hint: 0,
            seen_format: false,
            resume: start,
        }
    }

    fn gtid_set(&self) -> Option<String> {
        (!self.gtids.is_empty()).then(|| self.gtids.values().cloned().collect::<Vec<_>>().join(","))
    }

    fn offset(&self, event: u64, row: u64) -> MySqlOffset {
        MySqlOffset {
            position: BinlogPosition {
                file: self.file.clone(),
                pos: self.txn_start,
                event,
                row,
                gtids: self.gtid_set(),
            },
            ts_sec: self.ts_sec,
            server_id: self.server_id,
            snapshot: None,
        }
    }

    fn info(&self, row: i32) -> SourceInfo {
        SourceInfo {
            ts_ms: self.ts_sec * 1000,
            snapshot: "false",
            server_id: self.server_id,
            gtid: self.gtid.clone(),
            file: self.file.clone(),
            pos: self.txn_start,
            row,
            thread: self.thread,
            query: self.query.clone(),
        }
    }

    /// A transaction (or a standalone statement) ended at `next_pos`.
    fn commit(&mut self, next_pos: u64) {
        self.in_txn = false;
        self.txn_start = next_pos;
        self.event_index = 0;
        self.skip_events = 0;
        self.skip_rows = 0;
        self.query = None;
    }

    fn begin(&mut self, start: u64) {
        if !self.in_txn {
            self.in_txn = true;
            self.txn_start = start;
            self.event_index = 0;
        }
    }
}

fn conn_err(e: impl std::fmt::Display) -> StreamError {
    StreamError::Connection(e.to_string())
}

async fn stream_once(ctx: &StreamContext, state: &mut State) -> Result<(), StreamError> {
    let config = &ctx.config;
    let mut conn = connect(config, Purpose::Binlog)
        .await
        .map_err(StreamError::Connection)?;
    let mariadb = is_mariadb(&mut conn).await;
    {
        let mut catalog = ctx.catalog.lock().await;
        catalog
            .load(&mut conn, config, None)
            .await
            .map_err(conn_err)?;
    }
    if mariadb {
        // Without this MariaDB sends its GTID events as dummy query events.
        conn.query_drop("SET @mariadb_slave_capability = 4")
            .await
            .map_err(conn_err)?;
    }
    conn.query_drop("SET @master_binlog_checksum = @@global.binlog_checksum")
        .await
        .map_err(conn_err)?;
    let checksum: Option<String> = conn
        .query_first("SELECT @@global.binlog_checksum")
        .await
        .map_err(conn_err)?;
    // The server sends a heartbeat event every second while idle: a silent connection is then
    // known to be dead within seconds, and the server notices a closed connection as soon as it
    // writes the next heartbeat (instead of holding our binlog files until the next change).
    conn.query_drop(format!(
        "SET @master_heartbeat_period = {}",
        SERVER_HEARTBEAT.as_nanos()
    ))
    .await
    .map_err(conn_err)?;
    // Resume at the start of the transaction the stored offset is in; what of it was
    // published is skipped below.
    *state = State::new(state.resume.clone());
    state.checksums = checksum.is_some_and(|c| !c.eq_ignore_ascii_case("NONE"));
    let file = state.resume.file.clone();
    let request = BinlogStreamRequest::new(config.server_id)
        .with_filename(file.as_bytes())
        .with_pos(state.resume.pos.max(4));
    let mut stream = conn.get_binlog_stream(request).await.map_err(|e| {
        let text = e.to_string();
        if text.contains("1236")
            || text
                .to_ascii_lowercase()
                .contains("could not find first log file")
        {
            StreamError::Fatal(format!(
                "the binlog file {file} (position {}) is no longer on the server: {text}",
                state.resume.pos
            ))
        } else {
            conn_err(text)
        }
    })?;
    info!(file = %state.resume.file, pos = state.resume.pos, mariadb, "streaming the binlog");
    ctx.progress.set(format!(
        "streaming from {}:{}",
        state.resume.file, state.resume.pos
    ));
    let mut stop = ctx.stop.clone();
    let heartbeat = (config.heartbeat_ms > 0).then(|| Duration::from_millis(config.heartbeat_ms));
    let mut last_heartbeat = Instant::now();
    let mut heartbeat_position: Option<BinlogPosition> = None;
    loop {
        let tick = heartbeat.unwrap_or(Duration::from_secs(3600));
        let event = tokio::select! {
            // Dropping the stream closes the socket at once; a polite COM_QUIT would wait for a
            // server that only writes on this connection.
            _ = stop.changed() => return Ok(()),
            _ = tokio::time::sleep(tick.saturating_sub(last_heartbeat.elapsed())) => None,
            _ = tokio::time::sleep(SILENCE_LIMIT) => {
                return Err(StreamError::Connection(format!("no event or heartbeat from the server for {SILENCE_LIMIT:?}")));
            }
            e = stream.next() => match e {
                None => return Err(StreamError::Connection("the server closed the binlog stream".into())),
                Some(Err(e)) => return Err(conn_err(e)),
                Some(Ok(e)) => Some(e),
            },
        };
        if let Some(hb) = heartbeat {
            if last_heartbeat.elapsed() >= hb {
                last_heartbeat = Instant::now();
                // Only when idle between transactions and the position moved since the last one.
                let at = state.offset(0, 0);
                if !state.in_txn && heartbeat_position.as_ref() != Some(&at.position) {
                    heartbeat_position = Some(at.position.clone());
                    state.resume = at.position.clone();
                    send(ctx, vec![heartbeat_record(config, &at)]).await?;
                }
            }
        }
        let Some(event) = event else { continue };
        let records = handle_event(ctx, state, &stream, &event).await?;
        if !records.is_empty() {
            send(ctx, records).await?;
        }
    }
}

async fn send(ctx: &StreamContext, records: Vec<SourceRecord>) -> Result<(), StreamError> {
    ctx.out
        .send(records)
        .await
        .map_err(|_| StreamError::Fatal("the task stopped reading".into()))
}

async fn handle_event(
    ctx: &StreamContext,
    state: &mut State,
    stream: &mysql_async::BinlogStream,
    event: &Event,
) -> Result<Vec<SourceRecord>, StreamError> {
    let header = event.header();
    let next_pos = u64::from(header.log_pos());
    let start = next_pos.saturating_sub(u64::from(header.event_size()));
    if header.timestamp() > 0 {
        state.ts_sec = i64::from(header.timestamp());
    }
    state.server_id = header.server_id();
    let raw_type = header.event_type_raw();
    if raw_type == MARIADB_GTID {
        let data = event.data();
        if data.len() >= 12 {
            let seq = u64::from_le_bytes(data[0..8].try_into().unwrap_or_default());
            let domain = u32::from_le_bytes(data[8..12].try_into().unwrap_or_default());
            let gtid = format!("{domain}-{}-{seq}", header.server_id());
            state.gtids.insert(domain, gtid.clone());
            // Debezium's MySQL connector does not see MariaDB GTIDs (source.gtid.mode=mysql).
            state.gtid = (ctx.config.gtid_mode == GtidMode::Server).then_some(gtid);
        }
        state.begin(start);
        return Ok(Vec::new());
    }
    if raw_type == MARIADB_ANNOTATE_ROWS {
        if ctx.config.include_query {
            state.query = Some(String::from_utf8_lossy(event.data()).into_owned());
        }
        return Ok(Vec::new());
    }
    let data = match event.read_data() {
        Ok(Some(d)) => d,
        Ok(None) => return Ok(Vec::new()),
        Err(e) => {
            skip_or_fail(
                ctx,
                format!(
                    "cannot decode a binlog event at {}:{start}: {e}",
                    state.file
                ),
            )?;
            return Ok(Vec::new());
        }
    };
    let mut out = Vec::new();
    match data {
        EventData::FormatDescriptionEvent(_) => state.seen_format = true,
        EventData::RotateEvent(r) => {
            let name = rotate_name(r.name_raw(), state.checksums && !state.seen_format);
            if name != state.file {
                state.file = name;
                state.txn_start = r.position();
                if !state.in_txn {
                    state.commit(r.position());
                }
            }
        }
        EventData::GtidEvent(g) => {
            let sid = g.sid();
            let uuid = format!(
                "{}-{}-{}-{}-{}",
                hex(&sid[0..4]),
                hex(&sid[4..6]),
                hex(&sid[6..8]),
                hex(&sid[8..10]),
                hex(&sid[10..16])
            );
            let gtid = format!("{uuid}:{}", g.gno());
            state.gtids.insert(0, gtid.clone());
            state.gtid = Some(gtid);
            state.begin(start);
        }
        EventData::AnonymousGtidEvent(_) => state.begin(start),
        EventData::QueryEvent(q) => {
            let sql = q.query().into_owned();
            let upper = sql
                .trim_start()
                .get(..16)
                .unwrap_or(sql.trim_start())
                .to_ascii_uppercase();
            state.thread = Some(i64::from(q.thread_id()));
            if upper.starts_with("BEGIN") {
                state.begin(start);
            } else if upper.starts_with("COMMIT") {
                state.commit(next_pos);
            } else if upper.starts_with("XA ")
                || upper.starts_with("SAVEPOINT")
                || upper.starts_with("ROLLBACK")
            {
                // Transaction control without data of its own.
            } else {
                let db = q.schema().into_owned();
                state.begin(start);
                out = ddl(ctx, state, &db, &sql, next_pos).await?;
                state.commit(next_pos);
                state.resume = state.offset(0, 0).position;
            }
        }
        EventData::XidEvent(_) => state.commit(next_pos),
        EventData::RowsEvent(rows) => {
            let index = state.event_index;
            state.event_index += 1;
            if index < state.skip_events {
                return Ok(Vec::new());
            }
            let skip_rows = if index == state.skip_events {
                state.skip_rows
            } else {
                0
            };
            let Some(tme) = stream.get_tme(rows.table_id()) else {
                return Err(StreamError::Fatal(format!(
                    "rows event at {}:{start} without its table map",
                    state.file
                )));
            };
            out = rows_event(ctx, state, tme, &rows, index, skip_rows).await?;
        }
        _ => {}
    }
    if let Some(last) = out.last() {
        if let Ok(o) = MySqlOffset::from_offset(&last.source_offset) {
            state.resume = o.position;
        }
    }
    Ok(out)
}

/// The file a rotate event names. The server's first (artificial) rotate event comes before
/// the format description that tells the reader about checksums, so it still ends in the four
/// CRC32 bytes (`with_checksum`): they are cut by length, not by looking at them, since they can
/// be anything, digits included.
fn rotate_name(raw: &[u8], with_checksum: bool) -> String {
    let raw = match raw.len().checked_sub(4) {
        Some(n) if with_checksum => &raw[..n],
        _ => raw,
    };
    String::from_utf8_lossy(raw).into_owned()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The column names a TABLE_MAP carries when the server logs with
/// `binlog_row_metadata=FULL` (MySQL 8.0.1+, MariaDB 10.5+).
fn table_map_column_names(tme: &TableMapEvent<'_>) -> Option<Vec<String>> {
    use mysql_async::binlog::events::OptionalMetadataField;
    for field in tme.iter_optional_meta() {
        if let Ok(OptionalMetadataField::ColumnName(names)) = field {
            return Some(
                names
                    .iter_names()
                    .filter_map(Result::ok)
                    .map(|n| n.name().into_owned())
                    .collect(),
            );
        }
    }
    None
}

/// The table model for a rows event, as the binlog describes the table at that event.
///
/// With `binlog_row_metadata=FULL` the TABLE_MAP names every column, so the model is the
/// catalog's column definitions picked by those names, in the binlog's order: exact even when
/// the catalog has moved on (columns added or dropped after this event). Without names, the
/// catalog is used when its column count matches, and the task stops otherwise.
async fn table_for(
    ctx: &StreamContext,
    tme: &TableMapEvent<'_>,
) -> Result<Option<Arc<Table>>, StreamError> {
    let db = tme.database_name().into_owned();
    let name = tme.table_name().into_owned();
    if !ctx.config.filters.table(&db, &name) {
        return Ok(None);
    }
    let mut catalog = ctx.catalog.lock().await;
    let Some(table) = catalog.table(&db, &name) else {
        return Err(StreamError::Fatal(format!(
            "table {db}.{name} is in the binlog but not in the catalog"
        )));
    };
    match table_map_column_names(tme) {
        Some(names) => catalog
            .as_of(&ctx.config, &table, &names)
            .map(Some)
            .map_err(StreamError::Fatal),
        None if table.columns.len() as u64 == tme.columns_count() => Ok(Some(table)),
        None => Err(StreamError::Fatal(format!(
            "table {db}.{name} has {} columns in the binlog but {} in the catalog: the connector is behind a later schema change of this table. \
             Set binlog_row_metadata=FULL on the server so that the binlog names its columns, or reset the connector's offsets for a new snapshot",
            tme.columns_count(),
            table.columns.len()
        ))),
    }
}

/// An event (or a row of one) that cannot be processed, as
/// `event.processing.failure.handling.mode` says: fail the task, or skip it, logged or not.
fn skip_or_fail(ctx: &StreamContext, failure: String) -> Result<(), StreamError> {
    match ctx.config.event_failures {
        EventFailureMode::Fail => Err(StreamError::Fatal(failure)),
        EventFailureMode::Warn => {
            warn!(error = %failure, "skipping a binlog event that cannot be processed (event.processing.failure.handling.mode=warn); its change is not published");
            Ok(())
        }
        EventFailureMode::Skip => {
            debug!(error = %failure, "skipping a binlog event that cannot be processed (event.processing.failure.handling.mode=skip)");
            Ok(())
        }
    }
}

async fn rows_event(
    ctx: &StreamContext,
    state: &mut State,
    tme: &TableMapEvent<'static>,
    rows: &RowsEventData<'_>,
    index: u64,
    skip_rows: u64,
) -> Result<Vec<SourceRecord>, StreamError> {
    let Some(table) = table_for(ctx, tme).await? else {
        return Ok(Vec::new());
    };
    let config = &ctx.config;
    let op = match rows {
        RowsEventData::WriteRowsEvent(_) | RowsEventData::WriteRowsEventV1(_) => Op::Create,
        RowsEventData::UpdateRowsEvent(_)
        | RowsEventData::UpdateRowsEventV1(_)
        | RowsEventData::PartialUpdateRowsEvent(_) => Op::Update,
        RowsEventData::DeleteRowsEvent(_) | RowsEventData::DeleteRowsEventV1(_) => Op::Delete,
    };
    // Sized as the last rows event's: a bulk statement's events are alike (~8 KB each).
    let mut out = Vec::with_capacity(state.records_hint.min(MAX_RECORDS_HINT));
    let mut last_row = None;
    let images = match RowImages::new(rows, tme) {
        Ok(images) => images,
        Err(e) => {
            skip_or_fail(
                ctx,
                format!(
                    "cannot read the rows of {} at {}:{}: {e}",
                    table.full_name(),
                    state.file,
                    state.txn_start
                ),
            )?;
            return Ok(Vec::new());
        }
    };
    for (r, row) in images.enumerate() {
        let r = r as u64;
        let (before, after) = match row {
            Ok(images) => images,
            Err(e) => {
                skip_or_fail(
                    ctx,
                    format!(
                        "cannot decode a row of {} at {}:{} row {r}: {e}",
                        table.full_name(),
                        state.file,
                        state.txn_start
                    ),
                )?;
                continue;
            }
        };
        if r < skip_rows {
            continue;
        }
        let convert = |row: Option<RowImage<'_>>| -> Result<
            (
                Option<tributary_runtime::data::Struct>,
                Option<tributary_runtime::data::Struct>,
            ),
            String,
        > {
            let Some(mut row) = row else {
                return Ok((None, None));
            };
            let key = table.key_of(|i| match row.get(i) {
                Some(v) => {
                    from_binlog(&table.columns[i], v, &config.modes).map_err(|e| e.to_string())
                }
                None => Ok(Value::Null),
            })?;
            // The key is read first: the row takes the image's values (each column once).
            let row = table.row(|i| match row.take(i) {
                Some(v) => from_binlog_owned(&table.columns[i], v, &config.modes)
                    .map_err(|e| e.to_string()),
                None => Ok(Value::Null),
            })?;
            Ok((key, Some(row)))
        };
        let converted = convert(before).and_then(|b| Ok((b, convert(after)?)));
        let ((key_before, row_before), (key_after, row_after)) = match converted {
            Ok(images) => images,
            Err(e) => {
                skip_or_fail(
                    ctx,
                    format!(
                        "table {} at {}:{} row {r}: {e}",
                        table.full_name(),
                        state.file,
                        state.txn_start
                    ),
                )?;
                continue;
            }
        };
        let info = state.info(r as i32);
        let produced = out.len();
        match op {
            Op::Update if !same_key(&key_before, &key_after) => {
                // A primary-key change: Debezium's delete (+ tombstone) of the old key, then a
                // create, each with a header naming the other key.
                let new_key_header = key_change_header(&table, NEW_KEY_HEADER, key_after.as_ref());
                let old_key_header = key_change_header(&table, OLD_KEY_HEADER, key_before.as_ref());
                if !config.skips("d") {
                    change_records(
                        config,
                        RowChange {
                            table: &table,
                            op: Op::Delete,
                            key: key_before,
                            before: row_before,
                            after: None,
                            headers: new_key_header,
                        },
                        &info,
                        &mut out,
                    );
                }
                if !config.skips("c") {
                    change_records(
                        config,
                        RowChange {
                            table: &table,
                            op: Op::Create,
                            key: key_after,
                            before: None,
                            after: row_after,
                            headers: old_key_header,
                        },
                        &info,
                        &mut out,
                    );
                }
            }
            _ if config.skips(op.code()) => {}
            Op::Delete => change_records(
                config,
                RowChange {
                    table: &table,
                    op,
                    key: key_before,
                    before: row_before,
                    after: None,
                    headers: Vec::new(),
                },
                &info,
                &mut out,
            ),
            _ => change_records(
                config,
                RowChange {
                    table: &table,
                    op,
                    key: key_after,
                    before: row_before,
                    after: row_after,
                    headers: Vec::new(),
                },
                &info,
                &mut out,
            ),
        }
        if out.len() > produced {
            last_row = Some(r);
        }
    }
    state.records_hint = out.len();
    // One offset per event, on its last record: the position after the last row published.
    if let (Some(r), Some(last)) = (last_row, out.last_mut()) {
        set_offset(config, last, &state.offset(index, r + 1));
    }
    Ok(out)
}

/// A schema statement: reload the catalog, publish the schema change (one record per table it
/// changes, with that table's structure), or a truncate event for `TRUNCATE`.
async fn ddl(
    ctx: &StreamContext,
    state: &mut State,
    db: &str,
    sql: &str,
    next_pos: u64,
) -> Result<Vec<SourceRecord>, StreamError> {
    let config = &ctx.config;
    let Some(target) = classify(sql) else {
        return Ok(Vec::new());
    };
    let offset = MySqlOffset {
        position: BinlogPosition {
            file: state.file.clone(),
            pos: next_pos,
            event: 0,
            row: 0,
            gtids: state.gtid_set(),
        },
        ts_sec: state.ts_sec,
        server_id: state.server_id,
        snapshot: None,
    };
    let database_of = |t: &TableName| t.db.clone().unwrap_or_else(|| db.to_owned());
    let captured = |d: &str| !d.is_empty() && config.filters.database(d);
    // (database, table) of each record, and the databases whose catalog changed.
    let (records, databases): (Vec<(String, Option<TableName>)>, Vec<String>) = match &target {
        DdlTarget::Truncate(t) => {
            // Debezium publishes no schema change for a truncate, only the truncate event,
            // which `skipped.operations=t` (its default) leaves out.
            let tdb = database_of(t);
            let table = ctx.catalog.lock().await.table(&tdb, &t.name);
            return Ok(match (table, config.skips("t")) {
                (Some(table), false) => {
                    vec![truncate_record(config, &table, &state.info(0), &offset)]
                }
                _ => Vec::new(),
            });
        }
        DdlTarget::Tables(_, tables) => {
            let records: Vec<(String, Option<TableName>)> = tables
                .iter()
                .map(|t| (database_of(t), Some(t.clone())))
                .filter(|(d, _)| captured(d))
                .collect();
            let mut dbs: Vec<String> = records.iter().map(|(d, _)| d.clone()).collect();
            dbs.dedup();
            (records, dbs)
        }
        DdlTarget::Database(name) => (vec![(name.clone(), None)], vec![name.clone()]),
        DdlTarget::Other => (vec![(db.to_owned(), None)], vec![db.to_owned()]),
    };
    if records
        .iter()
        .all(|(d, _)| !d.is_empty() && !config.filters.database(d))
    {
        return Ok(Vec::new());
    }
    let mut conn = connect(config, Purpose::Query)
        .await
        .map_err(StreamError::Connection)?;
    {
        let mut catalog = ctx.catalog.lock().await;
        for d in &databases {
            let only = (!d.is_empty()).then_some(d.as_str());
            catalog
                .load(&mut conn, config, only)
                .await
                .map_err(conn_err)?;
        }
    }
    info!(database = %databases.join(","), statement = %sql.chars().take(200).collect::<String>(), "schema change");
    if !config.include_schema_changes {
        return Ok(Vec::new());
    }
    let mut out = Vec::with_capacity(records.len());
    for (record_db, table) in records {
        let table_changes = match (&target, &table) {
            (DdlTarget::Tables(kind, _), Some(t)) => {
                let known = ctx.catalog.lock().await.table(&record_db, &t.name);
                let described = match (kind, known) {
                    (ChangeType::Drop, _) => None,
                    (_, Some(known)) => Some(known),
                    // A table the filters leave out: Debezium still describes it.
                    (_, None) => describe(&mut conn, config, &record_db, &t.name)
                        .await
                        .map_err(conn_err)?
                        .map(Arc::new),
                };
                let entry = match (kind, described) {
                    (ChangeType::Drop, _) => Some(table_change(*kind, &record_db, &t.name, None)),
                    (_, Some(d)) => Some(table_change(*kind, &record_db, &t.name, Some(&d))),
                    // Gone again by the time the catalog was read: nothing to describe.
                    (_, None) => None,
                };
                entry
                    .transpose()
                    .map_err(|e| StreamError::Fatal(e.to_string()))?
                    .into_iter()
                    .collect()
            }
            _ => Vec::new(),
        };
        out.push(schema_change_record(
            config,
            SchemaChange {
                db: &record_db,
                table: table.as_ref().map(|t| t.name.as_str()),
                ddl: sql,
                table_changes,
            },
            &state.info(0),
            &offset,
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_rotate_loses_its_checksum_even_when_it_starts_with_a_digit() {
        // Not "binlog.0000016": a checksum byte that is an ASCII digit must not be read as part
        // of the sequence number, or the file seems to change and the resume's row skip is lost.
        let mut raw = b"binlog.000001".to_vec();
        raw.extend([b'6', 0x9c, 0x01, 0xff]);
        assert_eq!(rotate_name(&raw, true), "binlog.000001");
        assert_eq!(rotate_name(b"mysql-bin.000123", false), "mysql-bin.000123");
    }
}
