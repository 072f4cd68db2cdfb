//! Generation: the scenario's network is built once and settled with no input (at a
//! 0.5 ms step but for the last 100 ms, when dt is finer: the resting state is a fixed
//! point of the step whatever dt); every sequence then starts from that settled state at
//! t = 0, receives its stimuli and is recorded at every step. Sequences are independent, so
//! they run in parallel (rayon), and each one's stimulus comes from its own random stream: a
//! shard computes exactly what a single run computes for the same sequences. Up to its
//! first non-zero input a sequence follows the settled network's own trajectory, which is
//! simulated once and shared (`run_from_onsets`).
//!
//! Sample k of a sequence is at t = k·dt, k = 0..T with T = duration/dt. The input at
//! row k is the current held during the step from t_k to t_{k+1}, so outputs respond
//! from row k + 1 on (as in the authors' files).

use rand::Rng;
use simulator::inputs::Waveform;
use std::path::Path;

use simulator::{build, Method, Options, Simulation};

use crate::checkpoint;
use crate::error::{Error, Result};
use crate::file::Dataset;
use crate::scenario::Scenario;
use crate::shard::Shard;
use crate::split;
use crate::stimulus::{draw_shape, stream, InputStimulus, SequenceSpec, Shape, FAMILIES};

/// What to generate.
#[derive(Debug, Clone)]
pub struct Generation {
    /// The scenario.
    pub scenario: Scenario,
    /// Time step \[ms\].
    pub dt: f64,
    /// Sequence length \[ms\].
    pub duration: f64,
    /// Number of sequences (default: 40 per behaviour).
    pub count: usize,
    /// Seed of the stimulus draw.
    pub seed: u64,
    /// Also record every neuron's voltage.
    pub record_all: bool,
    /// Settling time with no input before each recording \[ms\].
    pub settle: f64,
    /// Voltage method.
    pub method: Method,
    /// Only this part of the sequences.
    pub shard: Option<Shard>,
    /// SHA-256 of the model's files (stored in the file).
    pub model_sha256: String,
    /// Program name and version (stored in the file).
    pub generator: String,
}

impl Generation {
    /// The defaults: 500 ms, 40 sequences per behaviour, seed 0, 1 s of settling.
    pub fn new(scenario: Scenario, dt: f64) -> Generation {
        Generation {
            count: scenario.default_count(),
            scenario,
            dt,
            duration: 500.0,
            seed: 0,
            record_all: false,
            settle: 1000.0,
            method: Method::default(),
            shard: None,
            model_sha256: String::new(),
            generator: format!("datasets {}", env!("CARGO_PKG_VERSION")),
        }
    }

    /// Samples per sequence, T = duration/dt (which must be a whole number), once the
    /// whole generation is known to fit in memory.
    pub fn steps(&self) -> Result<usize> {
        if !(self.dt > 0.0 && self.dt.is_finite()) {
            return Err(Error::Invalid(format!(
                "dt must be a positive number of ms, not {}",
                self.dt
            )));
        }
        if !(self.duration > 0.0 && self.duration.is_finite()) {
            return Err(Error::Invalid(format!(
                "duration must be a positive number of ms, not {}",
                self.duration
            )));
        }
        let t = crate::stimulus::whole_steps(self.duration, self.dt)
            .ok()
            .filter(|&t| t >= 2)
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "duration {} ms is not a whole number (at least 2) of steps of {} ms",
                    self.duration, self.dt
                ))
            })?;
        if t > 100_000_000 {
            return Err(Error::Invalid(format!(
                "{t} steps per sequence is too many"
            )));
        }
        // Each sequence's rows as f64 vectors (~64 bytes each of their own, for inputs,
        // outputs and voltages) while it is assembled, then f32 in the dataset.
        let channels = self.scenario.inputs().len()
            + self.scenario.outputs.len()
            + if self.record_all {
                MAX_RECORDED_CELLS
            } else {
                0
            };
        limits::check(
            || {
                format!(
                    "{} sequences x {t} samples x {channels} channels",
                    self.count
                )
            },
            limits::product(&[self.count, t]) * (channels as f64 * 12.0 + 192.0),
        )
        .map_err(|e| Error::Invalid(e.to_string()))?;
        Ok(t)
    }

    /// The stimulus of sequence `index` (0-based).
    pub fn spec(&self, index: usize) -> SequenceSpec {
        let sc = &self.scenario;
        let per_behaviour = self.count.div_ceil(sc.behaviours.len()).max(1);
        let behaviour = &sc.behaviours[(index / per_behaviour).min(sc.behaviours.len() - 1)];
        let mut rng = stream(self.seed, index);
        let family = FAMILIES[index % FAMILIES.len()];
        // As in the paper, most sequences drive every input with one shape; the rest drive
        // each input independently (asymmetric left/right stimulation).
        let shared = index % 5 < 3;
        let shape = draw_shape(family, self.duration, &mut rng);
        let mut inputs = Vec::new();
        for (g, group) in sc.groups.iter().enumerate() {
            let active = behaviour.groups.contains(&g);
            let (lo, hi) = group.amplitude;
            let amplitude = rng.random_range(lo..=hi);
            for neuron in &group.neurons {
                let (amplitude, shape) = if !active {
                    (0.0, Shape::Off)
                } else if shared {
                    (amplitude, shape.clone())
                } else {
                    let a = rng.random_range(lo..=hi);
                    let own = FAMILIES[rng.random_range(0..FAMILIES.len())];
                    (a, draw_shape(own, self.duration, &mut rng))
                };
                inputs.push(InputStimulus {
                    neuron: neuron.clone(),
                    amplitude,
                    shape,
                });
            }
        }
        let family = if shared {
            family.to_string()
        } else {
            "independent".to_string()
        };
        SequenceSpec {
            index,
            family,
            behaviour: behaviour.name.clone(),
            inputs,
        }
    }
}

/// A generation's network built, checked and settled, ready to simulate its sequences.
pub struct Prepared<'g> {
    g: &'g Generation,
    steps: usize,
    settled: Simulation,
    probes: Vec<simulator::Probe>,
    all_probes: Vec<simulator::Probe>,
    input_names: Vec<String>,
    cell_names: Vec<String>,
}

impl<'g> Prepared<'g> {
    /// Builds the scenario's network (with its ablations), checks its neurons and settles it
    /// with no input for `generation.settle` ms.
    pub fn new(model: &neuroml::Model, generation: &'g Generation) -> Result<Self> {
        let g = generation;
        let steps = g.steps()?;
        let sc = &g.scenario;
        if g.count == 0 {
            return Err(Error::Invalid("count must be at least 1".into()));
        }
        if !(g.settle >= 0.0 && g.settle.is_finite()) {
            return Err(Error::Invalid(format!(
                "settle must be a non-negative number of ms, not {}",
                g.settle
            )));
        }
        let options = Options {
            dt: g.dt,
            method: g.method,
            ablate: sc.ablate.clone(),
            ..Options::default()
        };
        let mut sim = build(model, &options)?;
        let input_names = sc.inputs();
        for n in input_names.iter().chain(&sc.outputs) {
            if sim.layout.cell_index(n).is_none() {
                let why = if sc.ablate.contains(n) {
                    " (it is ablated)"
                } else {
                    ""
                };
                return Err(Error::Invalid(format!(
                    "scenario {}: no neuron '{n}' in the network{why}",
                    sc.name
                )));
            }
        }
        let probes = sc
            .outputs
            .iter()
            .map(|n| sim.probe(&format!("{n}/v")))
            .collect::<simulator::Result<Vec<_>>>()?;
        let cell_names: Vec<String> = sim
            .layout
            .cells
            .iter()
            .map(|c| {
                if c.index == 0 && sim.layout.cell_index(&c.population).is_some() {
                    c.population.clone()
                } else {
                    format!("{}[{}]", c.population, c.index)
                }
            })
            .collect();
        let all_probes = if g.record_all {
            cell_names
                .iter()
                .map(|n| sim.probe(&format!("{n}/v")))
                .collect::<simulator::Result<Vec<_>>>()?
        } else {
            Vec::new()
        };
        // Settle with no input.
        settle(&mut sim, g.settle)?;
        sim.restart_clock();
        Ok(Prepared {
            g,
            steps,
            settled: sim,
            probes,
            all_probes,
            input_names,
            cell_names,
        })
    }

    /// Simulates sequence `index` from the settled state: its inputs `[T][I]` (pA) and
    /// outputs `[T][O]` (mV), and every neuron's voltage when recording all.
    pub fn simulate(&self, index: usize) -> Result<SequenceRows> {
        let spec = self.g.spec(index);
        let inputs = spec.sample(self.g.dt, self.steps);
        let (outputs, voltages) = self.simulate_from(&self.settled, 0, &spec, &inputs)?;
        Ok((inputs, outputs, voltages))
    }

    /// Rows `from..T` of the outputs and voltages of a sequence whose state at row `from`
    /// is `start` (its inputs are zero before `from`).
    fn simulate_from(
        &self,
        start: &Simulation,
        from: usize,
        spec: &SequenceSpec,
        inputs: &[Vec<f64>],
    ) -> Result<(Rows, Rows)> {
        let (g, steps) = (self.g, self.steps);
        let mut sim = start.clone();
        for (i, stim) in spec.inputs.iter().enumerate() {
            if stim.amplitude == 0.0 || stim.shape == Shape::Off {
                continue;
            }
            let values = inputs.iter().map(|row| row[i] * 1e-3).collect();
            sim.add_input(
                &stim.neuron,
                0,
                0.5,
                1.0,
                Waveform::Sampled { dt: g.dt, values },
            )?;
        }
        let probes = self.all_probes_in_order();
        let traces = sim.run((steps - 1 - from) as f64 * g.dt, &probes, 1)?;
        Ok(self.split_rows(&traces.values, traces.time.len()))
    }

    /// Outputs first, then (with `record_all`) every cell.
    fn all_probes_in_order(&self) -> Vec<simulator::Probe> {
        self.probes
            .iter()
            .chain(&self.all_probes)
            .cloned()
            .collect()
    }

    /// Per-probe series → (output rows, voltage rows).
    fn split_rows(&self, series: &[Vec<f64>], rows: usize) -> (Rows, Rows) {
        let o = self.probes.len();
        let row = |k: usize, range: std::ops::Range<usize>| -> Vec<f64> {
            range.map(|p| series[p][k]).collect()
        };
        let outputs = (0..rows).map(|k| row(k, 0..o)).collect();
        let voltages = if self.all_probes.is_empty() {
            Vec::new()
        } else {
            (0..rows).map(|k| row(k, o..series.len())).collect()
        };
        (outputs, voltages)
    }
}

/// Generates the dataset (or the shard) of `generation` on `model`. `progress` is called
/// with the number of sequences finished so far.
pub fn generate(
    model: &neuroml::Model,
    generation: &Generation,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Dataset> {
    generate_resumable(model, generation, None, progress)
}

/// As [`generate`], keeping every finished sequence in `checkpoint` (a folder) so that an
/// interrupted generation with the same settings resumes without simulating them again.
/// A folder holding another generation's sequences is emptied first.
pub fn generate_resumable(
    model: &neuroml::Model,
    generation: &Generation,
    checkpoint: Option<&Path>,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Dataset> {
    let g = generation;
    let prepared = Prepared::new(model, g)?;
    let indices = match g.shard {
        Some(s) => s.indices(g.count),
        None => (0..g.count).collect(),
    };
    if let Some(dir) = checkpoint {
        persist::open_checkpoint(dir, &checkpoint::request(g))?;
    }
    let done = std::sync::atomic::AtomicUsize::new(0);
    let report = || progress(done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1);
    let mut results: Vec<Option<Result<Recorded>>> = Vec::with_capacity(indices.len());
    let mut todo = Vec::new();
    for (slot, &index) in indices.iter().enumerate() {
        // Drawn stimuli are not checked against dt: a dataset records the sampled currents
        // the network received, so nothing is missed silently.
        let spec = g.spec(index);
        let expected = [
            (prepared.steps, prepared.input_names.len()),
            (prepared.steps, prepared.probes.len()),
            if g.record_all {
                (prepared.steps, prepared.all_probes.len())
            } else {
                (0, 0)
            },
        ];
        match checkpoint.and_then(|dir| checkpoint::load_traces(dir, index, expected)) {
            Some((inputs, outputs, voltages)) => {
                results.push(Some(Ok(Recorded {
                    spec,
                    inputs,
                    outputs,
                    voltages,
                })));
                report();
            }
            None => {
                results.push(None);
                let inputs = spec.sample(g.dt, prepared.steps);
                todo.push(Todo {
                    slot,
                    onset: onset(&inputs),
                    spec,
                    inputs,
                });
            }
        }
    }
    let results = std::sync::Mutex::new(results);
    let finished = |slot: usize, r: Result<Recorded>| {
        let r = r.and_then(|rec| {
            if let Some(dir) = checkpoint {
                checkpoint::save_traces(
                    dir,
                    indices[slot],
                    [&rec.inputs, &rec.outputs, &rec.voltages],
                )?;
            }
            Ok(rec)
        });
        results.lock().expect("no panics while holding the lock")[slot] = Some(r);
        report();
    };
    run_from_onsets(&prepared, todo, &finished)?;
    let results = results
        .into_inner()
        .expect("no panics while holding the lock");
    let results: Vec<Result<Recorded>> = results
        .into_iter()
        .map(|r| r.expect("every sequence finished"))
        .collect();
    let recorded = results.into_iter().collect::<Result<Vec<_>>>()?;
    let mut dataset = assemble(
        g,
        prepared.steps,
        &prepared.input_names,
        prepared.cell_names,
        recorded,
    );
    dataset.shard = g.shard.map(|s| (format!("{}/{}", s.part, s.of), indices));
    Ok(dataset)
}

/// A sequence still to simulate.
struct Todo {
    slot: usize,
    onset: usize,
    spec: SequenceSpec,
    inputs: Vec<Vec<f64>>,
}

/// Row of the first non-zero input (the last row when there is none).
fn onset(inputs: &[Vec<f64>]) -> usize {
    let first = inputs.iter().position(|row| row.iter().any(|&x| x != 0.0));
    first
        .unwrap_or(inputs.len())
        .min(inputs.len().saturating_sub(1))
}

/// Simulates the sequences in parallel. Until its first non-zero input a sequence is the
/// settled network with no input, the same for all: one *baseline* run walks that common
/// trajectory once, and each sequence starts from the baseline's state at its onset row
/// (a copy; the results are bit-identical to simulating it from t = 0). The baseline runs on
/// one thread and hands sequences to the others as it reaches their onsets.
fn run_from_onsets(
    prepared: &Prepared,
    mut todo: Vec<Todo>,
    finished: &(dyn Fn(usize, Result<Recorded>) + Sync),
) -> Result<()> {
    todo.sort_by_key(|t| t.onset);
    let probes = prepared.all_probes_in_order();
    let mut baseline_error = None;
    rayon::scope(|scope| {
        let mut sim = prepared.settled.clone();
        let mut baseline: Vec<Vec<f64>> = vec![Vec::new(); probes.len()];
        let mut next = todo.into_iter().peekable();
        for k in 0..prepared.steps {
            for (series, p) in baseline.iter_mut().zip(&probes) {
                series.push(sim.read(p));
            }
            let start = next
                .peek()
                .is_some_and(|t| t.onset == k)
                .then(|| std::sync::Arc::new(sim.clone()));
            while let Some(t) = next.next_if(|t| t.onset == k) {
                let (start, before) = (
                    start.clone().expect("cloned above"),
                    prepared.split_rows(&baseline, k),
                );
                scope.spawn(move |_| {
                    let r = prepared.simulate_from(&start, k, &t.spec, &t.inputs).map(
                        |(outputs, voltages)| {
                            let (mut o, mut v) = before;
                            o.extend(outputs);
                            v.extend(voltages);
                            Recorded {
                                spec: t.spec,
                                inputs: t.inputs,
                                outputs: o,
                                voltages: v,
                            }
                        },
                    );
                    finished(t.slot, r);
                });
            }
            if next.peek().is_none() {
                break;
            }
            if let Err(e) = sim.step() {
                baseline_error = Some(e);
                break;
            }
        }
    });
    match baseline_error {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

/// Runs the network with no input for `duration` ms towards its resting state: a fixed point
/// of the step whatever dt, so all but the last [`FINE_SETTLE`] ms run at [`SETTLE_DT`]
/// when dt is finer.
fn settle(sim: &mut Simulation, duration: f64) -> Result<()> {
    let dt = sim.dt;
    let coarse = duration - FINE_SETTLE;
    if dt < SETTLE_DT && coarse >= SETTLE_DT {
        sim.set_dt(SETTLE_DT);
        sim.run(coarse, &[], usize::MAX)?;
        sim.set_dt(dt);
        sim.run(FINE_SETTLE, &[], usize::MAX)?;
    } else {
        sim.run(duration, &[], usize::MAX)?;
    }
    Ok(())
}

/// Cells counted for `record_all` when sizing a generation before the network is built
/// (c302's full network has 302 neurons and 95 muscles).
const MAX_RECORDED_CELLS: usize = 400;

/// Time step of the first part of the settling \[ms\].
const SETTLE_DT: f64 = 0.5;
/// Settling at the generation's own dt at the end \[ms\].
const FINE_SETTLE: f64 = 100.0;

struct Recorded {
    spec: SequenceSpec,
    inputs: Vec<Vec<f64>>,
    outputs: Vec<Vec<f64>>,
    voltages: Vec<Vec<f64>>,
}

/// One row per sample.
pub(crate) type Rows = Vec<Vec<f64>>;

/// Inputs `[T][I]`, outputs `[T][O]` and all voltages `[T][C]` (empty unless recorded) of a sequence.
pub type SequenceRows = (Rows, Rows, Rows);

fn assemble(
    g: &Generation,
    steps: usize,
    input_names: &[String],
    cell_names: Vec<String>,
    recorded: Vec<Recorded>,
) -> Dataset {
    let flat = |rows: &[Vec<f64>]| {
        rows.iter()
            .flatten()
            .map(|&x| x as f32)
            .collect::<Vec<f32>>()
    };
    let mut d = Dataset {
        time: (0..steps).map(|k| k as f64 * g.dt).collect(),
        dt: g.dt,
        sequences: recorded.len(),
        inputs: recorded.iter().flat_map(|r| flat(&r.inputs)).collect(),
        outputs: recorded.iter().flat_map(|r| flat(&r.outputs)).collect(),
        voltages: g
            .record_all
            .then(|| recorded.iter().flat_map(|r| flat(&r.voltages)).collect()),
        split: vec![split::TRAIN; recorded.len()],
        input_names: input_names.to_vec(),
        output_names: g.scenario.outputs.clone(),
        cell_names: if g.record_all { cell_names } else { Vec::new() },
        input_unit: "pA".into(),
        output_unit: "mV".into(),
        scenario: g.scenario.name.clone(),
        model_sha256: g.model_sha256.clone(),
        seed: g.seed,
        stimuli: recorded
            .iter()
            .map(|r| serde_json::to_value(&r.spec).expect("serializable"))
            .collect(),
        generator: g.generator.clone(),
        shard: None,
    };
    if g.shard.is_none() {
        d.split = split::split_of(&d);
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sequences started from the baseline at their onset equal sequences simulated from
    /// t = 0, bit for bit.
    #[test]
    fn starting_at_the_onset_changes_nothing() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let model = neuroml::load(root.join("models/c302_D1/LEMS_c302_D1.xml")).unwrap();
        let mut g = Generation::new(Scenario::builtin("fcm").unwrap(), 0.5);
        (g.count, g.duration, g.settle) = (10, 100.0, 20.0);
        let d = generate(&model, &g, &|_| {}).unwrap();
        let prepared = Prepared::new(&model, &g).unwrap();
        let (steps, o, i) = (d.steps(), d.output_names.len(), d.input_names.len());
        let mut late = 0;
        for index in 0..g.count {
            let (inputs, outputs, _) = prepared.simulate(index).unwrap();
            late += usize::from(onset(&inputs) > 0);
            let flat = |rows: Vec<Vec<f64>>| {
                rows.into_iter()
                    .flatten()
                    .map(|x| x as f32)
                    .collect::<Vec<_>>()
            };
            assert_eq!(
                flat(outputs),
                d.outputs[index * steps * o..(index + 1) * steps * o],
                "sequence {index}"
            );
            assert_eq!(
                flat(inputs),
                d.inputs[index * steps * i..(index + 1) * steps * i],
                "sequence {index}"
            );
        }
        assert!(late >= 3, "only {late} sequences start after t = 0");
    }
}
