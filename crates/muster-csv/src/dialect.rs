//! Delimiter choice: a `sep=X` first line, else detection from the first lines of the file.

use crate::error::FileError;
use crate::kind::{normalize_header, CsvKind};
use crate::records::RecordReader;
use std::io::{self, Read};

/// Delimiters tried by detection, in order of preference on a tie.
const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];

/// Lines read ahead for detection. Their records are parsed with each candidate.
const SAMPLE_LINES: u64 = 21;

/// Upper bound of the read-ahead, for files with very long lines.
const SAMPLE_BYTES: usize = 1024 * 1024;

pub(crate) struct Dialect {
    pub(crate) delimiter: u8,
    pub(crate) source: &'static str,
    /// Bytes of the sample taken by a `sep=` line, which the CSV parser must skip.
    pub(crate) skip_bytes: usize,
    /// Lines before the CSV text: 1 with a `sep=` line, else 0.
    pub(crate) skip_lines: u64,
}

/// Reads the first lines of the decoded text for [`detect`], and whether that was all of it.
pub(crate) fn read_sample<R: Read>(input: &mut R) -> io::Result<(Vec<u8>, bool)> {
    let mut sample = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    let mut newlines = 0;
    while newlines < SAMPLE_LINES && sample.len() < SAMPLE_BYTES {
        let read = match input.read(&mut chunk) {
            Ok(0) => return Ok((sample, true)),
            Ok(read) => read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        newlines += crate::decode::count_newlines(&chunk[..read]);
        sample.extend_from_slice(&chunk[..read]);
    }
    Ok((sample, false))
}

/// Chooses the delimiter from `sample`, the start of the decoded text.
pub(crate) fn detect(sample: &[u8], complete: bool, kind: CsvKind) -> Result<Dialect, FileError> {
    if let Some((delimiter, skip_bytes)) = sep_line(sample)? {
        return Ok(Dialect {
            delimiter,
            source: "sep= line",
            skip_bytes,
            skip_lines: 1,
        });
    }

    let mut best = (b',', Score::default());
    for delimiter in CANDIDATES {
        let score = score(sample, delimiter, kind, complete);
        if score > best.1 {
            best = (delimiter, score);
        }
    }
    let source = if best.1 == Score::default() {
        "default"
    } else {
        "detected"
    };
    Ok(Dialect {
        delimiter: best.0,
        source,
        skip_bytes: 0,
        skip_lines: 0,
    })
}

/// Parses a first line `sep=X` as Excel writes it, returning the delimiter and the line's
/// length including its line end.
fn sep_line(sample: &[u8]) -> Result<Option<(u8, usize)>, FileError> {
    let line_end = sample
        .iter()
        .position(|&byte| byte == b'\n')
        .unwrap_or(sample.len());
    let line = &sample[..line_end];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let line = trim_spaces(line);
    let line = match line {
        [b'"', inner @ .., b'"'] => inner,
        other => other,
    };
    if line.len() < 4 || !line[..4].eq_ignore_ascii_case(b"sep=") {
        return Ok(None);
    }

    let skip = (line_end + 1).min(sample.len());
    match &line[4..] {
        [delimiter] if delimiter.is_ascii() && !matches!(delimiter, b'"' | b'\r' | b'\n') => {
            Ok(Some((*delimiter, skip)))
        }
        _ => Err(FileError::at_line(
            1,
            "the `sep=` line must name one ASCII delimiter character, e.g. `sep=;`",
        )),
    }
}

fn trim_spaces(mut bytes: &[u8]) -> &[u8] {
    while let [b' ', rest @ ..] = bytes {
        bytes = rest;
    }
    while let [rest @ .., b' '] = bytes {
        bytes = rest;
    }
    bytes
}

/// How well a delimiter fits: known header names first, then lines with the header's
/// field count.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Score {
    known_headers: usize,
    consistent_lines: usize,
}

fn score(sample: &[u8], delimiter: u8, kind: CsvKind, complete: bool) -> Score {
    let mut reader = RecordReader::new(sample, delimiter);
    let mut counts = Vec::new();
    let mut header_known = 0;
    let mut first = true;
    while let Ok(true) = reader.read_record() {
        let Ok((text, ends)) = reader.record() else {
            break;
        };
        let fields: Vec<&str> = fields(text, ends).collect();
        if fields.iter().all(|field| field.trim().is_empty()) {
            continue;
        }
        let width = fields
            .iter()
            .rposition(|field| !field.trim().is_empty())
            .map_or(0, |last| last + 1);
        if first {
            header_known = fields
                .iter()
                .filter(|field| kind.column_index(&normalize_header(field)).is_some())
                .count();
            first = false;
        }
        counts.push(width);
    }
    // The last line of an incomplete sample may be cut short.
    if !complete {
        counts.pop();
    }

    let Some((&header_width, rest)) = counts.split_first() else {
        return Score::default();
    };
    let consistent_lines = if header_width > 1 {
        rest.iter().filter(|&&width| width == header_width).count()
    } else {
        0
    };
    Score {
        known_headers: header_known,
        consistent_lines,
    }
}

/// The fields of a record given as its text and the end offset of each field.
pub(crate) fn fields<'a>(text: &'a str, ends: &'a [usize]) -> impl Iterator<Item = &'a str> + 'a {
    let mut start = 0;
    ends.iter().map(move |&end| {
        let field = text.get(start..end).unwrap_or("");
        start = end;
        field
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn chosen(sample: &str) -> (char, &'static str) {
        let dialect = detect(sample.as_bytes(), true, CsvKind::Entities).unwrap();
        (char::from(dialect.delimiter), dialect.source)
    }

    #[test]
    fn known_headers_decide_first() {
        assert_eq!(
            chosen("Name;Source ID;x,y,z,w\n1;2;3,4,5,6\n"),
            (';', "detected")
        );
    }

    #[test]
    fn field_counts_break_ties() {
        // No known header: `;` gives the header's field count on both data lines.
        assert_eq!(chosen("a;b;c\n1;2;3\n4;5;6\n"), (';', "detected"));
        // One known header under `,` and one under `|`: the rows agree with `|` only.
        assert_eq!(
            chosen("Name|x,Source ID|z,w\n1|2|3\n4|5|6\n"),
            ('|', "detected")
        );
    }

    #[test]
    fn no_evidence_means_default_comma() {
        assert_eq!(chosen("just one column\nvalue\n"), (',', "default"));
        assert_eq!(chosen(""), (',', "default"));
    }

    #[test]
    fn cut_off_sample_ignores_its_last_line() {
        let sample = "a;b;c\n1;2;3\n4;5";
        let dialect = detect(sample.as_bytes(), false, CsvKind::Entities).unwrap();
        assert_eq!(dialect.delimiter, b';');
    }
}
