//! Helpers shared by the element readers: attribute access with unit conversion and
//! error construction that names file, line and element.

use std::path::Path;

use crate::error::{Error, ErrorKind, Result};
use crate::expr::Expr;
use crate::lems::TypeRegistry;
use crate::units::{QuantityError, UnitSystem};
use crate::xml::Element;
use crate::Origin;

/// What an element reader needs to know about where it is.
pub(crate) struct Ctx<'a> {
    pub file: &'a Path,
    pub file_index: usize,
    pub units: &'a UnitSystem,
    pub types: &'a TypeRegistry,
}

impl<'a> Ctx<'a> {
    pub fn origin(&self, el: &Element) -> Origin {
        Origin {
            file: self.file_index,
            line: el.line,
        }
    }

    pub fn error(&self, el: &Element, kind: ErrorKind) -> Error {
        Error::new(self.file, el.line, el.describe(), kind)
    }

    /// An error at an item read earlier (by its origin), described as `element`.
    pub fn error_at(&self, origin: Origin, element: String, kind: ErrorKind) -> Error {
        Error::new(self.file, origin.line, element, kind)
    }

    pub fn unsupported(&self, el: &Element) -> Error {
        self.error(el, ErrorKind::UnsupportedElement(el.name.clone()))
    }

    pub fn invalid(&self, el: &Element, message: impl Into<String>) -> Error {
        self.error(el, ErrorKind::Invalid(message.into()))
    }

    pub fn required<'e>(&self, el: &'e Element, attr: &str) -> Result<&'e str> {
        el.attr(attr)
            .ok_or_else(|| self.error(el, ErrorKind::MissingAttribute(attr.to_string())))
    }

    pub fn id(&self, el: &Element) -> Result<String> {
        Ok(self.required(el, "id")?.to_string())
    }

    /// Converts a quantity attribute of the named dimension into internal units.
    pub fn quantity_text(
        &self,
        el: &Element,
        attr: &str,
        text: &str,
        dimension: &str,
    ) -> Result<f64> {
        let expected = self.units.dimension(dimension).ok_or_else(|| {
            self.error(
                el,
                ErrorKind::UnknownReference {
                    what: "dimension".into(),
                    name: dimension.into(),
                },
            )
        })?;
        self.units.parse_as(text, expected).map_err(|e| {
            let kind = match e {
                QuantityError::BadNumber => ErrorKind::BadNumber {
                    attribute: attr.into(),
                    value: text.into(),
                },
                QuantityError::UnknownUnit(unit) => ErrorKind::UnknownUnit {
                    attribute: attr.into(),
                    unit,
                    value: text.into(),
                },
                QuantityError::Mismatch { found } => ErrorKind::DimensionMismatch {
                    attribute: attr.into(),
                    expected: dimension.into(),
                    found: found.to_string(),
                    value: text.into(),
                },
            };
            self.error(el, kind)
        })
    }

    pub fn quantity(&self, el: &Element, attr: &str, dimension: &str) -> Result<f64> {
        let text = self.required(el, attr)?;
        self.quantity_text(el, attr, text, dimension)
    }

    pub fn opt_quantity(&self, el: &Element, attr: &str, dimension: &str) -> Result<Option<f64>> {
        el.attr(attr)
            .map(|text| self.quantity_text(el, attr, text, dimension))
            .transpose()
    }

    /// A plain number (no unit), e.g. coordinates in µm or weights.
    pub fn number(&self, el: &Element, attr: &str) -> Result<f64> {
        let text = self.required(el, attr)?;
        self.number_text(el, attr, text)
    }

    pub fn opt_number(&self, el: &Element, attr: &str) -> Result<Option<f64>> {
        el.attr(attr)
            .map(|text| self.number_text(el, attr, text))
            .transpose()
    }

    fn number_text(&self, el: &Element, attr: &str, text: &str) -> Result<f64> {
        match text.trim().parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(x),
            _ => Err(self.error(
                el,
                ErrorKind::BadNumber {
                    attribute: attr.into(),
                    value: text.into(),
                },
            )),
        }
    }

    pub fn integer(&self, el: &Element, attr: &str) -> Result<u32> {
        let text = self.required(el, attr)?;
        self.integer_text(el, attr, text)
    }

    pub fn opt_integer(&self, el: &Element, attr: &str) -> Result<Option<u32>> {
        el.attr(attr)
            .map(|text| self.integer_text(el, attr, text))
            .transpose()
    }

    pub fn integer_text(&self, el: &Element, attr: &str, text: &str) -> Result<u32> {
        text.trim().parse::<u32>().map_err(|_| {
            self.error(
                el,
                ErrorKind::BadNumber {
                    attribute: attr.into(),
                    value: text.into(),
                },
            )
        })
    }

    pub fn expression(&self, el: &Element, attr: &str) -> Result<Expr> {
        let text = self.required(el, attr)?;
        Expr::parse(text).map_err(|message| {
            self.error(
                el,
                ErrorKind::Expression {
                    text: text.into(),
                    message,
                },
            )
        })
    }
}
