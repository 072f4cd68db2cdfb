//! Which recurrence a layer runs, and the sizes that follow from it.

use serde::{Deserialize, Serialize};

/// The recurrent cell of a layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recurrence {
    /// Elman RNN with tanh.
    Rnn,
    /// LSTM with forget gate.
    Lstm,
    /// GRU with the reset gate applied before the recurrent product (the paper's).
    Gru,
    /// GRU with the reset gate applied after the recurrent product, with a recurrent bias.
    GruResetAfter,
}

impl Recurrence {
    /// Gate blocks G: the recurrent kernel is `[H, G·H]`.
    pub fn gates(self) -> usize {
        match self {
            Recurrence::Rnn => 1,
            Recurrence::Lstm => 4,
            Recurrence::Gru | Recurrence::GruResetAfter => 3,
        }
    }

    /// The layer's name on the command line: `rnn`, `lstm` or `gru` (both GRU variants).
    pub fn layer(self) -> &'static str {
        match self {
            Recurrence::Rnn => "rnn",
            Recurrence::Lstm => "lstm",
            Recurrence::Gru | Recurrence::GruResetAfter => "gru",
        }
    }

    /// Whether the cell has a recurrent bias `[G·H]` besides the input bias.
    pub fn has_recurrent_bias(self) -> bool {
        self == Recurrence::GruResetAfter
    }

    /// Values kept per step and sequence for the backward pass, in units of H.
    pub(super) fn cache_width(self) -> usize {
        match self {
            Recurrence::Rnn => 0,
            Recurrence::Lstm => 6,          // i f g o c tanh(c)
            Recurrence::Gru => 3,           // z r n
            Recurrence::GruResetAfter => 4, // z r n m_h
        }
    }
}
