//! Streaming reader: decode, choose the delimiter, check the header, then one row at a time.

use crate::decode::{self, read_error, DecodeReader};
use crate::dialect::{self, fields};
use crate::error::{FileError, RowError};
use crate::header::map_columns;
use crate::record::Record;
use crate::records::RecordReader;
use crate::rows::FormatRow;
use std::fs::File;
use std::io::{BufReader, Cursor, Read, Seek, SeekFrom};
use std::marker::PhantomData;
use std::path::Path;

/// What the reader found out about the file, for the import report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileReport {
    /// `UTF-8`, `UTF-8 (BOM)`, `UTF-16LE`, `UTF-16BE` or `windows-1252`.
    pub encoding: &'static str,
    pub delimiter: char,
    /// `sep= line`, `detected` or `default`.
    pub delimiter_source: &'static str,
    /// Header cells that name no column of the format; their values are ignored.
    pub ignored_columns: Vec<String>,
    pub warnings: Vec<String>,
}

type Source<R> = std::io::Chain<Cursor<Vec<u8>>, DecodeReader<R>>;

/// Reads rows of type `T` from a CSV file, one at a time.
pub struct Reader<T: FormatRow, R> {
    records: RecordReader<Source<R>>,
    positions: Vec<Option<usize>>,
    width: usize,
    /// Lines before the CSV text (a `sep=` line).
    line_offset: u64,
    /// All-empty rows such as `,,,`, which the parser does not skip by itself.
    empty_rows: u64,
    report: FileReport,
    total_bytes: u64,
    failed: bool,
    row_type: PhantomData<fn() -> T>,
}

impl<T: FormatRow, R: Read + Seek> Reader<T, R> {
    /// Detects the encoding and delimiter and reads and checks the header.
    pub fn new(mut input: R) -> Result<Self, FileError> {
        let total_bytes = input.seek(SeekFrom::End(0)).map_err(read_error)?;
        let detected = decode::detect(&mut input)?;
        let mut decoded = DecodeReader::new(input, detected);
        let (sample, complete) = dialect::read_sample(&mut decoded).map_err(read_error)?;
        let dialect = dialect::detect(&sample, complete, T::KIND)?;

        let mut head = Cursor::new(sample);
        head.set_position(dialect.skip_bytes as u64);
        let mut records = RecordReader::new(head.chain(decoded), dialect.delimiter);

        let mut empty_rows = 0;
        let columns = loop {
            if !records.read_record().map_err(read_error)? {
                return Err(FileError::new(format!(
                    "the file is empty; the {} format starts with the header line {}",
                    T::KIND.title(),
                    T::KIND.headers().join(",")
                )));
            }
            let line = records.record_line() + dialect.skip_lines;
            let (text, ends) = records.record().map_err(|error| {
                FileError::at_line(line, format!("the header is not valid text: {error}"))
            })?;
            let cells: Vec<&str> = fields(text, ends).collect();
            if cells.iter().all(|cell| cell.trim().is_empty()) {
                empty_rows += 1;
                continue;
            }
            break map_columns(T::KIND, &cells, line)?;
        };

        let mut warnings = Vec::new();
        if detected.label == "windows-1252" {
            warnings.push(
                "the file is not valid UTF-8 and was read as windows-1252; \
                 check accented names, or save it as \"CSV UTF-8\""
                    .to_string(),
            );
        }
        warnings.extend(columns.warnings);
        let report = FileReport {
            encoding: detected.label,
            delimiter: char::from(dialect.delimiter),
            delimiter_source: dialect.source,
            ignored_columns: columns.ignored,
            warnings,
        };
        Ok(Self {
            records,
            positions: columns.positions,
            width: columns.width,
            line_offset: dialect.skip_lines,
            empty_rows,
            report,
            total_bytes,
            failed: false,
            row_type: PhantomData,
        })
    }
}

impl<T: FormatRow, R: Read> Reader<T, R> {
    pub fn report(&self) -> &FileReport {
        &self.report
    }

    /// Reads the next row; `None` at the end of the file or after a read failure.
    ///
    /// Blank rows (no text, or only delimiters and spaces) are skipped and counted.
    pub fn next_row(&mut self) -> Option<Result<T, Vec<RowError>>> {
        loop {
            if self.failed {
                return None;
            }
            match self.records.read_record() {
                Ok(true) => {}
                Ok(false) => return None,
                Err(error) => {
                    self.failed = true;
                    let line = self.records.record_line() + self.line_offset;
                    return Some(Err(vec![RowError {
                        line,
                        column: None,
                        value: None,
                        problem: format!("failed to read the file: {error}"),
                    }]));
                }
            }
            if let Some(result) = self.current_row() {
                return Some(result);
            }
            self.empty_rows += 1;
        }
    }

    /// Converts the record just read, or `None` when it is blank.
    fn current_row(&self) -> Option<Result<T, Vec<RowError>>> {
        let line = self.records.record_line() + self.line_offset;
        let (text, ends) = match self.records.record() {
            Ok(record) => record,
            Err(error) => {
                return Some(Err(vec![RowError {
                    line,
                    column: None,
                    value: None,
                    problem: format!("the row is not valid text: {error}"),
                }]))
            }
        };
        if fields(text, ends).all(|field| field.trim().is_empty()) {
            return None;
        }

        let extra: Vec<RowError> = fields(text, ends)
            .enumerate()
            .skip(self.width)
            .filter(|(_, field)| !field.trim().is_empty())
            .map(|(position, field)| RowError {
                line,
                column: Some(format!("column {}", position + 1)),
                value: Some(field.trim().to_string()),
                problem: format!(
                    "unexpected value after the last column; the header has {} columns",
                    self.width
                ),
            })
            .collect();
        let record = Record::new(T::KIND, line, text, ends, &self.positions);
        let row = T::from_record(&record);
        Some(match (row, extra.is_empty()) {
            (Ok(row), true) => Ok(row),
            (Ok(_), false) => Err(extra),
            (Err(mut errors), _) => {
                errors.extend(extra);
                Err(errors)
            }
        })
    }

    /// Bytes of the input consumed so far; runs ahead of the rows returned by the read buffer.
    pub fn bytes_read(&self) -> u64 {
        self.records.source().get_ref().1.consumed()
    }

    /// Returns whether reading stopped at a problem before the end of the file (a quote
    /// never closed, a row over 1 MiB, a read error), so the rows after it were never seen.
    pub fn stopped_early(&self) -> bool {
        self.failed
    }

    pub fn total_bytes(&self) -> u64 {
        self.total_bytes
    }

    /// Lines skipped because they were empty or held only delimiters and spaces.
    pub fn blank_lines(&self) -> u64 {
        self.records.blank_lines() + self.empty_rows
    }
}

impl<T: FormatRow, R: Read> Iterator for Reader<T, R> {
    type Item = Result<T, Vec<RowError>>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_row()
    }
}

/// Opens a file and reads its header; see [`Reader::new`].
pub fn open_path<T: FormatRow>(path: &Path) -> Result<Reader<T, BufReader<File>>, FileError> {
    let file = File::open(path)
        .map_err(|error| FileError::new(format!("failed to open `{}`: {error}", path.display())))?;
    Reader::new(BufReader::with_capacity(64 * 1024, file))
}
