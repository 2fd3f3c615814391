//! Boxed tables as python-glanceclient prints them, byte for byte: its
//! `print_list` and `print_dict` draw with PrettyTable (`+---+` rules,
//! `| cell |` rows, one space of padding), and `print_dict` wraps values
//! wider than 80 columns with Python's `textwrap` rules (breaking at
//! spaces, after a hyphen between letters, and inside a word too long for
//! a line). Values that are lists or objects are shown as Python's
//! `json.dumps` writes them (`["a", "b"]`, non-ASCII as `\uXXXX`).
//!
//! Widths count characters, as PrettyTable does for text without wide
//! (East Asian) characters.

use serde_json::Value;

/// How a column's cells sit in their width.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    /// Python's `str.center`: an odd space goes left when the width is odd.
    Center,
}

/// A table: a header row and data rows of text cells.
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
    align: Align,
    /// Cells wider than this are wrapped (`print_dict`'s 80).
    max_width: Option<usize>,
}

impl Table {
    /// A left-aligned table with these column headers.
    pub fn new(headers: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
            align: Align::Left,
            max_width: None,
        }
    }

    pub fn align(mut self, align: Align) -> Table {
        self.align = align;
        self
    }

    pub fn max_width(mut self, width: usize) -> Table {
        self.max_width = Some(width);
        self
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Sorts the rows by the text of the first column (`sortby='Property'`),
    /// keeping equal ones in order.
    pub fn sort_by_first(&mut self) {
        self.rows.sort_by(|a, b| a[0].cmp(&b[0]));
    }

    /// The table as text, ending with a newline (what `print` writes).
    pub fn render(&self) -> String {
        let widths = self.widths();
        let rule = {
            let mut r = String::from("+");
            for w in &widths {
                r.push_str(&"-".repeat(w + 2));
                r.push('+');
            }
            r.push('\n');
            r
        };
        let mut out = rule.clone();
        out.push_str(&self.line(
            &self.headers.iter().map(String::as_str).collect::<Vec<_>>(),
            &widths,
        ));
        out.push_str(&rule);
        for row in &self.rows {
            let cells: Vec<Vec<String>> = row
                .iter()
                .zip(&widths)
                .map(|(cell, &w)| wrap_cell(cell, w))
                .collect();
            let height = cells.iter().map(Vec::len).max().unwrap_or(1).max(1);
            for y in 0..height {
                let line: Vec<&str> = cells
                    .iter()
                    .map(|c| c.get(y).map_or("", String::as_str))
                    .collect();
                out.push_str(&self.line(&line, &widths));
            }
        }
        out.push_str(&rule);
        out
    }

    fn widths(&self) -> Vec<usize> {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| block_width(h)).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                let w = block_width(cell);
                let w = self.max_width.map_or(w, |m| w.min(m));
                widths[i] = widths[i].max(w);
            }
        }
        widths
    }

    fn line(&self, cells: &[&str], widths: &[usize]) -> String {
        let mut out = String::from("|");
        for (cell, &w) in cells.iter().zip(widths) {
            out.push(' ');
            out.push_str(&justify(cell, w, self.align));
            out.push_str(" |");
        }
        out.push('\n');
        out
    }
}

fn width(text: &str) -> usize {
    text.chars().count()
}

/// The widest line of a cell.
fn block_width(text: &str) -> usize {
    text.split('\n').map(width).max().unwrap_or(0)
}

fn justify(text: &str, w: usize, align: Align) -> String {
    let pad = w.saturating_sub(width(text));
    let left = match align {
        Align::Left => 0,
        // CPython: left = pad / 2 + (pad & width & 1)
        Align::Center => pad / 2 + (pad & w & 1),
    };
    format!("{}{text}{}", " ".repeat(left), " ".repeat(pad - left))
}

/// A cell's lines, each wrapped to `w` when it is wider.
fn wrap_cell(cell: &str, w: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for line in cell.split('\n') {
        if width(line) > w {
            let wrapped = wrap(line, w);
            if wrapped.is_empty() {
                lines.push(String::new());
            }
            lines.extend(wrapped);
        } else {
            lines.push(line.to_string());
        }
    }
    lines
}

/// textwrap's whitespace: `\t\n\x0b\x0c\r ` (other Unicode spaces are not).
fn is_ws(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\x0b' | '\x0c' | '\r' | ' ')
}

/// Python's `\w`.
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// textwrap's "letter", `[^\d\W]`: a word character that is not a digit.
fn is_letter(c: char) -> bool {
    is_word(c) && !c.is_numeric()
}

/// textwrap's `word_punct`, `[\w!"'&.,?]`.
fn is_word_punct(c: char) -> bool {
    is_word(c) || "!\"'&.,?".contains(c)
}

/// Python's `textwrap.wrap(text, w)` with its defaults (tabs expanded to
/// 8, whitespace made spaces, breaking on hyphens and inside long words,
/// whitespace dropped at line ends).
pub fn wrap(text: &str, w: usize) -> Vec<String> {
    let mut expanded = String::new();
    let mut column = 0;
    for c in text.chars() {
        match c {
            '\t' => {
                let n = 8 - column % 8;
                expanded.push_str(&" ".repeat(n));
                column += n;
            }
            '\n' | '\r' => {
                expanded.push(' ');
                column = 0;
            }
            c if is_ws(c) => {
                expanded.push(' ');
                column += 1;
            }
            c => {
                expanded.push(c);
                column += 1;
            }
        }
    }
    let chars: Vec<char> = expanded.chars().collect();
    wrap_chunks(chunks(&chars), w.max(1))
}

/// textwrap's `wordsep_re` split: runs of whitespace, em-dashes between
/// words, and words, each ending after a hyphen that has two letters
/// before it (or letter-hyphen-letter) and a letter after it.
fn chunks(text: &[char]) -> Vec<Vec<char>> {
    let n = text.len();
    let at = |i: usize| text.get(i).copied();
    let letter_at = |i: usize| at(i).is_some_and(is_letter);
    let dashes_then_word = |j: usize| {
        let mut k = j;
        while at(k) == Some('-') {
            k += 1;
        }
        (k >= j + 2 && at(k).is_some_and(is_word)).then_some(k)
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < n {
        if is_ws(text[i]) {
            let start = i;
            while i < n && is_ws(text[i]) {
                i += 1;
            }
            out.push(text[start..i].to_vec());
            continue;
        }
        if i > 0
            && is_word_punct(text[i - 1])
            && let Some(k) = dashes_then_word(i)
        {
            out.push(text[i..k].to_vec());
            i = k;
            continue;
        }
        let mut j = i + 1;
        loop {
            let hyphen_break = at(j) == Some('-')
                && ((j >= 2 && letter_at(j - 2) && letter_at(j - 1))
                    || (j >= 3 && letter_at(j - 3) && at(j - 2) == Some('-') && letter_at(j - 1)))
                && letter_at(j + 1)
                && (letter_at(j + 2) || (at(j + 2) == Some('-') && letter_at(j + 3)));
            if hyphen_break {
                out.push(text[i..=j].to_vec());
                i = j + 1;
                break;
            }
            if j >= n || is_ws(text[j]) {
                out.push(text[i..j].to_vec());
                i = j;
                break;
            }
            if is_word_punct(text[j - 1]) && dashes_then_word(j).is_some() {
                out.push(text[i..j].to_vec());
                i = j;
                break;
            }
            j += 1;
        }
    }
    out
}

fn is_blank(chunk: &[char]) -> bool {
    !chunk.is_empty() && chunk.iter().all(|c| c.is_whitespace())
}

/// textwrap's `_wrap_chunks` with `_handle_long_word`.
fn wrap_chunks(mut chunks: Vec<Vec<char>>, w: usize) -> Vec<String> {
    chunks.reverse();
    let mut lines: Vec<String> = Vec::new();
    while !chunks.is_empty() {
        let mut line: Vec<Vec<char>> = Vec::new();
        let mut len = 0;
        if !lines.is_empty() && chunks.last().is_some_and(|c| is_blank(c)) {
            chunks.pop();
        }
        while let Some(c) = chunks.last() {
            if len + c.len() <= w {
                len += c.len();
                line.push(chunks.pop().unwrap_or_default());
            } else {
                break;
            }
        }
        if let Some(c) = chunks.last_mut()
            && c.len() > w
        {
            let space = w - len;
            let mut end = space;
            if let Some(h) = c[..space].iter().rposition(|&x| x == '-')
                && h > 0
                && c[..h].iter().any(|&x| x != '-')
            {
                end = h + 1;
            }
            line.push(c[..end].to_vec());
            c.drain(..end);
            while chunks.last().is_some_and(Vec::is_empty) {
                chunks.pop();
            }
        }
        if line.last().is_some_and(|c| is_blank(c)) {
            line.pop();
        }
        if !line.is_empty() {
            let text: String = line.concat().into_iter().collect();
            let text = text.trim_end().to_string();
            if !text.is_empty() {
                lines.push(text);
            }
        }
    }
    lines
}

/// A value as Python's `json.dumps` writes it (`", "` and `": "`
/// separators, non-ASCII escaped); an object's keys in `serde_json`'s
/// order (sorted).
pub fn py_json(value: &Value) -> String {
    let mut out = String::new();
    write_py_json(value, &mut out);
    out
}

fn write_py_json(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => py_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_py_json(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => py_object(map.iter(), out),
    }
}

/// An object whose keys come in the given order.
pub fn py_object<'a>(entries: impl Iterator<Item = (&'a String, &'a Value)>, out: &mut String) {
    out.push('{');
    for (i, (k, v)) in entries.enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        py_string(k, out);
        out.push_str(": ");
        write_py_json(v, out);
    }
    out.push('}');
}

fn py_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A value as Python's `str()` shows it in a table cell: text as it is,
/// `None`, `True` / `False`, numbers; lists and objects as `json.dumps`.
pub fn py_str(value: &Value) -> String {
    match value {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => py_json(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glanceclients_dict_table() {
        let mut t = Table::new(&["Property", "Value"]).max_width(80);
        t.row(vec!["status".into(), "active".into()]);
        t.row(vec!["id".into(), "x".into()]);
        t.sort_by_first();
        assert_eq!(
            t.render(),
            "+----------+--------+\n\
             | Property | Value  |\n\
             +----------+--------+\n\
             | id       | x      |\n\
             | status   | active |\n\
             +----------+--------+\n"
        );
    }

    #[test]
    fn an_empty_list_still_has_its_header() {
        let t = Table::new(&["ID", "Name"]);
        assert_eq!(
            t.render(),
            "+----+------+\n| ID | Name |\n+----+------+\n+----+------+\n"
        );
    }

    #[test]
    fn centered_like_str_center() {
        assert_eq!(justify("0", 4, Align::Center), " 0  ");
        assert_eq!(justify("ab", 5, Align::Center), "  ab ");
        assert_eq!(justify("ID", 36, Align::Center).find("ID"), Some(17));
    }

    /// Lines glanceclient printed for a real image in the lab (`/work/wt-`
    /// breaks after the hyphen between letters; the hash inside the word).
    #[test]
    fn wraps_as_textwrap_does() {
        let url =
            "file:///work/wt-parity/target/tmp/mylab/images/9c0303ba-4553-4a1c-99bc-24b2314f7744";
        assert_eq!(
            wrap(url, 80),
            [
                "file:///work/wt-",
                "parity/target/tmp/mylab/images/9c0303ba-4553-4a1c-99bc-24b2314f7744"
            ]
        );
        let hash = "4c2640f4819871079a714ba5a07e56bc7ad6b136563604104ad0f4adf1af0f09aff7722181578ff615db338a19ad8e6c176740c31e43a2787aac81cfc314d56a";
        let lines = wrap(hash, 80);
        assert_eq!(lines[0].len(), 80);
        assert_eq!(lines.concat(), hash);
        let locations = r#"[{"url": "file:///work/wt-parity/target/tmp/mylab/images/9c0303ba-4553-4a1c-99bc-24b2314f7744", "metadata": {"id": "glance-client-lab-fs", "mountpoint": "/work/wt-parity/target/tmp/mylab/images", "store": "fs"}}]"#;
        assert_eq!(
            wrap(locations, 80),
            [
                r#"[{"url": "file:///work/wt-"#,
                r#"parity/target/tmp/mylab/images/9c0303ba-4553-4a1c-99bc-24b2314f7744","#,
                r#""metadata": {"id": "glance-client-lab-fs", "mountpoint": "/work/wt-"#,
                r#"parity/target/tmp/mylab/images", "store": "fs"}}]"#,
            ]
        );
        let info = r#"{"description": "Import methods available.", "type": "array", "value": ["glance-direct", "copy-image", "web-download"]}"#;
        assert_eq!(
            wrap(info, 80),
            [
                r#"{"description": "Import methods available.", "type": "array", "value": ["glance-"#,
                r#"direct", "copy-image", "web-download"]}"#,
            ]
        );
    }

    #[test]
    fn python_json_and_str() {
        let v = serde_json::json!({"b": [1, "é"], "a": null});
        assert_eq!(py_json(&v), r#"{"a": null, "b": [1, "\u00e9"]}"#);
        assert_eq!(py_str(&serde_json::json!(true)), "True");
        assert_eq!(py_str(&Value::Null), "None");
        assert_eq!(py_str(&serde_json::json!(["x"])), r#"["x"]"#);
    }
}
