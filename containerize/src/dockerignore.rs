//! `.dockerignore` with Docker's own semantics, applied on our side because the engine does
//! not apply it to a context sent through the API.
//!
//! A port of moby/patternmatcher (`patternmatcher.go`, `ignorefile/ignorefile.go`): written
//! here because no maintained crate implements these rules, and gitignore's (the `ignore`
//! crate) differ: patterns are anchored at the root, `[!x]` is the literal set {`!`, `x`},
//! the last matching rule wins, and a pattern also matches every path under what it matches.
//! As in Docker, a pattern must first pass Go's `filepath.Match` syntax check, then matches as
//! the Go regex patternmatcher builds from it: so `[[:alpha:]]` is a POSIX class and `\d` a
//! digit, and a pattern either step refuses is refused here.

use containerize_build::plan::clean_path;
use regex::Regex;

mod re2;

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
            }
            let mut text = clean_path(line);
            // Docker cleans `!/` to a lone `!` too.
            if exclusion && (line.is_empty() || text == "/") {
                return Err(error("a lone `!` excludes nothing"));
            }
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

/// Refuses what Go's `filepath.Match` refuses, as patternmatcher has it check each pattern:
/// a trailing `\`, a class left open or empty, a range missing an end.
fn check_glob_syntax(pattern: &str) -> Result<(), String> {
    let mut chars = pattern.chars().peekable();
    // One class member (Go's `getEsc`), which must leave something after it.
    fn member(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<(), String> {
        match chars.next() {
            None | Some('-' | ']') => return Err("a character class is empty or malformed".into()),
            Some('\\') if chars.next().is_none() => return Err("a `\\` escapes nothing".into()),
            Some(_) => {}
        }
        match chars.peek() {
            None => Err("a character class is not closed".into()),
            Some(_) => Ok(()),
        }
    }
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.next().is_none() => return Err("a trailing `\\` escapes nothing".into()),
            '[' => {
                chars.next_if_eq(&'^');
                let mut members = 0;
                while !(members > 0 && chars.next_if_eq(&']').is_some()) {
                    member(&mut chars)?;
                    if chars.next_if_eq(&'-').is_some() {
                        member(&mut chars)?;
                    }
                    members += 1;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// The pattern as a matcher, following patternmatcher's `compile` step by step: the match
/// type starts exact and moves to prefix, suffix or regex as the pattern's tokens demand, and
/// the regex it builds is read with Go's syntax.
fn compile(pattern: &str) -> Result<Kind, String> {
    #[derive(PartialEq)]
    enum Type {
        Exact,
        Prefix,
        Suffix,
        Regex,
    }
    check_glob_syntax(pattern)?;
    let mut go_regex = String::from("^");
    let mut kind = Type::Exact;
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
                        go_regex.push_str(".*");
                        kind = Type::Regex;
                    }
                } else {
                    go_regex.push_str("(.*/)?");
                    kind = Type::Regex;
                }
                if first_token {
                    kind = Type::Suffix;
                }
            }
            '*' => {
                go_regex.push_str("[^/]*");
                kind = Type::Regex;
            }
            '?' => {
                go_regex.push_str("[^/]");
                kind = Type::Regex;
            }
            '.' | '+' | '(' | ')' | '|' | '{' | '}' | '$' => {
                go_regex.push('\\');
                go_regex.push(c);
            }
            // The escape and the escaped character go to the regex as they are.
            '\\' => {
                go_regex.push(c);
                if let Some(&next) = chars.get(i) {
                    go_regex.push(next);
                    kind = Type::Regex;
                    i += 1;
                }
            }
            '[' | ']' => {
                go_regex.push(c);
                kind = Type::Regex;
            }
            _ => go_regex.push(c),
        }
    }
    Ok(match kind {
        Type::Exact => Kind::Exact,
        Type::Prefix => Kind::Prefix,
        Type::Suffix => Kind::Suffix,
        Type::Regex => {
            let regex = re2::translate(&format!("{go_regex}$"))?;
            Kind::Regex(Regex::new(&regex).map_err(|e| e.to_string())?)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::DockerIgnore;

    fn kept(rules: &str, paths: &[&str]) -> Vec<String> {
        let ignore = DockerIgnore::parse(rules).unwrap();
        paths.iter().filter(|p| !ignore.excludes(p)).map(|p| (*p).to_owned()).collect()
    }

    /// Whether each path is left out by a one-pattern `.dockerignore`, as Docker decides: the
    /// cases of moby/patternmatcher's own tests, then the corners of Go's syntax it inherits.
    #[test]
    fn agrees_with_docker() {
        let cases: &[(&str, &str, bool)] = &[
            // patternmatcher_test.go
            ("**", "file", true),
            ("**", "dir/file", true),
            ("**/", "dir/file", true),
            ("**/**", "dir/file", true),
            ("dir/**", "dir/file", true),
            ("dir/**", "dir/dir2/file", true),
            ("**/dir", "dir", true),
            ("**/dir", "dir/file", true),
            ("**/dir2/*", "dir/dir2/file", true),
            ("**/dir2/**", "dir/dir2/dir3/file", true),
            ("**file", "file", true),
            ("**file", "dir/file", true),
            ("**/file", "dir/dir/file", true),
            ("**/file*", "dir/dir/file.txt", true),
            ("**/file*txt", "dir/dir/file.txt", true),
            ("**/file*.txt*", "dir/dir/file.txt", true),
            ("**/**/*.txt", "dir/dir/file.txt", true),
            ("**/**/*.txt2", "dir/dir/file.txt", false),
            ("**/*.txt", "file.txt", true),
            ("**/**/*.txt", "file.txt", true),
            ("a**/*.txt", "a/file.txt", true),
            ("a**/*.txt", "a/dir/dir/file.txt", true),
            ("a/*.txt", "a/dir/file.txt", false),
            ("a/*.txt", "a/file.txt", true),
            ("a/*.txt**", "a/file.txt", true),
            ("a[b-d]e", "ae", false),
            ("a[b-d]e", "ace", true),
            ("a[b-d]e", "aae", false),
            ("a[^b-d]e", "aze", true),
            (".*", ".foo", true),
            (".*", "foo", false),
            ("abc.def", "abcdef", false),
            ("abc.def", "abc.def", true),
            ("abc?def", "abcZdef", true),
            ("abc?def", "abcdef", false),
            ("a\\\\", "a\\", true),
            ("**/foo/bar", "foo/bar", true),
            ("**/foo/bar", "dir/dir2/foo/bar", true),
            ("abc/**", "abc", false),
            ("abc/**", "abc/def/ghi", true),
            ("**/.foo", ".foo", true),
            ("**/.foo", "bar.foo", false),
            ("a(b)c/def", "a(b)c/def", true),
            ("a(b)c/def", "a(b)c/xyz", false),
            ("a.|)$(}+{bc", "a.|)$(}+{bc", true),
            ("dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", true),
            // Anchored at the root; a pattern also takes everything under what it matches.
            ("target", "target/x", true),
            ("target", "crates/a/target/x", false),
            ("*.md", "docs/guide.md", false),
            ("a/**/z", "a/z", true),
            ("a/**/z", "a/b/c/z", true),
            ("file?.txt", "file/.txt", false),
            // Cleaned as a path: leading and trailing `/`, `.` and `..`.
            ("/build/", "build/x", true),
            ("./tmp", "tmp", true),
            ("//a/./b/", "a/b", true),
            ("a/../b", "b", true),
            ("../b", "b", false),
            // Classes are Go's: `^` negates, `!` is literal, POSIX names are classes.
            ("[!x]y", "!y", true),
            ("[!x]y", "zy", false),
            ("[^x]y", "zy", true),
            ("[^x]y", "xy", false),
            ("[[:alpha:]]", "a", true),
            ("[[:alpha:]]", "1", false),
            ("[[:alpha:]]", "a]", false),
            ("[[:^digit:]]x", "ax", true),
            ("[[:^digit:]]x", "1x", false),
            ("[a&&b]", "&", true),
            ("[a~~b]", "~", true),
            ("[[a]", "[", true),
            ("[\\-]", "-", true),
            ("[\\]]", "]", true),
            ("[é-ü]", "ö", true),
            ("[z-z]", "z", true),
            ("[[:alpha]]", "p]", true),
            // `\` escapes a character; the escape reaches Go's regex, which reads `\d`, `\n`
            // and `\x41` its own way.
            ("a\\*b", "a*b", true),
            ("a\\*b", "axb", false),
            ("\\[x]", "[x]", true),
            ("a\\.b", "a.b", true),
            ("a\\dc", "a7c", true),
            ("a\\dc", "adc", false),
            ("a\\x41", "aA", true),
            ("a\\nb", "a\nb", true),
            ("a\\_b", "a_b", true),
            ("\\Qa*b", "a[^/]*b$", true),
            // A class may catch the regex text a later `*` or `?` turns into.
            ("[*]", "]", true),
            ("[?]", "/]", true),
        ];
        for &(pattern, path, excluded) in cases {
            let ignore = DockerIgnore::parse(pattern).unwrap_or_else(|e| panic!("`{pattern}`: {e}"));
            assert_eq!(ignore.excludes(path), excluded, "pattern `{pattern}`, path `{path}`");
        }
    }

    /// Docker refuses these: Go's `filepath.Match` finds them malformed, or Go's regex parser
    /// refuses the regex patternmatcher builds from them.
    #[test]
    fn refuses_what_docker_refuses() {
        let invalid = [
            "[",
            "[^",
            "[^bc",
            "a[",
            "a/b[",
            "[]a]",
            "[-]",
            "[x-]",
            "[-x]",
            "[a-b-c]",
            "\\",
            "a\\",
            "[\\",
            "[x\\",
            "[z-a]",
            "[a--b]",
            "a\\q",
            "a\\é",
            "a\\1",
            "a\\8",
            "a\\x4",
            "a\\x{}",
            "a\\C",
            "[[:foo:]]",
            "a\\p{Nope}",
            "!",
            "!/",
            "! //",
        ];
        for pattern in invalid {
            assert!(DockerIgnore::parse(pattern).is_err(), "`{pattern}` was accepted");
        }
        let error = DockerIgnore::parse("ok\n\n[x-]").unwrap_err();
        assert_eq!(error.line, 3);
        assert!(error.to_string().contains("[x-]"), "{error}");
    }

    #[test]
    fn exceptions_and_last_rule_wins() {
        assert_eq!(kept("*.log\n!keep.log", &["a.log", "keep.log"]), ["keep.log"]);
        assert_eq!(kept("*.log\n! keep.log", &["a.log", "keep.log"]), ["keep.log"]);
        assert_eq!(kept("**/*.md\n!README.md", &["README.md", "docs/README.md"]), ["README.md"]);
        assert_eq!(kept("*\n!src", &["src/main.rs", "Cargo.toml"]), ["src/main.rs"]);
        assert_eq!(kept("!keep.log\n*.log", &["keep.log"]), Vec::<String>::new());
        assert_eq!(kept("**\n!util/docker/web", &["util/docker/web/foo", "util/x"]), ["util/docker/web/foo"]);
        assert_eq!(kept("**\n!util/docker/web\nutil/docker/web/foo", &["util/docker/web/foo"]), Vec::<String>::new());
        let ignore = DockerIgnore::parse("docs\n!docs/keep.md").unwrap();
        assert!(ignore.must_descend("docs"));
        assert!(!ignore.excludes("docs/keep.md"));
        assert!(ignore.excludes("docs/other.md"));
    }

    #[test]
    fn whitespace_comments_and_bom() {
        assert_eq!(kept("\u{feff}  spaced.txt  \n# comment\n #x", &["spaced.txt", "# comment", "#x"]), ["# comment"]);
        assert_eq!(kept("a\r\nb\r\n", &["a", "b", "c"]), ["c"]);
    }
}
