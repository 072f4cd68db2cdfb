//! Morphology: segments (3D frustums), segment groups and the unbranched cables they form.
//!
//! Lengths and diameters are in µm. Nothing here decides compartments: a *cable*
//! (an unbranched segment group, `neuroLexId="sao864921383"`) is a description-level
//! fact that discretization policies in the simulator build on.

use std::collections::{HashMap, HashSet};

use crate::context::Ctx;
use crate::error::{ErrorKind, Result};
use crate::xml::Element;
use crate::Origin;

/// The NeuroLex id NeuroML uses for an unbranched segment group (a NEURON section).
pub const UNBRANCHED_NEUROLEX_ID: &str = "sao864921383";

/// A 3D point with a diameter \[µm\].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point3 {
    /// x \[µm\]
    pub x: f64,
    /// y \[µm\]
    pub y: f64,
    /// z \[µm\]
    pub z: f64,
    /// diameter \[µm\]
    pub diameter: f64,
}

impl Point3 {
    /// Euclidean distance to another point \[µm\].
    pub fn distance(&self, other: &Point3) -> f64 {
        ((self.x - other.x).powi(2) + (self.y - other.y).powi(2) + (self.z - other.z).powi(2))
            .sqrt()
    }
}

/// Where a segment attaches to its parent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SegmentParent {
    /// Parent segment id.
    pub segment: u32,
    /// Position along the parent, 0 (proximal) to 1 (distal; the default).
    pub fraction_along: f64,
}

/// A segment: a frustum from `proximal` to `distal`.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// Segment id (unique in its morphology).
    pub id: u32,
    /// Optional name.
    pub name: Option<String>,
    /// Parent, absent for a root.
    pub parent: Option<SegmentParent>,
    /// Proximal point; absent means "the parent's distal point" (or the point at
    /// `fraction_along` on the parent).
    pub proximal: Option<Point3>,
    /// Distal point.
    pub distal: Point3,
    /// Where it was defined.
    pub origin: Origin,
}

/// A `<path>` or `<subTree>` inclusion in a segment group.
#[derive(Debug, Clone, PartialEq)]
pub enum SegmentRange {
    /// Segments on the path from `from` to `to` (both included).
    Path {
        /// First segment.
        from: Option<u32>,
        /// Last segment.
        to: Option<u32>,
    },
    /// `from` and all segments distal to it (or all proximal to `to`).
    SubTree {
        /// Root of the subtree.
        from: Option<u32>,
        /// Tip of the subtree.
        to: Option<u32>,
    },
}

/// A named segment group.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentGroup {
    /// Group id.
    pub id: String,
    /// NeuroLex id (`sao864921383` marks an unbranched cable).
    pub neuro_lex_id: Option<String>,
    /// Directly listed segment ids, in order.
    pub members: Vec<u32>,
    /// Other groups included.
    pub includes: Vec<String>,
    /// Paths and subtrees included.
    pub ranges: Vec<SegmentRange>,
    /// `<property tag value>` pairs (e.g. `numberInternalDivisions`).
    pub properties: Vec<(String, String)>,
    /// Where it was defined.
    pub origin: Origin,
}

impl SegmentGroup {
    /// Whether this group is an unbranched cable.
    pub fn is_cable(&self) -> bool {
        self.neuro_lex_id.as_deref() == Some(UNBRANCHED_NEUROLEX_ID)
    }

    /// The `numberInternalDivisions` property, if set.
    pub fn number_internal_divisions(&self) -> Option<u32> {
        self.properties
            .iter()
            .find(|(tag, _)| tag == "numberInternalDivisions")
            .and_then(|(_, v)| v.trim().parse().ok())
    }
}

/// An unbranched run of segments that NEURON would treat as one section.
#[derive(Debug, Clone, PartialEq)]
pub struct Cable {
    /// The segment group's id (or the segment's id for a segment in no cable group).
    pub id: String,
    /// Segment ids from proximal to distal.
    pub segments: Vec<u32>,
    /// `numberInternalDivisions` (1 when not given).
    pub divisions: u32,
}

/// A cell's morphology.
#[derive(Debug, Clone, PartialEq)]
pub struct Morphology {
    /// Morphology id.
    pub id: String,
    /// Segments in document order.
    pub segments: Vec<Segment>,
    /// Segment groups in document order.
    pub segment_groups: Vec<SegmentGroup>,
}

impl Morphology {
    /// The segment with this id.
    pub fn segment(&self, id: u32) -> Option<&Segment> {
        self.segments.iter().find(|s| s.id == id)
    }

    /// The group with this id.
    pub fn group(&self, id: &str) -> Option<&SegmentGroup> {
        self.segment_groups.iter().find(|g| g.id == id)
    }

    /// The proximal point of a segment, resolved from its parent when not written.
    pub fn proximal(&self, segment: &Segment) -> Point3 {
        if let Some(p) = segment.proximal {
            return p;
        }
        match segment
            .parent
            .and_then(|p| self.segment(p.segment).map(|s| (s, p.fraction_along)))
        {
            Some((parent, f)) if f >= 1.0 => parent.distal,
            Some((parent, f)) => {
                let a = self.proximal(parent);
                let b = parent.distal;
                let lerp = |x: f64, y: f64| x + f * (y - x);
                Point3 {
                    x: lerp(a.x, b.x),
                    y: lerp(a.y, b.y),
                    z: lerp(a.z, b.z),
                    diameter: lerp(a.diameter, b.diameter),
                }
            }
            None => segment.distal,
        }
    }

    /// All segment ids of a group, following includes, paths and subtrees;
    /// `"all"` means every segment when no such group is declared.
    pub fn resolve_group(&self, id: &str) -> Option<Vec<u32>> {
        if self.group(id).is_none() {
            return (id == "all").then(|| self.segments.iter().map(|s| s.id).collect());
        }
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        self.collect_group(id, &mut out, &mut seen);
        Some(out)
    }

    fn collect_group(&self, id: &str, out: &mut Vec<u32>, seen: &mut HashSet<String>) {
        if !seen.insert(id.to_string()) {
            return;
        }
        let Some(group) = self.group(id) else { return };
        let push = |out: &mut Vec<u32>, s: u32| {
            if !out.contains(&s) {
                out.push(s)
            }
        };
        for &m in &group.members {
            push(out, m);
        }
        for inc in &group.includes {
            self.collect_group(inc, out, seen);
        }
        for range in &group.ranges {
            for s in self.range_segments(range) {
                push(out, s);
            }
        }
    }

    fn range_segments(&self, range: &SegmentRange) -> Vec<u32> {
        let parent_of: HashMap<u32, u32> = self
            .segments
            .iter()
            .filter_map(|s| s.parent.map(|p| (s.id, p.segment)))
            .collect();
        let ancestors = |mut s: u32| {
            let mut chain = vec![s];
            while let Some(&p) = parent_of.get(&s) {
                if chain.contains(&p) {
                    break;
                }
                chain.push(p);
                s = p;
            }
            chain
        };
        match *range {
            SegmentRange::Path {
                from: Some(f),
                to: Some(t),
            } => {
                let chain = ancestors(t);
                match chain.iter().position(|&s| s == f) {
                    Some(i) => chain[..=i].iter().rev().copied().collect(),
                    None => Vec::new(),
                }
            }
            SegmentRange::Path {
                from: None,
                to: Some(t),
            }
            | SegmentRange::SubTree {
                from: None,
                to: Some(t),
            } => ancestors(t).into_iter().rev().collect(),
            SegmentRange::Path {
                from: Some(f),
                to: None,
            }
            | SegmentRange::SubTree { from: Some(f), .. } => self.descendants(f),
            SegmentRange::Path {
                from: None,
                to: None,
            }
            | SegmentRange::SubTree {
                from: None,
                to: None,
            } => Vec::new(),
        }
    }

    fn descendants(&self, root: u32) -> Vec<u32> {
        let mut out = vec![root];
        let mut i = 0;
        while i < out.len() {
            let s = out[i];
            for child in self
                .segments
                .iter()
                .filter(|c| c.parent.map(|p| p.segment) == Some(s))
            {
                if !out.contains(&child.id) {
                    out.push(child.id);
                }
            }
            i += 1;
        }
        out
    }

    /// The unbranched cables: one per cable segment group, plus one per segment that is in
    /// no cable group (as jNeuroML's NEURON export does).
    pub fn cables(&self) -> Vec<Cable> {
        let mut covered = HashSet::new();
        let mut cables = Vec::new();
        for g in self.segment_groups.iter().filter(|g| g.is_cable()) {
            let segments = self.resolve_group(&g.id).unwrap_or_default();
            covered.extend(segments.iter().copied());
            cables.push(Cable {
                id: g.id.clone(),
                segments,
                divisions: g.number_internal_divisions().unwrap_or(1),
            });
        }
        for s in &self.segments {
            if !covered.contains(&s.id) {
                cables.push(Cable {
                    id: format!("segment_{}", s.id),
                    segments: vec![s.id],
                    divisions: 1,
                });
            }
        }
        cables
    }
}

fn point(ctx: &Ctx, el: &Element) -> Result<Point3> {
    let p = Point3 {
        x: ctx.number(el, "x")?,
        y: ctx.number(el, "y")?,
        z: ctx.number(el, "z")?,
        diameter: ctx.number(el, "diameter")?,
    };
    if p.diameter < 0.0 {
        return Err(ctx.invalid(el, "negative diameter"));
    }
    Ok(p)
}

fn segment(ctx: &Ctx, el: &Element) -> Result<Segment> {
    let id = ctx.integer(el, "id")?;
    let mut parent = None;
    let mut proximal = None;
    let mut distal = None;
    for c in &el.children {
        match c.name.as_str() {
            "parent" => {
                let fraction_along = ctx.opt_number(c, "fractionAlong")?.unwrap_or(1.0);
                if !(0.0..=1.0).contains(&fraction_along) {
                    return Err(ctx.invalid(c, "fractionAlong must lie in [0, 1]"));
                }
                parent = Some(SegmentParent {
                    segment: ctx.integer(c, "segment")?,
                    fraction_along,
                });
            }
            "proximal" => proximal = Some(point(ctx, c)?),
            "distal" => distal = Some(point(ctx, c)?),
            "notes" | "annotation" => {}
            _ => return Err(ctx.unsupported(c)),
        }
    }
    let distal = distal.ok_or_else(|| ctx.invalid(el, "has no <distal> point"))?;
    if parent.is_none() && proximal.is_none() {
        return Err(ctx.invalid(el, "a root segment needs a <proximal> point"));
    }
    Ok(Segment {
        id,
        name: el.attr("name").map(str::to_string),
        parent,
        proximal,
        distal,
        origin: ctx.origin(el),
    })
}

fn segment_group(ctx: &Ctx, el: &Element) -> Result<SegmentGroup> {
    let mut g = SegmentGroup {
        id: ctx.id(el)?,
        neuro_lex_id: el.attr("neuroLexId").map(str::to_string),
        members: Vec::new(),
        includes: Vec::new(),
        ranges: Vec::new(),
        properties: Vec::new(),
        origin: ctx.origin(el),
    };
    let endpoint = |c: &Element, name: &str| -> Result<Option<u32>> {
        c.child(name).map(|e| ctx.integer(e, "segment")).transpose()
    };
    for c in &el.children {
        match c.name.as_str() {
            "member" => g.members.push(ctx.integer(c, "segment")?),
            "include" => g
                .includes
                .push(ctx.required(c, "segmentGroup")?.to_string()),
            "path" => g.ranges.push(SegmentRange::Path {
                from: endpoint(c, "from")?,
                to: endpoint(c, "to")?,
            }),
            "subTree" => g.ranges.push(SegmentRange::SubTree {
                from: endpoint(c, "from")?,
                to: endpoint(c, "to")?,
            }),
            "property" => g.properties.push((
                ctx.required(c, "tag")?.to_string(),
                ctx.required(c, "value")?.to_string(),
            )),
            "inhomogeneousParameter" => {
                return Err(ctx.error(
                    c,
                    ErrorKind::UnsupportedElement("inhomogeneousParameter".into()),
                ))
            }
            "notes" | "annotation" => {}
            _ => return Err(ctx.unsupported(c)),
        }
    }
    Ok(g)
}

/// Reads a `<morphology>` element and checks its internal references.
pub(crate) fn read_morphology(ctx: &Ctx, el: &Element) -> Result<Morphology> {
    let mut m = Morphology {
        id: el.attr("id").unwrap_or("").to_string(),
        segments: Vec::new(),
        segment_groups: Vec::new(),
    };
    let mut group_elements = Vec::new();
    for c in &el.children {
        match c.name.as_str() {
            "segment" => m.segments.push(segment(ctx, c)?),
            "segmentGroup" => {
                m.segment_groups.push(segment_group(ctx, c)?);
                group_elements.push(c);
            }
            "notes" | "annotation" => {}
            _ => return Err(ctx.unsupported(c)),
        }
    }
    if m.segments.is_empty() {
        return Err(ctx.invalid(el, "has no segments"));
    }
    // Unique ids, known parents, no cycles.
    let mut ids = HashSet::new();
    let segment_elements: Vec<&Element> = el.children_named("segment").collect();
    for (s, e) in m.segments.iter().zip(&segment_elements) {
        if !ids.insert(s.id) {
            return Err(ctx.error(
                e,
                ErrorKind::Duplicate {
                    what: "segment".into(),
                    id: s.id.to_string(),
                },
            ));
        }
    }
    let parent_of: HashMap<u32, u32> = m
        .segments
        .iter()
        .filter_map(|s| s.parent.map(|p| (s.id, p.segment)))
        .collect();
    for (s, e) in m.segments.iter().zip(&segment_elements) {
        if let Some(p) = s.parent {
            if !ids.contains(&p.segment) {
                return Err(ctx.error(
                    e,
                    ErrorKind::UnknownReference {
                        what: "parent segment".into(),
                        name: p.segment.to_string(),
                    },
                ));
            }
        }
        let mut cur = s.id;
        let mut steps = 0;
        while let Some(&p) = parent_of.get(&cur) {
            steps += 1;
            if p == s.id || steps > m.segments.len() {
                return Err(ctx.invalid(e, "segment is its own ancestor (parent cycle)"));
            }
            cur = p;
        }
    }
    let mut group_ids = HashSet::new();
    for (g, e) in m.segment_groups.iter().zip(&group_elements) {
        if !group_ids.insert(g.id.as_str()) {
            return Err(ctx.error(
                e,
                ErrorKind::Duplicate {
                    what: "segmentGroup".into(),
                    id: g.id.clone(),
                },
            ));
        }
    }
    for (g, e) in m.segment_groups.iter().zip(&group_elements) {
        if let Some(&s) = g.members.iter().find(|s| !ids.contains(s)) {
            return Err(ctx.error(
                e,
                ErrorKind::UnknownReference {
                    what: "segment".into(),
                    name: s.to_string(),
                },
            ));
        }
        if let Some(inc) = g.includes.iter().find(|i| !group_ids.contains(i.as_str())) {
            return Err(ctx.error(
                e,
                ErrorKind::UnknownReference {
                    what: "segmentGroup".into(),
                    name: inc.clone(),
                },
            ));
        }
        for r in &g.ranges {
            let (SegmentRange::Path { from, to } | SegmentRange::SubTree { from, to }) = r;
            if let Some(s) = from.iter().chain(to.iter()).find(|s| !ids.contains(s)) {
                return Err(ctx.error(
                    e,
                    ErrorKind::UnknownReference {
                        what: "segment".into(),
                        name: s.to_string(),
                    },
                ));
            }
        }
        if let Some((_, v)) = g
            .properties
            .iter()
            .find(|(t, _)| t == "numberInternalDivisions")
        {
            match v.trim().parse::<u32>() {
                Ok(n) if n > 0 => {}
                _ => {
                    return Err(ctx.error(
                        e,
                        ErrorKind::BadNumber {
                            attribute: "numberInternalDivisions".into(),
                            value: v.clone(),
                        },
                    ))
                }
            }
        }
    }
    Ok(m)
}
