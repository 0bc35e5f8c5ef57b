//! A small HTTP server with nothing but std: `/` greets, `/healthz` says `ok` (until `/fail`
//! is asked, to show the healthcheck turning unhealthy), `/version` tells the image it ships in
//! (from `containerize-build`, at compile time).

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether `/healthz` still says `ok`.
static HEALTHY: AtomicBool = AtomicBool::new(true);

#[containerize::main(
    expose = 8080,
    healthcheck(path = "/healthz", interval = "1s", timeout = "1s", start_period = "10s", retries = 2)
)]
fn main() -> std::io::Result<()> {
    let address = std::env::var("WEB_ADDRESS").unwrap_or_else(|_| "0.0.0.0:8080".to_owned());
    let listener = TcpListener::bind(&address)?;
    eprintln!("listening on {address}");
    for stream in listener.incoming() {
        if let Err(error) = stream.and_then(answer) {
            eprintln!("request failed: {error}");
        }
    }
    Ok(())
}

fn answer(stream: TcpStream) -> std::io::Result<()> {
    let mut reader = BufReader::new(&stream);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // Read the headers, up to the blank line, so the client sees a clean close.
    let mut header = String::new();
    while reader.read_line(&mut header)? > 2 {
        header.clear();
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("/");
    let (status, body) = match path {
        "/" => ("200 OK", format!("{}\n", std::env::var("WEB_GREETING").unwrap_or_else(|_| "Hello".to_owned()))),
        "/healthz" if HEALTHY.load(Ordering::Relaxed) => ("200 OK", "ok\n".to_owned()),
        "/healthz" => ("503 Service Unavailable", "failing\n".to_owned()),
        "/fail" => {
            HEALTHY.store(false, Ordering::Relaxed);
            ("200 OK", "/healthz fails from now on\n".to_owned())
        }
        "/version" => ("200 OK", version()),
        _ => ("404 Not Found", "not found\n".to_owned()),
    };
    let mut stream = stream;
    write!(stream, "HTTP/1.1 {status}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len())
}

/// The image, version and commit this binary was built as.
fn version() -> String {
    let revision = env!("CONTAINERIZE_REVISION");
    let revision = if revision.is_empty() { "unknown" } else { revision };
    format!(
        "image {}\nversion {}\nrevision {revision}\n",
        env!("CONTAINERIZE_IMAGE"),
        env!("CONTAINERIZE_VERSION")
    )
}
