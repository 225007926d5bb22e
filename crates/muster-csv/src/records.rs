//! RFC 4180 record splitting on top of `csv_core`, with physical line numbers.
//!
//! The `csv` crate reports the position where a read started, which is before any blank
//! lines it skipped, so it cannot name the line a record is on. This reader owns the input
//! buffer instead: it sees every consumed byte, counts line feeds, and records the line of
//! the first byte of each record. It reuses its buffers, so reading allocates nothing per row.

use crate::decode::count_newlines;
use csv_core::{ReadRecordResult, ReaderBuilder};
use std::io::{self, Read};

const BUFFER: usize = 64 * 1024;
/// Longest accepted row, so one huge cell (or a quote never closed, which swallows the
/// rest of the file into one field) cannot take the memory of the whole file.
pub(crate) const MAX_RECORD_BYTES: usize = 1024 * 1024;

pub(crate) struct RecordReader<S> {
    source: S,
    core: csv_core::Reader,
    input: Vec<u8>,
    input_start: usize,
    input_end: usize,
    at_eof: bool,
    /// 1 + line feeds consumed so far.
    line: u64,
    /// Line of the last byte of the previous record, 0 before the first record.
    previous_end_line: u64,
    fields: Vec<u8>,
    fields_len: usize,
    ends: Vec<usize>,
    field_count: usize,
    record_line: u64,
    blank_lines: u64,
    /// The last byte consumed, to tell a closing quote at the end of the input.
    last_byte: Option<u8>,
    /// Whether the record being read has an odd number of `"` so far.
    odd_quotes: bool,
}

impl<S: Read> RecordReader<S> {
    pub(crate) fn new(source: S, delimiter: u8) -> Self {
        Self {
            source,
            core: ReaderBuilder::new().delimiter(delimiter).build(),
            input: vec![0; BUFFER],
            input_start: 0,
            input_end: 0,
            at_eof: false,
            line: 1,
            previous_end_line: 0,
            fields: vec![0; 1024],
            fields_len: 0,
            ends: vec![0; 32],
            field_count: 0,
            record_line: 0,
            blank_lines: 0,
            last_byte: None,
            odd_quotes: false,
        }
    }

    pub(crate) fn source(&self) -> &S {
        &self.source
    }

    /// Reads the next record, returning `false` at the end of the input.
    pub(crate) fn read_record(&mut self) -> io::Result<bool> {
        let mut output_len = 0;
        let mut end_count = 0;
        let mut started = false;
        self.odd_quotes = false;
        loop {
            if self.input_start == self.input_end && !self.at_eof {
                self.refill()?;
            }
            let input = &self.input[self.input_start..self.input_end];
            let (result, read, written, ended) = self.core.read_record(
                input,
                &mut self.fields[output_len..],
                &mut self.ends[end_count..],
            );

            let consumed = &input[..read];
            let mut rest = consumed;
            while !started {
                match rest.split_first() {
                    None => break,
                    Some((b'\n', tail)) => {
                        self.line += 1;
                        rest = tail;
                    }
                    Some((b'\r', tail)) => rest = tail,
                    Some(_) => {
                        started = true;
                        self.record_line = self.line;
                    }
                }
            }
            self.line += count_newlines(rest);
            self.odd_quotes ^= consumed.iter().filter(|&&byte| byte == b'"').count() % 2 == 1;
            let last_byte = consumed.last().copied();
            if last_byte.is_some() {
                self.last_byte = last_byte;
            }

            self.input_start += read;
            output_len += written;
            // csv_core writes field ends as offsets from the start of the record.
            end_count += ended;

            match result {
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull => {
                    let larger = self.fields.len() * 2;
                    if larger > MAX_RECORD_BYTES {
                        let line = if started { self.record_line } else { self.line };
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!(
                                "the row starting on line {line} is longer than {} KiB: look for a quote that is never closed, or a cell that is not meant to be there",
                                MAX_RECORD_BYTES / 1024
                            ),
                        ));
                    }
                    self.fields.resize(larger, 0);
                }
                ReadRecordResult::OutputEndsFull => {
                    let larger = self.ends.len() * 2;
                    self.ends.resize(larger, 0);
                }
                ReadRecordResult::Record => {
                    if !started {
                        self.record_line = self.line;
                    }
                    let over_lines = self.line > self.record_line;
                    if input.is_empty() && (over_lines || self.odd_quotes) && self.last_byte != Some(b'"') {
                        return Err(self.unclosed_quote());
                    }
                    self.count_blank_lines_before(self.record_line);
                    self.previous_end_line = self.line - u64::from(last_byte == Some(b'\n'));
                    self.field_count = end_count;
                    self.fields_len = output_len;
                    return Ok(true);
                }
                ReadRecordResult::End => {
                    self.count_blank_lines_before(self.line);
                    return Ok(false);
                }
            }
        }
    }

    /// Builds the error for a record that reached the end of the input inside a quoted
    /// cell. Such a record spans several lines or contains an odd number of quotes, and
    /// does not end on a quote: a quote opened in the row was never closed.
    fn unclosed_quote(&self) -> io::Error {
        let first = self.record_line;
        let last = self.line - u64::from(self.last_byte == Some(b'\n'));
        let lines = if last > first {
            format!("so lines {first} to {last} were read as one row")
        } else {
            "so the rest of the line was read as one cell".to_string()
        };
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "a quote in the row starting on line {first} is never closed, {lines}: \
                 close the quote, or write a quote that is part of a value as two (\"\")"
            ),
        )
    }

    fn refill(&mut self) -> io::Result<()> {
        loop {
            match self.source.read(&mut self.input) {
                Ok(read) => {
                    self.input_start = 0;
                    self.input_end = read;
                    self.at_eof = read == 0;
                    return Ok(());
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(error),
            }
        }
    }

    /// Adds the lines strictly between the previous record and `line` to the blank count.
    fn count_blank_lines_before(&mut self, line: u64) {
        self.blank_lines += line.saturating_sub(self.previous_end_line + 1);
    }

    /// Line on which the last record read starts.
    pub(crate) fn record_line(&self) -> u64 {
        self.record_line
    }

    /// Lines skipped because they were empty.
    pub(crate) fn blank_lines(&self) -> u64 {
        self.blank_lines
    }

    /// The last record read, as UTF-8 text and field end offsets into it.
    pub(crate) fn record(&self) -> Result<(&str, &[usize]), std::str::Utf8Error> {
        let text = std::str::from_utf8(&self.fields[..self.fields_len])?;
        Ok((text, &self.ends[..self.field_count]))
    }
}
