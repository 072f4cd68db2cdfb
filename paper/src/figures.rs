//! PNG figures (plotters, with an embedded DejaVu Sans Mono so text renders anywhere).

use std::path::Path;
use std::sync::Once;

use anyhow::anyhow;
use plotters::prelude::*;

const FONT: &[u8] = include_bytes!("../assets/fonts/DejaVuSansMono.ttf");
const FAMILY: &str = "sans-serif";

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is compiled in; failing to parse it would be a build defect.
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT);
    });
}

/// One named line.
pub struct Series {
    /// Legend text.
    pub name: String,
    /// (x, y) points; non-finite points are skipped.
    pub points: Vec<(f64, f64)>,
    /// Colour (default: the palette's k-th).
    pub color: Option<RGBAColor>,
}

/// A line chart of `series` written atomically to `path` (.png).
pub fn line_chart(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
) -> anyhow::Result<()> {
    register_font();
    let finite = || {
        series
            .iter()
            .flat_map(|s| s.points.iter())
            .filter(|(x, y)| x.is_finite() && y.is_finite())
    };
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in finite() {
        (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
    }
    if x0 > x1 {
        (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
    }
    if x1 - x0 < 1e-12 {
        x1 = x0 + 1.0;
    }
    let pad = ((y1 - y0) * 0.05).max(1e-9);
    let (y0, y1) = (y0 - pad, y1 + pad);
    let draw = |tmp: &Path| -> Result<(), Box<dyn std::error::Error>> {
        let root = BitMapBackend::new(tmp, (900, 540)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FAMILY, 20))
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(80)
            .build_cartesian_2d(x0..x1, y0..y1)?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .label_style((FAMILY, 13))
            .light_line_style(WHITE.mix(0.0))
            .draw()?;
        for (k, s) in series.iter().enumerate() {
            let color = s.color.unwrap_or_else(|| Palette99::pick(k).to_rgba());
            let points = s
                .points
                .iter()
                .copied()
                .filter(|(x, y)| x.is_finite() && y.is_finite());
            let drawn = chart.draw_series(LineSeries::new(points, color.stroke_width(2)))?;
            if !s.name.is_empty() {
                drawn.label(s.name.clone()).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                });
            }
        }
        if series.iter().filter(|s| !s.name.is_empty()).count() > 1 {
            chart
                .configure_series_labels()
                .label_font((FAMILY, 13))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .position(SeriesLabelPosition::UpperRight)
                .draw()?;
        }
        root.present()?;
        Ok(())
    };
    persist::write_with(path, |tmp| {
        draw(tmp).map_err(|e| anyhow!("{}: {e}", path.display()))
    })
}

/// Learning curves of every run (log10 of the training and validation loss per epoch, in
/// network units: the training loss, e.g. RMSE of scaled outputs).
pub fn learning_curves(path: &Path, title: &str, runs: &[surrogate::Run]) -> anyhow::Result<()> {
    // Training curves blue, validation curves orange; one legend entry each.
    let alpha = if runs.len() > 1 { 0.6 } else { 1.0 };
    let (blue, orange) = (
        RGBColor(31, 119, 180).mix(alpha),
        RGBColor(255, 127, 14).mix(alpha),
    );
    let log = |v: f64| if v > 0.0 { v.log10() } else { f64::NAN };
    let mut series = Vec::new();
    for (k, run) in runs.iter().enumerate() {
        let name = |what: &str| {
            if k == 0 {
                what.to_string()
            } else {
                String::new()
            }
        };
        series.push(Series {
            name: name("train"),
            points: run
                .curve
                .iter()
                .map(|e| (e.epoch as f64, log(e.train_loss)))
                .collect(),
            color: Some(blue),
        });
        if run.curve.iter().any(|e| e.valid_loss.is_some()) {
            series.push(Series {
                name: name("valid"),
                points: run
                    .curve
                    .iter()
                    .map(|e| (e.epoch as f64, e.valid_loss.map_or(f64::NAN, log)))
                    .collect(),
                color: Some(orange),
            });
        }
    }
    line_chart(path, title, "epoch", "log10 loss (network units)", &series)
}
