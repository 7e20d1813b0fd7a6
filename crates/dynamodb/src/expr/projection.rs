//! Projection expressions (and `AttributesToGet`): which paths of an item to return.
//!
//! Applying a projection keeps, for every path that exists in the item, the value at that path,
//! nested in maps with only the projected keys and lists with only the projected elements
//! (in index order, compacted), as DynamoDB returns them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::syntax;
use super::{
    ExprError, ExprKind, Found, Path, PathElement, Placeholders, Printed, Printer, check_overlaps,
    prio, resolve_path,
};
use crate::value::{AttributeValue, Item};

/// A list of document paths to return.
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    paths: Vec<Path>,
}

/// Parses a ProjectionExpression.
pub fn parse_projection(s: &str, p: &mut Placeholders<'_>) -> Result<Projection, ExprError> {
    let kind = ExprKind::Projection;
    kind.check_text(s)?;
    let raw = syntax::parse_projection(s).map_err(|e| kind.error(e.0))?;
    let mut found = Found::default();
    let paths: Vec<Option<Path>> = raw
        .iter()
        .map(|r| resolve_path(r, p, &mut found, prio::RESERVED))
        .collect();
    let resolved: Vec<&Path> = paths.iter().flatten().collect();
    check_overlaps(&resolved, &mut found);
    if let Some(e) = found.into_error(kind) {
        return Err(e);
    }
    let paths: Option<Vec<Path>> = paths.into_iter().collect();
    paths
        .map(Projection::from_paths)
        .ok_or_else(|| kind.error("The expression could not be resolved;"))
}

/// The projected shape: which keys / indexes to keep below a value.
#[derive(Default)]
struct Trie {
    /// A projected path ends here: keep the whole value.
    whole: bool,
    children: BTreeMap<PathElement, Trie>,
}

impl Trie {
    fn insert(&mut self, steps: &[PathElement]) {
        match steps.split_first() {
            None => self.whole = true,
            Some((first, rest)) => self.children.entry(first.clone()).or_default().insert(rest),
        }
    }

    fn project(&self, v: &AttributeValue) -> Option<AttributeValue> {
        if self.whole {
            return Some(v.clone());
        }
        match v {
            AttributeValue::M(m) => {
                let out: BTreeMap<String, AttributeValue> = self
                    .children
                    .iter()
                    .filter_map(|(k, t)| match k {
                        PathElement::Name(n) => Some((n.clone(), t.project(m.get(n)?)?)),
                        PathElement::Index(_) => None,
                    })
                    .collect();
                (!out.is_empty()).then_some(AttributeValue::M(out))
            }
            AttributeValue::L(l) => {
                let out: Vec<AttributeValue> = self
                    .children
                    .iter()
                    .filter_map(|(k, t)| match k {
                        PathElement::Index(i) => t.project(l.get(*i)?),
                        PathElement::Name(_) => None,
                    })
                    .collect();
                (!out.is_empty()).then_some(AttributeValue::L(out))
            }
            _ => None,
        }
    }
}

impl Projection {
    /// A projection of these paths (e.g. from `AttributesToGet` or `UPDATED_NEW`).
    pub fn from_paths(paths: Vec<Path>) -> Self {
        Projection { paths }
    }

    /// The paths, in order.
    pub fn paths(&self) -> &[Path] {
        &self.paths
    }

    /// The projected copy of `item`.
    pub fn apply(&self, item: &Item) -> Item {
        let mut root = Trie::default();
        for p in &self.paths {
            root.insert(p.elements());
        }
        root.children
            .iter()
            .filter_map(|(k, t)| match k {
                PathElement::Name(n) => Some((n.clone(), t.project(item.get(n)?)?)),
                PathElement::Index(_) => None,
            })
            .collect()
    }

    /// The top-level attributes projected.
    pub fn top_level_attributes(&self) -> BTreeSet<String> {
        self.paths
            .iter()
            .map(|p| p.top_level().to_owned())
            .collect()
    }

    /// The projection as text with `#nN` placeholders.
    pub fn to_expression(&self) -> Printed {
        let mut pr = Printer::default();
        let parts: Vec<String> = self.paths.iter().map(|p| pr.path(p)).collect();
        pr.finish(parts.join(", "))
    }
}

/// The expression text with placeholders (see [`Projection::to_expression`]).
impl fmt::Display for Projection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_expression().expression)
    }
}
