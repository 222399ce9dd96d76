//! The source task: decides where to start (snapshot, stored offset, current position), runs
//! the snapshot and the binlog reader in the background, and hands their records to the runner.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{mpsc, watch, Mutex};
use tokio::task::JoinHandle;
use tracing::{info, warn};
use tributary_runtime::connector::{SourceTask, SourceTaskContext, TaskError};
use tributary_runtime::record::SourceRecord;

use super::binlog::{self, StreamContext};
use super::catalog::Catalog;
use super::config::{MySqlConfig, SnapshotMode};
use super::connection::{binlog_files, check_binlog_settings, connect, Purpose};
use super::offset::{partition, BinlogPosition, MySqlOffset, SnapshotProgress};
use super::snapshot;

/// Most records per message on the queue between the database reader and `poll`. The queue
/// holds `max.queue.size / QUEUE_BATCH` messages, which bounds the records waiting in memory
/// only if no reader sends bigger messages: the snapshot splits its chunks to this size.
pub(super) const QUEUE_BATCH: usize = 64;

#[derive(Default)]
pub struct MySqlSourceTask {
    config: Option<Arc<MySqlConfig>>,
    rx: Option<mpsc::Receiver<Vec<SourceRecord>>>,
    stop: Option<watch::Sender<bool>>,
    worker: Option<JoinHandle<Result<(), TaskError>>>,
    /// Messages received but not yet polled, kept whole (see `poll`).
    buffer: VecDeque<Vec<SourceRecord>>,
}

/// Where the task starts.
#[derive(Debug)]
enum Plan {
    Snapshot {
        resume: Option<(BinlogPosition, SnapshotProgress)>,
        then_stream: bool,
    },
    /// `no_data`: the schema-change records of a snapshot, then streaming from its position.
    SchemaSnapshot,
    Stream(BinlogPosition),
    /// Streaming from a position no stored offset holds yet (`never`): it is stored before the
    /// first change, so that a restart before any change starts from it again.
    StreamFrom(BinlogPosition),
}

async fn plan(config: &MySqlConfig, stored: Option<MySqlOffset>) -> Result<Plan, TaskError> {
    let mut conn = connect(config, Purpose::Query)
        .await
        .map_err(TaskError::retriable)?;
    check_binlog_settings(&mut conn)
        .await
        .map_err(TaskError::fatal)?;
    let then_stream = config.snapshot_mode != SnapshotMode::InitialOnly;
    let stored = match stored {
        None => {
            return Ok(match config.snapshot_mode {
                SnapshotMode::Initial | SnapshotMode::InitialOnly | SnapshotMode::WhenNeeded => {
                    Plan::Snapshot {
                        resume: None,
                        then_stream,
                    }
                }
                SnapshotMode::NoData => Plan::SchemaSnapshot,
                SnapshotMode::Never => {
                    let files = binlog_files(&mut conn).await.map_err(TaskError::fatal)?;
                    let file = files
                        .first()
                        .cloned()
                        .ok_or_else(|| TaskError::fatal("the server has no binlog files"))?;
                    Plan::StreamFrom(BinlogPosition {
                        file,
                        pos: 4,
                        ..BinlogPosition::default()
                    })
                }
            })
        }
        Some(o) => o,
    };
    if stored.snapshot.is_some() && config.snapshot_mode == SnapshotMode::NoData {
        // An unfinished snapshot (a schema snapshot that stopped halfway, or a data snapshot
        // before the mode changed): Debezium takes the schema snapshot again, from the current
        // position.
        return Ok(Plan::SchemaSnapshot);
    }
    let files = binlog_files(&mut conn).await.map_err(TaskError::fatal)?;
    if !files.contains(&stored.position.file) {
        if config.snapshot_mode == SnapshotMode::WhenNeeded {
            warn!(file = %stored.position.file, "the binlog file of the stored offset was purged; taking a new snapshot (snapshot.mode=when_needed)");
            return Ok(Plan::Snapshot {
                resume: None,
                then_stream,
            });
        }
        return Err(TaskError::fatal(format!(
            "the binlog file {} of the stored offset is no longer on the server (it has {}); changes after position {} are lost to this connector. \
             Reset the connector's offsets to take a new snapshot, or set snapshot.mode=when_needed to do so automatically",
            stored.position.file,
            if files.is_empty() { "none".to_owned() } else { files.join(", ") },
            stored.position.pos
        )));
    }
    Ok(match stored.snapshot {
        Some(progress) => Plan::Snapshot {
            resume: Some((stored.position, progress)),
            then_stream,
        },
        None => Plan::Stream(stored.position),
    })
}

#[async_trait]
impl SourceTask for MySqlSourceTask {
    async fn start(&mut self, context: SourceTaskContext) -> Result<(), TaskError> {
        let config = Arc::new(MySqlConfig::parse(&context.config)?);
        let stored = match context
            .offsets
            .offset(&partition(&config.topic_prefix))
            .await?
        {
            Some(o) => Some(MySqlOffset::from_offset(&o).map_err(|e| {
                TaskError::fatal(format!("{e}; reset the connector's offsets to start over"))
            })?),
            None => None,
        };
        let plan = plan(&config, stored).await?;
        info!(connector = %context.connector, ?plan, server_id = config.server_id, "starting");
        let (tx, rx) = mpsc::channel(config.max_queue.div_ceil(QUEUE_BATCH).max(4));
        let (stop_tx, stop_rx) = watch::channel(false);
        let catalog = Arc::new(Mutex::new(Catalog::default()));
        let progress = context.progress.clone();
        let cfg = config.clone();
        let worker = tokio::spawn(async move {
            let start = match plan {
                Plan::Stream(p) => p,
                Plan::SchemaSnapshot => {
                    snapshot::schema_only(
                        cfg.clone(),
                        catalog.clone(),
                        tx.clone(),
                        progress.clone(),
                    )
                    .await?
                }
                Plan::StreamFrom(p) => {
                    let offset = MySqlOffset {
                        position: p.clone(),
                        ts_sec: 0,
                        server_id: 0,
                        snapshot: None,
                    };
                    let mark =
                        SourceRecord::offset_only(partition(&cfg.topic_prefix), offset.to_offset());
                    tx.send(vec![mark])
                        .await
                        .map_err(|_| TaskError::fatal("the task stopped reading"))?;
                    p
                }
                Plan::Snapshot {
                    resume,
                    then_stream,
                } => {
                    let p = snapshot::run(
                        cfg.clone(),
                        catalog.clone(),
                        tx.clone(),
                        progress.clone(),
                        resume,
                    )
                    .await?;
                    if !then_stream {
                        progress.set("snapshot done (snapshot.mode=initial_only)");
                        return Ok(());
                    }
                    p
                }
            };
            binlog::run(
                StreamContext {
                    config: cfg,
                    catalog,
                    out: tx,
                    progress,
                    stop: stop_rx,
                },
                start,
            )
            .await
        });
        self.config = Some(config);
        self.rx = Some(rx);
        self.stop = Some(stop_tx);
        self.worker = Some(worker);
        Ok(())
    }

    async fn poll(&mut self) -> Result<Vec<SourceRecord>, TaskError> {
        let (Some(config), Some(rx)) = (&self.config, &mut self.rx) else {
            return Err(TaskError::fatal("poll before start"));
        };
        let max = config.max_batch;
        if self.buffer.is_empty() {
            match tokio::time::timeout(Duration::from_millis(config.poll_ms), rx.recv()).await {
                Err(_) => return Ok(Vec::new()),
                Ok(Some(batch)) => self.buffer.push_back(batch),
                Ok(None) => {
                    // The reader ended: an error, or the end of an initial_only snapshot.
                    if let Some(worker) = self.worker.take() {
                        match worker.await {
                            Ok(Ok(())) => {}
                            Ok(Err(e)) => return Err(e),
                            Err(e) => {
                                return Err(TaskError::fatal(format!(
                                    "the binlog reader crashed: {e}"
                                )))
                            }
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(config.poll_ms)).await;
                    return Ok(Vec::new());
                }
            }
        }
        // Whole messages only: each ends with a record that stores a position (most records
        // move none), so a stop after this poll stores exactly what was sent.
        let first = self.buffer.pop_front().unwrap_or_default();
        let mut total = first.len();
        let mut more = Vec::new();
        loop {
            let next = match self.buffer.pop_front() {
                Some(b) => b,
                None => match rx.try_recv() {
                    Ok(b) => b,
                    Err(_) => break,
                },
            };
            if total + next.len() > max {
                self.buffer.push_front(next);
                break;
            }
            total += next.len();
            more.push(next);
        }
        if more.is_empty() {
            return Ok(first);
        }
        // Sized once: growing the batch message by message moved each record several times.
        let mut out = Vec::with_capacity(total);
        out.extend(first);
        for message in more {
            out.extend(message);
        }
        Ok(out)
    }

    async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        self.rx = None;
        if let Some(worker) = self.worker.take() {
            let abort = worker.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), worker)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}
