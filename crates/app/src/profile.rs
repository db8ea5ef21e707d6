//! "Your profile": the shopper's segment and point on the map of the shop's customers, their
//! spend forecast, and their click-through and conversion, all computed on the device.

use leptos::html::Canvas;
use leptos::prelude::*;
use vitrine_wasm::engine::Profile as Placed;
use wasm_bindgen::JsCast;

use crate::Shop;

/// One colour per segment, told apart also in grey.
const COLOURS: [&str; 8] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
];

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 400.0;
const MARGIN: f64 = 24.0;

/// Draws the customers' map, coloured by segment, with this shopper as a ringed point.
fn draw(canvas: &web_sys::HtmlCanvasElement, profile: &Placed) -> Option<()> {
    let ctx: web_sys::CanvasRenderingContext2d = canvas.get_context("2d").ok()??.dyn_into().ok()?;
    ctx.clear_rect(0.0, 0.0, WIDTH, HEIGHT);

    let you = profile.placement.map.as_ref();
    let xs = profile
        .map
        .iter()
        .map(|p| f64::from(p.x))
        .chain(you.map(|p| p.x));
    let ys = profile
        .map
        .iter()
        .map(|p| f64::from(p.y))
        .chain(you.map(|p| p.y));
    let range = |values: &mut dyn Iterator<Item = f64>| {
        values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        })
    };
    let (x0, x1) = range(&mut xs.into_iter());
    let (y0, y1) = range(&mut ys.into_iter());
    if !(x0.is_finite() && y0.is_finite()) {
        return None;
    }
    let sx = |x: f64| MARGIN + (x - x0) / (x1 - x0).max(1e-9) * (WIDTH - 2.0 * MARGIN);
    let sy = |y: f64| HEIGHT - MARGIN - (y - y0) / (y1 - y0).max(1e-9) * (HEIGHT - 2.0 * MARGIN);

    ctx.set_global_alpha(0.55);
    for point in &profile.map {
        ctx.set_fill_style_str(COLOURS[point.segment % COLOURS.len()]);
        ctx.begin_path();
        let _ = ctx.arc(
            sx(f64::from(point.x)),
            sy(f64::from(point.y)),
            2.5,
            0.0,
            std::f64::consts::TAU,
        );
        ctx.fill();
    }
    ctx.set_global_alpha(1.0);

    let variance = |i: usize| profile.explained_variance.get(i).copied().unwrap_or(0.0) * 100.0;
    ctx.set_fill_style_str("#6e6e73");
    ctx.set_font("12px system-ui, sans-serif");
    let _ = ctx.fill_text(
        &format!("first axis, {:.1}% of the variance", variance(0)),
        MARGIN,
        HEIGHT - 6.0,
    );
    let _ = ctx.fill_text(&format!("second axis, {:.1}%", variance(1)), MARGIN, 14.0);

    if let Some(you) = you {
        let (x, y) = (sx(you.x), sy(you.y));
        ctx.set_stroke_style_str("#1d1d1f");
        ctx.set_line_width(3.0);
        ctx.begin_path();
        let _ = ctx.arc(x, y, 8.0, 0.0, std::f64::consts::TAU);
        ctx.stroke();
        ctx.set_fill_style_str("#1d1d1f");
        ctx.set_font("bold 14px system-ui, sans-serif");
        let _ = ctx.fill_text("you", x + 11.0, y - 8.0);
    }
    Some(())
}

/// The shopper's profile page.
#[component]
pub fn Profile() -> impl IntoView {
    let shop = expect_context::<Shop>();
    let canvas = NodeRef::<Canvas>::new();
    // Placed once per change of the events; the view and the drawing share it.
    let profile = Memo::new(move |_| {
        shop.revision.track();
        shop.engine().profile()
    });
    let engagement = move || {
        shop.revision.track();
        shop.engine().engagement()
    };
    Effect::new(move |_| {
        if let Some(node) = canvas.get() {
            profile.with(|placed| {
                if let Ok(placed) = placed {
                    draw(&node, placed);
                }
            });
        }
    });

    view! {
        <h2>"Your profile"</h2>
        {move || match profile.get() {
            Err(err) => view! { <p class="error" role="alert">{err}</p> }.into_any(),
            Ok(placed) => {
                let p = placed.placement;
                let segment = match &p.segment {
                    Some(s) => format!("Segment {}: {}", s.id + 1, s.summary),
                    None => p.note.clone().unwrap_or_else(|| "No segment yet".to_owned()),
                };
                let f = &p.forecast;
                let basis = match f.basis {
                    vitrine_core::ForecastBasis::History => "from your own orders",
                    vitrine_core::ForecastBasis::Population => {
                        "the average shopper's, until you order"
                    }
                };
                let forecast = format!(
                    "In the next {:.0} days: {:.2} orders, {} ({basis}).",
                    f.horizon_days,
                    f.orders,
                    shop.money(f.spend)
                );
                let legend = placed
                    .segments
                    .iter()
                    .enumerate()
                    .map(|(i, s)| {
                        let colour = COLOURS[i % COLOURS.len()];
                        view! {
                            <li>
                                <span class="swatch" style=format!("background:{colour}")></span>
                                {format!("Segment {}: {}", i + 1, s.summary)}
                            </li>
                        }
                    })
                    .collect_view();
                view! {
                    <p data-testid="segment">{segment}</p>
                    <p data-testid="forecast">{forecast}</p>
                    <canvas
                        node_ref=canvas
                        width=WIDTH
                        height=HEIGHT
                        role="img"
                        aria-label="Map of the shop's customers by segment, with you ringed"
                    ></canvas>
                    <ul class="legend">{legend}</ul>
                }
                .into_any()
            }
        }}
        <h3>"How you use recommendations"</h3>
        {move || {
            let e = engagement();
            view! {
                <table data-testid="engagement">
                    <tbody>
                        <tr><th>"recommended products shown"</th><td>{e.shown}</td></tr>
                        <tr><th>"recommended products clicked"</th><td>{e.clicked}</td></tr>
                        <tr>
                            <th>"click-through"</th>
                            <td>{format!("{:.1}%", e.click_through * 100.0)}</td>
                        </tr>
                        <tr><th>"visits"</th><td>{e.sessions}</td></tr>
                        <tr><th>"visits with a purchase"</th><td>{e.converted}</td></tr>
                        <tr>
                            <th>"conversion"</th>
                            <td>{format!("{:.1}%", e.conversion * 100.0)}</td>
                        </tr>
                    </tbody>
                </table>
            }
        }}
    }
}
