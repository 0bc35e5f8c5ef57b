//! What `#[containerize::main]` adds to a binary at run time: the healthcheck probe its image's
//! `HEALTHCHECK` runs, and, as PID 1, an init (see [`init`]) that forwards signals to the app,
//! reaps orphaned processes and ends with the app's status. Small on purpose: std,
//! signal-hook and rustix, no async runtime.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

// Containers run Linux; elsewhere the binary runs as it would without the attribute.
#[cfg(target_os = "linux")]
mod init;

/// Who handles the stop signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signals {
    /// Exit at once with status 128 + the signal.
    Exit,
    /// The app.
    App,
}

/// Called first in `main`: answers a healthcheck and exits; as PID 1, becomes the container's
/// init and runs the app as its child; in that child, sets up the stop signal. The flag and the
/// variable are the plan's, which the macro passes in: the app compiles none of the core.
pub fn start(signals: Signals, healthcheck_flag: &str, stop_signal_variable: &str) {
    // Arguments as the OS gives them: an app may well take file names that are not UTF-8.
    let mut args = std::env::args_os().skip(1);
    if args.next().is_some_and(|first| first == healthcheck_flag) {
        let mut text = args.map(OsString::into_string);
        let url = text.next().and_then(Result::ok).unwrap_or_default();
        let timeout = text.next().and_then(Result::ok).and_then(|t| t.parse().ok()).unwrap_or(5000);
        std::process::exit(match probe(&url, Duration::from_millis(timeout)) {
            Ok(()) => 0,
            Err(reason) => {
                eprintln!("unhealthy: {reason}");
                1
            }
        });
    }
    #[cfg(target_os = "linux")]
    init::start(signals, stop_signal_variable);
    #[cfg(not(target_os = "linux"))]
    let _ = (signals, stop_signal_variable);
}

/// `http://host:port/path`: a GET answered 2xx or 3xx; `tcp://host:port`: a connection.
fn probe(url: &str, timeout: Duration) -> Result<(), String> {
    let (scheme, rest) = url.split_once("://").ok_or_else(|| format!("`{url}` is not a URL"))?;
    let (authority, path) = rest.find('/').map_or((rest, "/"), |i| (&rest[..i], &rest[i..]));
    let address = authority
        .to_socket_addrs()
        .map_err(|e| format!("{authority}: {e}"))?
        .next()
        .ok_or_else(|| format!("{authority}: no address"))?;
    let mut stream = TcpStream::connect_timeout(&address, timeout).map_err(|e| format!("{authority}: {e}"))?;
    if scheme == "tcp" {
        return Ok(());
    }
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)))
        .map_err(|e| e.to_string())?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {authority}\r\nUser-Agent: containerize-healthcheck\r\n\r\n")
        .map_err(|e| format!("{url}: {e}"))?;
    // The whole status line, however the server splits its writes; no more than a line's worth.
    let mut status_line = String::new();
    BufReader::new(stream.take(256)).read_line(&mut status_line).map_err(|e| format!("{url}: {e}"))?;
    let status: u16 = status_line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    match status {
        200..400 => Ok(()),
        0 => Err(format!("GET {url}: no HTTP answer")),
        _ => Err(format!("GET {url} answered {status}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn serve_once(status: &'static str) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            // The whole request: closing with some of it unread would reset the connection.
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let _ = write!(stream, "HTTP/1.1 {status}\r\ncontent-length: 0\r\n\r\n");
        });
        port
    }

    #[test]
    fn probes_answer_by_status_and_connection() {
        let second = Duration::from_secs(1);
        assert_eq!(probe(&format!("http://127.0.0.1:{}/healthz", serve_once("200 OK")), second), Ok(()));
        let failed = probe(&format!("http://127.0.0.1:{}/healthz", serve_once("503 Unavailable")), second);
        assert!(failed.unwrap_err().contains("503"));
        let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        assert!(probe(&format!("tcp://127.0.0.1:{closed}"), second).is_err());
        let open = TcpListener::bind("127.0.0.1:0").unwrap();
        assert_eq!(probe(&format!("tcp://{}", open.local_addr().unwrap()), second), Ok(()));
    }
}
