//! The reader's one error type.
//!
//! Every error names the file, the line and the element it concerns, so that a
//! message reads like `cells/AVBL.cell.nml:57: segment 12: unknown parent segment 40`.

use std::fmt;
use std::path::PathBuf;

/// A reading error: where it happened and what is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    /// The file being read.
    pub file: PathBuf,
    /// 1-based line of the element (0 when the file itself is at fault).
    pub line: u32,
    /// The element, as `tag id` (or just `tag` when it has no id).
    pub element: String,
    /// What is wrong (boxed, to keep `Result`s small).
    pub kind: Box<ErrorKind>,
}

impl Error {
    /// An error at `file:line` about `element`.
    pub fn new(
        file: impl Into<PathBuf>,
        line: u32,
        element: impl Into<String>,
        kind: ErrorKind,
    ) -> Self {
        Error {
            file: file.into(),
            line,
            element: element.into(),
            kind: Box::new(kind),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        if !self.element.is_empty() {
            write!(f, ": {}", self.element)?;
        }
        write!(f, ": {}", self.kind)
    }
}

impl std::error::Error for Error {}

/// The kinds of things that can be wrong with a NeuroML/LEMS description.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ErrorKind {
    /// The file could not be read.
    #[error("cannot read file: {0}")]
    Io(String),
    /// The text is not well-formed XML.
    #[error("malformed XML: {0}")]
    Xml(String),
    /// An include names a file that does not exist.
    #[error("included file not found: {0}")]
    MissingInclude(String),
    /// A chain of includes leads back to a file already being read.
    #[error("include cycle: {0}")]
    IncludeCycle(String),
    /// A required attribute is absent.
    #[error("missing attribute '{0}'")]
    MissingAttribute(String),
    /// A number could not be parsed.
    #[error("attribute '{attribute}': bad number '{value}'")]
    BadNumber {
        /// Attribute name.
        attribute: String,
        /// The text found.
        value: String,
    },
    /// A unit symbol is not known (neither NeuroML core nor LEMS-defined).
    #[error("attribute '{attribute}': unknown unit '{unit}' in '{value}'")]
    UnknownUnit {
        /// Attribute name.
        attribute: String,
        /// The unit symbol found.
        unit: String,
        /// The whole attribute value.
        value: String,
    },
    /// A quantity has the wrong physical dimension.
    #[error("attribute '{attribute}': expected a {expected} but '{value}' is a {found}")]
    DimensionMismatch {
        /// Attribute name.
        attribute: String,
        /// The expected dimension.
        expected: String,
        /// The dimension of the value given.
        found: String,
        /// The whole attribute value.
        value: String,
    },
    /// A name refers to something that does not exist.
    #[error("unknown {what} '{name}'")]
    UnknownReference {
        /// What kind of thing was looked for (ion channel, population, segment, ...).
        what: String,
        /// The name used.
        name: String,
    },
    /// Two things share an id where ids must be unique.
    #[error("duplicate {what} id '{id}'")]
    Duplicate {
        /// What kind of thing.
        what: String,
        /// The repeated id.
        id: String,
    },
    /// An element this reader does not know.
    #[error("unsupported element <{0}>")]
    UnsupportedElement(String),
    /// A LEMS construct this reader does not support.
    #[error("unsupported LEMS construct: {0}")]
    UnsupportedLems(String),
    /// An expression in a LEMS `value` or `condition` could not be parsed or uses unknown names.
    #[error("expression '{text}': {message}")]
    Expression {
        /// The expression text.
        text: String,
        /// What is wrong with it.
        message: String,
    },
    /// Anything else that makes the description invalid.
    #[error("{0}")]
    Invalid(String),
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
