//! "Your profile": how this shopper engages with the shop, counted on the device.

use leptos::prelude::*;

use crate::Shop;

/// Local click-through and conversion.
#[component]
pub(crate) fn Profile() -> impl IntoView {
    let shop = expect_context::<Shop>();
    let engagement = move || {
        shop.revision.track();
        shop.engine().engagement()
    };
    view! {
        <h2>"Your profile"</h2>
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
