//! Kafka Connect's `FileStreamSourceTask`: tails a file, one record per line.

use std::io::{ErrorKind, SeekFrom};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use serde_json::json;
use tokio::fs::File;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::time::Instant;
use tracing::{info, warn};
use tributary_runtime::connector::{SourceTask, SourceTaskContext, TaskError, TaskProgress};
use tributary_runtime::data::{SchemaBuilder, SchemaRef, Value};
use tributary_runtime::record::{SchemaAndValue, SourceOffset, SourcePartition, SourceRecord};

use super::config::FileSourceConfig;

/// How long a poll waits for new lines before returning empty (Kafka waits one second too).
const MAX_WAIT: Duration = Duration::from_secs(1);
/// How often a waiting poll looks at the file again.
const RECHECK: Duration = Duration::from_millis(100);
const READ_CHUNK: usize = 64 * 1024;

/// Kafka's `Schema.STRING_SCHEMA`: every line is a required string.
pub fn value_schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| SchemaBuilder::string().build_ref())
        .clone()
}

/// `{"filename": <file>}`, Kafka's source partition for a file, so offsets stored by Kafka
/// Connect for the same file carry over.
pub fn source_partition(file: &str) -> SourcePartition {
    let mut partition = SourcePartition::new();
    partition.insert("filename".into(), json!(file));
    partition
}

/// `{"position": <byte offset just after the line>}`, Kafka's source offset.
pub fn source_offset(position: u64) -> SourceOffset {
    let mut offset = SourceOffset::new();
    offset.insert("position".into(), json!(position));
    offset
}

/// The first complete line of `buf`: (length of its text, length including the terminator).
/// Lines end with `\n`, `\r\n` or a lone `\r`, as Kafka's task splits them. A line without its
/// terminator is not complete, nor is one ending with `\r` as the last byte read (a `\n` may
/// follow).
fn next_line(buf: &[u8]) -> Option<(usize, usize)> {
    let end = buf.iter().position(|&b| b == b'\n' || b == b'\r')?;
    if buf[end] == b'\n' {
        return Some((end, end + 1));
    }
    match buf.get(end + 1) {
        Some(b'\n') => Some((end, end + 2)),
        Some(_) => Some((end, end + 1)),
        None => None,
    }
}

struct Open {
    file: File,
    /// File position of `buf[0]`: just after the last line turned into a record.
    position: u64,
    /// Bytes read but not yet part of a complete line.
    buf: Vec<u8>,
}

impl Open {
    /// File position of the next byte to read.
    fn read_position(&self) -> u64 {
        self.position + self.buf.len() as u64
    }
}

/// The FileStreamSource task.
pub struct FileStreamSourceTask {
    config: FileSourceConfig,
    path: PathBuf,
    partition: SourcePartition,
    /// Where to start when the file is (re)opened: the stored offset, then the last emitted one.
    resume_at: u64,
    open: Option<Open>,
    started: bool,
    progress: TaskProgress,
    waiting_logged: bool,
}

impl FileStreamSourceTask {
    pub fn new(config: FileSourceConfig) -> FileStreamSourceTask {
        let file = config.file.clone().unwrap_or_default();
        FileStreamSourceTask {
            path: PathBuf::from(&file),
            partition: source_partition(&file),
            config,
            resume_at: 0,
            open: None,
            started: false,
            progress: TaskProgress::default(),
            waiting_logged: false,
        }
    }

    /// Opens the file at the resume position; `Ok(false)` while it does not exist yet (Kafka's
    /// task also waits for the file to be created).
    async fn try_open(&mut self) -> Result<bool, TaskError> {
        let mut file = match File::open(&self.path).await {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                if !self.waiting_logged {
                    warn!(file = %self.path.display(), "file not found; waiting for it to be created");
                    self.waiting_logged = true;
                }
                self.progress
                    .set(format!("waiting for {} to be created", self.path.display()));
                return Ok(false);
            }
            Err(e) => {
                return Err(TaskError::fatal(format!(
                    "cannot open {}: {e}",
                    self.path.display()
                )))
            }
        };
        let len = file
            .metadata()
            .await
            .map_err(|e| self.io_error("cannot read the size of", &e))?
            .len();
        let mut position = self.resume_at;
        if position > len {
            warn!(
                file = %self.path.display(),
                position,
                len,
                "the file is shorter than the stored position (truncated or replaced); reading it from the start"
            );
            position = 0;
        }
        file.seek(SeekFrom::Start(position))
            .await
            .map_err(|e| self.io_error("cannot seek in", &e))?;
        info!(file = %self.path.display(), position, "reading file");
        // Reading normally is nothing to report: the status is then Kafka Connect's exactly.
        self.progress.clear();
        self.open = Some(Open {
            file,
            position,
            buf: Vec::new(),
        });
        Ok(true)
    }

    fn io_error(&self, what: &str, e: &std::io::Error) -> TaskError {
        TaskError::retriable(format!("{what} {}: {e}", self.path.display()))
    }

    /// Moves complete lines from the buffer into `records`, up to `batch_size` in all.
    fn take_lines(&mut self, records: &mut Vec<SourceRecord>) {
        let Some(open) = self.open.as_mut() else {
            return;
        };
        let mut consumed = 0;
        let now = now_ms();
        while records.len() < self.config.batch_size {
            let Some((text_len, line_len)) = next_line(&open.buf[consumed..]) else {
                break;
            };
            let text =
                String::from_utf8_lossy(&open.buf[consumed..consumed + text_len]).into_owned();
            consumed += line_len;
            let position = open.position + consumed as u64;
            records.push(SourceRecord {
                source_partition: self.partition.clone(),
                source_offset: source_offset(position),
                topic: self.config.topic.clone(),
                partition: None,
                key: SchemaAndValue::null(),
                value: SchemaAndValue::new(value_schema(), Value::String(text)),
                timestamp: Some(now),
                headers: Vec::new(),
            });
        }
        open.buf.drain(..consumed);
        open.position += consumed as u64;
        self.resume_at = open.position;
    }

    /// Reads what the file has beyond the buffer; the number of bytes read (0 at its end).
    async fn read_more(&mut self) -> Result<usize, TaskError> {
        let Some(open) = self.open.as_mut() else {
            return Ok(0);
        };
        let start = open.buf.len();
        open.buf.resize(start + READ_CHUNK, 0);
        match open.file.read(&mut open.buf[start..]).await {
            Ok(n) => {
                open.buf.truncate(start + n);
                Ok(n)
            }
            Err(e) => {
                // Reopen at the last emitted line on the next poll.
                self.open = None;
                Err(self.io_error("cannot read", &e))
            }
        }
    }

    /// At the end of the file: if the file became shorter than what was read, it was truncated
    /// (`copytruncate` rotation); start over from its beginning.
    async fn check_truncation(&mut self) -> Result<(), TaskError> {
        let Some(open) = self.open.as_ref() else {
            return Ok(());
        };
        let len = open
            .file
            .metadata()
            .await
            .map_err(|e| self.io_error("cannot read the size of", &e))?
            .len();
        if len < open.read_position() {
            warn!(file = %self.path.display(), len, "the file was truncated; reading it from the start");
            self.resume_at = 0;
            self.open = None;
        }
        Ok(())
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[async_trait]
impl SourceTask for FileStreamSourceTask {
    async fn start(&mut self, context: SourceTaskContext) -> Result<(), TaskError> {
        if self.config.file.is_none() {
            return Err(TaskError::fatal(
                "FileStreamSource: \"file\" is not set, and reading the standard input is not \
                 supported; set \"file\" to the path of the file to read",
            ));
        }
        self.resume_at = match context.offsets.offset(&self.partition).await? {
            None => 0,
            Some(offset) => match offset.get("position") {
                None | Some(serde_json::Value::Null) => 0,
                Some(p) => p.as_u64().ok_or_else(|| {
                    TaskError::fatal(format!(
                        "the stored offset of {} has a position that is not a non-negative integer: {p}",
                        self.path.display()
                    ))
                })?,
            },
        };
        self.started = true;
        self.progress = context.progress;
        self.open = None;
        Ok(())
    }

    async fn poll(&mut self) -> Result<Vec<SourceRecord>, TaskError> {
        if !self.started {
            return Err(TaskError::fatal(
                "FileStreamSource task polled before it was started",
            ));
        }
        let deadline = Instant::now() + MAX_WAIT;
        let mut records = Vec::new();
        loop {
            if self.open.is_none() && !self.try_open().await? {
                tokio::time::sleep_until(deadline).await;
                return Ok(records);
            }
            self.take_lines(&mut records);
            if records.len() >= self.config.batch_size {
                return Ok(records);
            }
            if self.read_more().await? > 0 {
                continue;
            }
            if !records.is_empty() {
                return Ok(records);
            }
            self.check_truncation().await?;
            if self.open.is_none() {
                continue;
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(records);
            }
            tokio::time::sleep((deadline - now).min(RECHECK)).await;
        }
    }

    async fn stop(&mut self) {
        self.open = None;
    }
}
