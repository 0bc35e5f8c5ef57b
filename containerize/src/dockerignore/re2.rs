//! Go's `regexp` syntax (RE2, Perl flags) rewritten for the `regex` crate.
//!
//! patternmatcher hands Go's `regexp` a regex built from the pattern, and a `[`, `]`, `^` or `\`
//! from the pattern reaches it unchanged, so what a `.dockerignore` means is what Go's parser
//! makes of that regex. The two syntaxes mostly agree; where they differ this follows Go's
//! `regexp/syntax` parser: `[` inside a class is literal unless it opens `[:name:]`; `&&`, `--`
//! and `~~` are literal; `\d`, `\s`, `\w` and `\b` are ASCII; octal escapes and `\Q...\E` are
//! understood; and what Go refuses is refused (Unicode class names, `\p{Greek}`, are left to
//! the `regex` crate, which knows Go's and a few more spellings).

/// The `regex` crate's spelling of a Go regex, or why Go refuses it.
pub(super) fn translate(go: &str) -> Result<String, String> {
    let mut parser = Parser { chars: go.chars().collect(), at: 0 };
    let mut out = String::new();
    while let Some(c) = parser.peek() {
        match c {
            '\\' => out.push_str(&parser.escape_outside_class()?),
            '[' => out.push_str(&parser.class()?),
            // Only the regex patternmatcher generates around the pattern uses these.
            '^' | '$' | '.' | '*' | '?' | '(' | ')' | '|' => {
                parser.at += 1;
                out.push(c);
            }
            _ => {
                parser.at += 1;
                out.push_str(&regex::escape(c.encode_utf8(&mut [0; 4])));
            }
        }
    }
    Ok(out)
}

/// Go's POSIX classes, which the `regex` crate spells the same way.
const POSIX_CLASSES: [&str; 14] = [
    "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print", "punct", "space", "upper", "word",
    "xdigit",
];

struct Parser {
    chars: Vec<char>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.at + offset).copied()
    }

    fn rest(&self) -> String {
        self.chars[self.at..].iter().collect()
    }

    /// An escape outside a class, at a `\`.
    fn escape_outside_class(&mut self) -> Result<String, String> {
        let Some(c) = self.peek_at(1) else {
            return Err("trailing backslash".into());
        };
        let fixed = match c {
            'A' => Some(r"\A"),
            'z' => Some(r"\z"),
            'b' => Some(r"(?-u:\b)"),
            'B' => Some(r"(?-u:\B)"),
            _ => None,
        };
        if let Some(fixed) = fixed {
            self.at += 2;
            return Ok(fixed.to_owned());
        }
        if c == 'C' {
            return Err(r"invalid escape `\C`".into());
        }
        if c == 'Q' {
            // Literal text up to `\E` or the end.
            self.at += 2;
            let rest = self.rest();
            let literal = rest.split(r"\E").next().unwrap_or_default();
            self.at += literal.chars().count() + if literal.len() < rest.len() { 2 } else { 0 };
            return Ok(regex::escape(literal));
        }
        if let Some(class) = self.unicode_class()? {
            return Ok(class);
        }
        if let Some(class) = self.perl_class() {
            return Ok(class);
        }
        let literal = self.escaped_char()?;
        Ok(regex::escape(literal.encode_utf8(&mut [0; 4])))
    }

    /// `\pL`, `\p{Greek}`, `\P{^Greek}`: passed on, the `regex` crate knows Go's names.
    fn unicode_class(&mut self) -> Result<Option<String>, String> {
        if self.peek() != Some('\\') || !matches!(self.peek_at(1), Some('p' | 'P')) {
            return Ok(None);
        }
        let length = match self.peek_at(2) {
            None => return Err("invalid character class range `\\p`".into()),
            Some('{') => match self.chars[self.at..].iter().position(|&c| c == '}') {
                Some(close) => close + 1,
                None => return Err("unclosed `\\p{`".into()),
            },
            Some(_) => 3,
        };
        let text: String = self.chars[self.at..self.at + length].iter().collect();
        regex::Regex::new(&text).map_err(|_| format!("unknown Unicode class `{text}`"))?;
        self.at += length;
        Ok(Some(text))
    }

    /// `\d`, `\s`, `\w` and their negations, ASCII as in Go.
    fn perl_class(&mut self) -> Option<String> {
        if self.peek() != Some('\\') {
            return None;
        }
        let class = match self.peek_at(1)? {
            'd' => "[0-9]",
            'D' => "[^0-9]",
            's' => r"[\t\n\x0C\r ]",
            'S' => r"[^\t\n\x0C\r ]",
            'w' => "[0-9A-Za-z_]",
            'W' => "[^0-9A-Za-z_]",
            _ => return None,
        };
        self.at += 2;
        Some(class.to_owned())
    }

    /// The character a `\` escape stands for (Go's `parseEscape`), at the `\`.
    fn escaped_char(&mut self) -> Result<char, String> {
        self.at += 1;
        let Some(c) = self.peek() else {
            return Err("trailing backslash".into());
        };
        self.at += 1;
        let invalid = || Err(format!("invalid escape `\\{c}`"));
        let octal = |c: Option<char>| c.and_then(|c| c.to_digit(8));
        match c {
            _ if c.is_ascii() && !c.is_ascii_alphanumeric() => Ok(c),
            // A lone non-zero digit would be a backreference, which Go does not support.
            '1'..='7' if octal(self.peek()).is_none() => invalid(),
            '0'..='7' => {
                let mut value = c.to_digit(8).unwrap_or_default();
                for _ in 0..2 {
                    let Some(digit) = octal(self.peek()) else { break };
                    value = value * 8 + digit;
                    self.at += 1;
                }
                char::from_u32(value).ok_or_else(|| format!("invalid escape `\\{c}`"))
            }
            'x' => self.hex_escape().ok_or_else(|| "invalid escape `\\x`".to_owned()),
            'a' => Ok('\u{7}'),
            'f' => Ok('\u{c}'),
            'n' => Ok('\n'),
            'r' => Ok('\r'),
            't' => Ok('\t'),
            'v' => Ok('\u{b}'),
            _ => invalid(),
        }
    }

    /// After `\x`: two hex digits, or any number in braces.
    fn hex_escape(&mut self) -> Option<char> {
        let hex = |c: Option<char>| c.and_then(|c| c.to_digit(16));
        if self.peek() == Some('{') {
            self.at += 1;
            let mut value: u32 = 0;
            let mut digits = 0;
            loop {
                let c = self.peek()?;
                self.at += 1;
                if c == '}' {
                    break;
                }
                value = value * 16 + hex(Some(c))?;
                if value > 0x10FFFF {
                    return None;
                }
                digits += 1;
            }
            return if digits == 0 { None } else { char::from_u32(value) };
        }
        let high = hex(self.peek())?;
        let low = hex(self.peek_at(1))?;
        self.at += 2;
        char::from_u32(high * 16 + low)
    }

    /// A class, at its `[` (Go's `parseClass`).
    fn class(&mut self) -> Result<String, String> {
        self.at += 1;
        let mut out = String::from("[");
        if self.peek() == Some('^') {
            self.at += 1;
            out.push('^');
        }
        let mut first = true;
        loop {
            match self.peek() {
                None => return Err("missing closing ]".into()),
                // A `]` first in the class is literal.
                Some(']') if !first => break,
                _ => {}
            }
            first = false;
            if let Some(named) = self.posix_class()? {
                out.push_str(&named);
                continue;
            }
            if let Some(class) = self.unicode_class()? {
                out.push_str(&class);
                continue;
            }
            if let Some(class) = self.perl_class() {
                out.push_str(&class);
                continue;
            }
            let low = self.class_char()?;
            let mut high = low;
            if self.peek() == Some('-') && self.peek_at(1).is_some_and(|c| c != ']') {
                self.at += 1;
                high = self.class_char()?;
                if high < low {
                    return Err(format!("invalid character class range `{low}-{high}`"));
                }
            }
            out.push_str(&regex::escape(low.encode_utf8(&mut [0; 4])));
            if high != low {
                out.push('-');
                out.push_str(&regex::escape(high.encode_utf8(&mut [0; 4])));
            }
        }
        self.at += 1;
        out.push(']');
        Ok(out)
    }

    /// `[:alpha:]`, `[:^alpha:]`: Go takes everything up to the next `:]` as the name.
    fn posix_class(&mut self) -> Result<Option<String>, String> {
        if self.peek() != Some('[') || self.peek_at(1) != Some(':') || self.peek_at(2).is_none() {
            return Ok(None);
        }
        let after = &self.chars[self.at + 2..];
        let Some(end) = after.windows(2).position(|w| w == [':', ']']) else {
            return Ok(None);
        };
        let name: String = after[..end].iter().collect();
        if !POSIX_CLASSES.contains(&name.strip_prefix('^').unwrap_or(&name)) {
            return Err(format!("invalid character class range `[:{name}:]`"));
        }
        self.at += 2 + end + 2;
        Ok(Some(format!("[:{name}:]")))
    }

    fn class_char(&mut self) -> Result<char, String> {
        match self.peek() {
            None => Err("missing closing ]".into()),
            Some('\\') => self.escaped_char(),
            Some(c) => {
                self.at += 1;
                Ok(c)
            }
        }
    }
}
