//! Answers every connection on port 7070 with a greeting line.

use std::io::Write;
use std::net::TcpListener;

fn main() -> std::io::Result<()> {
    let listener = TcpListener::bind("0.0.0.0:7070")?;
    for stream in listener.incoming() {
        let _ = writeln!(stream?, "{}", greeter::greeting("network"));
    }
    Ok(())
}
