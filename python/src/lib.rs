//! The `celegans` Python package's native module (`celegans._celegans`): NumPy arrays in
//! and out, errors as `celegans.Error` with the command line's one-line messages, long
//! runs without the GIL. The Python layer (`python/celegans/__init__.py`) gives it the
//! documented interface; everything here goes through `celegans::api`, as the command
//! line does.

/// The allocator of the command line (mimalloc: training's large buffers are reused, not faulted
/// back in from the system every batch).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;

use numpy::{IntoPyArray, PyArray1, PyArray2, PyArray3, PyArrayMethods, PyReadonlyArray1};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use celegans::api;
use simulator::inputs::Waveform;
use simulator::Method;

create_exception!(
    _celegans,
    Error,
    PyException,
    "An error of celegans, with the command line's one-line message."
);

/// While it lives, Ctrl-C (SIGINT) asks the running job to stop at its next check
/// ([`limits::interrupt`]: every 256 simulation steps, every training epoch), and then
/// reaches the handler that was there before (Python's, so the interpreter still sees the
/// interrupt). The handler is installed for each call and the previous one put back after
/// it, so a handler Python code installs between calls (IPython, Jupyter) is respected.
struct CtrlC {
    previous: libc::sigaction,
}

/// The handler that was installed before [`CtrlC`]'s (`sa_sigaction` or `sa_handler`), and
/// its flags: read by [`on_sigint`].
static PREVIOUS_HANDLER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
static PREVIOUS_FLAGS: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

extern "C" fn on_sigint(
    signal: libc::c_int,
    info: *mut libc::siginfo_t,
    context: *mut libc::c_void,
) {
    use std::sync::atomic::Ordering::Relaxed;
    limits::interrupt::request();
    let previous = PREVIOUS_HANDLER.load(Relaxed);
    if previous == libc::SIG_DFL
        || previous == libc::SIG_IGN
        || previous == on_sigint as *const () as usize
    {
        // No one else handles it: stopping the job is the whole answer (the default would
        // end the interpreter).
        return;
    }
    // SAFETY: `previous` is the handler the system held for SIGINT before ours, with the
    // calling convention its flags state; calling it is what the system would have done.
    unsafe {
        if PREVIOUS_FLAGS.load(Relaxed) & libc::SA_SIGINFO != 0 {
            let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                std::mem::transmute(previous);
            f(signal, info, context);
        } else {
            let f: extern "C" fn(libc::c_int) = std::mem::transmute(previous);
            f(signal);
        }
    }
}

impl CtrlC {
    fn new() -> CtrlC {
        use std::sync::atomic::Ordering::Relaxed;
        limits::interrupt::clear();
        // SAFETY: plain sigaction calls on zero-initialised structs; the handler only
        // stores to atomics and calls the previous handler.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_sigint as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            let mut previous: libc::sigaction = std::mem::zeroed();
            libc::sigaction(libc::SIGINT, std::ptr::null(), &mut previous);
            PREVIOUS_HANDLER.store(previous.sa_sigaction, Relaxed);
            PREVIOUS_FLAGS.store(previous.sa_flags, Relaxed);
            libc::sigaction(libc::SIGINT, &action, std::ptr::null_mut());
            CtrlC { previous }
        }
    }
}

impl Drop for CtrlC {
    fn drop(&mut self) {
        // SAFETY: puts back the action read in `new`.
        unsafe {
            libc::sigaction(libc::SIGINT, &self.previous, std::ptr::null_mut());
        }
        limits::interrupt::clear();
    }
}

/// A Python callable `progress(done, total)` as the hook the long calls report to (called
/// with the GIL, from whichever thread made progress; its errors are ignored: progress is
/// a display).
fn progress_hook(progress: Option<Py<PyAny>>) -> impl Fn(usize, usize) + Sync {
    move |done, total| {
        if let Some(f) = &progress {
            Python::attach(|py| {
                let _ = f.call1(py, (done, total));
            });
        }
    }
}

/// An `anyhow` error as `celegans.Error`, worded as the command line prints it.
fn error(e: anyhow::Error) -> PyErr {
    Error::new_err(celegans::cli::one_line(&e))
}

fn method(name: Option<&str>) -> PyResult<Method> {
    match name {
        None => Ok(Method::default()),
        Some(m) => api::parse_method(m).map_err(Error::new_err),
    }
}

/// Runs a LEMS file's simulation: {"time": seconds, quantity: values in SI units, ...}.
#[pyfunction]
#[pyo3(signature = (path, dt=None, duration=None, method=None, rtol=None))]
fn run_lems<'py>(
    py: Python<'py>,
    path: PathBuf,
    dt: Option<f64>,
    duration: Option<f64>,
    method: Option<&str>,
    rtol: Option<f64>,
) -> PyResult<Bound<'py, PyDict>> {
    let numerics = api::Numerics {
        dt,
        variable: rtol.map(simulator::StepControl::new),
        method: self::method(method)?,
        ..api::Numerics::default()
    };
    let _ctrl_c = CtrlC::new();
    let (quantities, result) = py
        .detach(|| -> anyhow::Result<_> {
            let mut run = api::LemsSimulation::load(&path, duration, numerics)?;
            let quantities: Vec<Vec<String>> = run
                .output_files
                .iter()
                .map(|f| f.quantities.clone())
                .collect();
            Ok((quantities, run.run()?))
        })
        .map_err(error)?;
    let out = PyDict::new(py);
    let time: Vec<f64> = result.time_ms.iter().map(|t| t * 1e-3).collect();
    out.set_item("time", time.into_pyarray(py))?;
    for (names, columns) in quantities.into_iter().zip(result.columns) {
        for (name, values) in names.into_iter().zip(columns) {
            if !out.contains(&name)? {
                out.set_item(name, values.into_pyarray(py))?;
            }
        }
    }
    Ok(out)
}

/// A loaded NeuroML/LEMS model.
#[pyclass(module = "celegans._celegans", frozen)]
struct Model {
    model: neuroml::Model,
    path: Option<PathBuf>,
    sha256: String,
    parse_seconds: f64,
}

/// One neuron's input current: a constant (pA, a step over the whole run) or one value per
/// step (pA, the current during that step).
#[derive(FromPyObject)]
enum Current<'py> {
    Constant(f64),
    Samples(PyReadonlyArray1<'py, f64>),
}

#[pymethods]
impl Model {
    /// Loads the model at `path` (a LEMS file or a `.net.nml`); None: the bundled c302 D1.
    #[new]
    #[pyo3(signature = (path=None))]
    fn new(py: Python<'_>, path: Option<PathBuf>) -> PyResult<Model> {
        let (model, sha256, parse_seconds) = py
            .detach(|| -> anyhow::Result<_> {
                let start = std::time::Instant::now();
                let model = api::load_model(path.as_deref())?;
                let parse_seconds = start.elapsed().as_secs_f64();
                let sha256 = api::model_sha256(&model, path.is_none())?;
                Ok((model, sha256, parse_seconds))
            })
            .map_err(error)?;
        Ok(Model {
            model,
            path,
            sha256,
            parse_seconds,
        })
    }

    /// `model info --json` of the loaded model, as JSON text.
    fn info(&self) -> PyResult<String> {
        api::describe_model(&self.model, self.path.as_deref(), self.parse_seconds)
            .map(|v| v.to_string())
            .map_err(error)
    }

    /// SHA-256 of the model's files (as datasets record it).
    #[getter]
    fn sha256(&self) -> String {
        self.sha256.clone()
    }

    /// The file it was loaded from (None: the bundled model).
    #[getter]
    fn path(&self) -> Option<PathBuf> {
        self.path.clone()
    }

    /// Simulates with `stimulus` {neuron: pA constant or per-step array}, recording the
    /// soma potentials of `record` (every neuron when empty); returns (time ms, names,
    /// v (T, R) mV, inputs (T, I) pA, input names), T = duration / dt samples from t = 0.
    #[pyo3(signature = (stimulus, record, ablate, dt, duration, settle, method=None))]
    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    fn simulate<'py>(
        &self,
        py: Python<'py>,
        stimulus: Vec<(String, Current<'py>)>,
        record: Vec<String>,
        ablate: Vec<String>,
        dt: f64,
        duration: f64,
        settle: f64,
        method: Option<&str>,
    ) -> PyResult<(
        Bound<'py, PyArray1<f64>>,
        Vec<String>,
        Bound<'py, PyArray2<f64>>,
        Bound<'py, PyArray2<f64>>,
        Vec<String>,
    )> {
        // From the start: a Ctrl-C while the inputs are prepared counts too.
        let _ctrl_c = CtrlC::new();
        api::check_positive("dt", dt).map_err(error)?;
        api::check_positive("duration", duration).map_err(error)?;
        let steps = datasets::stimulus::whole_steps(duration, dt)
            .map_err(|e| Error::new_err(format!("dt: {e}")))?;
        let mut names = Vec::new();
        let mut per_step: Vec<Vec<f64>> = Vec::new();
        for (neuron, current) in stimulus {
            let values = match current {
                Current::Constant(pa) => vec![pa; steps],
                Current::Samples(a) => {
                    let v = a.as_slice()?.to_vec();
                    if v.len() != steps {
                        return Err(Error::new_err(format!(
                            "stimulus {neuron}: {} values for {steps} steps ({duration} ms at dt {dt} ms)",
                            v.len()
                        )));
                    }
                    v
                }
            };
            if let Some(x) = values.iter().find(|x| !x.is_finite()) {
                return Err(Error::new_err(format!(
                    "stimulus {neuron}: {x} is not a current in pA"
                )));
            }
            names.push(neuron);
            per_step.push(values);
        }
        let request = api::SimulateRequest {
            inputs: names
                .iter()
                .cloned()
                .zip(per_step.iter().map(|values| Waveform::Sampled {
                    dt,
                    values: values.iter().map(|pa| pa * 1e-3).collect(),
                }))
                .collect(),
            record,
            ablate,
            dt,
            duration,
            settle,
            numerics: api::Numerics {
                dt: Some(dt),
                method: self::method(method)?,
                ..api::Numerics::default()
            },
            labels: ("stimulus", "record"),
        };
        let result = py
            .detach(|| api::simulate(&self.model, &request))
            .map_err(error)?;
        let r = result.names.len();
        let v: Vec<f64> = (0..steps)
            .flat_map(|k| result.v_mv.iter().map(move |s| s[k]))
            .collect();
        let inputs: Vec<f64> = (0..steps)
            .flat_map(|k| per_step.iter().map(move |s| s[k]))
            .collect();
        let time: Vec<f64> = result.time_ms[..steps].to_vec();
        let i = names.len();
        Ok((
            time.into_pyarray(py),
            result.names,
            v.into_pyarray(py).reshape([steps, r])?,
            inputs.into_pyarray(py).reshape([steps, i])?,
            names,
        ))
    }
}

/// Generates a scenario's dataset into `path` (as `celegans dataset generate`).
#[pyfunction]
#[pyo3(signature = (scenario, path, dt, count, seed, duration, settle, method=None, model=None, progress=None))]
#[allow(clippy::too_many_arguments)]
fn generate_dataset(
    py: Python<'_>,
    scenario: &str,
    path: PathBuf,
    dt: f64,
    count: Option<usize>,
    seed: u64,
    duration: f64,
    settle: f64,
    method: Option<&str>,
    model: Option<PathBuf>,
    progress: Option<Py<PyAny>>,
) -> PyResult<()> {
    let request = api::GenerateRequest {
        scenario: scenario.to_string(),
        dt,
        count,
        seed,
        duration,
        settle,
        method: self::method(method)?,
        model,
    };
    let _ctrl_c = CtrlC::new();
    let progress = progress_hook(progress);
    py.detach(|| api::generate_dataset(&request, &path, &progress))
        .map_err(error)
}

/// Reads a dataset file: its arrays and attributes as a dict.
#[pyfunction]
fn load_dataset<'py>(py: Python<'py>, path: PathBuf) -> PyResult<Bound<'py, PyDict>> {
    let d = py
        .detach(|| datasets::Dataset::read(&path))
        .map_err(|e| error(e.into()))?;
    let (n, t) = (d.sequences, d.steps());
    let out = PyDict::new(py);
    let cube = |values: Vec<f32>, width: usize| -> PyResult<Bound<'py, PyArray3<f32>>> {
        values.into_pyarray(py).reshape([n, t, width])
    };
    let (i, o) = (d.input_names.len(), d.output_names.len());
    out.set_item("inputs", cube(d.inputs, i)?)?;
    out.set_item("outputs", cube(d.outputs, o)?)?;
    if let Some(v) = d.voltages {
        out.set_item("voltages", cube(v, d.cell_names.len())?)?;
        out.set_item("cell_names", d.cell_names)?;
    }
    out.set_item("time", d.time.into_pyarray(py))?;
    let split: Vec<&str> = d
        .split
        .iter()
        .map(|s| match s {
            0 => "train",
            1 => "valid",
            _ => "test",
        })
        .collect();
    out.set_item("split", PyList::new(py, split)?)?;
    out.set_item("input_names", d.input_names)?;
    out.set_item("output_names", d.output_names)?;
    out.set_item("input_unit", d.input_unit)?;
    out.set_item("output_unit", d.output_unit)?;
    out.set_item("dt", d.dt)?;
    out.set_item("scenario", d.scenario)?;
    out.set_item("seed", d.seed)?;
    out.set_item("model_sha256", d.model_sha256)?;
    out.set_item("generator", d.generator)?;
    Ok(out)
}

/// Writes a simulation's recording (`Model.simulate`'s arrays) as an NWB file at `path`.
#[pyfunction]
#[pyo3(signature = (dt, inputs, input_names, v, names, model_sha256, path, session_start=None))]
#[allow(clippy::too_many_arguments)]
fn recording_to_nwb(
    py: Python<'_>,
    dt: f64,
    inputs: numpy::PyReadonlyArray2<'_, f64>,
    input_names: Vec<String>,
    v: numpy::PyReadonlyArray2<'_, f64>,
    names: Vec<String>,
    model_sha256: String,
    path: PathBuf,
    session_start: Option<String>,
) -> PyResult<()> {
    let inputs = inputs.as_array().iter().copied().collect::<Vec<f64>>();
    let v = v.as_array().iter().copied().collect::<Vec<f64>>();
    py.detach(|| -> anyhow::Result<()> {
        let d = api::Recording {
            dt,
            inputs: &inputs,
            input_names: &input_names,
            v: &v,
            names: &names,
            model_sha256: &model_sha256,
            scenario: "simulate",
            stimulus: &serde_json::json!({"family": "simulate"}),
        }
        .dataset()?;
        api::write_nwb(&d, &path, session_start.as_deref())
    })
    .map_err(error)
}

/// Writes the dataset file `source` as an NWB file at `path` (as `celegans export-nwb`).
#[pyfunction]
#[pyo3(signature = (source, path, session_start=None))]
fn dataset_to_nwb(
    py: Python<'_>,
    source: PathBuf,
    path: PathBuf,
    session_start: Option<String>,
) -> PyResult<()> {
    py.detach(|| api::export_nwb(&source, &path, session_start.as_deref()))
        .map_err(error)
}

/// Trains surrogates on a dataset file into the model directory `out`; returns the JSON
/// `celegans train --json` prints.
#[pyfunction]
#[pyo3(signature = (data, arch, hidden, out, epochs, runs, seed, lr=None, batch=32, loss="rmse", scale="auto", reset_after=false, recoveries=api::DEFAULT_RECOVERIES, progress=None))]
#[allow(clippy::too_many_arguments)]
fn train(
    py: Python<'_>,
    data: PathBuf,
    arch: &str,
    hidden: usize,
    out: PathBuf,
    epochs: usize,
    runs: usize,
    seed: u64,
    lr: Option<f64>,
    batch: usize,
    loss: &str,
    scale: &str,
    reset_after: bool,
    recoveries: usize,
    progress: Option<Py<PyAny>>,
) -> PyResult<String> {
    let request = api::TrainRequest {
        data,
        arch: arch.to_string(),
        hidden,
        reset_after,
        epochs,
        runs,
        seed,
        lr,
        batch,
        loss: loss.to_string(),
        scale: scale.to_string(),
        recoveries,
        out,
    };
    let _ctrl_c = CtrlC::new();
    let progress = progress_hook(progress);
    let value = py
        .detach(|| api::train(&request, &progress))
        .map_err(error)?;
    Ok(value.to_string())
}

/// RMSE per split and output of the model directory on a dataset file, as JSON text.
#[pyfunction]
fn evaluate(py: Python<'_>, model: PathBuf, data: PathBuf) -> PyResult<String> {
    let value = py.detach(|| api::evaluate(&model, &data)).map_err(error)?;
    Ok(value.to_string())
}

/// A trained surrogate (a model directory written by `celegans train`).
#[pyclass(module = "celegans._celegans", frozen)]
struct Surrogate {
    inner: api::Surrogate,
}

#[pymethods]
impl Surrogate {
    /// Loads the model directory `path`.
    #[new]
    fn new(py: Python<'_>, path: PathBuf) -> PyResult<Surrogate> {
        let inner = py.detach(|| api::Surrogate::load(&path)).map_err(error)?;
        Ok(Surrogate { inner })
    }

    /// The model's inputs, in order.
    #[getter]
    fn input_names(&self) -> Vec<String> {
        self.inner.model.input_names.clone()
    }

    /// The model's outputs, in order.
    #[getter]
    fn output_names(&self) -> Vec<String> {
        self.inner.model.output_names.clone()
    }

    /// `model.json` as JSON text.
    fn model_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.inner.model).map_err(|e| Error::new_err(e.to_string()))
    }

    /// Outputs (N, T, O) for inputs (N, T, I) in the model's input order and units.
    fn predict<'py>(
        &self,
        py: Python<'py>,
        inputs: numpy::PyReadonlyArray3<'py, f32>,
    ) -> PyResult<Bound<'py, PyArray3<f32>>> {
        let shape = inputs.as_array().shape().to_vec();
        let (n, t, i) = (shape[0], shape[1], shape[2]);
        let expected = self.inner.model.input_names.len();
        if i != expected {
            return Err(Error::new_err(format!(
                "inputs: {i} columns, the model takes {expected} ({})",
                self.inner.model.input_names.join(", ")
            )));
        }
        let x: Vec<f32> = inputs.as_array().iter().copied().collect();
        let y = py.detach(|| self.inner.predict(&x, t)).map_err(error)?;
        let o = self.inner.model.output_names.len();
        y.into_pyarray(py).reshape([n, t, o])
    }
}

#[pymodule]
fn _celegans(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("Error", m.py().get_type::<Error>())?;
    m.add_class::<Model>()?;
    m.add_class::<Surrogate>()?;
    m.add_function(wrap_pyfunction!(train, m)?)?;
    m.add_function(wrap_pyfunction!(evaluate, m)?)?;
    m.add_function(wrap_pyfunction!(run_lems, m)?)?;
    m.add_function(wrap_pyfunction!(generate_dataset, m)?)?;
    m.add_function(wrap_pyfunction!(load_dataset, m)?)?;
    m.add_function(wrap_pyfunction!(dataset_to_nwb, m)?)?;
    m.add_function(wrap_pyfunction!(recording_to_nwb, m)?)?;
    Ok(())
}
