//! Timing of a large entity-relations file. Ignored by default because it writes ~100 MB;
//! run it with `cargo test --release -p muster-csv --test perf -- --ignored --nocapture`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use muster_csv::{open_path, RelationRow};
use std::io::{BufWriter, Write};
use std::time::Instant;

const ROWS: u64 = 1_000_000;

#[test]
#[ignore = "writes a large temporary file; run by hand for timings"]
fn read_million_relations() {
    let file = tempfile::NamedTempFile::new().unwrap();
    {
        let mut out = BufWriter::new(file.as_file());
        writeln!(out, "App,Parent Entity Source ID,Parent Entity Type,Entity Source ID,Entity Type,Source System,Metadata Version,Metadata").unwrap();
        for index in 0..ROWS {
            writeln!(
                out,
                "aws,arn:aws:iam::000000000000:user/u{index},identity,arn:aws:iam::000000000000:group/g{},connection,aws,v1,\"{{\"\"project\"\":\"\"000000000000\"\",\"\"privilegeName\"\":\"\"member\"\"}}\"",
                index % 1000
            )
            .unwrap();
        }
        out.flush().unwrap();
    }
    let size = file.as_file().metadata().unwrap().len();

    let started = Instant::now();
    let mut reader = open_path::<RelationRow>(file.path()).unwrap();
    let opened = started.elapsed();
    let mut count = 0u64;
    while let Some(row) = reader.next_row() {
        let row = row.unwrap();
        assert_eq!(row.project(), "000000000000");
        count += 1;
    }
    let elapsed = started.elapsed();
    assert_eq!(count, ROWS);
    assert_eq!(reader.bytes_read(), size);
    println!(
        "{ROWS} rows, {} MB: encoding scan and header {opened:?}, total {elapsed:?}",
        size / 1_000_000
    );
}
