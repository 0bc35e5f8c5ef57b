//! Lists the links in text files (or standard input) as JSON.

use clap::Parser;
use regex::Regex;
use serde::Serialize;
use std::io::Read;

/// Lists the links in text files as JSON.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Files to read; standard input when none.
    files: Vec<std::path::PathBuf>,
    /// Only links whose host ends with this.
    #[arg(long)]
    host: Option<String>,
}

#[derive(Serialize)]
struct Link<'a> {
    file: &'a str,
    line: usize,
    url: &'a str,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let pattern = Regex::new(r"https?://([A-Za-z0-9.-]+)(/[^\s)>\]]*)?")?;
    let mut inputs = Vec::new();
    if args.files.is_empty() {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        inputs.push(("-".to_owned(), text));
    }
    for file in &args.files {
        inputs.push((file.display().to_string(), std::fs::read_to_string(file)?));
    }
    let mut links = Vec::new();
    for (file, text) in &inputs {
        for (number, line) in text.lines().enumerate() {
            for found in pattern.captures_iter(line) {
                let host = &found[1];
                if args.host.as_deref().is_none_or(|h| host.ends_with(h)) {
                    links.push(Link { file, line: number + 1, url: found.get(0).map_or("", |m| m.as_str()) });
                }
            }
        }
    }
    println!("{}", serde_json::to_string_pretty(&links)?);
    Ok(())
}
