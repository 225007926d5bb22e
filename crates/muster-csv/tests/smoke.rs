use muster_csv::{EntityRow, Reader};
use std::io::Cursor;

#[test]
fn reads_entities() {
    let data = "Name,Entity Type,Source System,Source ID,Source Type\r\nalice,identity,aws,001,user\r\n\r\nbob,group,aws,002,user\r\n";
    let mut reader = Reader::<EntityRow, _>::new(Cursor::new(data.as_bytes().to_vec())).unwrap();
    let first = reader.next_row().unwrap().unwrap();
    assert_eq!(first.source_id, "001");
    assert_eq!(first.line, 2);
    let second = reader.next_row().unwrap().unwrap_err();
    assert_eq!(second[0].line, 4, "{second:?}");
    assert!(reader.next_row().is_none());
    assert_eq!(reader.blank_lines(), 1);
    println!("{:?}", reader.report());
}
