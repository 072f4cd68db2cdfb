//! A cable's geometry as NEURON sees it: a polyline of 3D points with diameters, read
//! as a chain of frustums (truncated cones).
//!
//! Along a frustum of length ℓ whose diameter changes linearly from d₁ to d₂:
//!
//! * lateral area: A = π (r₁ + r₂) √((r₁ − r₂)² + ℓ²)
//! * axial resistance: R = ρ ∫ 4 / (π d(x)²) dx = 4 ρ ℓ / (π d₁ d₂)
//!
//! With ρ in Ω·m and lengths in µm, R comes out in MΩ (so 1/R is in µS).

use neuroml::morphology::{Cable, Morphology, Point3};

/// The polyline of one cable: points at cumulative arc lengths, each piece belonging to
/// one NeuroML segment.
#[derive(Debug, Clone, PartialEq)]
pub struct Polyline {
    /// Arc length at each point \[µm\], starting at 0.
    pub arc: Vec<f64>,
    /// Diameter at each point \[µm\].
    pub diameter: Vec<f64>,
    /// The segment each piece (between point k and k + 1) comes from.
    pub piece_segment: Vec<u32>,
}

impl Polyline {
    /// The polyline jNeuroML writes for NEURON (`pt3dadd`): the first segment's proximal
    /// point, then every segment's distal point. A cable of one segment with
    /// proximal == distal (a spherical soma) becomes a cylinder of length = diameter.
    pub fn of_cable(morphology: &Morphology, cable: &Cable) -> Polyline {
        let segments: Vec<_> = cable
            .segments
            .iter()
            .filter_map(|&id| morphology.segment(id))
            .collect();
        let Some(first) = segments.first() else {
            return Polyline {
                arc: vec![0.0],
                diameter: vec![0.0],
                piece_segment: vec![],
            };
        };
        let mut points: Vec<Point3> = vec![morphology.proximal(first)];
        points.extend(segments.iter().map(|s| s.distal));
        if segments.len() == 1 && points[0].distance(&points[1]) == 0.0 {
            let d = points[0].diameter;
            return Polyline {
                arc: vec![0.0, d],
                diameter: vec![d, d],
                piece_segment: vec![first.id],
            };
        }
        let mut arc = vec![0.0];
        for w in points.windows(2) {
            arc.push(arc.last().unwrap() + w[0].distance(&w[1]));
        }
        Polyline {
            arc,
            diameter: points.iter().map(|p| p.diameter).collect(),
            piece_segment: segments.iter().map(|s| s.id).collect(),
        }
    }

    /// A straight cylinder (for tests and hand-built cells).
    pub fn cylinder(length: f64, diameter: f64, segment: u32) -> Polyline {
        Polyline {
            arc: vec![0.0, length],
            diameter: vec![diameter, diameter],
            piece_segment: vec![segment],
        }
    }

    /// Total length \[µm\].
    pub fn length(&self) -> f64 {
        *self.arc.last().unwrap_or(&0.0)
    }

    /// Diameter of piece `k` at arc length `s` (linear within the piece).
    fn diameter_at(&self, k: usize, s: f64) -> f64 {
        let (a, b) = (self.arc[k], self.arc[k + 1]);
        if b <= a {
            return self.diameter[k];
        }
        let f = ((s - a) / (b - a)).clamp(0.0, 1.0);
        self.diameter[k] + f * (self.diameter[k + 1] - self.diameter[k])
    }

    /// The parts of the pieces that lie within arc lengths [from, to]:
    /// `(piece, start, end)` with start < end.
    fn parts(&self, from: f64, to: f64) -> impl Iterator<Item = (usize, f64, f64)> + '_ {
        (0..self.piece_segment.len()).filter_map(move |k| {
            let a = self.arc[k].max(from);
            let b = self.arc[k + 1].min(to);
            (b > a).then_some((k, a, b))
        })
    }

    /// Lateral membrane area between arc lengths `from` and `to` \[µm²\], per piece:
    /// `(segment, area)`.
    pub fn areas(&self, from: f64, to: f64) -> Vec<(u32, f64)> {
        self.parts(from, to)
            .map(|(k, a, b)| {
                let (r1, r2) = (self.diameter_at(k, a) / 2.0, self.diameter_at(k, b) / 2.0);
                let area =
                    std::f64::consts::PI * (r1 + r2) * ((r1 - r2).powi(2) + (b - a).powi(2)).sqrt();
                (self.piece_segment[k], area)
            })
            .collect()
    }

    /// ∫ 4 / (π d²) dx between arc lengths `from` and `to` \[1/µm\]; multiplied by the
    /// resistivity \[Ω·m\] it gives the axial resistance in MΩ.
    pub fn resistance_integral(&self, from: f64, to: f64) -> f64 {
        self.parts(from, to)
            .map(|(k, a, b)| {
                let (d1, d2) = (self.diameter_at(k, a), self.diameter_at(k, b));
                4.0 * (b - a) / (std::f64::consts::PI * d1 * d2)
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    #[test]
    fn cylinder_area_and_resistance() {
        let p = Polyline::cylinder(100.0, 2.0, 0);
        let a: f64 = p.areas(0.0, 100.0).iter().map(|x| x.1).sum();
        assert!((a - PI * 2.0 * 100.0).abs() < 1e-9);
        // R = 4 ρ L / (π d²)
        assert!((p.resistance_integral(0.0, 50.0) - 4.0 * 50.0 / (PI * 4.0)).abs() < 1e-12);
    }

    #[test]
    fn frustum_split_adds_up() {
        let p = Polyline {
            arc: vec![0.0, 10.0, 30.0],
            diameter: vec![4.0, 2.0, 1.0],
            piece_segment: vec![3, 4],
        };
        let whole: f64 = p.areas(0.0, 30.0).iter().map(|x| x.1).sum();
        let halves: f64 = p
            .areas(0.0, 12.5)
            .iter()
            .chain(p.areas(12.5, 30.0).iter())
            .map(|x| x.1)
            .sum();
        assert!((whole - halves).abs() < 1e-3, "{whole} vs {halves}");
        let r = p.resistance_integral(0.0, 30.0);
        let exact = 4.0 * 10.0 / (PI * 8.0) + 4.0 * 20.0 / (PI * 2.0);
        assert!((r - exact).abs() < 1e-12);
        assert_eq!(
            p.areas(5.0, 20.0).iter().map(|x| x.0).collect::<Vec<_>>(),
            vec![3, 4]
        );
    }
}
