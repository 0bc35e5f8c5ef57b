//! Property tests of the `.dockerignore` matcher (its table of Docker's cases is with the
//! code): no text panics it, and what holds for every pattern holds.

use containerize::dockerignore::DockerIgnore;
use proptest::prelude::*;
use proptest::test_runner::Config;

/// Text made of the pieces patterns are made of, and anything else.
fn pattern_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => "[a-z]{1,4}",
        4 => prop::sample::select(vec![
            "*", "**", "?", "/", "[", "]", "^", "!", "-", "\\", ".", "..", "./", "../", ":", "[:alpha:]", "[:", ":]",
            "\\d", "\\Q", "\\E", "\\x{41}", "\\p{Greek}", "\\pL", "\\b", "\\0", "\\1", "(", ")", "{", "}", "$", "+",
            "|", "&&", "--", "~~", "#", " ", "\t", "\n", "\r\n", "\u{feff}", "\u{2028}", "é",
        ]).prop_map(str::to_owned),
        1 => any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat())
}

/// A relative, `/`-separated path.
fn path() -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        "[a-z]{1,3}",
        "[a-z.:\\[\\]!*?\\\\é]{1,4}",
        any::<String>().prop_filter("a name", |s| !s.is_empty() && !s.contains('/'))
    ];
    prop::collection::vec(segment, 1..4).prop_map(|segments| segments.join("/"))
}

/// A file name as a pattern that matches it and nothing else: ASCII punctuation escaped.
fn literal_pattern(name: &str) -> String {
    name.chars().flat_map(|c| if c.is_ascii_punctuation() && c != '/' { vec!['\\', c] } else { vec![c] }).collect()
}

fn config(cases: u32) -> Config {
    Config { cases, failure_persistence: None, ..Config::default() }
}

proptest! {
    #![proptest_config(config(2048))]

    #[test]
    fn no_text_panics(text in pattern_text(), paths in prop::collection::vec(path(), 1..4)) {
        if let Ok(ignore) = DockerIgnore::parse(&text) {
            for path in &paths {
                ignore.excludes(path);
                ignore.must_descend(path);
            }
        }
    }

}

proptest! {
    #![proptest_config(config(1024))]

    /// A pattern followed by its exception leaves everything in.
    #[test]
    fn an_exception_undoes_its_pattern(pattern in pattern_text(), path in path()) {
        let line = pattern.lines().next().unwrap_or_default().trim();
        prop_assume!(!line.is_empty() && !line.starts_with(['#', '!']));
        if let Ok(ignore) = DockerIgnore::parse(&format!("{line}\n!{line}")) {
            prop_assert!(!ignore.excludes(&path), "`{}` then `!{}` left out `{}`", line, line, path);
        }
    }

    /// Escaping a name's punctuation makes a pattern that takes that name and what is under it.
    #[test]
    fn escaped_names_match_themselves(
        segments in prop::collection::vec("[a-zA-Z0-9 !\"#$%&'()*+,.:;<=>?@\\[\\\\\\]^_`{|}~é-]{1,6}", 1..4),
        other in "[a-z]{1,3}",
    ) {
        prop_assume!(segments.iter().all(|s| s != "." && s != ".." && s.trim() == s));
        let name = segments.join("/");
        let pattern = literal_pattern(&name);
        let ignore = DockerIgnore::parse(&pattern).map_err(|e| TestCaseError::fail(format!("`{pattern}`: {e}")))?;
        prop_assert!(ignore.excludes(&name), "`{}` kept `{}`", pattern, name);
        let (under, longer) = (format!("{name}/{other}"), format!("{name}{other}"));
        prop_assert!(ignore.excludes(&under), "`{}` kept `{}`", pattern, under);
        prop_assert!(!ignore.excludes(&longer), "`{}` left out `{}`", pattern, longer);
    }
}
