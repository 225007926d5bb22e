//! Encoding detection and a streaming decoder that turns any accepted encoding into UTF-8.
//!
//! Detection order: a byte order mark; else UTF-16 recognised from NUL bytes in every other
//! position; else strict UTF-8 over the whole input; else windows-1252. The whole input is
//! scanned once in fixed-size chunks, then the input is rewound, so memory use does not
//! depend on the file size.

use crate::error::FileError;
use encoding_rs::{CoderResult, Decoder, Encoding, UTF_16BE, UTF_16LE, WINDOWS_1252};
use std::io::{self, Read, Seek, SeekFrom};

const CHUNK: usize = 64 * 1024;

/// How many leading bytes are looked at for a byte order mark or UTF-16 NUL patterns.
const SNIFF: usize = 4096;

/// The encoding found for an input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Detected {
    /// Name shown in the import report.
    pub(crate) label: &'static str,
    /// Length of the byte order mark, skipped before decoding.
    pub(crate) bom_len: u64,
    /// `None` when the input is already UTF-8 and is passed through.
    pub(crate) transcode: Option<&'static Encoding>,
}

const UTF8: Detected = Detected {
    label: "UTF-8",
    bom_len: 0,
    transcode: None,
};

/// Detects the encoding of `input`, checks that the decoded text has no NUL character, and
/// leaves `input` positioned after the byte order mark.
pub(crate) fn detect<R: Read + Seek>(input: &mut R) -> Result<Detected, FileError> {
    input.seek(SeekFrom::Start(0)).map_err(read_error)?;
    let mut sniff = Vec::with_capacity(SNIFF);
    input
        .by_ref()
        .take(SNIFF as u64)
        .read_to_end(&mut sniff)
        .map_err(read_error)?;

    let detected = match sniff.as_slice() {
        [0xEF, 0xBB, 0xBF, ..] => Detected {
            label: "UTF-8 (BOM)",
            bom_len: 3,
            transcode: None,
        },
        [0xFF, 0xFE, ..] => Detected {
            label: "UTF-16LE",
            bom_len: 2,
            transcode: Some(UTF_16LE),
        },
        [0xFE, 0xFF, ..] => Detected {
            label: "UTF-16BE",
            bom_len: 2,
            transcode: Some(UTF_16BE),
        },
        bytes => match utf16_without_bom(bytes) {
            Some(encoding) => Detected {
                label: encoding.name(),
                bom_len: 0,
                transcode: Some(encoding),
            },
            None => UTF8,
        },
    };

    input
        .seek(SeekFrom::Start(detected.bom_len))
        .map_err(read_error)?;
    let detected = match detected.transcode {
        Some(_) => {
            scan_decoded(input, detected)?;
            detected
        }
        None => {
            if scan_utf8(input)? {
                detected
            } else {
                Detected {
                    label: "windows-1252",
                    bom_len: detected.bom_len,
                    transcode: Some(WINDOWS_1252),
                }
            }
        }
    };
    input
        .seek(SeekFrom::Start(detected.bom_len))
        .map_err(read_error)?;
    Ok(detected)
}

/// Recognises UTF-16 without a byte order mark: CSV headers are ASCII, so in UTF-16 every
/// other byte is NUL. Little endian has the NULs at odd offsets, big endian at even ones.
fn utf16_without_bom(bytes: &[u8]) -> Option<&'static Encoding> {
    let pairs = bytes.len() / 2;
    if pairs == 0 {
        return None;
    }
    let mut even_nuls = 0;
    let mut odd_nuls = 0;
    for pair in bytes.chunks_exact(2) {
        if pair[0] == 0 {
            even_nuls += 1;
        }
        if pair[1] == 0 {
            odd_nuls += 1;
        }
    }
    if odd_nuls * 4 >= pairs && even_nuls * 4 < odd_nuls {
        Some(UTF_16LE)
    } else if even_nuls * 4 >= pairs && odd_nuls * 4 < even_nuls {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// Reads the rest of `input`, returning whether it is valid UTF-8. Rejects a NUL byte,
/// because neither UTF-8 nor windows-1252 text of a CSV file contains one.
fn scan_utf8<R: Read>(input: &mut R) -> Result<bool, FileError> {
    let mut buffer = vec![0u8; CHUNK];
    let mut carried = 0;
    let mut valid = true;
    let mut lines = NulFinder::default();
    loop {
        let read = read_some(input, &mut buffer[carried..])?;
        let end = carried + read;
        let at_end = read == 0;
        lines.scan(&buffer[carried..end])?;

        let mut keep = 0;
        if valid {
            match std::str::from_utf8(&buffer[..end]) {
                Ok(_) => {}
                // An incomplete sequence at the chunk end continues in the next chunk.
                Err(error) if error.error_len().is_none() && !at_end => {
                    keep = end - error.valid_up_to();
                }
                Err(_) => valid = false,
            }
        }
        if at_end {
            return Ok(valid);
        }
        buffer.copy_within(end - keep..end, 0);
        carried = keep;
    }
}

/// Decodes the rest of `input` and rejects text that still contains a NUL character.
fn scan_decoded<R: Read>(input: &mut R, detected: Detected) -> Result<(), FileError> {
    let mut decoder = DecodeReader::new(input, detected);
    let mut buffer = vec![0u8; CHUNK];
    let mut lines = NulFinder::default();
    loop {
        let read = read_some(&mut decoder, &mut buffer)?;
        if read == 0 {
            return Ok(());
        }
        lines.scan(&buffer[..read])?;
    }
}

/// Counts lines while looking for a NUL byte, so the error can name the line.
#[derive(Default)]
struct NulFinder {
    newlines: u64,
}

impl NulFinder {
    fn scan(&mut self, bytes: &[u8]) -> Result<(), FileError> {
        match bytes.iter().position(|&byte| byte == 0) {
            None => {
                self.newlines += count_newlines(bytes);
                Ok(())
            }
            Some(index) => {
                let line = self.newlines + count_newlines(&bytes[..index]) + 1;
                Err(FileError::at_line(
                    line,
                    "the text contains a NUL character, so it is not a CSV text file or its \
                     encoding was not recognised; save it as \"CSV UTF-8\"",
                ))
            }
        }
    }
}

pub(crate) fn count_newlines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&byte| byte == b'\n').count() as u64
}

fn read_some<R: Read>(input: &mut R, buffer: &mut [u8]) -> Result<usize, FileError> {
    loop {
        match input.read(buffer) {
            Ok(read) => return Ok(read),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(read_error(error)),
        }
    }
}

pub(crate) fn read_error(error: io::Error) -> FileError {
    FileError::new(format!("failed to read the file: {error}"))
}

/// A reader yielding UTF-8: it passes UTF-8 input through and transcodes anything else in
/// fixed-size chunks. Malformed input becomes U+FFFD.
pub(crate) struct DecodeReader<R> {
    inner: R,
    decoder: Option<Decoder>,
    input: Vec<u8>,
    input_start: usize,
    input_end: usize,
    input_done: bool,
    output: Vec<u8>,
    output_start: usize,
    output_end: usize,
    finished: bool,
    consumed: u64,
}

impl<R: Read> DecodeReader<R> {
    /// Starts decoding `inner`, which must be positioned after the byte order mark.
    pub(crate) fn new(inner: R, detected: Detected) -> Self {
        let decoder = detected
            .transcode
            .map(|encoding| encoding.new_decoder_without_bom_handling());
        let buffers = if decoder.is_some() { CHUNK } else { 0 };
        Self {
            inner,
            decoder,
            input: vec![0; buffers],
            input_start: 0,
            input_end: 0,
            input_done: false,
            output: vec![0; buffers],
            output_start: 0,
            output_end: 0,
            finished: false,
            consumed: detected.bom_len,
        }
    }

    /// Bytes read from the underlying input so far, including any byte order mark.
    pub(crate) fn consumed(&self) -> u64 {
        self.consumed
    }
}

impl<R: Read> Read for DecodeReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.decoder.is_none() {
            let read = self.inner.read(buf)?;
            self.consumed += read as u64;
            return Ok(read);
        }

        loop {
            if self.output_start < self.output_end {
                let available = &self.output[self.output_start..self.output_end];
                let count = available.len().min(buf.len());
                buf[..count].copy_from_slice(&available[..count]);
                self.output_start += count;
                return Ok(count);
            }
            if self.finished || buf.is_empty() {
                return Ok(0);
            }

            if self.input_start == self.input_end && !self.input_done {
                let read = self.inner.read(&mut self.input)?;
                self.consumed += read as u64;
                self.input_start = 0;
                self.input_end = read;
                self.input_done = read == 0;
            }

            let Some(decoder) = self.decoder.as_mut() else {
                return Ok(0);
            };
            let (result, read, written, _) = decoder.decode_to_utf8(
                &self.input[self.input_start..self.input_end],
                &mut self.output,
                self.input_done,
            );
            self.input_start += read;
            self.output_start = 0;
            self.output_end = written;
            if self.input_done && result == CoderResult::InputEmpty {
                self.finished = true;
            }
        }
    }
}
