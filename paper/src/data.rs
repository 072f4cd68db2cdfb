//! A dataset file ([`datasets::Dataset`]) as the plain arrays a surrogate trains on.

use datasets::Dataset;
use surrogate::{DataView, Splits};

/// The arrays of `d`, borrowed.
pub fn view(d: &Dataset) -> DataView<'_> {
    DataView {
        steps: d.steps(),
        inputs: &d.inputs,
        outputs: &d.outputs,
        split: &d.split,
        input_names: &d.input_names,
        output_names: &d.output_names,
    }
}

/// The train, validation and test sets of `d` without the inputs in `drop_inputs`.
pub fn splits(d: &Dataset, drop_inputs: &[String]) -> Result<Splits, surrogate::Error> {
    Splits::new(&view(d), drop_inputs)
}
