//! Update expressions: AST, semantic checks, application to an item, printing.
//!
//! Semantics (developer guide, "Update expressions"; behaviour recorded in moto's and dynalite's
//! tests): every SET right-hand side reads the item as it was before the update; SET to a list
//! index past the end appends; REMOVE of a missing path or index is a no-op and list removals
//! shift the following elements; ADD creates a missing attribute, adds numbers and unions sets;
//! DELETE subtracts from a set and removes the attribute when the set becomes empty.

use std::collections::BTreeSet;
use std::fmt;

use super::syntax::{self, RawAction, RawOperand, RawSetValue, Section};
use super::{
    ExprError, ExprKind, Found, Path, PathElement, Placeholders, Printed, Printer, check_overlaps,
    prio, resolve_path, resolve_value,
};
use crate::value::{AttributeValue, Item};

/// A value-producing operand of a SET action.
#[derive(Debug, Clone, PartialEq)]
pub enum UpdateOperand {
    /// The value at a path of the item before the update.
    Path(Path),
    /// An `ExpressionAttributeValues` value.
    Value(AttributeValue),
    /// `if_not_exists(path, fallback)`.
    IfNotExists(Path, Box<UpdateOperand>),
    /// `list_append(a, b)`.
    ListAppend(Box<UpdateOperand>, Box<UpdateOperand>),
}

/// The right-hand side of a SET action.
#[derive(Debug, Clone, PartialEq)]
pub enum SetValue {
    /// `operand`.
    Operand(UpdateOperand),
    /// `a + b` (numbers).
    Plus(UpdateOperand, UpdateOperand),
    /// `a - b` (numbers).
    Minus(UpdateOperand, UpdateOperand),
}

/// One action of an update expression.
#[derive(Debug, Clone, PartialEq)]
pub enum UpdateAction {
    /// `SET path = value`.
    Set(Path, SetValue),
    /// `REMOVE path`.
    Remove(Path),
    /// `ADD path :value` (a number or a set).
    Add(Path, AttributeValue),
    /// `DELETE path :set`.
    Delete(Path, AttributeValue),
}

impl UpdateAction {
    /// The path the action writes.
    pub fn path(&self) -> &Path {
        match self {
            UpdateAction::Set(p, _)
            | UpdateAction::Remove(p)
            | UpdateAction::Add(p, _)
            | UpdateAction::Delete(p, _) => p,
        }
    }

    fn section(&self) -> Section {
        match self {
            UpdateAction::Set(..) => Section::Set,
            UpdateAction::Remove(_) => Section::Remove,
            UpdateAction::Add(..) => Section::Add,
            UpdateAction::Delete(..) => Section::Delete,
        }
    }
}

/// A parsed update expression: its actions in source order (each section's actions together).
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateExpr {
    actions: Vec<UpdateAction>,
    /// Built from the legacy `AttributeUpdates`: ADD and DELETE report a type mismatch in
    /// that API's words ("Type mismatch for attribute to update"), and ADD of a list appends
    /// to a list (an expression's ADD takes numbers and sets only, checked when parsed).
    legacy: bool,
}

const CONDITION_FUNCTIONS: [&str; 6] = [
    "attribute_exists",
    "attribute_not_exists",
    "attribute_type",
    "begins_with",
    "contains",
    "size",
];

/// Parses an UpdateExpression.
pub fn parse_update(s: &str, p: &mut Placeholders<'_>) -> Result<UpdateExpr, ExprError> {
    let kind = ExprKind::Update;
    kind.check_text(s)?;
    let (raw, notes) = syntax::parse_update(s).map_err(|e| kind.error(e.0))?;
    let mut cx = Cx {
        p,
        found: Found::default(),
    };
    if let Some(section) = notes.repeated_section {
        cx.found.add(
            prio::SECTION,
            format!(
                "The \"{}\" section can only be used once in an update expression;",
                section.keyword()
            ),
        );
    }
    let actions: Vec<Option<UpdateAction>> = raw.iter().map(|a| cx.action(a)).collect();
    let paths: Vec<&Path> = actions.iter().flatten().map(UpdateAction::path).collect();
    check_overlaps(&paths, &mut cx.found);
    if let Some(e) = cx.found.into_error(kind) {
        return Err(e);
    }
    let actions: Option<Vec<UpdateAction>> = actions.into_iter().collect();
    actions
        .map(UpdateExpr::new)
        .ok_or_else(|| kind.error("The expression could not be resolved;"))
}

struct Cx<'p, 'a> {
    p: &'p mut Placeholders<'a>,
    found: Found,
}

/// The long type names DynamoDB uses in ADD/DELETE operand errors.
fn long_type_name(t: &str) -> &str {
    match t {
        "S" => "STRING",
        "N" => "NUMBER",
        "B" => "BINARY",
        "BOOL" => "BOOLEAN",
        "L" => "LIST",
        "M" => "MAP",
        other => other,
    }
}

/// The type of an operand known at parse time.
fn static_type(o: &UpdateOperand) -> Option<&'static str> {
    match o {
        UpdateOperand::Value(v) => Some(v.type_name()),
        UpdateOperand::ListAppend(..) => Some("L"),
        UpdateOperand::IfNotExists(_, d) => static_type(d),
        UpdateOperand::Path(_) => None,
    }
}

impl Cx<'_, '_> {
    fn path(&mut self, raw: &[syntax::RawElem]) -> Option<Path> {
        resolve_path(raw, self.p, &mut self.found, prio::UPDATE_RESERVED)
    }

    fn action(&mut self, raw: &RawAction) -> Option<UpdateAction> {
        match raw {
            RawAction::Set(path, value) => {
                let path = self.path(path);
                let value = self.set_value(value);
                Some(UpdateAction::Set(path?, value?))
            }
            RawAction::Remove(path) => Some(UpdateAction::Remove(self.path(path)?)),
            RawAction::Add(path, v) | RawAction::Delete(path, v) => {
                let is_add = matches!(raw, RawAction::Add(..));
                let path = self.path(path);
                let value = resolve_value(v, self.p, &mut self.found)?;
                let allowed = value.is_set() || (is_add && matches!(value, AttributeValue::N(_)));
                if !allowed {
                    self.found.add(
                        prio::OPERAND_COUNT,
                        format!(
                            "Incorrect operand type for operator or function; operator: {}, operand type: {}",
                            if is_add { "ADD" } else { "DELETE" },
                            long_type_name(value.type_name())
                        ),
                    );
                }
                let path = path?;
                Some(if is_add {
                    UpdateAction::Add(path, value)
                } else {
                    UpdateAction::Delete(path, value)
                })
            }
        }
    }

    fn set_value(&mut self, raw: &RawSetValue) -> Option<SetValue> {
        match raw {
            RawSetValue::Operand(o) => Some(SetValue::Operand(self.operand(o)?)),
            RawSetValue::Plus(a, b) | RawSetValue::Minus(a, b) => {
                let op = if matches!(raw, RawSetValue::Plus(..)) {
                    "+"
                } else {
                    "-"
                };
                let (a, b) = (self.operand(a), self.operand(b));
                let (a, b) = (a?, b?);
                for o in [&a, &b] {
                    if let Some(t) = static_type(o).filter(|t| *t != "N") {
                        self.type_error(op, t);
                        break;
                    }
                }
                Some(if op == "+" {
                    SetValue::Plus(a, b)
                } else {
                    SetValue::Minus(a, b)
                })
            }
        }
    }

    fn type_error(&mut self, name: &str, t: &str) {
        self.found.add(
            prio::TYPE,
            format!(
                "Incorrect operand type for operator or function; operator or function: {name}, operand type: {t}"
            ),
        );
    }

    fn operand(&mut self, raw: &RawOperand) -> Option<UpdateOperand> {
        match raw {
            RawOperand::Path(p) => self.path(p).map(UpdateOperand::Path),
            RawOperand::ValueRef(r) => {
                resolve_value(r, self.p, &mut self.found).map(UpdateOperand::Value)
            }
            RawOperand::Call(name, raw_args) => {
                let known = name == "if_not_exists" || name == "list_append";
                if !known {
                    let msg = if CONDITION_FUNCTIONS.contains(&name.as_str()) {
                        format!(
                            "The function is not allowed in an update expression; function: {name}"
                        )
                    } else {
                        format!("Invalid function name; function: {name}")
                    };
                    self.found.add(prio::UNKNOWN_FUNCTION, msg);
                }
                let args: Vec<Option<UpdateOperand>> =
                    raw_args.iter().map(|a| self.operand(a)).collect();
                if !known {
                    return None;
                }
                if args.len() != 2 {
                    self.found.add(
                        prio::TYPE,
                        format!(
                            "Incorrect number of operands for operator or function; operator or function: {name}, number of operands: {}",
                            args.len()
                        ),
                    );
                    return None;
                }
                let mut it = args.into_iter();
                let (a, b) = (it.next().flatten()?, it.next().flatten()?);
                if name == "if_not_exists" {
                    let UpdateOperand::Path(path) = a else {
                        self.found.add(
                            prio::TYPE,
                            "Operator or function requires a document path; operator or function: if_not_exists",
                        );
                        return None;
                    };
                    Some(UpdateOperand::IfNotExists(path, Box::new(b)))
                } else {
                    // AWS quirk: list_append takes if_not_exists as an operand but not
                    // another list_append (observed, recorded by ScyllaDB's Alternator tests).
                    if [&a, &b]
                        .iter()
                        .any(|o| matches!(o, UpdateOperand::ListAppend(..)))
                    {
                        self.found.add(
                            prio::TYPE,
                            "The function is not allowed to be used this way in an expression; function: list_append",
                        );
                        return None;
                    }
                    for o in [&a, &b] {
                        if let UpdateOperand::Value(v) = o
                            && v.type_name() != "L"
                        {
                            self.type_error(name, v.type_name());
                            break;
                        }
                    }
                    Some(UpdateOperand::ListAppend(Box::new(a), Box::new(b)))
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Application
// ---------------------------------------------------------------------------------------------

fn missing_attribute() -> ExprError {
    ExprError::new("The provided expression refers to an attribute that does not exist in the item")
}

fn wrong_type() -> ExprError {
    ExprError::new("An operand in the update expression has an incorrect data type")
}

fn invalid_path() -> ExprError {
    ExprError::new("The document path provided in the update expression is invalid for update")
}

fn number_error(e: crate::number::NumberError) -> ExprError {
    ExprError::new(e.to_string())
}

impl UpdateOperand {
    fn eval(&self, old: &Item) -> Result<AttributeValue, ExprError> {
        match self {
            UpdateOperand::Path(p) => p.resolve(old).cloned().ok_or_else(missing_attribute),
            UpdateOperand::Value(v) => Ok(v.clone()),
            UpdateOperand::IfNotExists(p, d) => match p.resolve(old) {
                Some(v) => Ok(v.clone()),
                None => d.eval(old),
            },
            UpdateOperand::ListAppend(a, b) => match (a.eval(old)?, b.eval(old)?) {
                (AttributeValue::L(mut a), AttributeValue::L(b)) => {
                    a.extend(b);
                    Ok(AttributeValue::L(a))
                }
                _ => Err(wrong_type()),
            },
        }
    }

    fn collect_reads(&self, out: &mut BTreeSet<String>) {
        match self {
            UpdateOperand::Path(p) => {
                out.insert(p.top_level().to_owned());
            }
            UpdateOperand::Value(_) => {}
            UpdateOperand::IfNotExists(p, d) => {
                out.insert(p.top_level().to_owned());
                d.collect_reads(out);
            }
            UpdateOperand::ListAppend(a, b) => {
                a.collect_reads(out);
                b.collect_reads(out);
            }
        }
    }

    fn print(&self, pr: &mut Printer) -> String {
        match self {
            UpdateOperand::Path(p) => pr.path(p),
            UpdateOperand::Value(v) => pr.value(v),
            UpdateOperand::IfNotExists(p, d) => {
                let p = pr.path(p);
                format!("if_not_exists({p}, {})", d.print(pr))
            }
            UpdateOperand::ListAppend(a, b) => {
                let a = a.print(pr);
                format!("list_append({a}, {})", b.print(pr))
            }
        }
    }
}

impl SetValue {
    fn eval(&self, old: &Item) -> Result<AttributeValue, ExprError> {
        match self {
            SetValue::Operand(o) => o.eval(old),
            SetValue::Plus(a, b) | SetValue::Minus(a, b) => {
                let (AttributeValue::N(x), AttributeValue::N(y)) = (a.eval(old)?, b.eval(old)?)
                else {
                    return Err(wrong_type());
                };
                let r = if matches!(self, SetValue::Plus(..)) {
                    x.checked_add(&y)
                } else {
                    x.checked_sub(&y)
                };
                r.map(AttributeValue::N).map_err(number_error)
            }
        }
    }
}

/// The container that holds the last step of `path`, created nowhere: every step before the
/// last must exist.
fn parent_mut<'a>(
    item: &'a mut Item,
    path: &Path,
) -> Result<Option<&'a mut AttributeValue>, ExprError> {
    let elements = path.elements();
    let Some((PathElement::Name(first), rest)) = elements.split_first() else {
        return Err(invalid_path());
    };
    if rest.is_empty() {
        return Ok(None);
    }
    let Some(mut cur) = item.get_mut(first) else {
        return Err(invalid_path());
    };
    let middle = rest.get(..rest.len() - 1).unwrap_or(&[]);
    for step in middle {
        cur = match (cur, step) {
            (AttributeValue::M(m), PathElement::Name(n)) => {
                m.get_mut(n).ok_or_else(invalid_path)?
            }
            (AttributeValue::L(l), PathElement::Index(i)) => {
                l.get_mut(*i).ok_or_else(invalid_path)?
            }
            _ => return Err(invalid_path()),
        };
    }
    Ok(Some(cur))
}

fn last_step(path: &Path) -> &PathElement {
    // INVARIANT: paths are non-empty.
    path.elements().last().unwrap_or(&PathElement::Index(0))
}

fn set_at(item: &mut Item, path: &Path, v: AttributeValue) -> Result<(), ExprError> {
    match (parent_mut(item, path)?, last_step(path)) {
        (None, _) => {
            item.insert(path.top_level().to_owned(), v);
        }
        (Some(AttributeValue::M(m)), PathElement::Name(k)) => {
            m.insert(k.clone(), v);
        }
        (Some(AttributeValue::L(l)), PathElement::Index(i)) => match l.get_mut(*i) {
            Some(slot) => *slot = v,
            None => l.push(v),
        },
        _ => return Err(invalid_path()),
    }
    Ok(())
}

fn get_at<'a>(item: &'a Item, path: &Path) -> Option<&'a AttributeValue> {
    path.resolve(item)
}

/// Removes what `path` names. AWS quirk: a missing last step is nothing to remove, but a
/// missing or mistyped step before it (`REMOVE a.b` where `a` is absent or not a map) is "The
/// document path provided in the update expression is invalid for update", as for SET.
fn remove_at(item: &mut Item, path: &Path) -> Result<(), ExprError> {
    match (parent_mut(item, path)?, last_step(path)) {
        (None, _) => {
            item.remove(path.top_level());
        }
        (Some(AttributeValue::M(m)), PathElement::Name(k)) => {
            m.remove(k);
        }
        (Some(AttributeValue::L(l)), PathElement::Index(i)) => {
            if *i < l.len() {
                l.remove(*i);
            }
        }
        _ => return Err(invalid_path()),
    }
    Ok(())
}

fn union<T: PartialEq + Clone>(mut a: Vec<T>, b: &[T]) -> Vec<T> {
    for x in b {
        if !a.contains(x) {
            a.push(x.clone());
        }
    }
    a
}

fn type_mismatch() -> ExprError {
    ExprError::new("Type mismatch for attribute to update")
}

/// ADD of `v` to what `existing` holds; `mismatch` is the error for operands of different
/// types. A list `v` (legacy `AttributeUpdates` only) appends to a list.
fn add_values(
    existing: Option<&AttributeValue>,
    v: &AttributeValue,
    mismatch: fn() -> ExprError,
) -> Result<AttributeValue, ExprError> {
    use AttributeValue as V;
    Ok(match (existing, v) {
        (None, v) => v.clone(),
        (Some(V::N(a)), V::N(b)) => V::N(a.checked_add(b).map_err(number_error)?),
        (Some(V::Ss(a)), V::Ss(b)) => V::Ss(union(a.clone(), b)),
        (Some(V::Ns(a)), V::Ns(b)) => V::Ns(union(a.clone(), b)),
        (Some(V::Bs(a)), V::Bs(b)) => V::Bs(union(a.clone(), b)),
        (Some(V::L(a)), V::L(b)) => V::L(a.iter().chain(b).cloned().collect()),
        _ => return Err(mismatch()),
    })
}

/// The set minus `v`'s members, `None` when nothing is left.
fn delete_values(
    existing: &AttributeValue,
    v: &AttributeValue,
    mismatch: fn() -> ExprError,
) -> Result<Option<AttributeValue>, ExprError> {
    use AttributeValue as V;
    let out = match (existing, v) {
        (V::Ss(a), V::Ss(b)) => V::Ss(a.iter().filter(|x| !b.contains(x)).cloned().collect()),
        (V::Ns(a), V::Ns(b)) => V::Ns(a.iter().filter(|x| !b.contains(x)).cloned().collect()),
        (V::Bs(a), V::Bs(b)) => V::Bs(a.iter().filter(|x| !b.contains(x)).cloned().collect()),
        _ => return Err(mismatch()),
    };
    let empty = match &out {
        V::Ss(x) => x.is_empty(),
        V::Ns(x) => x.is_empty(),
        V::Bs(x) => x.is_empty(),
        _ => false,
    };
    Ok((!empty).then_some(out))
}

impl UpdateExpr {
    /// An update from actions (for the legacy `AttributeUpdates` conversion and tests).
    pub fn new(actions: Vec<UpdateAction>) -> Self {
        UpdateExpr {
            actions,
            legacy: false,
        }
    }

    /// An update converted from the legacy `AttributeUpdates` (see the `legacy` field).
    pub fn from_attribute_updates(actions: Vec<UpdateAction>) -> Self {
        UpdateExpr {
            actions,
            legacy: true,
        }
    }

    /// The actions, in order.
    pub fn actions(&self) -> &[UpdateAction] {
        &self.actions
    }

    /// Whether the update only takes away: REMOVE and DELETE (of set members), or
    /// `AttributeUpdates` DELETE with or without a value. AWS quirk: such an update of an item
    /// that does not exist leaves it not existing (no error, no item holding only its key),
    /// where any other update, an empty one included, creates it (observed, recorded by
    /// ScyllaDB's Alternator tests).
    pub fn only_removes(&self) -> bool {
        !self.actions.is_empty()
            && self
                .actions
                .iter()
                .all(|a| matches!(a, UpdateAction::Remove(_) | UpdateAction::Delete(..)))
    }

    /// Applies the update to `item` (pass an empty item when none exists). On error `item` is
    /// left unchanged. Returns the paths written, for `ReturnValues` `UPDATED_OLD`/`UPDATED_NEW`.
    pub fn apply(&self, item: &mut Item) -> Result<Vec<Path>, ExprError> {
        let old = item.clone();
        let mut new = item.clone();
        // Every SET value reads the item as it was.
        let mut sets = Vec::new();
        for a in &self.actions {
            if let UpdateAction::Set(path, value) = a {
                sets.push((path, value.eval(&old)?));
            }
        }
        // "If you add multiple elements in a single SET operation, the elements are sorted in
        // order by element number" (Developer Guide, update expressions): list indexes past the
        // end append in index order, not in the expression's. Paths of one update never
        // overlap, so ordering them changes nothing else.
        sets.sort_by(|a, b| a.0.cmp(b.0));
        for (path, v) in sets {
            set_at(&mut new, path, v)?;
        }
        // List removals from the highest index down, so earlier ones do not shift later ones.
        let mut removes: Vec<&Path> = self
            .actions
            .iter()
            .filter_map(|a| match a {
                UpdateAction::Remove(p) => Some(p),
                _ => None,
            })
            .collect();
        removes.sort_by(|a, b| b.cmp(a));
        for p in removes {
            remove_at(&mut new, p)?;
        }
        let mismatch = if self.legacy {
            type_mismatch
        } else {
            wrong_type
        };
        for a in &self.actions {
            match a {
                UpdateAction::Add(path, v) => {
                    let sum = add_values(get_at(&new, path), v, mismatch)?;
                    set_at(&mut new, path, sum)?;
                }
                UpdateAction::Delete(path, v) => {
                    if let Some(existing) = get_at(&new, path) {
                        match delete_values(existing, v, mismatch)? {
                            Some(rest) => set_at(&mut new, path, rest)?,
                            None => remove_at(&mut new, path)?,
                        }
                    }
                }
                _ => {}
            }
        }
        *item = new;
        Ok(self.actions.iter().map(|a| a.path().clone()).collect())
    }

    /// The top-level attributes the update writes or reads.
    pub fn top_level_attributes(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for a in &self.actions {
            out.insert(a.path().top_level().to_owned());
            if let UpdateAction::Set(_, v) = a {
                match v {
                    SetValue::Operand(o) => o.collect_reads(&mut out),
                    SetValue::Plus(x, y) | SetValue::Minus(x, y) => {
                        x.collect_reads(&mut out);
                        y.collect_reads(&mut out);
                    }
                }
            }
        }
        out
    }

    /// Whether some action writes (at or below) the top-level attribute `attr`.
    pub fn touches(&self, attr: &str) -> bool {
        self.actions.iter().any(|a| a.path().top_level() == attr)
    }

    /// The expression as text with `#nN`/`:vN` placeholders; parsing it back with those
    /// placeholders gives an equal update.
    pub fn to_expression(&self) -> Printed {
        let mut pr = Printer::default();
        let mut text = String::new();
        let mut current: Option<Section> = None;
        for a in &self.actions {
            let section = a.section();
            if current == Some(section) {
                text.push_str(", ");
            } else {
                if current.is_some() {
                    text.push(' ');
                }
                text.push_str(section.keyword());
                text.push(' ');
                current = Some(section);
            }
            let path = pr.path(a.path());
            let body = match a {
                UpdateAction::Set(_, v) => match v {
                    SetValue::Operand(o) => format!("{path} = {}", o.print(&mut pr)),
                    SetValue::Plus(x, y) => {
                        let x = x.print(&mut pr);
                        format!("{path} = {x} + {}", y.print(&mut pr))
                    }
                    SetValue::Minus(x, y) => {
                        let x = x.print(&mut pr);
                        format!("{path} = {x} - {}", y.print(&mut pr))
                    }
                },
                UpdateAction::Remove(_) => path,
                UpdateAction::Add(_, v) | UpdateAction::Delete(_, v) => {
                    format!("{path} {}", pr.value(v))
                }
            };
            text.push_str(&body);
        }
        pr.finish(text)
    }
}

/// The expression text with placeholders (see [`UpdateExpr::to_expression`]).
impl fmt::Display for UpdateExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_expression().expression)
    }
}
