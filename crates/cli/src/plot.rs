//! PNG charts drawn by the command line.
//!
//! Text is set in DejaVu Sans, shipped in `assets/fonts` with its licence, so charts look the
//! same on a machine without any system fonts.

use std::path::Path;
use std::sync::Once;

use anyhow::{Result, anyhow};
use plotters::prelude::*;
use plotters::style::FontStyle;

static FONT: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");

fn register_font() -> Result<()> {
    static REGISTER: Once = Once::new();
    let mut result = Ok(());
    REGISTER.call_once(|| {
        result = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT)
            .map_err(|_| anyhow!("the bundled chart font does not parse"));
    });
    result
}

/// Draws a chart's legend in the house style: a white box with a black border.
fn draw_legend<'a, DB, CT>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>
where
    DB: DrawingBackend + 'a,
    CT: CoordTranslate,
{
    chart
        .configure_series_labels()
        .position(position)
        .label_font(("sans-serif", 15))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
}

/// Draws training loss and validation F1 against epochs, on two y axes.
///
/// `loss` holds `(epoch, mean loss)` points at any fraction of an epoch; `f1` holds
/// `(epoch, validation F1)` at the end of each epoch.
pub(crate) fn training_curve(path: &Path, loss: &[(f64, f64)], f1: &[(f64, f64)]) -> Result<()> {
    register_font()?;
    let draw = || -> Result<(), Box<dyn std::error::Error>> {
        let epochs = f1.iter().chain(loss).map(|p| p.0).fold(1.0f64, f64::max);
        let max_loss = loss.iter().map(|p| p.1).fold(0.0f64, f64::max).max(1e-3) * 1.05;

        let root = BitMapBackend::new(path, (900, 520)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("Tagger fine-tuning on QueryNER", ("sans-serif", 24))
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .right_y_label_area_size(64)
            .build_cartesian_2d(0f64..epochs, 0f64..max_loss)?
            .set_secondary_coord(0f64..epochs, 0f64..1f64);
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc("training loss")
            .label_style(("sans-serif", 15))
            .axis_desc_style(("sans-serif", 17))
            .draw()?;
        chart
            .configure_secondary_axes()
            .y_desc("validation entity F1 (strict IOB2)")
            .label_style(("sans-serif", 15))
            .axis_desc_style(("sans-serif", 17))
            .draw()?;

        let blue = RGBColor(31, 119, 180);
        let orange = RGBColor(230, 120, 20);
        chart
            .draw_series(LineSeries::new(loss.iter().copied(), blue.stroke_width(2)))?
            .label("training loss")
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], blue.stroke_width(2)));
        chart
            .draw_secondary_series(LineSeries::new(f1.iter().copied(), orange.stroke_width(2)))?
            .label("validation F1")
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], orange.stroke_width(2)));
        chart.draw_secondary_series(
            f1.iter()
                .map(|&(x, y)| Circle::new((x, y), 4, orange.filled())),
        )?;
        draw_legend(&mut chart, SeriesLabelPosition::MiddleRight)?;
        root.present()?;
        Ok(())
    };
    draw().map_err(|e| anyhow!("cannot draw {}: {e}", path.display()))
}

/// Colours of segments and series, distinguishable in print and for most colour vision.
const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(230, 120, 20),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// One shopper on the PCA map.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SegmentPoint {
    /// First principal component.
    pub(crate) x: f64,
    /// Second principal component.
    pub(crate) y: f64,
    /// The shopper's segment, from 0.
    pub(crate) segment: usize,
}

/// Draws shoppers on the first two principal components, coloured by segment.
pub(crate) fn segment_map(
    path: &Path,
    points: &[SegmentPoint],
    segments: usize,
    ratio: &[f64],
) -> Result<()> {
    register_font()?;
    let draw = || -> Result<(), Box<dyn std::error::Error>> {
        let range = |f: fn(&SegmentPoint) -> f64| {
            let (lo, hi) = points
                .iter()
                .map(f)
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                    (lo.min(v), hi.max(v))
                });
            if lo.is_finite() && hi > lo {
                let pad = (hi - lo) * 0.05;
                (lo - pad)..(hi + pad)
            } else {
                -1.0..1.0
            }
        };
        let percent = |i: usize| 100.0 * ratio.get(i).copied().unwrap_or(0.0);

        let root = BitMapBackend::new(path, (900, 700)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("Shoppers on the PCA map, by segment", ("sans-serif", 24))
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(range(|p| p.x), range(|p| p.y))?;
        chart
            .configure_mesh()
            .x_desc(format!("component 1 ({:.1}% of variance)", percent(0)))
            .y_desc(format!("component 2 ({:.1}% of variance)", percent(1)))
            .label_style(("sans-serif", 15))
            .axis_desc_style(("sans-serif", 17))
            .draw()?;
        for segment in 0..segments {
            let c = colour(segment);
            let count = points.iter().filter(|p| p.segment == segment).count();
            chart
                .draw_series(
                    points
                        .iter()
                        .filter(|p| p.segment == segment)
                        .map(|p| Circle::new((p.x, p.y), 2, c.mix(0.6).filled())),
                )?
                .label(format!("segment {} ({count})", segment + 1))
                .legend(move |(x, y)| Circle::new((x + 10, y), 5, c.filled()));
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        root.present()?;
        Ok(())
    };
    draw().map_err(|e| anyhow!("cannot draw {}: {e}", path.display()))
}

/// One line of a forecast chart: a name and `(x, y)` points.
#[derive(Debug, Clone)]
pub(crate) struct Series {
    pub(crate) name: String,
    pub(crate) points: Vec<(f64, f64)>,
    /// Drawn dashed-looking (thin, with markers) when it is a forecast.
    pub(crate) forecast: bool,
}

/// Draws actual values and forecasts against time, with a line where the holdout begins.
pub(crate) fn forecast_chart(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    holdout_start: f64,
) -> Result<()> {
    register_font()?;
    let draw = || -> Result<(), Box<dyn std::error::Error>> {
        let all = series.iter().flat_map(|s| s.points.iter());
        let (x_max, y_max) = all.fold((1.0f64, 1.0f64), |(x, y), p| (x.max(p.0), y.max(p.1)));

        let root = BitMapBackend::new(path, (1000, 560)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 24))
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(0f64..x_max, 0f64..y_max * 1.08)?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .label_style(("sans-serif", 15))
            .axis_desc_style(("sans-serif", 17))
            .draw()?;
        chart.draw_series(LineSeries::new(
            [(holdout_start, 0.0), (holdout_start, y_max * 1.08)],
            BLACK.mix(0.4).stroke_width(1),
        ))?;
        for (i, s) in series.iter().enumerate() {
            let c = colour(i);
            let width = if s.forecast { 2 } else { 3 };
            chart
                .draw_series(LineSeries::new(
                    s.points.iter().copied(),
                    c.stroke_width(width),
                ))?
                .label(s.name.clone())
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], c.stroke_width(2)));
            if s.forecast {
                chart.draw_series(
                    s.points
                        .iter()
                        .map(|&(x, y)| Circle::new((x, y), 3, c.filled())),
                )?;
            }
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        root.present()?;
        Ok(())
    };
    draw().map_err(|e| anyhow!("cannot draw {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_a_png_of_the_requested_size() -> Result<()> {
        let dir = std::env::temp_dir().join(format!("vitrine-plot-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("curve.png");
        let loss = [(0.1, 2.0), (0.5, 1.0), (1.0, 0.6), (1.5, 0.4), (2.0, 0.35)];
        training_curve(&path, &loss, &[(1.0, 0.5), (2.0, 0.6)])?;

        let bytes = std::fs::read(&path)?;
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        // The IHDR chunk follows the signature: width and height as big-endian u32.
        let width = u32::from_be_bytes(bytes[16..20].try_into()?);
        let height = u32::from_be_bytes(bytes[20..24].try_into()?);
        assert_eq!((width, height), (900, 520));
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }
}
