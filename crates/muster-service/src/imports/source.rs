//! Reading a CSV file on a blocking thread and handing its rows to the async importer in
//! batches, so a large file streams through a bounded channel instead of sitting in
//! memory.

use muster_csv::{FileError, FileReport, FormatRow, Reader, RowError};
use std::path::Path;
use tokio::sync::{mpsc, oneshot};

/// Rows handed over at a time.
const BATCH_ROWS: usize = 2_048;
/// Batches the reader may run ahead of the importer.
const BATCHES_AHEAD: usize = 4;

pub(crate) type RowResult<T> = Result<T, Vec<RowError>>;

enum Message<T> {
    Rows { rows: Vec<RowResult<T>>, bytes_read: u64 },
    Done { blank_lines: u64, complete: bool },
}

/// The rows of an open file, in order.
pub(crate) struct RowSource<T> {
    pub report: FileReport,
    pub total_bytes: u64,
    pub bytes_read: u64,
    pub blank_lines: u64,
    /// Whether the reader reached the end of the file. `false` until it does, and for
    /// good when reading stopped at a problem or the reader thread ended early.
    pub complete: bool,
    receiver: mpsc::Receiver<Message<T>>,
    pending: std::vec::IntoIter<RowResult<T>>,
}

impl<T: FormatRow + Send + 'static> RowSource<T> {
    /// Opens `path`, decodes it and checks its header. A file that cannot be read at all
    /// gives the [`FileError`].
    pub async fn open(path: &Path) -> Result<RowSource<T>, FileError> {
        let path = path.to_path_buf();
        let (opened_tx, opened_rx) = oneshot::channel();
        let (rows_tx, rows_rx) = mpsc::channel(BATCHES_AHEAD);

        tokio::task::spawn_blocking(move || {
            let mut reader = match muster_csv::open_path::<T>(&path) {
                Ok(reader) => reader,
                Err(error) => {
                    let _ = opened_tx.send(Err(error));
                    return;
                }
            };
            let _ = opened_tx.send(Ok((reader.report().clone(), reader.total_bytes())));
            pump_rows(&mut reader, &rows_tx);
        });

        let (report, total_bytes) = opened_rx
            .await
            .map_err(|_| file_error("the file reader stopped unexpectedly"))??;
        Ok(RowSource {
            report,
            total_bytes,
            bytes_read: 0,
            blank_lines: 0,
            complete: false,
            receiver: rows_rx,
            pending: Vec::new().into_iter(),
        })
    }

    /// The next row, or `None` after the last one. A read failure mid-file arrives as a
    /// row error.
    pub async fn next(&mut self) -> Option<RowResult<T>> {
        loop {
            if let Some(row) = self.pending.next() {
                return Some(row);
            }
            match self.receiver.recv().await? {
                Message::Rows { rows, bytes_read } => {
                    self.bytes_read = bytes_read;
                    self.pending = rows.into_iter();
                }
                Message::Done { blank_lines, complete } => {
                    self.blank_lines = blank_lines;
                    self.complete = complete;
                    self.bytes_read = self.total_bytes;
                }
            }
        }
    }
}

fn pump_rows<T: FormatRow, R: std::io::Read + std::io::Seek>(
    reader: &mut Reader<T, R>,
    sender: &mpsc::Sender<Message<T>>,
) {
    let mut batch = Vec::with_capacity(BATCH_ROWS);
    while let Some(row) = reader.next_row() {
        batch.push(row);
        if batch.len() == BATCH_ROWS {
            let rows = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_ROWS));
            let message = Message::Rows {
                rows,
                bytes_read: reader.bytes_read(),
            };
            if sender.blocking_send(message).is_err() {
                // The importer stopped listening.
                return;
            }
        }
    }
    if !batch.is_empty() {
        let message = Message::Rows {
            rows: batch,
            bytes_read: reader.bytes_read(),
        };
        if sender.blocking_send(message).is_err() {
            return;
        }
    }
    let _ = sender.blocking_send(Message::Done {
        blank_lines: reader.blank_lines(),
        complete: !reader.stopped_early(),
    });
}

fn file_error(problem: &str) -> FileError {
    FileError {
        line: None,
        column: None,
        problem: problem.to_string(),
    }
}
