//! Loading: follow includes, declare units and ComponentTypes, then read every element.
//!
//! 1. Parse the file given and, depth first, every file it includes (NeuroML
//!    `<include href>`, LEMS `<Include file>`), relative to the including file. A file
//!    included twice is read once; an include that leads back to a file still being read
//!    is a cycle. LEMS's core files (`Cells.xml`, `Networks.xml`, `Simulation.xml`, ...)
//!    are built in and need not exist on disk.
//! 2. Declare every `<Dimension>`, `<Unit>` and `<ComponentType>` of all files, so that
//!    elements may use types defined later or elsewhere (c302's `cell_C.xml` uses
//!    `customHGate` before defining it).
//! 3. Read every other top-level element into the [`Model`], then check references.

use std::collections::HashSet;
use std::io;
use std::path::{Component as PathPart, Path, PathBuf};

use crate::cell::read_cell;
use crate::channel::read_ion_channel;
use crate::context::Ctx;
use crate::error::{Error, ErrorKind, Result};
use crate::lems::TypeRegistry;
use crate::lems_read::{read_component, read_component_type, read_simulation};
use crate::model::Model;
use crate::morphology::read_morphology;
use crate::network::read_network;
use crate::synapse::{
    is_concentration_type, is_input_type, is_synapse_type, read_concentration_model,
    read_input_source, read_synapse, INPUT_ELEMENTS, SYNAPSE_ELEMENTS, UNSUPPORTED_SYNAPSES,
};
use crate::units::{Dimension, Unit, UnitSystem};
use crate::validate::validate;
use crate::xml::{self, Element};

/// LEMS core files that jNeuroML provides itself.
const BUILT_IN_INCLUDES: &[&str] = &[
    "Cells.xml",
    "Channels.xml",
    "Inputs.xml",
    "Networks.xml",
    "NeuroML2CoreTypes.xml",
    "NeuroMLCoreCompTypes.xml",
    "NeuroMLCoreDimensions.xml",
    "PyNN.xml",
    "Simulation.xml",
    "Synapses.xml",
];

/// Elements that carry no model content.
const IGNORED: &[&str] = &[
    "notes",
    "annotation",
    "property",
    "include",
    "Include",
    "Target",
    "Dimension",
    "Unit",
    "ComponentType",
    "About",
    "Meta",
];

struct Document {
    path: PathBuf,
    root: Element,
}

/// Reads a model from files on disk; any dangling reference or other cross-file problem
/// is an error.
pub fn load(path: impl AsRef<Path>) -> Result<Model> {
    load_with(path.as_ref(), &|p: &Path| std::fs::read_to_string(p))
}

/// Reads a model through `read`, which maps a path to its text (tests use an in-memory map).
pub fn load_with(path: &Path, read: &dyn Fn(&Path) -> io::Result<String>) -> Result<Model> {
    let mut model = load_partial_with(path, read)?;
    if model.unresolved.is_empty() {
        return Ok(model);
    }
    Err(model.unresolved.swap_remove(0))
}

/// Reads a model whose files may refer to things defined in files it does not include
/// (a lone `.cell.nml` naming channels of its network): such problems are kept in
/// [`Model::unresolved`] instead of failing. Malformed files still fail.
pub fn load_partial(path: impl AsRef<Path>) -> Result<Model> {
    load_partial_with(path.as_ref(), &|p: &Path| std::fs::read_to_string(p))
}

/// [`load_partial`] through a custom file reader.
pub fn load_partial_with(path: &Path, read: &dyn Fn(&Path) -> io::Result<String>) -> Result<Model> {
    let path = normalize(path);
    let mut docs = Vec::new();
    let text = read(&path).map_err(|e| Error::new(&path, 0, "", ErrorKind::Io(e.to_string())))?;
    let mut stack = Vec::new();
    let mut seen = HashSet::new();
    visit(path, text, read, &mut stack, &mut seen, &mut docs)?;
    build(docs)
}

/// Lexically resolves `.` and `..` so that the same file reached two ways is one file.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            PathPart::CurDir => {}
            PathPart::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn visit(
    path: PathBuf,
    text: String,
    read: &dyn Fn(&Path) -> io::Result<String>,
    stack: &mut Vec<PathBuf>,
    seen: &mut HashSet<PathBuf>,
    docs: &mut Vec<Document>,
) -> Result<()> {
    let root =
        xml::parse(&text).map_err(|e| Error::new(&path, e.line, "", ErrorKind::Xml(e.message)))?;
    if root.name != "neuroml" && root.name != "Lems" {
        let kind = ErrorKind::Invalid("the root element must be <neuroml> or <Lems>".into());
        return Err(Error::new(path, root.line, root.name.clone(), kind));
    }
    seen.insert(path.clone());
    stack.push(path.clone());
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let includes: Vec<(u32, String, String)> = root
        .children
        .iter()
        .filter_map(|c| match c.name.as_str() {
            "include" => Some((
                c.line,
                c.describe(),
                c.attr("href").or(c.attr("url")).unwrap_or("").to_string(),
            )),
            "Include" => Some((
                c.line,
                c.describe(),
                c.attr("file").unwrap_or("").to_string(),
            )),
            _ => None,
        })
        .collect();
    docs.push(Document {
        path: path.clone(),
        root,
    });
    for (line, element, href) in includes {
        let fail = |kind| Error::new(&path, line, element.clone(), kind);
        if href.is_empty() {
            return Err(fail(ErrorKind::MissingAttribute("href".into())));
        }
        if href.contains("://") {
            return Err(fail(ErrorKind::MissingInclude(format!(
                "{href} (remote includes are not fetched)"
            ))));
        }
        let target = normalize(&dir.join(&href));
        if stack.contains(&target) {
            let chain: Vec<String> = stack
                .iter()
                .chain([&target])
                .map(|p| p.display().to_string())
                .collect();
            return Err(fail(ErrorKind::IncludeCycle(chain.join(" -> "))));
        }
        if seen.contains(&target) {
            continue;
        }
        match read(&target) {
            Ok(text) => visit(target, text, read, stack, seen, docs)?,
            Err(_) if BUILT_IN_INCLUDES.contains(&href.as_str()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(fail(ErrorKind::MissingInclude(
                    target.display().to_string(),
                )))
            }
            Err(e) => return Err(fail(ErrorKind::Io(format!("{}: {e}", target.display())))),
        }
    }
    stack.pop();
    Ok(())
}

fn declare_units(units: &mut UnitSystem, docs: &[Document], registry: &TypeRegistry) -> Result<()> {
    // Dimensions first: units refer to them.
    for (i, doc) in docs.iter().enumerate() {
        let ctx = Ctx {
            file: &doc.path,
            file_index: i,
            units,
            types: registry,
        };
        let mut found = Vec::new();
        for el in doc.root.children_named("Dimension") {
            let name = ctx.required(el, "name")?.to_string();
            let exp = |k: &str| -> Result<i8> {
                match el.attr(k) {
                    None => Ok(0),
                    Some(t) => t.trim().parse().map_err(|_| {
                        ctx.error(
                            el,
                            ErrorKind::BadNumber {
                                attribute: k.into(),
                                value: t.into(),
                            },
                        )
                    }),
                }
            };
            let d = Dimension {
                m: exp("m")?,
                l: exp("l")?,
                t: exp("t")?,
                i: exp("i")?,
                k: exp("k")?,
                n: exp("n")?,
                j: exp("j")?,
            };
            found.push((name, d));
        }
        for (name, d) in found {
            units.add_dimension(&name, d);
        }
    }
    for (i, doc) in docs.iter().enumerate() {
        let mut found = Vec::new();
        {
            let ctx = Ctx {
                file: &doc.path,
                file_index: i,
                units,
                types: registry,
            };
            for el in doc.root.children_named("Unit") {
                let symbol = ctx.required(el, "symbol")?.to_string();
                let dim_name = ctx.required(el, "dimension")?;
                let dimension = units.dimension(dim_name).ok_or_else(|| {
                    ctx.error(
                        el,
                        ErrorKind::UnknownReference {
                            what: "dimension".into(),
                            name: dim_name.into(),
                        },
                    )
                })?;
                let power = match el.attr("power") {
                    Some(t) => t.trim().parse::<i32>().map_err(|_| {
                        ctx.error(
                            el,
                            ErrorKind::BadNumber {
                                attribute: "power".into(),
                                value: t.into(),
                            },
                        )
                    })?,
                    None => 0,
                };
                let scale = ctx.opt_number(el, "scale")?.unwrap_or(1.0);
                let offset = ctx.opt_number(el, "offset")?.unwrap_or(0.0);
                found.push(Unit {
                    symbol,
                    dimension,
                    power,
                    scale,
                    offset,
                });
            }
        }
        for u in found {
            units.add_unit(u);
        }
    }
    Ok(())
}

fn declare_types(units: &UnitSystem, docs: &[Document]) -> Result<TypeRegistry> {
    let mut registry = TypeRegistry::default();
    let empty = TypeRegistry::default();
    for (i, doc) in docs.iter().enumerate() {
        let ctx = Ctx {
            file: &doc.path,
            file_index: i,
            units,
            types: &empty,
        };
        for el in doc.root.children_named("ComponentType") {
            let t = read_component_type(&ctx, el)?;
            if crate::core_types::core_type(&t.name).is_some() {
                return Err(ctx.error(
                    el,
                    ErrorKind::Duplicate {
                        what: "ComponentType (NeuroML core type)".into(),
                        id: t.name,
                    },
                ));
            }
            if let Some(previous) = registry.insert(t) {
                return Err(ctx.error(
                    el,
                    ErrorKind::Duplicate {
                        what: "ComponentType".into(),
                        id: previous.name,
                    },
                ));
            }
        }
    }
    // Every base must exist and no chain may loop.
    for (i, doc) in docs.iter().enumerate() {
        let ctx = Ctx {
            file: &doc.path,
            file_index: i,
            units,
            types: &registry,
        };
        for el in doc.root.children_named("ComponentType") {
            let name = el.attr("name").unwrap_or_default();
            let mut visited = vec![name];
            let mut base = registry.get(name).and_then(|t| t.extends.as_deref());
            while let Some(b) = base {
                if visited.contains(&b) {
                    return Err(ctx.invalid(el, "'extends' chain loops back on itself"));
                }
                visited.push(b);
                base = match registry.get(b) {
                    Some(t) => t.extends.as_deref(),
                    None if crate::core_types::core_type(b).is_some() => None,
                    None => {
                        return Err(ctx.error(
                            el,
                            ErrorKind::UnknownReference {
                                what: "ComponentType (in extends)".into(),
                                name: b.into(),
                            },
                        ))
                    }
                };
            }
        }
    }
    Ok(registry)
}

fn build(docs: Vec<Document>) -> Result<Model> {
    let mut units = UnitSystem::default();
    declare_units(&mut units, &docs, &TypeRegistry::default())?;
    let registry = declare_types(&units, &docs)?;
    let mut model = Model {
        files: docs.iter().map(|d| d.path.clone()).collect(),
        cells: Vec::new(),
        ion_channels: Vec::new(),
        concentration_models: Vec::new(),
        synapses: Vec::new(),
        input_sources: Vec::new(),
        networks: Vec::new(),
        components: Vec::new(),
        component_types: TypeRegistry::default(),
        simulations: Vec::new(),
        target: None,
        units: UnitSystem::default(),
        unresolved: Vec::new(),
    };
    // Top-level morphologies first: cells may refer to them.
    let mut morphologies = Vec::new();
    for (i, doc) in docs.iter().enumerate() {
        let ctx = Ctx {
            file: &doc.path,
            file_index: i,
            units: &units,
            types: &registry,
        };
        for el in doc.root.children_named("morphology") {
            morphologies.push(read_morphology(&ctx, el)?);
        }
    }
    for (i, doc) in docs.iter().enumerate() {
        let ctx = Ctx {
            file: &doc.path,
            file_index: i,
            units: &units,
            types: &registry,
        };
        for el in &doc.root.children {
            read_top_level(&ctx, el, &morphologies, &mut model)?;
        }
    }
    model.component_types = registry;
    model.units = units;
    model.unresolved = validate(&model);
    Ok(model)
}

fn read_top_level(
    ctx: &Ctx,
    el: &Element,
    morphologies: &[crate::morphology::Morphology],
    model: &mut Model,
) -> Result<()> {
    let name = el.name.as_str();
    if let Some(id) = el.attr("id") {
        let taken = model.synapse(id).is_some()
            || model.input_source(id).is_some()
            || model.concentration_model(id).is_some();
        if taken {
            return Err(ctx.error(
                el,
                ErrorKind::Duplicate {
                    what: "component".into(),
                    id: id.into(),
                },
            ));
        }
    }
    if IGNORED.contains(&name) {
        if name == "Target" {
            if model.target.is_some() {
                return Err(ctx.invalid(el, "more than one <Target>"));
            }
            model.target = Some(ctx.required(el, "component")?.to_string());
        }
        return Ok(());
    }
    match name {
        "morphology" => {}
        "cell" => model.cells.push(read_cell(ctx, el, morphologies)?),
        "ionChannel" | "ionChannelHH" | "ionChannelPassive" | "ionChannelKS" => {
            model.ion_channels.push(read_ion_channel(ctx, el)?)
        }
        "fixedFactorConcentrationModel" | "decayingPoolConcentrationModel" => model
            .concentration_models
            .push(read_concentration_model(ctx, el)?),
        "network" => model.networks.push(read_network(ctx, el)?),
        "Simulation" => model.simulations.push(read_simulation(ctx, el)?),
        "Component" => {
            let type_name = ctx.required(el, "type")?;
            if !ctx.types.is_known(type_name) {
                return Err(ctx.error(
                    el,
                    ErrorKind::UnknownReference {
                        what: "ComponentType".into(),
                        name: type_name.into(),
                    },
                ));
            }
            model.components.push(read_component(ctx, el, type_name)?);
        }
        "Constant" | "Assertion" => {
            return Err(ctx.error(
                el,
                ErrorKind::UnsupportedLems(format!("top-level <{name}>")),
            ))
        }
        _ if SYNAPSE_ELEMENTS.contains(&name) || UNSUPPORTED_SYNAPSES.contains(&name) => {
            model.synapses.push(read_synapse(ctx, el)?)
        }
        _ if INPUT_ELEMENTS.contains(&name) => {
            model.input_sources.push(read_input_source(ctx, el)?)
        }
        _ if ctx.types.get(name).is_some() => {
            if is_synapse_type(ctx, name) {
                model.synapses.push(read_synapse(ctx, el)?);
            } else if is_concentration_type(ctx, name) {
                model
                    .concentration_models
                    .push(read_concentration_model(ctx, el)?);
            } else if is_input_type(ctx, name) {
                model.input_sources.push(read_input_source(ctx, el)?);
            } else {
                // `<iafCell type="iafActivityCell" .../>`: an element of a subtype.
                let type_name = el.attr("type").unwrap_or(name);
                if !ctx.types.is_a(type_name, name) {
                    return Err(
                        ctx.invalid(el, format!("type '{type_name}' does not extend <{name}>"))
                    );
                }
                model.components.push(read_component(ctx, el, type_name)?);
            }
        }
        _ if crate::core_types::core_type(name).is_some() => {
            return Err(ctx.error(
                el,
                ErrorKind::UnsupportedLems(format!("NeuroML core element <{name}>")),
            ))
        }
        _ => return Err(ctx.unsupported(el)),
    }
    Ok(())
}
