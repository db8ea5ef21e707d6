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
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::MiddleRight)
            .label_font(("sans-serif", 15))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()?;
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
