//! Kafka Connect's `FileStreamSinkTask`: appends one line per record to a file.

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use tracing::info;
use tributary_runtime::connector::{SinkTask, SinkTaskContext, TaskError};
use tributary_runtime::record::SinkRecord;

use super::config::FileSinkConfig;
use super::json::render_line;

/// The FileStreamSink task.
///
/// Each `put` is appended with a single `write_all` of whole lines to a file opened in append
/// mode, so several tasks appending to the same file interleave whole batches, not halves of
/// lines. `flush` fsyncs: the runner commits consumer offsets right after it, and a line must
/// not be committed before it is on disk.
pub struct FileStreamSinkTask {
    config: FileSinkConfig,
    path: PathBuf,
    file: Option<Arc<File>>,
}

impl FileStreamSinkTask {
    pub fn new(config: FileSinkConfig) -> FileStreamSinkTask {
        FileStreamSinkTask {
            path: PathBuf::from(&config.file),
            config,
            file: None,
        }
    }

    fn file(&self) -> Result<Arc<File>, TaskError> {
        self.file
            .clone()
            .ok_or_else(|| TaskError::fatal("FileStreamSink task used before it was started"))
    }
}

/// Runs blocking file I/O off the async workers.
async fn blocking<T: Send + 'static>(
    path: &std::path::Path,
    what: &str,
    f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> Result<T, TaskError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(TaskError::retriable(format!(
            "cannot {what} {}: {e}",
            path.display()
        ))),
        Err(e) => Err(TaskError::fatal(format!(
            "file I/O on {} panicked or was cancelled: {e}",
            path.display()
        ))),
    }
}

#[async_trait]
impl SinkTask for FileStreamSinkTask {
    async fn start(&mut self, _context: SinkTaskContext) -> Result<(), TaskError> {
        let path = self.path.clone();
        let file = blocking(&self.path, "open for appending", move || {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
        })
        .await
        .map_err(|e| TaskError::fatal(e.to_string()))?;
        info!(file = %self.config.file, "appending records to file");
        self.file = Some(Arc::new(file));
        Ok(())
    }

    async fn put(&mut self, records: &[SinkRecord]) -> Result<(), TaskError> {
        if records.is_empty() {
            return Ok(());
        }
        let mut lines = String::new();
        for record in records {
            lines.push_str(&render_line(&record.value));
            lines.push('\n');
        }
        let file = self.file()?;
        blocking(&self.path, "write to", move || {
            (&*file).write_all(lines.as_bytes())
        })
        .await
    }

    async fn flush(&mut self) -> Result<(), TaskError> {
        let file = self.file()?;
        blocking(&self.path, "fsync", move || file.sync_data()).await
    }

    async fn stop(&mut self) {
        self.file = None;
    }
}
