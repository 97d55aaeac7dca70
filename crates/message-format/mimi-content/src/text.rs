//! Text helpers: GFM-MIMI "No HTML" escaping, mentions, `cid:` references, counting emoji in
//! reactions (digest §5.3, §5.5, §5.6).

/// Applies the GFM-MIMI "No HTML" extension for senders (digest §5.5): the `<` that would open
/// an HTML tag, comment, processing instruction, declaration or CDATA section becomes `&lt;`.
///
/// Any `<` followed by an ASCII letter, `/`, `!` or `?` is escaped (autolinks such as
/// `<https://…>` too: GFM-MIMI has no Autolink extension), except where Markdown would not read
/// HTML anyway: inside code spans, inside fenced code blocks, and after a backslash escape.
/// (Indented code blocks are not recognised and are escaped like text.)
pub fn gfm_mimi_escape_html(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut fence: Option<(char, usize)> = None;
    let mut text = String::new();
    for line in markdown.split_inclusive('\n') {
        let marker = fence_marker(line);
        match (fence, marker) {
            (None, Some(open)) => {
                escape_inline(&text, &mut out);
                text.clear();
                fence = Some(open);
                out.push_str(line);
            }
            (Some((c, n)), Some((mc, mn))) if c == mc && mn >= n && closes(line, mc, mn) => {
                fence = None;
                out.push_str(line);
            }
            (Some(_), _) => out.push_str(line),
            (None, None) => text.push_str(line),
        }
    }
    escape_inline(&text, &mut out);
    out
}

/// The fence character and length if `line` starts a code fence (up to 3 spaces of indent).
fn fence_marker(line: &str) -> Option<(char, usize)> {
    let trimmed = line.trim_start_matches(' ');
    if line.len() - trimmed.len() > 3 {
        return None;
    }
    let c = trimmed.chars().next().filter(|c| matches!(c, '`' | '~'))?;
    let n = trimmed.chars().take_while(|x| *x == c).count();
    (n >= 3).then_some((c, n))
}

/// Whether a fence line holds nothing but the fence (a closing fence).
fn closes(line: &str, c: char, n: usize) -> bool {
    let trimmed = line.trim_start_matches(' ');
    trimmed.chars().skip(n).all(|x| x == c || x.is_whitespace())
}

/// Escapes tag openers outside code spans and backslash escapes.
fn escape_inline(text: &str, out: &mut String) {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            out.extend(chars.get(i..(i + 2).min(chars.len())).into_iter().flatten());
            i += 2;
            continue;
        }
        if c == '`' {
            let run = chars[i..].iter().take_while(|x| **x == '`').count();
            let mut j = i + run;
            let mut close = None;
            while j < chars.len() {
                let r = chars[j..].iter().take_while(|x| **x == '`').count();
                if r == run {
                    close = Some(j + r);
                    break;
                }
                j += r.max(1);
            }
            let end = close.unwrap_or(i + run);
            out.extend(&chars[i..end]);
            i = end;
            continue;
        }
        let opens_tag = c == '<'
            && chars
                .get(i + 1)
                .is_some_and(|n| n.is_ascii_alphabetic() || matches!(n, '/' | '!' | '?'));
        if opens_tag {
            out.push_str("&lt;");
        } else {
            out.push(c);
        }
        i += 1;
    }
}

/// A Markdown mention: `[@display](uri)` (digest §5.6). Brackets and backslashes in the
/// display name are escaped so the link stays one link.
pub fn markdown_mention(display_name: &str, uri: &str) -> String {
    let mut out = String::from("[@");
    for c in display_name.chars() {
        if matches!(c, '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push_str("](");
    out.push_str(uri);
    out.push(')');
    out
}

/// An HTML mention: `<a href="uri">@display</a>`, with the name and URI escaped.
pub fn html_mention(display_name: &str, uri: &str) -> String {
    fn escape(s: &str) -> String {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    }
    format!("<a href=\"{}\">@{}</a>", escape(uri), escape(display_name))
}

/// The `partIndex` values referenced as `cid:<n>@local.invalid` in a container part.
pub fn cid_references(content: &[u8]) -> Vec<usize> {
    const PREFIX: &[u8] = b"cid:";
    const SUFFIX: &[u8] = b"@local.invalid";
    let mut found = Vec::new();
    let mut rest = content;
    while let Some(start) = find(rest, PREFIX) {
        rest = &rest[start + PREFIX.len()..];
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits > 0 && rest[digits..].starts_with(SUFFIX) {
            let index = std::str::from_utf8(&rest[..digits])
                .ok()
                .and_then(|d| d.parse::<usize>().ok())
                .unwrap_or(usize::MAX);
            found.push(index);
        }
    }
    found
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// How many emoji a reaction text holds. ZWJ sequences, variation selectors, skin-tone
/// modifiers, tag sequences and regional-indicator pairs (flags) count as one emoji; other
/// characters do not count, so a text reaction like "+1" is one reaction, not several.
pub fn emoji_count(text: &str) -> usize {
    let mut count = 0;
    let mut joined = false;
    let mut open_flag = false;
    for c in text.chars() {
        let cp = u32::from(c);
        if cp == 0x200D {
            joined = true;
            continue;
        }
        if is_modifier(cp) {
            continue;
        }
        if (0x1F1E6..=0x1F1FF).contains(&cp) {
            if open_flag {
                open_flag = false;
            } else {
                open_flag = true;
                count += 1;
            }
            joined = false;
            continue;
        }
        open_flag = false;
        if std::mem::take(&mut joined) {
            continue;
        }
        if is_emoji_base(cp) {
            count += 1;
        }
    }
    count
}

fn is_modifier(cp: u32) -> bool {
    matches!(cp, 0xFE0E | 0xFE0F | 0x20E3 | 0x0300..=0x036F | 0x1F3FB..=0x1F3FF | 0xE0020..=0xE007F)
}

fn is_emoji_base(cp: u32) -> bool {
    matches!(
        cp,
        0x00A9 | 0x00AE | 0x203C | 0x2049 | 0x2122 | 0x2139 | 0x2190..=0x2BFF | 0x3030 | 0x303D
            | 0x3297 | 0x3299 | 0x1F000..=0x1FAFF
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaves_code_and_backslash_escapes_alone() {
        assert_eq!(
            gfm_mimi_escape_html("use `<div>` or ``a ` <b>`` but <i>\\<b>"),
            "use `<div>` or ``a ` <b>`` but &lt;i>\\<b>"
        );
        assert_eq!(
            gfm_mimi_escape_html("<p>\n```html\n<p>x</p>\n```\n<p>"),
            "&lt;p>\n```html\n<p>x</p>\n```\n&lt;p>"
        );
        assert_eq!(gfm_mimi_escape_html("~~~\n<a>\n"), "~~~\n<a>\n");
        assert_eq!(gfm_mimi_escape_html("`unclosed <b>"), "`unclosed &lt;b>");
        assert_eq!(gfm_mimi_escape_html("trailing \\"), "trailing \\");
    }

    #[test]
    fn escapes_html_tags_only() {
        assert_eq!(
            gfm_mimi_escape_html("a <b>x</b> <!-- c --> 1 < 2 <?pi?>"),
            "a &lt;b>x&lt;/b> &lt;!-- c --> 1 < 2 &lt;?pi?>"
        );
    }

    #[test]
    fn mention_escapes_brackets() {
        assert_eq!(
            markdown_mention("Al]ice", "mimi://a.example/u/alice"),
            "[@Al\\]ice](mimi://a.example/u/alice)"
        );
    }

    #[test]
    fn html_mention_escapes() {
        assert_eq!(
            html_mention("A<b>\"", "mimi://a.example/u/a"),
            "<a href=\"mimi://a.example/u/a\">@A&lt;b&gt;&quot;</a>"
        );
    }

    #[test]
    fn finds_cid_references() {
        let html = b"<img src=\"cid:5@local.invalid\"><img src=\"cid:x@local.invalid\">cid:10@local.invalid";
        assert_eq!(cid_references(html), vec![5, 10]);
    }

    #[test]
    fn counts_emoji() {
        assert_eq!(emoji_count("\u{2764}"), 1);
        assert_eq!(emoji_count("\u{2764}\u{FE0F}"), 1);
        assert_eq!(emoji_count("\u{1F44D}\u{1F3FD}"), 1);
        assert_eq!(emoji_count("\u{1F469}\u{200D}\u{1F4BB}"), 1);
        assert_eq!(emoji_count("\u{1F1EB}\u{1F1F7}"), 1);
        assert_eq!(emoji_count("+1"), 0);
        assert_eq!(emoji_count("\u{2764}\u{1F973}"), 2);
        assert_eq!(emoji_count("\u{1F1EB}\u{1F1F7}\u{1F1E9}\u{1F1EA}"), 2);
    }
}
