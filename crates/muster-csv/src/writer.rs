//! Export: RFC 4180 CSV in UTF-8 without BOM and CRLF line ends, protected against
//! formula injection unless raw output is requested.

use crate::kind::CsvKind;
use crate::record::starts_protected;
use crate::rows::FormatRow;
use std::borrow::Cow;
use std::io::Write;

/// How cells are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExportMode {
    /// For people: a cell starting with `=`, `+`, `-`, `@`, tab or CR gets a `'` prefix so
    /// that spreadsheets show it as text instead of running it as a formula.
    Safe,
    /// For machines: cells exactly as they are.
    Raw,
}

/// Writes one format's header and rows.
pub struct Writer<W: Write> {
    csv: csv::Writer<W>,
    kind: CsvKind,
    mode: ExportMode,
}

impl<W: Write> Writer<W> {
    /// Starts a file of `kind` and writes its header line.
    pub fn new(output: W, kind: CsvKind, mode: ExportMode) -> Result<Self, csv::Error> {
        let csv = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .quote_style(csv::QuoteStyle::Necessary)
            .from_writer(output);
        let mut writer = Self { csv, kind, mode };
        writer.write_fields(kind.headers())?;
        Ok(writer)
    }

    pub fn kind(&self) -> CsvKind {
        self.kind
    }

    pub fn write_row<T: FormatRow>(&mut self, row: &T) -> Result<(), csv::Error> {
        let fields = row.to_record();
        self.write_fields(&fields)
    }

    /// Writes one line of cells, in the order of [`CsvKind::headers`]; a line with another
    /// number of cells than the header is an error.
    pub fn write_fields<S: AsRef<str>>(&mut self, fields: &[S]) -> Result<(), csv::Error> {
        let mode = self.mode;
        self.csv.write_record(
            fields
                .iter()
                .map(|field| CellBytes(protect(field.as_ref(), mode))),
        )
    }

    /// Flushes and returns the output.
    pub fn finish(self) -> Result<W, csv::Error> {
        self.csv
            .into_inner()
            .map_err(|error| csv::Error::from(error.into_error()))
    }
}

/// Applies [`ExportMode`] to one cell.
pub fn protect(cell: &str, mode: ExportMode) -> Cow<'_, str> {
    match mode {
        ExportMode::Safe if starts_protected(cell) => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

/// A cell handed to the `csv` writer, which takes bytes.
struct CellBytes<'a>(Cow<'a, str>);

impl AsRef<[u8]> for CellBytes<'_> {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}
