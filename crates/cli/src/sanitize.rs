//! Text from the cluster or from files, made safe to print on a terminal and in a CI log.
//!
//! Messages, names, images, annotations and log lines are written by whoever controls a
//! container, a webhook or a manifest. Printed raw, their control characters act on the reader's
//! terminal (ESC/CSI colours and cursor moves, an OSC window title, BEL, clear-screen, a carriage
//! return that hides what came before) and some lines act on the CI system reading the log
//! (GitHub Actions' `::error::` at the start of a line, and `##[` or Azure's `##vso[` anywhere in
//! it). Every text path of the command line passes outside text through here, and so do JSON and
//! YAML output, whose strings must stay exact: serde_json escapes only the C0 controls, so [`json`]
//! writes the others (and a CI command's first `#`) as `\uXXXX` escapes, which parse back to the
//! same text; [`yaml`] writes such strings the same way, double-quoted.
//!
//! Control characters (C0, DEL, C1), the bidirectional overrides and the Unicode line separators
//! are shown escaped (`\n`, `\r`, `\t`, `\x1b`, `\u{9b}`); a CI command loses its power by its
//! first character escaped the same way (`\x3a:error::`, `\x23#vso[`). A backslash is left as it
//! is, so ordinary text (paths, regular expressions) reads unchanged.

use std::fmt::Write as _;

/// At most this many characters of one piece of outside text within a line: a termination
/// message or a log line can be kilobytes long, and the terminal line should stay readable.
const MAX_PIECE_CHARS: usize = 1000;
/// At most this many characters of a whole line of text (an error, a line of a pod template).
const MAX_LINE_CHARS: usize = 4000;

/// One piece of outside text shown within a line (a message, a name, an image, a log line):
/// escaped, its newlines shown as `\n`, capped with a marker.
pub fn inline(text: &str) -> String {
    escape_line(text, MAX_PIECE_CHARS)
}

/// Text of whole lines (an error, YAML, a plan): its line breaks kept, every line escaped,
/// capped and unable to act as a CI command.
pub fn lines(text: &str) -> String {
    let escaped: Vec<String> = text.split('\n').map(|line| escape_line(line, MAX_LINE_CHARS)).collect();
    escaped.join("\n")
}

/// `value` as one line of JSON that parses back to exactly `value`, with no character left raw
/// that a terminal or a CI system would act on.
pub fn json(value: &serde_json::Value) -> String {
    let text = value.to_string();
    let mut out = String::with_capacity(text.len());
    for (at, character) in text.char_indices() {
        // Outside strings JSON holds only ASCII punctuation, digits and literals, so whatever is
        // escaped here is within a string.
        if must_escape(character) || is_ci_command(&text[at..]) {
            let _ = write!(out, "\\u{:04x}", u32::from(character));
        } else {
            out.push(character);
        }
    }
    out
}

/// `value` as a YAML document (without `---`) that parses back to exactly `value`, with nothing
/// raw that a terminal or a CI system would act on. serde_norway writes it; a string it would
/// write raw that must not be (control characters, `##[`, or `::`, which could start a line where
/// a long scalar is folded) is written instead as [`json`] writes it: a JSON string is a valid
/// YAML double-quoted scalar with the same escapes.
pub fn yaml(value: &serde_json::Value) -> String {
    let marker = unused_marker(value);
    let mut quoted = Vec::new();
    let masked = mask_unsafe_strings(value, &marker, &mut quoted);
    let text = serde_norway::to_string(&masked).expect("a JSON value is representable in YAML");
    // Each string masked became `{marker}{index}{marker}`, which YAML writes unquoted, and the
    // marker occurs nowhere else: the pieces between markers alternate text and index.
    let mut out = String::with_capacity(text.len());
    for (position, piece) in text.split(marker.as_str()).enumerate() {
        match piece.parse::<usize>() {
            Ok(index) if position % 2 == 1 => out.push_str(&json(&serde_json::Value::String(quoted[index].clone()))),
            _ => out.push_str(piece),
        }
    }
    out
}

/// Whether YAML could print `text` in a way a terminal or CI system acts on, or unquoted where a
/// YAML 1.1 reader (PyYAML, go-yaml v2) would read another type: serde_norway writes YAML 1.2,
/// where `2026-11-30T19:32:35Z`, `yes`, `off` and `1:30` are strings, but in 1.1 they are a
/// timestamp, booleans and a number (base 60).
fn unsafe_in_yaml(text: &str) -> bool {
    let bytes = text.as_bytes();
    let timestamp = bytes.len() >= 6 && bytes[..4].iter().all(u8::is_ascii_digit) && bytes[4] == b'-' && bytes[5].is_ascii_digit();
    let boolean = ["y", "yes", "n", "no", "on", "off"].iter().any(|word| text.eq_ignore_ascii_case(word));
    let sexagesimal = text.contains(':') && bytes.first().is_some_and(u8::is_ascii_digit) && bytes.iter().all(|b| b.is_ascii_digit() || b":._".contains(b));
    timestamp || boolean || sexagesimal || text.chars().any(must_escape) || text.contains("::") || text.char_indices().any(|(at, _)| is_ci_command(&text[at..]))
}

/// A word of letters and digits that no string (key or value) in `value` contains.
fn unused_marker(value: &serde_json::Value) -> String {
    fn strings<'a>(value: &'a serde_json::Value, found: &mut Vec<&'a str>) {
        match value {
            serde_json::Value::String(text) => found.push(text),
            serde_json::Value::Array(items) => items.iter().for_each(|item| strings(item, found)),
            serde_json::Value::Object(map) => map.iter().for_each(|(key, item)| {
                found.push(key);
                strings(item, found);
            }),
            _ => {}
        }
    }
    let mut found = Vec::new();
    strings(value, &mut found);
    (0u64..).map(|n| format!("rollwatchquoted{n}x")).find(|marker| !found.iter().any(|text| text.contains(marker.as_str()))).expect("some marker is unused")
}

/// `value` with every string unsafe in YAML (keys too) replaced by a numbered placeholder; the
/// originals are pushed onto `quoted` in number order.
fn mask_unsafe_strings(value: &serde_json::Value, marker: &str, quoted: &mut Vec<String>) -> serde_json::Value {
    let mask = |text: &str, quoted: &mut Vec<String>| {
        if !unsafe_in_yaml(text) {
            return text.to_string();
        }
        quoted.push(text.to_string());
        format!("{marker}{}{marker}", quoted.len() - 1)
    };
    match value {
        serde_json::Value::String(text) => serde_json::Value::String(mask(text, quoted)),
        serde_json::Value::Array(items) => items.iter().map(|item| mask_unsafe_strings(item, marker, quoted)).collect(),
        serde_json::Value::Object(map) => {
            let mut masked = serde_json::Map::new();
            for (key, item) in map {
                let key = mask(key, quoted);
                masked.insert(key, mask_unsafe_strings(item, marker, quoted));
            }
            serde_json::Value::Object(masked)
        }
        other => other.clone(),
    }
}

/// Escapes one line, keeping at most `max_chars` characters of the result before a marker.
fn escape_line(line: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(line.len().min(max_chars));
    let mut shown = 0;
    // Only leading whitespace may precede a `::` workflow command: GitHub's runner trims it.
    let mut leading = true;
    for (at, character) in line.char_indices() {
        let rest = &line[at..];
        let before = out.len();
        if let Some(named) = named_escape(character) {
            out.push_str(named);
        } else if must_escape(character) || (leading && rest.starts_with("::")) || is_ci_command(rest) {
            push_escaped(&mut out, character);
        } else {
            out.push(character);
        }
        leading &= character.is_whitespace() && out.len() - before == character.len_utf8();
        shown += out[before..].chars().count();
        if shown >= max_chars {
            let left = rest.chars().count() - 1;
            if left > 0 {
                let _ = write!(out, "… [{left} more characters]");
            }
            break;
        }
    }
    out
}

/// Whether `text` starts with a command that CI runners obey anywhere in a line: GitHub's legacy
/// `##[command]` and Azure Pipelines' `##vso[command]`.
fn is_ci_command(text: &str) -> bool {
    text.starts_with("##[") || text.starts_with("##vso[")
}

fn named_escape(character: char) -> Option<&'static str> {
    match character {
        '\n' => Some(r"\n"),
        '\r' => Some(r"\r"),
        '\t' => Some(r"\t"),
        _ => None,
    }
}

/// Control characters (C0, DEL, C1), the bidirectional embeddings, overrides and isolates
/// (which reorder what is shown around them) and the Unicode line and paragraph separators.
fn must_escape(character: char) -> bool {
    character.is_control()
        || matches!(character, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}')
}

fn push_escaped(out: &mut String, character: char) {
    let code = u32::from(character);
    let _ = if code < 0x80 { write!(out, "\\x{code:02x}") } else { write!(out, "\\u{{{code:x}}}") };
}

#[cfg(test)]
mod tests {
    use super::{MAX_PIECE_CHARS, inline, json, lines, yaml};

    #[test]
    fn terminal_control_sequences_are_shown_not_obeyed() {
        let hostile = "\x1b[31mred\x1b[0m \x1b]0;title\x07 \x1b[2J\x1b[H bell\x07 cr\roverwrite del\x7f csi\u{9b}2J nul\0";
        assert_eq!(inline(hostile), r"\x1b[31mred\x1b[0m \x1b]0;title\x07 \x1b[2J\x1b[H bell\x07 cr\roverwrite del\x7f csi\u{9b}2J nul\x00");
    }

    #[test]
    fn ordinary_text_is_unchanged() {
        let text = r#"Back-off pulling image "repo/app:v2": C:\path (100% ünïcode ✔), a::b and #1 ## [x]"#;
        assert_eq!(inline(text), text);
        assert_eq!(lines("pod:\n  spec:\n    image: app\n"), "pod:\n  spec:\n    image: app\n");
    }

    #[test]
    fn a_piece_shows_its_newlines_and_tabs_escaped() {
        assert_eq!(inline("first\nsecond\r\n\tthird"), r"first\nsecond\r\n\tthird");
    }

    #[test]
    fn whole_lines_keep_their_breaks_but_not_their_control_characters() {
        assert_eq!(lines("error: denied\n\x1b[2Jreason\r"), "error: denied\n\\x1b[2Jreason\\r");
    }

    #[test]
    fn github_workflow_commands_cannot_start_a_line() {
        assert_eq!(inline("::error::pwned"), r"\x3a:error::pwned");
        // The runner trims leading whitespace before looking for `::`.
        assert_eq!(inline("  ::add-mask::x"), r"  \x3a:add-mask::x");
        assert_eq!(inline("\u{2003}::error::x"), "\u{2003}\\x3a:error::x");
        assert_eq!(lines("ok\n    ::error file=a::pwned"), "ok\n    \\x3a:error file=a::pwned");
        // After a newline escaped as `\n` it is no longer at the start of a line.
        assert_eq!(inline("x\n::error::y"), r"x\n::error::y");
        assert_eq!(inline("image: a::b"), "image: a::b");
    }

    #[test]
    fn legacy_and_azure_commands_are_defused_anywhere_in_a_line() {
        assert_eq!(inline("log: ##[error]pwned"), r"log: \x23#[error]pwned");
        assert_eq!(inline("x ##vso[task.setvariable variable=a]b"), r"x \x23#vso[task.setvariable variable=a]b");
    }

    #[test]
    fn bidirectional_overrides_and_line_separators_are_escaped() {
        assert_eq!(inline("a\u{202e}b\u{2066}c\u{2028}d"), r"a\u{202e}b\u{2066}c\u{2028}d");
    }

    #[test]
    fn long_text_is_capped_with_a_marker_saying_how_much_is_left() {
        let long = "x".repeat(MAX_PIECE_CHARS + 250);
        let shown = inline(&long);
        assert_eq!(shown, format!("{}… [250 more characters]", "x".repeat(MAX_PIECE_CHARS)));
        assert_eq!(inline(&"y".repeat(MAX_PIECE_CHARS)), "y".repeat(MAX_PIECE_CHARS), "exactly at the cap: no marker");
        // Escapes count towards the cap: a line of ESC bytes cannot grow the output fourfold.
        let escapes = inline(&"\x1b".repeat(MAX_PIECE_CHARS));
        assert!(escapes.chars().count() < MAX_PIECE_CHARS + 40, "{}", escapes.len());
        assert!(escapes.ends_with(&format!("… [{} more characters]", MAX_PIECE_CHARS - MAX_PIECE_CHARS / 4)), "{escapes}");
    }

    #[test]
    fn json_is_exact_once_parsed_yet_has_nothing_raw_to_act_on() {
        let hostile = "\x1b]0;title\x07 \u{9b}2J del\x7f \u{202e}rtl\u{2028} ##vso[task.complete]x ##[error]y \\##[z \"q\" é ✔";
        let line = json(&serde_json::json!({"message": hostile, "n": 1}));
        assert_eq!(serde_json::from_str::<serde_json::Value>(&line).unwrap(), serde_json::json!({"message": hostile, "n": 1}));
        assert!(!line.chars().any(|c| c.is_control()), "{line}");
        assert!(!line.contains("##[") && !line.contains("##vso[") && !line.contains('\u{202e}') && !line.contains('\u{2028}'), "{line}");
        assert!(line.contains(r"\u009b2J") && line.contains(r"\u0023#vso[") && line.contains("é ✔"), "{line}");
    }

    #[test]
    fn yaml_is_exact_once_parsed_yet_has_nothing_raw_to_act_on() {
        let hostile = "\x1b]0;title\x07 \u{9b}2J del\x7f \u{202e}rtl\u{2028} ##vso[task.complete]x ##[error]y \"q\" é ✔";
        let folded = format!("{} ::error::pwned", "word ".repeat(40));
        let value = serde_json::json!({
            "message": hostile,
            "log": "line one\n::error::pwned\n\ttabbed",
            "long": folded,
            "reasons": [{"code": "CrashLoopBackOff", "message": hostile}],
            "\x1b[2Jkey": 1,
            "plain": "deployment/web",
            "n": 1.5,
            "none": null,
        });
        let text = yaml(&value);
        let parsed: serde_json::Value = serde_norway::from_str(&text).unwrap();
        assert_eq!(parsed, value, "{text}");
        assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "{text}");
        assert!(!text.contains("##[") && !text.contains("##vso[") && !text.contains('\u{202e}') && !text.contains('\u{2028}'), "{text}");
        assert!(text.lines().all(|line| !line.trim_start().starts_with("::")), "{text}");
        assert!(text.contains("plain: deployment/web\n") && text.contains("é ✔"), "ordinary strings stay plain: {text}");
    }

    #[test]
    fn yaml_quotes_what_a_yaml_1_1_reader_takes_for_another_type() {
        let value =
            serde_json::json!({"time": "2026-11-30T19:32:35Z", "date": "2026-11-30", "yes": "yes", "on": "Off", "null": "~", "count": "3", "base60": "1:30"});
        let text = yaml(&value);
        assert!(text.contains("time: \"2026-11-30T19:32:35Z\"\n") && text.contains("date: \"2026-11-30\"\n"), "{text}");
        for plain in ["yes: yes\n", "on: Off\n", "null: ~\n", "count: 3\n", "base60: 1:30\n"] {
            assert!(!text.contains(plain), "{plain:?} is quoted: {text}");
        }
        assert_eq!(serde_norway::from_str::<serde_json::Value>(&text).unwrap(), value, "{text}");
    }

    #[test]
    fn yaml_of_text_that_looks_like_its_placeholders_is_still_exact() {
        let value = serde_json::json!({"a": "rollwatchquoted0x", "b": "x\u{7}", "rollwatchquoted1x0rollwatchquoted1x": "y::z"});
        let text = yaml(&value);
        assert_eq!(serde_norway::from_str::<serde_json::Value>(&text).unwrap(), value, "{text}");
    }
}
