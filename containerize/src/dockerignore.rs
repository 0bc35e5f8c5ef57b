//! `.dockerignore` with Docker's own semantics, applied on our side because the engine does
//! not apply it to a context sent through the API.
//!
//! A port of moby/patternmatcher (`patternmatcher.go`, `ignorefile/ignorefile.go`): written
//! here because no maintained crate implements these rules, and gitignore's (the `ignore`
//! crate) differ: patterns are anchored at the root, `[!x]` is the literal set {`!`, `x`},
//! the last matching rule wins, and a pattern also matches every path under what it matches.

use regex::Regex;

/// A parsed `.dockerignore`.
#[derive(Debug, Default)]
pub struct DockerIgnore {
    patterns: Vec<Pattern>,
}

#[derive(Debug)]
struct Pattern {
    /// The cleaned pattern, without its `!`.
    text: String,
    exclusion: bool,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Exact,
    /// `foo/**`: everything under `foo`.
    Prefix,
    /// `**/foo`: any path ending in `foo`.
    Suffix,
    Regex(Regex),
}

/// A `.dockerignore` that can't be used.
#[derive(Debug, thiserror::Error)]
#[error("line {line} of .dockerignore: {message}")]
pub struct PatternError {
    /// One-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl DockerIgnore {
    /// Parses the text of a `.dockerignore`.
    pub fn parse(text: &str) -> Result<DockerIgnore, PatternError> {
        let mut patterns = Vec::new();
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for (index, raw) in text.lines().enumerate() {
            let error = |message: &str| PatternError { line: index + 1, message: message.to_owned() };
            // Only a `#` in the first column starts a comment.
            if raw.starts_with('#') {
                continue;
            }
            let mut line = raw.trim();
            if line.is_empty() {
                continue;
            }
            let exclusion = line.starts_with('!');
            if exclusion {
                line = line[1..].trim();
                if line.is_empty() {
                    return Err(error("a lone `!` excludes nothing"));
                }
            }
            let mut text = clean(line);
            if text.len() > 1 && text.starts_with('/') {
                text.remove(0);
            }
            let kind = compile(&text).map_err(|e| error(&format!("invalid pattern `{line}`: {e}")))?;
            patterns.push(Pattern { text, exclusion, kind });
        }
        Ok(DockerIgnore { patterns })
    }

    /// Whether `path` (relative, `/`-separated) is left out: the last pattern that matches it
    /// or one of its parent directories decides.
    pub fn excludes(&self, path: &str) -> bool {
        let parents: Vec<&str> = match path.rfind('/') {
            Some(i) => path[..i].split('/').collect(),
            None => Vec::new(),
        };
        let mut excluded = false;
        for pattern in &self.patterns {
            // An inclusion can't change an excluded path, nor an exclusion an included one.
            if pattern.exclusion != excluded {
                continue;
            }
            let matches =
                pattern.matches(path) || (1..=parents.len()).any(|n| pattern.matches(&parents[..n].join("/")));
            if matches {
                excluded = !pattern.exclusion;
            }
        }
        excluded
    }

    /// Whether the walk must still look inside an excluded directory, because a `!` pattern
    /// may re-include something under it.
    pub fn must_descend(&self, dir: &str) -> bool {
        let dir_slash = format!("{dir}/");
        self.patterns.iter().any(|p| p.exclusion && format!("{}/", p.text).starts_with(&dir_slash))
    }
}

impl Pattern {
    fn matches(&self, path: &str) -> bool {
        match &self.kind {
            Kind::Exact => path == self.text,
            Kind::Prefix => path.starts_with(&self.text[..self.text.len() - 2]),
            Kind::Suffix => {
                let suffix = &self.text[2..];
                path.ends_with(suffix) || suffix.strip_prefix('/').is_some_and(|s| path == s)
            }
            Kind::Regex(regex) => regex.is_match(path),
        }
    }
}

/// Go's `filepath.Clean` for `/`-separated paths.
fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            ".." if rooted => {}
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}

/// The pattern as a matcher, following patternmatcher's `compile` step by step: the match
/// type starts exact and moves to prefix, suffix or regex as the pattern's tokens demand.
fn compile(pattern: &str) -> Result<Kind, regex::Error> {
    #[derive(PartialEq)]
    enum Type {
        Exact,
        Prefix,
        Suffix,
        Regex,
    }
    let mut regex = String::from("^");
    let mut kind = Type::Exact;
    let mut in_class = false;
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let first_token = i == 0;
        let c = chars[i];
        i += 1;
        match c {
            '*' if chars.get(i) == Some(&'*') => {
                i += 1;
                if chars.get(i) == Some(&'/') {
                    i += 1;
                }
                if i == chars.len() {
                    // A trailing `**` takes everything below.
                    if kind == Type::Exact {
                        kind = Type::Prefix;
                    } else {
                        regex.push_str(".*");
                        kind = Type::Regex;
                    }
                } else {
                    regex.push_str("(.*/)?");
                    kind = Type::Regex;
                }
                if first_token {
                    kind = Type::Suffix;
                }
            }
            '*' => {
                regex.push_str("[^/]*");
                kind = Type::Regex;
            }
            '?' => {
                regex.push_str("[^/]");
                kind = Type::Regex;
            }
            '.' | '+' | '(' | ')' | '|' | '{' | '}' | '$' => {
                regex.push('\\');
                regex.push(c);
            }
            '\\' => match chars.get(i) {
                Some(next) => {
                    regex.push_str(&regex::escape(&next.to_string()));
                    kind = Type::Regex;
                    i += 1;
                }
                None => regex.push_str("\\\\"),
            },
            // In a class, these start nested classes or set operations in Rust's regex syntax
            // but are literals in Go's.
            '[' | '&' | '~' | '-' if in_class && (c == '[' || chars.get(i) == Some(&c)) => {
                regex.push('\\');
                regex.push(c);
            }
            '[' | ']' => {
                // Go negates a class with `^` and keeps `!` literal; so does the regex crate.
                in_class = c == '[';
                regex.push(c);
                kind = Type::Regex;
            }
            _ => regex.push(c),
        }
    }
    Ok(match kind {
        Type::Exact => Kind::Exact,
        Type::Prefix => Kind::Prefix,
        Type::Suffix => Kind::Suffix,
        Type::Regex => Kind::Regex(Regex::new(&format!("{regex}$"))?),
    })
}

#[cfg(test)]
mod tests {
    use super::DockerIgnore;

    fn kept(rules: &str, paths: &[&str]) -> Vec<String> {
        let ignore = DockerIgnore::parse(rules).unwrap();
        paths.iter().filter(|p| !ignore.excludes(p)).map(|p| (*p).to_owned()).collect()
    }

    #[test]
    fn anchored_at_the_root() {
        assert_eq!(kept("target", &["target/x", "crates/a/target/x", "target"]), ["crates/a/target/x"]);
        assert_eq!(kept("*.md", &["a.md", "docs/guide.md"]), ["docs/guide.md"]);
        assert_eq!(kept("/build/\n./tmp", &["build/x", "tmp", "src/build"]), ["src/build"]);
    }

    #[test]
    fn double_star() {
        assert_eq!(kept("**/*.md", &["a.md", "docs/x/guide.md", "a.rs"]), ["a.rs"]);
        assert_eq!(kept("docs/**", &["docs/a", "docs/x/y", "doc"]), ["doc"]);
        assert_eq!(kept("**/node_modules", &["node_modules/a", "web/node_modules/b", "src/x"]), ["src/x"]);
        assert_eq!(kept("a/**/z", &["a/z", "a/b/c/z", "a/b"]), ["a/b"]);
    }

    #[test]
    fn exceptions_and_last_rule_wins() {
        assert_eq!(kept("*.log\n!keep.log", &["a.log", "keep.log"]), ["keep.log"]);
        assert_eq!(kept("**/*.md\n!README.md", &["README.md", "docs/README.md"]), ["README.md"]);
        assert_eq!(kept("*\n!src", &["src/main.rs", "Cargo.toml"]), ["src/main.rs"]);
        assert_eq!(kept("!keep.log\n*.log", &["keep.log"]), Vec::<String>::new());
        let ignore = DockerIgnore::parse("docs\n!docs/keep.md").unwrap();
        assert!(ignore.must_descend("docs"));
        assert!(!ignore.excludes("docs/keep.md"));
        assert!(ignore.excludes("docs/other.md"));
    }

    #[test]
    fn character_classes_and_escapes() {
        assert_eq!(kept("[!x]y", &["zy", "!y", "xy"]), ["zy"]);
        assert_eq!(kept("[^x]y", &["zy", "xy"]), ["xy"]);
        assert_eq!(kept("file?.txt", &["file1.txt", "file12.txt", "file/.txt"]), ["file12.txt", "file/.txt"]);
        assert_eq!(kept("a\\*b", &["a*b", "axb"]), ["axb"]);
        assert_eq!(kept("[a&&b]", &["&", "a"]), Vec::<String>::new());
    }

    #[test]
    fn whitespace_comments_and_bom() {
        assert_eq!(kept("\u{feff}  spaced.txt  \n# comment\n #x", &["spaced.txt", "# comment", "#x"]), ["# comment"]);
        assert!(DockerIgnore::parse("!").is_err());
    }
}
