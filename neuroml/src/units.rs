//! Physical dimensions, units and the crate's one internal unit system.
//!
//! NeuroML writes every quantity as a number and a unit symbol (`"0.005 mS_per_cm2"`,
//! `"-45mV"`, `".5 per_s"`). The reader converts each one exactly once, at the boundary,
//! into a single *coherent* internal system built on these base scales:
//!
//! | base      | internal unit | in SI          |
//! |-----------|---------------|----------------|
//! | length    | µm            | 1e-6 m         |
//! | time      | ms            | 1e-3 s         |
//! | current   | nA            | 1e-9 A         |
//! | mass      | (derived)     | 1e-9 kg        |
//! | amount    | (derived)     | 1e-18 mol      |
//! | temperature | K           | 1 K            |
//!
//! so that voltage is in **mV**, conductance in **µS**, capacitance in **nF**, charge in
//! **pC**, concentration in **mM** (= mol/m³), conductance density in **µS/µm²**,
//! specific capacitance in **nF/µm²**, current density in **nA/µm²** and resistivity
//! in **Ω·m** (= MΩ·µm). Because the system is coherent, a LEMS expression evaluated on
//! internal values yields internal values: `g * (erev - v)` with g in µS and volts in mV
//! is a current in nA, and `ar * phi * (1 - s)` with `ar` in 1/ms is a rate in 1/ms.
//!
//! One deliberate departure: NeuroML's `NeuroMLCoreDimensions.xml` (jNeuroML 0.14.0)
//! declares `resistivity` as m² l² t⁻³ i⁻²; resistance × length is m l³ t⁻³ i⁻², which is
//! what this crate uses, so that resistivity's internal unit is Ω·m and
//! `resistivity × length / area` is a resistance in MΩ (= 1/µS). Unit symbols keep their
//! SI meaning (`3 kohm_cm` = 30 Ω·m).

use std::collections::HashMap;
use std::fmt;

/// A physical dimension as exponents of the LEMS base dimensions
/// (mass, length, time, current, temperature, amount, luminous intensity).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
pub struct Dimension {
    /// Mass exponent.
    pub m: i8,
    /// Length exponent.
    pub l: i8,
    /// Time exponent.
    pub t: i8,
    /// Current exponent.
    pub i: i8,
    /// Temperature exponent.
    pub k: i8,
    /// Amount-of-substance exponent.
    pub n: i8,
    /// Luminous intensity exponent.
    pub j: i8,
}

impl Dimension {
    /// The dimensionless "none".
    pub const NONE: Dimension = Dimension {
        m: 0,
        l: 0,
        t: 0,
        i: 0,
        k: 0,
        n: 0,
        j: 0,
    };

    const fn new(m: i8, l: i8, t: i8, i: i8, k: i8, n: i8) -> Self {
        Dimension {
            m,
            l,
            t,
            i,
            k,
            n,
            j: 0,
        }
    }

    /// The power of ten of this dimension's internal unit in SI
    /// (e.g. −3 for voltage: 1 mV = 10⁻³ V).
    pub fn internal_power(&self) -> i32 {
        -9 * self.m as i32
            - 6 * self.l as i32
            - 3 * self.t as i32
            - 9 * self.i as i32
            - 18 * self.n as i32
    }

    /// The NeuroML name of this dimension where it has one (`voltage`, `per_time`, ...).
    pub fn name(&self) -> Option<&'static str> {
        CORE_DIMENSIONS
            .iter()
            .find(|(_, d)| d == self)
            .map(|(n, _)| *n)
    }
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "{n}"),
            None => write!(
                f,
                "[m{} l{} t{} i{} k{} n{} j{}]",
                self.m, self.l, self.t, self.i, self.k, self.n, self.j
            ),
        }
    }
}

/// The dimensions NeuroML's core (`NeuroMLCoreDimensions.xml`) names.
pub const CORE_DIMENSIONS: &[(&str, Dimension)] = &[
    ("none", Dimension::NONE),
    ("time", Dimension::new(0, 0, 1, 0, 0, 0)),
    ("per_time", Dimension::new(0, 0, -1, 0, 0, 0)),
    ("voltage", Dimension::new(1, 2, -3, -1, 0, 0)),
    ("per_voltage", Dimension::new(-1, -2, 3, 1, 0, 0)),
    ("conductance", Dimension::new(-1, -2, 3, 2, 0, 0)),
    ("conductanceDensity", Dimension::new(-1, -4, 3, 2, 0, 0)),
    ("capacitance", Dimension::new(-1, -2, 4, 2, 0, 0)),
    ("specificCapacitance", Dimension::new(-1, -4, 4, 2, 0, 0)),
    ("resistance", Dimension::new(1, 2, -3, -2, 0, 0)),
    ("resistivity", Dimension::new(1, 3, -3, -2, 0, 0)),
    ("charge", Dimension::new(0, 0, 1, 1, 0, 0)),
    ("charge_per_mole", Dimension::new(0, 0, 1, 1, 0, -1)),
    ("current", Dimension::new(0, 0, 0, 1, 0, 0)),
    ("currentDensity", Dimension::new(0, -2, 0, 1, 0, 0)),
    ("length", Dimension::new(0, 1, 0, 0, 0, 0)),
    ("area", Dimension::new(0, 2, 0, 0, 0, 0)),
    ("volume", Dimension::new(0, 3, 0, 0, 0, 0)),
    ("concentration", Dimension::new(0, -3, 0, 0, 0, 1)),
    ("substance", Dimension::new(0, 0, 0, 0, 0, 1)),
    ("permeability", Dimension::new(0, 1, -1, 0, 0, 0)),
    ("temperature", Dimension::new(0, 0, 0, 0, 1, 0)),
    ("idealGasConstantDims", Dimension::new(1, 2, -2, 0, -1, -1)),
    (
        "conductance_per_voltage",
        Dimension::new(-2, -4, 6, 3, 0, 0),
    ),
    ("rho_factor", Dimension::new(0, -1, -1, -1, 0, 1)),
];

/// A unit: symbol, dimension and how it maps onto SI (`si = value * scale + offset`).
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    /// The symbol as written in NeuroML (`mS_per_cm2`).
    pub symbol: String,
    /// Its dimension.
    pub dimension: Dimension,
    /// Power of ten to SI.
    pub power: i32,
    /// Further multiplier to SI (`si = value · scale · 10^power + offset`).
    pub scale: f64,
    /// Offset to SI (only temperatures have one).
    pub offset: f64,
}

/// NeuroML's core units as `(symbol, dimension name, power of ten, extra scale, offset)`.
const CORE_UNITS: &[(&str, &str, i32, f64, f64)] = &[
    ("s", "time", 0, 1.0, 0.0),
    ("per_s", "per_time", 0, 1.0, 0.0),
    ("Hz", "per_time", 0, 1.0, 0.0),
    ("ms", "time", -3, 1.0, 0.0),
    ("per_ms", "per_time", 3, 1.0, 0.0),
    ("min", "time", 0, 60.0, 0.0),
    ("per_min", "per_time", 0, 1.0 / 60.0, 0.0),
    ("hour", "time", 0, 3600.0, 0.0),
    ("per_hour", "per_time", 0, 1.0 / 3600.0, 0.0),
    ("m", "length", 0, 1.0, 0.0),
    ("cm", "length", -2, 1.0, 0.0),
    ("um", "length", -6, 1.0, 0.0),
    ("m2", "area", 0, 1.0, 0.0),
    ("cm2", "area", -4, 1.0, 0.0),
    ("um2", "area", -12, 1.0, 0.0),
    ("m3", "volume", 0, 1.0, 0.0),
    ("cm3", "volume", -6, 1.0, 0.0),
    ("litre", "volume", -3, 1.0, 0.0),
    ("um3", "volume", -18, 1.0, 0.0),
    ("V", "voltage", 0, 1.0, 0.0),
    ("mV", "voltage", -3, 1.0, 0.0),
    ("per_V", "per_voltage", 0, 1.0, 0.0),
    ("per_mV", "per_voltage", 3, 1.0, 0.0),
    ("ohm", "resistance", 0, 1.0, 0.0),
    ("kohm", "resistance", 3, 1.0, 0.0),
    ("Mohm", "resistance", 6, 1.0, 0.0),
    ("S", "conductance", 0, 1.0, 0.0),
    ("mS", "conductance", -3, 1.0, 0.0),
    ("uS", "conductance", -6, 1.0, 0.0),
    ("nS", "conductance", -9, 1.0, 0.0),
    ("pS", "conductance", -12, 1.0, 0.0),
    ("S_per_m2", "conductanceDensity", 0, 1.0, 0.0),
    ("mS_per_cm2", "conductanceDensity", 1, 1.0, 0.0),
    ("S_per_cm2", "conductanceDensity", 4, 1.0, 0.0),
    ("uS_per_cm2", "conductanceDensity", -2, 1.0, 0.0),
    ("F", "capacitance", 0, 1.0, 0.0),
    ("uF", "capacitance", -6, 1.0, 0.0),
    ("nF", "capacitance", -9, 1.0, 0.0),
    ("pF", "capacitance", -12, 1.0, 0.0),
    ("F_per_m2", "specificCapacitance", 0, 1.0, 0.0),
    ("uF_per_cm2", "specificCapacitance", -2, 1.0, 0.0),
    ("ohm_m", "resistivity", 0, 1.0, 0.0),
    ("kohm_cm", "resistivity", 1, 1.0, 0.0),
    ("ohm_cm", "resistivity", -2, 1.0, 0.0),
    ("C", "charge", 0, 1.0, 0.0),
    ("e", "charge", 0, 1.602176634e-19, 0.0),
    ("C_per_mol", "charge_per_mole", 0, 1.0, 0.0),
    ("nA_ms_per_amol", "charge_per_mole", 6, 1.0, 0.0),
    ("pC_per_umol", "charge_per_mole", -6, 1.0, 0.0),
    ("A", "current", 0, 1.0, 0.0),
    ("uA", "current", -6, 1.0, 0.0),
    ("nA", "current", -9, 1.0, 0.0),
    ("pA", "current", -12, 1.0, 0.0),
    ("A_per_m2", "currentDensity", 0, 1.0, 0.0),
    ("uA_per_cm2", "currentDensity", -2, 1.0, 0.0),
    ("mA_per_cm2", "currentDensity", 1, 1.0, 0.0),
    ("mol_per_m3", "concentration", 0, 1.0, 0.0),
    ("mol_per_cm3", "concentration", 6, 1.0, 0.0),
    ("M", "concentration", 3, 1.0, 0.0),
    ("mM", "concentration", 0, 1.0, 0.0),
    ("mol", "substance", 0, 1.0, 0.0),
    ("m_per_s", "permeability", 0, 1.0, 0.0),
    ("cm_per_s", "permeability", -2, 1.0, 0.0),
    ("um_per_ms", "permeability", -3, 1.0, 0.0),
    ("cm_per_ms", "permeability", 1, 1.0, 0.0),
    ("degC", "temperature", 0, 1.0, 273.15),
    ("K", "temperature", 0, 1.0, 0.0),
    ("J_per_K_per_mol", "idealGasConstantDims", 0, 1.0, 0.0),
    ("fJ_per_K_per_umol", "idealGasConstantDims", -9, 1.0, 0.0),
    ("S_per_V", "conductance_per_voltage", 0, 1.0, 0.0),
    ("nS_per_mV", "conductance_per_voltage", -6, 1.0, 0.0),
    ("mol_per_m_per_A_per_s", "rho_factor", 0, 1.0, 0.0),
    ("mol_per_cm_per_uA_per_ms", "rho_factor", 11, 1.0, 0.0),
    ("umol_per_cm_per_nA_per_ms", "rho_factor", 8, 1.0, 0.0),
];

/// Why a quantity string could not be converted.
#[derive(Debug, Clone, PartialEq)]
pub enum QuantityError {
    /// The numeric part is not a number.
    BadNumber,
    /// The unit symbol is not known.
    UnknownUnit(String),
    /// The value has another dimension than expected.
    Mismatch {
        /// The dimension the value has.
        found: Dimension,
    },
}

/// The dimensions and units known while reading: NeuroML's core ones plus any
/// `<Dimension>` and `<Unit>` a LEMS file declares.
#[derive(Debug, Clone)]
pub struct UnitSystem {
    dimensions: HashMap<String, Dimension>,
    units: HashMap<String, Unit>,
}

impl Default for UnitSystem {
    fn default() -> Self {
        let dimensions: HashMap<String, Dimension> = CORE_DIMENSIONS
            .iter()
            .map(|(n, d)| (n.to_string(), *d))
            .collect();
        let units = CORE_UNITS
            .iter()
            .map(|&(symbol, dim, power, scale, offset)| {
                let unit = Unit {
                    symbol: symbol.to_string(),
                    dimension: dimensions[dim],
                    power,
                    scale,
                    offset,
                };
                (symbol.to_string(), unit)
            })
            .collect();
        UnitSystem { dimensions, units }
    }
}

impl UnitSystem {
    /// Looks up a named dimension (`voltage`, `per_time`, ...).
    pub fn dimension(&self, name: &str) -> Option<Dimension> {
        self.dimensions.get(name).copied()
    }

    /// Looks up a unit symbol.
    pub fn unit(&self, symbol: &str) -> Option<&Unit> {
        self.units.get(symbol)
    }

    /// Declares a dimension (LEMS `<Dimension>`).
    pub fn add_dimension(&mut self, name: &str, dimension: Dimension) {
        self.dimensions.insert(name.to_string(), dimension);
    }

    /// Declares a unit (LEMS `<Unit>`).
    pub fn add_unit(&mut self, unit: Unit) {
        self.units.insert(unit.symbol.clone(), unit);
    }

    /// Parses `"<number> [unit]"` into an internal-unit value and its dimension.
    /// A bare number is dimensionless.
    pub fn parse(&self, text: &str) -> Result<(f64, Dimension), QuantityError> {
        let (number, symbol) = split_quantity(text).ok_or(QuantityError::BadNumber)?;
        let value: f64 = number.parse().map_err(|_| QuantityError::BadNumber)?;
        if !value.is_finite() {
            return Err(QuantityError::BadNumber);
        }
        if symbol.is_empty() {
            return Ok((value, Dimension::NONE));
        }
        if symbol.contains(char::is_whitespace)
            || !symbol.starts_with(|c: char| c.is_ascii_alphabetic())
        {
            return Err(QuantityError::BadNumber);
        }
        let unit = self
            .units
            .get(symbol)
            .ok_or_else(|| QuantityError::UnknownUnit(symbol.to_string()))?;
        // Scale by exact powers of ten so that "-3.3568 mV" stays -3.3568.
        let exponent = unit.power - unit.dimension.internal_power();
        let mut internal = value * unit.scale;
        if exponent >= 0 {
            internal *= 10f64.powi(exponent);
        } else {
            internal /= 10f64.powi(-exponent);
        }
        let offset = unit.offset / 10f64.powi(unit.dimension.internal_power());
        Ok((internal + offset, unit.dimension))
    }

    /// Parses a quantity that must have `expected` dimension, returning internal units.
    pub fn parse_as(&self, text: &str, expected: Dimension) -> Result<f64, QuantityError> {
        let (value, found) = self.parse(text)?;
        if found != expected {
            return Err(QuantityError::Mismatch { found });
        }
        Ok(value)
    }
}

/// The end of the unsigned number starting at `start`: digits and dots, then an exponent
/// only when digits follow it (so that in `"5 e"` the `e` stays a unit). Returns `start`
/// when there is no number.
pub(crate) fn scan_number(b: &[u8], start: usize) -> usize {
    let mut i = start;
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
        i += 1;
    }
    if i == start {
        return start;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            i = j;
        }
    }
    i
}

/// Splits `"-45.5e-1 mV"` into `("-45.5e-1", "mV")`. Returns `None` when there is no number.
fn split_quantity(text: &str) -> Option<(&str, &str)> {
    let s = text.trim();
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let end = scan_number(b, i);
    if end == i {
        return None;
    }
    let i = end;
    Some((&s[..i], s[i..].trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1e-300)
    }

    #[test]
    fn converts_the_units_c302_writes() {
        let u = UnitSystem::default();
        let dim = |n: &str| u.dimension(n).unwrap();
        // 0.005 mS/cm² = 0.05 S/m² = 5e-8 µS/µm²
        assert!(close(
            u.parse_as("0.005 mS_per_cm2", dim("conductanceDensity"))
                .unwrap(),
            5e-8
        ));
        // 2e-6 mol/cm³ = 2 mol/m³ = 2 mM
        assert!(close(
            u.parse_as("2E-6 mol_per_cm3", dim("concentration"))
                .unwrap(),
            2.0
        ));
        assert!(close(
            u.parse_as("0.000238919 mol_per_m_per_A_per_s", dim("rho_factor"))
                .unwrap(),
            0.000238919
        ));
        // 0.5 per_s = 5e-4 per ms
        assert!(close(
            u.parse_as(".5 per_s", dim("per_time")).unwrap(),
            5e-4
        ));
        // 3 kΩ·cm = 30 Ω·m
        assert!(close(
            u.parse_as("3 kohm_cm", dim("resistivity")).unwrap(),
            30.0
        ));
        assert_eq!(u.parse_as("-45mV", dim("voltage")).unwrap(), -45.0);
        assert_eq!(u.parse_as("-3.3568 mV", dim("voltage")).unwrap(), -3.3568);
        assert_eq!(u.parse_as("0.100027 ms", dim("time")).unwrap(), 0.100027);
        assert!(close(u.parse_as("2 nS", dim("conductance")).unwrap(), 2e-3));
        assert!(close(
            u.parse_as("1 uF_per_cm2", dim("specificCapacitance"))
                .unwrap(),
            1e-5
        ));
        assert!(close(u.parse_as("15 pA", dim("current")).unwrap(), 0.015));
        assert!(close(
            u.parse_as("0.25 per_mV", dim("per_voltage")).unwrap(),
            0.25
        ));
        assert!(close(
            u.parse_as("0.025per_ms", dim("per_time")).unwrap(),
            0.025
        ));
        assert!(close(
            u.parse_as("6.3 degC", dim("temperature")).unwrap(),
            279.45
        ));
        assert_eq!(u.parse("1").unwrap(), (1.0, Dimension::NONE));
    }

    #[test]
    fn internal_system_is_coherent() {
        let u = UnitSystem::default();
        // conductance [µS] * voltage [mV] = current [nA]
        let g = u.parse("1 uS").unwrap().0;
        let v = u.parse("1 mV").unwrap().0;
        let i = u.parse("1 nA").unwrap().0;
        assert!(close(g * v, i));
        // capacitance [nF] * voltage [mV] / time [ms] = current [nA]
        let c = u.parse("1 nF").unwrap().0;
        let t = u.parse("1 ms").unwrap().0;
        assert!(close(c * v / t, i));
    }

    #[test]
    fn rejects_unknown_units_and_mismatches() {
        let u = UnitSystem::default();
        assert_eq!(
            u.parse("3 furlongs"),
            Err(QuantityError::UnknownUnit("furlongs".into()))
        );
        assert_eq!(u.parse("mV"), Err(QuantityError::BadNumber));
        assert_eq!(u.parse("1..2 mV"), Err(QuantityError::BadNumber));
        assert_eq!(u.parse("1O ms"), Err(QuantityError::BadNumber));
        assert!(matches!(
            u.parse_as("2 mV", u.dimension("conductance").unwrap()),
            Err(QuantityError::Mismatch { .. })
        ));
    }
}
