//! A small element tree built with quick-xml, keeping each element's line number.
//!
//! Text content, comments and processing instructions are dropped: NeuroML and LEMS carry
//! everything the reader needs in elements and attributes.

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

/// One XML element with its attributes, children and 1-based line.
#[derive(Debug, Clone, PartialEq)]
pub struct Element {
    /// Tag name without namespace prefix.
    pub name: String,
    /// Attributes in document order (namespace declarations dropped).
    pub attrs: Vec<(String, String)>,
    /// Child elements in document order.
    pub children: Vec<Element>,
    /// 1-based line where the start tag begins.
    pub line: u32,
}

impl Element {
    /// The value of an attribute, if present.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The element's `id` (or LEMS `name`), if any.
    pub fn id(&self) -> Option<&str> {
        self.attr("id").or_else(|| self.attr("name"))
    }

    /// `tag id` for messages, or just `tag`.
    pub fn describe(&self) -> String {
        match self.id() {
            Some(id) => format!("{} {}", self.name, id),
            None => self.name.clone(),
        }
    }

    /// Children with a given tag.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The first child with a given tag.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }
}

/// A parse failure: the 1-based line and a message.
#[derive(Debug, Clone, PartialEq)]
pub struct XmlError {
    /// Line of the failure.
    pub line: u32,
    /// What quick-xml reported.
    pub message: String,
}

/// Maps byte offsets to 1-based line numbers.
struct LineIndex {
    newlines: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let newlines = text
            .bytes()
            .enumerate()
            .filter(|(_, b)| *b == b'\n')
            .map(|(i, _)| i)
            .collect();
        LineIndex { newlines }
    }

    fn line(&self, offset: usize) -> u32 {
        (self.newlines.partition_point(|&n| n < offset) + 1) as u32
    }
}

fn local_name(name: &str) -> String {
    match name.rfind(':') {
        Some(i) => name[i + 1..].to_string(),
        None => name.to_string(),
    }
}

fn element_from(start: &BytesStart, line: u32) -> Result<Element, XmlError> {
    let mut attrs = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| XmlError {
            line,
            message: e.to_string(),
        })?;
        let key = attr.key.as_ref().to_string();
        if key == "xmlns" || key.starts_with("xmlns:") || key.starts_with("xsi:") {
            continue;
        }
        let value = attr
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| XmlError {
                line,
                message: format!("attribute '{key}': {e}"),
            })?
            .into_owned();
        attrs.push((local_name(&key), value));
    }
    Ok(Element {
        name: local_name(start.name().as_ref()),
        attrs,
        children: Vec::new(),
        line,
    })
}

/// Parses a whole document and returns its root element.
pub fn parse(text: &str) -> Result<Element, XmlError> {
    let lines = LineIndex::new(text);
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let before = reader.buffer_position() as usize;
        let event = reader.read_event().map_err(|e| XmlError {
            line: lines.line(reader.error_position() as usize),
            message: e.to_string(),
        })?;
        // The start of the tag: skip leading whitespace consumed with the event.
        let tag_pos = before + text[before.min(text.len())..].len()
            - text[before.min(text.len())..].trim_start().len();
        let line = lines.line(tag_pos);
        match event {
            Event::Start(start) => {
                let el = element_from(&start, line)?;
                stack.push(el);
            }
            Event::Empty(start) => {
                let el = element_from(&start, line)?;
                attach(&mut stack, &mut root, el, line)?;
            }
            Event::End(_) => {
                let el = stack.pop().ok_or_else(|| XmlError {
                    line,
                    message: "unexpected end tag".into(),
                })?;
                attach(&mut stack, &mut root, el, line)?;
            }
            Event::Text(t) if stack.is_empty() && !t.trim().is_empty() => {
                return Err(XmlError {
                    line,
                    message: "text outside the root element".into(),
                });
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if let Some(open) = stack.last() {
        return Err(XmlError {
            line: open.line,
            message: format!("element <{}> is never closed", open.name),
        });
    }
    root.ok_or(XmlError {
        line: 1,
        message: "no root element".into(),
    })
}

fn attach(
    stack: &mut [Element],
    root: &mut Option<Element>,
    el: Element,
    line: u32,
) -> Result<(), XmlError> {
    match stack.last_mut() {
        Some(parent) => parent.children.push(el),
        None => {
            if root.is_some() {
                return Err(XmlError {
                    line,
                    message: "more than one root element".into(),
                });
            }
            *root = Some(el);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_lines_and_strips_namespaces() {
        let doc = "<?xml version=\"1.0\"?>\n<neuroml xmlns=\"x\" id=\"n\">\n  <!-- c -->\n  <cell id=\"A\">\n    <segment id=\"0\"/>\n  </cell>\n</neuroml>\n";
        let root = parse(doc).unwrap();
        assert_eq!(root.name, "neuroml");
        assert_eq!(root.attrs, vec![("id".to_string(), "n".to_string())]);
        assert_eq!(root.line, 2);
        let cell = &root.children[0];
        assert_eq!((cell.line, cell.describe().as_str()), (4, "cell A"));
        assert_eq!(cell.children[0].line, 5);
    }

    #[test]
    fn reports_the_line_of_malformed_xml() {
        let err = parse("<a>\n<b>\n</a>\n").unwrap_err();
        assert_eq!(err.line, 3, "{err:?}");
        let err = parse("<a>\n<b x=\"1\">\n").unwrap_err();
        assert!(
            err.message.contains("never closed") || err.line >= 2,
            "{err:?}"
        );
        assert!(parse("").is_err());
        assert!(parse("<a/><b/>").is_err());
    }
}
