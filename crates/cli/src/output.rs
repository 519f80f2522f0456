//! How the CLI writes for people and for scripts: aligned tables with a header row (times in UTC,
//! and the headers say so), counted nouns with the right plural, shell words for the commands it
//! suggests, and `--json` as exactly one JSON object on stdout.
//! No I/O besides stdout; no time of its own (timestamps come from the store).

use gatehouse_core::clock::Timestamp;

/// A timestamp for a person: `2026-05-01 12:34` (UTC; the column header says so).
pub fn utc(t: Timestamp) -> String {
    match chrono::DateTime::from_timestamp(t, 0) {
        Some(d) => d.format("%Y-%m-%d %H:%M").to_string(),
        None => t.to_string(),
    }
}

/// `1 API key`, `2 API keys`, `0 API keys`.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `a`, `a and b`, `a, b and c`.
pub fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Columns aligned on the widest cell, two spaces apart, with a header row (like `gh`).
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let width = |s: &str| s.chars().count();
    let mut widths: Vec<usize> = headers.iter().map(|h| width(h)).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(width(cell));
            }
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let last = cells.len().saturating_sub(1);
        let mut l = String::new();
        for (i, cell) in cells.into_iter().enumerate() {
            l.push_str(cell);
            if i < last {
                let pad = widths
                    .get(i)
                    .copied()
                    .unwrap_or(0)
                    .saturating_sub(width(cell))
                    + 2;
                l.push_str(&" ".repeat(pad));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(headers.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}

/// A word as a POSIX shell reads it: left alone when it is plain, single-quoted otherwise.
pub fn shell_word(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./:@%+=,-".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// A database URL fit to print: the password in it, if any, replaced by `***`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

pub fn print_json<T: serde::Serialize>(v: &T) {
    match serde_json::to_string(v) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("error: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_on_the_widest_cell() {
        let t = table(
            &["ID", "LOGIN", "NOTE"],
            &[
                vec!["1".into(), "alice".into(), "x".into()],
                vec!["10".into(), "bé".into(), String::new()],
            ],
        );
        assert_eq!(t, "ID  LOGIN  NOTE\n1   alice  x\n10  bé\n");
    }

    #[test]
    fn plurals_and_lists_read_naturally() {
        assert_eq!(count(1, "API key", "API keys"), "1 API key");
        assert_eq!(count(2, "API key", "API keys"), "2 API keys");
        assert_eq!(count(0, "session", "sessions"), "0 sessions");
        assert_eq!(and_list(&["a".into()]), "a");
        assert_eq!(
            and_list(&["a".into(), "b".into(), "c".into()]),
            "a, b and c"
        );
    }

    #[test]
    fn times_are_utc_to_the_minute() {
        assert_eq!(utc(0), "1970-01-01 00:00");
        assert_eq!(utc(1_700_000_000), "2023-11-14 22:13");
    }

    #[test]
    fn shell_words_and_redacted_urls() {
        assert_eq!(shell_word("sqlite:///tmp/x.db"), "sqlite:///tmp/x.db");
        assert_eq!(shell_word("my dir"), "'my dir'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
        assert_eq!(
            redact_url("postgres://u:secret@db:5432/g?sslmode=require"),
            "postgres://u:***@db:5432/g?sslmode=require"
        );
        assert_eq!(redact_url("postgres://u@db/g"), "postgres://u@db/g");
        assert_eq!(redact_url("sqlite:///tmp/x.db"), "sqlite:///tmp/x.db");
        assert_eq!(redact_url("/tmp/x.db"), "/tmp/x.db");
    }
}
