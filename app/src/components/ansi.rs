//! Terminal colours in the browser: output lines keep their ANSI colour codes (the shim only
//! collapses `\r` progress), and views show them as CSS classes.

/// Splits text with ANSI SGR escapes into (CSS classes, text) runs: colours 30–37/90–97 and
/// bold are kept, everything else is dropped.
pub fn ansi_runs(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut fg: Option<u8> = None;
    let mut bold = false;
    let mut current = String::new();
    let classes = |fg: Option<u8>, bold: bool| {
        let mut c = Vec::new();
        if let Some(n) = fg {
            c.push(format!("ansi-{n}"));
        }
        if bold {
            c.push("ansi-bold".to_owned());
        }
        c.join(" ")
    };
    let mut rest = text;
    while let Some(i) = rest.find('\u{1b}') {
        current.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let Some(body) = after.strip_prefix('[') else {
            rest = after;
            continue;
        };
        let end = body
            .find(|c: char| c.is_ascii_alphabetic())
            .unwrap_or(body.len());
        let (params, tail) = body.split_at(end);
        let command = tail.chars().next();
        rest = tail.get(1..).unwrap_or_default();
        if command != Some('m') {
            continue;
        }
        if !current.is_empty() {
            out.push((classes(fg, bold), std::mem::take(&mut current)));
        }
        for p in params.split(';') {
            match p.parse::<u8>().unwrap_or(0) {
                0 => {
                    fg = None;
                    bold = false;
                }
                1 => bold = true,
                22 => bold = false,
                39 => fg = None,
                n @ (30..=37 | 90..=97) => fg = Some(n),
                _ => {}
            }
        }
    }
    current.push_str(rest);
    if !current.is_empty() {
        out.push((classes(fg, bold), current));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ansi_colours_become_classes_and_other_escapes_vanish() {
        assert_eq!(
            ansi_runs("\u{1b}[31mred\u{1b}[0m plain"),
            vec![
                ("ansi-31".into(), "red".into()),
                (String::new(), " plain".into())
            ]
        );
        assert_eq!(
            ansi_runs("\u{1b}[1;92mok\u{1b}[2K"),
            vec![("ansi-92 ansi-bold".into(), "ok".into())]
        );
        assert_eq!(ansi_runs("none"), vec![(String::new(), "none".into())]);
    }
}
